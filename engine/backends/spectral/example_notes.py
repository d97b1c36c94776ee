"""Where the analyst's example pixels land in the fitted scene model, and the notes saying so.

The explanation tells, per example label, how many of its pixels the result maps as that
label, and warns where the bands do not separate a class as the examples do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np

from ...instructions.targets import TARGETS, answered_as
from .bright_land import BrightLand
from .darkness import darkness
from .examples import OTHER, ExamplePixels
from .pixel_classes import pixel_classes
from .scene_model import SceneModel
from .soil_in_vegetation import ROLES, SoilInVegetation
from .tree_cover import TreeCut
from .water_veto import WaterVeto

#: Where the examples' pixels land: the vegetation above the tree cut, when forest is asked.
TREES = "vegetation (tree cover)"
#: ... and the land's bright mode, where it is bare soil (`bright_land`).
BRIGHT_LAND = "bare soil (the land's bright mode)"
#: ... and the vegetation that is soil (`soil_in_vegetation`).
SOIL = "bare soil (vegetation without a green peak)"
#: A target whose examples the model maps as labelled below this share gets a caveat: such
#: classes found 0.30 of their other labelled pixels on the benchmark, against 0.93 at 80 % and
#: more (`bench/examples_quality`, docs/benchmarks.md); and only from this many pixels.
POOR_AGREEMENT = 0.5
POOR_MIN_PIXELS = 5


def examples_mapped(
    model: SceneModel,
    veto: WaterVeto | None,
    pixels: ExamplePixels,
    trees: TreeCut | None,
    bright: BrightLand | None = None,
    soil: SoilInVegetation | None = None,
) -> dict[str, dict[str, int]]:
    """Per example label: how many of its pixels the fitted classifier gives each scene class,
    the vegetation above the tree cut (when forest is asked) counted as `TREES`, the land's
    bright mode (where it is bare soil) as `BRIGHT_LAND`, the vegetation that is soil as
    `SOIL`.

    Per pixel, with the water veto, before the smoothing: the analyst's own labels scored by
    the model they trained, which tells where the bands do not separate what the examples do.
    """
    out = {}
    for cls, values in pixels.values.items():
        classified = pixel_classes(model, veto, values)
        names = np.array(model.classes, dtype=object)[classified.best]
        if trees is not None and "vegetation" in model.classes:
            visible = classified.kept(values, trees.roles)
            dark = darkness(visible, model.offsets, trees.roles) > trees.threshold
            names[(names == "vegetation") & dark] = TREES
        if bright is not None:
            land = classified.kept(values, bright.roles)
            lit = darkness(land, model.offsets, bright.roles) < bright.threshold
            names[(names == "builtup") & lit] = BRIGHT_LAND
        if soil is not None:
            red = soil.applies(classified.kept(values, ROLES))
            names[((names == "vegetation") | (names == TREES)) & red] = SOIL
        out[cls] = dict(Counter(names.tolist()))
    return out


def _answering(cls: str, split: bool) -> tuple[str, ...]:
    """The scene classes (and `TREES`, `BRIGHT_LAND`, `SOIL`) whose pixels are right for an example
    label `cls`."""
    if cls == "bare":
        return ("bare", BRIGHT_LAND, SOIL)
    if cls == "vegetation":
        return ("vegetation", TREES)  # tree cover is vegetation
    if cls == "forest":
        return (TREES,) if split else ("vegetation",)
    return (cls,)


def poorly_mapped_notes(mapped: Mapping[str, Mapping[str, int]], split: bool) -> list[str]:
    """A caveat for each target whose own examples the model mostly maps as something else
    (`split`: the vegetation's tree cover is counted apart, as `TREES`)."""
    notes = []
    for cls, counts in sorted(mapped.items()):
        n, right = sum(counts.values()), sum(counts.get(c, 0) for c in _answering(cls, split))
        if cls != OTHER and n >= POOR_MIN_PIXELS and right < POOR_AGREEMENT * n:
            notes.append(
                f"only {right} of {n} {cls} example pixels are mapped as {cls}: the bands do "
                f"not separate {cls} here as the examples do, so expect much of it missed (on "
                "the benchmark, a class whose examples were mapped this poorly found 30 % of "
                "its other labelled pixels); check the examples' labels, or add some"
            )
    return notes


def mapped_note(mapped: Mapping[str, Mapping[str, int]], answer: Mapping[str, str | None]) -> str:
    """The examples' pixels as the result maps them, in words: "vegetation 10 of 10 as
    vegetation; other 7 of 10 outside the result (3 as vegetation)". `answer` gives each scene
    class's target in the result (None: outside it); a label that is not asked for belongs
    outside the result."""
    parts = []
    asked = [t for t in answer.values() if t is not None]
    for cls, counts in sorted(mapped.items()):
        got: Counter[str | None] = Counter()
        for scene_class, n in counts.items():
            got[answer.get(scene_class)] += n
        expected = answered_as(cls, asked) if cls in TARGETS else None
        where = f"as {expected}" if expected else "outside the result"
        part = f"{cls} {got.pop(expected, 0)} of {sum(counts.values())} {where}"
        if got:
            wrong = sorted(((n, t or "") for t, n in got.items()), reverse=True)
            part += " (" + ", ".join(f"{n} as {t}" if t else f"{n} outside" for n, t in wrong) + ")"
        parts.append(part)
    return "the example pixels as the result maps them (per pixel): " + "; ".join(parts)
