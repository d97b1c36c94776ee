"""The near-infrared cloud test: cloud seeds are at least as bright in NIR as the scene's
vegetation; white roofs that pass every visible test are not. Real scenes (the shared
benchmark's cloudy ones, mlr3spatial's Leipzig where it is mirrored); synthetic arrays for the
function's own cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from bench.coarser_scenes import pure_blocks, write_coarser
from bench.csmask_scene import UKIS_REPO
from bench.extra_scenes import mirror_path
from bench.more_scenes import MLR3SPATIAL_REPO
from bench.scenes import benchmark_root
from spex.engine.backends.spectral.haze import dimmer_than_canopy
from spex.engine.backends.spectral.scene_model import fit_scene_model
from spex.engine.backends.spectral.scene_proba import class_map, predict_proba
from spex.engine.raster.raster_source import open_source
from tests.scene_sources import built_scene, needs_benchmark, needs_mirror

ROOFS = "darker in NIR than the vegetation"


def test_candidates_dimmer_than_the_canopy_are_refused_with_both_medians() -> None:
    """Synthetic arrays: 100 candidates against 500 canopy pixels of NIR 0.33."""
    cloud = np.zeros(1000, dtype=bool)
    cloud[:100] = True
    vegetation = np.zeros(1000, dtype=bool)
    vegetation[500:] = True
    nir = np.where(cloud, 0.26, 0.33)
    unclipped = np.zeros(1000, dtype=bool)
    kept, why = dimmer_than_canopy(cloud, nir, vegetation, unclipped)
    assert not kept.any()
    assert why == (
        "cloud candidates are darker in NIR than the vegetation (median 0.26 < 0.33): "
        "bright roofs or pavement, not cloud"
    )
    nir[:100] = 0.45  # a cloud: brighter than the canopy
    kept, why = dimmer_than_canopy(cloud, nir, vegetation, unclipped)
    assert (kept == cloud).all() and why == ""


def test_no_canopy_or_clipped_candidates_keep_the_seeds() -> None:
    cloud = np.zeros(1000, dtype=bool)
    cloud[:100] = True
    nir = np.where(cloud, 0.2, 0.3)
    vegetation = ~cloud
    no_vegetation = np.zeros(1000, dtype=bool)
    kept, why = dimmer_than_canopy(cloud, nir, no_vegetation, np.zeros(1000, dtype=bool))
    assert (kept == cloud).all() and why == ""
    clipped = cloud.copy()  # the visible band saturated on most candidates
    clipped[:40] = False
    kept, why = dimmer_than_canopy(cloud, nir, vegetation, clipped)
    assert (kept == cloud).all() and why == ""
    clipped[:60] = False  # saturated on 40 %: judged
    assert not dimmer_than_canopy(cloud, nir, vegetation, clipped)[0].any()


@needs_benchmark
def test_labelled_clouds_pass_the_near_infrared_test() -> None:
    """The benchmark's cloudy scenes (Landsat 8, Landsat 5 TM, Sentinel-2): their clouds are
    seeded, and what the model calls cloud is mostly labelled cloud."""
    for scene in ("c38_l8_cloud", "ukis_l5_csmask", "ukis_s2_csmask"):
        folder = benchmark_root() / scene
        with open_source(folder / "image.tif") as src:
            sample = src.read_sample().bands
            model = fit_scene_model(sample, src.scaling.calibrated)
            pixels = src.read(Window(0, 0, src.width, src.height))
        assert not any(ROOFS in n for n in model.notes), (scene, model.notes)
        assert model.seed_counts["cloud"] > 1000, scene
        with rasterio.open(folder / "labels.tif") as src:
            labels = src.read(1)
        cloud = class_map(model, predict_proba(model, pixels)) == model.classes.index("cloud")
        assert (labels[cloud & (labels > 0)] == 6).mean() > 0.85, scene


@needs_mirror(
    MLR3SPATIAL_REPO,
    mirror_path(MLR3SPATIAL_REPO, "SPEX_MLR3SPATIAL_MIRROR"),
    "SPEX_MLR3SPATIAL_MIRROR",
)
def test_white_roofs_of_a_clear_city_are_not_cloud() -> None:
    """mlr3spatial's Sentinel-2 Leipzig, cloud-free: its brightest roofs pass the visible cloud
    tests (bright, white, 1.2x the bright land) but are dimmer in NIR than its vegetation. No
    cloud is mapped: the 4 urban points of 36 that were cloud are land again (the raw class
    map, before smoothing: 26 built-up, 10 vegetation)."""
    scene = built_scene("mlr3spatial_s2_leipzig")
    image, labels_path = scene.rasters[0]
    with open_source(image, bands=scene.bands, sensor=scene.sensor, scale=scene.scale) as src:
        model = fit_scene_model(src.read_sample().bands, src.scaling.calibrated)
        pixels = src.read(Window(0, 0, src.width, src.height))
    assert any(ROOFS in n for n in model.notes), model.notes
    assert "cloud" not in model.classes
    with rasterio.open(labels_path) as src:
        labels = src.read(1)
    named = np.array([*model.classes, "nodata"])[
        np.minimum(class_map(model, predict_proba(model, pixels)), len(model.classes))
    ]
    urban = named[labels == 3]
    assert len(urban) == 36 and "cloud" not in urban
    assert (urban == "builtup").sum() >= 25, np.unique(urban, return_counts=True)


@needs_benchmark
def test_the_benchmark_records_what_the_test_saw() -> None:
    """`bench.cloud_canopy` wraps the engine's function: on c38's clouds it records the
    candidates' and the canopy's NIR medians, their ratio above 1, and no refusal."""
    from bench import cloud_canopy
    from bench.quality import run_engine
    from bench.scenes import benchmark_scenes
    from spex.engine.backends.spectral import seeds
    from spex.engine.backends.spectral.params import SpectralParams

    engine_test = seeds.dimmer_than_canopy
    try:
        seen = cloud_canopy.record_test()
        scene = next(s for s in benchmark_scenes() if s.name == "c38_l8_cloud")
        run_engine(scene.rasters[0][0], scene, SpectralParams())
    finally:
        seeds.dimmer_than_canopy = engine_test
    assert len(seen) == 1 and seen[0]["candidates"] > 1000
    assert seen[0]["ratio"] == seen[0]["cloud_nir"] / seen[0]["canopy_nir"] > 1.5
    assert not seen[0]["refused"] and seen[0]["clipped"] < 0.5


@needs_mirror(UKIS_REPO, mirror_path(UKIS_REPO, "SPEX_UKIS_MIRROR"), "SPEX_UKIS_MIRROR")
def test_the_landsat7_chips_cloud_is_found_at_twice_its_pixel_size(tmp_path: Path) -> None:
    """ukis-csmask's Landsat 7 chip averaged over 2 x 2 pixels (`bench.coarser_scenes`): its
    red is clipped on thick cloud, and cloud pixels passed for canopy seeds; its cloud was
    0.000 (0.665 at its own size), now 0.723."""
    scene = built_scene("ukis_l7_csmask")
    image, labels_path = scene.rasters[0]
    coarser = write_coarser(image, 2, tmp_path)
    with open_source(coarser, bands=scene.bands) as src:
        model = fit_scene_model(src.read_sample().bands, src.scaling.calibrated)
        pixels = src.read(Window(0, 0, src.width, src.height))
    assert not any(ROOFS in n for n in model.notes), model.notes
    with rasterio.open(labels_path) as src:
        labels = pure_blocks(src.read(1), 2)
    cloud = class_map(model, predict_proba(model, pixels)) == model.classes.index("cloud")
    assert cloud[labels == 6].mean() > 0.6 and (labels[cloud & (labels > 0)] == 6).mean() > 0.9
