"""Water seeds: the water index's own mode, the scene's bulk, or the far water-like tail.

Open water is a mode of its water index (MNDWI with a SWIR band, else NDWI) well above the
land's: the seeds lie above the index's Otsu cut (clamped), agree with NDWI where both exist,
stay below the vegetation's NDVI cut and are dark (`haze.dark_for_water`). A chip of a lake or
the sea has no land mode to set its water against: its median pixel is water, and its own
values seed it (`water_bulk`). Small or turbid water makes no mode, but a far tail of the index
that is dark in NIR and SWIR (`water_tail`). Without any, water is not seeded, with a note.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...indices import compute_index
from .haze import dark_for_water
from .histograms import clamp, mode_gap, otsu_threshold, rel, robust_z
from .seed_context import UNDETECTABLE, SeedContext

#: Water seeds: the water index above its threshold by this margin, and NDVI below the
#: vegetation threshold by ``SpectralParams.water_ndvi_margin`` (mixed shore pixels stay out).
WATER_MARGIN = 0.05
#: ... by this margin instead where NDWI alone finds the water (no SWIR band): NDWI and NDVI
#: both rest on the NIR, and a wider margin took the flood chip's turbid water out of its
#: four-band seeds (water 0.628 -> 0.494 at 0.25).
NDWI_WATER_NDVI_MARGIN = 0.1

#: A scene whose median pixel is water (a chip of a lake, the sea or a flood) has no land mode
#: to set its water against: its median water index above this (labelled water's median over
#: the benchmark: 0.17-0.86 for MNDWI; every other labelled class's but snow's at most 0.04),
#: and, as reflectance, its median SWIR1 (or NIR, without SWIR) and green below
#: ``BULK_WATER_DARK``.
BULK_WATER_INDEX = 0.3
#: Water's SWIR1 (labelled water's median 0.004-0.068 on the benchmark, top of the atmosphere
#: included) and green (0.03-0.12) stay below this; snow's green and cloud's SWIR1 do not.
BULK_WATER_DARK = 0.15
#: With SWIR, such a scene's median NDWI must pass this as reflectance (water's NIR well below
#: its green; land in cloud shadow at the top of the atmosphere passes MNDWI), and
#: ``BULK_WATER_SEED_INDEX`` as digital numbers.
BULK_WATER_NDWI = 0.1
#: The seeds of such a scene: water index above this and NDVI below ``BULK_WATER_NDVI``.
BULK_WATER_SEED_INDEX = 0.2
BULK_WATER_NDVI = 0.2


def water_bulk(
    bands: Mapping[str, np.ndarray], w: np.ndarray, ndvi: np.ndarray | None, cal: bool
) -> np.ndarray | None:
    """Water seeds where water is the scene's bulk, else None.

    Otsu then splits the water mode itself and no seed passes the mode test; the tail test
    wants a small tail. The scene's median pixel must be water by its index (and as
    reflectance, dark in SWIR1 or NIR and in green: snow is bright in green, cloud in SWIR1),
    and with SWIR its median NDWI above 0.1 (0.2 as digital numbers: snow's is near 0).
    """
    if np.median(w) <= BULK_WATER_INDEX:
        return None
    dark_role = "swir1" if "swir1" in bands else "nir"
    if cal and (
        np.median(bands[dark_role]) >= BULK_WATER_DARK
        or ("green" in bands and np.median(bands["green"]) >= BULK_WATER_DARK)
    ):
        return None
    if "nir" in bands and "swir1" in bands:
        # MNDWI also rises on land in cloud or terrain shadow at the top of the atmosphere
        # (path radiance lifts the green): water's NIR is well below its green as well
        # (windows of ukis Landsat 5's cloud shadow: median NDWI 0.01-0.07, MNDWI 0.53-0.59).
        ndwi_floor = BULK_WATER_NDWI if cal else BULK_WATER_SEED_INDEX
        if np.median(compute_index("NDWI", bands)) <= ndwi_floor:
            return None
    seed = w > BULK_WATER_SEED_INDEX
    if ndvi is not None:
        seed &= ndvi < BULK_WATER_NDVI
    if cal:
        seed &= bands[dark_role] < BULK_WATER_DARK
    return seed


def water_tail(
    bands: Mapping[str, np.ndarray],
    w: np.ndarray,
    ndvi: np.ndarray | None,
    ndvi_t: float | None,
    cal: bool,
) -> np.ndarray | None:
    """Water seeds from the far water-like tail of the scene, or None without NIR.

    Every test is relative to this scene AND has a margin: the water index more than 4 robust
    standard deviations and 0.25 above the scene's median, NIR and SWIR1 below their 5th
    percentiles (water absorbs both; wet soil and snow stay bright in NIR), not dense canopy.
    Calibrated input adds absolute physics: NIR < 0.2 and MNDWI/NDWI > -0.3. A scene without
    water rarely has such pixels, and the count must still reach the minimum seed count.
    """
    if "nir" not in bands:
        return None
    nir = bands["nir"]
    tail = (robust_z(w) > 4.0) & (w > np.median(w) + 0.25) & (nir < rel(nir, 5))
    tail &= dark_for_water(bands, cal)
    if "swir1" in bands:
        tail &= bands["swir1"] < rel(bands["swir1"], 5)
    if ndvi is not None and ndvi_t is not None:
        # Mixed pond pixels keep much of their neighbours' NDVI: only dense canopy is excluded.
        tail &= ndvi < max(ndvi_t, 0.6)
    if cal:
        tail &= (nir < 0.2) & (w > -0.3)
    # A tail is a small part of the scene; a large one would have made a histogram mode.
    if tail.mean() > 0.05:
        return None
    return tail


def water_seeds(s: SeedContext) -> np.ndarray | None:
    """Water seeds over the sample, or None where the bands cannot show water (no green band
    of its own, or neither NIR nor SWIR1)."""
    if not s.has_green or not ({"swir1", "nir"} & s.roles):
        # Say which is missing: a true-colour image has its green band, and lacks the other.
        missing = [] if s.has_green else ["no green band"]
        missing += [] if {"swir1", "nir"} & s.roles else ["no NIR or SWIR1 band"]
        s.notes.append(f"{' and '.join(missing)}: " + UNDETECTABLE.format(target="water"))
        return None
    # MNDWI (NDWI without SWIR) above a clamped Otsu threshold, dark in NIR.
    w_name = "MNDWI" if "swir1" in s.roles else "NDWI"
    bands, cal, ndvi = s.bands, s.calibrated, s.ndvi
    w = s.index(w_name)
    lo, hi = (-0.1, 0.4) if cal else (-0.1, 0.5)
    t = s.choose(
        w_name,
        clamp(otsu_threshold(w), lo, hi),
        f"Otsu on the scene's {w_name} histogram, clamped to [{lo}, {hi}]",
    )
    seed = w > t + WATER_MARGIN
    if w_name == "MNDWI" and "nir" in s.roles:
        # Both water indices must agree: MNDWI alone also rises on wet or snowy ground
        # (low SWIR), NDWI alone on shadows; open water has NIR below green as well.
        ndwi = s.index("NDWI")
        lo_n, hi_n = (0.0, 0.3) if cal else (-0.1, 0.5)
        t_n = s.choose(
            "NDWI",
            clamp(otsu_threshold(ndwi), lo_n, hi_n),
            f"Otsu on the scene's NDWI histogram, clamped to [{lo_n}, {hi_n}]",
        )
        seed &= ndwi > t_n
    if ndvi is not None:
        margin = s.params.water_ndvi_margin if w_name == "MNDWI" else NDWI_WATER_NDVI_MARGIN
        seed &= ndvi < s.thresholds.get("NDVI", 0.3) - margin
    seed &= dark_for_water(bands, cal)
    # Where water is the scene's bulk, its own values seed it: the histogram's cut and the
    # darkness relative to the scene's 75th percentile both split the water itself. With
    # NDWI alone (no SWIR) only where no seed passed those: flooded marsh and wet sand pass
    # NDWI as water does (ogt's, labelled other: water 0.935 -> 0.554 when they seeded it).
    bulk = water_bulk(bands, w, ndvi, cal)
    if bulk is not None and w_name == "NDWI" and seed.sum() >= s.need:
        bulk = None
    # A real water mode sits well above the scene's bulk; otherwise it is land noise.
    if bulk is None and seed.sum() >= s.need and mode_gap(w, t) < 0.3:
        seed[:] = False
        s.notes.append(f"{w_name} has no separated water mode")
    if bulk is not None and bulk.sum() >= s.need:
        seed = bulk
        s.how[w_name] += (
            f"; the scene's median pixel is water: seeds {w_name} > "
            f"{BULK_WATER_SEED_INDEX}, NDVI < {BULK_WATER_NDVI}"
        )
        s.notes.append(
            f"most of the scene is water (median {w_name} {np.median(w):.2f}): no land "
            f"mode to set it against, so water was seeded by its own values ({w_name} > "
            f"{BULK_WATER_SEED_INDEX}, NDVI < {BULK_WATER_NDVI})"
        )
    elif seed.sum() < s.need:
        # Small or turbid water (ponds in a vegetated scene) makes no histogram mode, but it
        # is a far tail: water index far above the land bulk AND dark in NIR and SWIR.
        tail = water_tail(bands, w, ndvi, s.thresholds.get("NDVI"), cal)
        if tail is not None and tail.sum() >= s.need:
            seed = tail
            s.how[w_name] += (
                "; no separated mode: far water-like tail (robust z > 4, dark NIR/SWIR)"
            )
            s.notes.append(f"water seeded from the far {w_name} tail (small or turbid water)")
        else:
            seed[:] = False
            s.notes.append(f"{w_name} has no water mode nor water-like tail: water disabled")
    if w_name == "NDWI":
        s.notes.append("no SWIR band: water is found with NDWI (green/NIR) only")
    return seed
