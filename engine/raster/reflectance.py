"""Reflectance scaling: how a raster's stored values become reflectance (``dn * scale + offset``).

The scaling comes from ``--scale/--offset``, from the sensor preset when the raster's values fit
it, or from the data type and value range. ``calibrated`` records whether the result is physical
reflectance; when it is not, backends must let thresholds adapt to the scene instead of trusting
absolute reflectance values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .sensors import SensorPreset

# Plausible reflectance of the scaled 1st / 99th percentiles: bright cloud and snow stay below
# 2, dark water and shadows above -0.2, and a real scene's 99th percentile exceeds 0.05.
REFLECTANCE_LOW = -0.2
REFLECTANCE_HIGH = 2.0
REFLECTANCE_MIN_P99 = 0.05

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
    ``float reflectance``, ``float values``, ``digital numbers``, ``assumed reflectance x 10000``.
    """

    scale: float
    offset: float
    calibrated: bool
    source: str
    note: str

    def apply(self, array: np.ndarray) -> np.ndarray:
        """A new float32 array ``array * scale + offset`` (NaN stays NaN; the input is untouched)."""
        out = np.asarray(array).astype(np.float32)
        if self.scale != 1.0:
            out *= np.float32(self.scale)
        if self.offset != 0.0:
            out += np.float32(self.offset)
        return out

    def to_dict(self) -> dict:
        """A JSON-ready form for the run manifest."""
        return {
            "scale": self.scale,
            "offset": self.offset,
            "calibrated": self.calibrated,
            "source": self.source,
            "note": self.note,
        }


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


def _fits(preset: SensorPreset, p1: float, p99: float) -> bool:
    low = p1 * preset.scale + preset.offset
    high = p99 * preset.scale + preset.offset
    return low >= REFLECTANCE_LOW and REFLECTANCE_MIN_P99 <= high <= REFLECTANCE_HIGH


def resolve_scaling(
    dtype: str,
    sample_percentiles: Mapping[str, float],
    preset: SensorPreset | None,
    scale: float | None = None,
    offset: float | None = None,
) -> Scaling:
    """Choose the scaling of a raster from the user's flags, its preset and its values.

    ``sample_percentiles`` holds ``p1``, ``p99`` and ``max`` of the raw valid values over all
    bands. The first rule that applies wins:

    1. ``--scale`` and/or ``--offset`` given: used as they are (the missing one is 1 or 0),
       calibrated. Scale must be finite and positive, offset finite (else ``InputError``).
    2. Float data with p1 >= -0.5 and p99 <= 2: already reflectance, identity, calibrated.
    3. A preset whose scaling maps p1 to >= -0.2 and p99 into [0.05, 2] (e.g. p99 <= 20000 for
       /10000): the preset's scaling, calibrated as the preset says. This also rescues float
       rasters holding digital numbers.
    4. Float data outside that range: identity, not calibrated.
    5. Integer data with p99 <= 255 (8-bit digital numbers): 1/255, not calibrated.
    6. 16/32-bit integer data with p99 in (255, 1000]: assumed reflectance x 1000, not
       calibrated.
    7. Integer data with p99 in (255, 20000]: assumed reflectance x 10000, not calibrated.
    8. Larger integers: divided by the largest value of their bit depth, not calibrated.

    When a preset is given but its scaling does not fit (rule 3 fails), the note says so.
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

    if is_float and FLOAT_REFLECTANCE_RANGE[0] <= p1 and p99 <= FLOAT_REFLECTANCE_RANGE[1]:
        return Scaling(1.0, 0.0, True, "float reflectance", f"float values ({ranges}) used as is")

    prefix = ""
    if preset is not None:
        if _fits(preset, p1, p99):
            return Scaling(
                preset.scale, preset.offset, preset.calibrated, f"preset {preset.name}", preset.note
            )
        prefix = (
            f"the {preset.name} scaling (x {preset.scale:g} + {preset.offset:g}) does not fit "
            f"the values ({ranges}); "
        )

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
        return Scaling(
            1e-4,
            0.0,
            False,
            "assumed reflectance x 10000",
            prefix + f"assumed reflectance x 10000 ({ranges}); pass --scale/--offset",
        )
    bits = max(8, math.ceil(math.log2(vmax + 1)))
    full = float(2**bits - 1)
    return Scaling(
        1 / full,
        0.0,
        False,
        "digital numbers",
        prefix + f"{bits}-bit digital numbers ({ranges}) scaled by 1/{full:g}, not reflectance; "
        "thresholds adapt to the scene; pass --scale/--offset to calibrate",
    )
