"""The scene added in stop 70 and held out from every rule (`bench/neuchatel_scene.py`):
Sentinel-2 L2A of Lake Neuchatel's western shore, four unnamed bands with processing baseline
04.00's +1000 kept, and 55 hand-placed points on forest, grassland and lake. Scored as found:
water 0.850 (17 of 20 lake points; three sediment-laden shore points, NIR 0.023, fell to the
classifier's catch-all class; 0.950 since water no class explains is water where it looks like
water, `water_veto.claim_unexplained_water`), vegetation 0.600 (the 14 "grassland-light" points, red above
green and NDVI 0.13-0.30: cut or dry fields, are non-vegetated land, as the textbook NDVI > 0.3
has them too: 0.629), forest 1.000. Floors about 0.05 below."""

from __future__ import annotations

import rasterio

from bench.extra_scenes import mirror_path
from bench.neuchatel_scene import NEUCHATEL_REPO
from spex.engine.raster.raster_source import open_source
from tests.scene_sources import built_scene, label_counts, needs_mirror, ours_by_target

NEUCHATEL = "chikaj_s2_neuchatel"
needs_neuchatel = needs_mirror(
    NEUCHATEL_REPO, mirror_path(NEUCHATEL_REPO, "SPEX_NEUCHATEL_MIRROR"), "SPEX_NEUCHATEL_MIRROR"
)


@needs_neuchatel
def test_the_scene_is_read_as_baseline_04_reflectance_with_its_points() -> None:
    scene = built_scene(NEUCHATEL)
    image, labels_path = scene.rasters[0]
    with rasterio.open(image) as src, rasterio.open(labels_path) as lab:
        assert (src.count, src.height, src.width, src.dtypes[0]) == (4, 445, 554, "uint16")
        assert src.crs.to_epsg() == 32632
        assert label_counts(lab.read(1)) == {0: 246475, 1: 20, 2: 35}
    with open_source(image, bands=scene.bands) as src:
        # Nothing but the analyst's --bands: the +1000 is recognised from the values.
        assert (src.scaling.scale, src.scaling.offset) == (1e-4, -0.1) and src.scaling.calibrated


@needs_neuchatel
def test_water_vegetation_and_forest_hold_their_floors() -> None:
    rows = ours_by_target(built_scene(NEUCHATEL))
    assert rows["water"] >= 0.90 and rows["vegetation"] >= 0.55 and rows["forest"] >= 0.95, rows
