"""Size limits in instructions: "larger than 2 ha", "< 300 m2", "between 1 and 5 ha", "2 ha or more".

Areas are converted to square metres (`M2_PER_UNIT`); pixel limits stay in pixels. Limits are
inclusive. Two minimums (or maximums), or a size without a unit or without a direction, are
refused with one line saying what to write instead.
"""

from __future__ import annotations

import re

from ..errors import PromptError

M2_PER_UNIT: dict[str, float] = {
    "m2": 1.0,
    "ha": 1e4,
    "km2": 1e6,
    "acre": 4046.8564224,
    "mi2": 2589988.110336,
}

NUMBER_WORDS: dict[str, float] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20,
    "a": 1, "an": 1, "half a": 0.5, "half an": 0.5,
}  # fmt: skip

# --- patterns --------------------------------------------------------------------------
#: Number words accepted where digits are ("the three largest").
NUMBER_NAMES = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty"
_DIGITS = r"\d+(?:\.\d+)?|\.\d+"
_NUM_BARE = rf"(?:{_DIGITS}|(?<![a-z])(?:{NUMBER_NAMES})(?![a-z]))"
_NUM = rf"(?:{_DIGITS}|(?<![a-z])(?:{NUMBER_NAMES}|half an?|an?)(?![a-z]))"  # "more than a hectare"
_ABOUT = r"(?:(?:about|approx|approximately|around|roughly|ca|~)\s*)?"
_UNIT = (
    r"(?:(?P<km2>km\s?2|km\^2|sq\s?km|sqkm|square\s+kilomet(?:er|re)s?"
    r"|kilomet(?:er|re)s?\s+squared)"
    r"|(?P<mi2>sq\s?mi(?:les?)?|square\s+miles?|mi2)"
    r"|(?P<m2>m2|m\^2|sq\s?m(?:et(?:er|re)s?)?|sqm|square\s+met(?:er|re)s?"
    r"|met(?:er|re)s?\s+squared)"
    r"|(?P<ha>ha|hectares?|hectars?)"
    r"|(?P<acre>acres?|ac)"
    r"|(?P<px>pixels?|px|pix|pxls?|cells?))(?![a-z0-9])"
)
_MIN_CMP = (
    r"(?:(?:larger|bigger|greater|more|wider)(?:\s+than)?(?:\s+or\s+equal(?:\s+to)?)?"
    r"|over|above|exceeding|exceeds?|at\s+least|mmu(?:\s+of)?"
    r"|min(?:imum)?(?:\s+mapping\s+unit|\s+area|\s+size)?(?:\s+of)?"
    r"|not?\s+(?:less|smaller|fewer)\s+than|>=?|=>)"
)
_MAX_CMP = (
    r"(?:(?:smaller|less|fewer|tinier)(?:\s+than)?(?:\s+or\s+equal(?:\s+to)?)?"
    r"|under|below|at\s+most|up\s+to|not\s+exceeding"
    r"|max(?:imum)?(?:\s+area|\s+size)?(?:\s+of)?"
    r"|not?\s+(?:more|larger|bigger|greater)\s+than|<=?|=<)"
)
WORD_START = r"(?<![a-z0-9])"  # a word starts here
_UNIT_A = _UNIT.replace("?P<", "?P<a_")  # the same unit groups for the first end of a range
_RANGE_RE = re.compile(
    rf"{WORD_START}(?:between|from)?\s*{_ABOUT}(?P<a>{_NUM_BARE})\s*(?:(?P<ua>{_UNIT_A})\s*)?"
    rf"(?:and|to)\s+{_ABOUT}(?P<b>{_NUM_BARE})\s*{_UNIT}"
)
_PREFIX_RE = re.compile(
    rf"{WORD_START}(?:(?P<max>{_MAX_CMP})|(?P<min>{_MIN_CMP}))\s*{_ABOUT}(?P<n>{_NUM})\s*{_UNIT}"
)
_POSTFIX_RE = re.compile(
    rf"{WORD_START}(?P<n>{_NUM_BARE})\s*{_UNIT}\s*(?:(?P<min>\+|(?:or|and)\s+(?:larger|bigger|greater|more|"
    rf"above|over|up)|min(?:imum)?|at\s+least)|(?P<max>(?:or|and)\s+(?:smaller|less|fewer|below|"
    rf"under)|max(?:imum)?|at\s+most))(?![a-z])"
)
_BARE_QUANTITY_RE = re.compile(rf"{WORD_START}(?P<n>{_NUM_BARE})\s*{_UNIT}")
_NO_UNIT_RE = re.compile(
    rf"{WORD_START}(?:{_MAX_CMP}|{_MIN_CMP})\s*{_ABOUT}{_NUM_BARE}(?![0-9.])"
    rf"(?!\s*(?:largest|biggest|greatest))(?:\s+[a-z]+)?"
)


def parse_number(text: str) -> float:
    text = re.sub(r"\s+", " ", text)
    return NUMBER_WORDS[text] if text in NUMBER_WORDS else float(text)


def _unit(match: re.Match[str], prefix: str = "") -> str:
    for name in ("km2", "mi2", "m2", "ha", "acre", "px"):
        if match.group(prefix + name):
            return name
    raise AssertionError("unit regex matched without a unit group")


class SizeLimits:
    """Collects size limits, refusing two of the same kind."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[float, str]] = {}

    def add(self, side: str, value: float, unit: str, said: str) -> None:
        kind = "pixels" if unit == "px" else "area"
        amount = value if unit == "px" else value * M2_PER_UNIT[unit]
        key = f"{side}_{kind}"
        if key in self.values:
            word = "minimum" if side == "min" else "maximum"
            raise PromptError(
                f"Two {word} sizes given ('{self.values[key][1]}' and '{said}'): keep one"
            )
        if amount <= 0 and side == "max":
            raise PromptError(f"The maximum size '{said}' must be larger than zero")
        self.values[key] = (amount, said)

    def get(self, key: str) -> float | None:
        return self.values[key][0] if key in self.values else None


def read_limits(text: str) -> tuple[str, SizeLimits]:
    """Cut size limits out of the normalised text; return the rest and the limits."""
    limits = SizeLimits()

    def on_range(m: re.Match[str]) -> str:
        unit_b = _unit(m)
        unit_a = _unit(m, "a_") if m.group("ua") else unit_b
        low, high = parse_number(m.group("a")), parse_number(m.group("b"))
        if ("px" in (unit_a, unit_b)) and unit_a != unit_b:
            raise PromptError(f"Give both ends of '{m.group(0).strip()}' in the same kind of unit")
        if low > high:
            low, high, unit_a, unit_b = high, low, unit_b, unit_a
        limits.add("min", low, unit_a, m.group(0).strip())
        limits.add("max", high, unit_b, m.group(0).strip())
        return " ; "

    def on_side(m: re.Match[str]) -> str:
        side = "min" if m.group("min") else "max"
        limits.add(side, parse_number(m.group("n")), _unit(m), m.group(0).strip())
        return " ; "

    text = _RANGE_RE.sub(on_range, text)
    text = _PREFIX_RE.sub(on_side, text)
    text = _POSTFIX_RE.sub(on_side, text)
    bare = _BARE_QUANTITY_RE.search(text)
    if bare:
        q = bare.group(0).strip()
        raise PromptError(
            f"Say whether '{q}' is a minimum or a maximum, "
            f"e.g. 'larger than {q}' or 'smaller than {q}'"
        )
    no_unit = _NO_UNIT_RE.search(text)
    if no_unit:
        raise PromptError(
            f"Cannot read the size limit '{no_unit.group(0).strip()}': give an area unit "
            "(m2, ha, km2, acres) or pixels, e.g. 'larger than 2 ha'"
        )
    return text, limits
