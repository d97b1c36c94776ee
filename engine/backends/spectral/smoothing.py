"""Tile-exact spatial clean-up of class probabilities.

A (2r + 1)^2 box mean over valid neighbours, written as shifted-slice sums in a fixed order so that
every output value is the same sum of the same inputs in the same order wherever the pixel lies in
the array. With edges handled like ``mode='nearest'``, a window cut from a larger array with a halo
of at least ``HALO`` pixels (or ending at the array's own edge) gives the same core bytes as the
whole array. Running-sum filters (scipy.ndimage.uniform_filter) round differently with position,
so they would make results depend on the tiling.

A pixel whose own most probable class has probability >= ``KEEP`` keeps its own probabilities:
a pond of one to four pixels that is confidently water would otherwise be averaged away by its
eight land neighbours. The rule is per pixel (elementwise), so it keeps the tiling exactness.
"""

from __future__ import annotations

import numpy as np

#: Halo (pixels) the tiled pipeline must read around each window for ``smooth_probabilities``
#: with its default radius to be tile-exact.
HALO = 1

#: Own-probability level above which a pixel is not smoothed (keeps confident small objects).
KEEP = 0.99


def smooth_probabilities(probs: np.ndarray, radius: int = 1, keep: float = KEEP) -> np.ndarray:
    """Box-average (K, H, W) class probabilities over valid neighbours within ``radius``.

    NaN marks nodata (any class NaN makes the pixel invalid): invalid neighbours get weight 0,
    so they never poison valid pixels, and invalid pixels stay NaN. Edges repeat the border
    pixel (``mode='nearest'``). Pixels whose own top probability is >= ``keep`` are left as
    they are (``keep`` > 1 smooths every pixel). Returns float32 (K, H, W); ``radius`` 0
    returns a copy.
    """
    probs = np.asarray(probs, dtype=np.float32)
    if probs.ndim != 3:
        raise ValueError(f"probs must be (K, H, W), got shape {probs.shape}")
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    if radius == 0 or probs.size == 0:
        return probs.copy()
    _, h, w = probs.shape
    valid = ~np.isnan(probs).any(axis=0)
    values = np.where(valid[None], probs, np.float32(0)).astype(np.float64)
    weight = valid.astype(np.float64)
    pad = ((0, 0), (radius, radius), (radius, radius))
    values = np.pad(values, pad, mode="edge")
    weight = np.pad(weight, pad[1:], mode="edge")
    acc = np.zeros((probs.shape[0], h, w), dtype=np.float64)
    wsum = np.zeros((h, w), dtype=np.float64)
    # Fixed summation order: row offset outer, column offset inner, for every pixel alike.
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            acc += values[:, dy : dy + h, dx : dx + w]
            wsum += weight[dy : dy + h, dx : dx + w]
    out = np.full(probs.shape, np.nan, dtype=np.float32)
    # A valid pixel always counts itself, so wsum >= 1 there.
    np.divide(acc, wsum[None], out=out, where=valid[None], casting="unsafe")
    confident = valid & (np.where(valid[None], probs, np.float32(0)).max(axis=0) >= keep)
    out[:, confident] = probs[:, confident]
    return out
