"""How the quality benchmark scores: IoU on labelled pixels, and the best threshold of a score.

Labels: 1-6 the targets (``bench/scenes.LABEL_CODES``), 7 other labelled land cover; 0 is
unlabelled and 255 nodata. A target's negatives are every other labelled pixel.
"""

from __future__ import annotations

import numpy as np

#: The highest label code that is a labelled pixel.
OTHER_MAX = 7


def counts(pred: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """(true positives, false positives, false negatives) of `pred` on labelled pixels."""
    return np.array([np.sum(pred & pos), np.sum(pred & neg), np.sum(~pred & pos)], np.int64)


def iou(c: np.ndarray) -> float:
    """IoU of ``counts`` (0 when nothing is labelled or predicted)."""
    return float(c[0] / max(c.sum(), 1))


def best_threshold(v: np.ndarray, pos: np.ndarray) -> tuple[float, str, float]:
    """Best (IoU, direction, threshold) of ``v > t`` or ``v < t`` over 400 quantiles."""
    ok = np.isfinite(v)
    v, pos = v[ok], pos[ok]
    best = (0.0, ">", float("nan"))
    if not pos.any():
        return best
    order = np.argsort(v, kind="stable")
    vs, ps = v[order], pos[order]
    cum = np.concatenate([[0], np.cumsum(ps)])
    n_pos = int(ps.sum())
    for t in np.unique(np.quantile(vs, np.linspace(0, 1, 401))):
        k = int(np.searchsorted(vs, t, side="right"))  # v <= t: first k
        below_tp, below_n = int(cum[k]), k
        above_tp, above_n = n_pos - below_tp, len(vs) - k
        for direction, tp, n in ((">", above_tp, above_n), ("<", below_tp, below_n)):
            score = tp / max(n + n_pos - tp, 1)
            if score > best[0]:
                best = (float(score), direction, float(t))
    return best
