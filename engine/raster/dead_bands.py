"""Bands with a role that hold nothing: 0, or their own nodata value, on every sampled pixel.

A stack built by hand, or an export, can carry a band its source lacked: written as 0 (the
benchmark's Level-2A products built from sources without a coastal or a red-edge band hold
such bands), or as nodata (which would void every pixel). Read as a surface, a band of 0s
enters every index and the classifier as the darkest value there is. Such a band is read as
absent: its role is dropped, and what needs it says so, as for a raster that never had it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .bands import BandMapping


def empty_bands(
    raw: np.ndarray, sampled: Sequence[int], nodata: Sequence[float | None]
) -> tuple[int, ...]:
    """The 1-based bands of the sample `raw` (of the bands `sampled`) that hold 0 or their
    declared nodata everywhere (`nodata`: the dataset's per-band values)."""
    empty = []
    for position, band in enumerate(sampled):
        values, fill = raw[position], nodata[band - 1]
        blank = values == 0
        if fill is not None and not np.isnan(fill):
            blank |= values == fill
        if blank.all():
            empty.append(band)
    return tuple(empty)


def dead_role_bands(mapping: BandMapping, empty: Sequence[int]) -> tuple[int, ...]:
    """The 0-based bands with a role among the 1-based `empty` ones (`empty_bands`), where
    another band with a role holds data; none for an imaging spectrometer's averaged roles
    (`raster_source._empty_role_bands` sees to them)."""
    if mapping.averaged:
        return ()
    with_role = [i for i, role in enumerate(mapping.roles) if role is not None]
    dead = tuple(i for i in with_role if i + 1 in empty)
    return dead if len(dead) < len(with_role) else ()


def without_dead(mapping: BandMapping, dead: Sequence[int]) -> BandMapping:
    """`mapping` with the roles of the 0-based bands `dead` dropped, and `dead` recorded."""
    if not dead:
        return mapping
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
