"""Reflectance scaling: how a raster's stored values become reflectance (``dn * scale + offset``).

The scaling comes from ``--scale/--offset``, the file's declared scale, the product its name
names, the sensor preset when the raster's values fit it, or the data type and value range.
``calibrated`` records whether the result is physical reflectance; when it is not, backends must
let thresholds adapt to the scene instead of trusting absolute reflectance values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from ..errors import InputError
from .sensors import SensorPreset

# Plausible reflectance of the scaled 1st / 99th percentiles: bright cloud and snow stay below
# 2, dark water and shadows above -0.2, and a real scene's 99th percentile exceeds 0.05.
REFLECTANCE_LOW = -0.2
REFLECTANCE_HIGH = 2.0
REFLECTANCE_MIN_P99 = 0.05

#: A sensor preset's scaling must also lift the 99th percentile to this: every land scene of the
#: benchmark has 0.30-0.87 there (vegetation's NIR, soils' SWIR). Reflectance x 1000 (ARCSI)
#: read with Sentinel-2's x 0.0001 lands ten times lower (Aberystwyth: 0.064), as only an
#: open-water chip would; such values go on to rule 7 (assumed x 1000), as without a preset.
PRESET_MIN_P99 = 0.1

# Float data within this range is taken as reflectance already.
FLOAT_REFLECTANCE_RANGE = (-0.5, 2.0)

# Largest 99th percentile read as "reflectance x 10000" when nothing else is known.
ASSUMED_X10000_MAX = 20000.0
#: Above 255 and up to this p99, 16-bit integers are taken as reflectance x 1000.
ASSUMED_X1000_MAX = 1000.0


@dataclass(frozen=True)
class Scaling:
    """``reflectance = dn * scale + offset``; ``calibrated`` if that is physical reflectance.

    ``source`` says where the scaling came from: ``--scale/--offset``, ``preset <name>``,
    ``float reflectance``, ``float values``, ``digital numbers``, ``assumed reflectance x 10000``;
    one ending in " added" marks an offset recognised from the values (rules 3 and 8 of
    `resolve_scaling`), which the explanation states.
    """

    scale: float
    offset: float
    calibrated: bool
    source: str
    note: str
    #: Factors of their own for some roles, as ``(role, scale, offset)`` (a Landsat TM/ETM+
    #: Level-1 product's MTL file gives one pair per band); the other roles take scale/offset.
    by_role: tuple[tuple[str, float, float], ...] = ()

    def factors(self, role: str | None = None) -> tuple[float, float]:
        """The (scale, offset) of `role`'s band."""
        return next(((s, o) for r, s, o in self.by_role if r == role), (self.scale, self.offset))

    def apply(self, array: np.ndarray, role: str | None = None) -> np.ndarray:
        """A new float32 array ``array * scale + offset`` with `role`'s factors (NaN stays NaN;
        the input is untouched)."""
        scale, offset = self.factors(role)
        out = np.asarray(array).astype(np.float32)
        if scale != 1.0:
            out *= np.float32(scale)
        if offset != 0.0:
            out += np.float32(offset)
        return out

    def describe(self) -> str:
        """``value x S - O``, or one such term per role where the bands have their own."""
        terms = [("", self.scale, self.offset)] if not self.by_role else self.by_role
        return ", ".join(f"{role + ' ' if role else ''}{linear(s, o)}" for role, s, o in terms)

    def to_dict(self) -> dict:
        """A JSON-ready form for the run manifest."""
        out = {
            "scale": self.scale,
            "offset": self.offset,
            "calibrated": self.calibrated,
            "source": self.source,
            "note": self.note,
        }
        if self.by_role:
            out["by_role"] = {role: [s, o] for role, s, o in self.by_role}
        return out


def linear(scale: float, offset: float, of: str = "value") -> str:
    """``value x 2e-05 - 0.1``: a scale and offset as an analyst reads them."""
    return f"{of} x {scale:g} {'-' if offset < 0 else '+'} {abs(offset):g}"


@dataclass(frozen=True)
class ProductReading:
    """The scaling a product's name gives (``landsat_products``, ``sentinel2_products``), or
    why it gives none: ``note`` then leads the scaling's note."""

    scaling: Scaling | None
    note: str = ""


def earth_sun_distance_on(day: date) -> float:
    """The Earth-Sun distance (astronomical units) on `day`: 1 - 0.01672 cos(0.9856 (day of
    the year - 4)) degrees, within 0.0002 AU (the sun's irradiance scales as its inverse square)."""
    return 1.0 - 0.01672 * math.cos(math.radians(0.9856 * (day.timetuple().tm_yday - 4)))


def check_scale_offset(scale: float | None, offset: float | None) -> None:
    """Raise ``InputError`` unless ``scale`` is finite and positive and ``offset`` finite.

    Every product's scale is positive (reflectance rises with the stored value); a negative one
    would turn water bright and cloud dark without any error.
    """
    if scale is not None and not (_finite(scale) and float(scale) > 0.0):
        raise InputError(
            f"--scale {scale} is not usable; give a finite, positive number "
            "(reflectance = value * scale + offset, e.g. 0.0001 for Sentinel-2)"
        )
    if offset is not None and not _finite(offset):
        raise InputError(f"--offset {offset} is not usable; give a finite number")


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def plausible_reflectance(low: float, high: float, min_high: float = REFLECTANCE_MIN_P99) -> bool:
    """Whether a scaling that puts the 1st and 99th percentiles of a raster's values at `low` and
    `high` gives reflectance: `low` not below ``REFLECTANCE_LOW``, `high` between `min_high`
    (``PRESET_MIN_P99`` for a preset's or a product's documented scaling) and
    ``REFLECTANCE_HIGH``."""
    return low >= REFLECTANCE_LOW and min_high <= high <= REFLECTANCE_HIGH


#: The added offset the rule without a preset recognises: Sentinel-2's (processing baseline
#: 04.00 and later), by far the most common product that adds one.
SENTINEL2_ADDED_DN = 1000.0


def _added_dn(added: float, dtype: str, p1: float) -> float:
    """`added` when the values show it, else 0.

    Integer values whose pooled 1st percentile lies in [added, 2 x added): every band starts at
    the added value, as no real scene does without it (water, shadow and vegetation are far
    darker than 0.1 reflectance in some band), while a product with it has its darkest pixels
    just above it.
    """
    if added <= 0 or np.dtype(dtype).kind not in "iu":
        return 0.0
    return added if added <= p1 < 2 * added else 0.0


def _without_added(
    scale: float,
    offset: float,
    added: float,
    calibrated: bool,
    p1: float,
    what: str,
    note_prefix: str = "",
) -> Scaling:
    """The scaling ``scale``/``offset`` with ``added`` digital numbers removed, and its note."""
    return Scaling(
        scale,
        offset - added * scale,
        calibrated,
        f"{what}, {added:g} added",
        f"{note_prefix}{what}: every band starts at {added:g} (1st percentile {p1:g}): Sentinel-2 products "
        f"of processing baseline 04.00 and later add {added:g} to every value; reflectance = "
        f"(DN - {added:g}) x {scale:g}. If your provider has already removed it, pass "
        f"--scale {scale:g} --offset 0",
    )


def resolve_scaling(
    dtype: str,
    sample_percentiles: Mapping[str, float],
    preset: SensorPreset | None,
    scale: float | None = None,
    offset: float | None = None,
    declared: tuple[float, float] | None = None,
    named: ProductReading | None = None,
) -> Scaling:
    """Choose the scaling of a raster from the user's flags, its own metadata, its preset and
    its values.

    ``sample_percentiles`` holds ``p1``, ``p99`` and ``max`` of the raw valid values over all
    bands. The first rule that applies wins:

    1. ``--scale`` and/or ``--offset`` given: used as they are (the missing one is 1 or 0),
       calibrated. Scale must be finite and positive, offset finite (else ``InputError``).
    1b. ``declared``: the scale and offset the file states for its bands (GDAL's band scale and
       offset, the same for every band used), calibrated when the scaled p1 and p99 are
       plausible reflectance.
    1c. ``named``: the scaling the product the file names implies (``product_names``: a
       Landsat identifier, with its MTL file where one lies beside it; a Sentinel-2 product
       name and its processing baseline), when the values fit it; when they do not, its note
       leads the scaling's note.
    2. Float data with p1 >= -0.5 and p99 <= 2: already reflectance, identity, calibrated.
    3. A preset whose products may add digital numbers to every value (Sentinel-2 from
       processing baseline 04.00: 1000), integer values whose p1 is in [added, 2 x added): the
       preset's scaling with the added value removed.
    4. A preset whose scaling maps p1 to >= -0.2 and p99 into [0.1, 2] (e.g. p99 in
       [1000, 20000] for /10000; ``PRESET_MIN_P99``): the preset's scaling, calibrated as the
       preset says. This also rescues float rasters holding digital numbers.
    5. Float data outside that range: identity, not calibrated.
    6. Integer data with p99 <= 255 (8-bit digital numbers): 1/255, not calibrated.
    7. 16/32-bit integer data with p99 in (255, 1000]: assumed reflectance x 1000, not
       calibrated.
    8. Integer data with p99 in (255, 20000]: assumed reflectance x 10000, not calibrated;
       with p1 in [1000, 2000), Sentinel-2 of processing baseline 04.00 and later, the one
       common product that adds 1000 (rule 3): (DN - 1000) x 0.0001, calibrated.
    9. Larger integers: divided by the largest value of their bit depth, not calibrated.

    When a preset is given but its scaling does not fit (rule 4 fails), the note says so.
    """
    if scale is not None or offset is not None:
        check_scale_offset(scale, offset)
        s = 1.0 if scale is None else float(scale)
        o = 0.0 if offset is None else float(offset)
        return Scaling(s, o, True, "--scale/--offset", f"reflectance = DN x {s:g} + {o:g}")

    try:
        p1 = float(sample_percentiles["p1"])
        p99 = float(sample_percentiles["p99"])
        vmax = float(sample_percentiles["max"])
    except KeyError as missing:
        raise ValueError(f"sample_percentiles lacks {missing}") from None
    if not all(math.isfinite(v) for v in (p1, p99, vmax)):
        raise InputError(
            "the raster has no valid pixels to judge its scaling; check its nodata value "
            "or pass --scale/--offset"
        )
    is_float = np.dtype(dtype).kind in "fc"
    ranges = f"p1 {p1:g}, p99 {p99:g}, max {vmax:g}"

    if declared is not None:
        return _declared_scaling(*declared, p1, p99, ranges)
    if named is not None and named.scaling is not None:
        return named.scaling
    prefix = named.note if named is not None else ""
    if is_float and FLOAT_REFLECTANCE_RANGE[0] <= p1 and p99 <= FLOAT_REFLECTANCE_RANGE[1]:
        return Scaling(1.0, 0.0, True, "float reflectance", f"float values ({ranges}) used as is")
    if preset is not None:
        found = _preset_scaling(preset, dtype, p1, p99, prefix)
        if found is not None:
            return found
        prefix += _preset_misfit(preset, p99, ranges)
    return _scaling_by_values(dtype, p1, p99, vmax, ranges, prefix, preset)


def _declared_scaling(s: float, o: float, p1: float, p99: float, ranges: str) -> Scaling:
    """Rule 1b: the scale and offset the file declares, calibrated when they give plausible
    reflectance."""
    fits = plausible_reflectance(p1 * s + o, p99 * s + o)
    return Scaling(
        s,
        o,
        fits,
        "declared by the file",
        f"the file declares value x {s:g} + {o:g} (its GDAL band scale and offset)"
        + ("" if fits else f", which is not reflectance ({ranges}): thresholds adapt to the scene"),
    )


def _preset_scaling(
    preset: SensorPreset, dtype: str, p1: float, p99: float, prefix: str
) -> Scaling | None:
    """Rules 3 and 4: the preset's scaling, with the digital numbers its products may add
    removed where the values show them, when it maps the values to plausible reflectance;
    None when it does not."""
    added = _added_dn(preset.added_dn, dtype, p1)
    if added:
        found = _without_added(
            preset.scale, preset.offset, added, preset.calibrated, p1, f"preset {preset.name}"
        )
        # Every value starts at the added one: its 99th percentile may be low, as a chip of
        # water's is (below the 0.05 a scene with land reaches), and still be reflectance.
        low, high = p1 * found.scale + found.offset, p99 * found.scale + found.offset
        if plausible_reflectance(low, high, min_high=0.0):
            return found
    high = p99 * preset.scale + preset.offset
    if plausible_reflectance(p1 * preset.scale + preset.offset, high, PRESET_MIN_P99):
        return Scaling(
            preset.scale,
            preset.offset,
            preset.calibrated,
            f"preset {preset.name}",
            prefix + preset.note,
        )
    return None


def _preset_misfit(preset: SensorPreset, p99: float, ranges: str) -> str:
    """What the note says first where the preset's scaling does not fit the values."""
    high = p99 * preset.scale + preset.offset
    why = (
        f": it would put the 99th percentile of all bands at {high:.3g} reflectance, below "
        f"the {PRESET_MIN_P99:g} any land scene reaches"
        if 0 <= high < PRESET_MIN_P99
        else ""
    )
    return (
        f"the {preset.name} scaling (x {preset.scale:g} + {preset.offset:g}) does not fit "
        f"the values ({ranges}){why}; "
    )


def _scaling_by_values(
    dtype: str,
    p1: float,
    p99: float,
    vmax: float,
    ranges: str,
    prefix: str,
    preset: SensorPreset | None,
) -> Scaling:
    """Rules 5-9: no flag, metadata or preset fits, so the values' type and range decide;
    `prefix` leads the note (why the product or preset did not fit)."""
    is_float = np.dtype(dtype).kind in "fc"
    if is_float:
        return Scaling(
            1.0,
            0.0,
            False,
            "float values",
            prefix + f"float values ({ranges}) are not reflectance; used as they are, "
            "thresholds adapt to the scene; pass --scale/--offset to calibrate",
        )
    if p99 <= 255:
        return Scaling(
            1 / 255,
            0.0,
            False,
            "digital numbers",
            prefix + f"8-bit digital numbers ({ranges}) scaled by 1/255, not reflectance; "
            "thresholds adapt to the scene; pass --scale/--offset to calibrate",
        )
    if p99 <= ASSUMED_X1000_MAX and np.dtype(dtype).itemsize > 1:
        # 16-bit values that never pass 1000 are not 16-bit DN: reflectance x 1000 (ARCSI,
        # several national archives) is the common convention.
        return Scaling(
            1e-3,
            0.0,
            False,
            "assumed reflectance x 1000",
            prefix + f"assumed reflectance x 1000 ({ranges}); pass --scale/--offset",
        )
    if p99 <= ASSUMED_X10000_MAX:
        if _added_dn(SENTINEL2_ADDED_DN, dtype, p1):
            # Calibrated: no other common product stores reflectance x 10000 with 1000 added.
            return _without_added(
                1e-4, 0.0, SENTINEL2_ADDED_DN, True, p1, "recognised as Sentinel-2", prefix
            )
        return Scaling(
            1e-4,
            0.0,
            False,
            "assumed reflectance x 10000",
            prefix
            + f"assumed reflectance x 10000 ({ranges}); pass --scale/--offset"
            + _landsat_c2_hint(dtype, p1, preset),
        )
    bits = max(8, math.ceil(math.log2(vmax + 1)))
    full = float(2**bits - 1)
    return Scaling(
        1 / full,
        0.0,
        False,
        "digital numbers",
        prefix + f"{bits}-bit digital numbers ({ranges}) scaled by 1/{full:g}, not reflectance; "
        "thresholds adapt to the scene; pass --scale/--offset to calibrate"
        + _landsat_c2_hint(dtype, p1, preset),
    )


#: Landsat Collection 2 Level-2 surface reflectance is 0 at this value (DN x 0.0000275 - 0.2).
LANDSAT_C2_ZERO_DN = 0.2 / 0.0000275


def _landsat_c2_hint(dtype: str, p1: float, preset: SensorPreset | None) -> str:
    """A hint, not a rule: values that start near Landsat C2 L2's zero reflectance.

    Level-1 digital numbers of OLI start there too (zero reflectance at 5000, dark land and
    path radiance above it), so the scaling is not changed; the analyst is told which flags
    calibrate either level. Values that start below Level-2's zero would be negative surface
    reflectance there: both real Level-1 scenes of the benchmark do (c38 p1 7124, Zion 7029),
    so that level is named first (measured: a Level-2 product read uncalibrated loses water
    and cloud; docs/benchmarks.md).
    """
    if preset is not None or np.dtype(dtype).kind not in "iu":
        return ""
    if not 0.95 * LANDSAT_C2_ZERO_DN <= p1 < LANDSAT_C2_ZERO_DN + 2500:
        return ""
    level1 = (
        "a Level-1 OLI product pass --scale 0.00002 --offset -0.1 (top-of-atmosphere "
        "reflectance times the sine of the sun's elevation)"
    )
    level2 = (
        "a Collection 2 Level-2 product pass --sensor landsat8_9_oli (or landsat_tm_etm), "
        "or --scale 0.0000275 --offset -0.2"
    )
    zero = f"{LANDSAT_C2_ZERO_DN:.0f}"
    if p1 < LANDSAT_C2_ZERO_DN:
        return (
            f"; the values start just below {zero}, where Landsat Collection 2 Level-2 surface "
            f"reflectance is 0, as a Landsat Level-1 product's do: for {level1}; for {level2}"
        )
    return (
        f"; the values start near {zero}, where Landsat Collection 2 Level-2 surface "
        f"reflectance is 0: for {level2}; for {level1}"
    )
