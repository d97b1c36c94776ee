"""Tile reads assembled from cells that are decoded once.

A tile's read window is its core grown by the halo, so it reaches into its neighbours' blocks.
Read straight from a compressed GeoTIFF, every block it touches is decoded again, up to nine
per tile, and GDAL's block cache cannot hold the three rows of blocks that row-major order
would need (a pixel-interleaved 13-band row of 512 px blocks is 80 MB at 6144 px wide). Here
the raster is cut into cells on its block grid, each at least a tile in size; a cell is read
once, in raw values of the bands asked for, kept until every tile that needs it has been
assembled, and then dropped; once only the next row's tiles still need it, only the rows they
read (the halo strip) are kept. The bytes are those of a direct read of the window.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence

import numpy as np
from rasterio.windows import Window

from .raster_source import RasterSource
from .windows import Tile, TileGrid

#: Most memory the cells may hold (MB): at most two rows of cells are alive at a time. A raster
#: too wide for it is read window by window, as before (slower, never more memory).
CELL_BUDGET_MB = 256


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


class CellReader:
    """Reads the tiles of `grid` (their `read` windows) with every input block decoded once."""

    def __init__(
        self, source: RasterSource, grid: TileGrid, roles: Sequence[str] | None = None
    ) -> None:
        self.source = source
        self.roles = source.roles if roles is None else tuple(r for r in source.roles if r in roles)
        block_h, block_w = source.dataset.block_shapes[0]
        self.cell_h = _round_up(max(grid.tile_size, 1), max(block_h, 1))
        self.cell_w = _round_up(max(grid.tile_size, 1), max(block_w, 1))
        first, last = grid.tile(0, 0).read, grid.tile(0, grid.n_cols - 1).read
        width = int(last.col_off + last.width) - int(first.col_off) + 2 * self.cell_w
        itemsize = np.dtype(source.dataset.dtypes[0]).itemsize
        row_bytes = width * self.cell_h * len(self.roles) * itemsize
        #: False when two rows of cells would not fit in CELL_BUDGET_MB: direct window reads.
        self.enabled = 2 * row_bytes <= CELL_BUDGET_MB * 2**20
        # The first row each remaining user of a cell reads: a cell whose remaining users all
        # start below its top keeps only the rows they read (the halo strip of the next row).
        self._tops: dict[tuple[int, int], list[int]] = defaultdict(list)
        for tile in grid if self.enabled else ():
            for cell in self._cells_of(tile.read):
                self._tops[cell].append(int(tile.read.row_off))
        self._cells: dict[tuple[int, int], tuple[int, np.ndarray]] = {}
        self._cell_locks: dict[tuple[int, int], threading.Lock] = {}
        self._lock = threading.Lock()

    def _cells_of(self, window: Window) -> Iterator[tuple[int, int]]:
        r0, c0 = int(window.row_off), int(window.col_off)
        r1, c1 = r0 + int(window.height), c0 + int(window.width)
        for i in range(r0 // self.cell_h, (r1 - 1) // self.cell_h + 1):
            for j in range(c0 // self.cell_w, (c1 - 1) // self.cell_w + 1):
                yield i, j

    def _cell_window(self, cell: tuple[int, int]) -> Window:
        i, j = cell
        r0, c0 = i * self.cell_h, j * self.cell_w
        height = min(self.cell_h, self.source.height - r0)
        width = min(self.cell_w, self.source.width - c0)
        return Window(c0, r0, width, height)

    def _fetch(self, cell: tuple[int, int]) -> tuple[int, np.ndarray]:
        """The cell's first row held and its raw values from there down."""
        # A lock per cell: two threads asking for the same cell must not decode it twice, but
        # a thread whose cells are ready must not wait for another one's decoding.
        with self._lock:
            raw = self._cells.get(cell)
            if raw is not None:
                return raw
            cell_lock = self._cell_locks.setdefault(cell, threading.Lock())
        with cell_lock:
            with self._lock:
                raw = self._cells.get(cell)
            if raw is None:
                window = self._cell_window(cell)
                raw = (int(window.row_off), self.source.read_raw(window, self.roles))
                with self._lock:
                    self._cells[cell] = raw
            return raw

    def _release(self, cells: Sequence[tuple[int, int]], top: int) -> None:
        with self._lock:
            for cell in cells:
                tops = self._tops[cell]
                tops.remove(top)
                if not tops:
                    self._cells.pop(cell, None)
                    self._cell_locks.pop(cell, None)
                    del self._tops[cell]
                    continue
                held = self._cells.get(cell)
                first = min(tops)
                if held is not None and first > held[0]:
                    # A copy, so the rows above are freed; a reader holding the old array
                    # keeps its own reference.
                    self._cells[cell] = (first, held[1][:, first - held[0] :].copy())

    def read(self, tile: Tile) -> dict[str, np.ndarray]:
        """The tile's `read` window as float32 reflectance per band role (NaN = nodata)."""
        window = tile.read
        if not self.enabled:
            return self.source.scale_raw(self.source.read_raw(window, self.roles), self.roles)
        cells = list(self._cells_of(window))
        r0, c0 = int(window.row_off), int(window.col_off)
        h, w = int(window.height), int(window.width)
        out: np.ndarray | None = None
        try:
            for cell in cells:
                cr0, raw = self._fetch(cell)
                if out is None:
                    out = np.empty((raw.shape[0], h, w), dtype=raw.dtype)
                cw = self._cell_window(cell)
                cc0 = int(cw.col_off)
                top, left = max(r0, cr0), max(c0, cc0)
                bottom = min(r0 + h, int(cw.row_off + cw.height))
                right = min(c0 + w, cc0 + int(cw.width))
                out[:, top - r0 : bottom - r0, left - c0 : right - c0] = raw[
                    :, top - cr0 : bottom - cr0, left - cc0 : right - cc0
                ]
        finally:
            self._release(cells, r0)
        assert out is not None
        return self.source.scale_raw(out, self.roles)

    @property
    def cells_held(self) -> int:
        """Cells decoded and still needed (for tests and the profile)."""
        return len(self._cells)

    @property
    def bytes_held(self) -> int:
        """Bytes of decoded cells held now."""
        with self._lock:
            return sum(raw.nbytes for _, raw in self._cells.values())
