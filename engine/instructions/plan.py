"""`Plan`: what to extract and which regions of each target to keep, as read from an instruction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .targets import get_target, titles


@dataclass(frozen=True)
class RegionLimits:
    """Which regions of a target to keep.

    Attributes:
        min_area_m2 / max_area_m2: Inclusive region area limits in square metres, or None.
        min_pixels / max_pixels: Inclusive region size limits in pixels, or None.
        largest_n: Keep only the N largest regions, or None for all.
    """

    min_area_m2: float | None = None
    max_area_m2: float | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    largest_n: int | None = None

    def describe(self) -> str:
        """The limits in words, e.g. ``"at least 20000 m2 (2 ha), the 5 largest"``, or ``"any
        size"``."""
        low = [_fmt_area(self.min_area_m2), _fmt_pixels(self.min_pixels)]
        high = [_fmt_area(self.max_area_m2), _fmt_pixels(self.max_pixels)]
        parts = [f"at least {x}" for x in low if x] + [f"at most {x}" for x in high if x]
        words = " and ".join(parts) if parts else "any size"
        if self.largest_n == 1:
            words += ", the largest only"
        elif self.largest_n is not None:
            words += f", the {self.largest_n} largest"
        return words


@dataclass(frozen=True)
class Plan:
    """What to extract and which regions to keep, as read from an instruction.

    The five limit fields apply to every target without an entry in ``own_limits``: an
    instruction such as "lakes over 1 ha and buildings over 200 m2" gives each target its own.

    Attributes:
        prompt: The instruction as typed.
        targets: Target ids in order of first mention, without duplicates.
        min_area_m2 / max_area_m2: Inclusive region area limits in square metres, or None.
        min_pixels / max_pixels: Inclusive region size limits in pixels, or None.
        largest_n: Keep only the N largest regions of each target, or None for all.
        own_limits: (target, limits) for the targets whose limits differ from the plan's.
        left_out: Parts left out of their wholes among the targets ("vegetation except
            forest": forest), answered as background.
    """

    prompt: str
    targets: tuple[str, ...]
    min_area_m2: float | None = None
    max_area_m2: float | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    largest_n: int | None = None
    own_limits: tuple[tuple[str, RegionLimits], ...] = ()
    left_out: tuple[str, ...] = ()

    def limits(self, target: str) -> RegionLimits:
        """The limits that apply to ``target``'s regions."""
        return dict(self.own_limits).get(target, self._plan_wide())

    def _plan_wide(self) -> RegionLimits:
        """The limits of every target without its own."""
        return RegionLimits(**{f.name: getattr(self, f.name) for f in fields(RegionLimits)})

    @property
    def has_area_limit(self) -> bool:
        """Whether any target's regions are limited by an area in m2 (which needs a CRS)."""
        return any(
            lim.min_area_m2 is not None or lim.max_area_m2 is not None
            for lim in map(self.limits, self.targets)
        )

    def with_min_area(self, min_area_m2: float) -> Plan:
        """The plan with ``min_area_m2`` as every target's minimum area (the analyst's setting
        beside the instruction: ``--min-area``, Processing's and the dock's minimum area)."""
        own = tuple((t, replace(lim, min_area_m2=min_area_m2)) for t, lim in self.own_limits)
        return replace(self, min_area_m2=min_area_m2, own_limits=own)

    def title(self, target: str) -> str:
        """`target`'s title, with the parts left out of it: ``"vegetation without forest"``."""
        title = get_target(target).title
        parts = [p for p in self.left_out if get_target(p).part_of == target]
        return f"{title} without {titles(parts)}" if parts else title

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (targets as a list, own limits by target)."""
        out = asdict(self)
        out["targets"] = list(self.targets)
        out["own_limits"] = {t: asdict(lim) for t, lim in self.own_limits}
        out["left_out"] = list(self.left_out)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Inverse of ``to_dict``."""
        own = tuple((t, RegionLimits(**lim)) for t, lim in data.get("own_limits", {}).items())
        left_out = tuple(data.get("left_out", ()))
        return cls(
            **{**data, "targets": tuple(data["targets"]), "own_limits": own, "left_out": left_out}
        )

    def describe(self) -> str:
        """One paragraph for people, e.g. ``"Targets: water. Keep regions of at least 20000 m2
        (2 ha). Keep the 5 largest regions per target."``, or with limits of their own
        ``"Targets: water, vegetation. Keep water regions of at least 10000 m2 (1 ha);
        vegetation regions of any size, the largest only."``"""
        parts = [f"Targets: {', '.join(map(self.title, self.targets))}."]
        if self.own_limits:
            groups: dict[RegionLimits, list[str]] = {}
            for target in self.targets:
                groups.setdefault(self.limits(target), []).append(target)
            said = [f"{titles(ts)} regions of {lim.describe()}" for lim, ts in groups.items()]
            parts.append(f"Keep {'; '.join(said)}.")
            return " ".join(parts)
        size = replace(self._plan_wide(), largest_n=None).describe()
        parts.append(f"Keep regions of {size}.")
        if self.largest_n == 1:
            parts.append("Keep the largest region per target.")
        elif self.largest_n is not None:
            parts.append(f"Keep the {self.largest_n} largest regions per target.")
        return " ".join(parts)


def format_number(x: float) -> str:
    """A number with at most two decimals and no trailing zeros."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _fmt_area(m2: float | None) -> str:
    if m2 is None:
        return ""
    other = f"{m2 / 1e6:.4g} km2" if m2 >= 1e6 else f"{m2 / 1e4:.4g} ha"
    return f"{format_number(m2)} m2 ({other})"


def _fmt_pixels(px: int | None) -> str:
    if px is None:
        return ""
    return f"{px} pixel" if px == 1 else f"{px} pixels"
