"""The spectral backend's report: thresholds, fitted parts and the notes the explanation gives.

Assembled from a `FittedScene` and the targets a run answers, so every note states what the
map returned: a split that moved pixels says where they went, a class the scene could not
tell from another says so, and a note that would deny a returned result is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..base import BackendReport
from .bright_land import with_bright_land_note
from .example_notes import BRIGHT_LAND, SOIL, TREES, mapped_note, poorly_mapped_notes
from .examples import Examples
from .fitted_scene import FittedScene
from .params import SpectralParams
from .reddish_vegetation import VEGETATION_OR_SOIL
from .scene_model import UNSEEDED_NOTE
from .seeds import ONE_LAND
from .set_thresholds import TREE_CUT
from .tree_cover import visible_roles

#: The thresholds table's name for tree cover's cut (`tree_cover`).
TREE_THRESHOLD = f"{TREE_CUT}, visible brightness (tree cover)"
#: The thresholds table's name for the land's bright-mode cut (`bright_land`).
BRIGHT_THRESHOLD = "brightness (bare soil)"
METHOD = (
    "spectral index priors -> per-scene thresholds -> seeded scene classifier "
    "-> tile-exact probability smoothing"
)
#: What the margins of each class catch, for their note.
MARGIN_WHY = {"cloud": "thin cloud edges", "snow": "patchy snow"}


def scene_report(
    scene: FittedScene,
    asked: Sequence[str],
    lut: np.ndarray,
    params: SpectralParams,
    examples: Examples | None = None,
    margins: Sequence[str] = (),
) -> BackendReport:
    """The report of `scene` answering `asked` (scene class index -> target number `lut`),
    with the analyst's `examples` and the classes whose `margins` joined them."""
    model = scene.model
    summary = model.to_dict()
    summary["scene_shares"] = scene.shares
    summary["params"] = params.to_dict()
    summary["builtup_bare_separated"] = not scene.land_undivided
    if examples:
        summary["examples"] = {
            "source": examples.source,
            "features": examples.counts(),
            "outside_raster": scene.example_outside,
            "pixels_by_scene_class": scene.examples_mapped,
        }
    notes = list(model.notes)
    if scene.land_answers_for_bare(asked) or scene.bright is not None:
        # The land, or its bright mode, answers for bare soil: "not mapped" would deny the
        # result it returns.
        notes = [n for n in notes if n != UNSEEDED_NOTE.format(target="bare")]
    if examples:
        notes.append(examples_note(scene, asked, lut, examples))
        notes += poorly_mapped_notes(scene.examples_mapped, split=scene.trees is not None)
    if scene.veto is not None:
        veto = (
            f"{scene.veto.describe()} ({scene.vetoed_share:.1%} of the sampled pixels "
            "moved out of built-up)"
        )
        summary["water_veto"] = veto
        summary["water_veto_share"] = scene.vetoed_share
        notes.append(veto)
    if scene.shadows is not None:
        summary["cloud_shadows"] = scene.shadows.describe()
        notes.append(scene.shadows.describe())
    notes.extend(scene.fine_notes)
    soil_note = scene.soil.note() if scene.soil is not None else None
    if soil_note and VEGETATION_OR_SOIL & set(asked):
        notes.append(soil_note)
        summary["soil_in_vegetation"] = scene.soil.summary()
    if scene.reddish is not None:
        notes.append(scene.reddish.note())
        summary["reddish_vegetation"] = scene.reddish.summary()
    undivided = scene.undivided_targets(asked)
    if undivided:
        notes = with_halved_land_note(notes)
    thresholds = dict(model.thresholds)
    if scene.bright is not None and {"bare", "builtup"} & set(asked):
        notes = with_bright_land_note(notes, scene.bright)
        thresholds[BRIGHT_THRESHOLD] = scene.bright.brightness
        summary["thresholds_how"] = {
            **summary["thresholds_how"],
            BRIGHT_THRESHOLD: scene.bright.describe(),
        }
        summary["bare_by_brightness"] = scene.bright.summary()
    if margins:
        notes.append(
            f"{' and '.join(margins)} margins: a pixel beside {' or '.join(margins)} whose "
            f"own probability of it is at least {params.margin_probability:g} joins it "
            f"({', '.join(MARGIN_WHY[m] for m in margins)})"
        )
    if "forest" in asked or scene.trees_left_out:
        notes.append(forest_note(scene, asked))
        if scene.trees is not None:
            thresholds[TREE_THRESHOLD] = scene.trees.brightness
            summary["thresholds_how"] = {
                **summary["thresholds_how"],
                TREE_THRESHOLD: scene.trees.describe(),
            }
            summary["tree_cover"] = scene.trees.summary()
    if not scene.calibrated:
        notes.append(
            "The input is in uncalibrated digital numbers: thresholds were chosen on this "
            "scene's own histograms, so index values are relative, not physical."
        )
    return BackendReport(
        method=METHOD,
        thresholds=thresholds,
        details=summary,
        notes=notes,
        device="cpu",
        undivided=undivided,
        doubts=scene.reddish.doubts(tuple(asked)) if scene.reddish is not None else {},
    )


def examples_note(
    scene: FittedScene, asked: Sequence[str], lut: np.ndarray, examples: Examples
) -> str:
    """What the analyst's examples were, what they changed in the seeds, and where the map
    puts their pixels."""
    model = scene.model
    if not model.example_pixels:
        return (
            f"none of the {len(examples.features)} examples of {examples.source} "
            "falls on a valid pixel of this raster (they are shared by the batch's scenes): "
            "trained on the scene's own seeds alone"
        )
    pixels = ", ".join(f"{c} {n}" for c, n in sorted(model.example_pixels.items()))
    note = f"trained with the analyst's examples from {examples.source} (pixels: {pixels})"
    dropped = {c: n for c, n in model.seeds_dropped.items() if n}
    if dropped:
        note += "; scene seeds dropped as nearer another class's examples: " + ", ".join(
            f"{c} {n}" for c, n in sorted(dropped.items())
        )
    if scene.example_outside:
        note += f"; {scene.example_outside} example(s) fell outside the raster or on nodata"
    targets = [None, *asked]
    answer = {c: targets[lut[k]] for k, c in enumerate(model.classes)}
    bare = "bare" if "bare" in asked else None
    if "forest" in asked and scene.trees is not None:
        answer[TREES] = "forest"
    if scene.bright is not None:
        answer[BRIGHT_LAND] = bare
    if scene.soil is not None:
        answer[SOIL] = bare
    return note + "; " + mapped_note(scene.examples_mapped, answer)


def forest_note(scene: FittedScene, asked: Sequence[str]) -> str:
    """What forest is in this run: the darker part of the vegetation, or why none (asked
    for, or left out of the vegetation)."""
    trees = scene.trees
    if trees is None:
        why = "no red band" if not visible_roles(scene.model.roles) else "too little vegetation"
        if scene.trees_left_out:
            return (
                f"forest: not left out ({why} to tell tree cover within the vegetation): "
                "the vegetation includes it"
            )
        return f"forest: not mapped ({why} to tell tree cover within the vegetation)"
    what = "forest, left out of the vegetation" if scene.trees_left_out else "forest"
    rest = "vegetation is the rest of it" if "vegetation" in asked else ""
    if trees.scene_threshold is not None:
        return (
            f"{what}: the vegetation darker in the visible bands than VIS "
            f"{trees.brightness:.4g}, the value set with --threshold, "
            f"{trees.share:.0%} of it"
            + (
                " (set a value nearer the scene's own choice, in the threshold table, to map some)"
                if trees.share == 0
                else ""
            )
            + (f"; {rest}" if rest else "")
        )
    return (
        f"{what}: the vegetation darker in the visible bands than this scene's cut, "
        f"{trees.share:.0%} of it (a canopy shades itself; crops and grass of the "
        f"same greenness are brighter){'; ' + rest if rest else ''}"
    )


def with_halved_land_note(notes: list[str]) -> list[str]:
    """`notes` where the seeds' note that built-up and bare soil could not be told apart
    (the reason, and what the land is returned as) also says what that costs the result;
    the note is added when the seeds gave none (a split whose bare side found too few seeds).
    """
    cost = ", at half its confidence; check it against the imagery before trusting the split"
    split = [i for i, n in enumerate(notes) if n.endswith(ONE_LAND)]
    if split:
        return [n + cost if i in split else n for i, n in enumerate(notes)]
    return [*notes, f"built-up and bare soil could not be told apart: {ONE_LAND}{cost}"]
