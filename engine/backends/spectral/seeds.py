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
from .params import SpectralParams

#: Seeds below this count disable a class (too few to fit a covariance reliably); tiny samples
#: (unit tests, small rasters) use ``min_seeds``.
MIN_SEEDS = 25


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


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of finite ``values`` (histogram over their 0.5-99.5 percentile range)."""
    v = values[np.isfinite(values)]
    if v.size < 2:
        return float("nan")
    lo, hi = np.percentile(v, [0.5, 99.5])
    if not hi > lo:
        return float(lo)
    hist, edges = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
    centres = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(hist).astype(np.float64)
    w1 = w0[-1] - w0
    s0 = np.cumsum(hist * centres)
    m0 = s0 / np.maximum(w0, 1)
    m1 = (s0[-1] - s0) / np.maximum(w1, 1)
    between = (w0 * w1 * (m0 - m1) ** 2)[:-1]
    # Well-separated modes give a plateau of equal maxima (every empty bin between them):
    # take its middle, not its first bin at the foot of the lower mode.
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    return float(edges[1 + int(best[len(best) // 2])])


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


def mode_gap(values: np.ndarray, t: float) -> float:
    """Distance between the medians of the two sides of threshold ``t`` (0 if one is empty).

    Compares a candidate mode with the rest of the scene, not with the scene's median, which
    a class covering half the scene (a coastal or flooded scene's water) drags towards itself.
    """
    above, below = values[values > t], values[values <= t]
    if above.size == 0 or below.size == 0:
        return 0.0
    return float(np.median(above) - np.median(below))


def bimodality(values: np.ndarray) -> tuple[float, float]:
    """Otsu threshold of ``values`` and Ashman's D of the two sides (separation in pooled sd).

    D > 2 is the usual mark of two distinct modes; a unimodal histogram cut in two gives
    about 1.6-1.9 for any threshold.
    """
    t = otsu_threshold(values)
    a, b = values[values > t], values[values <= t]
    if a.size < 2 or b.size < 2:
        return t, 0.0
    d = np.sqrt(2) * abs(a.mean() - b.mean()) / np.sqrt(a.var() + b.var() + 1e-12)
    return t, float(d)


def _clamp(value: float, lo: float, hi: float) -> float:
    return float(min(max(value, lo), hi)) if np.isfinite(value) else float(lo)


def _rel(v: np.ndarray, q: float) -> float:
    return float(np.percentile(v, q))


def _robust_z(v: np.ndarray) -> np.ndarray:
    """(v - median) / (1.4826 MAD), with the MAD floored so a flat scene is not all outliers."""
    med = np.median(v)
    mad = max(1.4826 * float(np.median(np.abs(v - med))), 0.02)
    return (v - med) / mad


def _dark_for_water(bands: Mapping[str, np.ndarray], cal: bool) -> np.ndarray | bool:
    """Water absorbs NIR and SWIR: both well below the scene's typical land (its 75th
    percentile, so a scene mostly of water still has land there), and for reflectance below
    fixed levels too. Wet soil, snow and haze fail it (bright NIR); shadows are the risk."""
    dark: np.ndarray | bool = True
    for role, limit in (("nir", 0.2), ("swir1", 0.15)):
        if role in bands:
            v = bands[role]
            dark = dark & (v < 0.6 * _rel(v, 75))
            if cal:
                dark = dark & (v < limit)
    return dark


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
    tail = (_robust_z(w) > 4.0) & (w > np.median(w) + 0.25) & (nir < _rel(nir, 5))
    tail &= _dark_for_water(bands, cal)
    if "swir1" in bands:
        tail &= bands["swir1"] < _rel(bands["swir1"], 5)
    if ndvi is not None and ndvi_t is not None:
        # Mixed pond pixels keep much of their neighbours' NDVI: only dense canopy is excluded.
        tail &= ndvi < max(ndvi_t, 0.6)
    if cal:
        tail &= (nir < 0.2) & (w > -0.3)
    # A tail is a small part of the scene; a large one would have made a histogram mode.
    if tail.mean() > 0.05:
        return None
    return tail


#: Cirrus (S2 B10, 1375 nm) TOA reflectance above which a pixel is high cloud: Sen2Cor's
#: thin-cirrus level (0.012); Fmask 4 scales B10 / 0.04 into a cirrus probability. Surface light
#: hardly reaches the sensor at 1375 nm (water vapour absorbs it), so clear sky is near 0.
CIRRUS_REFLECTANCE = 0.012


#: Share of the scene that must be strong haze (HOT) before haze is modelled at all.
HAZE_MIN_SHARE = 0.005


@dataclass(frozen=True)
class HazeResult:
    """Cloud and haze evidence over the sample: confident cloud, any haze, and how."""

    cloud: np.ndarray  # strong haze, thick cloud or cirrus: cloud seeds
    hazy: np.ndarray  # weak haze too: kept out of the land-cover seeds
    thresholds: dict[str, float]
    how: dict[str, str]
    notes: tuple[str, ...] = ()
    cirrus: np.ndarray | None = None  # cirrus-band cloud: measured directly, no contrast test


def clear_line_hot(blue: np.ndarray, red: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Haze-optimised transform against this scene's clear line (Zhang et al. 2002).

    Clear land lies on a line in blue-red space; haze adds more blue than red and moves pixels
    above it. The line is the lower envelope (20th percentile of blue in 24 red bins, by
    quantile), so haze, bright water and clouds do not pull it up. Returns (HOT, intercept,
    slope): HOT is the perpendicular distance above the line, in the bands' own units.
    """
    edges = np.quantile(red, np.linspace(0.02, 0.98, 25))
    xs, ys = [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (red >= lo) & (red <= hi)
        if m.sum() >= max(5, len(red) // 2000):
            xs.append(float(np.median(red[m])))
            ys.append(float(np.percentile(blue[m], 20)))
    if len(xs) >= 3 and np.ptp(xs) > 0:
        slope, icept = np.polyfit(xs, ys, 1)
    else:
        slope, icept = 0.5, float(np.percentile(blue - 0.5 * red, 20))
    slope = float(np.clip(slope, 0.2, 1.5))  # a physical clear line: blue rises with red
    icept = float(np.percentile(blue - slope * red, 20)) if not np.isfinite(icept) else icept
    return (blue - (icept + slope * red)) / np.sqrt(1 + slope * slope), float(icept), slope


def _haze(bands: Mapping[str, np.ndarray], cal: bool, n: int) -> HazeResult | None:
    """Cloud and haze from the cirrus band and the scene-fitted HOT (None without blue + red).

    HOT above the clear land's median by max(5 robust sigma, 10 % of the median blue) is
    strong haze or cloud (a seed); by max(2.5 sigma, 4 %) it is haze that must not seed land
    classes. Dark water (its blue is high for its red) is excluded; whiteness (Fmask's flat
    visible spectrum, < 0.7) and above-median visible brightness are required of cloud seeds.
    """
    roles = set(bands)
    cloud = np.zeros(n, dtype=bool)
    hazy = np.zeros(n, dtype=bool)
    thr: dict[str, float] = {}
    how: dict[str, str] = {}
    notes: list[str] = []
    if "cirrus" in roles:
        ci = bands["cirrus"]
        # Digital numbers: clear sky is the band's floor; cirrus is a far, bright tail.
        t_ci = CIRRUS_REFLECTANCE if cal else max(4.0 * _rel(ci, 50), _rel(ci, 50) + 0.05)
        high = ci > t_ci
        thr["cirrus"] = float(t_ci)
        how["cirrus"] = (
            f"cirrus band > {CIRRUS_REFLECTANCE} TOA reflectance (Sen2Cor thin cirrus)"
            if cal
            else "cirrus band > 4x its scene median (digital numbers)"
        )
        if high.mean() > 0.001:
            cloud |= high
            hazy |= high
        else:
            notes.append("cirrus band: no cirrus in this scene (haze, if any, is low cloud)")
    if not {"blue", "red"} <= roles:
        notes.append("no blue band: haze cannot be measured (HOT); thin haze is not flagged")
        if "cirrus" not in roles:
            return None
        return HazeResult(cloud, hazy, thr, how, tuple(notes), cloud.copy())
    cirrus = cloud.copy()
    blue, red = bands["blue"], bands["red"]
    hot, icept, slope = clear_line_hot(blue, red)
    wet = _dark_for_water(bands, cal)
    land = ~wet if isinstance(wet, np.ndarray) else np.ones(n, dtype=bool)
    ref = hot[land] if land.sum() > 10 else hot
    med = float(np.median(ref))
    sigma = 1.4826 * float(np.median(np.abs(ref - med)))
    b_med = _rel(blue, 50)
    t_strong = med + max(5.0 * sigma, 0.10 * b_med)
    t_weak = med + max(2.5 * sigma, 0.04 * b_med)
    vis = [bands[r] for r in ("blue", "green", "red") if r in roles]
    mean = np.mean(vis, axis=0)
    white = np.sum([np.abs(v - mean) for v in vis], axis=0) / np.maximum(mean, 1e-6)
    # Haze flattens the visible spectrum: whiter than this scene's typical land (its median
    # whiteness), not only Fmask's absolute 0.7, which bright roofs and soils also pass.
    w_med = float(np.median(white[land])) if land.any() else 0.7
    w_strong, w_weak = min(0.7, 0.6 * w_med), min(0.7, 0.8 * w_med)
    strong = land & (hot > t_strong) & (white < w_strong) & (mean > _rel(mean, 50))
    thr["HOT"] = float(t_strong)
    thr["HOT (haze)"] = float(t_weak)
    if strong.mean() < HAZE_MIN_SHARE:
        # A few pixels above the clear line are bright roofs and soils (HOT's known confusers),
        # not a haze layer: haze and cloud cover a sizeable part of a scene when present.
        notes.append(f"no haze layer: {strong.mean():.2%} of the scene above the HOT threshold")
        return HazeResult(cloud, hazy, thr, how, tuple(notes), cirrus)
    cloud |= strong
    hazy |= land & (hot > t_weak) & (white < w_weak)
    how["HOT"] = (
        f"blue above this scene's clear line (blue = {icept:.3g} + {slope:.2f} red): median "
        "+ max(5 robust sigma, 0.1 x median blue); visible brighter than the median and "
        "flatter (whiteness < 0.6 x the scene's median, Fmask's test made relative)"
    )
    how["HOT (haze)"] = (
        "median + max(2.5 robust sigma, 0.04 x median blue), whiteness < 0.8 x the median: "
        "no land seeds there"
    )
    return HazeResult(cloud, hazy, thr, how, tuple(notes), cirrus)


def select_seeds(
    bands: Mapping[str, np.ndarray], calibrated: bool, params: SpectralParams | None = None
) -> SeedResult:
    """Confident seed masks per class from index priors on the (offset-corrected) sample bands.

    ``bands`` are 1-D arrays keyed by role, all finite. Classes: water, vegetation, builtup,
    bare, snow, cloud, shadow (internal). Seeds of two classes never overlap.
    """
    notes: list[str] = []
    has_green = "green" in bands
    if not has_green and "red" in bands:
        # Snow is as bright in red as in green and dark in SWIR: red stands in for green in
        # NDSI. Not for water: clear water's red can be below its SWIR (measured on spyndex).
        bands = dict(bands, green=bands["red"])
        notes.append("no green band: red stands in for green in the snow index")
    roles = set(bands)
    n = len(next(iter(bands.values())))
    need = min_seeds(n)
    masks: dict[str, np.ndarray] = {}
    thr: dict[str, float] = {}
    how: dict[str, str] = {}
    cal = calibrated

    def idx(name: str) -> np.ndarray:
        return compute_index(name, bands)

    has_vnir = {"red", "nir"} <= roles
    ndvi = idx("NDVI") if has_vnir else None
    vis = [r for r in ("blue", "green", "red") if r in roles]
    bright = np.mean([bands[r] for r in vis], axis=0) if vis else None

    # Vegetation: NDVI above a scene threshold (Otsu, clamped), plus a margin.
    if ndvi is not None:
        t = (
            _clamp(otsu_threshold(ndvi), 0.3, 0.6)
            if cal
            else _clamp(otsu_threshold(ndvi), 0.05, 0.6)
        )
        thr["NDVI"] = t
        how["NDVI"] = "Otsu on the scene's NDVI histogram, clamped to " + (
            "[0.3, 0.6]" if cal else "[0.05, 0.6] (digital numbers)"
        )
        masks["vegetation"] = ndvi > t + 0.05
    elif {"green", "red", "blue"} <= roles:
        exg = idx("ExG")
        t = _clamp(otsu_threshold(exg), 0.02, 0.2)
        thr["ExG"] = t
        how["ExG"] = "Otsu on the scene's excess-green histogram, clamped to [0.02, 0.2]"
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
        t = _clamp(otsu_threshold(w), lo, hi)
        thr[w_name] = t
        how[w_name] = f"Otsu on the scene's {w_name} histogram, clamped to [{lo}, {hi}]"
        seed = w > t + 0.05
        if w_name == "MNDWI" and "nir" in roles:
            # Both water indices must agree: MNDWI alone also rises on wet or snowy ground
            # (low SWIR), NDWI alone on shadows; open water has NIR below green as well.
            ndwi = idx("NDWI")
            lo_n, hi_n = (0.0, 0.3) if cal else (-0.1, 0.5)
            t_n = _clamp(otsu_threshold(ndwi), lo_n, hi_n)
            thr["NDWI"] = t_n
            how["NDWI"] = f"Otsu on the scene's NDWI histogram, clamped to [{lo_n}, {hi_n}]"
            seed &= ndwi > t_n
        if ndvi is not None:
            seed &= ndvi < thr.get("NDVI", 0.3) - 0.1
        seed &= _dark_for_water(bands, cal)
        # A real water mode sits well above the scene's bulk; otherwise it is land noise.
        if seed.sum() >= need and mode_gap(w, t) < 0.3:
            seed[:] = False
            notes.append(f"{w_name} has no separated water mode")
        if seed.sum() < need:
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
        notes.append("no green band, or neither NIR nor SWIR1: water cannot be detected")

    # Snow: high NDSI, bright in green; cloud: very bright and flat in the visible.
    if {"green", "swir1"} <= roles and bright is not None:
        ndsi = idx("NDSI")
        g = bands["green"]
        g_hi = 0.2 if cal else max(_rel(g, 50) * 2.5, _rel(g, 99))
        masks["snow"] = (ndsi > 0.4) & (g > g_hi)
        thr["NDSI"] = 0.4
        how["NDSI"] = "fixed NDSI > 0.4 with bright green (Dozier 1989)"
    haze = _haze(bands, cal, n)
    haze_is_land = False
    if haze is not None:
        thr.update(haze.thresholds)
        how.update(haze.how)
        notes.extend(haze.notes)
    if ("blue" in roles or "red" in roles) and bright is not None:
        # Clouds are bright across the visible: red stands in for a missing blue band.
        b = bands.get("blue", bands.get("red"))
        # Digital numbers: clouds are several times brighter than the scene's typical land,
        # far beyond bright roofs and soil (which stay within about 2x the median).
        b_hi = 0.3 if cal else 3.0 * _rel(b, 50)
        cloud = (b > b_hi) & (bright > (0.3 if cal else 3.0 * _rel(bright, 50)))
        if "swir1" in roles:
            cloud &= bands["swir1"] > (0.2 if cal else _rel(bands["swir1"], 75))
        cloud, note = _contrasted_cloud(cloud, bright, params or SpectralParams())
        if note:
            notes.append(note)
        if haze is not None:
            # Haze is measured against the clear line; still brighter than the land's bright
            # end, which villages' roofs are not.
            # The cirrus band sees cloud directly; only HOT's candidates need the contrast test.
            cirrus = haze.cirrus if haze.cirrus is not None else np.zeros(n, dtype=bool)
            hot_cloud = haze.cloud & ~cirrus & ~cloud
            hazy_cloud, note = _contrasted_cloud(hot_cloud, bright, params, "haze")
            if note:
                notes.append(note)
                haze_is_land = True  # what HOT took for haze is the scene's bright land
            cloud |= hazy_cloud | cirrus
        if "snow" in masks:
            cloud &= ~masks["snow"]
        masks["cloud"] = cloud
        thr["blue"] = float(b_hi)
        how["blue"] = "bright blue " + ("> 0.3 reflectance" if cal else "> 3x the scene median")
        if "blue" not in roles:
            notes.append("no blue band: cloud is found by brightness only (no haze transform)")

    # Built-up and bare soil: the land that is neither vegetated, water, cloud nor snow.
    # Spectra rarely split the two reliably across sensors, so the land is built-up unless the
    # scene shows a separate soil-like mode (``_split_bare``).
    params = params or SpectralParams()
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
            else:
                land &= ~haze.hazy
        bare, split_thr, split_how, split_note = _split_bare(bands, land, params)
        thr.update(split_thr)
        how.update(split_how)
        notes.append(split_note)
        masks["builtup"] = land & ~bare
        masks["bare"] = bare

    # Exclusivity: drop pixels claimed by two classes.
    claimed = np.zeros(n, dtype=np.int32)
    for m in masks.values():
        claimed += m
    masks = {k: m & (claimed == 1) for k, m in masks.items()}
    for k, m in list(masks.items()):
        if 0 < m.sum() < need:
            notes.append(f"few {k} seeds ({int(m.sum())}): {k} class disabled")
            masks[k] = np.zeros(n, dtype=bool)
    return SeedResult(masks=masks, thresholds=thr, how=how, notes=tuple(notes))


#: Soil-likeness indices, best first: soils rise steeply from the blue to the SWIR (BSI), or at
#: least from the blue to the red; impervious surfaces are flatter.
_SOIL_SCORES = (("BSI", ("blue", "red", "nir", "swir1")), ("NDBI", ("nir", "swir1")))


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
    name = next((nm for nm, roles in _SOIL_SCORES if set(roles) <= set(bands)), None)
    if name is None or land.sum() < 50:
        why = "no SWIR band" if name is None else "little non-vegetated land"
        return none, {}, {}, f"built-up and bare soil not separated ({why}): land is built-up"
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
            f"distinct soil mode, D = {d:.1f}): the non-vegetated land is mapped as built-up"
        ),
    )


def _contrasted_cloud(
    cloud: np.ndarray, bright: np.ndarray, params: SpectralParams | None, kind: str = "cloud"
) -> tuple[np.ndarray, str]:
    """Cloud seeds only when they are far brighter than the scene's bright land.

    Roofs, sand and bright soils also pass the cloud tests (bright, flat, above the clear line);
    clouds are brighter still: their median visible brightness is at least
    ``params.cloud_contrast`` times the 95th percentile of everything else.
    """
    params = params or SpectralParams()
    need = params.cloud_contrast if kind == "cloud" else params.haze_contrast
    if cloud.sum() == 0 or (~cloud).sum() == 0:
        return cloud, ""
    ratio = float(np.median(bright[cloud]) / max(np.percentile(bright[~cloud], 95), 1e-6))
    if ratio >= need:
        return cloud, ""
    return np.zeros_like(cloud), (
        f"{kind} candidates are only {ratio:.2f}x the bright land (< {need}x): "
        "bright roofs or soils, not cloud"
    )
