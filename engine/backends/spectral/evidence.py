"""Which index testifies for each target, given the bands a raster has."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ...indices import available_indices, get_index

#: Preferred evidence indices per target, best first; the first one computable is used.
EVIDENCE_PREFERENCE: dict[str, tuple[str, ...]] = {
    "water": ("MNDWI", "NDWI", "AWEI_NSH"),
    "vegetation": ("NDVI", "VARI", "EXG"),
    "forest": ("NDVI", "VARI", "EXG"),
    "builtup": ("NDBI", "BSI", "BRIGHTNESS"),
    "bare": ("BSI", "NDBI", "BRIGHTNESS"),
    "snow": ("NDSI", "BRIGHTNESS"),
    "cloud": ("HOT", "BRIGHTNESS"),
}


def evidence_for(target: str, roles: Iterable[str]) -> str | None:
    """The evidence index for `target` computable from `roles`, or None."""
    present = {name.upper() for name in available_indices(roles)}
    for name in EVIDENCE_PREFERENCE.get(target, ()):
        if name in present:
            return name
    return None


def evidence_names(targets: Sequence[str], roles: Iterable[str]) -> tuple[str, ...]:
    """Distinct evidence indices for `targets`, in target order.

    An index whose formula an earlier one already has is left out: NDSI and MNDWI are both
    (green - swir1) / (green + swir1), and two columns of the same values say nothing more.
    """
    roles = tuple(roles)
    names: list[str] = []
    formulas: set[str] = set()
    for target in targets:
        name = evidence_for(target, roles)
        if name is None:
            continue
        formula = get_index(name).formula
        if formula not in formulas:
            names.append(name)
            formulas.add(formula)
    return tuple(names)
