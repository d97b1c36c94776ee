"""Index thresholds an analyst sets, in place of the scene's own choice.

The spectral backend chooses each seed threshold on the scene (Otsu, clamped). Where the
analyst means something else by a class than the scene's histogram suggests, they set the
value themselves: dense forest only, where pasture is green too (NDVI 0.65 in the Amazon), or
sparse desert scrub, where the scene's cut falls between scrub and trees (NDVI 0.15). The value
is read as the index the engine computes (the explanation's threshold table shows the scene's
own choice beside it), once per raster, never per tile.

Only the thresholds that decide a class on their own can be set: the vegetation index (NDVI,
or excess green in true colour), the water indices, and forest's cut within the vegetation
(VIS: the mean of the visible bands, dark offsets removed, below which vegetation is tree
cover; `tree_cover`). The bare-soil split is not offered: a
split forced on the land of the benchmark's scenes takes their built-up first
(docs/benchmarks.md, "Built-up and bare soil asked together").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ...errors import InputError
from .params import SpectralParams


@dataclass(frozen=True)
class SettableIndex:
    """An index whose seed threshold the analyst may set."""

    name: str
    low: float  # the range of the index's values
    high: float
    #: The range in words, where "from low to high" would not say it.
    range_words: str = ""

    def accepts(self, value: float) -> bool:
        """Whether `value` lies in the range (NaN does not; VIS's lower end is open)."""
        if self.range_words:
            return self.low < value <= self.high and math.isfinite(value)
        return self.low <= value <= self.high

    def describe_range(self) -> str:
        """The range, for an error message."""
        return self.range_words or f"a number from {self.low:g} to {self.high:g}"


SETTABLE: dict[str, SettableIndex] = {
    s.name: s
    for s in (
        SettableIndex("NDVI", -1.0, 1.0),
        SettableIndex("ExG", -1.0, 2.0),  # (2 green - red - blue) / (red + green + blue)
        SettableIndex("MNDWI", -1.0, 1.0),
        SettableIndex("NDWI", -1.0, 1.0),  # alone without SWIR1; beside MNDWI with it
        # Forest's cut: a mean band value, reflectance or digital numbers less the offsets.
        SettableIndex("VIS", 0.0, math.inf, "a number above 0"),
    )
}
_BY_LOWER = {name.lower(): name for name in SETTABLE}
#: The settable indices that pick each class's seeds.
SEEDS_OF = {"vegetation": ("NDVI", "ExG"), "water": ("MNDWI", "NDWI")}
#: The settable value that cuts forest from the rest of the vegetation (`tree_cover`).
TREE_CUT = "VIS"
TREE_CUT_EXAMPLE = "VIS=0.04"
EXAMPLE = "NDVI=0.65"
#: What each settable threshold decides: the help of the CLI's --threshold, Processing's
#: INDEX_THRESHOLDS and the dock's field.
SETTABLE_HELP = (
    "NDVI or ExG for vegetation, MNDWI or NDWI for water, VIS for where forest ends within "
    "the vegetation (the mean of the visible bands, dark offsets removed, below which it is "
    "forest)"
)
#: How the explanation's threshold table begins a threshold the analyst set.
SET_BY_ANALYST = "set by the analyst"


def settable_list() -> str:
    """The settable indices, for messages: "NDVI, ExG, MNDWI, NDWI, VIS"."""
    return ", ".join(SETTABLE)


def settable_name(name: str) -> str | None:
    """The settable index `name` means, as the engine spells it (``ndvi`` -> ``NDVI``), or None."""
    return _BY_LOWER.get(name.lower())


#: One INDEX=VALUE item; the value may have a decimal comma (``NDVI=0,65``, as some locales type
#: it), so items are told apart by their names, not by the separator.
_ITEM = re.compile(
    r"([A-Za-z][A-Za-z0-9]*)\s*=\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)(?![\w.=])"
)


def parse_thresholds(items: str | Iterable[str] | None) -> dict[str, float]:
    """``"NDVI=0.65, MNDWI=0.1"`` (or those items one by one) -> ``{"NDVI": 0.65, ...}``.

    Items are separated by commas, semicolons or spaces; index names are matched without regard
    to case. Raises `InputError` with one line naming the item and the fix for text that is not
    INDEX=VALUE, and as `validate_thresholds` does.
    """
    if items is None:
        return {}
    text = "; ".join([items] if isinstance(items, str) else items)
    pairs: list[tuple[str, object]] = []
    rest, pos = [], 0
    for match in _ITEM.finditer(text):
        rest.append(text[pos : match.start()])
        pos = match.end()
        pairs.append((match.group(1), match.group(2).replace(",", ".")))
    rest.append(text[pos:])
    leftover = [p.strip() for p in re.split(r"[,;]|\s{2,}|(?<=\S)\s(?=[A-Za-z])", " ".join(rest))]
    leftover = [p for p in leftover if p]
    if leftover:
        name, sep, value = (s.strip() for s in leftover[0].partition("="))
        if sep and name and value:
            validate_thresholds([(name, value)])  # names what is wrong with it
        raise InputError(
            f"Threshold '{leftover[0]}' is not INDEX=VALUE; write e.g. {EXAMPLE} "
            f"(indices: {settable_list()})."
        )
    return validate_thresholds(pairs)


def validate_thresholds(
    pairs: Mapping[str, object] | Iterable[tuple[str, object]],
) -> dict[str, float]:
    """(index, value) pairs -> ``{canonical index: float}``; raises `InputError` (one line) for
    an index whose threshold cannot be set, a value that is not a number in the index's range,
    or an index set twice."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    out: dict[str, float] = {}
    for name, raw in items:
        canonical = settable_name(str(name))
        if canonical is None:
            raise InputError(
                f"Threshold {name}={raw}: {name} is not an index whose threshold can be set; "
                f"use one of {settable_list()} (e.g. {EXAMPLE})."
            )
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = math.nan
        index = SETTABLE[canonical]
        if not index.accepts(value):  # NaN fails too
            raise InputError(
                f"Threshold {name}={raw}: give {canonical} {index.describe_range()} "
                f"(e.g. {TREE_CUT_EXAMPLE if canonical == TREE_CUT else EXAMPLE})."
            )
        if canonical in out:
            raise InputError(f"Threshold {canonical} is set twice; set it once.")
        out[canonical] = value
    return out


def unused_thresholds(thresholds: Mapping[str, float], roles: Iterable[str]) -> dict[str, str]:
    """Set thresholds that the raster's bands leave unused -> why, in words (empty: all used).

    Mirrors the seeds (`seeds.select_seeds`): NDVI needs red and NIR, excess green is used only
    without them; MNDWI needs green and SWIR1; NDWI needs green and NIR; VIS (forest's cut)
    needs a red band (`tree_cover.visible_roles`).
    """
    have = set(roles)
    vnir = {"red", "nir"} <= have
    needs = {
        "NDVI": (vnir, "red and NIR bands"),
        "ExG": (
            not vnir and {"blue", "green", "red"} <= have,
            "blue, green and red bands and no NIR (with NIR, vegetation is found with NDVI)",
        ),
        "MNDWI": ({"green", "swir1"} <= have, "green and SWIR1 bands"),
        "NDWI": ({"green", "nir"} <= have, "green and NIR bands"),
        "VIS": ("red" in have, "a red band"),
    }
    return {name: needs[name][1] for name in thresholds if not needs[name][0]}


def check_thresholds_used(thresholds: Mapping[str, float], roles: Iterable[str]) -> None:
    """Raise `InputError` (one line) when a set threshold would not be used with these bands."""
    roles = tuple(roles)
    unused = unused_thresholds(thresholds, roles)
    if unused:
        name, need = next(iter(unused.items()))
        raise InputError(
            f"Threshold {name}={thresholds[name]:g} would not be used: {name} needs {need}, "
            f"and this raster's bands are {', '.join(roles) or 'none'}; leave it out or set "
            f"the roles with --bands."
        )


def check_tree_cut_asked(thresholds: Mapping[str, float], targets: Iterable[str]) -> None:
    """Raise `InputError` (one line) when forest's cut is set and forest is not asked for."""
    if TREE_CUT in thresholds and "forest" not in set(targets):
        raise InputError(
            f"Threshold {TREE_CUT}={thresholds[TREE_CUT]:g} would not be used: it sets where "
            "forest ends within the vegetation, and the instruction does not ask for forest; "
            "leave it out or ask for the forest."
        )


def chosen_threshold(
    name: str,
    scene_value: float,
    scene_how: str,
    params: SpectralParams,
    thr: dict[str, float],
    how: dict[str, str],
) -> float:
    """The threshold of index `name`: the analyst's value where set, else the scene's; noted in
    `thr` and `how` (the scene's own choice beside the analyst's, for the explanation)."""
    value = params.analyst_threshold(name)
    if value is None:
        thr[name], how[name] = scene_value, scene_how
        return scene_value
    thr[name] = value
    how[name] = f"{SET_BY_ANALYST}; the scene's own choice: {scene_value:.3f} ({scene_how})"
    return value


def unseeded_note(target: str, params: SpectralParams) -> str | None:
    """Why `target` has no seeds when the analyst's value picked them (None otherwise)."""
    for name in SEEDS_OF.get(target, ()):
        value = params.analyst_threshold(name)
        if value is not None:
            return (
                f"{target} seeds were picked with {name} {value:g}, the value set with "
                "--threshold, and too few pixels pass it: set a value nearer the scene's own "
                "choice (in the threshold table) to map it"
            )
    return None
