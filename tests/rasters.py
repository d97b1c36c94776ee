"""Writing small GeoTIFFs for tests (synthetic rasters are for geometry, tiling and scale)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin


def write_raster(
    path: Path,
    array: np.ndarray,
    crs: str = "EPSG:32633",
    transform: object | None = None,
    nodata: float | None = None,
    descriptions: Sequence[str] | None = None,
) -> Path:
    """Write a (bands, rows, cols) array as a GeoTIFF and return its path."""
    if array.ndim == 2:
        array = array[None]
    transform = transform or from_origin(500_000.0, 5_800_000.0, 10.0, 10.0)
    profile = {
        "driver": "GTiff",
        "width": array.shape[2],
        "height": array.shape[1],
        "count": array.shape[0],
        "dtype": array.dtype.name,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array)
        for i, name in enumerate(descriptions or [], start=1):
            dst.set_band_description(i, name)
    return path


def crop_raster(src_path: Path, dst_path: Path, window: tuple[int, int, int, int]) -> Path:
    """Copy a (col, row, width, height) window of a raster to a new GeoTIFF."""
    from rasterio.windows import Window

    with rasterio.open(src_path) as src:
        win = Window(*window)
        profile = src.profile | {
            "width": window[2],
            "height": window[3],
            "transform": src.window_transform(win),
        }
        profile.pop("blockxsize", None)
        profile.pop("blockysize", None)
        profile["tiled"] = False
        with rasterio.open(dst_path, "w", **profile) as dst:
            dst.write(src.read(window=win))
            for i, name in enumerate(src.descriptions, start=1):
                if name:
                    dst.set_band_description(i, name)
    return dst_path


def ungeoreferenced_copy(src_path: Path, dst_path: Path, window: tuple[int, int, int, int]) -> Path:
    """Copy a (col, row, width, height) window with no CRS and an identity transform, as
    scanned or exported imagery often comes (e.g. the ukis cloud-mask scenes)."""
    import warnings

    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.windows import Window

    with rasterio.open(src_path) as src:
        data = src.read(window=Window(*window))
        descriptions = src.descriptions
    profile = {
        "driver": "GTiff",
        "width": window[2],
        "height": window[3],
        "count": data.shape[0],
        "dtype": data.dtype.name,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(dst_path, "w", **profile) as dst:
            dst.write(data)
            for i, name in enumerate(descriptions, start=1):
                if name:
                    dst.set_band_description(i, name)
    return dst_path


def true_colour_copy(s2_path: Path, dst_path: Path) -> Path:
    """The top-left 512 x 256 px of the real Sentinel-2 stack in its blue, green and red bands
    only (B2, B3, B4), named as such: a true-colour raster, georeferenced like the scene."""
    with rasterio.open(s2_path) as src:
        data = src.read([2, 3, 4], window=((0, 256), (0, 512)))
        crs, transform = src.crs.to_string(), src.transform
    return write_raster(
        dst_path, data, crs=crs, transform=transform, descriptions=["blue", "green", "red"]
    )
