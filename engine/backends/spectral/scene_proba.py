"""Prediction with a fitted scene model: class probabilities per pixel, and the most probable.

Purely per-pixel and elementwise-deterministic: a pixel gets the same bytes whatever tile or
array it is in (no reduction or BLAS call over pixels, whose order can change with length).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ...errors import BandError
from .scene_model import FLOOR, SceneModel


@dataclass(frozen=True, eq=False)
class _Terms:
    """A fitted model's constants for prediction, in float32 (computed once per model)."""

    offsets: tuple[np.float32, ...]
    means: np.ndarray  # (C, d, 1)
    whiten: np.ndarray  # (C, d, d, 1), scaled by sqrt(0.5): q / 2 comes out directly
    log_consts: np.ndarray  # (C, 1)
    merge: bool  # several components per class: probabilities are summed per class


def _terms(model: SceneModel) -> _Terms:
    cached = model.__dict__.get("_terms")
    if cached is None:
        merge = tuple(model.component_class) != tuple(range(len(model.classes)))
        cached = _Terms(
            offsets=tuple(np.float32(model.offsets[r]) for r in model.roles),
            means=model.means.astype(np.float32)[:, :, None],
            whiten=(model.whiten * np.sqrt(0.5)).astype(np.float32)[..., None],
            log_consts=model.log_consts.astype(np.float32)[:, None],
            merge=merge,
        )
        model.__dict__["_terms"] = cached  # frozen dataclass: an idempotent cache, not state
    return cached


#: Pixels per block of the prediction: the (C, block) temporaries stay in the CPU cache.
BLOCK = 16384


def _class_proba_block(t: _Terms, x: np.ndarray, out: np.ndarray) -> None:
    """Component posteriors of features x (d, n) float32 into out (C, n), fixed-order sums.

    Every sum over components or features is an explicit loop of elementwise ufuncs (never a
    reduction or BLAS call, whose order can change with the array's length), so each pixel's
    bytes depend on its own values only. NaN features give NaN in every component.
    """
    c_count, d = t.means.shape[:2]
    cen = x[None] - t.means  # (C, d, n)
    y = np.empty_like(out)
    tmp = np.empty_like(out)
    out.fill(0.0)  # out accumulates q / 2
    for i in range(d):
        np.multiply(t.whiten[:, i, 0], cen[:, 0], out=y)
        for j in range(1, i + 1):
            np.multiply(t.whiten[:, i, j], cen[:, j], out=tmp)
            y += tmp
        np.multiply(y, y, out=tmp)
        out += tmp
    np.subtract(t.log_consts, out, out=out)  # log-density per component
    top = out.max(axis=0)  # max is exact in any order
    out -= top
    np.exp(out, out=out)
    total = out[0].copy()
    for k in range(1, c_count):
        total += out[k]
    out /= total


def predict_proba(model: SceneModel, bands: Mapping[str, np.ndarray]) -> np.ndarray:
    """Class probabilities (K, H, W) float32 over ``model.classes``; NaN where a band is NaN.

    Purely per-pixel and elementwise-deterministic: the same pixel values give the same bytes
    whatever the array's shape or the pixel's position. Computed in float32, in blocks of
    ``BLOCK`` pixels.
    """
    missing = [r for r in model.roles if r not in bands]
    if missing:
        raise BandError(
            f"the scene model needs bands {', '.join(missing)}, missing from this window; "
            "use the same band roles as for fitting"
        )
    t = _terms(model)
    shape = np.shape(bands[model.roles[0]])
    flat = [np.asarray(bands[role], dtype=np.float32).reshape(-1) for role in model.roles]
    n = flat[0].size
    # The features are made block by block too: a block's stay in the CPU cache, and a tile's
    # (28 bytes per pixel for seven bands) are never held at once.
    x = np.empty((len(model.roles), min(n, BLOCK)), dtype=np.float32)
    floor = np.float32(FLOOR)
    comp = np.empty((len(model.component_class), n), dtype=np.float32)
    for a in range(0, n, BLOCK):
        xb = x[:, : min(BLOCK, n - a)]
        for j, band in enumerate(flat):
            np.subtract(band[a : a + BLOCK], t.offsets[j], out=xb[j])
            np.maximum(xb[j], floor, out=xb[j])  # NaN stays NaN
            np.log(xb[j], out=xb[j])
        _class_proba_block(t, xb, comp[:, a : a + BLOCK])
    if t.merge:
        out = np.zeros((len(model.classes), n), dtype=np.float32)
        for k, cls in enumerate(model.component_class):  # fixed order: deterministic sums
            out[cls] += comp[k]
        comp = out
    return comp.reshape((len(model.classes), *shape))


def top_class(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index (uint8) and probability (float32) of the most probable class of (K, ...) probs.

    Ties go to the first class (like ``argmax``); both are garbage where probs are NaN, and the
    probability is NaN there.
    """
    best = np.zeros(probs.shape[1:], dtype=np.uint8)
    top = np.array(probs[0], dtype=np.float32, copy=True)
    above = np.empty(probs.shape[1:], dtype=bool)
    for k in range(1, probs.shape[0]):
        np.greater(probs[k], top, out=above)
        np.copyto(best, np.uint8(k), where=above)
        np.maximum(top, probs[k], out=top)
    return best, top


def class_map(model: SceneModel, probs: np.ndarray, nodata: int = 255) -> np.ndarray:
    """Index into ``model.classes`` of the most probable class (uint8), ``nodata`` where NaN."""
    out, top = top_class(probs)
    out[np.isnan(top)] = nodata
    return out
