"""Pixels that GDAL's mask band hides: an alpha band, an internal or sidecar (``.msk``) mask.

A drone orthophoto (OpenDroneMap, Pix4D, Metashape) is RGBA: outside the flight its colour
bands hold white or black, and only the alpha band says that nothing was seen there. A raster
clipped with ``gdalwarp -dstalpha``, or compressed with an internal mask (``JPEG`` in YCbCr),
is the same. QGIS draws those pixels transparent; read as colours they would be built-up or
cloud, and part of every statistic of the scene. Each read sets them, band by band, to a fill
value that `nodata.valid_pixel_mask` takes for nodata, so they are nodata everywhere
after it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, MaskFlags
from rasterio.windows import Window


def hidden_fills(
    dataset: rasterio.DatasetReader, data_bands: Sequence[int] = ()
) -> tuple[float, ...] | None:
    """The raw value each band (by 0-based position) reads where the dataset's mask band hides
    a pixel: the band's declared nodata value, else NaN for floats and 0 for integers (which
    `valid_pixel_mask` takes for nodata, in every band); None where the mask hides nothing
    beyond the nodata values (no alpha band, no internal or sidecar mask), so reads need no
    mask; None too where the mask is an alpha band that is read as image data
    (`alpha_read_as_data`)."""
    if not dataset.count or MaskFlags.per_dataset not in dataset.mask_flag_enums[0]:
        return None
    if alpha_read_as_data(dataset, data_bands):
        return None
    undeclared = math.nan if np.dtype(dataset.dtypes[0]).kind == "f" else 0.0
    return tuple(
        undeclared if nodata is None or math.isnan(nodata) else float(nodata)
        for nodata in dataset.nodatavals
    )


def read_masked(
    handle: rasterio.DatasetReader,
    indexes: Sequence[int],
    window: Window,
    fills: Sequence[float] | None,
    out_shape: tuple[int, int, int] | None = None,
    **read_options: object,
) -> np.ndarray:
    """`handle.read` of the 1-based `indexes` at `window` (at `out_shape`, with
    `read_options`), each pixel the mask band hides set to each band's `fills` value (no mask
    read where `fills` is None: `hidden_fills`)."""
    raw = handle.read(list(indexes), window=window, out_shape=out_shape, **read_options)
    if fills is not None:
        mask = handle.read_masks(1, window=window, out_shape=out_shape[1:] if out_shape else None)
        raw[:, mask == 0] = np.array([fills[b - 1] for b in indexes])[:, None]
    return raw


def alpha_read_as_data(dataset: rasterio.DatasetReader, data_bands: Sequence[int]) -> list[int]:
    """The 1-based bands of `data_bands` (those read as image data: a band role names them)
    that the file marks as transparency (alpha).

    GDAL writes a four-band 8-bit GeoTIFF as red, green, blue and alpha unless told otherwise,
    so an RGB + near-infrared image saved with the defaults (NAIP-like aerial imagery exported
    from numpy, QGIS or ``gdal_translate``) carries its NIR band as alpha: read as a mask, every
    pixel whose NIR is 0 (dark water) would be hidden. A band given a role is data.
    """
    colours = dataset.colorinterp
    return [b for b in data_bands if colours[b - 1] == ColorInterp.alpha]
