"""Built-up is never water-like: a per-pixel veto on the scene classifier's built-up class.

The built-up class is the scene's non-vegetated land, a broad Gaussian that also reaches the
shallow, turbid or weed-grown water of floods and river margins (a flooded field is as flat
in the visible as a roof). Such water still reflects less in the SWIR than in the green; roofs,
asphalt and concrete do not. So on calibrated input, where the water seeds came from the
scene's own MNDWI threshold, a pixel whose MNDWI is above that threshold (and above
``SpectralParams.builtup_water_floor``) by the seeds' margin, and that is not vegetated
(``VETO_NDVI_MARGIN`` below the vegetation threshold), is not built-up: its built-up
probability is removed and the rest renormalised, so it goes to its next most probable class
(water for a flood, "other" for wet sediment). Water is dark in the near infrared too: a
pixel brighter there than `WATER_NIR_MAX` (a white roof, whose low SWIR1 lifts its MNDWI) is
never vetoed.

Measured on the whole benchmark (``bench/quality``): flood chip water 0.683 -> 0.755, Porto
Trombetas built-up 0.668 -> 0.719, no row down by more than 0.002. Digital numbers keep no
veto: their index values are offset by path radiance and the sensor bias, so a fixed floor
means nothing there.

Without a SWIR band, NDWI (green against NIR, which water absorbs as well) stands in, with the
scene's NDWI threshold: the four-band versions of the benchmark (``--groups rgbn``) move one
row, ukis S2 water 0.193 -> 0.208.

Nor is built-up darker than built surfaces are: a pixel below ``IMPERVIOUS_DARK_MAX`` in NIR
and in every SWIR band the raster has is darker there than 98.8 % of the 888 impervious spectra
(asphalt, roofs, concrete, paint, metal) of the earthlib spectral library
(``bench/impervious_floor.py``), and than all of its soils, sands and canopies: open water (a
river's dark margin) or shade. Its built-up probability goes to the water class, which the
scene classifier fitted on the scene's clear water alone. Rasters without a SWIR band get no
such test (``DARK_ROLES``). Measured: Porto Trombetas water 0.812 -> 0.994 and built-up
0.719 -> 0.798; no other row of the benchmark moves (``docs/benchmarks.md``, "Darker than any
built surface"). The broad "other" class gives those pixels its probability too: open water
that an L2A product clamps to 0 in the blue, red and SWIR is far from the scene's clear water
and from every land class, so "other" held it (Potsdam's lakes: water 0.610 -> 0.682, no
other row moves; "Dark pixels no class explains are water", stop 34).

Nor does the broad "other" class keep water that looks like water: a pixel it wins (after the
smoothing) that passes the veto's water-like test and is darker in NIR than in green goes to
water, with water's probability as its confidence (`claim_unexplained_water`). The scene's
clear water, which seeded the water class, can be far from a sediment-laden shore or a thin
cloud's water: found on the held-out Lake Neuchatel scene (three of its ten sediment-laden
shore points, 0.850 -> 0.950), and measured on the whole benchmark: ukis-csmask's Landsat 7
chip water 0.412 -> 0.458, Moffett Field 0.975 -> 0.980, three rows down by 0.002-0.004
(docs/benchmarks.md, "Water no class explains"). Without the NIR test the catch-all's pixels
near Porto Trombetas' river (NIR above green) joined the water: 0.994 -> 0.913.

Per pixel and elementwise, so tile-exact like the rest of the prediction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .params import SpectralParams
from .scene_model import SceneModel
from .scene_proba import top_class
from .water_seeds import WATER_MARGIN

#: The veto's pixels are not vegetated: NDVI below the vegetation threshold by this margin
#: (the water seeds' margin until stop 32; at 0.2 the flood chip's water falls 0.755 -> 0.740).
VETO_NDVI_MARGIN = 0.1
#: Reflectance below which, in NIR and every SWIR band, no built surface is: the 1st percentile
#: of the brightest of those bands over earthlib 1.1.0's 888 impervious spectra is 0.045-0.048
#: (Sentinel-2's and Landsat's band ranges; ``tests/test_water_veto.py`` checks it). At 0.1
#: cloud shadows and dark land join the water (ukis S2 water -0.124, dev S2 -0.088).
IMPERVIOUS_DARK_MAX = 0.05
#: Reflectance in NIR above which no water is: clear water reflects a few percent there,
#: sediment-laden and algal water up to about 0.2; white roofs and pale concrete, whose SWIR1 is
#: low enough for an MNDWI above the veto's cut, 0.6-0.7 (Buffalo's roofs, labelled as built-up
#: by the analyst's examples, were vetoed out of it). At 0.3 no benchmark row moves by 0.001;
#: at 0.2 the flood chip's water falls 0.760 -> 0.754.
WATER_NIR_MAX = 0.3
#: The infrared bands the darkness test reads, where the raster has them. Only rasters with a
#: SWIR band get the test: those are the 10-60 m sensors (Sentinel-2, Landsat, EnMAP) where a
#: building's shadow is mixed with lit ground; four-band rasters are mostly 0.5-5 m (aerial,
#: PlanetScope), where a shadow fills whole pixels, dark in NIR, and would become water.
DARK_ROLES = ("nir", "swir1", "swir2")


@dataclass(frozen=True)
class WaterVeto:
    """Where the built-up class is vetoed: the water index (MNDWI, else NDWI) above
    `index_min`, NDVI below `ndvi_max` and NIR below `WATER_NIR_MAX`; and every band of
    `dark_roles` below `IMPERVIOUS_DARK_MAX`."""

    builtup: int  # index of the built-up class in the model's classes
    other: int  # index of the broad "other" class (takes a pixel no other class explains)
    water: int  # index of the water class: takes the built-up and other probability of dark pixels
    index_min: float
    ndvi_max: float
    index: str = "MNDWI"  # or NDWI without a SWIR band
    dark_band: str = "swir1"  # the band water absorbs: swir1 (MNDWI) or nir (NDWI)
    dark_roles: tuple[str, ...] = ()  # bands all below IMPERVIOUS_DARK_MAX: not built-up

    def describe(self) -> str:
        """The rule in words, for the explanation."""
        text = (
            f"water-like pixels ({self.index} > {self.index_min:.3f}, "
            f"NDVI < {self.ndvi_max:.3f}, NIR < {WATER_NIR_MAX:g}) are never built-up: they go "
            "to their next most probable class, and those darker in NIR than in green that no "
            "class explains are water"
        )
        if self.dark_roles:
            text += (
                f"; pixels darker than any built surface ({', '.join(self.dark_roles)} all "
                f"below {IMPERVIOUS_DARK_MAX:g} reflectance) are not built-up either: their "
                "built-up probability, and the probability that no class explains them, go to "
                "water"
            )
        return text


def water_veto(model: SceneModel, params: SpectralParams) -> WaterVeto | None:
    """The veto for a fitted model, or None: digital numbers, no seeded water or built-up
    class, or no water index threshold (no green, or neither SWIR1 nor NIR)."""
    classes = model.classes
    th = model.thresholds
    index, dark = ("MNDWI", "swir1") if "MNDWI" in th else ("NDWI", "nir")
    if (
        not model.calibrated
        or not {"water", "builtup"} <= set(classes)
        or not {index, "NDVI"} <= set(th)
        or not set(model.roles) >= {"green", "red", "nir", dark}
    ):
        return None
    return WaterVeto(
        builtup=classes.index("builtup"),
        other=classes.index("other"),
        water=classes.index("water"),
        index_min=max(th[index], params.builtup_water_floor) + WATER_MARGIN,
        ndvi_max=th["NDVI"] - VETO_NDVI_MARGIN,
        index=index,
        dark_band=dark,
        dark_roles=(
            tuple(r for r in DARK_ROLES if r in model.roles)
            if {"swir1", "swir2"} & set(model.roles)
            else ()
        ),
    )


def water_like(veto: WaterVeto, bands: Mapping[str, np.ndarray]) -> np.ndarray:
    """Pixels that the veto takes from built-up: the water index > `index_min`, NDVI <
    `ndvi_max`, NIR < `WATER_NIR_MAX`.

    The two ratios are compared as products (a / b > m with b > 0 is a > m b): the same
    pixels as the indices up to float32 rounding at the threshold, at less than half their
    cost. NaN and non-positive band sums, where
    the indices mean nothing, are never vetoed.
    """
    roles = ("green", veto.dark_band, "red", "nir")
    g, s, r, n = (np.asarray(bands[k], dtype=np.float32) for k in roles)
    one, m, t = np.float32(1.0), np.float32(veto.index_min), np.float32(veto.ndvi_max)
    out = g * (one - m) > s * (one + m)
    out &= n * (one - t) < r * (one + t)
    out &= n < np.float32(WATER_NIR_MAX)
    out &= g + s > 0
    out &= n + r > 0
    return out


def darker_than_built(veto: WaterVeto, bands: Mapping[str, np.ndarray]) -> np.ndarray:
    """Pixels below `IMPERVIOUS_DARK_MAX` in every band of `veto.dark_roles` (none without
    them); NaN is never dark."""
    if not veto.dark_roles:
        return np.zeros(np.shape(bands[veto.dark_band]), dtype=bool)
    limit = np.float32(IMPERVIOUS_DARK_MAX)
    out = np.asarray(bands[veto.dark_roles[0]], dtype=np.float32) < limit
    for role in veto.dark_roles[1:]:
        out &= np.asarray(bands[role], dtype=np.float32) < limit
    return out


def apply_water_veto(
    veto: WaterVeto, probs: np.ndarray, bands: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Move the built-up and "other" probability of dark pixels to water, and remove the
    built-up probability of water-like pixels from `probs` (K, ...) in place, renormalising
    the other classes; returns the mask of the pixels changed.

    Only those pixels change: each class is updated in place where a rule holds (a masked
    ufunc over the whole array, the same float32 operation per pixel as on those pixels alone,
    without gathering and scattering them), and the rest keep their bytes.
    """
    builtup = probs[veto.builtup]
    dark = darker_than_built(veto, bands)
    if dark.any():
        for k in (veto.builtup, veto.other):
            np.add(probs[veto.water], probs[k], out=probs[veto.water], where=dark)
            np.copyto(probs[k], np.float32(0.0), where=dark)
    vetoed = water_like(veto, bands)
    if not vetoed.any():
        return vetoed | dark
    rest = np.float32(1.0) - builtup
    # Where built-up held (nearly) all the mass, no other class explains the pixel: "other".
    empty = rest < np.float32(1e-6)
    denominator = np.where(empty, np.float32(1.0), rest)
    for k in range(probs.shape[0]):
        if k != veto.builtup:
            np.divide(probs[k], denominator, out=probs[k], where=vetoed)
    np.copyto(builtup, np.float32(0.0), where=vetoed)
    np.copyto(probs[veto.other], np.float32(1.0), where=vetoed & empty)
    return vetoed | dark


def most_probable_class(
    probs: np.ndarray, veto: WaterVeto | None, bands: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """`top_class` of `probs`, with the water no class explains claimed
    (`claim_unexplained_water`) where the scene has a veto."""
    best, confidence = top_class(probs)
    if veto is not None:
        claim_unexplained_water(veto, best, confidence, probs, bands)
    return best, confidence


def claim_unexplained_water(
    veto: WaterVeto,
    best: np.ndarray,
    confidence: np.ndarray,
    probs: np.ndarray,
    bands: Mapping[str, np.ndarray],
) -> None:
    """Where "other" is the most probable class (`best`, `confidence`: `top_class` of `probs`)
    but the pixel is water-like (`water_like`) and darker in NIR than in green, make it water,
    its confidence water's probability; in place."""
    claimed = best == np.uint8(veto.other)
    if not claimed.any():
        return
    claimed &= water_like(veto, bands)
    claimed &= np.asarray(bands["nir"], dtype=np.float32) < np.asarray(
        bands["green"], dtype=np.float32
    )
    np.copyto(best, np.uint8(veto.water), where=claimed)
    np.copyto(confidence, probs[veto.water], where=claimed)
