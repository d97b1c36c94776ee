"""Which targets each size limit and count of an instruction applies to.

An instruction may give each target its own: "lakes over 1 ha and buildings over 200 m2",
"forest patches over 2 ha and the largest lake", "the 3 largest lakes and all buildings". The
parser marks where each limit and count stood (`size_limits.limit_mark`, `count_mark`) and
lists the words between as events; the rules here are few and predictable, and the plan says
per target what it understood:

- A size limit applies to the targets named since the previous limit, count or sentence end
  ("lakes and forests larger than 2 ha": both). With none there, a limit right after another
  one shares its targets ("lakes over 1 ha and under 5 ha"); otherwise it applies to the
  targets named next ("larger than 2 ha: lakes and forests"), and, with none anywhere near it,
  to every target ("water and forests. Only regions over 2 ha."). After "the largest lake and
  forests", a limit is the forests' alone.
- A count ("the 3 largest") applies to the targets named after it up to the next limit, count
  or sentence end, except those said to be "all" ("the 3 largest lakes and all buildings"); "the
  largest" without a number, to the one target named next. Said after its targets ("lakes,
  the 3 largest"), it applies to those.
- One target takes at most one minimum, one maximum and one count: a second is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import PromptError
from .plan import RegionLimits, format_number
from .size_limits import LIMIT_MARK, MARKS_PER_KIND, SaidLimit, SizeLimits, mark_char
from .targets import get_target

#: Counts are marked from here on, right after the limits' marks (`size_limits.LIMIT_MARK`).
COUNT_MARK = LIMIT_MARK + MARKS_PER_KIND


def count_mark(index: int) -> str:
    """The character that marks the ``index``-th count of an instruction."""
    return mark_char(COUNT_MARK, index, "counts")


def is_mark(token: str) -> bool:
    """Whether ``token`` is a limit's or a count's mark."""
    return len(token) == 1 and LIMIT_MARK <= ord(token) < COUNT_MARK + MARKS_PER_KIND


@dataclass(frozen=True)
class SaidCount:
    """A count as said: N, and whether it was "the largest" without a number."""

    n: int
    said_one: bool


@dataclass(frozen=True)
class Event:
    """What the parser met, in order: a target ("target"), a mark ("mark") or a sentence end
    ("stop"). ``value`` is the target id or the mark; ``every`` says "all"/"every" came first.
    The reader also meets "every" (a land-cover phrase) and "exclude" (a target left out of
    it), which `reader.expand_every_target` turns into targets before the qualifiers bind."""

    kind: str
    value: str = ""
    every: bool = False


def _groups(events: Sequence[Event]) -> tuple[list[list[int]], list[list[int]]]:
    """Per event: the target events since the previous boundary, and up to the next one."""
    before: list[list[int]] = []
    run: list[int] = []
    for i, ev in enumerate(events):
        before.append(list(run))
        run = [*run, i] if ev.kind == "target" else []
    after: list[list[int]] = [[] for _ in events]
    run = []
    for i in range(len(events) - 1, -1, -1):
        after[i] = list(run)
        run = [i, *run] if events[i].kind == "target" else []
    return before, after


def _mark(event: Event) -> tuple[str, int]:
    """("limit", k) or ("count", k) for the k-th limit or count a mark stands for."""
    code = ord(event.value)
    return ("count", code - COUNT_MARK) if code >= COUNT_MARK else ("limit", code - LIMIT_MARK)


def bind_qualifiers(
    events: Sequence[Event], limits: Sequence[tuple[SaidLimit, ...]], counts: Sequence[SaidCount]
) -> dict[str, RegionLimits]:
    """Each named target's limits, from the events and the marked limits and counts.

    Raises:
        PromptError: a target given two minimums, two maximums or two different counts, or a
            minimum above its maximum.
    """
    targets = list(dict.fromkeys(ev.value for ev in events if ev.kind == "target"))
    before, after = _groups(events)
    marks = {i: _mark(ev) for i, ev in enumerate(events) if ev.kind == "mark"}
    # "the largest lake" is a closed phrase: a limit said after a later target is not its own.
    closed = {
        after[i][0]
        for i, (kind, k) in marks.items()
        if kind == "count" and counts[k].said_one and after[i]
    }
    sizes = {t: SizeLimits(get_target(t).title) for t in targets}
    largest: dict[str, SaidCount] = {}
    limit_targets: dict[int, list[int]] = {}  # mark position -> the target events it took
    for i, (kind, k) in marks.items():
        if kind == "limit":
            if before[i]:
                chosen = [t for t in before[i] if t not in closed or t == before[i][-1]]
            elif i - 1 in limit_targets:  # right after another limit: "over 1 ha and under 5 ha"
                chosen = limit_targets[i - 1]
            else:
                chosen = after[i]
            limit_targets[i] = chosen
            for name in _names(events, chosen, targets):
                for limit in limits[k]:
                    sizes[name].add(limit)
        else:
            ahead = [t for t in after[i] if not events[t].every]
            chosen = (ahead[:1] if counts[k].said_one else ahead) or before[i]
            for name in _names(events, chosen, targets):
                had = largest.setdefault(name, counts[k])
                if had.n != counts[k].n:
                    raise PromptError(
                        f"Two counts given for {get_target(name).title} ({had.n} and "
                        f"{counts[k].n}): keep one, e.g. 'the {had.n} largest'"
                    )
    return {t: _region_limits(sizes[t], largest.get(t)) for t in targets}


def _names(events: Sequence[Event], chosen: Sequence[int], targets: list[str]) -> list[str]:
    """The target ids of the chosen events, once each; every target when none was chosen."""
    return list(dict.fromkeys(events[t].value for t in chosen)) or targets


def _region_limits(sizes: SizeLimits, count: SaidCount | None) -> RegionLimits:
    low_m2, high_m2 = sizes.get("min_area"), sizes.get("max_area")
    low_px, high_px = sizes.get("min_pixels"), sizes.get("max_pixels")
    for low, high, unit in ((low_m2, high_m2, "m2"), (low_px, high_px, "pixels")):
        if low is not None and high is not None and low > high:
            raise PromptError(
                f"The minimum size ({format_number(low)} {unit}) is larger than the maximum "
                f"({format_number(high)} {unit}): swap or fix them"
            )
    return RegionLimits(
        min_area_m2=low_m2,
        max_area_m2=high_m2,
        min_pixels=None if low_px is None else math.ceil(low_px),
        max_pixels=None if high_px is None else math.floor(high_px),
        largest_n=None if count is None else count.n,
    )
