"""Cloud and snow margins: the edge pixels beside a cloud or a snowfield join it.

A cloud's edge is thin cloud over the ground and a snowfield's edge is patchy snow: mixtures
whose most probable class is the surface beneath, though their cloud (snow) probability is
substantial. A pixel next to (one of the 8 neighbours of) a pixel of the class joins the class
when its own probability of it is at least ``SpectralParams.margin_probability``. Fmask buffers
its cloud mask by 3 pixels (Zhu and Woodcock 2012) and s2cloudless dilates its own; here only
the neighbours whose spectrum supports it join, and only one pixel deep.

Measured on every scene of the quality benchmark (``bench/quality``, against the same run
without margins; each target asked alone): cloud 0.654 -> 0.676 over six scenes (c38 +0.051,
ukis Landsat 5 +0.030, the dev Landsat time series +0.030 and +0.025, dev S2 +0.003, ukis S2
-0.005), snow 0.371 -> 0.395 over two; in true colour cloud 0.801 -> 0.834, in four bands
0.797 -> 0.823. The other targets' margins trade scenes (water 0.654 -> 0.645, one scene
-0.122; built-up 0.499 -> 0.493; vegetation and bare soil up and down by 0.03-0.10), so they
keep the most probable class.

One pass from the most probable classes (a margin does not grow a margin), per pixel given
its 3 x 3 neighbourhood: tile-exact with one more pixel of halo (``MARGIN_HALO``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

#: The classes whose margins join them.
MARGIN_CLASSES = ("cloud", "snow")
#: Extra halo (pixels) the margins need beyond the smoothing's.
MARGIN_HALO = 1
_EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)


def margin_class_indexes(classes: Sequence[str], lut: np.ndarray) -> tuple[int, ...]:
    """Indexes into `classes` of the margin classes that the plan asks for (`lut` != 0)."""
    return tuple(i for i, c in enumerate(classes) if c in MARGIN_CLASSES and lut[i] != 0)


def touches(mask: np.ndarray) -> np.ndarray:
    """Pixels outside `mask` (2-D bool) with at least one of their 8 neighbours in it; beyond
    the array counts as outside."""
    return ndimage.binary_dilation(mask, structure=_EIGHT_NEIGHBOURS) & ~mask


def grow_margins(
    best: np.ndarray,
    confidence: np.ndarray,
    probs: np.ndarray,
    nodata: np.ndarray,
    class_indexes: Sequence[int],
    level: float,
) -> np.ndarray:
    """Give the margins of `class_indexes` to their class, in place; returns the grown pixels.

    `best` and `confidence` are `top_class`'s, `probs` the (K, H, W) probabilities they came
    from, `nodata` where they mean nothing. Only pixels of other classes join (a cloud's margin
    never takes a snow pixel); one that qualifies for two classes takes the more probable. Its
    confidence becomes its probability of the class it joins.
    """
    grown_prob = np.zeros(best.shape, dtype=np.float32)
    grown_class = np.zeros(best.shape, dtype=best.dtype)
    level32 = np.float32(level)
    # Margins take from the surface beneath, never from each other (cloud beside snow).
    surface = ~nodata
    for k in class_indexes:
        surface &= best != k
    for k in class_indexes:
        own = (best == k) & ~nodata
        if not own.any():
            continue
        candidate = touches(own) & surface & (probs[k] >= level32)
        candidate &= probs[k] > grown_prob
        grown_class[candidate] = k
        grown_prob[candidate] = probs[k][candidate]
    grown = grown_prob > 0
    best[grown] = grown_class[grown]
    confidence[grown] = grown_prob[grown]
    return grown
