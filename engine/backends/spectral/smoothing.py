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


def box_sum(values: np.ndarray, radius: int) -> np.ndarray:
    """Sum of (..., H, W) float32 ``values`` over each pixel's (2r + 1)^2 box, edges 'nearest'.

    Separable, in a fixed order (the 2r + 1 column offsets of each row, then the row offsets),
    so each output is the same sum of the same inputs wherever the pixel lies.
    """
    h, w = values.shape[-2:]
    r = radius
    padded = np.empty(values.shape[:-2] + (h + 2 * r, w + 2 * r), dtype=values.dtype)
    padded[..., r : r + h, r : r + w] = values
    padded[..., r : r + h, :r] = values[..., :, :1]
    padded[..., r : r + h, r + w :] = values[..., :, -1:]
    padded[..., :r, :] = padded[..., r : r + 1, :]
    padded[..., r + h :, :] = padded[..., r + h - 1 : r + h, :]
    rows = padded[..., :, 0:w].copy()
    for dx in range(1, 2 * r + 1):
        rows += padded[..., :, dx : dx + w]
    out = rows[..., 0:h, :].copy()
    for dy in range(1, 2 * r + 1):
        out += rows[..., dy : dy + h, :]
    return out


#: Rows smoothed at once: a strip's temporaries stay in the CPU cache (a whole 514 px tile's
#: do not; 64-row strips took 14-18 ns per pixel against 38-52 for the whole tile, 5 classes).
STRIP_ROWS = 64


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
    height = probs.shape[1]
    if height <= STRIP_ROWS:
        return _smooth_strip(probs, radius, keep)
    # Strips with `radius` rows of halo (or the array's own edge): the same bytes as the
    # whole array, which is what makes the result tile-exact in the first place.
    out = np.empty_like(probs)
    for r0 in range(0, height, STRIP_ROWS):
        r1 = min(height, r0 + STRIP_ROWS)
        a0, a1 = max(0, r0 - radius), min(height, r1 + radius)
        out[:, r0:r1] = _smooth_strip(probs[:, a0:a1], radius, keep)[:, r0 - a0 : r1 - a0]
    return out


def _smooth_strip(probs: np.ndarray, radius: int, keep: float) -> np.ndarray:
    """`smooth_probabilities` of (K, H, W) float32 `probs` in one piece."""
    top = probs.max(axis=0)  # NaN wherever any class is NaN
    invalid = np.isnan(top)
    if invalid.any():
        values = np.where(invalid, np.float32(0), probs)
        out = box_sum(values, radius)
        # A valid pixel always counts itself, so the weight is >= 1 there.
        weight = box_sum((~invalid).astype(np.float32), radius)
        np.divide(out, weight, out=out, where=~invalid)
        out[:, invalid] = np.nan
    else:
        # The same bytes as the branch above where no neighbour is invalid: a full box weighs
        # (2r + 1)^2 there too, and it is a division in both.
        out = box_sum(probs, radius)
        np.divide(out, np.float32((2 * radius + 1) ** 2), out=out)
    np.copyto(out, probs, where=top >= keep)  # NaN >= keep is False
    return out
