"""The spectral backend's tunable values, as one dataclass.

Every value here was chosen on the whole quality benchmark (``bench/quality.py``), never on one
scene; the benchmark's leave-one-scene-out check (``--loo``) chooses the tuned ones again
without each scene and reports how the held-out scene fares.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SpectralParams:
    """Values of the spectral backend that a benchmark can vary."""

    #: Radius (pixels) of the probability smoothing.
    smoothing_radius: int = 1
    #: Built-up candidates: NDVI below the vegetation threshold minus this margin.
    builtup_ndvi_margin: float = 0.05
    #: Built-up is never water-like (``water_veto``): the water index (MNDWI, else NDWI) above
    #: the scene's water threshold, and at least this, plus the seeds' margin. Below 0.1 the veto reaches the wet land of a
    #: scene whose MNDWI threshold sits at its clamp (ukis S2 water 0.193 -> 0.143 at 0.0).
    builtup_water_floor: float = 0.1
    #: Water seeds found with MNDWI (a SWIR band): NDVI below the vegetation threshold minus
    #: this margin, so that mixed shore and shadowed vegetation pixels do not widen the water
    #: class (0.1 until stop 32; from 0.35 up some scenes lose their water seeds). Without SWIR
    #: the seeds keep ``water_seeds.NDWI_WATER_NDVI_MARGIN``.
    water_ndvi_margin: float = 0.25
    #: Built-up and bare soil's covariance moves this far towards the shape (rescaled to the
    #: class's own total variance) of the pooled covariance of the vegetation, built-up and
    #: bare-soil seeds: their seeds are the land's confident tail, whose own shape is cut by
    #: the indices that picked them. 0 keeps each class's own shape (until stop 33); 1 is the
    #: pooled shape alone, which every fold of the benchmark's left-out check chose (of 0,
    #: 0.25, 0.5, 0.75, 1) and which sinks two rows more than 0.75 (docs/benchmarks.md).
    land_shape_pooling: float = 0.75
    #: Vegetation below its seeds' NDVI edge and redder than green is bare soil
    #: (`soil_in_vegetation`; calibrated reflectance). Off (`False`) only to measure it.
    soil_in_vegetation: bool = True
    #: Bare soil needs evidence this many robust deviations beyond the built-up side.
    bare_evidence_z: float = 8.0
    #: ... and when its side is at most this share of the non-vegetated land.
    bare_max_share: float = 0.5

    #: Reflectance: cloud candidates are at least this bright in blue and across the visible
    #: (thin cloud included; bright land that passes is refused by the tint and contrast tests).
    #: Inside the red-reflectance ramp of Sen2Cor's first cloud test (0.07 -> 0.25); below
    #: 0.2 a hazy scene's bright land joins the seeds (ukis S2 cloud 0.84 at 0.22, 0.62 at 0.18).
    cloud_reflectance: float = 0.22
    #: Digital numbers: cloud candidates are at least this many times the scene's median
    #: brightness (thin cloud included); bright roofs and soil that pass are refused by the
    #: tint and contrast tests below.
    cloud_dn_brightness: float = 2.0
    #: Cloud seeds must be this many times brighter than the rest of the scene's 95th percentile.
    cloud_contrast: float = 1.0
    #: Clouds scatter blue about as much as red and snow is white; sand, bare soil, roofs and
    #: silty water redden: cloud or snow candidates whose median blue/red is below this are not
    #: cloud or snow.
    cloud_min_blue_red: float = 0.9
    #: Cloud candidates whose median bright patch (8-connected, on the whole sample's grid) is
    #: smaller than this many hectares are roofs, not cloud (`bright_patches`; 0: no test).
    #: Measured: labelled clouds 4.9-636 ha, the built-up scenes' candidates 0.03-2.2 ha.
    cloud_min_patch_ha: float = 3.0

    #: Cloud and snow margins (``margins``): a pixel beside a cloud or snow pixel joins it when
    #: its own probability of that class is at least this (0.5 or more: never, as the most
    #: probable class is then that class already).
    margin_probability: float = 0.3

    #: Haze (HOT) cloud seeds: the same test, with this factor.
    haze_contrast: float = 1.6
    #: Hazy pixels stay out of the land seeds, unless the haze failed the contrast test and
    #: covers more than this share of the non-vegetated land: then it is that land's own
    #: brightness (a town's roofs), not a haze layer over it.
    haze_land_max_share: float = 0.5

    #: Index thresholds the analyst set, as (index, value) pairs, in place of the scene's own
    #: choice (`set_thresholds`; empty: every threshold is the scene's).
    set_thresholds: tuple[tuple[str, float], ...] = ()

    def analyst_threshold(self, name: str) -> float | None:
        """The analyst's value for index `name`, or None where the scene chooses it."""
        return dict(self.set_thresholds).get(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able values for the run manifest."""
        return asdict(self)
