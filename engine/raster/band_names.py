"""What band descriptions say of a band's role: role words, a sensor preset's band names and
product codes (``B04``, ``SR_B4``; the sensor they fit, where several do), or a wavelength (an
imaging spectrometer's nearest band per role). `bands.resolve_band_mapping` asks them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from ..errors import BandError
from .reflectance_maps import band_named
from .roles import BAND_ROLES, ROLE_CENTERS_NM, check_unique, norm_key, normalize_role
from .sensors import PresetBand, SensorPreset, load_presets
from .vrt_sources import named_by_sources

_WAVELENGTH_NM = re.compile(r"(\d+(?:\.\d+)?)\s*(?:nm|nanomet(?:er|re)s?)\b", re.IGNORECASE)
_WAVELENGTH_UM = re.compile(r"(\d+(?:\.\d+)?)\s*(?:µm|um|micrometers?|micrometres?)\b", re.I)


#: Layers a product stores among its reflectance bands, by the names GDAL's drivers and the
#: providers give them: Sentinel-2 L2A's aerosol optical thickness, water vapour, scene
#: classification and cloud and snow probabilities (GDAL: ``AOT, Aerosol Optical Thickness map
#: (at 550nm)``; band files ``..._SCL_20m``), its true-colour image, Landsat's quality and
#: surface-temperature auxiliary bands, HLS's Fmask and angle bands. Their values are no
#: reflectance: they never take a role (the 550 nm of AOT is the retrieval's, not a band's) and
#: never count in the scaling's percentiles (AOT's values of 100 or so would say that a product
#: adding 1000 to its reflectance had the offset removed).
AUXILIARY_LAYER = re.compile(
    r"(?<![A-Z0-9])(AOT|WVP|SCL|CLD|SNW|CLDPRB|SNWPRB|TCI|QA|QA_PIXEL|QA_RADSAT|SR_QA_AEROSOL"
    r"|ST_QA|ST_ATRAN|ST_CDIST|ST_DRAD|ST_EMIS|ST_EMSD|ST_TRAD|ST_URAD|PIXEL_QA|RADSAT_QA"
    r"|SR_CLOUD_QA|SR_AEROSOL|FMASK|SAA|SZA|VAA|VZA)(?![A-Z0-9])"
)


def is_auxiliary(desc: str | None) -> bool:
    """Whether a band description names a product's auxiliary layer (`AUXILIARY_LAYER`)."""
    return bool(desc) and AUXILIARY_LAYER.search(desc.upper()) is not None


def wavelength_nm(text: str) -> float | None:
    """The wavelength a band description gives (``665 nm``, ``418.2 Nanometers``,
    ``1.61 um``), in nm, or None."""
    match = _WAVELENGTH_NM.search(text)
    if match:
        return float(match.group(1))
    match = _WAVELENGTH_UM.search(text)
    if match:
        return float(match.group(1)) * 1000.0
    return None


def completed_descriptions(
    descriptions: Sequence[str | None], band_tags: Sequence[Mapping[str, str]], path: str
) -> list[str | None]:
    """A raster's band descriptions as the band roles are read from them, for the engine and
    the dock alike: in a VRT, a band without one named by its source file (`vrt_sources`; a
    drone flight's reflectance map by the band its name ends in:
    `reflectance_maps.band_named`), then completed from the bands' metadata
    (`described_bands`)."""
    named = [band_named(d) for d in named_by_sources(descriptions, path)]
    return described_bands(named, band_tags)


def described_bands(
    descriptions: Sequence[str | None], band_tags: Sequence[Mapping[str, str]]
) -> list[str | None]:
    """Band descriptions completed with what spectrometer products keep in band metadata.

    ENVI-style metadata (``wavelength``, ``wavelength_units``; EnMAP, PRISMA, DESIS, AVIRIS as
    GDAL reads them) gives the wavelength of a band described by nothing but its number (no
    description, or ``Band 3``); a description that says more is kept as it is. A band flagged
    bad (``bbl`` 0: an absorption band, often filled with nodata) loses its description, so it
    gets no role. `band_tags` holds each band's metadata, in band order.
    """
    out: list[str | None] = []
    for i, (desc, raw_tags) in enumerate(zip(descriptions, band_tags, strict=True), start=1):
        tags = {k.lower(): v.strip() for k, v in raw_tags.items()}
        if tags.get("bbl") in ("0", "0.0"):
            out.append(None)
            continue
        wavelength = tags.get("wavelength", "")
        if wavelength and _GENERIC_BAND.fullmatch((desc or "").strip()):
            units = tags.get("wavelength_units", tags.get("wavelength_unit", "")).lower()
            micro = units.startswith(("micro", "um", "µm"))
            desc = f"{desc or f'band {i}'} ({wavelength} {'um' if micro else 'nm'})"
        out.append(desc)
    return out


#: What GDAL and its drivers call a band that has no name: nothing, or its number.
_GENERIC_BAND = re.compile(r"(?:band\s*_?\d+)?", re.IGNORECASE)


def _near(center: float | None, wavelength: float | None) -> bool:
    """Whether a preset band's centre agrees with a wavelength read from a description."""
    if center is None or wavelength is None:
        return True
    return abs(center - wavelength) <= max(30.0, 0.03 * center)


@lru_cache(maxsize=1)
def _product_codes() -> tuple[str, ...]:
    """Every product code (letters with digits, no spaces) of every preset, longest first."""
    codes = {
        name.upper()
        for preset in load_presets().values()
        for band in preset.bands + preset.extra_bands
        for name in (band.name, *band.aliases)
        if " " not in name and re.search(r"\d", name)
    }
    return tuple(sorted(codes, key=lambda code: (-len(code), code)))


def _codes_in(desc: str) -> set[str]:
    """The product codes named inside a description; a code inside a longer one does not count.

    ``LC08_..._SR_B4`` names ``SR_B4`` only, not ``B4``; ``B4, central wavelength 665 nm``
    names ``B4``.
    """
    upper = desc.upper()
    taken: list[tuple[int, int]] = []
    found: set[str] = set()
    for code in _product_codes():
        for match in re.finditer(rf"(?<![A-Z0-9]){re.escape(code)}(?![A-Z0-9])", upper):
            start, end = match.span()
            if all(end <= a or start >= b for a, b in taken):
                taken.append((start, end))
                found.add(code)
    return found


def match_preset_band(desc: str, preset: SensorPreset) -> PresetBand | None:
    """The preset band (or extra band) a description names, by product name or alias.

    The whole description is compared first (``Green I`` = ``green_i``), then product codes are
    searched inside it (see ``_codes_in``). A description naming two bands of the preset, or
    giving a wavelength far from the band's centre, matches none.
    """
    bands = preset.bands + preset.extra_bands
    key = norm_key(desc)
    for band in bands:
        if key in (norm_key(n) for n in (band.name, *band.aliases)):
            return band
    codes = _codes_in(desc)
    hits = [b for b in bands if codes.intersection(n.upper() for n in (b.name, *b.aliases))]
    if len(hits) != 1:
        return None
    band = hits[0]
    return band if _near(band.center_nm, wavelength_nm(desc)) else None


#: More bands known by wavelength than this make an imaging spectrometer (EnMAP: 224) ...
SPECTROMETER_BANDS = 16
#: ... whose bands for a role must lie this close to the role's centre wavelength: the
#: nearest names the role, and the role is read as the mean of them all (a narrow band is
#: noisier than a multispectral one, and one striped band should not decide a class).
SPECTROMETER_TOLERANCE_NM = 15.0


def _role_from_wavelength(wavelength: float) -> str | None:
    role, center = min(ROLE_CENTERS_NM.items(), key=lambda item: abs(item[1] - wavelength))
    return role if abs(center - wavelength) <= max(40.0, 0.05 * center) else None


#: Descriptions an error message quotes before it counts the rest.
SHOWN_DESCRIPTIONS = 8
#: Beyond this many bands, one role per band is too long to write: the hints show roles by
#: band number (``48=red``).
MANY_BANDS = 16


def fmt_descriptions(descriptions: Sequence[str | None]) -> str:
    """The descriptions as an error message quotes them (``none``; the first few, then a count)."""
    if not any(d and d.strip() for d in descriptions):
        return "none"
    shown = [repr(d.strip()) if d and d.strip() else "''" for d in descriptions]
    if len(shown) > SHOWN_DESCRIPTIONS:
        shown = [*shown[:SHOWN_DESCRIPTIONS], f"... ({len(shown) - SHOWN_DESCRIPTIONS} more)"]
    return ", ".join(shown)


def fix_hint(band_count: int) -> str:
    """The end of a band-role error: the flags that fix it, with an example for `band_count`."""
    if band_count > MANY_BANDS:  # name the few bands that have a role
        example = (  # an imaging spectrometer's numbers where it has that many bands
            "16=blue,30=green,48=red,72=nir,149=swir1,193=swir2"
            if band_count >= 193
            else "2=blue,3=green,4=red,8=nir,12=swir1,13=swir2"
        )
        how = f"name the bands that have a role with --bands (e.g. --bands {example}"
    else:
        example = ",".join(("blue", "green", "red", "nir", "swir1", "swir2", "-", "-")[:band_count])
        how = f"give one role per band with --bands (e.g. --bands {example}"
        how += ",..." if band_count > 8 else ""
    return (
        f"{how}; roles: {', '.join(BAND_ROLES)}, '-' for unused) or --sensor NAME "
        f"({', '.join(load_presets())})"
    )


def _preset_score(preset: SensorPreset, matched: list[PresetBand]) -> tuple[bool, bool]:
    """(covers every band, matched bands are contiguous in product order) for tie-breaking."""
    positions = sorted(preset.bands.index(b) for b in matched if b in preset.bands)
    complete = len(positions) == len(preset.bands)
    contiguous = bool(positions) and positions[-1] - positions[0] + 1 == len(positions)
    return complete, contiguous


def roles_from_descriptions(
    band_count: int, descriptions: Sequence[str | None]
) -> tuple[tuple[str | None, ...], str | None, tuple[tuple[str, tuple[int, ...]], ...]] | None:
    """Roles, the sensor (if product names identified one) and an imaging spectrometer's
    averaged roles (role, 0-based bands: `BandMapping.averaged`) from band descriptions.

    Returns ``None`` when no band is recognised; raises ``BandError`` when the descriptions fit
    several sensors with different roles or give a role twice.
    """
    presets = [p for p in load_presets().values() if not p.named_only]
    roles: list[str | None] = [None] * band_count
    coded: dict[int, dict[str, PresetBand]] = {}
    # Bands known by their wavelength alone, per role: (distance from the role's centre, index).
    by_wavelength: dict[str, list[tuple[float, int]]] = {}
    recognised = 0
    for i, desc in enumerate(descriptions):
        if not desc or is_auxiliary(desc):
            continue
        word = normalize_role(desc)
        if word is not None:
            roles[i] = word
            recognised += 1
            continue
        hits = {p.name: band for p in presets if (band := match_preset_band(desc, p)) is not None}
        # Role words used as band names (NAIP "Red") never get here; codes identify sensors.
        if hits:
            coded[i] = hits
            recognised += 1
            continue
        wavelength = wavelength_nm(desc)
        if wavelength is not None and (role := _role_from_wavelength(wavelength)) is not None:
            by_wavelength.setdefault(role, []).append((abs(wavelength - ROLE_CENTERS_NM[role]), i))
            recognised += 1
    if recognised == 0:
        return None
    sensor = None
    if coded:
        sensor = _choose_sensor(coded, descriptions, roles)
        for i, hits in coded.items():
            roles[i] = hits[sensor].role
    # An imaging spectrometer has many bands near each role's centre: the nearest carries it,
    # if it is close (a 1319 nm band is no cirrus band where the 1375 nm ones are flagged bad).
    # A role that a name or code already gave keeps that band.
    spectrometer = sum(map(len, by_wavelength.values())) > SPECTROMETER_BANDS
    averaged: list[tuple[str, tuple[int, ...]]] = []
    for role, candidates in by_wavelength.items():
        distance, index = min(candidates)
        if role not in roles and (not spectrometer or distance <= SPECTROMETER_TOLERANCE_NM):
            roles[index] = role
            near = sorted(i for d, i in candidates if d <= SPECTROMETER_TOLERANCE_NM)
            if spectrometer and len(near) > 1:
                averaged.append((role, tuple(near)))
    check_unique(roles, "band descriptions " + fmt_descriptions(descriptions))
    return tuple(roles), sensor, tuple(averaged)


def _repeated_bands_hint(
    coded: dict[int, dict[str, PresetBand]], names: set[str], known: Sequence[str | None]
) -> str | None:
    """Where one sensor's band names explain every description but some more than once (a
    stack of several dates or scenes): the rest of the refusal, with the roles of the first
    date's bands by number; None otherwise."""
    presets = load_presets()
    for name in sorted(names, key=list(presets).index):
        first: dict[int, str] = {}  # band number -> role, each of the sensor's bands once
        seen: set[int] = set()
        repeated = []
        for i in sorted(coded):
            band = coded[i][name]
            if id(band) in seen:
                repeated.append(band.name)
            else:
                seen.add(id(band))
                first[i + 1] = band.role
        if not repeated:
            continue
        first |= {i + 1: role for i, role in enumerate(known) if role}
        wanted = ("blue", "green", "red", "nir", "swir1", "swir2")
        example = ",".join(f"{n}={r}" for n, r in sorted(first.items()) if r in wanted)
        example = f", e.g. --bands {example} (the first)" if example else " with --bands"
        return (
            f"name {name} bands more than once ({', '.join(dict.fromkeys(repeated))}): a stack "
            "of several dates or scenes? A run reads one: give the roles of one date's bands "
            f"by number{example}, or split the stack "
            "(gdal_translate -b N ... for each date)."
        )
    return None


def _choose_sensor(
    coded: dict[int, dict[str, PresetBand]],
    descriptions: Sequence[str | None],
    known: Sequence[str | None],
) -> str:
    """The one preset whose band names explain every coded description, with tie-breaks.

    Candidates giving the same roles are equivalent (Sentinel-2 L1C/L2A); otherwise a preset
    whose bands are all present wins, then one whose matched bands are contiguous
    (``SR_B1..SR_B5, SR_B7`` is TM/ETM+, not OLI without its SR_B6). ``known`` holds the
    roles the other bands' descriptions already gave (role words), for the readings offered
    when several sensors remain.
    """
    band_count = len(known)
    presets = load_presets()
    names = set.intersection(*(set(hits) for hits in coded.values()))
    candidates = []
    for name in sorted(names, key=list(presets).index):
        matched = [coded[i][name] for i in coded]
        if len(set(map(id, matched))) == len(matched):
            candidates.append(name)
    shown = fmt_descriptions(descriptions)
    if not candidates:
        repeated = _repeated_bands_hint(coded, names, known)
        raise BandError(
            f"band descriptions {shown} {repeated}"
            if repeated
            else f"band descriptions {shown} mix band names of different sensors; "
            + fix_hint(band_count)
        )
    groups: dict[tuple, list[str]] = {}
    for name in candidates:
        groups.setdefault(tuple(coded[i][name].role for i in sorted(coded)), []).append(name)
    if len(groups) > 1:
        for pick in (0, 1):
            winners = [
                key
                for key, members in groups.items()
                if any(
                    _preset_score(presets[m], [coded[i][m] for i in coded])[pick] for m in members
                )
            ]
            if len(winners) == 1:
                groups = {winners[0]: groups[winners[0]]}
                break
    if len(groups) > 1:
        options = "; ".join(
            f"{'/'.join(members)}: {','.join(r or '-' for r in key)}"
            for key, members in groups.items()
        )
        readings = {
            "/".join(members): _reading(known, dict(zip(sorted(coded), key, strict=True)))
            for key, members in groups.items()
        }
        raise BandError(
            f"band descriptions {shown} fit several sensors ({options}); " + fix_hint(band_count),
            readings,
        )
    members = next(iter(groups.values()))

    def preference(name: str) -> tuple:
        preset = presets[name]
        complete, contiguous = _preset_score(preset, [coded[i][name] for i in coded])
        return (len(preset.bands) != band_count, not complete, not contiguous, len(preset.bands))

    chosen = min(members, key=preference)
    band_names = {coded[i][chosen].name for i in coded}
    if chosen.startswith("sentinel2") and {"B10", "B11"} <= band_names and "B12" not in band_names:
        # Landsat 8/9 Level-1 names its bands B1..B11, every one a Sentinel-2 name too: read as
        # Sentinel-2, its panchromatic band became NIR and a thermal band SWIR1. A Sentinel-2
        # stack with B10 (Level-1C only) has B12 as well.
        readings = {
            sensor: _reading(
                known,
                {i: hits[sensor].role if sensor in hits else None for i, hits in coded.items()},
            )
            for sensor in ("landsat8_9_oli", chosen)
        }
        raise BandError(
            f"band descriptions {shown} fit Landsat 8/9 Level-1 (B10 and B11 thermal) as well as "
            f"Sentinel-2 without its B12; " + fix_hint(band_count),
            readings,
        )
    return chosen


def _reading(
    known: Sequence[str | None], coded_roles: dict[int, str | None]
) -> tuple[str | None, ...]:
    """One role per band: the `known` roles with the coded bands' roles of one sensor."""
    roles = list(known)
    for i, role in coded_roles.items():
        roles[i] = role
    return tuple(roles)
