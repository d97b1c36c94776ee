"""The scene model's most probable class per pixel, as the result gives it before smoothing.

What the backend's within-class splits (tree cover, the land's bright mode), its scene shares
and the examples' own agreement are measured on: per pixel, with the water veto.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from .scene_model import SceneModel
from .scene_proba import predict_proba, top_class
from .water_veto import WaterVeto, apply_water_veto, most_probable_class


class PixelClasses(NamedTuple):
    """The scene class of each pixel of some 1-D bands, those without one left out."""

    #: The most probable scene class of each kept pixel.
    best: np.ndarray
    #: Whether the water veto moved each kept pixel out of built-up.
    moved: np.ndarray
    #: Which pixels of the bands were kept (the others have a NaN band).
    valid: np.ndarray

    def kept(
        self, bands: Mapping[str, np.ndarray], roles: tuple[str, ...]
    ) -> dict[str, np.ndarray]:
        """The `roles` bands of the same 1-D `bands`, at the kept pixels (aligned with `best`)."""
        return {r: np.asarray(bands[r]).ravel()[self.valid] for r in roles}

    def of_class(
        self, bands: Mapping[str, np.ndarray], roles: tuple[str, ...], index: int
    ) -> dict[str, np.ndarray]:
        """The `roles` bands of the same 1-D `bands` at the kept pixels whose most probable
        class is `index` (into the model's classes)."""
        chosen = self.best == index
        return {r: v[chosen] for r, v in self.kept(bands, roles).items()}


def pixel_classes(
    model: SceneModel, veto: WaterVeto | None, bands: Mapping[str, np.ndarray]
) -> PixelClasses:
    """The most probable scene class of each pixel of the 1-D `bands` (per pixel, with the
    water veto and the water no class explains, `most_probable_class`; without smoothing) and
    whether the veto moved it out of built-up; pixels without a class (a NaN band) are left
    out of both."""
    rows = {role: np.asarray(v, dtype=np.float32)[None, :] for role, v in bands.items()}
    probs = predict_proba(model, rows)
    moved = np.zeros(probs.shape[1:], dtype=bool)
    if veto is not None:
        was_builtup = top_class(probs)[0] == veto.builtup
        moved = was_builtup & apply_water_veto(veto, probs, rows)
    best, confidence = most_probable_class(probs, veto, rows)
    valid = ~np.isnan(confidence)
    return PixelClasses(best[valid], moved[valid], valid.ravel())
