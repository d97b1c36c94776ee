"""SPEX's own tiling: a fixed global grid of 512 px model windows, blended logits.

The pipeline hands the backend read windows of any size; the model always sees the same model
windows, anchored at raster pixel (0, 0) with stride ``size - overlap``, so every pixel gets the
same answer whatever the pipeline's tile size. Where windows overlap, their mask logits are
averaged with weights that fall off linearly over the overlap towards each window's edges
(a separable tent, never zero), before thresholding at 0.
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
    """Model windows of ``size`` px at multiples of ``stride`` from raster pixel (0, 0)."""

    width: int
    height: int
    size: int = 512
    overlap: int = 64

    def __post_init__(self) -> None:
        if not 0 <= self.overlap < self.size:
            raise ValueError(f"overlap {self.overlap} must be in [0, {self.size})")

    @property
    def stride(self) -> int:
        """Distance between window origins."""
        return self.size - self.overlap

    def _count(self, extent: int) -> int:
        return max(1, math.ceil(max(0, extent - self.size) / self.stride) + 1)

    @property
    def n_cols(self) -> int:
        """Windows per row (the last one may reach past the raster; it is padded)."""
        return self._count(self.width)

    @property
    def n_rows(self) -> int:
        """Window rows."""
        return self._count(self.height)

    def __len__(self) -> int:
        return self.n_rows * self.n_cols

    def origin(self, row: int, col: int) -> tuple[int, int]:
        """(col_off, row_off) of window (row, col) in raster pixels."""
        return col * self.stride, row * self.stride

    def intersecting(self, col0: int, row0: int, col1: int, row1: int) -> Iterator[tuple[int, int]]:
        """(row, col) of the windows that touch raster pixels [col0, col1) x [row0, row1)."""
        for r in self._range(row0, row1, self.n_rows):
            for c in self._range(col0, col1, self.n_cols):
                yield r, c

    def _range(self, start: int, stop: int, count: int) -> range:
        first = max(0, math.floor((start - self.size) / self.stride) + 1)
        last = min(count - 1, (stop - 1) // self.stride)
        return range(first, last + 1)


def blend_weights(size: int, overlap: int) -> np.ndarray:
    """(size, size) float32 weights: 1 inside, a linear ramp over `overlap` at the edges."""
    ramp = max(1, overlap)
    x = np.arange(size, dtype=np.float32) + 0.5
    profile = np.clip(np.minimum(x, size - x) / ramp, MIN_WEIGHT, 1.0)
    return np.outer(profile, profile).astype(np.float32)


class LogitBlender:
    """Weighted sums of per-target logits over one raster area."""

    def __init__(self, col0: int, row0: int, width: int, height: int, targets: int) -> None:
        self.col0, self.row0 = col0, row0
        self.total = np.zeros((targets, height, width), dtype=np.float32)
        self.weight = np.zeros((height, width), dtype=np.float32)

    def add(self, col_off: int, row_off: int, logits: np.ndarray, weights: np.ndarray) -> None:
        """Add one window's (targets, size, size) logits placed at (col_off, row_off)."""
        size = weights.shape[0]
        _, h, w = self.total.shape
        c0, r0 = max(col_off, self.col0), max(row_off, self.row0)
        c1 = min(col_off + size, self.col0 + w)
        r1 = min(row_off + size, self.row0 + h)
        if c0 >= c1 or r0 >= r1:
            return
        src = (slice(r0 - row_off, r1 - row_off), slice(c0 - col_off, c1 - col_off))
        dst = (slice(r0 - self.row0, r1 - self.row0), slice(c0 - self.col0, c1 - self.col0))
        self.total[(slice(None), *dst)] += logits[(slice(None), *src)] * weights[src]
        self.weight[dst] += weights[src]

    def result(self, empty: float) -> np.ndarray:
        """Blended logits; `empty` where no window contributed."""
        covered = self.weight > 0
        out = np.full(self.total.shape, empty, dtype=np.float32)
        np.divide(self.total, self.weight, out=out, where=covered[None])
        return out
