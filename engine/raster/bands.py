"""The mapping of raster bands to roles, and its resolution.

A raster band's *role* (``red``, ``nir``, ``swir1`` ...) is what indices and backends ask for.
Roles come, in this order of precedence, from ``--bands`` (one role per band), ``--sensor``
(a preset from ``resources/sensors/*.json``), the raster's band descriptions, or, only for
band counts that identify a sensor on their own, the band count; `product_names` adds what a
product name and the colour interpretation (``colour_interp``) say where these fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import BandError
from .band_names import (
    MANY_BANDS,
    fix_hint,
    fmt_descriptions,
    match_preset_band,
    roles_from_descriptions,
)
from .roles import BAND_ROLES, check_unique, normalize_role, parse_numbered_roles, parse_roles
from .sensors import SensorPreset, get_preset, load_presets

MAPPING_SOURCES = (
    "--bands", "--sensor", "band descriptions", "colour interpretation", "band count",
    "product band order",
)  # fmt: skip


@dataclass(frozen=True)
class BandMapping:
    """The role of each raster band (``None`` = unused), the sensor preset and how it was found.

    ``source`` is one of ``MAPPING_SOURCES``.
    """

    roles: tuple[str | None, ...]
    sensor: str | None
    source: str
    #: (asked, carried): a role answered by the band of another (`narrow_nir_as_nir`: a lone
    #: narrow NIR band carries ``nir`` and still answers for ``nir08``).
    stand_ins: tuple[tuple[str, str], ...] = ()
    #: (role, 0-based bands): a role read as the mean of several bands, its own band among
    #: them (an imaging spectrometer's bands near the role's centre: `band_names`).
    averaged: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: 0-based bands whose role was dropped: they hold 0 or nodata on every sampled pixel
    #: (`dead_bands`).
    dead: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.source not in MAPPING_SOURCES:
            raise ValueError(f"unknown mapping source {self.source!r}")
        for role in self.roles:
            if role is not None and role not in BAND_ROLES:
                raise ValueError(f"unknown band role {role!r}")
        check_unique(self.roles, f"band roles from {self.source}")
        for role, members in self.averaged:
            own = self.roles.index(role) if role in self.roles else None
            if own not in members or not all(0 <= i < len(self.roles) for i in members):
                raise ValueError(f"averaged bands {members} of {role!r} do not hold its band")

    def bands_of(self, role: str) -> tuple[int, ...]:
        """The 0-based bands whose mean answers for `role` (its own band alone, usually)."""
        role = self.carrier(role)
        group = dict(self.averaged).get(role)
        if group is not None:
            return group
        index = self.index_of(role)
        return () if index is None else (index,)

    def carrier(self, role: str) -> str:
        """The role whose band answers for `role`: itself, or the role standing in for it."""
        return role if role in self.roles else dict(self.stand_ins).get(role, role)

    def index_of(self, role: str) -> int | None:
        """The 0-based raster band index answering for ``role``, or ``None``."""
        try:
            return self.roles.index(self.carrier(role))
        except ValueError:
            return None

    def has(self, *roles: str) -> bool:
        """Whether every one of ``roles`` is answered by some band."""
        return all(self.index_of(role) is not None for role in roles)

    def require(
        self, roles: Sequence[str], what: str, hint: str = "set --bands or --sensor"
    ) -> None:
        """Raise one `BandError` line if any of `roles` is missing: what needs them, what the
        raster lacks and has, and `hint` (how to fix it)."""
        missing = [role for role in roles if self.index_of(role) is None]
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
            **({"stand_ins": dict(self.stand_ins)} if self.stand_ins else {}),
            **(
                {"averaged": {role: [i + 1 for i in group] for role, group in self.averaged}}
                if self.averaged
                else {}
            ),
            **({"dead_bands": [i + 1 for i in self.dead]} if self.dead else {}),
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
        band = match_preset_band(desc, preset) if desc else None
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
        f"its band descriptions ({fmt_descriptions(descriptions)}) do not name them; "
        "give one role per band with --bands role,role,..."
    )


def narrow_nir_as_nir(mapping: BandMapping) -> BandMapping:
    """`mapping` with a lone narrow NIR band as its NIR band.

    Sentinel-2's 20 m products (``R20m``) carry B8A (865 nm) and no B08, as may a stack
    built from them or from a spectrometer; B8A is where Landsat's NIR lies, and every
    NIR index reads it as well. Without this, such a raster had no NIR at all. The band still
    answers for ``nir08`` (a model that asks for B8A by that role).
    """
    roles = mapping.roles
    if "nir08" not in roles or "nir" in roles:
        return mapping
    roles = tuple("nir" if role == "nir08" else role for role in roles)
    averaged = tuple(("nir" if r == "nir08" else r, group) for r, group in mapping.averaged)
    return BandMapping(roles, mapping.sensor, mapping.source, (("nir08", "nir"),), averaged)


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
      (``match_band_count``: 13 bands = Sentinel-2 L1C) is used. (A raster that fails all of
      these may still be read by a product name or its colour interpretation:
      `product_names.file_band_mapping`.)

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

    found = roles_from_descriptions(band_count, descs)
    if found is not None:
        roles, found_sensor, averaged = found
        return BandMapping(roles, found_sensor, "band descriptions", averaged=averaged)

    if not any(descs):
        by_count = [
            p for p in load_presets().values() if p.match_band_count and len(p.bands) == band_count
        ]
        if len(by_count) == 1:
            return BandMapping(by_count[0].roles, by_count[0].name, "band count")
    indices = _index_bands(descs)
    if indices and len(indices) == band_count:
        raise BandError(
            f"the raster holds the spectral index {', '.join(indices)}, not reflectance bands: "
            "give the multiband raster it was computed from (an index alone cannot tell the "
            f"classes apart), or threshold it yourself (Raster Calculator: {indices[0]} > 0.3)"
        )
    raise BandError(
        f"cannot tell the band roles: the raster has {band_count} bands and band descriptions "
        f"{fmt_descriptions(descs)}; " + fix_hint(band_count)
    )


def _index_bands(descriptions: Sequence[str | None]) -> list[str]:
    """The spectral indices that the bands' descriptions name (``NDVI``, as `spex indices`
    writes it), in band order."""
    from ..indices import INDICES

    by_key = {name.upper(): name for name in INDICES}
    return [by_key[d.strip().upper()] for d in descriptions if d and d.strip().upper() in by_key]
