"""The instruction's vocabulary: word classes, target phrases and how a phrase is matched.

The words are data (`resources/prompts/instruction_words.json`, with what each class means;
the target phrases in `resources/prompts/targets.json`); this module reads them once and
matches the longest known phrase at a word, plurals as singulars.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import PromptError
from .targets import AMBIGUOUS_TERMS, TARGET_IDS, TARGETS, WITHIN_TARGET, get_target, titles

WORDS_PATH = (
    Path(__file__).resolve().parents[2] / "resources" / "prompts" / "instruction_words.json"
)

# --- word classes for what is left after size limits and counts are cut out -----------------
# Kept as data in resources/prompts/instruction_words.json (what each class means is there too).
_WORDS = json.loads(WORDS_PATH.read_text(encoding="utf-8"))
CONJUNCTIONS = frozenset(_WORDS["conjunctions"])
PLACE_PREPOSITIONS = frozenset(_WORDS["place_prepositions"])
NEGATIONS = frozenset(_WORDS["negations"])
DETERMINERS = frozenset(_WORDS["determiners"])
ADJECTIVES = frozenset(_WORDS["adjectives"])
GENERIC_NOUNS = frozenset(_WORDS["generic_nouns"])
FILLERS = frozenset(_WORDS["fillers"])
INDEX_NAMES = frozenset(_WORDS["index_names"])
#: Phrases that ask for every target the backend extracts ("land cover", "everything").
EVERY_TARGET_PHRASES = tuple(_WORDS["every_target"])

#: Stands for "'s" in the normalised text: "Berlin's lakes", "the city's parks" name where.
POSSESSIVE = "\u00a7"


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


def is_in(word: str, words: frozenset[str]) -> bool:
    return word in words or singular(word) in words


def phrase_words(text: str) -> tuple[str, ...]:
    """Synonym or instruction words, singular, hyphens and slashes as spaces."""
    return tuple(singular(w) for w in re.findall(r"[a-z]+", text.lower()))


#: Ambiguous phrases (singular word tuples) a target holds: "road" -> built-up.
WITHIN = {phrase_words(term): target for term, target in WITHIN_TARGET.items()}


def _phrase_index() -> dict[tuple[str, ...], tuple[str, str]]:
    """Singular word tuples -> ("target", id), ("ambiguous", hint) or ("every", "")."""
    index: dict[tuple[str, ...], tuple[str, str]] = {}
    for phrase in EVERY_TARGET_PHRASES:
        index[phrase_words(phrase)] = ("every", "")
    for term, hint in AMBIGUOUS_TERMS.items():
        index[phrase_words(term)] = ("ambiguous", hint)
    for target in TARGETS.values():
        for phrase in (target.id, target.title, target.spie_phrase, *target.synonyms):
            index[phrase_words(phrase)] = ("target", target.id)
    return index


PHRASES = _phrase_index()
MAX_PHRASE = max(len(k) for k in PHRASES)


def phrase_target(text: str) -> str | None:
    """The target a whole phrase names, as an instruction reads it (a target's id, title, SPIE
    phrase or synonym; plurals as singulars: "Buildings", "bare soil"), or None."""
    kind, value = PHRASES.get(phrase_words(text), ("", ""))
    return value if kind == "target" else None


def example_instruction(ids: Sequence[str]) -> str:
    return f"extract the {get_target(ids[0]).spie_phrase}"


def shorten(text: str, limit: int = 60) -> str:
    """The text on one line, cut to ``limit`` characters for a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def cannot_extract(what: Sequence[str], ids: Sequence[str]) -> PromptError:
    quoted = ", ".join(f"'{w}'" for w in what)
    return PromptError(
        f"Cannot extract {quoted}: this backend extracts {titles(ids)} (try '{example_instruction(ids)}')"
    )


def phrases_for(ids: Sequence[str]) -> dict[tuple[str, ...], tuple[str, str]]:
    """The catalogue's phrases plus the names of the available targets that are not in it (a
    model's own classes, see `targets.model_class_target`), which win over catalogue words."""
    extra = [i for i in ids if i not in TARGET_IDS]
    if not extra:
        return PHRASES
    index = dict(PHRASES)
    for target_id in extra:
        target = get_target(target_id)
        for phrase in (target.title, *target.synonyms):
            # numbers count in a class's name ("channel 1"), as the prompt's tokens keep them
            words = tuple(singular(w) for w in re.findall(r"[a-z]+|\d+", phrase.lower()))
            if words:
                index[words] = ("target", target.id)
    return index


def match_at(
    keys: Sequence[str], i: int, phrases: dict[tuple[str, ...], tuple[str, str]] = PHRASES
) -> tuple[int, tuple[str, str] | None]:
    """Longest known phrase starting at word ``i``: (number of words, hit) or (0, None)."""
    longest = MAX_PHRASE if phrases is PHRASES else max(len(k) for k in phrases)
    for size in range(min(longest, len(keys) - i), 0, -1):
        hit = phrases.get(tuple(keys[i : i + size]))
        if hit:
            return size, hit
    return 0, None
