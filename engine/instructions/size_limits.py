"""Size limits in instructions: "larger than 2 ha", "< 300 m2", "between 1 and 5 ha", "2 ha or more".

Areas are converted to square metres (`M2_PER_UNIT`); pixel limits stay in pixels. Limits are
inclusive. Each limit's place is marked in the text, so that `qualifiers` can tell which targets
it applies to. A size without a unit or without a direction is refused with one line saying
what to write instead (two minimums for one target, by `SizeLimits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


#: A size said with a minus sign after a comparison or a range's start ("larger than -5 ha",
#: "up to -3 ha", "between -2 and 5 ha"), looked for before the normaliser reads dashes as spaces.
_NEGATIVE_RE = re.compile(
    rf"{WORD_START}(?:{_MAX_CMP}|{_MIN_CMP}|between|from)\s*{_ABOUT}"
    rf"(?P<size>-\s*(?:{_DIGITS})(?:\s*{_UNIT})?)"
)


def refuse_negative_size(text: str) -> None:
    """Refuse a size said with a minus sign in the partly normalised `text` (dashes still in
    it): its dash would be read as a space and the size taken as positive."""
    if negative := _NEGATIVE_RE.search(text):
        raise PromptError(
            f"A size cannot be negative ('{negative.group('size')}'): give a positive area, "
            "e.g. 'larger than 2 ha'"
        )


def parse_number(text: str) -> float:
    text = re.sub(r"\s+", " ", text)
    return NUMBER_WORDS[text] if text in NUMBER_WORDS else float(text)


def _unit(match: re.Match[str], prefix: str = "") -> str:
    for name in ("km2", "mi2", "m2", "ha", "acre", "px"):
        if match.group(prefix + name):
            return name
    raise AssertionError("unit regex matched without a unit group")


#: Where each size limit (and count) stood is marked in the text by one private-use character,
#: so the targets around it can be told (`qualifiers.bind_qualifiers`): limits from here on.
LIMIT_MARK = 0xE000
#: Marks of one kind an instruction can hold; the counts' follow the limits'.
MARKS_PER_KIND = 0x800


def mark_char(first: int, index: int, what: str) -> str:
    """The ``index``-th mark of the kind whose marks start at ``first`` (``what`` names the
    kind for the refusal of an instruction with more of them than there are marks)."""
    if index >= MARKS_PER_KIND:
        raise PromptError(
            f"The instruction gives more than {MARKS_PER_KIND} {what}: give one per target"
        )
    return chr(first + index)


def limit_mark(index: int) -> str:
    """The character that marks the ``index``-th size limit of an instruction."""
    return mark_char(LIMIT_MARK, index, "size limits")


@dataclass(frozen=True)
class SaidLimit:
    """One bound of a size limit as the instruction says it.

    Attributes:
        key: "min_area" or "max_area" (square metres), "min_pixels" or "max_pixels".
        amount: The bound in square metres or pixels.
        said: The words that gave it, for messages.
    """

    key: str
    amount: float
    said: str


def _said(side: str, value: float, unit: str, said: str) -> SaidLimit:
    kind = "pixels" if unit == "px" else "area"
    amount = value if unit == "px" else value * M2_PER_UNIT[unit]
    if amount <= 0 and side == "max":
        raise PromptError(f"The maximum size '{said}' must be larger than zero")
    return SaidLimit(f"{side}_{kind}", amount, said)


class SizeLimits:
    """Collects the size limits of one target, refusing two of the same kind."""

    def __init__(self, target: str = "") -> None:
        self.target = target
        self.values: dict[str, SaidLimit] = {}

    def add(self, limit: SaidLimit) -> None:
        """Add ``limit``; a second minimum (or maximum) is refused in one line."""
        if limit.key in self.values:
            word = "minimum" if limit.key.startswith("min") else "maximum"
            what = f" for {self.target}" if self.target else ""
            raise PromptError(
                f"Two {word} sizes given{what} ('{self.values[limit.key].said}' and "
                f"'{limit.said}'): keep one"
            )
        self.values[limit.key] = limit

    def get(self, key: str) -> float | None:
        """The bound of ``key`` ("min_area", ...), or None."""
        return self.values[key].amount if key in self.values else None


def read_limits(text: str) -> tuple[str, list[tuple[SaidLimit, ...]]]:
    """Cut size limits out of the normalised text; return the rest, each limit's place marked
    by `limit_mark`, and the limits in the order of their marks (a range gives two bounds)."""
    found: list[tuple[SaidLimit, ...]] = []

    def marked(*limits: SaidLimit) -> str:
        found.append(limits)
        return f" {limit_mark(len(found) - 1)} "

    def on_range(m: re.Match[str]) -> str:
        unit_b = _unit(m)
        unit_a = _unit(m, "a_") if m.group("ua") else unit_b
        low, high = parse_number(m.group("a")), parse_number(m.group("b"))
        if ("px" in (unit_a, unit_b)) and unit_a != unit_b:
            raise PromptError(f"Give both ends of '{m.group(0).strip()}' in the same kind of unit")
        if low > high:
            low, high, unit_a, unit_b = high, low, unit_b, unit_a
        said = m.group(0).strip()
        return marked(_said("min", low, unit_a, said), _said("max", high, unit_b, said))

    def on_side(m: re.Match[str]) -> str:
        side = "min" if m.group("min") else "max"
        return marked(_said(side, parse_number(m.group("n")), _unit(m), m.group(0).strip()))

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
    return text, found
