"""Per-window pre- and post-processing as the reference does it, in numpy (no torch).

The published inference resizes its input image to the model size (PIL bilinear) and turns the
decoder's 128 x 128 logits into a mask by thresholding them at 0 first, upsampling the 0/1 map
bilinearly (``align_corners=False``) to the model size and then, bilinearly again, to the
input's size; the soft result in [0, 1] is returned as is. `soft_mask` is that function; the
backend blends these soft maps across overlapping windows (`tiling.MaskBlender`) and
thresholds the blend at 0.5.

Both the torch and the onnxruntime backends use these functions, so they post-process alike.
"""

from __future__ import annotations

import numpy as np

#: A pixel belongs to a target where the blended soft mask is above this (the reference's
#: soft map is written as ``mask * 255``; its midpoint is the natural cut).
SOFT_THRESHOLD = 0.5


def _axis(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of F.interpolate's bilinear rule (half-pixel centres)."""
    src = (np.arange(n_out, dtype=np.float32) + 0.5) * np.float32(n_in / n_out) - 0.5
    src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, (src - i0).astype(np.float32)


def resize_bilinear(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """(K, h, w) float -> (K, height, width) float32, as ``F.interpolate(mode="bilinear",
    align_corners=False)`` (no antialiasing)."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.shape[1:] == (height, width):
        return maps.copy()
    y0, y1, fy = _axis(maps.shape[1], height)
    x0, x1, fx = _axis(maps.shape[2], width)
    rows = maps[:, y0] * (1 - fy)[None, :, None] + maps[:, y1] * fy[None, :, None]
    return (rows[:, :, x0] * (1 - fx) + rows[:, :, x1] * fx).astype(np.float32)


def resize_rgb(rgb: np.ndarray, size: int) -> np.ndarray:
    """uint8 (h, w, 3) -> (size, size, 3), bilinear: the reference's resize of a smaller image.

    The reference uses PIL, whose bilinear upsampling is this same half-pixel rule; PIL's
    8-bit fixed-point arithmetic may round a value 1 DN differently.
    """
    if rgb.shape[:2] == (size, size):
        return rgb
    planes = resize_bilinear(rgb.transpose(2, 0, 1).astype(np.float32), size, size)
    return np.clip(np.rint(planes), 0, 255).astype(np.uint8).transpose(1, 2, 0).copy()


def soft_mask(logits: np.ndarray, size: int, height: int, width: int) -> np.ndarray:
    """Decoder logits (K, h, w) -> the reference's soft masks (K, height, width) in [0, 1].

    Threshold at 0, upsample the 0/1 map to the model size, then to the window's own size
    (an identity for a full window).
    """
    binary = (np.asarray(logits) > 0).astype(np.float32)
    soft = resize_bilinear(binary, size, size)
    return resize_bilinear(soft, height, width)
