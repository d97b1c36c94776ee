"""Pixels that GDAL's mask band hides: an alpha band, an internal or sidecar (``.msk``) mask.

A drone orthophoto (OpenDroneMap, Pix4D, Metashape) is RGBA: outside the flight its colour
bands hold white or black, and only the alpha band says that nothing was seen there. A raster
clipped with ``gdalwarp -dstalpha``, or compressed with an internal mask (``JPEG`` in YCbCr),
is the same. QGIS draws those pixels transparent; read as colours they would be built-up or
cloud, and part of every statistic of the scene. Each read sets them to a fill value that
`raster_source.valid_pixel_mask` takes for nodata, so they are nodata everywhere after it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import rasterio
from rasterio.enums import MaskFlags
from rasterio.windows import Window


def hidden_fill(dataset: rasterio.DatasetReader) -> float | None:
    """The raw value a pixel the dataset's mask band hides is read as: the declared nodata
    value, else NaN for floats and 0 in every band for integers (which `valid_pixel_mask` takes
    for nodata); None where the mask hides nothing beyond the nodata value (no alpha band, no
    internal or sidecar mask), so reads need no mask."""
    if not dataset.count or MaskFlags.per_dataset not in dataset.mask_flag_enums[0]:
        return None
    nodata = dataset.nodata
    if nodata is not None and not math.isnan(nodata):
        return float(nodata)
    return math.nan if np.dtype(dataset.dtypes[0]).kind == "f" else 0.0


def read_masked(
    handle: rasterio.DatasetReader,
    indexes: Sequence[int],
    window: Window,
    fill: float | None,
    out_shape: tuple[int, int, int] | None = None,
    **read_options: object,
) -> np.ndarray:
    """`handle.read` of `indexes` at `window` (at `out_shape`, with `read_options`), each pixel
    the mask band hides set to `fill` in every band (no mask read where `fill` is None)."""
    raw = handle.read(list(indexes), window=window, out_shape=out_shape, **read_options)
    if fill is not None:
        mask = handle.read_masks(1, window=window, out_shape=out_shape[1:] if out_shape else None)
        raw[:, mask == 0] = fill
    return raw
