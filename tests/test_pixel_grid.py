"""Where a raster's pixels lie (`engine/raster/pixel_grid.py`), on real GeoTIFFs cut from the
Sentinel-2 sample: its own transform, QGIS's grid for one without georeferencing, and the
warped VRT of one placed by GCPs or by RPCs, opened again for a second reader as the onnx
backend does, on the grid the real QGIS draws it on."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning
from rasterio.warp import Resampling, reproject
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from spex.engine.raster.dataset_open import open_dataset
from spex.engine.raster.pixel_grid import (
    QGIS_PIXEL_GRID,
    close_dataset,
    grid_transform,
    reopen_dataset,
    warped_by,
)
from tests.rasters import gcp_placed_copy, rpc_placed_copy, ungeoreferenced_copy


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
        assert warped_by(dataset) == warped_by(second) == "4 ground control points"
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


def test_an_rpc_raster_opens_on_the_grid_qgis_draws_it_on(
    qgis_app, s2_scene: Path, tmp_path: Path
) -> None:
    """RPCs only (a Level-1B product): warped to WGS 84 longitude and latitude, on the very grid
    of the real QGIS layer, with each pixel where the georeferenced scene has it (compared with
    the scene's window reprojected to that grid: a few pixels on their edges differ, the
    transformer being approximate)."""
    from qgis.core import QgsRasterLayer

    window = Window(420, 120, 300, 250)
    chip = rpc_placed_copy(s2_scene, tmp_path / "rpc.tif", (420, 120, 300, 250))
    layer = QgsRasterLayer(str(chip), "rpc")
    dataset = open_dataset(chip)
    second = reopen_dataset(dataset)
    try:
        assert warped_by(dataset) == warped_by(second) == "RPCs"
        assert dataset.crs == second.crs == "EPSG:4326" and layer.crs().authid() == "EPSG:4326"
        assert (layer.width(), layer.height()) == (dataset.width, dataset.height)
        extent = layer.extent()
        drawn = (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())
        assert np.allclose(drawn, tuple(dataset.bounds), rtol=0, atol=1e-9)
        with rasterio.open(s2_scene) as truth:
            expected = np.zeros((dataset.height, dataset.width), np.uint16)
            reproject(
                truth.read(8, window=window), expected,
                src_transform=window_transform(window, truth.transform), src_crs=truth.crs,
                dst_transform=dataset.transform, dst_crs=dataset.crs,
                resampling=Resampling.nearest, src_nodata=0, dst_nodata=0,
            )  # fmt: skip
        read, again = dataset.read(8), second.read(8)
        valid = (expected != 0) & (read != 0)
        assert valid.mean() > 0.9 and np.array_equal(read, again)
        assert (read[valid] == expected[valid]).mean() > 0.97
    finally:
        close_dataset(dataset)
        close_dataset(second)


def test_rpcs_beside_a_geotransform_leave_it_alone(s2_scene: Path, tmp_path: Path) -> None:
    """A geotransform comes first for GDAL (an orthorectified product that keeps its RPCs):
    such a raster is read as it is."""
    crop = tmp_path / "crop.tif"
    with rasterio.open(s2_scene) as src:
        profile = src.profile | {"width": 40, "height": 30, "transform": src.transform}
        with rasterio.open(crop, "w", **profile) as dst:
            dst.write(src.read(window=Window(0, 0, 40, 30)))
    with rasterio.open(rpc_placed_copy(s2_scene, tmp_path / "rpc.tif", (0, 0, 40, 30))) as rpc:
        rpcs = rpc.rpcs
    with rasterio.open(crop, "r+") as dst:
        dst.rpcs = rpcs
    with open_dataset(crop) as dataset:
        assert dataset.rpcs is not None and warped_by(dataset) is None
        assert dataset.crs.to_epsg() == 32633 and dataset.width == 40
