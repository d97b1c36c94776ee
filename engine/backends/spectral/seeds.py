"""Index priors and per-scene thresholds that pick confident seed pixels for each class.

Thresholds are chosen on the histogram of the WHOLE raster's sample (Otsu), then clamped to a
physically plausible range, so a scene without a class cannot move the threshold into the middle
of another class. For uncalibrated input (digital numbers) absolute values mean nothing: the
clamps are wider and the brightness tests are relative to the scene's own percentiles.
A class is seeded only when its seeds form a real, separated mode (enough pixels, a margin from
the scene's bulk); otherwise it is disabled with a note, never invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ...indices import compute_index
from .haze import (
    blue_red_ratio,
    contrasted_cloud,
    dark_for_water,
    dimmer_than_canopy,
    find_haze,
    reddened,
    whiter_than_scene,
)
from .histograms import bimodality, clamp, mode_gap, otsu_threshold, rel, robust_z, saturated
from .params import SpectralParams
from .set_thresholds import chosen_threshold

#: How a note ends that says the bands cannot show a class (`scene_model` drops it where the
#: analyst's examples seed that class).
UNDETECTABLE = "{target} cannot be detected"
#: Seeds below this count disable a class (too few to fit a covariance reliably); tiny samples
#: (unit tests, small rasters) use ``min_seeds``.
MIN_SEEDS = 25


#: Water seeds: the water index above its threshold by this margin, and NDVI below the
#: vegetation threshold by ``SpectralParams.water_ndvi_margin`` (mixed shore pixels stay out).
WATER_MARGIN = 0.05
#: ... by this margin instead where NDWI alone finds the water (no SWIR band): NDWI and NDVI
#: both rest on the NIR, and a wider margin took the flood chip's turbid water out of its
#: four-band seeds (water 0.628 -> 0.494 at 0.25).
NDWI_WATER_NDVI_MARGIN = 0.1
#: Snow seeds on reflectance: SWIR1 below this. Ice absorbs at 1.6 um, so snow is dark there
#: (the benchmark's 25,248 labelled snow pixels with NDSI > 0.4: 95th percentile 0.111, none
#: above 0.2) where water clouds stay bright (their 21,081 such pixels: median 0.38). A cloud
#: whose red is clipped passes NDSI > 0.4 and was taken for snow (dev Landsat SR cloud
#: 0.400 -> 0.593, snow 0.365 -> 0.509; 0.15 and 0.25 measured the same within 0.03).
SNOW_SWIR1_MAX = 0.2


def min_seeds(n: int) -> int:
    """Fewest seeds that make a class for a sample of ``n`` pixels (5 for tiny samples, up to 25)."""
    return int(np.clip(n // 200, 5, MIN_SEEDS))


@dataclass(frozen=True)
class SeedResult:
    """Seed masks over the sample, the thresholds used and what was decided, in words."""

    masks: dict[str, np.ndarray]
    thresholds: dict[str, float]
    how: dict[str, str]
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Seeds of a second component of a class, as (class, mask): pixels of the class that its
    #: main seeds do not resemble (bright sand beside dark wet land), fitted on their own.
    extra_components: tuple[tuple[str, np.ndarray], ...] = ()


def dark_offsets(sample: Mapping[str, np.ndarray], calibrated: bool) -> dict[str, float]:
    """Per-band additive offsets to subtract before indices (partial dark-object subtraction).

    Calibrated reflectance: none. Digital numbers: half of the band's 0.1 percentile over the
    whole-raster sample: path radiance and the sensor bias inflate dark bands (water in NIR),
    compressing normalised differences towards 0; removing all of it would blow dark pixels up
    into noise, half is a compromise. Estimated once per raster, never per tile.
    """
    if calibrated:
        return {role: 0.0 for role in sample}
    return {role: float(0.5 * np.percentile(v, 0.1)) for role, v in sample.items()}


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


def _water_tail(
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


#: The bands whose brightness tests (snow, cloud) a clipped value passes.
BRIGHTNESS_ROLES = ("blue", "green", "red", "swir1")


def select_seeds(
    bands: Mapping[str, np.ndarray], calibrated: bool, params: SpectralParams | None = None
) -> SeedResult:
    """Confident seed masks per class from index priors on the (offset-corrected) sample bands.

    ``bands`` are 1-D arrays keyed by role, all finite. Classes: water, vegetation, builtup,
    bare, snow, cloud, shadow (internal). Seeds of two classes never overlap.
    """
    params = params or SpectralParams()
    notes: list[str] = []
    # Pixels on a band's saturation plateau are at least as bright as any threshold above it.
    # Only the bands of the brightness tests: a constant band elsewhere (the cirrus band of
    # a clear top-of-atmosphere scene) decides nothing and is no news to the analyst.
    clip = {r: saturated(v) for r, v in bands.items() if r in BRIGHTNESS_ROLES}
    shares = {r: float(m.mean()) for r, m in clip.items() if m.mean() >= 0.01}
    if shares:
        notes.append(
            "clipped at the sensor's maximum: "
            + ", ".join(f"{r} {share:.0%}" for r, share in shares.items())
            + " of the pixels; clipped pixels pass every brightness test (snow, cloud)"
        )
    has_green = "green" in bands
    if not has_green and "red" in bands:
        # Snow is as bright in red as in green and dark in SWIR: red stands in for green in
        # NDSI. Not for water: clear water's red can be below its SWIR (measured on spyndex).
        bands = dict(bands, green=bands["red"])
        clip["green"] = clip["red"]
        notes.append("no green band: red stands in for green in the snow index")
    roles = set(bands)
    n = len(next(iter(bands.values())))
    need = min_seeds(n)
    masks: dict[str, np.ndarray] = {}
    thr: dict[str, float] = {}
    how: dict[str, str] = {}
    cal = calibrated
    extra: tuple[tuple[str, np.ndarray], ...] = ()

    def idx(name: str) -> np.ndarray:
        return compute_index(name, bands)

    has_vnir = {"red", "nir"} <= roles
    ndvi = idx("NDVI") if has_vnir else None
    vis = [r for r in ("blue", "green", "red") if r in roles]
    bright = np.mean([bands[r] for r in vis], axis=0) if vis else None

    # Vegetation: NDVI above a scene threshold (Otsu, clamped), plus a margin.
    if ndvi is not None:
        t = clamp(otsu_threshold(ndvi), 0.3, 0.6) if cal else clamp(otsu_threshold(ndvi), 0.05, 0.6)
        text = "Otsu on the scene's NDVI histogram, clamped to " + (
            "[0.3, 0.6]" if cal else "[0.05, 0.6] (digital numbers)"
        )
        t = chosen_threshold("NDVI", t, text, params, thr, how)
        masks["vegetation"] = ndvi > t + 0.05
        # A red band clipped at the sensor's maximum (bright cloud) lifts NDVI: not canopy.
        masks["vegetation"] &= ~clip.get("red", False)
    elif {"green", "red", "blue"} <= roles:
        exg = idx("ExG")
        # Top-of-atmosphere and digital-number scenes carry a blue haze that pulls vegetation's
        # excess green towards 0: the floor sits below it (measured on true-colour versions of
        # the benchmark scenes).
        t = clamp(otsu_threshold(exg), -0.05, 0.2)
        text = "Otsu on the scene's excess-green histogram, clamped to [-0.05, 0.2]"
        t = chosen_threshold("ExG", t, text, params, thr, how)
        masks["vegetation"] = exg > t + 0.02
        notes.append("no NIR band: vegetation is found by greenness only (excess green)")

    # Water: MNDWI (NDWI without SWIR) above a clamped Otsu threshold, dark in NIR.
    w_name = (
        None
        if not has_green
        else ("MNDWI" if "swir1" in roles else ("NDWI" if "nir" in roles else None))
    )
    if w_name is not None:
        w = idx(w_name)
        lo, hi = (-0.1, 0.4) if cal else (-0.1, 0.5)
        t = clamp(otsu_threshold(w), lo, hi)
        text = f"Otsu on the scene's {w_name} histogram, clamped to [{lo}, {hi}]"
        t = chosen_threshold(w_name, t, text, params, thr, how)
        seed = w > t + WATER_MARGIN
        if w_name == "MNDWI" and "nir" in roles:
            # Both water indices must agree: MNDWI alone also rises on wet or snowy ground
            # (low SWIR), NDWI alone on shadows; open water has NIR below green as well.
            ndwi = idx("NDWI")
            lo_n, hi_n = (0.0, 0.3) if cal else (-0.1, 0.5)
            t_n = clamp(otsu_threshold(ndwi), lo_n, hi_n)
            text = f"Otsu on the scene's NDWI histogram, clamped to [{lo_n}, {hi_n}]"
            t_n = chosen_threshold("NDWI", t_n, text, params, thr, how)
            seed &= ndwi > t_n
        if ndvi is not None:
            margin = params.water_ndvi_margin if w_name == "MNDWI" else NDWI_WATER_NDVI_MARGIN
            seed &= ndvi < thr.get("NDVI", 0.3) - margin
        seed &= dark_for_water(bands, cal)
        # Where water is the scene's bulk, its own values seed it: the histogram's cut and the
        # darkness relative to the scene's 75th percentile both split the water itself. With
        # NDWI alone (no SWIR) only where no seed passed those: flooded marsh and wet sand pass
        # NDWI as water does (ogt's, labelled other: water 0.935 -> 0.554 when they seeded it).
        bulk = water_bulk(bands, w, ndvi, cal)
        if bulk is not None and w_name == "NDWI" and seed.sum() >= need:
            bulk = None
        # A real water mode sits well above the scene's bulk; otherwise it is land noise.
        if bulk is None and seed.sum() >= need and mode_gap(w, t) < 0.3:
            seed[:] = False
            notes.append(f"{w_name} has no separated water mode")
        if bulk is not None and bulk.sum() >= need:
            seed = bulk
            how[w_name] += (
                f"; the scene's median pixel is water: seeds {w_name} > "
                f"{BULK_WATER_SEED_INDEX}, NDVI < {BULK_WATER_NDVI}"
            )
            notes.append(
                f"most of the scene is water (median {w_name} {np.median(w):.2f}): no land "
                f"mode to set it against, so water was seeded by its own values ({w_name} > "
                f"{BULK_WATER_SEED_INDEX}, NDVI < {BULK_WATER_NDVI})"
            )
        elif seed.sum() < need:
            # Small or turbid water (ponds in a vegetated scene) makes no histogram mode, but it
            # is a far tail: water index far above the land bulk AND dark in NIR and SWIR.
            tail = _water_tail(bands, w, ndvi, thr.get("NDVI"), cal)
            if tail is not None and tail.sum() >= need:
                seed = tail
                how[w_name] += (
                    "; no separated mode: far water-like tail (robust z > 4, dark NIR/SWIR)"
                )
                notes.append(f"water seeded from the far {w_name} tail (small or turbid water)")
            else:
                seed[:] = False
                notes.append(f"{w_name} has no water mode nor water-like tail: water disabled")
        masks["water"] = seed
        if w_name == "NDWI":
            notes.append("no SWIR band: water is found with NDWI (green/NIR) only")
    else:
        notes.append(
            "no green band, or neither NIR nor SWIR1: " + UNDETECTABLE.format(target="water")
        )

    # Snow and cloud are white in the visible; sand, soil, roofs and silty water redden.
    tint = None
    if {"blue", "red"} <= roles:
        tint = blue_red_ratio(bands["blue"], bands["red"], clip["blue"] | clip["red"])
    # Snow: high NDSI, bright in green; cloud: very bright and flat in the visible.
    if {"green", "swir1"} <= roles and bright is not None:
        ndsi = idx("NDSI")
        g = bands["green"]
        g_hi = 0.2 if cal else max(rel(g, 50) * 2.5, rel(g, 99))
        # A clipped green (8-bit DN under snow) passes: a scene mostly snow lifts the median.
        masks["snow"] = (ndsi > 0.4) & ((g > g_hi) | clip["green"])
        if cal:
            masks["snow"] &= bands["swir1"] < SNOW_SWIR1_MAX
        thr["NDSI"] = 0.4
        how["NDSI"] = (
            "fixed NDSI > 0.4 with bright green (Dozier 1989)"
            + (" or green clipped" if clip["green"].any() else "")
            + (f", dark in SWIR1 (< {SNOW_SWIR1_MAX} reflectance)" if cal else "")
        )
        note = reddened(masks["snow"], tint, params, "snow") if tint is not None else ""
        if note:
            masks["snow"] = np.zeros(n, dtype=bool)
            notes.append(note)
    haze = find_haze(bands, cal, n)
    haze_is_land = False
    bright_land = np.zeros(n, dtype=bool)  # HOT's candidates refused by their tint
    if haze is not None:
        thr.update(haze.thresholds)
        how.update(haze.how)
        notes.extend(haze.notes)
    if ("blue" in roles or "red" in roles) and bright is not None:
        # Clouds are bright across the visible: red stands in for a missing blue band.
        b_role = "blue" if "blue" in bands else "red"
        b = bands[b_role]
        # Digital numbers: clouds, thin ones too, are well above the scene's typical land;
        # bright roofs and soil can be as well, and are refused by the tint and contrast tests.
        # One of the two values applies (read only that one: bench/read_values.py).
        if cal:
            b_hi = bright_hi = params.cloud_reflectance
        else:
            k = params.cloud_dn_brightness
            b_hi, bright_hi = k * rel(b, 50), k * rel(bright, 50)
        any_clipped = np.any([clip[r] for r in vis], axis=0)
        cloud = ((b > b_hi) | clip[b_role]) & ((bright > bright_hi) | any_clipped)
        if "swir1" in roles:
            swir1 = bands["swir1"]
            cloud &= (swir1 > (0.2 if cal else rel(swir1, 75))) | clip["swir1"]
        # The brightness tests above have no colour test; HOT's candidates below are above
        # the scene's clear line, which bright sand still is where the line is shallow.
        note = reddened(cloud, tint, params) if tint is not None else ""
        if note:
            cloud = np.zeros(n, dtype=bool)
        else:
            if tint is not None and (whiter := whiter_than_scene(cloud, tint, params)):
                notes.append(whiter)
            cloud, note = contrasted_cloud(cloud, bright, params)
        canopy = masks.get("vegetation")
        if not note and "nir" in bands and canopy is not None and canopy.sum() >= need:
            # Roofs and pavement pass the visible tests; a cloud outshines the canopy in NIR.
            cloud, note = dimmer_than_canopy(cloud, bands["nir"], canopy, clip[b_role])
        if note:
            notes.append(note)
        if haze is not None:
            # HOT's candidates must also be brighter than the land's bright end, which towns'
            # roofs are not; the cirrus band sees cloud directly and needs no such test.
            cirrus = haze.cirrus if haze.cirrus is not None else np.zeros(n, dtype=bool)
            hot_cloud = haze.cloud & ~cirrus & ~cloud
            note = reddened(hot_cloud, tint, params, "haze") if tint is not None else ""
            if note:
                bright_land, hot_cloud = hot_cloud, np.zeros(n, dtype=bool)
            else:
                hot_cloud, note = contrasted_cloud(hot_cloud, bright, params, "haze")
            if note:
                notes.append(note)
                haze_is_land = True  # what HOT took for haze is the scene's bright land
            cloud |= hot_cloud | cirrus
        if "snow" in masks:
            cloud &= ~masks["snow"]
        masks["cloud"] = cloud
        thr["blue"] = float(b_hi)
        how["blue"] = (
            "bright blue "
            + (f"> {b_hi} reflectance" if cal else f"> {k}x the scene median")
            + (" or clipped" if clip[b_role].any() else "")
        )
        if "blue" not in roles:
            notes.append("no blue band: cloud is found by brightness only (no haze transform)")

    # Built-up and bare soil: the land that is neither vegetated, water, cloud nor snow.
    # Spectra rarely split the two reliably across sensors, so the land is built-up unless the
    # scene shows a separate soil-like mode (``_split_bare``).
    if ndvi is not None or "vegetation" in masks:
        not_land = np.zeros(n, dtype=bool)
        for k in ("water", "cloud", "snow"):
            if k in masks:
                not_land |= masks[k]
        if ndvi is not None:
            land = ndvi < thr["NDVI"] - params.builtup_ndvi_margin
        else:
            land = ~(idx("ExG") > thr["ExG"] - params.builtup_ndvi_margin / 2)
        land &= ~not_land
        if haze is not None:
            # Hazy land is flat like roofs: it would teach the built-up class the haze; unless
            # the "haze" was too dim for cloud and is most of the land (bright roofs).
            share = float((land & haze.hazy).sum() / max(land.sum(), 1))
            if haze_is_land and share > params.haze_land_max_share:
                notes.append(
                    f"the haze candidates are {share:.0%} of the non-vegetated land and no "
                    "brighter than it: taken as land (roofs, bright soil), not haze"
                )
                bright_land[:] = False  # they are in the land seeds already
            else:
                land &= ~haze.hazy
        bare, split_thr, split_how, split_note = _split_bare(bands, land, params)
        thr.update(split_thr)
        how.update(split_how)
        notes.append(split_note)
        masks["builtup"] = land & ~bare
        masks["bare"] = bare
        # Reddened bright candidates outside the land seeds (sand with some NDVI, bright soil):
        # land, but unlike the land seeds; a component of their own keeps either from
        # broadening the other (one Gaussian over both also took the vegetation).
        bright_land &= ~not_land & ~land
        if bright_land.sum() >= need:
            side = "bare" if bare.any() and _soil_side(bands, bright_land, split_thr) else "builtup"
            extra = ((side, bright_land),)

    # Exclusivity: drop pixels claimed by two classes.
    claimed = np.zeros(n, dtype=np.int32)
    for m in [*masks.values(), *(m for _, m in extra)]:
        claimed += m
    masks = {k: m & (claimed == 1) for k, m in masks.items()}
    extra = tuple((k, m & (claimed == 1)) for k, m in extra)
    extra = tuple((k, m) for k, m in extra if m.sum() >= need)
    for k, m in list(masks.items()):
        if 0 < m.sum() < need:
            notes.append(f"few {k} seeds ({int(m.sum())}): {k} class disabled")
            masks[k] = np.zeros(n, dtype=bool)
    return SeedResult(
        masks=masks, thresholds=thr, how=how, notes=tuple(notes), extra_components=extra
    )


#: Soil-likeness indices, best first: soils rise steeply from the blue to the SWIR (BSI), or at
#: least from the blue to the red; impervious surfaces are flatter.
_SOIL_SCORES = (("BSI", ("blue", "red", "nir", "swir1")), ("NDBI", ("nir", "swir1")))


#: What the undivided land is returned as (`SpectralBackend.target_lut`); the end of the
#: seeds' note that the two could not be told apart.
ONE_LAND = (
    "the non-vegetated land is one class, returned as built-up (as bare soil where that is "
    "asked for without built-up)"
)


def _soil_score(bands: Mapping[str, np.ndarray]) -> str | None:
    """The best soil-likeness index the bands allow, or None without SWIR."""
    return next((nm for nm, roles in _SOIL_SCORES if set(roles) <= set(bands)), None)


def _soil_side(
    bands: Mapping[str, np.ndarray], pixels: np.ndarray, split_thr: Mapping[str, float]
) -> bool:
    """Whether most of `pixels` lie above the scene's bare-soil split (`_split_bare`'s
    thresholds; False when there was none)."""
    name = _soil_score(bands)
    t = split_thr.get(f"{name} (bare soil)")
    return t is not None and bool(np.median(compute_index(name, bands)[pixels]) > t)


def _split_bare(
    bands: Mapping[str, np.ndarray], land: np.ndarray, params: SpectralParams
) -> tuple[np.ndarray, dict[str, float], dict[str, str], str]:
    """Bare-soil seeds among the non-vegetated ``land``: only a distinct soil-like mode.

    The soil score (BSI, else NDBI) of the land pixels is cut at its Otsu threshold; the
    upper side is bare soil when the two sides are distinct modes (Ashman's D at least
    ``params.bare_evidence_z``) and the upper one is at most ``params.bare_max_share`` of it. Otherwise no
    bare seeds: the land stays built-up, and the explanation says the two could not be
    told apart.
    """
    none = np.zeros(land.shape, dtype=bool)
    name = _soil_score(bands)
    if name is None or land.sum() < 50:
        why = "no SWIR band" if name is None else "little non-vegetated land"
        return none, {}, {}, f"built-up and bare soil not separated ({why}): {ONE_LAND}"
    score = compute_index(name, bands)
    t, d = bimodality(score[land])
    upper = land & (score > t)
    share = float(upper.sum() / max(land.sum(), 1))
    thr = {f"{name} (bare soil)": float(t)}
    how = {
        f"{name} (bare soil)": f"Otsu on {name} of the non-vegetated land; bare soil above it "
        f"only if the two sides are distinct modes (Ashman's D >= {params.bare_evidence_z})"
    }
    if d >= params.bare_evidence_z and share <= params.bare_max_share:
        return (
            upper,
            thr,
            how,
            (f"bare soil is a distinct {name} mode of the non-vegetated land (D = {d:.1f})"),
        )
    return (
        none,
        thr,
        how,
        (
            f"built-up and bare soil could not be told apart ({name} of the land has no "
            f"distinct soil mode, D = {d:.1f}): {ONE_LAND}"
        ),
    )
