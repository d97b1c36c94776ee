"""Band roles one band off: a stack holding a band the roles leave out, or lacking one they count.

Roles typed by hand (`--bands`, the dock's and Processing's Band roles) or guessed from the
band count are checked against the scene: where the bands read as red and NIR show no
vegetation but the same roles one band later or earlier do, the roles are likely shifted (a
Landsat 8 stack of bands 2-7 given from `coastal`, or one of bands 1-7 given from `blue`). Read
one band off, a Landsat 8 scene's vegetation fell from 63 % to 37 % of it and built-up rose
from 27 % to 53 %, silently. Said, not refused: the analyst typed the roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .band_units import scaled_sample
from .bands import BandMapping
from .reflectance import Scaling

#: NDVI's 99th percentile below which the roles show no vegetation, and from which a pair one
#: band off shows it. Over the benchmark's 123 rasters with red and NIR not read as digital
#: numbers, with their right roles: where NDVI stays below the first (snow, winter), a pair one
#: band off reaches 0.38 at most, and none is flagged; given one band off, 79 of 140 are flagged
#: (the rest show vegetation anyway, through a red-edge band, or have none), each with its
#: right roles.
NO_VEGETATION = 0.3
VEGETATION = 0.5
#: Mappings typed or guessed, the ones checked: product names and presets are the bands' own.
CHECKED_SOURCES = ("--bands", "band count")


@dataclass(frozen=True)
class RoleShift:
    """Roles that show vegetation only one band off."""

    red: int  # 1-based, as given
    nir: int
    given: float  # NDVI's 99th percentile with the roles as given
    shift: int  # +1: each role one band later; -1: one band earlier
    shifted: float  # the same with the roles shifted
    roles: tuple[str, ...]  # the shifted roles, as --bands takes them

    def short(self) -> str:
        """One clause for the run's summary and `spex inspect`."""
        return (
            f"The band roles look one band off: red and nir (bands {self.red} and {self.nir}) "
            f"show no vegetation (NDVI p99 {self.given:.2f}); bands {self.red + self.shift} "
            f"and {self.nir + self.shift} do ({self.shifted:.2f})"
        )

    def note(self) -> str:
        """The caveat the explanation gives, with the fix."""
        way = "later" if self.shift > 0 else "earlier"
        return (
            f"{self.short()}, with each role one band {way}. The stack may hold a band the "
            "roles leave out (a coastal band), or lack one they count. Check the roles; if "
            f"they are one band off, give the roles {','.join(self.roles)} (--bands, or Band "
            "roles in the dock and Processing)."
        )

    def as_dict(self) -> dict[str, object]:
        """As run.json records it."""
        return {"red": self.red, "nir": self.nir, "ndvi_p99": round(self.given, 4),
                "shift": self.shift, "shifted_ndvi_p99": round(self.shifted, 4),
                "shifted_roles": list(self.roles)}  # fmt: skip


def role_shift(
    raw: np.ndarray,
    sampled: Sequence[int],
    mapping: BandMapping,
    scaling: Scaling,
    nodata: Sequence[float | None],
) -> RoleShift | None:
    """The shift of one band under which the global sample `raw` (of the 1-based bands
    `sampled`) shows the vegetation its typed or guessed roles do not; None where the roles
    show vegetation, the scene has none either way, or the mapping is not checked."""
    roles = mapping.roles
    if mapping.source not in CHECKED_SOURCES or mapping.averaged:
        return None
    if scaling.source == "digital numbers":  # each band's own gain bends a pair's contrast
        return None
    if "red" not in roles or "nir" not in roles:
        return None
    red, nir = roles.index("red"), roles.index("nir")
    given = _ndvi_p99(raw, sampled, red, nir, scaling, nodata)
    if given is None or given >= NO_VEGETATION:
        return None
    for shift in (1, -1):
        r, n = red + shift, nir + shift
        shifted = _ndvi_p99(raw, sampled, r, n, scaling, nodata)
        if shifted is not None and shifted >= VEGETATION:
            typed = ["-" if role is None else role for role in roles]
            moved = ["-", *typed[:-1]] if shift > 0 else [*typed[1:], "-"]
            return RoleShift(red + 1, nir + 1, given, shift, shifted, tuple(moved))
    return None


def _ndvi_p99(
    raw: np.ndarray,
    sampled: Sequence[int],
    red: int,
    nir: int,
    scaling: Scaling,
    nodata: Sequence[float | None],
) -> float | None:
    """NDVI's 99th percentile over the sample with the 0-based bands `red` and `nir` as red and
    NIR; None where either is not in the sample or too few pixels are valid."""
    if red + 1 not in sampled or nir + 1 not in sampled:
        return None
    r, n = scaled_sample(raw, sampled, (red + 1, nir + 1), ("red", "nir"), scaling, nodata)
    ok = (r > 0) & (n > 0)  # a band below 0 (dark water, over-corrected) has no ratio
    if ok.sum() < 100:
        return None
    return float(np.percentile((n[ok] - r[ok]) / (n[ok] + r[ok]), 99))
