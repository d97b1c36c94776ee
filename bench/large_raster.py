"""Build a large benchmark raster by tiling real imagery, window by window (bounded memory)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window


def build_tiled_raster(
    source: Path, out: Path, size: int, compress: str | None = "deflate"
) -> Path:
    """Write a `size` x `size` copy of `source` made of mirrored repeats of it.

    Mirroring alternate repeats keeps the seams continuous, so regions and statistics look
    like those of one large scene rather than of a grid of copies.
    """
    if out.exists():
        return out
    with rasterio.open(source) as src:
        h, w = src.height, src.width
        scene = src.read()
        profile = src.profile | {
            "width": size,
            "height": size,
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "BIGTIFF": "YES",
            "nodata": 0,
        }
        descriptions = src.descriptions
    if compress:
        profile["compress"] = compress
    else:
        profile.pop("compress", None)
    tmp = out.with_suffix(".partial.tif")
    step = 512
    with rasterio.open(tmp, "w", **profile) as dst:
        for i, name in enumerate(descriptions, start=1):
            dst.set_band_description(i, name)
        for row in range(0, size, step):
            rows = np.arange(row, min(row + step, size))
            src_rows = _mirror(rows, h)
            strip = scene[:, src_rows, :]
            cols = np.arange(size)
            dst.write(strip[:, :, _mirror(cols, w)], window=Window(0, row, size, len(rows)))
    os.replace(tmp, out)
    return out


def _mirror(index: np.ndarray, n: int) -> np.ndarray:
    period = index % (2 * n)
    return np.where(period < n, period, 2 * n - 1 - period)
