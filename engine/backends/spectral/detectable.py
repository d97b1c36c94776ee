"""Which classes the spectral backend can find with the bands a raster has.

`seeds.select_seeds` seeds each class from indices that need certain bands; without them the
class is never seeded, whatever the scene holds. Known from the band roles alone, before the
sample is read: a run that asks only for such classes stops with one line, and a run that asks
for others too says so beside the class, instead of an empty map that reads as "none here".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .examples import EXAMPLES_WHERE

#: Vegetation, and the land found beside it: NDVI, or excess green without NIR (where red also
#: stands in for a missing green band, as in the snow index; never in the water indices).
_GREENNESS = (frozenset({"red", "nir"}), frozenset({"blue", "red"}))
_GREENNESS_WORDS = "red and NIR bands, or blue, green and red"
#: Per class: the sets of band roles, any one of which lets the seeds find it, and the words
#: for what it needs.
NEEDS: dict[str, tuple[tuple[frozenset[str], ...], str]] = {
    "water": (
        (frozenset({"green", "nir"}), frozenset({"green", "swir1"})),
        "a green band with a NIR or SWIR1 band, for NDWI or MNDWI",
    ),
    "vegetation": (_GREENNESS, _GREENNESS_WORDS),
    # Tree cover is the part of the vegetation darkest in the visible bands (`tree_cover`).
    "forest": (_GREENNESS, _GREENNESS_WORDS),
    "builtup": (_GREENNESS, _GREENNESS_WORDS),
    "bare": (_GREENNESS, _GREENNESS_WORDS),
    "snow": (
        (frozenset({"green", "swir1"}), frozenset({"red", "swir1"})),
        "a green or red band with a SWIR1 band, for NDSI",
    ),
    "cloud": ((frozenset({"blue"}), frozenset({"red"})), "a blue or red band"),
}


def undetectable(targets: Iterable[str], roles: Iterable[str]) -> dict[str, str]:
    """The `targets` that bands of `roles` cannot show, each with what it would need."""
    have = set(roles)
    out = {}
    for target in targets:
        alternatives, words = NEEDS.get(target, ((frozenset(),), ""))
        if not any(needed <= have for needed in alternatives):
            out[target] = words
    return out


#: Below this pixel size (metres) a building's or a tree's shadow fills whole pixels (a WorldView
#: or PlanetScope scene, an aerial image), where at 10 m and more it is mostly mixed into them.
FINE_PIXEL_M = 5.0


def fine_shadow_note(
    targets: Iterable[str], roles: Iterable[str], pixel_m: float | None
) -> str | None:
    """What water cannot be told from at fine pixels, where water is asked for and the pixels
    are finer than `FINE_PIXEL_M`, or of unknown size (`pixel_m` None: no CRS) without a SWIR
    band; None otherwise. Seen on a real WorldView-3 suburb at 1.2 m: 9.8 % of it mapped as
    water with NDWI alone, none of which was; 4.7 % with MNDWI and its SWIR product's bands, car
    parks and dark roads (docs/benchmarks.md, "Maxar products read by their IMD", "WorldView-3's
    SWIR product"); on an airborne campus at 1 m without a CRS, 9.8 % with NDWI, its shadows
    ("A held-out airborne scene")."""
    if "water" not in set(targets):
        return None
    fix = (
        "check the water against the image, or give examples of water and of what passes "
        f"for it ({EXAMPLES_WHERE})"
    )
    swir = "swir1" in set(roles)
    if pixel_m is None and not swir:
        return (
            "water without a SWIR band, at pixels of unknown size (no CRS): if they are finer "
            f"than {FINE_PIXEL_M:g} m (an aerial, drone or WorldView image), the shadows of "
            f"buildings and trees and dark asphalt pass NDWI as water does; {fix}"
        )
    if pixel_m is None or not pixel_m < FINE_PIXEL_M:
        return None
    if swir:
        return (
            f"water at {pixel_m:.2g} m pixels: dark asphalt (car parks, new roads) is dark in "
            f"SWIR too and can pass MNDWI as water does; {fix}"
        )
    return (
        f"water at {pixel_m:.2g} m pixels without a SWIR band: the shadows of buildings and "
        f"trees and dark asphalt pass NDWI as water does; {fix}"
    )


#: Pixels finer than this (metres) no satellite product has (the finest, 0.3 m, resampled to
#: 0.15 m at most): the image is a drone's or a low aircraft's, taken below the clouds.
AIRBORNE_PIXEL_M = 0.1


def taken_below_clouds(sensor_title: str | None, airborne: str, pixel_m: float | None) -> str:
    """Why the image can hold no cloud, for the seeds (`seeds.select_seeds`): an airborne
    sensor's (`airborne`, ``SensorPreset.airborne``: what takes its images; `sensor_title` names
    it) or pixels finer than `AIRBORNE_PIXEL_M`; "" for any other image."""
    if airborne and sensor_title:
        return f"{sensor_title}: taken by {airborne}"
    if pixel_m is not None and pixel_m < AIRBORNE_PIXEL_M:
        return (
            f"pixels of {pixel_m:.2g} m, finer than any satellite product's ({AIRBORNE_PIXEL_M:g} "
            "m): taken by a drone or a low aircraft, below the clouds"
        )
    return ""


#: The share of the scene (as its sample's most probable class) above which cloud or snow at
#: fine pixels is said to be possibly white roofs and cars.
FINE_WHITE_SHARE = 0.001


def fine_white_note(shares: Mapping[str, float], pixel_m: float | None) -> str | None:
    """What cloud and snow cannot be told from at pixels finer than `FINE_PIXEL_M`: white
    roofs and cars fill whole pixels there and are as white and bright (and as dark in SWIR,
    for snow) as they are; None where neither takes `FINE_WHITE_SHARE` of the scene (its
    sample's `shares`) or the pixels are coarser. Seen on a real cloudless WorldView-3 suburb
    at 1.2 m: 1.7 % cloud (flat white roofs) and 0.4 % snow (white cars)."""
    if pixel_m is None or not pixel_m < FINE_PIXEL_M:
        return None
    found = [c for c in ("cloud", "snow") if shares.get(c, 0.0) >= FINE_WHITE_SHARE]
    if not found:
        return None
    what = " and ".join(f"{c} ({shares[c]:.1%} of the scene)" for c in found)
    return (
        f"{what} at {pixel_m:.2g} m pixels: white roofs and cars fill whole pixels there and "
        "are as white and bright as cloud and snow; check them against the image before "
        "trusting them, what they are said to hide, or the shadows they are said to cast"
    )
