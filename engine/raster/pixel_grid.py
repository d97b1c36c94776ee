"""Where a raster's pixels lie: its own transform, or for a raster with no georeferencing at
all, the grid QGIS shows it on.

GDAL reports a raster without a geotransform, GCPs or RPCs with the identity transform (y is
the row, growing downwards), but QGIS draws it with y = -row so that it is not upside down.
Outputs written on the identity would lie mirrored above the raster in QGIS, and examples drawn
over it would fall off it: so every output, example and extent of such a raster uses QGIS's
grid. A raster whose file declares the identity keeps it: QGIS shows it there too. A raster
placed only by ground control points is drawn warped by QGIS; the engine works on its pixel
grid, and `gcp_warp_hint` tells the analyst how to warp it first.
"""

from __future__ import annotations

from functools import lru_cache

import rasterio
from affine import Affine
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


def gcp_warp_hint(dataset: rasterio.DatasetReader) -> str | None:
    """For a raster without a CRS that ground control points place: what they are and how to
    warp it (QGIS draws it warped; the engine works on its pixel grid). None otherwise."""
    points, crs = dataset.gcps
    if dataset.crs is not None or not points:
        return None
    target = crs.to_string() if crs is not None else "EPSG:...."
    return (
        f"it is placed by {len(points)} ground control points, which QGIS warps on the fly "
        f"and the run does not: warp it first (Raster > Projections > Warp, or gdalwarp "
        f"-t_srs {target} in.tif out.tif)"
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
