"""SPEX's own tiling: a fixed global grid of model windows inside the raster, blended masks.

The pipeline hands the backend read windows of any size; the model always sees the same model
windows, anchored at raster pixel (0, 0) with stride ``size - overlap``, so every pixel gets the
same answer whatever the pipeline's tile size. The last window of a row or column is shifted
back so that it ends at the raster's edge: the model never sees padding. Along an axis shorter
than ``size`` the one window is the whole axis, and it is resized to the model size as the
reference resizes any input. Where windows overlap, their soft masks (the reference's per-window
result, `postprocess.soft_mask`) are averaged with weights that fall off linearly over the
overlap towards each window's edges (a separable tent, never zero), before the 0.5 threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: Smallest blending weight, so a pixel covered only near window edges still has an answer.
MIN_WEIGHT = 1e-3


@dataclass(frozen=True)
class ModelGrid:
    """Model windows of ``size`` px at multiples of ``stride`` from raster pixel (0, 0), the
    last one per axis shifted to end at the raster's edge."""

    width: int
    height: int
    size: int = 512
    overlap: int = 64

    def __post_init__(self) -> None:
        if not 0 <= self.overlap < self.size:
            raise ValueError(f"overlap {self.overlap} must be in [0, {self.size})")

    @property
    def stride(self) -> int:
        """Distance between window origins (the last one's may be shorter)."""
        return self.size - self.overlap

    def _count(self, extent: int) -> int:
        return max(1, math.ceil(max(0, extent - self.size) / self.stride) + 1)

    @property
    def n_cols(self) -> int:
        """Windows per row."""
        return self._count(self.width)

    @property
    def n_rows(self) -> int:
        """Window rows."""
        return self._count(self.height)

    def __len__(self) -> int:
        return self.n_rows * self.n_cols

    def _start(self, index: int, extent: int) -> int:
        return max(0, min(index * self.stride, extent - self.size))

    def origin(self, row: int, col: int) -> tuple[int, int]:
        """(col_off, row_off) of window (row, col) in raster pixels."""
        return self._start(col, self.width), self._start(row, self.height)

    def shape(self) -> tuple[int, int]:
        """(height, width) of every window: ``size``, or the raster's extent where smaller."""
        return min(self.size, self.height), min(self.size, self.width)

    def intersecting(self, col0: int, row0: int, col1: int, row1: int) -> Iterator[tuple[int, int]]:
        """(row, col) of the windows that touch raster pixels [col0, col1) x [row0, row1)."""
        for r in self._range(row0, row1, self.n_rows, self.height):
            for c in self._range(col0, col1, self.n_cols, self.width):
                yield r, c

    def _range(self, start: int, stop: int, count: int, extent: int) -> list[int]:
        span = min(self.size, extent)
        found = []
        for i in range(max(0, (start - self.size) // self.stride), count):
            origin = self._start(i, extent)  # non-decreasing in i
            if origin >= stop:
                break
            if origin + span > start:
                found.append(i)
        return found


def blend_weights(size: int, overlap: int, width: int | None = None) -> np.ndarray:
    """(size, width or size) float32 weights: 1 inside, a linear ramp over `overlap` at the
    edges."""

    def profile(n: int) -> np.ndarray:
        x = np.arange(n, dtype=np.float32) + 0.5
        return np.clip(np.minimum(x, n - x) / max(1, overlap), MIN_WEIGHT, 1.0)

    return np.outer(profile(size), profile(width or size)).astype(np.float32)


class MaskBlender:
    """Weighted sums of per-target soft masks over one raster area."""

    def __init__(self, col0: int, row0: int, width: int, height: int, targets: int) -> None:
        self.col0, self.row0 = col0, row0
        self.total = np.zeros((targets, height, width), dtype=np.float32)
        self.weight = np.zeros((height, width), dtype=np.float32)

    def add(self, col_off: int, row_off: int, masks: np.ndarray, weights: np.ndarray) -> None:
        """Add one window's (targets, h, w) masks placed at (col_off, row_off)."""
        size_h, size_w = weights.shape
        _, h, w = self.total.shape
        c0, r0 = max(col_off, self.col0), max(row_off, self.row0)
        c1 = min(col_off + size_w, self.col0 + w)
        r1 = min(row_off + size_h, self.row0 + h)
        if c0 >= c1 or r0 >= r1:
            return
        src = (slice(r0 - row_off, r1 - row_off), slice(c0 - col_off, c1 - col_off))
        dst = (slice(r0 - self.row0, r1 - self.row0), slice(c0 - self.col0, c1 - self.col0))
        self.total[(slice(None), *dst)] += masks[(slice(None), *src)] * weights[src]
        self.weight[dst] += weights[src]

    def result(self, empty: float) -> np.ndarray:
        """Blended masks; `empty` where no window contributed."""
        covered = self.weight > 0
        out = np.full(self.total.shape, empty, dtype=np.float32)
        np.divide(self.total, self.weight, out=out, where=covered[None])
        return out
