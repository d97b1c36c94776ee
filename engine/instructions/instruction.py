"""Instruction text to a ``Plan``: which targets to extract, and which regions to keep.

The parser is rule-based and predictable rather than clever:

1. The text is normalised: lower case, ``m²`` to ``m2``, decimal commas (``2,5 ha``), ranges
   (``1-5 ha``), hyphens and slashes to spaces, sensor names with numbers (``Sentinel-2``) dropped.
2. Size limits (``larger than 2 ha``, ``< 300 m2``, ``between 1 and 5 ha``, ``2 ha or more``) and
   counts (``the 3 largest``, ``largest lake``) are read and cut out of the text, a mark left
   where each stood.
3. The remaining words are read in order (`reader`) against the vocabulary (`vocabulary`):
   the target synonyms, longest phrase first, with plurals reduced to singulars. Filler words
   ("please", "extract", "the", "areas" ...) are skipped. "Land cover", "all classes" and
   "everything" ask for every target the backend extracts (a land-cover map), less those left
   out ("land cover except cloud"). Words after a place preposition ("in", "near", "over" ...)
   describe where, not what: "buildings in the forest" asks for buildings only, and "lakes in
   Bavaria" is not an error; so does an owner followed by what it owns ("Bavaria's lakes",
   "the city's parks": the parks).
4. Anything else is refused with one line that quotes it and lists what can be extracted, so an
   instruction is never half-understood in silence ("water and airplanes" is an error).
5. Each limit and count goes to the targets around its mark (`qualifiers`): "lakes over 1 ha and
   the 3 largest forests" gives each target its own.

Size limits are inclusive; a pixel limit with a fraction is rounded inwards (``more than 2.5 px``
keeps regions of at least 3 pixels).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, replace

from ..errors import PromptError
from .plan import Plan, RegionLimits
from .qualifiers import SaidCount, bind_qualifiers, count_mark
from .reader import expand_every_target, read_targets
from .size_limits import (
    NUMBER_NAMES,
    WORD_START,
    parse_number,
    read_limits,
    refuse_negative_size,
)
from .targets import TARGET_IDS, TARGETS, get_target, titles
from .vocabulary import (
    ADJECTIVES,
    DETERMINERS,
    EVERY_TARGET_PHRASES,
    FILLERS,
    GENERIC_NOUNS,
    INDEX_NAMES,
    POSSESSIVE,
    example_instruction,
    is_in,
    match_at,
    phrase_target,
    phrases_for,
    shorten,
    singular,
)

__all__ = ["EVERY_TARGET_PHRASES", "parse_instruction", "phrase_target", "singular"]

#: An index named with a value: "NDVI above 0.5", "ndwi > 0.2", "NDVI of 0.6".
_INDEX_VALUE_RE = re.compile(
    rf"(?<![a-z])(?P<name>{'|'.join(sorted(INDEX_NAMES - {'index', 'indices'}))})"
    r"(?:\s+(?:value|values|threshold))?\s*(?:is\s+|of\s+)?"
    r"(?:>=|<=|>|<|=|(?:above|below|over|under|of|at least|at most|greater than|less than|"
    r"higher than|lower than|more than))?\s*(?P<value>-?\d+(?:\.\d+)?)(?![\d.])"
    r"(?!\s*(?:%|ha|m2|km2|acres?|px|pixels?)(?![a-z]))"
)

# --- counts -------------------------------------------------------------------------------
_COUNT = rf"(?:\d+|{NUMBER_NAMES})"
_LARGEST = r"(?:largest|biggest|greatest)"
_LARGEST_RE = re.compile(
    rf"{WORD_START}(?:top\s+(?P<n1>{_COUNT})(?:\s+{_LARGEST})?|(?P<n2>{_COUNT})\s+{_LARGEST}"
    rf"|{_LARGEST}\s+(?P<n3>{_COUNT})(?![a-z0-9.])|(?P<one>{_LARGEST}))(?![a-z])"
)
_SMALLEST_RE = re.compile(rf"{WORD_START}(?:smallest|tiniest)(?![a-z])")

# Sensor names with numbers and pixel sizes name the data, not a size limit or a count.
_SENSOR_RE = re.compile(
    r"(?<![a-z0-9])(?:(?:sentinel|landsat|spot|worldview|pleiades|rapideye|modis)"
    r"[\s-]?\d{1,2}[a-z]?"
    r"|(?:s|l|ls|wv)\d{1,2}[a-z]?|\d+(?:\.\d+)?\s*(?:m|cm|meters?|metres?)\s+"
    r"(?:resolution|gsd|pixels?|data|imagery|image|scene))(?![a-z0-9])"
)


#: Digits grouped by thousands with a space, as SI and most of Europe write them ("10 000 m2",
#: a no-break or thin space too).
_DIGIT_GROUPS = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+(?![\d.,])")
#: A number in scientific notation ("1e3 m2", "2.5E4 m2").
_EXPONENT = re.compile(r"(?<![a-z\d.])\d+(?:\.\d+)?e\d{1,2}(?![a-z\d])")


def _normalise(text: str) -> str:
    t = re.sub("[\ue000-\uf8ff]", " ", text.lower())  # private use: the parser's own marks
    t = _without_accents(t)
    t = t.replace("²", "2").replace("≥", ">=").replace("≤", "<=").replace("’", "'")
    t = re.sub(r"[‐‑‒–—−]", "-", t)
    t = t.replace(POSSESSIVE, " ")
    t = re.sub(r"(?<=[a-z0-9])'s\b|(?<=[a-z]s)'(?![a-z])", f" {POSSESSIVE} ", t)
    t = t.replace("'", "").replace('"', " ")
    t = _DIGIT_GROUPS.sub(lambda m: re.sub(r"\D", "", m.group(0)), t)  # 10 000 -> 10000
    t = _EXPONENT.sub(lambda m: f"{float(m.group(0)):f}".rstrip("0").rstrip("."), t)  # 1e3
    t = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", t)  # 20,000 -> 20000
    t = re.sub(r"(?<=\d),(?=\d{1,2}(?!\d))", ".", t)  # 2,5 -> 2.5
    t = re.sub(r"\b(min|max|sq|approx|ca)\.", r"\1 ", t)
    t = re.sub(r"(<=|>=|=<|=>|<|>)", r" \1 ", t)
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ; ", t)  # sentence dots, not decimal points
    t = _SENSOR_RE.sub(" ", t)
    t = re.sub(r"(?<=\d)\s*-\s*(?=\d)", " to ", t)  # 1-5 ha -> 1 to 5 ha
    t = re.sub(r"(?<![a-z])(ha|m2|km2|acres?|px|pixels?)\s*-\s*(?=\d)", r"\1 to ", t)  # 1 ha - 5 ha
    refuse_negative_size(t)  # before the dash is read as a space
    t = re.sub(r"[-/_]", " ", t)
    t = re.sub(r"\b(?:as well as|along with|together with)\b", " and ", t)
    t = re.sub(r"\b(?:next|close) to\b|\bsurrounded by\b", " near ", t)
    return re.sub(r"\s+", " ", t).strip()


def _without_accents(text: str) -> str:
    """`text` with its letters' accents dropped ("naïve" -> "naive", "m²" -> "m2"): a word
    split at an accented letter was refused in pieces ('na', 've')."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _foreign(text: str) -> bool:
    """Whether `text` has letters beyond English's alphabet (accents, another script)."""
    return any(c.isalpha() and not c.isascii() for c in text)


def _is_plural_after(text: str) -> bool:
    """Whether the noun phrase right after 'largest' is plural ('largest lakes')."""
    tokens = re.findall(r"[a-z]+|[^\sa-z]", text)[:8]
    keys = [singular(t) for t in tokens]
    i = 0
    while i < len(tokens) and (is_in(tokens[i], DETERMINERS) or is_in(tokens[i], ADJECTIVES)):
        i += 1
    size, _ = match_at(keys, i)
    noun = tokens[i : i + size]
    i += size
    while i < len(tokens) and is_in(tokens[i], GENERIC_NOUNS):
        noun.append(tokens[i])
        i += 1
    if not noun and i < len(tokens) and tokens[i].isalpha() and not is_in(tokens[i], FILLERS):
        noun = [tokens[i]]
    return any(singular(w) != w for w in noun)


def _read_count(text: str) -> tuple[str, list[SaidCount]]:
    """Cut each 'the N largest' out of the normalised text; return the rest, each count's
    place marked by `qualifiers.count_mark`, and the counts in the order of their marks."""
    if _SMALLEST_RE.search(text):
        raise PromptError(
            "Only the largest regions can be selected, e.g. 'the 5 largest'; "
            "for a size limit say e.g. 'smaller than 1 ha'"
        )
    counts: list[SaidCount] = []

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
            n = int(parse_number(said))
        if n < 1:
            raise PromptError(f"'{m.group(0).strip()}' keeps nothing: ask for at least one region")
        counts.append(SaidCount(n, said is None))
        return f" {count_mark(len(counts) - 1)} "

    return _LARGEST_RE.sub(on_count, text), counts


def _refuse_index_values(text: str) -> None:
    """An index value in the instruction is a threshold, which is set beside it, not in it."""
    said = _INDEX_VALUE_RE.search(text)
    if said is None:
        return
    from ..backends.spectral.set_thresholds import settable_list, settable_name

    name, value = said.group("name"), said.group("value")
    index = settable_name(name)  # the spectral backend's settable thresholds
    how = (
        f"--threshold {index}={value} (the dock's and Processing's index thresholds)"
        if index is not None
        else f"{name.upper()} cannot be set (settable: {settable_list()})"
    )
    raise PromptError(
        f"Index values are not read from the instruction ('{said.group(0).strip()}'): name "
        f"the target here and set its threshold beside it: {how}"
    )


def parse_instruction(text: str, available: Sequence[str] | None = None) -> Plan:
    """Read an instruction such as "extract the water bodies larger than 2 ha" into a ``Plan``.

    Args:
        text: The instruction as typed.
        available: Target ids the backend can extract; None means the whole catalogue. Ids
            outside the catalogue (a model's own classes) are matched by their names too.

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
    normalised = _normalise(text)
    _refuse_index_values(normalised)
    rest, limits = read_limits(normalised)
    rest, counts = _read_count(rest)
    english = "; instructions are read in English" if _foreign(text) else ""
    try:
        events = expand_every_target(read_targets(rest, ids, phrases_for(ids)), ids)
    except PromptError as refused:
        raise PromptError(f"{refused}{english}") from None
    left_out = tuple(dict.fromkeys(ev.value for ev in events if ev.kind == "exclude_part"))
    events = [ev for ev in events if ev.kind != "exclude_part"]
    found = list(dict.fromkeys(ev.value for ev in events if ev.kind == "target"))
    if not found:
        raise PromptError(
            f"No target found in '{shorten(text)}': this backend extracts {titles(ids)} "
            f"(try '{example_instruction(ids)}', or 'land cover' for all of them){english}"
        )
    missing = [t for t in found if t not in ids]
    if missing:
        wholes = [w for t in missing if (w := TARGETS[t].part_of) in ids]
        hint = (  # a part the backend has only within its whole (a model's vegetation)
            f"; its {get_target(wholes[0]).title} includes {titles(missing)} "
            f"(try 'extract the {get_target(wholes[0]).title}')"
            if wholes
            else f" (try '{example_instruction(ids)}')"
        )
        raise PromptError(
            f"Cannot extract {titles(missing)} with this backend: it extracts {titles(ids)}{hint}"
        )
    _check_left_out(left_out, found, ids)
    per_target = bind_qualifiers(events, limits, counts)
    shared = set(per_target.values())
    plan = Plan(prompt=text.strip(), targets=tuple(found), left_out=left_out)
    if len(shared) == 1:  # one set of limits for all: the plan's own fields
        return replace(plan, **asdict(shared.pop()))
    own = tuple((t, lim) for t, lim in per_target.items() if lim != RegionLimits())
    return replace(plan, own_limits=own)


def _check_left_out(left_out: Sequence[str], found: Sequence[str], ids: Sequence[str]) -> None:
    """Refuse a part both asked for and left out, and one the backend cannot tell apart."""
    both = [t for t in left_out if t in found]
    if both:
        raise PromptError(
            f"{titles(both).capitalize()} is both asked for and left out; ask for it, or for "
            f"the {TARGETS[TARGETS[both[0]].part_of].title} without it"
        )
    cannot = [t for t in left_out if t not in ids]
    if cannot:
        whole = TARGETS[TARGETS[cannot[0]].part_of].title
        raise PromptError(
            f"This backend cannot tell {titles(cannot)} within the {whole}, so cannot leave it "
            f"out; ask for the {whole} (the spectral backend can)"
        )
