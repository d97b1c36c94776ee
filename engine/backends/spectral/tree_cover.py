"""Tree cover: the part of the scene's vegetation that is darkest in the visible bands.

A canopy shades itself: crowns and the gaps between them keep the visible light low, where
crops, grass and shrubs of the same greenness reflect more of it. On the benchmark's 13 scenes
whose labels tell trees from other vegetation (8 sensors, raw digital numbers to reflectance,
true colour included), the visible darkness ranks the labelled trees above the other labelled
vegetation within the engine's vegetation at an AUC of 0.74 to 1.00; NDVI, NIR and the SWIR
bands invert on some of them (winter conifers, arid woodland). So the split is one threshold
on that darkness, chosen on this scene's own vegetation (Otsu, over the whole-raster sample,
never per tile; its histogram spans the 0.5-99.5 percentiles, so a few deep shadows or
bright edges do not set its range), and the vegetation class of the scene model is unchanged:
forest is a part of it, never a class of its own.

Per pixel the darkness is the box mean over the backend's smoothing radius
(`darkness.smoothed_darkness`, tile-exact), so a single dark or bright pixel inside a stand
does not speckle the result.

How sure a pixel is of tree cover grows with its distance past the cut
(`darkness.darker_side_probability`, its slope the linear discriminant of the sampled
vegetation split there). A forest pixel's confidence is its vegetation probability times that,
and the other vegetation's, where trees are answered apart, times its complement: the
vegetation probability alone said nothing of the split (forest rows: mean confidence 0.973 for
a precision of 0.886; docs/benchmarks.md, "The forest's confidence").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .darkness import darker_side_probability, darkness, discriminant_slope, smoothed_darkness
from .examples import ExamplePixels
from .histograms import otsu_threshold
from .pixel_classes import PixelClasses
from .scene_model import SceneModel
from .set_thresholds import SET_BY_ANALYST

#: The bands whose mean brightness a canopy keeps low, in the order they are summed.
VISIBLE = ("blue", "green", "red")
#: Below this many sampled vegetation pixels the cut is not chosen (forest is not mapped).
MIN_VEGETATION = 50


@dataclass(frozen=True)
class TreeCut:
    """The scene's threshold between tree cover and the rest of its vegetation.

    Attributes:
        threshold: Visible darkness (-ln of the mean visible band, dark offsets removed)
            above which a vegetation pixel is tree cover.
        share: The share of the sampled vegetation above it.
        roles: The visible bands the darkness is the mean of.
        examples: The median darkness of the analyst's forest and other vegetation examples,
            when the cut lies halfway between them; None for the scene's own cut.
        scene_threshold: The scene's own cut, when the analyst set the threshold (``VIS``);
            NaN where the scene had too little vegetation to choose one.
        slope: How fast the probability of tree cover rises with darkness past the cut
            (`discriminant_slope`); infinite for a hard cut (probability 1 past it, 0 before).
    """

    threshold: float
    share: float
    roles: tuple[str, ...]
    examples: tuple[float, float] | None = None
    scene_threshold: float | None = None
    slope: float = np.inf

    def probability(self, smoothed: np.ndarray) -> np.ndarray:
        """Per pixel of the smoothed darkness (`smoothed_darkness`), the probability that a
        vegetation pixel is tree cover: 0.5 at the cut, rising with the darkness past it."""
        return darker_side_probability(smoothed, self.threshold, self.slope)

    @property
    def brightness(self) -> float:
        """The cut as the mean of the visible bands (dark offsets removed) below which
        vegetation is tree cover: the value the analyst sets (``--threshold VIS=...``)."""
        return float(np.exp(-self.threshold))

    def summary(self) -> dict[str, object]:
        """The cut for the run's record (run.json): its visible brightness, whether the analyst
        set it, the share of the vegetation it makes tree cover, its bands, the slope of the
        probability of tree cover past it (per unit of darkness, None for a hard cut) and,
        when it lies between the analyst's examples, their median visible brightness."""
        return {
            "visible_brightness": round(self.brightness, 6),
            "set_by_analyst": self.scene_threshold is not None,
            "share_of_vegetation": round(self.share, 4),
            "bands": list(self.roles),
            "probability_slope": round(self.slope, 4) if np.isfinite(self.slope) else None,
            "examples_medians": (
                [round(float(np.exp(-m)), 6) for m in self.examples]
                if self.examples is not None
                else None
            ),
        }

    def describe(self) -> str:
        """How the threshold was chosen, for the explanation's thresholds table."""
        bands = ", ".join(self.roles)
        if self.scene_threshold is not None:
            own = (
                f"{np.exp(-self.scene_threshold):.4g} (Otsu on this scene's vegetation)"
                if np.isfinite(self.scene_threshold)
                else "none (too little vegetation)"
            )
            return (
                f"{SET_BY_ANALYST}; the scene's own choice: {own}; mean of {bands} (dark "
                f"offsets removed) below which vegetation is tree cover: {self.share:.0%} of "
                "this scene's vegetation"
            )
        if self.examples is not None:
            forest, other = self.examples
            return (
                f"mean of {bands} (dark offsets removed) below which vegetation is tree cover, "
                f"{self.brightness:.4g}: halfway, in its log, between the medians of the "
                f"analyst's forest examples ({np.exp(-forest):.4g}) and other vegetation "
                f"examples ({np.exp(-other):.4g}); "
                f"the darker {self.share:.0%} of this scene's vegetation is tree cover"
            )
        return (
            f"mean of {bands} (dark offsets removed) below which vegetation is tree cover, "
            f"{self.brightness:.4g}: Otsu on its log over this scene's vegetation; the darker "
            f"{self.share:.0%} of it is tree cover"
        )


def visible_roles(roles: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The visible bands among `roles` (red is needed: it is the canopy's darkest band)."""
    found = tuple(r for r in VISIBLE if r in roles)
    return found if "red" in found else ()


def fit_tree_cut(darkness: np.ndarray, roles: tuple[str, ...]) -> TreeCut | None:
    """The cut on the visible `darkness` of the scene's sampled vegetation pixels, or None
    when there are too few of them."""
    values = darkness[np.isfinite(darkness)]
    if len(values) < MIN_VEGETATION or not np.ptp(values) > 0:
        return None
    return _cut_at(otsu_threshold(values), values, roles)


def _cut_at(
    threshold: float, vegetation: np.ndarray, roles: tuple[str, ...], **chosen: object
) -> TreeCut:
    """The cut at `threshold`, with what the scene's sampled `vegetation` darkness says of it:
    the share above it (0 without vegetation) and the slope of the probability past it;
    `chosen`: how it was chosen (`TreeCut.examples`, `TreeCut.scene_threshold`)."""
    values = vegetation[np.isfinite(vegetation)]
    share = float(np.mean(values > threshold)) if len(values) else 0.0
    return TreeCut(threshold, share, roles, slope=discriminant_slope(values, threshold), **chosen)


def cut_between_examples(
    cut: TreeCut, vegetation: np.ndarray, forest: np.ndarray, other: np.ndarray
) -> TreeCut:
    """The cut halfway between the median darkness of the analyst's `forest` examples and of
    their `other` vegetation examples, when the forest ones are the darker (else `cut`);
    `vegetation` is the darkness of the scene's sampled vegetation, for the share."""
    forest, other = forest[np.isfinite(forest)], other[np.isfinite(other)]
    if not len(forest) or not len(other):
        return cut
    medians = (float(np.median(forest)), float(np.median(other)))
    if not medians[0] > medians[1]:
        return cut  # examples that contradict the canopy's shade: the scene's own cut
    return _cut_at((medians[0] + medians[1]) / 2, vegetation, cut.roles, examples=medians)


def cut_set_by_analyst(
    cut: TreeCut | None, vegetation: np.ndarray, roles: tuple[str, ...], brightness: float
) -> TreeCut:
    """The cut at the analyst's `brightness` (the mean of the visible bands, ``VIS``), with
    the scene's own `cut` (None: too little vegetation to choose one) kept beside it;
    `vegetation` is the darkness of the scene's sampled vegetation, for the share."""
    own = cut.threshold if cut is not None else float("nan")
    return _cut_at(-float(np.log(brightness)), vegetation, roles, scene_threshold=own)


def tree_cover(
    bands: Mapping[str, np.ndarray], offsets: Mapping[str, float], cut: TreeCut, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each pixel of the (H, W) `bands` is dark enough to be tree cover (its visible
    darkness, box-averaged over valid neighbours within `radius`, above the cut), and its
    probability of tree cover (`TreeCut.probability`)."""
    smoothed = smoothed_darkness(bands, offsets, cut.roles, radius)
    with np.errstate(invalid="ignore"):
        return smoothed > np.float32(cut.threshold), cut.probability(smoothed)


def fit_scene_tree_cut(
    model: SceneModel,
    sample: Mapping[str, np.ndarray],
    classified: PixelClasses | None,
    examples: ExamplePixels | None,
    brightness: float | None,
) -> TreeCut | None:
    """Tree cover's cut within the vegetation: the analyst's `brightness` (``VIS``) where
    set; else between the analyst's forest and other vegetation examples where both are
    given; else chosen on the `sample` pixels whose most probable class is vegetation
    (`classified`, None for an all-nodata sample). None without a red band or a vegetation
    class."""
    roles = visible_roles(tuple(sample))
    if not roles or "vegetation" not in model.classes or classified is None:
        return None
    visible = classified.of_class(sample, roles, model.classes.index("vegetation"))
    vegetation = darkness(visible, model.offsets, roles)
    cut = fit_tree_cut(vegetation, roles)
    if brightness is not None:
        return cut_set_by_analyst(cut, vegetation, roles, brightness)
    given = examples.values if examples is not None else {}
    if cut is None or "forest" not in given or "vegetation" not in given:
        return cut
    forest, other = (darkness(given[c], model.offsets, roles) for c in ("forest", "vegetation"))
    return cut_between_examples(cut, vegetation, forest, other)
