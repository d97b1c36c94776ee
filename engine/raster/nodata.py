"""Which pixels are nodata: the values a file declares, and the fills it does not.

A pixel is nodata where a band holds its declared nodata value; where the file declares none,
where it holds a product's fill in every band (`UNDECLARED_FILLS`); beside a declared value,
where it is 0 in every band; and wherever a float band is NaN or infinite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: What fills a product's missing pixels, in every band, where the file declares no nodata
#: value: 0 (nearly every product, floats too: a warped or exported float raster's margin, an
#: Earth Engine `unmask(0)`; no surface is exactly 0 in every band); for signed integers and
#: floats also -9999 (HLS, ESPA, Earth Engine exports), -28672 (MODIS) and -32768 (int16's
#: minimum); for floats float32's minimum.
UNDECLARED_FILLS = {
    "u": (0,),
    "i": (0, -9999, -28672, -32768),
    "f": (0, -9999, -28672, -32768),
}
FLOAT32_MIN = float(np.finfo(np.float32).min)


def valid_pixel_mask(raw: np.ndarray, nodata: Sequence[float | None]) -> np.ndarray:
    """Pixels of raw (bands, ...) values that are valid in every band; `nodata` holds each
    band's declared nodata value (None: none).

    Where the bands declare one value, a pixel equal to it in any band is nodata; where they
    differ (a stack of files), a pixel equal to its band's own. Without one, a pixel holding
    the same `UNDECLARED_FILLS` value in every band is: read as reflectance, a fill of -9999
    would be a dark band below zero, and the scaling's percentiles would refuse the product's
    own scaling. Beside a declared value, a pixel 0 in every band of two or more is nodata too
    (a margin filled with 0 under another declared value, 65535 or -9999: read as values it
    was a class of its own). Float NaN and infinities are always nodata.
    """
    kind = raw.dtype.kind
    valid = np.isfinite(raw).all(axis=0) if kind == "f" else np.ones(raw.shape[1:], dtype=bool)
    declared = {v for v in nodata if v is not None and not math.isnan(v)}
    if declared:
        if len(declared) > 1 or None in nodata:
            for band, value in zip(raw, nodata, strict=True):
                if value is not None and not math.isnan(value):
                    valid &= band != raw.dtype.type(value)
        else:
            value = raw.dtype.type(next(iter(declared)))
            for band in raw:  # band by band: no (bands, ...) boolean copy of a sample
                valid &= band != value
        if len(raw) > 1:
            valid &= ~_same_in_every_band(raw, (0,))
        return valid
    fills = UNDECLARED_FILLS.get(kind, ())
    if kind == "f" and raw.dtype.itemsize == 4:
        fills = (*fills, FLOAT32_MIN)
    return valid & ~_same_in_every_band(raw, fills)


def _same_in_every_band(raw: np.ndarray, fills: Sequence[float]) -> np.ndarray:
    """Pixels of raw (bands, ...) holding one of `fills` in every band."""
    # Candidates from the first band, confirmed in every band: one pass over the window.
    first = raw[0]
    candidates = np.isin(first, fills)
    if not candidates.any():
        return candidates
    return candidates & (raw == first).all(axis=0)
