"""The tile grid: windows with a halo, as first-class values.

Every neighbourhood operation in the engine reads a tile's `read` window (the core grown by
the halo, clipped to the raster) and keeps only the `core` part of its result, so a pixel's
answer does not depend on where the tile borders fall.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rasterio.windows import Window


@dataclass(frozen=True)
class Tile:
    """One tile of the grid: the pixels it owns (`core`) and the pixels it reads (`read`)."""

    row: int
    col: int
    core: Window
    read: Window

    @property
    def core_slices(self) -> tuple[slice, slice]:
        """Row and column slices that cut the core out of an array read with `read`."""
        r0 = int(self.core.row_off - self.read.row_off)
        c0 = int(self.core.col_off - self.read.col_off)
        return slice(r0, r0 + int(self.core.height)), slice(c0, c0 + int(self.core.width))


@dataclass(frozen=True)
class TileGrid:
    """A row-major grid of square tiles over `area` (a window of the raster)."""

    raster_width: int
    raster_height: int
    area: Window
    tile_size: int
    halo: int

    @property
    def n_rows(self) -> int:
        """Number of tile rows."""
        return -(-int(self.area.height) // self.tile_size)

    @property
    def n_cols(self) -> int:
        """Number of tile columns."""
        return -(-int(self.area.width) // self.tile_size)

    def __len__(self) -> int:
        return self.n_rows * self.n_cols

    def __iter__(self) -> Iterator[Tile]:
        for r in range(self.n_rows):
            for c in range(self.n_cols):
                yield self.tile(r, c)

    def tile(self, r: int, c: int) -> Tile:
        """The tile at grid position (r, c)."""
        x0 = int(self.area.col_off) + c * self.tile_size
        y0 = int(self.area.row_off) + r * self.tile_size
        x1 = min(x0 + self.tile_size, int(self.area.col_off + self.area.width))
        y1 = min(y0 + self.tile_size, int(self.area.row_off + self.area.height))
        core = Window(x0, y0, x1 - x0, y1 - y0)
        rx0, ry0 = max(0, x0 - self.halo), max(0, y0 - self.halo)
        rx1 = min(self.raster_width, x1 + self.halo)
        ry1 = min(self.raster_height, y1 + self.halo)
        return Tile(r, c, core, Window(rx0, ry0, rx1 - rx0, ry1 - ry0))


def make_grid(
    width: int, height: int, tile_size: int, halo: int, area: Window | None = None
) -> TileGrid:
    """Build the tile grid over `area` (default: the whole raster of `width` x `height`)."""
    if tile_size < 16:
        raise ValueError("tile size must be at least 16 pixels")
    full = Window(0, 0, width, height)
    area = full if area is None else area.intersection(full)
    return TileGrid(width, height, area, tile_size, max(0, halo))
