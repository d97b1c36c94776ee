"""The mapping of raster bands to roles, and its resolution.

A raster band's *role* (``red``, ``nir``, ``swir1`` ...) is what indices and backends ask for.
Roles come, in this order of precedence, from ``--bands`` (one role per band), ``--sensor``
(a preset from ``resources/sensors/*.json``), the raster's band descriptions, or, only for
band counts that identify a sensor on their own, the band count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..errors import BandError
from .roles import (
    BAND_ROLES,
    ROLE_CENTERS_NM,
    check_unique,
    norm_key,
    normalize_role,
    parse_numbered_roles,
    parse_roles,
)
from .sensors import PresetBand, SensorPreset, get_preset, load_presets

MAPPING_SOURCES = ("--bands", "--sensor", "band descriptions", "band count")

_WAVELENGTH_NM = re.compile(r"(\d+(?:\.\d+)?)\s*(?:nm|nanomet(?:er|re)s?)\b", re.IGNORECASE)
_WAVELENGTH_UM = re.compile(r"(\d+(?:\.\d+)?)\s*(?:µm|um|micrometers?|micrometres?)\b", re.I)


@dataclass(frozen=True)
class BandMapping:
    """The role of each raster band (``None`` = unused), the sensor preset and how it was found.

    ``source`` is one of ``--bands``, ``--sensor``, ``band descriptions``, ``band count``.
    """

    roles: tuple[str | None, ...]
    sensor: str | None
    source: str

    def __post_init__(self) -> None:
        if self.source not in MAPPING_SOURCES:
            raise ValueError(f"unknown mapping source {self.source!r}")
        for role in self.roles:
            if role is not None and role not in BAND_ROLES:
                raise ValueError(f"unknown band role {role!r}")
        check_unique(self.roles, f"band roles from {self.source}")

    def index_of(self, role: str) -> int | None:
        """The 0-based raster band index carrying ``role``, or ``None``."""
        try:
            return self.roles.index(role)
        except ValueError:
            return None

    def has(self, *roles: str) -> bool:
        """Whether every one of ``roles`` is carried by some band."""
        return all(role in self.roles for role in roles)

    def require(
        self, roles: Sequence[str], what: str, hint: str = "set --bands or --sensor"
    ) -> None:
        """Raise one `BandError` line if any of `roles` is missing: what needs them, what the
        raster lacks and has, and `hint` (how to fix it)."""
        missing = [role for role in roles if role not in self.roles]
        if missing:
            raise BandError(
                f"{what} needs bands {', '.join(roles)}; the raster lacks {', '.join(missing)} "
                f"(it has {', '.join(self.present_roles()) or 'none'}); {hint}."
            )

    def present_roles(self) -> tuple[str, ...]:
        """The roles carried by the raster, in band order."""
        return tuple(role for role in self.roles if role is not None)

    def to_dict(self) -> dict:
        """A JSON-ready form for the run manifest."""
        return {
            "roles": list(self.roles),
            "sensor": self.sensor,
            "source": self.source,
            "bands": {str(i + 1): role for i, role in enumerate(self.roles) if role is not None},
        }


def describe_mapping(mapping: BandMapping, descriptions: Sequence[str | None] | None = None) -> str:
    """One human line: ``B1=coastal, B2=blue, ..., B5=unused`` (1-based raster band numbers).

    With ``descriptions``, a band whose description is not simply ``B<n>`` shows it in brackets,
    e.g. ``B4[SR_B4]=red``.
    """
    parts = []
    for i, role in enumerate(mapping.roles):
        label = f"B{i + 1}"
        desc = descriptions[i] if descriptions is not None and i < len(descriptions) else None
        if desc and desc.strip() and desc.strip().upper() != label:
            label = f"{label}[{desc.strip()}]"
        parts.append(f"{label}={role or 'unused'}")
    return ", ".join(parts)


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


def _match_preset_band(desc: str, preset: SensorPreset) -> PresetBand | None:
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
#: ... whose band for a role must lie this close to the role's centre wavelength.
SPECTROMETER_TOLERANCE_NM = 15.0


def _role_from_wavelength(wavelength: float) -> str | None:
    role, center = min(ROLE_CENTERS_NM.items(), key=lambda item: abs(item[1] - wavelength))
    return role if abs(center - wavelength) <= max(40.0, 0.05 * center) else None


#: Descriptions an error message quotes before it counts the rest.
SHOWN_DESCRIPTIONS = 8
#: Beyond this many bands, one role per band is too long to write: the hints show roles by
#: band number (``48=red``).
MANY_BANDS = 16


def _fmt_descriptions(descriptions: Sequence[str | None]) -> str:
    if not any(d and d.strip() for d in descriptions):
        return "none"
    shown = [repr(d.strip()) if d and d.strip() else "''" for d in descriptions]
    if len(shown) > SHOWN_DESCRIPTIONS:
        shown = [*shown[:SHOWN_DESCRIPTIONS], f"... ({len(shown) - SHOWN_DESCRIPTIONS} more)"]
    return ", ".join(shown)


def _fix_hint(band_count: int) -> str:
    if band_count > MANY_BANDS:  # name the few bands that have a role
        how = "name the bands that have a role with --bands (e.g. --bands 16=blue,30=green,"
        how += "48=red,72=nir,149=swir1,193=swir2"
    else:
        example = ",".join(("blue", "green", "red", "nir", "swir1", "swir2", "-", "-")[:band_count])
        how = f"give one role per band with --bands (e.g. --bands {example}"
        how += ",..." if band_count > 8 else ""
    return (
        f"{how}; roles: {', '.join(BAND_ROLES)}, '-' for unused) or --sensor NAME "
        f"({', '.join(load_presets())})"
    )


def _mapping_from_preset_names(
    band_count: int, descriptions: Sequence[str | None], preset: SensorPreset
) -> tuple[str | None, ...] | None:
    """Roles from descriptions matched against one preset's band names, or ``None`` if none match.

    Bands whose description names no band of the preset take a role word if they carry one
    (``red``), else stay unused.
    """
    roles: list[str | None] = []
    matched = 0
    for desc in descriptions:
        band = _match_preset_band(desc, preset) if desc else None
        if band is not None:
            matched += 1
            roles.append(band.role)
        else:
            roles.append(normalize_role(desc) if desc else None)
    if matched == 0:
        return None
    check_unique(roles, f"band descriptions for --sensor {preset.name}")
    return tuple(roles)


def _from_sensor(
    band_count: int, descriptions: Sequence[str | None], preset: SensorPreset
) -> BandMapping:
    roles = _mapping_from_preset_names(band_count, descriptions, preset)
    if roles is not None and (band_count != len(preset.bands) or all(descriptions)):
        return BandMapping(roles, preset.name, "--sensor")
    if band_count == len(preset.bands):
        return BandMapping(preset.roles, preset.name, "--sensor")
    raise BandError(
        f"--sensor {preset.name} expects {len(preset.bands)} bands "
        f"({', '.join(b.name for b in preset.bands)}) but the raster has {band_count} bands and "
        f"its band descriptions ({_fmt_descriptions(descriptions)}) do not name them; "
        "give one role per band with --bands role,role,..."
    )


def _preset_score(preset: SensorPreset, matched: list[PresetBand]) -> tuple[bool, bool]:
    """(covers every band, matched bands are contiguous in product order) for tie-breaking."""
    positions = sorted(preset.bands.index(b) for b in matched if b in preset.bands)
    complete = len(positions) == len(preset.bands)
    contiguous = bool(positions) and positions[-1] - positions[0] + 1 == len(positions)
    return complete, contiguous


def _from_descriptions(
    band_count: int, descriptions: Sequence[str | None]
) -> tuple[tuple[str | None, ...], str | None] | None:
    """Roles (and the sensor, if product names identified one) from band descriptions.

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
        if not desc:
            continue
        word = normalize_role(desc)
        if word is not None:
            roles[i] = word
            recognised += 1
            continue
        hits = {p.name: band for p in presets if (band := _match_preset_band(desc, p)) is not None}
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
    for role, candidates in by_wavelength.items():
        distance, index = min(candidates)
        if role not in roles and (not spectrometer or distance <= SPECTROMETER_TOLERANCE_NM):
            roles[index] = role
    check_unique(roles, "band descriptions " + _fmt_descriptions(descriptions))
    return tuple(roles), sensor


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
    shown = _fmt_descriptions(descriptions)
    if not candidates:
        raise BandError(
            f"band descriptions {shown} mix band names of different sensors; "
            + _fix_hint(band_count)
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
            f"band descriptions {shown} fit several sensors ({options}); " + _fix_hint(band_count),
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
            f"Sentinel-2 without its B12; " + _fix_hint(band_count),
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


def narrow_nir_as_nir(mapping: BandMapping) -> BandMapping:
    """`mapping` with a lone narrow NIR band as its NIR band.

    Sentinel-2's 20 m products (``R20m``) carry B8A (865 nm) and no B08, as may a stack
    built from them or from a spectrometer; B8A is where Landsat's NIR lies, and every
    NIR index reads it as well. Without this, such a raster had no NIR at all.
    """
    roles = mapping.roles
    if "nir08" not in roles or "nir" in roles:
        return mapping
    roles = tuple("nir" if role == "nir08" else role for role in roles)
    return BandMapping(roles, mapping.sensor, mapping.source)


def resolve_band_mapping(
    band_count: int,
    descriptions: Sequence[str | None],
    sensor: str | None = None,
    bands: str | Sequence[str] | None = None,
) -> BandMapping:
    """The role of every raster band, from ``--bands``, ``--sensor``, descriptions or band count.

    - ``bands``: exactly one role per band (see ``parse_roles``), or roles by band number
      (``48=red,72=nir``, the rest unused: ``parse_numbered_roles``); ``sensor``, if also given,
      is kept for the scaling only.
    - ``sensor``: the preset's band order when the band count matches; otherwise (or when every
      band has a description) the descriptions are matched to the preset's band names.
    - otherwise the descriptions: role words (``Red``, ``near infrared``, ``SWIR 1``), product
      names (``B04``, ``B8A``, ``SR_B4``, ``ST_B10``), or wavelengths (``665 nm``; an imaging
      spectrometer's hundreds: the band nearest each role's centre, within
      ``SPECTROMETER_TOLERANCE_NM``, carries it; ties go to the first band). Plain
      ``B1``..``B7`` fit Sentinel-2 and Landsat alike and are accepted only when one reading is
      clearly better (``B8A``/``B12``/``B02`` mean Sentinel-2; ``SR_B6`` means OLI; ``SR_B7``
      without ``SR_B6`` means TM/ETM+). Undescribed or unrecognised bands stay unused.
    - without any descriptions, only a band count that identifies a preset on its own
      (``match_band_count``: 13 bands = Sentinel-2 L1C) is used.

    A narrow NIR band without a broad one becomes the NIR band (`narrow_nir_as_nir`).

    Raises ``BandError`` naming what was found and the flags that fix it.
    """
    return narrow_nir_as_nir(_resolve_band_mapping(band_count, descriptions, sensor, bands))


def _resolve_band_mapping(
    band_count: int,
    descriptions: Sequence[str | None],
    sensor: str | None = None,
    bands: str | Sequence[str] | None = None,
) -> BandMapping:
    """`resolve_band_mapping` before `narrow_nir_as_nir`."""
    if band_count < 1:
        raise BandError(f"the raster has {band_count} bands; it needs at least one")
    descs: list[str | None] = [
        d.strip() if isinstance(d, str) and d.strip() else None for d in descriptions
    ][:band_count]
    descs += [None] * (band_count - len(descs))
    preset = get_preset(sensor) if sensor else None

    if bands is not None:
        numbered = parse_numbered_roles(bands, band_count) if isinstance(bands, str) else None
        roles = numbered if numbered is not None else parse_roles(bands)
        if len(roles) != band_count:
            raise BandError(
                f"--bands gives {len(roles)} roles but the raster has {band_count} bands; "
                "give one role per band, in order"
                + (
                    ", or name the bands by number (e.g. 48=red,72=nir)"
                    if band_count > MANY_BANDS
                    else ""
                )
            )
        if not any(roles):
            raise BandError("--bands marks every band unused; give at least one role")
        return BandMapping(roles, preset.name if preset else None, "--bands")

    if preset is not None:
        return _from_sensor(band_count, descs, preset)

    found = _from_descriptions(band_count, descs)
    if found is not None:
        roles, found_sensor = found
        return BandMapping(roles, found_sensor, "band descriptions")

    if not any(descs):
        by_count = [
            p for p in load_presets().values() if p.match_band_count and len(p.bands) == band_count
        ]
        if len(by_count) == 1:
            return BandMapping(by_count[0].roles, by_count[0].name, "band count")
    raise BandError(
        f"cannot tell the band roles: the raster has {band_count} bands and band descriptions "
        f"{_fmt_descriptions(descs)}; " + _fix_hint(band_count)
    )
