"""Sen1Floods11's hand-labelled flood chip (Spain, 2019; `bench/flood_scene.py`): built from its
pinned source into the benchmark's format, and the spectral backend's water on it above a floor
set about 0.08 below what `bench/quality` measured (0.755; docs/benchmarks.md)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from bench.flood_scene import sen1floods11_mirror
from bench.quality import score_scene
from spex.engine.backends.spectral import seeds as seeds_module
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.backends.spectral.scene_model import fit_scene_model
from spex.engine.raster.raster_source import open_source
from tests.scene_sources import built_scene, needs_mirror

NAME = "sen1floods11_s2_spain"

pytestmark = needs_mirror(
    "cloudtostreet/Sen1Floods11", sen1floods11_mirror(), "SPEX_SEN1FLOODS11_MIRROR"
)


@pytest.fixture(scope="module")
def chip():
    """The built scene (built once into the quality cache, then reused)."""
    return built_scene(NAME)


def test_the_chip_is_the_flood_scene_with_water_and_the_rest_labelled(chip) -> None:
    image, labels_path = chip.rasters[0]
    with rasterio.open(image) as img, rasterio.open(labels_path) as lab:
        assert (img.count, img.width, img.height) == (13, 512, 512)
        assert img.crs.to_epsg() == 4326
        assert img.descriptions[1] == "B2" and img.descriptions[11] == "B11"
        labels = lab.read(1)
    codes, counts = np.unique(labels, return_counts=True)
    assert set(codes.tolist()) <= {1, 7, 255}
    water = int(counts[codes == 1][0])
    assert 60_000 < water < 80_000, water  # 70,035 hand-labelled water pixels


def test_water_on_the_flood_chip_stays_above_its_floor(chip) -> None:
    assert chip.bands is None  # read as an analyst opens it: roles from the band names
    rows = score_scene(chip, SpectralParams(), with_baselines=False)
    water = next(r for r in rows if r["target"] == "water")
    assert water["ours"] >= 0.68, water["ours"]


def _snow_tint_off(monkeypatch) -> None:
    """The tint test for snow candidates switched off (cloud and haze keep theirs)."""
    original = seeds_module.reddened

    def reddened(mask, tint, params, kind="cloud"):
        return "" if kind == "snow" else original(mask, tint, params, kind)

    monkeypatch.setattr(seeds_module, "reddened", reddened)


def test_silty_flood_water_is_not_taken_for_snow(chip, monkeypatch) -> None:
    # Shallow silty flood water at the top of the atmosphere: green just above 0.2, SWIR1
    # dark, so NDSI passes 0.4; its blue/red (median 0.69) says silt, not snow.
    with open_source(chip.rasters[0][0]) as src:
        sample = src.read_sample().bands
        calibrated = src.scaling.calibrated
    model = fit_scene_model(sample, calibrated)
    assert "snow" not in model.classes
    assert any(n.startswith("snow candidates redden") and "not snow" in n for n in model.notes)
    water = next(r for r in score_scene(chip, SpectralParams(), False) if r["target"] == "water")
    _snow_tint_off(monkeypatch)
    untinted = fit_scene_model(sample, calibrated)
    assert "snow" in untinted.classes
    rows = score_scene(chip, SpectralParams(), False)
    without = next(r for r in rows if r["target"] == "water")
    assert water["ours"] > without["ours"] + 0.003, (water["ours"], without["ours"])
