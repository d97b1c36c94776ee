"""Bands with a role that hold nothing: 0, their own nodata value, or NaN on every sampled pixel.

A stack built by hand, or an export, can carry a band its source lacked: written as 0 (the
benchmark's Level-2A products built from sources without a coastal or a red-edge band hold
such bands), as nodata, or as NaN (a float export of a band masked everywhere); an imaging
spectrometer's absorption bands can be filled so without being flagged bad. Read as a
surface, a band of 0s enters every index and the classifier as the darkest value there is;
one of nodata or NaN voids every pixel. Such a band is read as absent: its role is dropped
(a spectrometer's band joins no averaged role), and what needs it says so, as for a raster
that never had it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .averaged_bands import read_indexes
from .bands import BandMapping


def empty_bands(
    raw: np.ndarray, sampled: Sequence[int], nodata: Sequence[float | None]
) -> tuple[int, ...]:
    """The 1-based bands of the sample `raw` (of the bands `sampled`) that hold 0, their
    declared nodata or a non-finite value everywhere (`nodata`: the dataset's per-band values)."""
    empty = []
    for position, band in enumerate(sampled):
        values, fill = raw[position], nodata[band - 1]
        blank = values == 0
        if values.dtype.kind == "f":
            blank |= ~np.isfinite(values)
        if fill is not None and not np.isnan(fill):
            blank |= values == fill
        if blank.all():
            empty.append(band)
    return tuple(empty)


def dead_role_bands(mapping: BandMapping, empty: Sequence[int]) -> tuple[int, ...]:
    """The 1-based bands read for the roles (an averaged role's every band) that are among the
    1-based `empty` ones (`empty_bands`), where another band read for a role holds data."""
    read = sorted(set(read_indexes(mapping, mapping.present_roles())))  # stand-ins share bands
    dead = tuple(band for band in read if band in empty)
    return dead if len(dead) < len(read) else ()


def without_dead(mapping: BandMapping, dead: Sequence[int]) -> BandMapping:
    """`mapping` with the roles of the 1-based bands `dead` (`dead_role_bands`) dropped, and
    the bands recorded. Not for averaged roles: their bands are read again as bad bands."""
    if not dead:
        return mapping
    dead = [band - 1 for band in dead]
    gone = {mapping.roles[i] for i in dead}
    return replace(
        mapping,
        roles=tuple(None if i in dead else role for i, role in enumerate(mapping.roles)),
        stand_ins=tuple((asked, by) for asked, by in mapping.stand_ins if by not in gone),
        dead=tuple(sorted(set(mapping.dead) | set(dead))),
    )


def dead_bands_note(mapping: BandMapping) -> str:
    """What the plan says of the bands read as absent ("" for none)."""
    if not mapping.dead:
        return ""
    bands = ", ".join(str(i + 1) for i in mapping.dead)
    one = len(mapping.dead) == 1
    return (
        f"band{'' if one else 's'} {bands} hold{'s' if one else ''} 0 or nodata on every pixel "
        f"(a dead or missing band{'' if one else 's'}): read as absent"
    )
