"""Where a raster's pixels lie (`engine/raster/pixel_grid.py`), on real GeoTIFFs cut from the
Sentinel-2 sample: its own transform, QGIS's grid for one without georeferencing, and the
warped VRT of one placed by GCPs, opened again for a second reader as the onnx backend does."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from spex.engine.raster.dataset_open import open_dataset
from spex.engine.raster.pixel_grid import (
    QGIS_PIXEL_GRID,
    close_dataset,
    gcps_warped,
    grid_transform,
    reopen_dataset,
)
from tests.rasters import gcp_placed_copy, ungeoreferenced_copy


def test_each_raster_on_the_grid_qgis_draws_it_on(s2_scene: Path, tmp_path: Path) -> None:
    none = ungeoreferenced_copy(s2_scene, tmp_path / "none.tif", (0, 0, 40, 30))
    declared = tmp_path / "declared.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # both rasters, on purpose
        with rasterio.open(none) as src:
            profile = src.profile | {"transform": Affine.identity()}
            with rasterio.open(declared, "w", **profile) as dst:
                dst.write(src.read())
    with open_dataset(none) as a, open_dataset(declared) as b, open_dataset(s2_scene) as c:
        assert a.transform.is_identity and b.transform.is_identity  # rasterio cannot tell
        assert grid_transform(a) == QGIS_PIXEL_GRID
        assert grid_transform(b) == Affine.identity()
        assert grid_transform(c) == c.transform


def test_a_gcp_raster_opens_warped_and_reopens_alike(s2_scene: Path, tmp_path: Path) -> None:
    chip = gcp_placed_copy(s2_scene, tmp_path / "gcp.tif", (420, 120, 300, 250), "EPSG:32633")
    dataset = open_dataset(chip)
    second = reopen_dataset(dataset)
    try:
        assert gcps_warped(dataset) == 4 and gcps_warped(second) == 4
        assert dataset.crs == second.crs == "EPSG:32633"
        assert dataset.transform == second.transform == Affine(10, 0, 334200, 0, -10, 5820840)
        window = Window(100, 50, 64, 32)
        with rasterio.open(s2_scene) as truth:
            expected = truth.read(window=Window(520, 170, 64, 32))
        assert np.array_equal(dataset.read(window=window), expected)
        assert np.array_equal(second.read(window=window), expected)
    finally:
        under = dataset.src_dataset
        close_dataset(dataset)
        close_dataset(second)
    assert dataset.closed and under.closed
