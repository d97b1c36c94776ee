"""Instruction text to a ``Plan``: which targets to extract, and which regions to keep.

The parser is rule-based and predictable rather than clever:

1. The text is normalised: lower case, ``m²`` to ``m2``, decimal commas (``2,5 ha``), ranges
   (``1-5 ha``), hyphens and slashes to spaces, sensor names with numbers (``Sentinel-2``) dropped.
2. Size limits (``larger than 2 ha``, ``< 300 m2``, ``between 1 and 5 ha``, ``2 ha or more``) and
   counts (``the 3 largest``, ``largest lake``) are read and cut out of the text, a mark left
   where each stood.
3. The remaining words are matched against the target synonyms, longest phrase first, with
   plurals reduced to singulars. Filler words ("please", "extract", "the", "areas" ...) are
   skipped. "Land cover", "all classes" and "everything" ask for every target the backend
   extracts (a land-cover map). Words after a place preposition ("in", "near", "over" ...)
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

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from ..errors import PromptError
from .plan import Plan, RegionLimits
from .qualifiers import Event, SaidCount, bind_qualifiers, count_mark, is_mark
from .size_limits import NUMBER_NAMES, WORD_START, parse_number, read_limits
from .targets import AMBIGUOUS_TERMS, TARGET_IDS, TARGETS, get_target, titles

WORDS_PATH = (
    Path(__file__).resolve().parents[2] / "resources" / "prompts" / "instruction_words.json"
)

# --- word classes for what is left after size limits and counts are cut out -----------------
# Kept as data in resources/prompts/instruction_words.json (what each class means is there too).
_WORDS = json.loads(WORDS_PATH.read_text(encoding="utf-8"))
_CONJUNCTIONS = frozenset(_WORDS["conjunctions"])
_PLACE_PREPOSITIONS = frozenset(_WORDS["place_prepositions"])
_NEGATIONS = frozenset(_WORDS["negations"])
_DETERMINERS = frozenset(_WORDS["determiners"])
_ADJECTIVES = frozenset(_WORDS["adjectives"])
_GENERIC_NOUNS = frozenset(_WORDS["generic_nouns"])
_FILLERS = frozenset(_WORDS["fillers"])
_INDEX_NAMES = frozenset(_WORDS["index_names"])
#: An index named with a value: "NDVI above 0.5", "ndwi > 0.2", "NDVI of 0.6".
_INDEX_VALUE_RE = re.compile(
    rf"(?<![a-z])(?P<name>{'|'.join(sorted(_INDEX_NAMES - {'index', 'indices'}))})"
    r"(?:\s+(?:value|values|threshold))?\s*(?:is\s+|of\s+)?"
    r"(?:>=|<=|>|<|=|(?:above|below|over|under|of|at least|at most|greater than|less than|"
    r"higher than|lower than|more than))?\s*(?P<value>-?\d+(?:\.\d+)?)(?![\d.])"
    r"(?!\s*(?:%|ha|m2|km2|acres?|px|pixels?)(?![a-z]))"
)
#: Phrases that ask for every target the backend extracts ("land cover", "everything").
EVERY_TARGET_PHRASES = tuple(_WORDS["every_target"])

#: Stands for "'s" in the normalised text: "Berlin's lakes", "the city's parks" name where.
POSSESSIVE = "\u00a7"

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
    """Singular word tuples -> ("target", id), ("ambiguous", hint) or ("every", "")."""
    index: dict[tuple[str, ...], tuple[str, str]] = {}
    for phrase in EVERY_TARGET_PHRASES:
        index[_words(phrase)] = ("every", "")
    for term, hint in AMBIGUOUS_TERMS.items():
        index[_words(term)] = ("ambiguous", hint)
    for target in TARGETS.values():
        for phrase in (target.id, target.title, target.spie_phrase, *target.synonyms):
            index[_words(phrase)] = ("target", target.id)
    return index


_PHRASES = _phrase_index()
_MAX_PHRASE = max(len(k) for k in _PHRASES)


def phrase_target(text: str) -> str | None:
    """The target a whole phrase names, as an instruction reads it (a target's id, title, SPIE
    phrase or synonym; plurals as singulars: "Buildings", "bare soil"), or None."""
    kind, value = _PHRASES.get(_words(text), ("", ""))
    return value if kind == "target" else None


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
    t = re.sub("[\ue000-\uf8ff]", " ", text.lower())  # private use: the parser's own marks
    t = t.replace("²", "2").replace("≥", ">=").replace("≤", "<=").replace("’", "'")
    t = re.sub(r"[‐‑‒–—−]", "-", t)
    t = t.replace(POSSESSIVE, " ")
    t = re.sub(r"(?<=[a-z0-9])'s\b|(?<=[a-z]s)'(?![a-z])", f" {POSSESSIVE} ", t)
    t = t.replace("'", "").replace('"', " ")
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


def _phrases_for(ids: Sequence[str]) -> dict[tuple[str, ...], tuple[str, str]]:
    """The catalogue's phrases plus the names of the available targets that are not in it (a
    model's own classes, see `targets.model_class_target`), which win over catalogue words."""
    extra = [i for i in ids if i not in TARGET_IDS]
    if not extra:
        return _PHRASES
    index = dict(_PHRASES)
    for target_id in extra:
        target = get_target(target_id)
        for phrase in (target.title, *target.synonyms):
            # numbers count in a class's name ("channel 1"), as the prompt's tokens keep them
            words = tuple(singular(w) for w in re.findall(r"[a-z]+|\d+", phrase.lower()))
            if words:
                index[words] = ("target", target.id)
    return index


def _match_at(
    keys: Sequence[str], i: int, phrases: dict[tuple[str, ...], tuple[str, str]] = _PHRASES
) -> tuple[int, tuple[str, str] | None]:
    """Longest known phrase starting at word ``i``: (number of words, hit) or (0, None)."""
    longest = _MAX_PHRASE if phrases is _PHRASES else max(len(k) for k in phrases)
    for size in range(min(longest, len(keys) - i), 0, -1):
        hit = phrases.get(tuple(keys[i : i + size]))
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


def _token(t: str) -> str:
    """A punctuation token as the reader takes it: a mark or the possessive as is, "+" and "&"
    as "and", a sentence end as ";", any other as ","."""
    if is_mark(t) or t == POSSESSIVE or re.match(r"[a-z0-9]", t):
        return t
    return "and" if t in "+&" else (";" if t in ";!?" else ",")


def _read_targets(
    text: str, ids: Sequence[str], phrases: dict[tuple[str, ...], tuple[str, str]] = _PHRASES
) -> list[Event]:
    """Match target phrases in the remaining text, in order with the marks of the limits and
    counts and the sentence ends (`qualifiers.Event`); refuse what is not understood."""
    tokens = [_token(t) for t in re.findall(r"[a-z]+|\d+(?:\.\d+)?|[^\sa-z0-9]", text)]
    keys = [singular(t) for t in tokens]
    events: list[Event] = []
    every = False  # "all" or "every" said before the next target
    unknown: list[list[str]] = []
    numbers: list[str] = []
    state = "free"  # "free", or inside a place phrase: "open" (no noun yet) / "noun"
    previous_unknown = False
    after_target = False  # the last thing read was a target's name
    owner: int | None = None  # the event of a target said as an owner ("the city's parks")
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        size, hit = _match_at(keys, i, phrases)
        is_unknown = False
        if hit:
            said = " ".join(tokens[i : i + size])
            i += size
            if state != "free":
                state = "noun"
            elif hit[0] == "target":
                if owner is not None:  # the owner names where: "the city's parks" are parks
                    events.pop(owner)
                    owner = None
                events.append(Event("target", hit[1], every))
                every = False
            elif hit[0] == "every":
                if not after_target:  # "forest land cover": the forest's, not every target
                    events.append(Event("every", "", every))
                every = False
            else:
                raise PromptError(f"Cannot extract '{said}': {hit[1]}")
            previous_unknown = False
            after_target = hit[0] == "target" and state == "free"
            continue
        if tok == POSSESSIVE:
            if state == "free" and previous_unknown:
                unknown.pop()  # a name owns what follows: "Berlin's lakes"
            elif state == "free" and after_target:
                owner = len(events) - 1
        elif is_mark(tok) or tok == ";":
            events.append(Event("mark", tok) if is_mark(tok) else Event("stop"))
            state, every = "free", False
            owner = None if tok == ";" else owner
        elif tok == "," or tok in _CONJUNCTIONS:
            state, owner = "free", None  # "the forest's edge and lakes": the forest stays
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
        elif _in(tok, _GENERIC_NOUNS) or tok in _INDEX_NAMES:
            if state != "free":
                state = "noun"
        elif _in(tok, _DETERMINERS) or _in(tok, _ADJECTIVES):
            every = every or (state == "free" and tok in ("all", "every", "each"))
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
        after_target = False
        i += 1
    if unknown:
        raise _cannot([" ".join(u) for u in unknown], ids)
    if numbers:
        raise PromptError(
            f"Did not understand '{numbers[0]}': write sizes like 'larger than 2 ha' "
            "and counts like 'the 3 largest'"
        )
    return events


def _every_target(events: Sequence[Event], ids: Sequence[str]) -> list[Event]:
    """'land cover', 'all classes', 'everything': every target of `ids` (a land-cover map), in
    the order of `ids`, where the phrase stood."""
    expanded: list[Event] = []
    for ev in events:
        if ev.kind == "every":
            expanded.extend(Event("target", target_id, ev.every) for target_id in ids)
        else:
            expanded.append(ev)
    return expanded


def _refuse_index_values(text: str) -> None:
    """An index value in the instruction is a threshold, which is set beside it, not in it."""
    said = _INDEX_VALUE_RE.search(text)
    if said is None:
        return
    from ..backends.spectral.set_thresholds import SETTABLE  # the spectral backend's own

    settable = {name.lower(): name for name in SETTABLE}
    name, value = said.group("name"), said.group("value")
    how = (
        f"--threshold {settable[name]}={value} (the dock's and Processing's index thresholds)"
        if name in settable
        else f"{name.upper()} cannot be set (settable: {', '.join(SETTABLE)})"
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
    events = _every_target(_read_targets(rest, ids, _phrases_for(ids)), ids)
    found = list(dict.fromkeys(ev.value for ev in events if ev.kind == "target"))
    if not found:
        raise PromptError(
            f"No target found in '{_shorten(text)}': this backend extracts {titles(ids)} "
            f"(try '{_example(ids)}', or 'land cover' for all of them)"
        )
    missing = [t for t in found if t not in ids]
    if missing:
        wholes = [w for t in missing if (w := TARGETS[t].part_of) in ids]
        hint = (  # a part the backend has only within its whole (a model's vegetation)
            f"; its {get_target(wholes[0]).title} includes {titles(missing)} "
            f"(try 'extract the {get_target(wholes[0]).title}')"
            if wholes
            else f" (try '{_example(ids)}')"
        )
        raise PromptError(
            f"Cannot extract {titles(missing)} with this backend: it extracts {titles(ids)}{hint}"
        )
    per_target = bind_qualifiers(events, limits, counts)
    shared = set(per_target.values())
    if len(shared) == 1:  # one set of limits for all: the plan's own fields
        return Plan(prompt=text.strip(), targets=tuple(found), **asdict(shared.pop()))
    own = tuple((t, lim) for t, lim in per_target.items() if lim != RegionLimits())
    return Plan(prompt=text.strip(), targets=tuple(found), own_limits=own)
