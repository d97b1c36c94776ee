"""How dark a pixel is over some bands: -ln of their mean, dark offsets removed.

The one measure both splits within a scene class are cut on: tree cover is the darker part of
the vegetation in the visible bands (`tree_cover`), bare soil the bright mode of the
non-vegetated land over every band (`bright_land`). In log space a band's gain is an additive
constant, so the same cut ranks the pixels of digital numbers and of reflectance alike.

How sure a pixel is of its side of such a cut grows with its distance from it
(`darker_side_probability`): a logistic centred on the cut, its slope the linear discriminant
of the sampled values split there (`discriminant_slope`: the two sides' difference of means over
their pooled variance, the within-side variance Otsu minimises).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .histograms import histogram_range
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


def discriminant_slope(values: np.ndarray, threshold: float) -> float:
    """The linear discriminant of `values` split at `threshold`: the difference of the two
    sides' means over their pooled (within-side) variance, the values clipped to Otsu's
    `histogram_range`; infinite where a side is empty or has no spread (the split is then
    certain)."""
    values = values[np.isfinite(values)]
    if len(values):
        values = np.clip(values, *histogram_range(values))
    above, below = values[values > threshold], values[values <= threshold]
    if not len(above) or not len(below):
        return np.inf
    pooled = (np.sum((above - above.mean()) ** 2) + np.sum((below - below.mean()) ** 2)) / len(
        values
    )
    return float((above.mean() - below.mean()) / pooled) if pooled > 0 else np.inf


def darker_side_probability(smoothed: np.ndarray, threshold: float, slope: float) -> np.ndarray:
    """Per pixel of a (smoothed) darkness, the probability that it lies on the darker side of
    the cut at `threshold`: 0.5 at the cut, a logistic of the distance past it times `slope`
    (`discriminant_slope`); an infinite slope is a hard cut (1 past it, 0 before)."""
    if not np.isfinite(slope):
        return (smoothed > np.float32(threshold)).astype(np.float32)
    z = (smoothed - np.float32(threshold)) * np.float32(slope)
    return (np.float32(0.5) * (1 + np.tanh(z / 2))).astype(np.float32)  # the logistic
