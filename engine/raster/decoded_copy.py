"""A decoded copy of a compressed input, kept on disk while one run needs it.

The global sample has to decode every block of a compressed raster (every block holds sample
rows), and the classify pass used to decode them all again. The sample read now also stores
each chunk it decodes, raw values as they are, one ``.npy`` file per chunk on the sample's
chunk grid (itself on the raster's block grid); the tiles are then cut from those files, a
memory copy instead of a second inflate. The bytes are the raster's own, so no output changes.

Plain numpy files, not a GeoTIFF: worker threads write and read them without GDAL, so without
its lock and its shared block cache. The copy is made only where it pays: a compressed input,
and a copy small enough for the page cache to hold (a share of the physical memory; larger, it
goes to the disk as it is written) and for the disk (a share of its free space). It lives in the
run's work folder and goes with it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

#: Largest share of the free disk space a decoded copy may take.
MAX_DISK_SHARE = 0.25
#: Largest share of the physical memory: a copy the page cache holds is a memory copy; a larger
#: one is written back to the disk while it is made, and costs more than decoding again
#: (measured: 2.1 GB for a 151 Mpx raster, +1.6-2.3 s on a 1.6 s decode).
MAX_MEMORY_SHARE = 0.05
#: The memory assumed where the platform does not say (the cap is then 1 GiB).
UNKNOWN_MEMORY = 20 * 2**30


def copy_size_bytes(dataset: rasterio.DatasetReader, n_bands: int) -> int:
    """Bytes of a decoded copy of `n_bands` bands of `dataset`."""
    return dataset.width * dataset.height * n_bands * np.dtype(dataset.dtypes[0]).itemsize


def physical_memory_bytes() -> int:
    """This machine's physical memory (`UNKNOWN_MEMORY` where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # not POSIX
        return UNKNOWN_MEMORY


def worth_copying(dataset: rasterio.DatasetReader, n_bands: int, folder: Path) -> bool:
    """Whether a decoded copy pays and fits: a compressed file, the copy within
    `MAX_MEMORY_SHARE` of the memory and `MAX_DISK_SHARE` of the free space under `folder`."""
    if dataset.compression is None or not Path(dataset.name).is_file():
        return False  # reading an uncompressed file is already a memory copy
    existing = Path(folder)
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    size = copy_size_bytes(dataset, n_bands)
    return size <= MAX_DISK_SHARE * free and size <= MAX_MEMORY_SHARE * physical_memory_bytes()


class DecodedCopy:
    """Chunks of raw values (bands, rows, cols) on a fixed grid, written once, read by window.

    `bands` are the raster's 1-based band indexes the copy holds, in that order. Chunks are
    written by any thread (each to its own file) and must all be written before the first read.
    """

    def __init__(
        self, folder: Path, bands: tuple[int, ...], chunk: tuple[int, int], shape: tuple[int, int]
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.bands = bands
        self.chunk_h, self.chunk_w = chunk
        self.height, self.width = shape
        #: Set when a chunk could not be written (disk full): reads then go to the raster.
        self.failed = False

    def _path(self, i: int, j: int) -> Path:
        return self.folder / f"{i}_{j}.npy"

    def chunk_window(self, i: int, j: int) -> Window:
        """The raster window of chunk (i, j)."""
        r0, c0 = i * self.chunk_h, j * self.chunk_w
        return Window(
            c0, r0, min(self.chunk_w, self.width - c0), min(self.chunk_h, self.height - r0)
        )

    def write(self, row_off: int, col_off: int, raw: np.ndarray) -> None:
        """Store the chunk that starts at (`row_off`, `col_off`): all of `bands`, whole."""
        i, j = row_off // self.chunk_h, col_off // self.chunk_w
        expected = self.chunk_window(i, j)
        if (row_off, col_off) != (expected.row_off, expected.col_off) or raw.shape != (
            len(self.bands),
            expected.height,
            expected.width,
        ):
            raise ValueError(f"chunk at ({row_off}, {col_off}) is not one of the copy's chunks")
        if self.failed:
            return
        try:
            np.save(self._path(i, j), raw, allow_pickle=False)
        except OSError:
            self.failed = True  # a full disk costs the speed-up, never the run

    def serves(self, bands: list[int], window: Window) -> bool:
        """Whether the copy can give `bands` at `window`: complete, the bands held, the window
        inside the raster."""
        return (
            not self.failed
            and all(b in self.bands for b in bands)
            and window.row_off >= 0
            and window.col_off >= 0
            and window.row_off + window.height <= self.height
            and window.col_off + window.width <= self.width
        )

    def read(self, bands: list[int], window: Window) -> np.ndarray:
        """Raw values of `bands` at `window` (inside the raster), as the raster would give them."""
        r0, c0 = int(window.row_off), int(window.col_off)
        h, w = int(window.height), int(window.width)
        picks = [self.bands.index(b) for b in bands]
        out: np.ndarray | None = None
        for i in range(r0 // self.chunk_h, (r0 + h - 1) // self.chunk_h + 1):
            for j in range(c0 // self.chunk_w, (c0 + w - 1) // self.chunk_w + 1):
                cw = self.chunk_window(i, j)
                cr0, cc0 = int(cw.row_off), int(cw.col_off)
                top, left = max(r0, cr0), max(c0, cc0)
                bottom = min(r0 + h, cr0 + int(cw.height))
                right = min(c0 + w, cc0 + int(cw.width))
                # Read whole, not memory-mapped: no mapping outlives the read (Windows cannot
                # delete a mapped file), and the tiles' cells are whole chunks anyway.
                held = np.load(self._path(i, j), allow_pickle=False)
                if out is None:
                    out = np.empty((len(bands), h, w), dtype=held.dtype)
                out[:, top - r0 : bottom - r0, left - c0 : right - c0] = held[
                    picks, top - cr0 : bottom - cr0, left - cc0 : right - cc0
                ]
        assert out is not None
        return out
