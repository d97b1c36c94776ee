"""Sensor presets, kept as data in ``resources/sensors/*.json``: bands, roles, wavelengths, scaling."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import BandError
from .roles import BAND_ROLES, norm_key

SENSORS_DIR = Path(__file__).resolve().parents[2] / "resources" / "sensors"


@dataclass(frozen=True)
class PresetBand:
    """One band of a sensor preset: product name (``B04``, ``SR_B4``), role, centre wavelength.

    ``aliases`` are other names the band goes by in band descriptions (``B4`` for ``B04``).
    A role of ``None`` marks a band that duplicates another band's role and stays unused.
    """

    name: str
    role: str | None
    center_nm: float | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SensorPreset:
    """A sensor's bands in product order and its default reflectance scaling.

    ``calibrated`` says whether ``dn * scale + offset`` gives physical reflectance.
    ``extra_bands`` are bands outside the preset's order that may still appear in a stack
    (Landsat surface temperature), recognised by name only. ``match_band_count`` allows the
    preset to be chosen from the band count alone when a raster has no band descriptions.
    ``added_dn`` is an offset that newer products add to every digital number. A
    ``named_only`` preset's band names are another sensor's with other roles (HLS L30 numbers
    OLI's bands as Sentinel-2 does): it is used only where ``--sensor`` or a product name
    (``product_names``) names it, never guessed from band names. An ``airborne`` sensor's
    images are taken from below the clouds (the text says by what and why), so their whitest
    surfaces are land.
    """

    name: str
    title: str
    aliases: tuple[str, ...]
    bands: tuple[PresetBand, ...]
    scale: float
    offset: float
    calibrated: bool
    note: str
    extra_bands: tuple[PresetBand, ...] = ()
    match_band_count: bool = False
    #: Digital numbers some products of the sensor add to every value (Sentinel-2 from
    #: processing baseline 04.00: RADIO_ADD_OFFSET / BOA_ADD_OFFSET = -1000, stored as +1000);
    #: 0 where no product does. `reflectance.resolve_scaling` recognises such products.
    added_dn: float = 0.0
    named_only: bool = False
    #: What takes the images from below the clouds ("an aircraft flown under clear skies ..."),
    #: "" for a satellite: an airborne image's own brightness seeds no cloud class.
    airborne: str = ""

    @property
    def roles(self) -> tuple[str | None, ...]:
        """The role of each band, in product order."""
        return tuple(band.role for band in self.bands)


def _band_from_json(raw: dict, source: str) -> PresetBand:
    role = raw.get("role")
    if role is not None and role not in BAND_ROLES:
        raise ValueError(f"{source}: band {raw.get('name')!r} has unknown role {role!r}")
    center = raw.get("center_nm")
    return PresetBand(
        name=str(raw["name"]),
        role=role,
        center_nm=None if center is None else float(center),
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
    )


def _preset_from_json(path: Path) -> SensorPreset:
    raw = json.loads(path.read_text(encoding="utf-8"))
    source = path.name
    preset = SensorPreset(
        name=str(raw["name"]),
        title=str(raw["title"]),
        aliases=tuple(str(a) for a in raw.get("aliases", ())),
        bands=tuple(_band_from_json(b, source) for b in raw["bands"]),
        scale=float(raw["scale"]),
        offset=float(raw.get("offset", 0.0)),
        calibrated=bool(raw["calibrated"]),
        note=str(raw.get("note", "")),
        extra_bands=tuple(_band_from_json(b, source) for b in raw.get("extra_bands", ())),
        match_band_count=bool(raw.get("match_band_count", False)),
        added_dn=float(raw.get("added_dn", 0.0)),
        named_only=bool(raw.get("named_only", False)),
        airborne=str(raw.get("airborne", "")),
    )
    if preset.name != path.stem:
        raise ValueError(f"{source}: name {preset.name!r} differs from the file name")
    roles = [b.role for b in preset.bands + preset.extra_bands if b.role is not None]
    if len(roles) != len(set(roles)):
        raise ValueError(f"{source}: a role is given to more than one band")
    if not (math.isfinite(preset.scale) and preset.scale > 0 and math.isfinite(preset.offset)):
        raise ValueError(f"{source}: scale must be finite and positive, offset finite")
    return preset


@lru_cache(maxsize=1)
def _load_presets_cached() -> tuple[tuple[str, SensorPreset], ...]:
    presets = [_preset_from_json(p) for p in sorted(SENSORS_DIR.glob("*.json"))]
    seen: dict[str, str] = {}
    for preset in presets:
        for key in {norm_key(preset.name), *(norm_key(a) for a in preset.aliases)}:
            if key in seen and seen[key] != preset.name:
                raise ValueError(f"sensor alias {key!r} is used by {seen[key]} and {preset.name}")
            seen[key] = preset.name
    return tuple((p.name, p) for p in presets)


def load_presets() -> dict[str, SensorPreset]:
    """All sensor presets by name, read once from ``resources/sensors/*.json``."""
    return dict(_load_presets_cached())


def get_preset(name: str) -> SensorPreset:
    """The preset called ``name`` or one of its aliases (case, spaces, ``-`` and ``_`` ignored).

    Raises ``BandError`` listing the known presets when the name is unknown.
    """
    presets = load_presets()
    key = norm_key(name)
    for preset in presets.values():
        if key == norm_key(preset.name) or key in (norm_key(a) for a in preset.aliases):
            return preset
    raise BandError(
        f"unknown sensor {name!r}; use one of {', '.join(presets)} "
        "or give the roles with --bands role,role,..."
    )
