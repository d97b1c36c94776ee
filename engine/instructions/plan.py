"""`Plan`: what to extract and which regions to keep, as read from an instruction."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .targets import titles


@dataclass(frozen=True)
class Plan:
    """What to extract and which regions to keep, as read from an instruction.

    Attributes:
        prompt: The instruction as typed.
        targets: Target ids in order of first mention, without duplicates.
        min_area_m2 / max_area_m2: Inclusive region area limits in square metres, or None.
        min_pixels / max_pixels: Inclusive region size limits in pixels, or None.
        largest_n: Keep only the N largest regions of each target, or None for all.
    """

    prompt: str
    targets: tuple[str, ...]
    min_area_m2: float | None = None
    max_area_m2: float | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    largest_n: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dictionary (targets as a list)."""
        out = asdict(self)
        out["targets"] = list(self.targets)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Inverse of ``to_dict``."""
        return cls(**{**data, "targets": tuple(data["targets"])})

    def describe(self) -> str:
        """One paragraph for people, e.g. ``"Targets: water. Keep regions of at least 20000 m2
        (2 ha). Keep the 5 largest regions per target."``"""
        parts = [f"Targets: {titles(self.targets)}."]
        low = [_fmt_area(self.min_area_m2), _fmt_pixels(self.min_pixels)]
        high = [_fmt_area(self.max_area_m2), _fmt_pixels(self.max_pixels)]
        limits = [f"at least {x}" for x in low if x] + [f"at most {x}" for x in high if x]
        if limits:
            parts.append(f"Keep regions of {' and '.join(limits)}.")
        else:
            parts.append("Keep regions of any size.")
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
