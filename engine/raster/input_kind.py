"""Rasters that are not imagery: refused with one line before any band is read.

A radar product's complex samples and a thematic map's colour-table indices open as rasters
like any image, and the band roles would be asked for next; neither holds reflectance or
digital numbers that a spectral index means anything on. Numpy would drop a complex value's
imaginary part without a word, so such a raster must be refused, not read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import ColorInterp


def not_imagery(dataset: rasterio.DatasetReader) -> str | None:
    """Why `dataset` is not optical imagery (one line naming the problem and the fix), or
    None where it may be."""
    name = Path(dataset.name).name
    complex_types = sorted(
        {t for t in dataset.dtypes if np.issubdtype(np.dtype(t), np.complexfloating)}
    )
    if complex_types:
        return (
            f"{name} holds complex values ({', '.join(complex_types)}: radar or "
            "interferometric samples), not optical imagery; give a multispectral image, or "
            "convert the radar data to real-valued amplitudes first"
        )
    if dataset.count == 1 and dataset.colorinterp[0] == ColorInterp.palette:
        return (
            f"{name} is a paletted raster (its values index a colour table: a classified or "
            "thematic map), not imagery; give the multispectral image it was made from"
        )
    return None
