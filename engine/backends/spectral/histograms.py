"""Histogram tools for per-scene thresholds: Otsu, mode separation, bimodality, robust scores."""

from __future__ import annotations

import numpy as np


def histogram_range(values: np.ndarray) -> tuple[float, float]:
    """The 0.5-99.5 percentile range of the finite, non-empty `values` that Otsu's histogram
    spans: a few extreme pixels (glint, a clipped roof) do not stretch it."""
    lo, hi = np.percentile(values, [0.5, 99.5])
    return float(lo), float(hi)


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of finite ``values`` (histogram over their `histogram_range`)."""
    v = values[np.isfinite(values)]
    if v.size < 2:
        return float("nan")
    lo, hi = histogram_range(v)
    if not hi > lo:
        return float(lo)
    hist, edges = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
    centres = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(hist).astype(np.float64)
    w1 = w0[-1] - w0
    s0 = np.cumsum(hist * centres)
    m0 = s0 / np.maximum(w0, 1)
    m1 = (s0[-1] - s0) / np.maximum(w1, 1)
    between = (w0 * w1 * (m0 - m1) ** 2)[:-1]
    # Well-separated modes give a plateau of equal maxima (every empty bin between them):
    # take its middle, not its first bin at the foot of the lower mode.
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    return float(edges[1 + int(best[len(best) // 2])])


def mode_gap(values: np.ndarray, t: float) -> float:
    """Distance between the medians of the two sides of threshold ``t`` (0 if one is empty).

    Compares a candidate mode with the rest of the scene, not with the scene's median, which
    a class covering half the scene (a coastal or flooded scene's water) drags towards itself.
    """
    above, below = values[values > t], values[values <= t]
    if above.size == 0 or below.size == 0:
        return 0.0
    return float(np.median(above) - np.median(below))


def bimodality(values: np.ndarray) -> tuple[float, float]:
    """Otsu threshold of ``values`` and Ashman's D of the two sides (separation in pooled sd).

    D > 2 is the usual mark of two distinct modes; a unimodal histogram cut in two gives
    about 1.6-1.9 for any threshold.
    """
    t = otsu_threshold(values)
    a, b = values[values > t], values[values <= t]
    if a.size < 2 or b.size < 2:
        return t, 0.0
    d = np.sqrt(2) * abs(a.mean() - b.mean()) / np.sqrt(a.var() + b.var() + 1e-12)
    return t, float(d)


def clamp(value: float, lo: float, hi: float) -> float:
    return float(min(max(value, lo), hi)) if np.isfinite(value) else float(lo)


def rel(v: np.ndarray, q: float) -> float:
    return float(np.percentile(v, q))


def saturated(v: np.ndarray) -> np.ndarray:
    """Where ``v`` sits on its saturation plateau, else all False.

    A plateau is the maximum (within 0.1 %) held by at least 0.1 % of the pixels and by more
    pixels than the 2 % of the value range just below it: clipping piles pixels up at the top,
    where an unclipped tail thins out. A clipped value (8-bit DN at 255, a saturated blue band)
    is at least as bright as any brightness threshold above it, whatever the scene's median.
    """
    none = np.zeros(v.shape, dtype=bool)
    if v.size == 0:
        return none
    top, low = float(np.max(v)), float(np.min(v))
    if top <= 0.0:
        return none  # a band at or below zero (zero-filled, dead) holds no brightness to clip
    edge = top - 1e-3 * abs(top)
    at_top = v >= edge
    just_below = (v < edge) & (v >= top - 0.02 * (top - low))
    if at_top.mean() >= 0.001 and at_top.sum() > just_below.sum():
        return at_top
    return none


def robust_z(v: np.ndarray) -> np.ndarray:
    """(v - median) / (1.4826 MAD), with the MAD floored so a flat scene is not all outliers."""
    med = np.median(v)
    mad = max(1.4826 * float(np.median(np.abs(v - med))), 0.02)
    return (v - med) / mad
