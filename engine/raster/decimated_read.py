"""The global sample's read: every `step`-th pixel of every `step`-th row of a whole raster.

The sample grid depends on the raster alone (its size and `max_pixels`), never on how it is
read. Compressed rasters are read in chunks of whole blocks, each block decoded once, on several
threads; uncompressed GeoTIFFs are read by GDAL's nearest-neighbour decimation with direct I/O,
which fetches the sampled pixels only (the 936 MB benchmark raster, in the page cache:
0.47-0.89 s -> 0.19 s; docs/benchmarks.md, "Stop 31").
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window

from .decoded_copy import DecodedCopy
from .mask_band import hidden_fills, read_masked

#: Side of the windows the sample is read in (pixels, rounded to whole blocks). Small windows
#: keep GDAL's block cache out of the way: 1024 px windows of a 13-band deflate raster read
#: 5-20 % slower, 2048 px ones overflow the 64 MB cache and decode blocks twice.
SAMPLE_CHUNK = 512


def read_decimated(
    dataset: rasterio.DatasetReader,
    indexes: Sequence[int],
    max_pixels: int,
    copy: DecodedCopy | None = None,
) -> tuple[np.ndarray, float]:
    """The bands `indexes` at every `step`-th pixel of every `step`-th row, starting at
    `step // 2`, with `step` the smallest that keeps the sample within `max_pixels`; and
    `step`. With `copy`, every chunk is read whole and stored in it (compressed rasters)."""
    step = max(1, math.ceil(math.sqrt(dataset.width * dataset.height / max_pixels)))
    fills = hidden_fills(dataset, indexes)  # the bands read are data, an alpha among them too
    if copy is None and step > 1 and _direct_io_applies(dataset):
        return _read_decimated_direct(dataset, indexes, step, fills), float(step)
    return _read_decimated_chunks(dataset, indexes, step, copy, fills), float(step)


def _direct_io_applies(dataset: rasterio.DatasetReader) -> bool:
    """An uncompressed GeoTIFF file without overviews: GDAL can read single pixels of it
    without its blocks. (A decimated read would take an overview's pixels instead.)"""
    return (
        dataset.driver == "GTiff"
        and dataset.compression is None
        and Path(dataset.name).is_file()
        and not dataset.overviews(1)
    )


def _spans(size: int, step: int) -> list[tuple[slice, int, int, int]]:
    """Runs of the sample grid along an axis of `size` pixels: (positions in the sample,
    window offset, window length, count). GDAL's nearest neighbour takes source pixel
    `off + floor((i + 0.5) * length / count)`, which is `step // 2 + i * step` when the window
    starts at 0 and is `count * step` long; a last position whose window would pass the edge
    is read on its own."""
    count = len(range(step // 2, size, step))
    full = count if count * step <= size else count - 1
    spans = [(slice(0, full), 0, full * step, full)] if full else []
    if full < count:
        spans.append((slice(full, count), step // 2 + full * step, 1, 1))
    return spans


def _read_decimated_direct(
    dataset: rasterio.DatasetReader,
    indexes: Sequence[int],
    step: int,
    fills: Sequence[float] | None,
) -> np.ndarray:
    """The sample of an uncompressed GeoTIFF by GDAL's decimated read with direct I/O: the
    same pixels as the chunked read, without reading every block whole (the pixels its mask
    band hides set to `fills`: `mask_band.hidden_fills`)."""
    rows, cols = _spans(dataset.height, step), _spans(dataset.width, step)
    n_rows = sum(r[3] for r in rows)
    n_cols = sum(c[3] for c in cols)
    out = np.empty((len(indexes), n_rows, n_cols), dtype=dataset.dtypes[0])
    # Direct I/O is chosen when a handle opens: a handle of its own, closed here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # as the first open did
        with rasterio.Env(GTIFF_DIRECT_IO="YES"):
            handle = rasterio.open(dataset.name)
    with handle:
        for r_at, r0, r_len, r_count in rows:
            for c_at, c0, c_len, c_count in cols:
                window = Window(c0, r0, c_len, r_len)
                out[:, r_at, c_at] = read_masked(
                    handle, indexes, window, fills, out_shape=(len(indexes), r_count, c_count)
                )
    return out


def default_read_threads() -> int:
    """Threads for the sample read: the usable CPU cores, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def sample_chunk_shape(dataset: rasterio.DatasetReader) -> tuple[int, int]:
    """Rows and columns of the sample's chunks: about `SAMPLE_CHUNK`, whole blocks."""
    block_h, block_w = dataset.block_shapes[0]
    return (
        max(block_h, (SAMPLE_CHUNK // block_h) * block_h),
        max(block_w, (SAMPLE_CHUNK // block_w) * block_w),
    )


def _read_decimated_chunks(
    dataset: rasterio.DatasetReader,
    indexes: Sequence[int],
    step: int,
    copy: DecodedCopy | None = None,
    fills: Sequence[float] | None = None,
) -> np.ndarray:
    """Every `step`-th pixel of every `step`-th row of the whole raster, read in chunks (the
    pixels its mask band hides set to `fills`: `mask_band.hidden_fills`).

    Chunks are whole windows of about `SAMPLE_CHUNK` pixels a side, so each compressed block is
    decoded once and memory holds one chunk; the sample grid is fixed by the raster alone. With
    `copy`, every chunk is read whole and stored in it (the copy's bands of `indexes`).
    """
    phase = step // 2
    rows = np.arange(phase, dataset.height, step)
    cols = np.arange(phase, dataset.width, step)
    out = np.empty((len(indexes), len(rows), len(cols)), dtype=dataset.dtypes[0])
    # Chunks on the block grid: a compressed block straddling two chunks would be decoded twice.
    chunk_h, chunk_w = sample_chunk_shape(dataset)
    kept = None if copy is None else [list(indexes).index(b) for b in copy.bands]

    def read_rows(handle: rasterio.DatasetReader, r0: int) -> None:
        r_sel = rows[(rows >= r0) & (rows < r0 + chunk_h)]
        if len(r_sel) == 0 and copy is None:
            return
        ri = np.searchsorted(rows, r_sel[0]) if len(r_sel) else 0
        for c0 in range(0, dataset.width, chunk_w):
            c_sel = cols[(cols >= c0) & (cols < c0 + chunk_w)]
            if copy is not None:
                block = read_masked(
                    handle, indexes, copy.chunk_window(r0 // chunk_h, c0 // chunk_w), fills
                )
                copy.write(r0, c0, block if kept == list(range(len(indexes))) else block[kept])
            elif len(c_sel):
                window = Window(c0, r0, c_sel[-1] - c0 + 1, r_sel[-1] - r0 + 1)
                block = read_masked(handle, indexes, window, fills)
            if len(c_sel) == 0 or len(r_sel) == 0:
                continue
            ci = np.searchsorted(cols, c_sel[0])
            # The grid is regular: strided views of the block, not fancy-indexed copies (a
            # spectrometer's chunk of 59 bands is 31 MB, and each copy was as large).
            r_at = slice(r_sel[0] - r0, r_sel[-1] - r0 + 1, step)
            c_at = slice(c_sel[0] - c0, c_sel[-1] - c0 + 1, step)
            out[:, ri : ri + len(r_sel), ci : ci + len(c_sel)] = block[:, r_at, c_at]

    starts = list(range(0, dataset.height, chunk_h))
    workers = min(len(starts), default_read_threads())
    georeferenced = dataset.crs is not None or not dataset.transform.is_identity
    if workers < 2 or not georeferenced or not Path(dataset.name).is_file():
        for r0 in starts:
            read_rows(dataset, r0)
        return out
    # Decoding is most of the sample's cost: chunk rows are read in parallel, each thread with
    # its own handle (a GDAL dataset must not be shared by threads), into disjoint rows of out.
    local = threading.local()
    handles: list[rasterio.DatasetReader] = []

    def read_in_thread(r0: int) -> None:
        if not hasattr(local, "handle"):
            local.handle = rasterio.open(dataset.name)
            handles.append(local.handle)
        read_rows(local.handle, r0)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spex-sample") as pool:
            list(pool.map(read_in_thread, starts))
    finally:
        for handle in handles:
            handle.close()
    return out
