"""Bare soil as the bright mode of the non-vegetated land, where no soil index splits it.

Without a SWIR band, or where the soil score (BSI) of the land shows no distinct soil mode, the
scene model keeps the non-vegetated land as one class (`seeds._split_bare`). Its brightness
may still be two distinct modes: dry sand, rock and fallow fields outshine roofs and roads
mixed with their shadows and gardens at 10-30 m. Then the bright mode is bare soil, by the
soil split's own bar: the two sides of the Otsu cut on the land's log brightness (the mean of
the classifier's bands, dark offsets removed) are distinct modes (Ashman's D at least
`SpectralParams.bare_evidence_z`) and the bright side is at most `bare_max_share` of the land.

The cut is chosen once per raster, on the sampled pixels the scene model gives the land, and
applied per pixel to the brightness averaged over the smoothing box (`darkness`), so it is
tile-exact. A land of one brightness mode stays undivided, and the explanation says so as
before. Of the 24 benchmark scenes whose land is undivided only one passes (a beach without
SWIR, D 9.0; the next with a bright side under half the land, 5.4): docs/benchmarks.md, "Bare
soil as the land's bright mode".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .darkness import darker_side_probability, darkness, discriminant_slope, smoothed_darkness
from .histograms import bimodality
from .params import SpectralParams
from .pixel_classes import PixelClasses
from .scene_model import SceneModel
from .seeds import ONE_LAND

#: Below this many sampled land pixels the land is not split.
MIN_LAND = 50


@dataclass(frozen=True)
class BrightLand:
    """The scene's split of its non-vegetated land into bare soil (bright) and the rest.

    Attributes:
        threshold: Darkness (-ln of the mean band, dark offsets removed) below which a land
            pixel is bare soil.
        share: The share of the sampled land on the bright side.
        separation: Ashman's D of the two sides.
        roles: The bands the brightness is the mean of.
        slope: How fast the probability of the bright side rises with brightness past the cut
            (`darkness.discriminant_slope`); infinite for a hard cut.
    """

    threshold: float
    share: float
    separation: float
    roles: tuple[str, ...]
    slope: float = np.inf

    @property
    def brightness(self) -> float:
        """The cut as a mean band value (reflectance, or digital numbers less the offsets)."""
        return float(np.exp(-self.threshold))

    def summary(self) -> dict[str, object]:
        """The split for the run's record (run.json): its brightness, the share of the land
        above it, the two sides' separation, the bands and the slope of the probability of
        the bright side past it (None for a hard cut)."""
        return {
            "brightness": round(self.brightness, 6),
            "share_of_land": round(self.share, 4),
            "separation": round(self.separation, 2),
            "bands": list(self.roles),
            "probability_slope": round(self.slope, 4) if np.isfinite(self.slope) else None,
        }

    def describe(self) -> str:
        """How the threshold was chosen, for the explanation's thresholds table."""
        return (
            f"mean of {', '.join(self.roles)} (dark offsets removed) above which the "
            f"non-vegetated land is bare soil, {self.brightness:.4g}: Otsu on its log over the "
            f"land, two distinct modes (Ashman's D = {self.separation:.1f}): the "
            f"brighter {self.share:.0%} of the land is bare soil"
        )

    def note(self, reason: str) -> str:
        """What bare soil is in this run; `reason`: why no soil index split the land."""
        return (
            f"no soil index splits the non-vegetated land ({reason}), but its brightness is two "
            f"distinct modes (D = {self.separation:.1f}): the bright one, {self.share:.0%} of "
            "the land, is bare soil (sand, rock, fallow fields) and the rest is built-up; "
            "check it against the imagery (bright roofs would be taken for bare soil)"
        )


def fit_bright_land(
    land: np.ndarray, roles: tuple[str, ...], min_separation: float, max_share: float
) -> BrightLand | None:
    """The split of the sampled `land` darkness (1-D), or None where its brightness is not
    two distinct modes with the bright one at most `max_share` of it."""
    values = land[np.isfinite(land)]
    if len(values) < MIN_LAND or not np.ptp(values) > 0:
        return None
    cut, separation = bimodality(-values)  # on brightness: its upper side is the bright one
    share = float(np.mean(-values > cut))
    if separation < min_separation or not 0 < share <= max_share:
        return None
    return BrightLand(-cut, share, separation, roles, discriminant_slope(values, -cut))


def bare_within_land(
    bands: Mapping[str, np.ndarray], offsets: Mapping[str, float], split: BrightLand, radius: int
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each pixel of the (H, W) `bands` is bright enough to be bare soil (its
    darkness, box-averaged over valid neighbours within `radius`, below the cut), and its
    probability of the bright side (`darkness.darker_side_probability`'s complement)."""
    smoothed = smoothed_darkness(bands, offsets, split.roles, radius)
    with np.errstate(invalid="ignore"):
        bright = smoothed < np.float32(split.threshold)
    return bright, 1 - darker_side_probability(smoothed, split.threshold, split.slope)


def fit_scene_bright_land(
    model: SceneModel,
    sample: Mapping[str, np.ndarray],
    classified: PixelClasses | None,
    params: SpectralParams,
) -> BrightLand | None:
    """Bare soil as the bright mode of the land, chosen on the `sample` pixels whose most
    probable class is the land (built-up; `classified`, None for an all-nodata sample); None
    where a soil index split the land (even if its bare class then had too few seeds), there is
    no land, or the land is one brightness mode."""
    undivided = any(note.endswith(ONE_LAND) for note in model.notes)
    if classified is None or not undivided or "builtup" not in model.classes:
        return None
    if "bare" in model.classes:
        return None
    roles = model.roles
    values = classified.of_class(sample, roles, model.classes.index("builtup"))
    land = darkness(values, model.offsets, roles)
    return fit_bright_land(land, roles, params.bare_evidence_z, params.bare_max_share)


def with_bright_land_note(notes: list[str], split: BrightLand) -> list[str]:
    """`notes` where the seeds' note that built-up and bare soil could not be told apart says
    instead that the land's brightness split them (`bright_land`)."""
    out = []
    for note in notes:
        if note.endswith(ONE_LAND):
            reason = note[note.find("(") + 1 : note.find(")")] if "(" in note else "no soil mode"
            note = split.note(reason)
        out.append(note)
    return out
