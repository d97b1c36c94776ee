"""Where a raster's pixels lie: its own transform, or for a raster with no georeferencing at
all, the grid QGIS shows it on.

GDAL reports a raster without a geotransform, GCPs or RPCs with the identity transform (y is
the row, growing downwards), but QGIS draws it with y = -row so that it is not upside down.
Outputs written on the identity would lie mirrored above the raster in QGIS, and examples drawn
over it would fall off it: so every output, example and extent of such a raster uses QGIS's
grid. A raster whose file declares the identity keeps it: QGIS shows it there too.

A raster placed only by ground control points (and their CRS) is drawn warped by QGIS, through
GDAL's automatic warped VRT; `warped_by_gcps` opens it through the same VRT, so the run works
on the grid the analyst sees and measures in metres. GCPs without a CRS cannot be warped:
`gcp_warp_hint` says so.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

#: QGIS's grid for a raster with no georeferencing: x the column, y minus the row.
QGIS_PIXEL_GRID = Affine(1.0, 0.0, 0.0, 0.0, -1.0, 0.0)


def grid_transform(dataset: rasterio.DatasetReader) -> Affine:
    """The transform of `dataset`'s pixels as QGIS places them (see the module's docstring)."""
    if (
        dataset.crs is not None
        or not dataset.transform.is_identity
        or dataset.gcps[0]
        or dataset.rpcs is not None
        or _declares_a_geotransform(dataset.name)
    ):
        return dataset.transform
    return QGIS_PIXEL_GRID


def warped_by_gcps(dataset: rasterio.DatasetReader) -> rasterio.DatasetReader | WarpedVRT:
    """`dataset` itself, or for one placed only by GCPs with a CRS, the warped VRT QGIS draws
    (nearest neighbour, so every value is one of the raster's own). Its fill is the raster's
    nodata, else NaN for floats and 0 for integers (the usual fill of satellite digital numbers).
    Close it with `close_dataset`."""
    points, crs = dataset.gcps
    if dataset.crs is not None or not points or crs is None:
        return dataset
    fill = dataset.nodata
    if fill is None:
        fill = float("nan") if np.dtype(dataset.dtypes[0]).kind == "f" else 0
    return WarpedVRT(dataset, crs=crs, resampling=Resampling.nearest, nodata=fill)


def close_dataset(dataset: rasterio.DatasetReader | WarpedVRT) -> None:
    """Close `dataset`, and the raster under it when it is `warped_by_gcps`'s VRT."""
    under = getattr(dataset, "src_dataset", None)
    dataset.close()
    if under is not None:
        under.close()


def reopen_dataset(dataset: rasterio.DatasetReader | WarpedVRT) -> rasterio.DatasetReader:
    """A second handle on the same pixels (a thread's own): `warped_by_gcps`'s VRT is opened
    again over its raster. Close it with `close_dataset`."""
    under = getattr(dataset, "src_dataset", None)
    if under is None:
        return rasterio.open(dataset.name)
    return warped_by_gcps(rasterio.open(under.name))


def gcps_warped(dataset: rasterio.DatasetReader | WarpedVRT) -> int:
    """How many GCPs placed the raster when `dataset` is `warped_by_gcps`'s VRT, else 0."""
    under = getattr(dataset, "src_dataset", None)
    return len(under.gcps[0]) if under is not None else 0


def gcp_warp_hint(dataset: rasterio.DatasetReader) -> str | None:
    """For a raster that GCPs without a CRS place: that the run cannot warp it, and how to
    (QGIS cannot place it either). None otherwise."""
    points, crs = dataset.gcps
    if dataset.crs is not None or not points or crs is not None:
        return None
    return (
        f"it has {len(points)} ground control points but no CRS for them, so it cannot be "
        "warped: give them their CRS and warp it (QGIS's Georeferencer, or gdalwarp -t_srs)"
    )


def grid_window_transform(dataset: rasterio.DatasetReader, window: Window) -> Affine:
    """`grid_transform` of the pixels of `window`."""
    return window_transform(window, grid_transform(dataset))


@lru_cache(maxsize=64)
def _declares_a_geotransform(name: str) -> bool:
    """Whether GDAL reads a geotransform from the dataset itself (rasterio reports the identity
    both for one declared and for none)."""
    from osgeo import gdal

    gdal.UseExceptions()  # as the engine's other GDAL users set it
    try:
        dataset = gdal.Open(name)
    except RuntimeError:  # not reopenable by name (a MEM dataset): keep rasterio's answer
        return True
    return dataset.GetGeoTransform(can_return_null=True) is not None
