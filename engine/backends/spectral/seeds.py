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
from functools import partial

import numpy as np

from ...indices import compute_index
from .bright_patches import SampleGrid, bright_candidates, roof_sized
from .haze import (
    HazeResult,
    blue_red_ratio,
    contrasted_cloud,
    dimmer_than_canopy,
    find_haze,
    reddened,
)
from .histograms import bimodality, clamp, otsu_threshold, rel, saturated
from .params import SpectralParams
from .seed_context import SeedContext
from .water_seeds import water_seeds

#: Snow seeds on reflectance: SWIR1 below this. Ice absorbs at 1.6 um, so snow is dark there
#: (the benchmark's 25,248 labelled snow pixels with NDSI > 0.4: 95th percentile 0.111, none
#: above 0.2) where water clouds stay bright (their 21,081 such pixels: median 0.38). A cloud
#: whose red is clipped passes NDSI > 0.4 and was taken for snow (dev Landsat SR cloud
#: 0.400 -> 0.593, snow 0.365 -> 0.509; 0.15 and 0.25 measured the same within 0.03).
SNOW_SWIR1_MAX = 0.2
#: Vegetation seeds: NDVI this far above the scene's vegetation cut, clear of its edge.
VEGETATION_SEED_MARGIN = 0.05


#: A class's second component: (class, seed mask, what it is in words).
_Extra = tuple[str, np.ndarray, str]


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
    #: What each of `extra_components` is, in words ("bright, reddened", "white roofs").
    extra_kinds: tuple[str, ...] = ()


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


#: The bands whose brightness tests (snow, cloud) a clipped value passes.
BRIGHTNESS_ROLES = ("blue", "green", "red", "swir1")


def select_seeds(
    bands: Mapping[str, np.ndarray],
    calibrated: bool,
    params: SpectralParams | None = None,
    below_clouds: str = "",
    sample_grid: SampleGrid | None = None,
) -> SeedResult:
    """Confident seed masks per class from index priors on the (offset-corrected) sample bands.

    ``bands`` are 1-D arrays keyed by role, all finite. Classes: water, vegetation, builtup,
    bare, snow, cloud. Seeds of two classes never overlap. `below_clouds` says why the image
    can hold no cloud (`detectable.taken_below_clouds`): its whitest pixels are land, and seed
    no cloud. `sample_grid`: the whole sample on its grid, `bands` among its pixels (None: the
    cloud candidates' patches are not measured).
    """
    s = _context(bands, calibrated, params or SpectralParams(), sample_grid)
    masks: dict[str, np.ndarray] = {}
    if (vegetation := _vegetation_seeds(s)) is not None:
        masks["vegetation"] = vegetation
    if (water := water_seeds(s)) is not None:
        masks["water"] = water
    # Snow and cloud are white in the visible; sand, soil, roofs and silty water redden.
    tint = None
    if {"blue", "red"} <= s.roles:
        tint = blue_red_ratio(s.bands["blue"], s.bands["red"], s.clip["blue"], s.clip["red"])
    if (snow := _snow_seeds(s, tint)) is not None:
        masks["snow"] = snow
    haze = find_haze(s.bands, s.calibrated, s.n)
    if haze is not None:
        s.thresholds.update(haze.thresholds)
        s.how.update(haze.how)
        s.notes.extend(haze.notes)
    sky = _cloud_seeds(s, tint, haze, masks)
    if below_clouds and sky.cloud is not None:
        # The cloud tests cannot tell sand, concrete or white roofs on 8-bit counts from cloud
        # (bench: NAIP's beach sand); the flight's clear sky can.
        s.notes.append(
            f"{below_clouds}; the image's brightest, whitest surfaces are land (sand, roofs, "
            "concrete), so no cloud class is fitted; give examples of cloud (--examples) "
            "where one is in the image"
        )
        sky = _Sky(None, sky.bright_land, sky.haze_is_land, sky.roofs)
    if sky.cloud is not None:
        masks["cloud"] = sky.cloud
    extra: tuple[_Extra, ...] = ()
    if s.ndvi is not None or "vegetation" in masks:
        masks["builtup"], masks["bare"], extra = _land_seeds(s, masks, haze, sky)
    return _exclusive(s, masks, extra)


def _context(
    bands: Mapping[str, np.ndarray],
    calibrated: bool,
    params: SpectralParams,
    sample_grid: SampleGrid | None = None,
) -> SeedContext:
    """The sample as every class's seeds read it: its saturated pixels found (and said), red
    standing in for a missing green band in the snow index."""
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
    return SeedContext(
        bands, calibrated, params, clip, has_green, notes=notes, sample_grid=sample_grid
    )


def _vegetation_seeds(s: SeedContext) -> np.ndarray | None:
    """NDVI above a scene threshold (Otsu, clamped), plus a margin; without NIR, excess green.
    None without the bands for either."""
    if s.ndvi is not None:
        lo = 0.3 if s.calibrated else 0.05
        t = s.choose(
            "NDVI",
            clamp(otsu_threshold(s.ndvi), lo, 0.6),
            "Otsu on the scene's NDVI histogram, clamped to "
            + ("[0.3, 0.6]" if s.calibrated else "[0.05, 0.6] (digital numbers)"),
        )
        # A red band clipped at the sensor's maximum (bright cloud) lifts NDVI: not canopy.
        return (s.ndvi > t + VEGETATION_SEED_MARGIN) & ~s.clip.get("red", False)
    if not {"green", "red", "blue"} <= s.roles:
        return None
    exg = s.index("ExG")
    # Top-of-atmosphere and digital-number scenes carry a blue haze that pulls vegetation's
    # excess green towards 0: the floor sits below it (measured on true-colour versions of
    # the benchmark scenes).
    t = s.choose(
        "ExG",
        clamp(otsu_threshold(exg), -0.05, 0.2),
        "Otsu on the scene's excess-green histogram, clamped to [-0.05, 0.2]",
    )
    s.notes.append("no NIR band: vegetation is found by greenness only (excess green)")
    return exg > t + 0.02


def _snow_seeds(s: SeedContext, tint: np.ndarray | None) -> np.ndarray | None:
    """High NDSI and bright in green (on reflectance also dark in SWIR1); none where they
    redden from blue to red (silty water, sand). None without green and SWIR1."""
    if not {"green", "swir1"} <= s.roles or s.brightness is None:
        return None
    cal, clip = s.calibrated, s.clip
    ndsi = s.index("NDSI")
    g = s.bands["green"]
    g_hi = 0.2 if cal else max(rel(g, 50) * 2.5, rel(g, 99))
    # A clipped green (8-bit DN under snow) passes: a scene mostly snow lifts the median.
    snow = (ndsi > 0.4) & ((g > g_hi) | clip["green"])
    if cal:
        snow &= s.bands["swir1"] < SNOW_SWIR1_MAX
    s.thresholds["NDSI"] = 0.4
    s.how["NDSI"] = (
        "fixed NDSI > 0.4 with bright green (Dozier 1989)"
        + (" or green clipped" if clip["green"].any() else "")
        + (f", dark in SWIR1 (< {SNOW_SWIR1_MAX} reflectance)" if cal else "")
    )
    note = reddened(snow, tint, s.params, "snow") if tint is not None else ""
    if note:
        s.notes.append(note)
        return s.zeros()
    return snow


@dataclass(frozen=True)
class _Sky:
    """What the cloud tests decided: the cloud seeds (None without the bands for them), the
    bright candidates refused by their tint (land, not cloud), and whether what HOT took for
    haze is the scene's bright land."""

    cloud: np.ndarray | None
    bright_land: np.ndarray
    haze_is_land: bool = False
    #: Candidates refused for their patches' size: roofs (`bright_patches`), or None.
    roofs: np.ndarray | None = None


def _cloud_seeds(
    s: SeedContext,
    tint: np.ndarray | None,
    haze: HazeResult | None,
    masks: Mapping[str, np.ndarray],
) -> _Sky:
    """Bright across the visible (and in SWIR1), white, brighter than the scene's bright land
    and the canopy in NIR; HOT's haze and the cirrus band's high cloud join them. Snow seeds
    are no cloud."""
    bright_land, roofs = s.zeros(), None
    if not ("blue" in s.roles or "red" in s.roles) or s.brightness is None:
        return _Sky(None, bright_land)
    cal, clip, params, bright = s.calibrated, s.clip, s.params, s.brightness
    # Clouds are bright across the visible: red stands in for a missing blue band.
    b_role = "blue" if "blue" in s.bands else "red"
    b = s.bands[b_role]
    # Digital numbers: clouds, thin ones too, are well above the scene's typical land;
    # bright roofs and soil can be as well, and are refused by the tint and contrast tests.
    # One of the two values applies (read only that one: bench/read_values.py).
    if cal:
        b_hi = bright_hi = params.cloud_reflectance
    else:
        k = params.cloud_dn_brightness
        b_hi, bright_hi = k * rel(b, 50), k * rel(bright, 50)
    swir1_hi = (0.2 if cal else rel(s.bands["swir1"], 75)) if "swir1" in s.roles else None
    bright_enough = partial(
        bright_candidates, blue=b_role, visible=s.visible, limits=(b_hi, bright_hi, swir1_hi)
    )
    cloud = bright_enough(s.bands, clip)
    # The brightness tests above have no colour test; HOT's candidates below are above
    # the scene's clear line, which bright sand still is where the line is shallow.
    candidates = cloud
    note = reddened(cloud, tint, params) if tint is not None else ""
    if note:
        cloud = s.zeros()
    else:
        cloud, note = contrasted_cloud(cloud, bright, params)
    canopy = masks.get("vegetation")
    if not note and "nir" in s.bands and canopy is not None and canopy.sum() >= s.need:
        # Roofs and pavement pass the visible tests; a cloud outshines the canopy in NIR.
        cloud, note = dimmer_than_canopy(cloud, s.bands["nir"], canopy, clip[b_role])
    if not note and s.sample_grid is not None and params.cloud_min_patch_ha > 0:
        # Roofs as white as cloud are as large as buildings: the whole sample's patches tell.
        patches = s.sample_grid.patch_ha_of(bright_enough)
        kept, note = roof_sized(cloud, patches, params.cloud_min_patch_ha, s.sample_grid.cell_ha)
        cloud, roofs = kept, (cloud if note else None)
    if note:
        s.notes.append(note)
    # What these tests took for land (roofs, sand) is no haze either: HOT takes bright roofs
    # for haze as well, and judged among its haze they pass as cloud.
    refused = candidates & ~cloud
    haze_is_land = False
    if haze is not None:
        # HOT's candidates must also be brighter than the land's bright end, which towns'
        # roofs are not; the cirrus band sees cloud directly and needs no such test.
        cirrus = haze.cirrus if haze.cirrus is not None else s.zeros()
        hot_cloud = haze.cloud & ~cirrus & ~cloud
        note = reddened(hot_cloud, tint, params, "haze") if tint is not None else ""
        if note:
            bright_land, hot_cloud = hot_cloud, s.zeros()
        else:
            hot_cloud, note = contrasted_cloud(hot_cloud & ~refused, bright, params, "haze")
        if note:
            s.notes.append(note)
            haze_is_land = True  # what HOT took for haze is the scene's bright land
        cloud |= hot_cloud | cirrus
    if "snow" in masks:
        cloud &= ~masks["snow"]
    s.thresholds["blue"] = float(b_hi)
    s.how["blue"] = (
        "bright blue "
        + (f"> {b_hi} reflectance" if cal else f"> {k}x the scene median")
        + (" or clipped" if clip[b_role].any() else "")
    )
    if "blue" not in s.roles:
        s.notes.append("no blue band: cloud is found by brightness only (no haze transform)")
    return _Sky(cloud, bright_land, haze_is_land, roofs)


def _land_seeds(
    s: SeedContext, masks: Mapping[str, np.ndarray], haze: HazeResult | None, sky: _Sky
) -> tuple[np.ndarray, np.ndarray, tuple[_Extra, ...]]:
    """Built-up and bare-soil seeds, and second components of them (the reddened bright
    land, the white roofs the cloud tests refused for their size): the land that is
    neither vegetated, water, cloud nor snow.

    Spectra rarely split the two reliably across sensors, so the land is built-up unless the
    scene shows a separate soil-like mode (``_split_bare``).
    """
    params = s.params
    not_land = s.zeros()
    for k in ("water", "cloud", "snow"):
        if k in masks:
            not_land |= masks[k]
    if s.ndvi is not None:
        land = s.ndvi < s.thresholds["NDVI"] - params.builtup_ndvi_margin
    else:
        land = ~(s.index("ExG") > s.thresholds["ExG"] - params.builtup_ndvi_margin / 2)
    land &= ~not_land
    bright_land = sky.bright_land
    if haze is not None:
        # Hazy land is flat like roofs: it would teach the built-up class the haze; unless
        # the "haze" was too dim for cloud and is most of the land (bright roofs).
        share = float((land & haze.hazy).sum() / max(land.sum(), 1))
        if sky.haze_is_land and share > params.haze_land_max_share:
            s.notes.append(
                f"the haze candidates are {share:.0%} of the non-vegetated land and no "
                "brighter than it: taken as land (roofs, bright soil), not haze"
            )
            bright_land = s.zeros()  # they are in the land seeds already
        else:
            land &= ~haze.hazy
    bare, split_thr, split_how, split_note = _split_bare(s.bands, land, params)
    s.thresholds.update(split_thr)
    s.how.update(split_how)
    s.notes.append(split_note)
    # Reddened bright candidates outside the land seeds (sand with some NDVI, bright soil):
    # land, but unlike the land seeds; a component of their own keeps either from
    # broadening the other (one Gaussian over both also took the vegetation).
    bright_land = bright_land & ~not_land & ~land
    extra: tuple[_Extra, ...] = ()
    if bright_land.sum() >= s.need:
        side = "bare" if bare.any() and _soil_side(s.bands, bright_land, split_thr) else "builtup"
        extra = ((side, bright_land, "bright, reddened"),)
    if sky.roofs is not None and (roofs := sky.roofs & ~not_land).sum() >= s.need:
        # White roofs as bright as cloud: a component of their own, as the reddened ones.
        land &= ~roofs
        extra += (("builtup", roofs, "white roofs"),)
    return land & ~bare, bare, extra


def _exclusive(
    s: SeedContext, masks: dict[str, np.ndarray], extra: tuple[_Extra, ...]
) -> SeedResult:
    """The seeds with every pixel claimed by two classes dropped, and every class left with
    too few seeds disabled (with a note)."""
    claimed = np.zeros(s.n, dtype=np.int32)
    for m in [*masks.values(), *(m for _, m, _ in extra)]:
        claimed += m
    masks = {k: m & (claimed == 1) for k, m in masks.items()}
    extra = tuple((k, m & (claimed == 1), kind) for k, m, kind in extra)
    extra = tuple(e for e in extra if e[1].sum() >= s.need)
    for k, m in list(masks.items()):
        if 0 < m.sum() < s.need:
            s.notes.append(f"few {k} seeds ({int(m.sum())}): {k} class disabled")
            masks[k] = s.zeros()
    return SeedResult(
        masks=masks,
        thresholds=s.thresholds,
        how=s.how,
        notes=tuple(s.notes),
        extra_components=tuple((k, m) for k, m, _ in extra),
        extra_kinds=tuple(kind for _, _, kind in extra),
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
