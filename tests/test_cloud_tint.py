"""The cloud tint test: bright candidates that redden from blue to red (sand, soil, roofs) are
not cloud; a blue band clipped on bright cloud (Landsat TM and ETM+) is white, a red band
clipped alone carries no tint. Real scenes of the shared benchmark (../shared/benchmark), the
held-out ukis-csmask Landsat 7 chip and the Kansas City scene; synthetic arrays for the
plateau."""

from __future__ import annotations

import numpy as np
import rasterio
from rasterio.windows import Window

from bench.csmask_scene import UKIS_REPO
from bench.extra_scenes import mirror_path
from bench.scenes import benchmark_root
from spex.engine.backends.spectral.haze import blue_red_ratio, reddened
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.backends.spectral.scene_model import fit_scene_model
from spex.engine.backends.spectral.scene_proba import class_map, predict_proba
from spex.engine.backends.spectral.seeds import select_seeds
from spex.engine.raster.raster_source import open_source
from tests.scene_sources import built_scene, needs_benchmark, needs_mirror


def test_a_clipped_blue_is_white_and_a_clipped_red_carries_no_tint() -> None:
    rng = np.random.default_rng(3)
    blue = rng.uniform(0.05, 0.3, 10_000)
    red = rng.uniform(0.05, 0.3, 10_000)
    blue[:500] = 0.39  # 5 % of the pixels on the band's clipped maximum
    ratio = blue_red_ratio(blue, red)
    assert np.isposinf(ratio[:500]).all()
    assert np.isfinite(ratio[500:]).all()
    blue[:500] = rng.uniform(0.31, 0.39, 500)  # the same values, no plateau
    assert np.isfinite(blue_red_ratio(blue, red)).all()
    red[:500] = 0.39  # red alone on its plateau: its true value is unknown, so is the tint
    assert np.isnan(blue_red_ratio(blue, red)[:500]).all()


def test_reddened_candidates_are_named_and_white_ones_pass() -> None:
    params = SpectralParams()
    cloud = np.ones(100, dtype=bool)
    said = reddened(cloud, np.full(100, 0.75), params)
    assert said == (
        "cloud candidates redden from blue to red (median blue/red 0.750 < 0.9): "
        "sand, soil or roofs, not cloud"
    )
    assert reddened(cloud, np.full(100, 1.02), params) == ""
    assert reddened(cloud, np.full(100, np.nan), params) == ""  # no tint anywhere: not judged
    # Thin cloud (0.88) around thick cloud whose blue clips: counted white, it passes.
    thick = np.where(np.arange(100) < 60, np.inf, 0.88)
    assert reddened(cloud, thick, params) == ""
    assert "0.880 < 0.9" in reddened(cloud, np.where(np.isinf(thick), np.nan, thick), params)


def _bands(scene: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    folder = benchmark_root() / scene
    with rasterio.open(folder / "image.tif") as src:
        names = [d.lower() for d in src.descriptions]
        data = src.read().astype(np.float64)
    with rasterio.open(folder / "labels.tif") as src:
        labels = src.read(1).ravel()
    roles = dict(zip(names, data.reshape(len(names), -1), strict=True))
    return roles, labels


@needs_benchmark
def test_saturated_tm_clouds_stay_cloud() -> None:
    # Landsat 5 TM TOA: band 1 clips at 0.39 on bright cloud, so the brightest candidates look
    # red (median blue/red 0.85) although their unclipped pixels are white (about 1.0).
    bands, labels = _bands("ukis_l5_csmask")
    bright = (bands["blue"] > 0.3) & (bands["swir1"] > 0.2)
    raw = bands["blue"] / bands["red"]
    assert "redden" in reddened(bright, raw, SpectralParams())
    assert reddened(bright, blue_red_ratio(bands["blue"], bands["red"]), SpectralParams()) == ""
    seeds = select_seeds(bands, calibrated=True)
    cloud = seeds.masks["cloud"]
    assert cloud.sum() > 1000 and (labels[cloud] == 6).mean() > 0.95


@needs_mirror(UKIS_REPO, mirror_path(UKIS_REPO, "SPEX_UKIS_MIRROR"), "SPEX_UKIS_MIRROR")
def test_thin_cloud_over_red_land_is_cloud() -> None:
    """ukis-csmask's Landsat 7 chip (held out, added in stop 56): thin cloud over arid land at
    the top of the atmosphere is not white (its unclipped candidates' median blue/red 0.90),
    but the thick cloud it surrounds clips the blue band (about half the candidates): counted
    white, the candidates are white as a whole. Left without a tint, they were refused."""
    scene = built_scene("ukis_l7_csmask")
    image, labels_path = scene.rasters[0]
    with open_source(image, bands=scene.bands, sensor=scene.sensor, scale=scene.scale) as src:
        sample = src.read_sample().bands
        calibrated = src.scaling.calibrated
        pixels = src.read(Window(0, 0, src.width, src.height))
    with rasterio.open(labels_path) as src:
        labels = src.read(1)
    model = fit_scene_model(sample, calibrated)
    assert not any("cloud candidates redden" in n for n in model.notes), model.notes
    named = np.array([*model.classes, "nodata"])[
        np.minimum(class_map(model, predict_proba(model, pixels)), len(model.classes))
    ]
    cloud = named == "cloud"
    assert (labels[cloud] == 6).mean() > 0.9  # what is called cloud is cloud
    assert cloud[labels == 6].mean() > 0.6  # and most of the labelled cloud is found
    blue, red = sample["blue"], sample["red"]
    clipped = blue_red_ratio(blue, red)
    untinted = np.where(np.isinf(clipped), np.nan, clipped)  # the clipped blue not read
    candidates = (blue > 0.22) & (sample["swir1"] > 0.2)
    assert np.isinf(clipped[candidates]).mean() > 0.3
    assert "cloud candidates redden" in reddened(candidates, untinted, SpectralParams())
    assert reddened(candidates, clipped, SpectralParams()) == ""


@needs_benchmark
def test_bright_sand_is_not_taken_for_cloud_by_brightness() -> None:
    # Sentinel-2 8-bit DN over a beach: the brightest pixels are sand (blue/red about 0.75).
    with open_source(benchmark_root() / "ogt_s2_rcr_nc" / "image.tif") as src:
        sample = src.read_sample().bands
        calibrated = src.scaling.calibrated
    tinted = fit_scene_model(sample, calibrated)
    assert any("cloud candidates redden" in n for n in tinted.notes), tinted.notes
    untinted = fit_scene_model(sample, calibrated, params=SpectralParams(cloud_min_blue_red=0))
    assert not any("redden" in n for n in untinted.notes)
    assert untinted.seed_counts["cloud"] > tinted.seed_counts["cloud"]


@needs_benchmark
def test_reddened_haze_candidates_are_land_of_their_own_component() -> None:
    # The same beach: the haze transform (HOT) takes the sand for haze too (blue above the
    # scene's shallow clear line); reddened, it is land, fitted apart from the dark wet land.
    folder = benchmark_root() / "ogt_s2_rcr_nc"
    roles = "coastal,blue,green,red,rededge1,rededge2,rededge3,nir"
    with open_source(folder / "image.tif", bands=roles) as src:
        sample = src.read_sample().bands
        calibrated = src.scaling.calibrated
        pixels = src.read(Window(0, 0, src.width, src.height))
    with rasterio.open(folder / "labels.tif") as src:
        labels = src.read(1)
    model = fit_scene_model(sample, calibrated)
    assert any(n.startswith("haze candidates redden") for n in model.notes), model.notes
    assert model.seed_counts["builtup (bright, reddened)"] >= 25
    assert len(model.component_class) == len(model.classes) + 1  # builtup has two
    probs = predict_proba(model, pixels)
    window = {role: values[100:200, 50:300] for role, values in pixels.items()}
    # Components summed per class in a fixed order: the same bytes in any window.
    assert np.array_equal(predict_proba(model, window), probs[:, 100:200, 50:300], equal_nan=True)
    named = np.array([*model.classes, "nodata"])[
        np.minimum(class_map(model, probs), len(model.classes))
    ]
    assert (named[labels == 4] == "builtup").mean() > 0.95  # sand: land, not cloud
    assert (named[labels == 2] == "vegetation").mean() > 0.95
    untinted = fit_scene_model(sample, calibrated, params=SpectralParams(cloud_min_blue_red=0))
    named = np.array([*untinted.classes, "nodata"])[
        np.minimum(class_map(untinted, predict_proba(untinted, pixels)), len(untinted.classes))
    ]
    assert (named[labels == 4] == "cloud").mean() > 0.95  # without the tint test


def test_white_snow_is_seeded_and_reddened_snow_candidates_are_not() -> None:
    # Synthetic spectra: clean snow (white in the visible, dark in SWIR1) against the silty
    # water of a flood (NDSI above 0.4 too, but red above blue).
    n = 400
    snow = {"blue": 0.82, "green": 0.80, "red": 0.77, "nir": 0.68, "swir1": 0.08}
    silt = {"blue": 0.17, "green": 0.21, "red": 0.25, "nir": 0.22, "swir1": 0.05}
    land = {"blue": 0.06, "green": 0.09, "red": 0.10, "nir": 0.30, "swir1": 0.25}
    rng = np.random.default_rng(5)

    def scene(*parts: dict[str, float]) -> dict[str, np.ndarray]:
        return {
            r: np.concatenate([np.full(n, p[r]) for p in parts])
            * rng.uniform(0.97, 1.03, n * len(parts))
            for r in parts[0]
        }

    white = select_seeds(scene(snow, land), calibrated=True)
    assert white.masks["snow"][:n].all() and not white.masks["snow"][n:].any()
    silty = select_seeds(scene(silt, land), calibrated=True)
    assert not silty.masks["snow"].any()
    assert any(note.startswith("snow candidates redden") for note in silty.notes)
