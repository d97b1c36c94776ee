"""The target catalogue: what an instruction can ask for.

Each target has an id (used in files and on the command line), a title for people, the
synonyms an instruction may use, a display colour for ``mask.tif`` and the category phrase
used in SPIE prompts. The catalogue is data, read once from ``resources/prompts/targets.json``;
the same file lists ambiguous words that are refused with a hint instead of being guessed.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import PromptError

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "resources" / "prompts" / "targets.json"


@dataclass(frozen=True)
class Target:
    """One extractable land-cover target.

    Attributes:
        id: Short identifier used in files, manifests and ``--targets`` (``"builtup"``).
        title: Name shown to people (``"built-up"``).
        synonyms: Words and phrases an instruction may use for this target.
        colour: RGB display colour, 0-255 each.
        spie_phrase: Category phrase used in SPIE prompts (``"buildings"``).
        description: One sentence on what the target covers.
        part_of: The target this one is a part of (forest: vegetation), or None. Asked
            without it, the whole answers for the part's pixels too; asked together, the
            whole is what is not the part.
    """

    id: str
    title: str
    synonyms: tuple[str, ...]
    colour: tuple[int, int, int]
    spie_phrase: str
    description: str
    part_of: str | None = None


def _load_catalogue(
    path: Path,
) -> tuple[dict[str, Target], dict[str, str], dict[str, str]]:
    """Read and check the catalogue file (targets, ambiguous words and their hints, the target
    holding each 'within' word); errors here are packaging bugs, not user errors."""
    data = json.loads(path.read_text(encoding="utf-8"))
    targets: dict[str, Target] = {}
    for item in data["targets"]:
        colour = tuple(int(c) for c in item["colour"])
        if len(colour) != 3 or not all(0 <= c <= 255 for c in colour):
            raise ValueError(f"{path}: target {item['id']!r} needs an RGB colour of 0-255 values")
        if item["id"] in targets:
            raise ValueError(f"{path}: target {item['id']!r} is listed twice")
        if not item["synonyms"]:
            raise ValueError(f"{path}: target {item['id']!r} has no synonyms")
        targets[item["id"]] = Target(
            id=item["id"],
            title=item["title"],
            synonyms=tuple(item["synonyms"]),
            colour=colour,  # type: ignore[arg-type]
            spie_phrase=item["spie_phrase"],
            description=item["description"],
            part_of=item.get("part_of"),
        )
    for target in targets.values():
        if target.part_of is not None and target.part_of not in targets:
            raise ValueError(f"{path}: target {target.id!r} is part of unknown {target.part_of!r}")
    ambiguous = {str(k): str(v) for k, v in data.get("ambiguous", {}).items()}
    within = {str(k): str(v) for k, v in data.get("within", {}).items()}
    for term, target_id in within.items():
        if term not in ambiguous or target_id not in targets:
            raise ValueError(f"{path}: 'within' {term!r} needs an ambiguous term and a target")
    return targets, ambiguous, within


class _Catalogue(dict):
    """The catalogue; `TARGETS[id]` also finds a model's own classes, which are kept apart
    (`MODEL_TARGETS`) so that iterating, `len` and `in` see the catalogue only."""

    def __missing__(self, key: str) -> Target:
        return MODEL_TARGETS[key]


#: Targets named after a model's own classes (`model_class_target`), registered on first use.
MODEL_TARGETS: dict[str, Target] = {}
AMBIGUOUS_TERMS: dict[str, str]
#: Ambiguous words whose surfaces a target holds ("road": built-up): read as that target where
#: the instruction names it too, refused with their hint where they stand alone.
WITHIN_TARGET: dict[str, str]
_catalogue, AMBIGUOUS_TERMS, WITHIN_TARGET = _load_catalogue(CATALOGUE_PATH)
TARGETS: dict[str, Target] = _Catalogue(_catalogue)

TARGET_IDS: tuple[str, ...] = tuple(TARGETS)


def get_target(target_id: str) -> Target:
    """Return the target with this id (case-insensitive).

    Raises:
        PromptError: if no target has this id; the message lists the valid ids.
    """
    key = target_id.strip().lower().replace("-", "").replace(" ", "")
    if key in TARGETS:
        return TARGETS[key]
    if target_id in MODEL_TARGETS:
        return MODEL_TARGETS[target_id]
    raise PromptError(f"Unknown target '{target_id}': valid targets are {', '.join(TARGET_IDS)}")


def answered_as(target: str, asked: Sequence[str]) -> str | None:
    """Which of the `asked` targets a pixel of `target` answers: itself, else the whole it is
    a part of (a model's forest answers for vegetation), else None."""
    if target in asked:
        return target
    whole = TARGETS[target].part_of if target in TARGETS else None
    return whole if whole in asked else None


def titles(ids: Sequence[str] | None = None) -> str:
    """The targets' titles as a comma-separated list, in catalogue order when ``ids`` is None.

    Used in user-facing messages: ``"water, vegetation, forest, built-up, bare soil, snow/ice,
    cloud"``.
    """
    chosen = TARGET_IDS if ids is None else ids
    return ", ".join(get_target(i).title for i in chosen)


#: Colours of model classes that no catalogue target means (picked by a stable hash of the name).
_CLASS_COLOURS = (
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 212),
    (0, 128, 128),
    (220, 190, 255),
    (170, 110, 40),
    (128, 0, 0),
    (128, 128, 0),
    (0, 0, 128),
)


def model_class_target(class_name: str) -> str:
    """The target id of a model's own class that no catalogue target means ("Coffee",
    "cloud shadow"), registered on first use so that plans, masks, polygons and the
    explanation name it like any target (`TARGETS[id]` and `get_target` find it; iterating the
    catalogue does not). The same name always gives the same id and colour.
    """
    title = " ".join(class_name.replace("_", " ").split())
    slug = (
        re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
        or f"class_{zlib.crc32(title.encode()):08x}"
    )
    if slug in TARGET_IDS:
        slug = f"class_{slug}"
    if slug not in MODEL_TARGETS:
        MODEL_TARGETS[slug] = Target(
            id=slug,
            title=title,
            synonyms=tuple(dict.fromkeys((title, class_name))),
            colour=_CLASS_COLOURS[zlib.crc32(slug.encode()) % len(_CLASS_COLOURS)],
            spie_phrase=title,
            description=f"the model's class '{class_name}'",
        )
    return slug
