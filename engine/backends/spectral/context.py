"""Spatial context for built-up versus bare soil: local texture, tile-exact.

Per-pixel spectra cannot always split built-up from bare soil: in a winter scene, ploughed
fields and village roofs have the same NDBI and SWIR ratio, and the spectral split then
paints whole fields as built-up. Settlements are heterogeneous at 10-30 m (roofs, gardens,
roads, shadows); fields are homogeneous. The texture of a pixel is the standard deviation of
NDVI in its 3 x 3 box; a built-up or bare pixel is textured above ``FACTOR`` times the scene's
median texture of built-up and bare land. A pixel is built-up when MOST of its
(2 * SPREAD + 1)^2 neighbourhood is textured land (a median, not a mean: settlements are blobs
of texture, while a field edge is a thin line of it; and only built-up or bare neighbours count,
so a field is not painted built-up for bordering a textured forest or lake shore).

The rule is fitted once per raster on a regular grid of windows read from the whole raster
(never per tile) and only switched on when the scene shows the failure: the pixels the
spectral model calls built-up are MORE homogeneous than those it calls bare soil. A dense
city, whose built-up is spectrally clear and textured differently at coarse resolution, keeps
the spectral split. When on, among the built-up and bare pixels, those in a mostly textured
neighbourhood are built-up, the others bare soil.

Box sums are shifted-slice sums in a fixed order with edges repeated (``box_sum``), so a window
cut with a halo of at least ``context_halo(smoothing_radius)`` pixels gives the same bytes as
the whole raster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .scene_model import FLOOR, SceneModel, predict_proba, top_class
from .smoothing import box_sum, smooth_probabilities

#: Radius of the box whose NDVI standard deviation is the local texture.
RADIUS = 1
#: Radius of the neighbourhood that must be mostly textured.
SPREAD = 3
#: Textured: above this many times the median texture of the scene's built-up and bare land.
FACTOR = 2.0
#: Sample windows: a GRID x GRID regular grid of WINDOW x WINDOW pixel windows of the raster.
WINDOW = 64
GRID = 8
#: Fewest sampled pixels of each class needed to decide anything.
MIN_PIXELS = 200

#: (row_off, col_off, height, width) of a raster window.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class ContextRule:
    """The per-raster texture rule: on or off, its threshold, and why, in words."""

    active: bool
    builtup: int = -1  # index into the model's classes
    bare: int = -1
    threshold: float = float("nan")
    how: str = ""
    stats: dict[str, float] | None = None

    def thresholds(self) -> dict[str, float]:
        """The texture threshold by name, when the rule is on."""
        return {"NDVI texture": float(self.threshold)} if self.active else {}

    def to_dict(self) -> dict[str, object]:
        """JSON-able summary for the run manifest."""
        return {
            "active": self.active,
            "texture_threshold": None if not self.active else round(self.threshold, 5),
            "how": self.how,
            "stats": {k: round(v, 5) for k, v in (self.stats or {}).items()},
        }


def context_halo(smoothing_radius: int) -> int:
    """Pixels of context a tile needs for an exact rule: the neighbourhood of SPREAD, whose
    pixels need their texture (RADIUS) and their smoothed class (``smoothing_radius``)."""
    return SPREAD + max(RADIUS, smoothing_radius)


def texture(model: SceneModel, bands: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """(H, W) float32 NDVI standard deviation in each 3 x 3 box (None without red and NIR).

    NaN where the box holds nodata.
    """
    if not {"red", "nir"} <= set(model.roles) or not {"red", "nir"} <= set(bands):
        return None
    floor = np.float32(FLOOR)
    red = np.maximum(
        np.asarray(bands["red"], dtype=np.float32) - np.float32(model.offsets["red"]), floor
    )
    nir = np.maximum(
        np.asarray(bands["nir"], dtype=np.float32) - np.float32(model.offsets["nir"]), floor
    )
    ndvi = (nir - red) / (nir + red)
    n = np.float32((2 * RADIUS + 1) ** 2)
    mean = box_sum(ndvi, RADIUS) / n
    var = box_sum(ndvi * ndvi, RADIUS) / n
    var -= mean * mean
    np.maximum(var, np.float32(0), out=var)  # rounding can make a flat box slightly negative
    np.sqrt(var, out=var)
    return var


def mostly_textured(
    tex: np.ndarray, threshold: float, land: np.ndarray | None = None
) -> np.ndarray:
    """Whether more than half of each pixel's (2 * SPREAD + 1)^2 neighbourhood is textured
    (and ``land``, when given: only those pixels count as textured).

    Counts of 0/1 are exact in float32, so the comparison is exact wherever the pixel lies.
    """
    textured = tex > np.float32(threshold)
    if land is not None:
        textured &= land
    count = box_sum(textured.astype(np.float32), SPREAD)
    return count > np.float32((2 * SPREAD + 1) ** 2 / 2)


def sample_boxes(height: int, width: int) -> list[Box]:
    """A regular GRID x GRID grid of WINDOW-pixel windows over the whole raster (fixed by its size)."""
    h, w = min(WINDOW, height), min(WINDOW, width)
    rows = np.unique(np.linspace(0, height - h, GRID).round().astype(int))
    cols = np.unique(np.linspace(0, width - w, GRID).round().astype(int))
    return [(int(r), int(c), h, w) for r in rows for c in cols]


def fit_context_rule(
    model: SceneModel,
    read: Callable[[Box], Mapping[str, np.ndarray]],
    height: int,
    width: int,
    smoothing_radius: int = 1,
) -> ContextRule:
    """Decide the texture rule of this raster from windows on a regular grid (``read(box)``).

    Each window is classified as the tiles will be (probabilities, smoothing, most probable
    class); statistics come from the window's interior, away from its cut edges.
    """
    classes = list(model.classes)
    if "builtup" not in classes or "bare" not in classes:
        return ContextRule(
            False, how="built-up and bare soil are not both modelled: no texture rule"
        )
    if not {"red", "nir"} <= set(model.roles):
        return ContextRule(False, how="no red and NIR bands: no texture rule")
    bu, ba = classes.index("builtup"), classes.index("bare")
    margin = context_halo(smoothing_radius)
    tex_bu, tex_ba = [], []
    for box in sample_boxes(height, width):
        bands = read(box)
        tex = texture(model, bands)
        probs = predict_proba(model, bands)
        if smoothing_radius > 0:
            probs = smooth_probabilities(probs, smoothing_radius)
        best, top = top_class(probs)
        m = margin if min(box[2], box[3]) > 4 * margin else 0
        inner = np.s_[m : box[2] - m, m : box[3] - m]
        tex, best, ok = tex[inner], best[inner], ~np.isnan(top[inner]) & ~np.isnan(tex[inner])
        tex_bu.append(tex[ok & (best == bu)])
        tex_ba.append(tex[ok & (best == ba)])
    t_bu, t_ba = np.concatenate(tex_bu), np.concatenate(tex_ba)
    if min(len(t_bu), len(t_ba)) < MIN_PIXELS:
        return ContextRule(
            False, how="too few built-up or bare pixels in the sample windows: no texture rule"
        )
    stats = {
        "median_texture_builtup": float(np.median(t_bu)),
        "median_texture_bare": float(np.median(t_ba)),
        "median_texture_land": float(np.median(np.concatenate([t_bu, t_ba]))),
    }
    if not stats["median_texture_builtup"] < stats["median_texture_bare"]:
        return ContextRule(
            False,
            bu,
            ba,
            how="spectral built-up is at least as textured as bare soil: the spectral split is kept",
            stats=stats,
        )
    t = FACTOR * stats["median_texture_land"]
    return ContextRule(
        True,
        bu,
        ba,
        float(t),
        how=(
            "spectral built-up is more homogeneous than bare soil (fields taken for built-up): "
            "built-up and bare pixels are split by texture: built-up where most of the "
            f"{2 * SPREAD + 1} x {2 * SPREAD + 1} neighbourhood is built-up or bare land with a "
            f"3 x 3 NDVI standard deviation above {t:.3g} ({FACTOR:g} x the median of the "
            "scene's built-up and bare land, on sample windows of a regular grid)"
        ),
        stats=stats,
    )


def apply_context_rule(
    rule: ContextRule,
    best: np.ndarray,
    confidence: np.ndarray,
    probs: np.ndarray,
    tex: np.ndarray | None,
) -> None:
    """Relabel built-up / bare pixels of class indices ``best`` by texture, in place.

    ``tex`` is ``texture`` of the same window, ``best`` its smoothed most probable classes.
    Relabelled pixels get the probability of their new class as confidence. Tile-exact given a
    halo of ``context_halo``; nodata texture (NaN) counts as not textured, and a pixel whose
    own texture is NaN keeps its class.
    """
    if not rule.active or tex is None:
        return
    builtup, bare = best == rule.builtup, best == rule.bare
    urban = mostly_textured(tex, rule.threshold, builtup | bare)
    known = ~np.isnan(tex)
    to_bare = builtup & ~urban & known
    to_builtup = bare & urban & known
    best[to_bare] = rule.bare
    best[to_builtup] = rule.builtup
    confidence[to_bare] = probs[rule.bare][to_bare]
    confidence[to_builtup] = probs[rule.builtup][to_builtup]
