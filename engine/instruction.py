"""Instruction text to a ``Plan``: which targets to extract, and which regions to keep.

The parser is rule-based and predictable rather than clever:

1. The text is normalised: lower case, ``m²`` to ``m2``, decimal commas (``2,5 ha``), ranges
   (``1-5 ha``), hyphens and slashes to spaces, sensor names with numbers (``Sentinel-2``) dropped.
2. Size limits (``larger than 2 ha``, ``< 300 m2``, ``between 1 and 5 ha``, ``2 ha or more``) and
   counts (``the 3 largest``, ``largest lake``) are read and cut out of the text.
3. The remaining words are matched against the target synonyms, longest phrase first, with
   plurals reduced to singulars. Filler words ("please", "extract", "the", "areas" ...) are
   skipped. Words after a place preposition ("in", "near", "over" ...) describe where, not what:
   "buildings in the forest" asks for buildings only, and "lakes in Bavaria" is not an error.
4. Anything else is refused with one line that quotes it and lists what can be extracted, so an
   instruction is never half-understood in silence ("water and airplanes" is an error).

Size limits are inclusive; a pixel limit with a fraction is rounded inwards (``more than 2.5 px``
keeps regions of at least 3 pixels).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .errors import PromptError
from .targets import AMBIGUOUS_TERMS, TARGET_IDS, TARGETS, get_target, titles

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

# --- word classes for what is left after size limits and counts are cut out -----------------
# Words that end a phrase: the next target is a new mention.
_CONJUNCTIONS = frozenset({"and", "or", "but", "plus", "versus", "vs", "then", "also"})
# Place and time prepositions: the noun phrase after them says where or when, not what.
_PLACE_PREPOSITIONS = frozenset(
    {"in", "inside", "within", "near", "around", "at", "on", "over", "across", "along",
     "beside", "among", "amid", "from", "throughout", "surrounding", "after", "before",
     "during", "since", "until"}
)  # fmt: skip
_NEGATIONS = frozenset({"not", "no", "non", "except", "excluding", "exclude", "without", "free"})
_DETERMINERS = frozenset(
    {"the", "a", "an", "this", "that", "these", "those", "my", "our", "your", "its", "their",
     "all", "any", "every", "each", "some", "whole", "entire", "full", "both", "either"}
)  # fmt: skip
# Adjectives that qualify a target without changing what is extracted.
_ADJECTIVES = frozenset(
    {"large", "big", "small", "little", "major", "main", "minor", "clear", "dense", "sparse",
     "thick", "thin", "natural", "visible", "existing", "permanent", "seasonal", "temporary",
     "distinct", "individual", "separate", "contiguous", "connected", "significant", "larger",
     "bigger", "smaller", "huge", "tiny", "wide", "narrow", "deep", "shallow", "bright", "dark",
     "covered", "present", "detected", "detectable", "possible", "potential", "mapped", "total",
     "other", "remaining", "different", "various", "similar", "obvious", "clearly",
     "only", "just", "more", "most", "less", "many", "several", "same"}
)  # fmt: skip
# Generic nouns: what the data or the result is called, and where in the image.
_GENERIC_NOUNS = frozenset(
    {"scene", "image", "imagery", "picture", "photo", "raster", "layer", "tile", "dataset",
     "data", "file", "band", "map", "area", "region", "patch", "zone", "part", "body", "cover",
     "coverage", "land", "landcover", "surface", "feature", "polygon", "mask", "object",
     "pixel", "class", "category", "type", "kind", "extent", "boundary", "outline", "shape",
     "vector", "shapefile", "geopackage", "gpkg", "output", "result", "segmentation",
     "classification", "satellite", "multispectral", "spectral", "aerial", "orthophoto",
     "ortho", "sentinel", "landsat", "planetscope", "spot", "worldview", "pleiades", "naip",
     "modis", "rapideye", "aster", "size", "target", "north", "south", "east", "west",
     "northern", "southern", "eastern", "western", "northeast", "northwest", "southeast",
     "southwest", "upper", "lower", "left", "right", "top", "bottom", "center", "centre",
     "central", "middle", "corner", "half", "side", "edge", "border", "portion", "view",
     "location", "place", "site", "study", "aoi", "interest", "cm", "resolution", "gsd"}
)  # fmt: skip
# Everything else that carries no meaning here: verbs, pronouns, auxiliaries, particles.
_FILLERS = frozenset(
    {"please", "kindly", "extract", "map", "find", "show", "detect", "segment", "delineate",
     "identify", "locate", "classify", "outline", "highlight", "mark", "select", "pick", "get",
     "give", "return", "create", "make", "generate", "draw", "label", "vectorize", "vectorise",
     "digitize", "digitise", "trace", "isolate", "retrieve", "produce", "export", "compute",
     "calculate", "estimate", "count", "want", "need", "like", "would", "could", "can", "will",
     "shall", "should", "help", "see", "look", "display", "list", "keep", "retain", "i", "me",
     "we", "us", "you", "it", "them", "they", "which", "what", "where", "there", "here", "is",
     "are", "be", "was", "were", "been", "being", "has", "have", "had", "do", "does", "to",
     "for", "by", "as", "well", "so", "etc", "with", "of", "per", "up", "into", "than",
     "that", "who", "how", "out", "lets", "let", "try", "if", "only", "just", "each",
     "include", "including", "especially", "such", "e", "g", "eg", "ie", "now", "again"}
)  # fmt: skip

# --- size limits --------------------------------------------------------------------------
_NAMES = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty"
_DIGITS = r"\d+(?:\.\d+)?|\.\d+"
_NUM_BARE = rf"(?:{_DIGITS}|(?<![a-z])(?:{_NAMES})(?![a-z]))"
_NUM = rf"(?:{_DIGITS}|(?<![a-z])(?:{_NAMES}|half an?|an?)(?![a-z]))"  # "more than a hectare"
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
_W = r"(?<![a-z0-9])"  # a word starts here
_UNIT_A = _UNIT.replace("?P<", "?P<a_")  # the same unit groups for the first end of a range
_RANGE_RE = re.compile(
    rf"{_W}(?:between|from)?\s*{_ABOUT}(?P<a>{_NUM_BARE})\s*(?:(?P<ua>{_UNIT_A})\s*)?"
    rf"(?:and|to)\s+{_ABOUT}(?P<b>{_NUM_BARE})\s*{_UNIT}"
)
_PREFIX_RE = re.compile(
    rf"{_W}(?:(?P<max>{_MAX_CMP})|(?P<min>{_MIN_CMP}))\s*{_ABOUT}(?P<n>{_NUM})\s*{_UNIT}"
)
_POSTFIX_RE = re.compile(
    rf"{_W}(?P<n>{_NUM_BARE})\s*{_UNIT}\s*(?:(?P<min>\+|(?:or|and)\s+(?:larger|bigger|greater|more|"
    rf"above|over|up)|min(?:imum)?|at\s+least)|(?P<max>(?:or|and)\s+(?:smaller|less|fewer|below|"
    rf"under)|max(?:imum)?|at\s+most))(?![a-z])"
)
_BARE_QUANTITY_RE = re.compile(rf"{_W}(?P<n>{_NUM_BARE})\s*{_UNIT}")
_NO_UNIT_RE = re.compile(
    rf"{_W}(?:{_MAX_CMP}|{_MIN_CMP})\s*{_ABOUT}{_NUM_BARE}(?![0-9.])"
    rf"(?!\s*(?:largest|biggest|greatest))(?:\s+[a-z]+)?"
)

# --- counts -------------------------------------------------------------------------------
_COUNT = rf"(?:\d+|{_NAMES})"
_LARGEST = r"(?:largest|biggest|greatest)"
_LARGEST_RE = re.compile(
    rf"{_W}(?:top\s+(?P<n1>{_COUNT})(?:\s+{_LARGEST})?|(?P<n2>{_COUNT})\s+{_LARGEST}"
    rf"|{_LARGEST}\s+(?P<n3>{_COUNT})(?![a-z0-9.])|(?P<one>{_LARGEST}))(?![a-z])"
)
_SMALLEST_RE = re.compile(rf"{_W}(?:smallest|tiniest)(?![a-z])")

# Sensor names with numbers and pixel sizes name the data, not a size limit or a count.
_SENSOR_RE = re.compile(
    r"(?<![a-z0-9])(?:(?:sentinel|landsat|spot|worldview|pleiades|rapideye|modis)"
    r"[\s-]?\d{1,2}[a-z]?"
    r"|(?:s|l|ls|wv)\d{1,2}[a-z]?|\d+(?:\.\d+)?\s*(?:m|cm|meters?|metres?)\s+"
    r"(?:resolution|gsd|pixels?|data|imagery|image|scene))(?![a-z0-9])"
)


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


def _fmt_number(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _fmt_area(m2: float | None) -> str:
    if m2 is None:
        return ""
    other = f"{m2 / 1e6:.4g} km2" if m2 >= 1e6 else f"{m2 / 1e4:.4g} ha"
    return f"{_fmt_number(m2)} m2 ({other})"


def _fmt_pixels(px: int | None) -> str:
    if px is None:
        return ""
    return f"{px} pixel" if px == 1 else f"{px} pixels"


def singular(word: str) -> str:
    """A crude English singular, enough for land-cover nouns (``bodies`` -> ``body``)."""
    if len(word) <= 3 or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    return word[:-1]


def _in(word: str, words: frozenset[str]) -> bool:
    return word in words or singular(word) in words


def _words(text: str) -> tuple[str, ...]:
    """Synonym or instruction words, singular, hyphens and slashes as spaces."""
    return tuple(singular(w) for w in re.findall(r"[a-z]+", text.lower()))


def _phrase_index() -> dict[tuple[str, ...], tuple[str, str]]:
    """Singular word tuples -> ("target", id) or ("ambiguous", hint)."""
    index: dict[tuple[str, ...], tuple[str, str]] = {}
    for term, hint in AMBIGUOUS_TERMS.items():
        index[_words(term)] = ("ambiguous", hint)
    for target in TARGETS.values():
        for phrase in (target.id, target.title, target.spie_phrase, *target.synonyms):
            index[_words(phrase)] = ("target", target.id)
    return index


_PHRASES = _phrase_index()
_MAX_PHRASE = max(len(k) for k in _PHRASES)


def _example(ids: Sequence[str]) -> str:
    return f"extract the {get_target(ids[0]).spie_phrase}"


def _shorten(text: str, limit: int = 60) -> str:
    """The text on one line, cut to ``limit`` characters for a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def _cannot(what: Sequence[str], ids: Sequence[str]) -> PromptError:
    quoted = ", ".join(f"'{w}'" for w in what)
    return PromptError(
        f"Cannot extract {quoted}: this backend extracts {titles(ids)} (try '{_example(ids)}')"
    )


def _normalise(text: str) -> str:
    t = text.lower()
    t = t.replace("²", "2").replace("≥", ">=").replace("≤", "<=").replace("’", "'")
    t = re.sub(r"[‐‑‒–—−]", "-", t)
    t = re.sub(r"'s\b", "", t).replace("'", "").replace('"', " ")
    t = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", t)  # 20,000 -> 20000
    t = re.sub(r"(?<=\d),(?=\d{1,2}(?!\d))", ".", t)  # 2,5 -> 2.5
    t = re.sub(r"\b(min|max|sq|approx|ca)\.", r"\1 ", t)
    t = re.sub(r"(<=|>=|=<|=>|<|>)", r" \1 ", t)
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ; ", t)  # sentence dots, not decimal points
    t = _SENSOR_RE.sub(" ", t)
    t = re.sub(r"(?<=\d)\s*-\s*(?=\d)", " to ", t)  # 1-5 ha -> 1 to 5 ha
    t = re.sub(r"(?<![a-z])(ha|m2|km2|acres?|px|pixels?)\s*-\s*(?=\d)", r"\1 to ", t)  # 1 ha - 5 ha
    t = re.sub(r"[-/_]", " ", t)
    t = re.sub(r"\b(?:as well as|along with|together with)\b", " and ", t)
    t = re.sub(r"\b(?:next|close) to\b|\bsurrounded by\b", " near ", t)
    return re.sub(r"\s+", " ", t).strip()


def _number(text: str) -> float:
    text = re.sub(r"\s+", " ", text)
    return NUMBER_WORDS[text] if text in NUMBER_WORDS else float(text)


def _unit(match: re.Match[str], prefix: str = "") -> str:
    for name in ("km2", "mi2", "m2", "ha", "acre", "px"):
        if match.group(prefix + name):
            return name
    raise AssertionError("unit regex matched without a unit group")


class _Limits:
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


def _read_limits(text: str) -> tuple[str, _Limits]:
    """Cut size limits out of the normalised text; return the rest and the limits."""
    limits = _Limits()

    def on_range(m: re.Match[str]) -> str:
        unit_b = _unit(m)
        unit_a = _unit(m, "a_") if m.group("ua") else unit_b
        low, high = _number(m.group("a")), _number(m.group("b"))
        if ("px" in (unit_a, unit_b)) and unit_a != unit_b:
            raise PromptError(f"Give both ends of '{m.group(0).strip()}' in the same kind of unit")
        if low > high:
            low, high, unit_a, unit_b = high, low, unit_b, unit_a
        limits.add("min", low, unit_a, m.group(0).strip())
        limits.add("max", high, unit_b, m.group(0).strip())
        return " ; "

    def on_side(m: re.Match[str]) -> str:
        side = "min" if m.group("min") else "max"
        limits.add(side, _number(m.group("n")), _unit(m), m.group(0).strip())
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


def _match_at(keys: Sequence[str], i: int) -> tuple[int, tuple[str, str] | None]:
    """Longest catalogue phrase starting at word ``i``: (number of words, hit) or (0, None)."""
    for size in range(min(_MAX_PHRASE, len(keys) - i), 0, -1):
        hit = _PHRASES.get(tuple(keys[i : i + size]))
        if hit:
            return size, hit
    return 0, None


def _is_plural_after(text: str) -> bool:
    """Whether the noun phrase right after 'largest' is plural ('largest lakes')."""
    tokens = re.findall(r"[a-z]+|[^\sa-z]", text)[:8]
    keys = [singular(t) for t in tokens]
    i = 0
    while i < len(tokens) and (_in(tokens[i], _DETERMINERS) or _in(tokens[i], _ADJECTIVES)):
        i += 1
    size, _ = _match_at(keys, i)
    noun = tokens[i : i + size]
    i += size
    while i < len(tokens) and _in(tokens[i], _GENERIC_NOUNS):
        noun.append(tokens[i])
        i += 1
    if not noun and i < len(tokens) and tokens[i].isalpha() and not _in(tokens[i], _FILLERS):
        noun = [tokens[i]]
    return any(singular(w) != w for w in noun)


def _read_count(text: str) -> tuple[str, int | None]:
    """Cut 'the N largest' out of the normalised text; return the rest and N."""
    if _SMALLEST_RE.search(text):
        raise PromptError(
            "Only the largest regions can be selected, e.g. 'the 5 largest'; "
            "for a size limit say e.g. 'smaller than 1 ha'"
        )
    counts: list[int] = []

    def on_count(m: re.Match[str]) -> str:
        said = m.group("n1") or m.group("n2") or m.group("n3")
        if said is None:
            if _is_plural_after(text[m.end() :]):
                raise PromptError(
                    "Say how many of the largest to keep, e.g. 'the 5 largest lakes' "
                    "(or 'the largest lake' for one)"
                )
            n = 1
        else:
            n = int(_number(said))
        if n < 1:
            raise PromptError(f"'{m.group(0).strip()}' keeps nothing: ask for at least one region")
        counts.append(n)
        return " ; "

    text = _LARGEST_RE.sub(on_count, text)
    if len(set(counts)) > 1:
        raise PromptError(
            f"Two counts given ({counts[0]} and {counts[1]}): give one for all targets, "
            f"e.g. 'the {counts[0]} largest'"
        )
    return text, (counts[0] if counts else None)


def _read_targets(text: str, ids: Sequence[str]) -> list[str]:
    """Match target phrases in the remaining text; refuse what is not understood."""
    tokens = re.findall(r"[a-z]+|\d+(?:\.\d+)?|[^\sa-z0-9]", text)
    tokens = ["and" if t in "+&" else ("," if not re.match(r"[a-z0-9]", t) else t) for t in tokens]
    keys = [singular(t) for t in tokens]
    mentions: list[str] = []
    unknown: list[list[str]] = []
    numbers: list[str] = []
    state = "free"  # "free", or inside a place phrase: "open" (no noun yet) / "noun"
    previous_unknown = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        size, hit = _match_at(keys, i)
        is_unknown = False
        if hit:
            said = " ".join(tokens[i : i + size])
            i += size
            if state != "free":
                state = "noun"
            elif hit[0] == "target":
                mentions.append(hit[1])
            else:
                raise PromptError(f"Cannot extract '{said}': {hit[1]}")
            previous_unknown = False
            continue
        if tok == "," or tok in _CONJUNCTIONS:
            state = "free"
        elif tok in _NEGATIONS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            said = f"{tokens[i - 1]} {tok}" if tok == "free" and i else f"{tok} {nxt}".strip()
            raise PromptError(
                f"Exclusions such as '{said}' are not supported: name only what to extract, "
                f"e.g. '{_example(ids)}'"
            )
        elif tok in _PLACE_PREPOSITIONS:
            state = "open"
        elif tok == "of" and state == "noun":
            state = "open"  # "near the edge of the lake": still a place
        elif _in(tok, _GENERIC_NOUNS):
            if state != "free":
                state = "noun"
        elif _in(tok, _DETERMINERS) or _in(tok, _ADJECTIVES):
            if state == "noun":
                state = "free"
        elif _in(tok, _FILLERS):
            state = "free"
        elif state != "free":
            state = "noun"  # an unknown word or number naming a place ("in Bavaria", "in 2021")
        elif tok[0].isdigit():
            numbers.append(tok)
        else:
            is_unknown = True
            if previous_unknown:
                unknown[-1].append(tok)
            else:
                unknown.append([tok])
        previous_unknown = is_unknown
        i += 1
    if unknown:
        raise _cannot([" ".join(u) for u in unknown], ids)
    if numbers:
        raise PromptError(
            f"Did not understand '{numbers[0]}': write sizes like 'larger than 2 ha' "
            "and counts like 'the 3 largest'"
        )
    return list(dict.fromkeys(mentions))


def parse_instruction(text: str, available: Sequence[str] | None = None) -> Plan:
    """Read an instruction such as "extract the water bodies larger than 2 ha" into a ``Plan``.

    Args:
        text: The instruction as typed.
        available: Target ids the backend can extract; None means the whole catalogue.

    Raises:
        PromptError: one line saying what was not understood and what can be extracted.
    """
    ids = tuple(TARGET_IDS if available is None else (get_target(a).id for a in available))
    if not ids:
        raise PromptError("This backend extracts no targets; choose another backend")
    if not text or not text.strip():
        raise PromptError(
            "The instruction is empty; type what to extract, e.g. 'extract the water bodies'"
        )
    rest, limits = _read_limits(_normalise(text))
    rest, largest_n = _read_count(rest)
    found = _read_targets(rest, ids)
    if not found:
        raise PromptError(
            f"No target found in '{_shorten(text)}': this backend extracts {titles(ids)} "
            f"(try '{_example(ids)}')"
        )
    missing = [t for t in found if t not in ids]
    if missing:
        raise PromptError(
            f"Cannot extract {titles(missing)} with this backend: it extracts {titles(ids)} "
            f"(try '{_example(ids)}')"
        )
    min_area, max_area = limits.get("min_area"), limits.get("max_area")
    min_px, max_px = limits.get("min_pixels"), limits.get("max_pixels")
    for low, high, unit in ((min_area, max_area, "m2"), (min_px, max_px, "pixels")):
        if low is not None and high is not None and low > high:
            raise PromptError(
                f"The minimum size ({_fmt_number(low)} {unit}) is larger than the maximum "
                f"({_fmt_number(high)} {unit}): swap or fix them"
            )
    return Plan(
        prompt=text.strip(),
        targets=tuple(found),
        min_area_m2=min_area,
        max_area_m2=max_area,
        min_pixels=None if min_px is None else math.ceil(min_px),
        max_pixels=None if max_px is None else math.floor(max_px),
        largest_n=largest_n,
    )
