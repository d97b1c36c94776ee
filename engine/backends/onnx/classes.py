"""A segmentation model's own classes as plan targets.

Every class of every output becomes a target: the catalogue target its name means by the
engine's synonyms ("water bodies" -> water, "trees" -> forest, "Trees/Shrubs" -> vegetation:
a name of a whole and its parts is the whole; several classes of one target are extracted
together), else a target of its own named after the class ("Coffee", "cloud shadow"), so an
instruction names the model's classes in the model's words. A class of a part (forest)
answers for its whole (vegetation) too where the instruction names the whole alone.
Background-like names ("background", "other", ...) are never targets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import PromptError
from ...instructions.instruction import parse_instruction
from ...instructions.targets import TARGET_IDS, TARGETS, model_class_target
from .metadata import class_groups, is_background, read_header


@dataclass(frozen=True)
class ModelClass:
    """Class `index` of model output `output`, and the plan target it stands for."""

    output: int
    index: int
    name: str
    target: str | None


def catalogue_target(class_name: str) -> str | None:
    """The catalogue target a model class name means, or None (background, unknown)."""
    if is_background(class_name):
        return None
    try:
        plan = parse_instruction(class_name.replace("_", " "))
    except PromptError:
        return None
    if len(plan.targets) == 1:
        return plan.targets[0]
    # "Trees/Shrubs", "trees and grass": a whole with its own parts is the whole.
    wholes = {TARGETS[t].part_of or t for t in plan.targets}
    whole = wholes.pop() if len(wholes) == 1 else None
    return whole if whole in plan.targets else None


def class_target(class_name: str) -> str | None:
    """The plan target of a model class: a catalogue target, its own target, or None."""
    if is_background(class_name):
        return None
    return catalogue_target(class_name) or model_class_target(class_name)


def model_classes(outputs: Sequence[Sequence[str]]) -> tuple[ModelClass, ...]:
    """Every class of every output with its target."""
    return tuple(
        ModelClass(o, k, name, class_target(name))
        for o, names in enumerate(outputs)
        for k, name in enumerate(names)
    )


def targets_of(classes: Sequence[ModelClass]) -> tuple[str, ...]:
    """The targets the classes offer, in class order, without repeats; a class of a part
    (forest) offers the whole it is a part of (vegetation) too (`answered_as`)."""
    offered = []
    for c in classes:
        if c.target is not None:
            offered += [c.target, TARGETS[c.target].part_of]
    return tuple(t for t in dict.fromkeys(offered) if t is not None)


def describe(classes: Sequence[ModelClass]) -> str:
    """'background, water (water), trees (forest), Coffee' for messages."""
    parts = []
    for c in classes:
        mapped = c.target in TARGET_IDS
        parts.append(f"{c.name} ({TARGETS[c.target].title})" if mapped else c.name)
    return ", ".join(dict.fromkeys(parts))


def model_file_targets(path: str | Path) -> tuple[str, ...] | None:
    """The targets an .onnx file's metadata offers, read from its header only (no session):
    what the dock's plan preview understands. None when the file names no classes."""
    groups = class_groups(read_header(path).metadata, Path(path).name)
    if groups is None:
        return None
    return targets_of(model_classes(groups))
