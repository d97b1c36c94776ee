"""Where a raster's pixels lie: its own transform, or for a raster with no georeferencing at
all, the grid QGIS shows it on.

GDAL reports a raster without a geotransform, GCPs or RPCs with the identity transform (y is
the row, growing downwards), but QGIS draws it with y = -row so that it is not upside down.
Outputs written on the identity would lie mirrored above the raster in QGIS, and examples drawn
over it would fall off it: so every output, example and extent of such a raster uses QGIS's
grid. A raster whose file declares the identity keeps it: QGIS shows it there too.

A raster placed only by ground control points (and their CRS), or only by rational polynomial
coefficients (RPCs: a satellite's Level-1B product, WorldView or Pleiades "primary"), is drawn
warped by QGIS, through GDAL's automatic warped VRT; `warped_as_drawn` opens it through the same
kind of VRT, so the run works on the grid the analyst sees and measures in metres. RPCs map to
WGS 84 longitude and latitude, at a height of 0 m without a DEM, as QGIS draws them: not
orthorectified (`warped_by`). GCPs without a CRS cannot be warped: `gcp_warp_hint` says so.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
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


#: The CRS of RPCs' ground coordinates: WGS 84 longitude and latitude (GDAL's RFC 22).
RPC_CRS = CRS.from_epsg(4326)


def warped_as_drawn(dataset: rasterio.DatasetReader) -> rasterio.DatasetReader | WarpedVRT:
    """`dataset` itself, or for one placed only by GCPs with a CRS or only by RPCs, the warped
    VRT QGIS draws (nearest neighbour, so every value is one of the raster's own). Its fill is
    the raster's nodata, else NaN for floats and 0 for integers (the usual fill of satellite
    digital numbers). Close it with `close_dataset`."""
    points, crs = dataset.gcps
    if dataset.crs is not None:
        return dataset
    if not points and _placed_by_rpcs(dataset):
        crs = RPC_CRS  # GDAL's transformer takes the RPCs where there is nothing else
    elif not points or crs is None:
        return dataset
    fill = dataset.nodata
    if fill is None:
        fill = float("nan") if np.dtype(dataset.dtypes[0]).kind == "f" else 0
    return WarpedVRT(dataset, crs=crs, resampling=Resampling.nearest, nodata=fill)


def close_dataset(dataset: rasterio.DatasetReader | WarpedVRT) -> None:
    """Close `dataset`, and the raster under it when it is `warped_as_drawn`'s VRT."""
    under = getattr(dataset, "src_dataset", None)
    dataset.close()
    if under is not None:
        under.close()


def reopen_dataset(dataset: rasterio.DatasetReader | WarpedVRT) -> rasterio.DatasetReader:
    """A second handle on the same pixels (a thread's own): `warped_as_drawn`'s VRT is opened
    again over its raster. Close it with `close_dataset`."""
    under = getattr(dataset, "src_dataset", None)
    if under is None:
        return rasterio.open(dataset.name)
    return warped_as_drawn(rasterio.open(under.name))


def warped_by(dataset: rasterio.DatasetReader | WarpedVRT) -> str | None:
    """What placed the raster when `dataset` is `warped_as_drawn`'s VRT: ``"4 ground control
    points"`` or ``"RPCs"``; None when it was read as it is."""
    under = getattr(dataset, "src_dataset", None)
    if under is None:
        return None
    points = under.gcps[0]
    return f"{len(points)} ground control points" if points else "RPCs"


def _placed_by_rpcs(dataset: rasterio.DatasetReader) -> bool:
    """Whether RPCs are all that place `dataset` (a geotransform, declared or not, comes first
    for GDAL, so it is not warped by them)."""
    return (
        dataset.rpcs is not None
        and dataset.transform.is_identity
        and not _declares_a_geotransform(dataset.name)
    )


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
