"""How dark a pixel is over some bands: -ln of their mean, dark offsets removed.

The one measure both splits within a scene class are cut on: tree cover is the darker part of
the vegetation in the visible bands (`tree_cover`), bare soil the bright mode of the
non-vegetated land over every band (`bright_land`). In log space a band's gain is an additive
constant, so the same cut ranks the pixels of digital numbers and of reflectance alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .smoothing import smooth_probabilities

#: Reflectance (or digital-number) floor before the logarithm: a dark-object-corrected value
#: can reach 0.
FLOOR = 1e-4


def darkness(
    bands: Mapping[str, np.ndarray], offsets: Mapping[str, float], roles: tuple[str, ...]
) -> np.ndarray:
    """-ln of the mean of the `roles` bands after their dark offsets; NaN stays NaN."""
    total = sum(
        np.asarray(bands[r], dtype=np.float32) - np.float32(offsets.get(r, 0.0)) for r in roles
    )
    with np.errstate(invalid="ignore"):
        return -np.log(np.maximum(total / np.float32(len(roles)), np.float32(FLOOR)))


def smoothed_darkness(
    bands: Mapping[str, np.ndarray],
    offsets: Mapping[str, float],
    roles: tuple[str, ...],
    radius: int,
) -> np.ndarray:
    """`darkness` of the (H, W) `bands`, box-averaged over valid neighbours within `radius`.

    The class probabilities' own tile-exact box mean, with no pixel kept as it is (`keep`
    infinite: darkness is not a probability), so a split cut on it is tile-exact too and a
    single dark or bright pixel inside a stand or a field does not speckle it.
    """
    values = darkness(bands, offsets, roles)
    return smooth_probabilities(values[None], radius, keep=np.inf)[0]
