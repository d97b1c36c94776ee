"""Soil the scene model calls vegetation: below the vegetation seeds' NDVI, and redder than green.

The scene model's vegetation Gaussian reaches past its seeds, as it should for shaded, mixed and
sparse canopies. Where the land's Gaussian is the wider of the two (the land seeds hold soil,
roads and water edges at once), it also takes soil that no vegetation seed resembles: on
Samson's shore and Moffett Field every soil pixel went to vegetation, their own land seeds
included. Two independent tests say such a pixel is not vegetation: its NDVI is below the edge
of the scene's own vegetation seeds (the cut the scene chose, plus the seeds' margin), and it
has no green peak (red 22 % or more above green: `reddish_vegetation.GREEN_PEAK_MARGIN`), which
every green canopy has. Where both hold, the pixel is bare soil, not vegetation.

Measured over the 98 benchmark rows (docs/benchmarks.md, "Soil the scene model called
vegetation"): +0.036 on the mean, no row down; on digital numbers each band's gain can make or
hide a green peak, so it applies to calibrated reflectance only. The analyst's examples of
vegetation or soil define those classes themselves: with them the rule is off.

Per pixel, on the pixel's own bands, after the smoothed class is chosen: tile-exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ...indices import compute_index
from .params import SpectralParams
from .pixel_classes import PixelClasses
from .reddish_vegetation import GREEN_PEAK_MARGIN
from .scene_model import SceneModel
from .seeds import VEGETATION_SEED_MARGIN

#: The bands both tests read.
ROLES = ("green", "red", "nir")
#: The scene classes whose examples, given by the analyst, turn the rule off.
EXAMPLE_CLASSES = frozenset({"vegetation", "bare"})


@dataclass(frozen=True)
class SoilInVegetation:
    """The rule, as this scene sets it, and what it moved in the scene's sample.

    Attributes:
        ndvi_edge: The vegetation seeds' NDVI edge (the scene's vegetation cut plus the seeds'
            margin): below it, a vegetation pixel redder than green is bare soil.
        share: The share of the sampled vegetation (per pixel, before smoothing) it moves.
        moved: The sampled vegetation pixels it moves.
    """

    ndvi_edge: float
    share: float
    moved: int

    def applies(
        self, bands: Mapping[str, np.ndarray], ndvi: np.ndarray | None = None
    ) -> np.ndarray:
        """Whether each pixel of `bands` is soil if the scene model calls it vegetation
        (`ndvi`: the bands' NDVI, where the caller has it already)."""
        return soil_like(bands, self.ndvi_edge, ndvi)

    def summary(self) -> dict[str, object]:
        """The rule and its effect for the run's record (run.json)."""
        return {
            "ndvi_below": round(self.ndvi_edge, 4),
            "green_red_below": -GREEN_PEAK_MARGIN,
            "share_of_vegetation": round(self.share, 4),
        }

    def note(self) -> str | None:
        """What the explanation says, or None where the sample had none of it."""
        if not self.moved:
            return None
        return (
            f"{self.share:.1%} of the vegetation the classifier found is redder than green "
            f"(no green peak) with NDVI below {self.ndvi_edge:.2f}, the edge of this scene's "
            "vegetation seeds: mapped as bare soil, not vegetation (give examples of "
            "vegetation with --examples, or the dock's Examples layer, to keep dry grass)"
        )


def soil_like(
    bands: Mapping[str, np.ndarray], ndvi_edge: float, ndvi: np.ndarray | None = None
) -> np.ndarray:
    """Per pixel: NDVI below `ndvi_edge` and no green peak (NaN bands: False); `ndvi`: the
    bands' NDVI, computed here where not given."""
    if ndvi is None:
        ndvi = compute_index("NDVI", bands)
    ngrdi = compute_index("NGRDI", bands)
    with np.errstate(invalid="ignore"):
        return (ndvi < np.float32(ndvi_edge)) & (ngrdi < np.float32(-GREEN_PEAK_MARGIN))


def fit_scene_soil_in_vegetation(
    model: SceneModel,
    sample: Mapping[str, np.ndarray],
    classified: PixelClasses | None,
    calibrated: bool,
    params: SpectralParams,
) -> SoilInVegetation | None:
    """The rule for this scene, measured on the `sample` pixels whose most probable class is
    vegetation (`classified`); None where `params` turn it off, on digital numbers, without
    green, red and NIR bands or an NDVI vegetation cut, or where the analyst's examples
    include vegetation or soil."""
    if (
        not params.soil_in_vegetation
        or not calibrated
        or "vegetation" not in model.classes
        or "NDVI" not in model.thresholds
    ):
        return None
    if not set(ROLES) <= set(sample) or EXAMPLE_CLASSES & set(model.example_pixels):
        return None
    edge = float(model.thresholds["NDVI"]) + VEGETATION_SEED_MARGIN
    if classified is None:
        return SoilInVegetation(edge, 0.0, 0)
    vegetation = classified.of_class(sample, ROLES, model.classes.index("vegetation"))
    moved = int(soil_like(vegetation, edge).sum())
    share = moved / max(len(vegetation["nir"]), 1)
    return SoilInVegetation(edge, share, moved)
