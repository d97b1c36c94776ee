"""The words of an instruction, read in order: target phrases, marks, sentence ends.

What is left of the normalised instruction once its size limits and counts are cut out (each
marked where it stood) is read word by word against the vocabulary (`vocabulary`): targets,
"land cover" (every target), the marks and sentence ends, in order (`qualifiers.Event`), for
`qualifiers.bind_qualifiers` to give each target its limits. Places are not targets: words after
a place preposition, and an owner followed by what it owns ("Berlin's lakes"). "Everything" may
leave targets out ("land cover except cloud"); no other exclusion is read. Anything not
understood is refused in one line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import PromptError
from .qualifiers import Event, is_mark
from .targets import TARGETS
from .vocabulary import (
    ADJECTIVES,
    CONJUNCTIONS,
    DETERMINERS,
    FILLERS,
    GENERIC_NOUNS,
    INDEX_NAMES,
    NEGATIONS,
    PHRASES,
    PLACE_PREPOSITIONS,
    POSSESSIVE,
    cannot_extract,
    example_instruction,
    is_in,
    match_at,
    singular,
)


def token_of(t: str) -> str:
    """A punctuation token as the reader takes it: a mark or the possessive as is, "+" and "&"
    as "and", a sentence end as ";", any other as ","."""
    if is_mark(t) or t == POSSESSIVE or re.match(r"[a-z0-9]", t):
        return t
    return "and" if t in "+&" else (";" if t in ";!?" else ",")


def read_targets(
    text: str, ids: Sequence[str], phrases: dict[tuple[str, ...], tuple[str, str]] = PHRASES
) -> list[Event]:
    """Match target phrases in the remaining text, in order with the marks of the limits and
    counts and the sentence ends (`qualifiers.Event`); refuse what is not understood."""
    tokens = [token_of(t) for t in re.findall(r"[a-z]+|\d+(?:\.\d+)?|[^\sa-z0-9]", text)]
    keys = [singular(t) for t in tokens]
    events: list[Event] = []
    every = False  # "all" or "every" said before the next target
    unknown: list[list[str]] = []
    numbers: list[str] = []
    state = "free"  # "free", or inside a place phrase: "open" (no noun yet) / "noun"
    previous_unknown = False
    after_target = False  # the last thing read was a target's name
    owner: int | None = None  # the event of a target said as an owner ("the city's parks")
    excluding = False  # after "everything except": the targets named are left out of it
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        size, hit = match_at(keys, i, phrases)
        is_unknown = False
        if hit:
            said = " ".join(tokens[i : i + size])
            i += size
            if state != "free":
                state = "noun"
            elif hit[0] == "target" and excluding:
                events.append(Event("exclude", hit[1]))
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
            excluding = excluding and tok != ";"
        elif state == "free" and (tok in NEGATIONS or tok == "but") and _excludes(events):
            excluding = True  # "everything except water", "land cover without cloud"
        elif tok == "," or tok in CONJUNCTIONS:
            state, owner = "free", None  # "the forest's edge and lakes": the forest stays
        elif tok in NEGATIONS:
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            said = f"{tokens[i - 1]} {tok}" if tok == "free" and i else f"{tok} {nxt}".strip()
            raise PromptError(
                f"Exclusions such as '{said}' are not supported: name only what to extract, "
                f"e.g. '{example_instruction(ids)}' (only every target can leave some out: "
                "'land cover except cloud')"
            )
        elif tok in PLACE_PREPOSITIONS:
            state = "open"
        elif tok == "of" and state == "noun":
            state = "open"  # "near the edge of the lake": still a place
        elif is_in(tok, GENERIC_NOUNS) or tok in INDEX_NAMES:
            if state != "free":
                state = "noun"
        elif is_in(tok, DETERMINERS) or is_in(tok, ADJECTIVES):
            every = every or (state == "free" and tok in ("all", "every", "each"))
            if state == "noun":
                state = "free"
        elif is_in(tok, FILLERS):
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
        raise cannot_extract([" ".join(u) for u in unknown], ids)
    if numbers:
        raise PromptError(
            f"Did not understand '{numbers[0]}': write sizes like 'larger than 2 ha' "
            "and counts like 'the 3 largest'"
        )
    return events


def _excludes(events: Sequence[Event]) -> bool:
    """Whether a negation here leaves targets out of "everything": one was said last, no
    target since (marks and exclusions may stand between)."""
    for ev in reversed(events):
        if ev.kind == "every":
            return True
        if ev.kind not in ("mark", "exclude"):
            return False
    return False


def expand_every_target(events: Sequence[Event], ids: Sequence[str]) -> list[Event]:
    """'land cover', 'all classes', 'everything': every target of `ids` (a land-cover map), in
    the order of `ids`, where the phrase stood, less those said to be left out ("everything
    except water"); a target named for itself stays."""
    said = {ev.value for ev in events if ev.kind == "exclude"}
    # a whole left out takes its parts with it: "land cover except vegetation" has no forest
    left_out = said | {t for t in ids if t in TARGETS and TARGETS[t].part_of in said}
    expanded: list[Event] = []
    for ev in events:
        if ev.kind == "every":
            kept = (t for t in ids if t not in left_out)
            expanded.extend(Event("target", target_id, ev.every) for target_id in kept)
        elif ev.kind != "exclude":
            expanded.append(ev)
    return expanded
