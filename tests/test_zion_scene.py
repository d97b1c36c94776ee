"""spDataLarge's Landsat 8 scene of Zion with NLCD 2011 (`bench/zion_scene.py`): built from its
pinned source into the benchmark's format, read as its source documents it, and the spectral
backend's rows on it above floors set about 0.08 below what `bench/quality` measured when the
scene was added (water 0.109, vegetation 0.454; docs/benchmarks.md, "Held out: an arid scene")."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from bench.quality import tuned_spread
from bench.zion_scene import NLCD_CODES, _inside_patches, spdatalarge_mirror
from spex.engine.backends.spectral.params import SpectralParams
from tests.scene_sources import built_scene, label_counts, needs_mirror, ours_by_target

NAME = "spdatalarge_l8_zion"


def test_a_label_is_kept_inside_its_patch_not_on_a_line_or_an_edge() -> None:
    codes = np.full((7, 9), 2, dtype=np.uint8)
    codes[:, 4] = 3  # a road one pixel wide: at most two of a pixel's neighbours share it
    codes[0:3, 6:9] = 1  # a pond in the corner
    kept = _inside_patches(codes)
    assert not kept[0].any() and not kept[:, 0].any()  # the raster's edge has no neighbours
    assert not kept[:, 4].any()
    assert kept[1, 7]  # the pond's inner pixel
    assert kept[2, 7]  # its shore: five of its eight neighbours are pond
    assert kept[5, 1] and kept[5, 7]  # inside the vegetation
    assert not kept[3, 5]  # beside the road and the pond: four of eight are vegetation


def test_developed_open_space_is_not_built_up() -> None:
    # NLCD 21 is under 20 % impervious (lawns, roadsides): other, not built-up.
    assert NLCD_CODES[21] == 7
    assert {NLCD_CODES[c] for c in (22, 23, 24)} == {3}
    assert NLCD_CODES[31] == 4 and NLCD_CODES[11] == 1


needs_spdatalarge = needs_mirror(
    "Nowosad/spDataLarge", spdatalarge_mirror(), "SPEX_SPDATALARGE_MIRROR"
)


@pytest.fixture(scope="module")
def zion():
    """The built scene (built once into the quality cache, then reused)."""
    return built_scene(NAME)


@needs_spdatalarge
def test_the_scene_is_four_landsat_bands_with_nlcd_on_their_grid(zion) -> None:
    image, labels_path = zion.rasters[0]
    with rasterio.open(image) as img, rasterio.open(labels_path) as lab:
        assert (img.count, img.width, img.height, img.dtypes[0]) == (4, 1128, 1428, "uint16")
        assert img.crs.to_epsg() == 32612 and img.nodata == 65535
        assert img.descriptions == ("B2", "B3", "B4", "B5")
        assert lab.transform == img.transform
        labels = lab.read(1)
    found = label_counts(labels)
    assert set(found) <= {0, 1, 2, 3, 4, 7, 255}
    assert 1_000 < found[1] < 1_400, found  # the Virgin River and ponds: 1,172 pixels
    assert 500 < found[3] < 900, found  # Springdale's developed land: 696
    assert 80_000 < found[4] < 95_000, found  # barren rock and sand: 87,533


@needs_spdatalarge
def test_water_and_vegetation_on_the_arid_scene_stay_above_their_floors(zion) -> None:
    rows = ours_by_target(zion)
    assert rows["water"] >= 0.03, rows
    assert rows["vegetation"] >= 0.37, rows


@needs_spdatalarge
def test_tuned_spread_names_the_values_that_move_the_scene(zion) -> None:
    """`bench/quality --tuned-spread`: on digital numbers the water veto's floor does nothing,
    the built-up NDVI margin moves vegetation (0.381 at 0.0, 0.454 at 0.05)."""
    spread = tuned_spread(
        [zion],
        SpectralParams(),
        {"builtup_water_floor": (0.0, 0.1), "builtup_ndvi_margin": (0.0, 0.05)},
    )
    assert spread["builtup_water_floor"] == {}
    low, high = spread["builtup_ndvi_margin"][(NAME, "vegetation")]
    assert high - low > 0.03, (low, high)
