"""The words of an instruction, read in order: target phrases, marks, sentence ends.

What is left of the normalised instruction once its size limits and counts are cut out (each
marked where it stood) is read word by word against the vocabulary (`vocabulary`): targets,
"land cover" (every target), the marks and sentence ends, in order (`qualifiers.Event`), for
`qualifiers.bind_qualifiers` to give each target its limits. Places are not targets: words after
a place preposition, and an owner followed by what it owns ("Berlin's lakes"). "Everything" may
leave targets out ("land cover except cloud"), and a whole its part ("vegetation except
forest", "vegetation other than trees", "non-forest vegetation"); no other exclusion is read.
Anything not understood is refused in one line.
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
    WITHIN,
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
    within: list[tuple[int, str, str]] = []  # (event, words, hint) of a word a target holds
    previous_unknown = False
    after_target = False  # the last thing read was a target's name
    owner: int | None = None  # the event of a target said as an owner ("the city's parks")
    excluding = False  # after "everything except": the targets named are left out of it
    whole: str | None = None  # after "vegetation except": its parts named are left out of it
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        size, hit = match_at(keys, i, phrases)
        is_unknown = False
        negation = _negation_size(keys, i) if state == "free" and not hit else 0
        if negation and not excluding and whole is None:
            split = _part_then_whole(keys, i + negation, phrases)
            if split:  # "non-forest vegetation": the whole, less its part
                part, target, size = split
                events += [Event("target", target, every), Event("exclude_part", part)]
                every, previous_unknown, after_target = False, False, True
                i += negation + size
                continue
        if hit:
            said, key = " ".join(tokens[i : i + size]), tuple(keys[i : i + size])
            i += size
            if state != "free":
                state = "noun"
            elif hit[0] == "target" and whole is not None:
                events.append(_part_left_out(hit[1], whole, events))
                if events[-1].kind == "target":  # "vegetation except forest and water"
                    whole = None
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
            elif not excluding and whole is None and (holder := WITHIN.get(key)) in ids:
                # "buildings and roads": the roads are the built-up's, if it is asked for too
                within.append((len(events), said, hit[1]))
                events.append(Event("target", holder, every))
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
            whole = None if tok == ";" else whole
        elif state == "free" and (negation or tok == "but") and _excludes(events):
            excluding = True  # "everything except water", "land cover without cloud"
            i += max(negation, 1)
            previous_unknown = after_target = False
            continue
        elif negation and (asked := _whole_said_last(events)) is not None:
            whole = asked  # "vegetation except forest", "vegetation other than trees"
            i += negation
            previous_unknown = after_target = False
            continue
        elif tok == "," or tok in CONJUNCTIONS:
            state, owner = "free", None  # "the forest's edge and lakes": the forest stays
        elif negation:
            _refuse_other_target_left_out(keys, i + negation, events, phrases)
            nxt = tokens[i + negation] if i + negation < len(tokens) else ""
            said = f"{tokens[i - 1]} {tok}" if tok == "free" and i else f"{tok} {nxt}".strip()
            if negation > 1:
                said = f"{' '.join(tokens[i : i + negation])} {nxt}".strip()
            raise PromptError(
                f"Exclusions such as '{said}' are not supported: name only what to extract, "
                f"e.g. '{example_instruction(ids)}' ({EXCLUSIONS_READ})"
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
    _refuse_alone(events, within)
    if numbers:
        raise PromptError(
            f"Did not understand '{numbers[0]}': write sizes like 'larger than 2 ha' "
            "and counts like 'the 3 largest'"
        )
    return events


def _refuse_alone(events: Sequence[Event], within: Sequence[tuple[int, str, str]]) -> None:
    """Refuse, with its hint, the first word a target holds ("roads") where the instruction
    does not name that target itself, or every target, besides."""
    said = {i for i, _, _ in within}
    named = {ev.value for i, ev in enumerate(events) if ev.kind == "target" and i not in said}
    if any(ev.kind == "every" for ev in events):
        named |= {events[i].value for i in said}
    for i, words, hint in within:
        if events[i].value not in named:
            raise PromptError(f"Cannot extract '{words}': {hint}")


#: The exclusions that are read, for a refusal.
EXCLUSIONS_READ = (
    "only every target can leave some out, 'land cover except cloud', and the vegetation its "
    "forest, 'vegetation except forest'"
)
#: Words of size after "except" ("forests except small ones"): a size limit says that.
SIZE_WORDS = frozenset({"small", "smaller", "tiny", "little", "large", "larger", "big", "bigger"})
#: Words that leave out what follows them, beyond the single ones of `NEGATIONS`.
_NEGATION_PHRASES = (("other", "than"), ("apart", "from"), ("except", "for"), ("but", "not"))


def _negation_size(keys: Sequence[str], i: int) -> int:
    """How many words at `i` say "leave out": 2 for "other than", "apart from", "except for",
    "but not"; 1 for a negation (`NEGATIONS`); 0 for none."""
    if tuple(keys[i : i + 2]) in _NEGATION_PHRASES:
        return 2
    return 1 if keys[i] in NEGATIONS else 0


def _parts_of(whole: str) -> list[str]:
    """The catalogue's parts of the target `whole` (vegetation: forest)."""
    return [t for t, target in TARGETS.items() if target.part_of == whole]


def _whole_said_last(events: Sequence[Event]) -> str | None:
    """The target said last, where it has parts to leave out and only marks stand after it;
    None otherwise."""
    for ev in reversed(events):
        if ev.kind == "target":
            return ev.value if _parts_of(ev.value) else None
        if ev.kind != "mark":
            return None
    return None


def _part_left_out(target: str, whole: str, events: Sequence[Event]) -> Event:
    """The event for `target` named after "`whole` except": its part left out, or, once a part
    was, a target of its own ("vegetation except forest and water"); refused otherwise."""
    if TARGETS[target].part_of == whole:
        return Event("exclude_part", target)
    if events and events[-1].kind == "exclude_part":
        return Event("target", target)
    if target != whole:
        raise PromptError(one_class_each(target, whole))
    title = TARGETS[whole].title
    raise PromptError(
        f"Cannot leave {title} out of {title}: they are one target here ({EXCLUSIONS_READ})"
    )


def _refuse_other_target_left_out(
    keys: Sequence[str], i: int, events: Sequence[Event], phrases: dict
) -> None:
    """Where a target said last is followed by "except" and another target (the words at `i`,
    past a determiner): refuse saying why that cannot be left out of it."""
    last = next((ev.value for ev in reversed(events) if ev.kind == "target"), None)
    while i < len(keys) and is_in(keys[i], DETERMINERS):
        i += 1
    if last is not None and i < len(keys) and keys[i] in SIZE_WORDS:  # "except small ones"
        raise PromptError(
            f"Leave small regions out with a size: '{TARGETS[last].title} larger than 1 ha' "
            "(or 'the 5 largest')"
        )
    size, hit = match_at(keys, i, phrases)
    if last is None or not hit or hit[0] != "target":
        return
    if hit[1] == last:  # "water bodies excluding rivers"
        title = TARGETS[last].title
        raise PromptError(
            f"Cannot leave part of the {title} out of it: '{' '.join(keys[i : i + size])}' is "
            f"{title} here, as a whole; ask for the {title} ({EXCLUSIONS_READ})"
        )
    raise PromptError(one_class_each(hit[1], last))


def one_class_each(left_out: str, target: str) -> str:
    """Why `left_out` cannot be left out of `target`, another class."""
    title, other = TARGETS[target].title, TARGETS[left_out].title
    return (
        f"Cannot leave {other} out of {title}: each pixel has one class, so the {title} holds "
        f"no {other}; ask for the {title} alone ({EXCLUSIONS_READ})"
    )


def _part_then_whole(
    keys: Sequence[str], i: int, phrases: dict[tuple[str, ...], tuple[str, str]]
) -> tuple[str, str, int] | None:
    """(part, whole, words) where the words at `i` name a part and then its whole ("forest
    vegetation" after "non"), else None. Tried at every split, since "forest vegetation" is
    also a name of the forest."""
    for size in range(1, len(keys) - i):
        part = phrases.get(tuple(keys[i : i + size]))
        if part is None or part[0] != "target" or TARGETS[part[1]].part_of is None:
            continue
        rest, whole = match_at(keys, i + size, phrases)
        if whole and whole[0] == "target" and whole[1] == TARGETS[part[1]].part_of:
            return part[1], whole[1], size + rest
    return None


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
