"""Vegetation without a green peak: soil or dry grass that NDVI alone calls vegetation, said.

Green leaves absorb red light more than green light (chlorophyll), so a canopy is greener than
it is red; soil, rock and dry grass rise from the green to the red instead. Some soils also rise
steeply from the red to the NIR (soil under dry grass, iron-stained and wet soils), to an NDVI
of 0.3-0.5: on such scenes the vegetation cut falls below them and they are mapped as
vegetation. On two held-out spectrometer scenes whose reference calls that land soil (Samson's
shore, Jasper Ridge's dirt) every soil pixel went to vegetation, with red 17-60 % above green;
so did Moffett Field's, a scene added after this note.

Below the edge of the scene's own vegetation seeds such pixels are mapped as bare soil
(`soil_in_vegetation`). Above it, moving them to the land by rule sank other rows
(docs/benchmarks.md, "Vegetation without a green peak"): what one reference calls soil under
dry grass, another calls pasture. So the engine does not decide that part; it says it, with the
measured share and NDVI, and the vegetation cut that would move them (the analyst's
``--threshold NDVI=``), chosen on this scene's own sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...indices import compute_index
from .pixel_classes import PixelClasses
from .scene_model import SceneModel

if TYPE_CHECKING:  # it reads this module's green-peak margin
    from .soil_in_vegetation import SoilInVegetation

#: Red at least this far above green, as the normalised difference (green - red) / (green +
#: red) below its negative: red 22 % above green or more, past a flat spectrum's noise (at
#: 0.05, 10 %, the campus's grass is said too: docs/benchmarks.md).
GREEN_PEAK_MARGIN = 0.1
#: The share of the sampled vegetation that must lack the green peak before it is said.
MIN_SHARE = 0.05
#: Below this many such sampled pixels nothing is said.
MIN_PIXELS = 50
#: The suggested cut is rounded up to this step.
STEP = 0.05
#: The targets whose answer the reddish vegetation changes, one side of the cut or the other.
VEGETATION_OR_SOIL = frozenset({"vegetation", "forest", "bare"})


@dataclass(frozen=True)
class ReddishVegetation:
    """The part of the scene's vegetation that is redder than it is green.

    Attributes:
        share: Its share of the sampled vegetation.
        ndvi: Its NDVI's 5th and 95th percentiles.
        green_ndvi: The median NDVI of the rest of the vegetation (with a green peak).
        suggested_cut: A vegetation cut above it and below the green vegetation, or None where
            the two overlap in NDVI, or where `soil_edge` is set.
        soil_edge: The NDVI below which such pixels are mapped as bare soil
            (`soil_in_vegetation`), or None where that rule is off. Above it they are in the
            vegetation seeds' NDVI and mostly soil mixed with vegetation (on Samson's shore a
            cut above them lowered every row): no cut is offered.
    """

    share: float
    ndvi: tuple[float, float]
    green_ndvi: float
    suggested_cut: float | None
    soil_edge: float | None = None

    def summary(self) -> dict[str, object]:
        """The measurement for the run's record (run.json)."""
        return {
            "share_of_vegetation": round(self.share, 4),
            "ndvi_5_95": [round(v, 4) for v in self.ndvi],
            "green_vegetation_ndvi_median": (
                round(self.green_ndvi, 4) if np.isfinite(self.green_ndvi) else None
            ),
            "suggested_ndvi_cut": self.suggested_cut,
            "above_soil_edge": None if self.soil_edge is None else round(self.soil_edge, 4),
        }

    def doubts(self, targets: tuple[str, ...]) -> dict[str, str]:
        """The clause each asked target's summary line ends with: vegetation that may hold
        soil, bare soil that may be missing it."""
        out = {}
        if "vegetation" in targets:
            out["vegetation"] = f"{self.share:.0%} of it may be soil (see the caveats)"
        if "bare" in targets:
            out["bare"] = "soil may be mapped as vegetation (see the caveats)"
        return out

    def note(self) -> str:
        """What the explanation says of it."""
        rest = (
            f", where the rest has a median of {self.green_ndvi:.2f}"
            if np.isfinite(self.green_ndvi)
            else ""
        )
        said = (
            f"{self.share:.0%} of the vegetation is redder than it is green (NDVI "
            f"{self.ndvi[0]:.2f}-{self.ndvi[1]:.2f}{rest}): green leaves are greener than red, "
            "soil and dry grass are not, so it may be bare soil or soil under dry grass"
        )
        examples = "give examples of both (--examples; the dock's Examples layer)"
        if self.soil_edge is not None:
            return (
                f"{said}, or soil mixed with vegetation: it lies above NDVI "
                f"{self.soil_edge:.2f}, the vegetation seeds' edge below which such pixels are "
                f"mapped as bare soil; to decide, {examples}"
            )
        if self.suggested_cut is not None:
            return (
                f"{said}; if it is, set the vegetation cut above it (--threshold "
                f"NDVI={self.suggested_cut:.2f}; the dock's and Processing's index thresholds) "
                f"or {examples}"
            )
        if not np.isfinite(self.green_ndvi):
            return f"{said}; none of the vegetation is greener than red: {examples}"
        return f"{said}; its NDVI overlaps the green vegetation's: {examples}"


def reddish_vegetation(
    ndvi: np.ndarray, ngrdi: np.ndarray, margin: float, soil_edge: float | None = None
) -> ReddishVegetation | None:
    """The reddish part of the vegetation whose 1-D `ndvi` and green-red difference `ngrdi`
    are given, or None where it is too small to say; `margin`: the land seeds' NDVI margin
    below the vegetation cut, which the suggested cut must clear; `soil_edge`: where the part
    below an NDVI edge was mapped as bare soil (then no cut is suggested)."""
    ok = np.isfinite(ndvi) & np.isfinite(ngrdi)
    ndvi, ngrdi = ndvi[ok], ngrdi[ok]
    reddish = ngrdi < -GREEN_PEAK_MARGIN
    if not ndvi.size or reddish.sum() < MIN_PIXELS or reddish.mean() < MIN_SHARE:
        return None
    low, high = (float(v) for v in np.percentile(ndvi[reddish], [5, 95]))
    green = float(np.median(ndvi[~reddish])) if (~reddish).any() else math.nan
    cut = math.ceil((high + margin) / STEP - 1e-9) * STEP
    suggested = round(cut, 2) if cut < green and soil_edge is None else None
    return ReddishVegetation(float(reddish.mean()), (low, high), green, suggested, soil_edge)


def fit_scene_reddish_vegetation(
    model: SceneModel,
    sample: Mapping[str, np.ndarray],
    classified: PixelClasses | None,
    calibrated: bool,
    margin: float,
    soil: SoilInVegetation | None = None,
) -> ReddishVegetation | None:
    """The reddish vegetation among the `sample` pixels whose most probable class is
    vegetation (`classified`), less those `soil` maps as bare soil; None without green, red
    and NIR bands, a vegetation class or `calibrated` reflectance (digital numbers carry each
    band's own gain, which can hide the green peak of a canopy or make one)."""
    roles = ("green", "red", "nir")
    if not calibrated or classified is None or "vegetation" not in model.classes:
        return None
    if not set(roles) <= set(sample):
        return None
    vegetation = classified.of_class(sample, roles, model.classes.index("vegetation"))
    if soil is not None:
        left = ~soil.applies(vegetation)
        vegetation = {k: v[left] for k, v in vegetation.items()}
    ndvi, ngrdi = (compute_index(name, vegetation) for name in ("NDVI", "NGRDI"))
    return reddish_vegetation(ndvi, ngrdi, margin, soil.ndvi_edge if soil is not None else None)
