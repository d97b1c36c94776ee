"""The scene model's most probable class per pixel, as the result gives it before smoothing.

What the backend's within-class splits (tree cover, the land's bright mode), its scene shares
and the examples' own agreement are measured on: per pixel, with the water veto.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .scene_model import SceneModel, predict_proba, top_class
from .water_veto import WaterVeto, apply_water_veto


def pixel_classes(
    model: SceneModel, veto: WaterVeto | None, bands: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The most probable scene class of each pixel of the 1-D `bands` (per pixel, with the
    water veto, without smoothing) and whether the veto moved it out of built-up; pixels
    without a class (a NaN band) are left out of both, and the third array says which
    pixels of `bands` were kept."""
    rows = {role: np.asarray(v, dtype=np.float32)[None, :] for role, v in bands.items()}
    probs = predict_proba(model, rows)
    moved = np.zeros(probs.shape[1:], dtype=bool)
    if veto is not None:
        was_builtup = top_class(probs)[0] == veto.builtup
        moved = was_builtup & apply_water_veto(veto, probs, rows)
    best, confidence = top_class(probs)
    valid = ~np.isnan(confidence)
    return best[valid], moved[valid], valid.ravel()
