"""How an analyst's examples shape the scene classifier's seeds.

The scene's seeds are each class's confident tail, chosen by index thresholds; where the scene
misleads them (pasture in the built-up seeds of a cleared Amazon town, grass in a forest's),
the analyst's examples correct them in four ways:

- a seed pixel much nearer (`MARGIN`) to another class's examples than to its own class's, in
  the classifier's features each scaled by the scene's spread, is dropped: the examples say it
  is not this class;
- the examples join their class's seeds, weighing together as much as the class's own seeds,
  so that a class the scene could not seed (water in true colour) is modelled too;
- examples of ``other`` anchor one more component of the "other" class;
- cloud and snow, covers that an analyst labelling a clear image gives no examples, give way
  to the examples (`GIVE_WAY`): where most of a class's examples lie among the seeds of a cover
  that has none, those seeds are that class's bright kind (white roofs, sand), not the cover:
  they are dropped, and the examples model them. The white roofs the cloud candidates' size
  refused (`bright_patches`) give way the same to cloud examples (`EXTRA_GIVES_WAY`): where the
  analyst says those patches are clouds, small ones, they are.

Measured on every benchmark scene with examples drawn from its labels (docs/benchmarks.md,
"Examples the analyst gives").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial import cKDTree

from .examples import OTHER

#: The examples of a class weigh this many times the class's own seeds, together.
EXAMPLE_WEIGHT = 1.0
#: A class seeded by examples alone enters EM with at least this prior.
EXAMPLE_PRIOR = 0.02
#: A seed is dropped when another class's nearest example is this many times nearer than its
#: own class's (1.0 drops more good seeds, 2.5 keeps more wrong ones: docs/benchmarks.md).
MARGIN = 1.5
#: The covers whose seeds give way, all of them, when this share of some class's examples (and
#: at least `GIVE_WAY_MIN` of them) lie among their seeds (their nearest seed is the cover's)
#: and the cover itself has no example. Measured with ten examples a class drawn ten times on
#: every benchmark scene: only Buffalo's white roofs move (docs/benchmarks.md, stop 68).
GIVE_WAY = ("cloud", "snow")
GIVE_WAY_SHARE = 0.5
GIVE_WAY_MIN = 2
#: Second components (by their kind, `seeds.SeedResult.extra_kinds`) that give way, by the same
#: rule, to the examples of one class: the size test's white roofs to cloud examples.
EXTRA_GIVES_WAY = {"white roofs": "cloud"}
#: What the pixels of a second component that gave way are, in the note.
_SMALL_CLOUDS = "clouds as small as roofs"


@dataclass(frozen=True)
class Claim:
    """A class whose examples lie among a cover's seeds: `inside` of its `examples` do, on
    the cover's `seeds`."""

    by: str
    inside: int
    examples: int
    seeds: int
    #: What the cover's pixels are instead; "" for cloud and snow (white roofs, sand).
    what: str = ""

    def note(self, cover: str) -> str:
        """In words, for the explanation."""
        if self.what:
            return (
                f"the {cover} gave way to the examples: {self.inside} of the {self.examples} "
                f"{self.by} examples lie among their {self.seeds:,} seed pixels, so those pixels "
                f"are {self.by} ({self.what}), not built-up"
            )
        return (
            f"{cover} gave way to the examples: {self.inside} of the {self.examples} {self.by} "
            f"examples lie among its {self.seeds:,} seed pixels and {cover} has no example, so "
            f"those pixels are {self.by} (white roofs, sand), not {cover}; give {cover} "
            "examples too where the scene has some"
        )


@dataclass(frozen=True)
class ExampleSeeds:
    """The seeds once the examples are in: every array spans the scene's pixels, then the
    examples' rows."""

    x: np.ndarray  # (n, d) features
    weights: np.ndarray  # (n,) 1 for the scene's pixels; each example row its class's weight
    masks: dict[str, np.ndarray]  # per class: its seeds that no example contradicts + examples
    extra_components: tuple[tuple[str, np.ndarray], ...]
    other: np.ndarray | None  # the rows of examples of "other", if any
    dropped: dict[str, int]  # per class: seeds dropped as nearer another class's examples
    gave_way: dict[str, Claim]  # per cover: the class whose examples took its seeds


def seed_with_examples(
    x: np.ndarray,
    masks: Mapping[str, np.ndarray],
    extra_components: tuple[tuple[str, np.ndarray], ...],
    examples: Mapping[str, np.ndarray],
    extra_kinds: tuple[str, ...] = (),
) -> ExampleSeeds:
    """Seeds corrected by the examples: `x` (n, d) the scene's features, `masks` its seeds per
    class, `examples` the (m, d) features of each class's example pixels; `extra_kinds`: what
    each of `extra_components` is (`EXTRA_GIVES_WAY`)."""
    classes = [c for c, v in examples.items() if len(v)]
    n_scene = len(x)
    ex_x = np.concatenate([examples[c] for c in classes])
    ex_class = np.concatenate([[k] * len(examples[c]) for k, c in enumerate(classes)])
    both = np.concatenate([x, ex_x])
    pad = np.zeros(len(ex_x), dtype=bool)
    # Each feature in units of the scene's spread, so no band outweighs the others.
    scale = x.std(axis=0) + 1e-9
    out: dict[str, np.ndarray] = {}
    dropped: dict[str, int] = {}
    covers = [c for c in GIVE_WAY if c not in classes and c in masks and masks[c].any()]
    kinds = extra_kinds or ("",) * len(extra_components)
    yielding = {
        kind: (EXTRA_GIVES_WAY[kind], mask)
        for (_, mask), kind in zip(extra_components, kinds, strict=True)
        if EXTRA_GIVES_WAY.get(kind) in classes and mask.any()
    }
    seed_sets = dict(masks) | {kind: mask for kind, (_, mask) in yielding.items()}
    nearest = (
        _nearest_seed_class(x / scale, seed_sets, examples, scale) if covers or yielding else {}
    )
    gave_way = {
        cover: claim
        for cover in covers
        if (claim := _claim(cover, nearest, int(masks[cover].sum())))
    }
    for kind, (by, mask) in yielding.items():
        if claim := _claim(kind, {by: nearest[by]}, int(mask.sum())):
            gave_way[kind] = replace(claim, what=_SMALL_CLOUDS)
    for cls, mask in masks.items():
        mask = np.concatenate([mask, pad])
        if cls in classes:
            wrong = _contradicted(
                both, np.flatnonzero(mask), ex_x, ex_class == classes.index(cls), scale
            )
            mask[wrong] = False
            dropped[cls] = len(wrong)
        elif cls in gave_way:
            mask[:] = False  # the note says why (`Claim.note`)
        out[cls] = mask
    weights = np.ones(len(both))
    other = None
    # A class the scene could not seed (water in true colour) weighs as a typical seeded one.
    typical = float(np.median([m.sum() for m in masks.values() if m.sum()] or [1]))
    for k, cls in enumerate(classes):
        rows = np.concatenate([np.zeros(n_scene, dtype=bool), ex_class == k])
        own = int(masks[cls].sum()) if cls in masks else 0
        seeds_like = own or (typical if cls != OTHER else 0)  # "other" anchors, no more
        weights[rows] = max(EXAMPLE_WEIGHT * seeds_like / rows.sum(), 1.0)
        if cls == OTHER:
            other = rows
        else:
            out[cls] = out.get(cls, np.zeros(len(both), dtype=bool)) | rows
    extra = tuple(
        (c, np.concatenate([m, pad]))
        for (c, m), kind in zip(extra_components, kinds, strict=True)
        if kind not in gave_way  # the note says why (`Claim.note`)
    )
    return ExampleSeeds(both, weights, out, extra, other, dropped, gave_way)


def _nearest_seed_class(
    at: np.ndarray,
    masks: Mapping[str, np.ndarray],
    examples: Mapping[str, np.ndarray],
    scale: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per example class, the class of each example's nearest seed (of any class). `at`: the
    scene's features, scaled."""
    seeded = [c for c, m in masks.items() if m.any()]
    rows = np.concatenate([np.flatnonzero(masks[c]) for c in seeded])
    owner = np.concatenate([[c] * int(masks[c].sum()) for c in seeded])
    tree = cKDTree(at[rows])
    return {c: owner[tree.query(v / scale)[1]] for c, v in examples.items() if len(v)}


def _claim(cover: str, nearest: Mapping[str, np.ndarray], seeds: int) -> Claim | None:
    """The class whose examples lie among `cover`'s `seeds` seed pixels (`GIVE_WAY_SHARE` of
    them, at least `GIVE_WAY_MIN`): their nearest seed (`nearest`) is the cover's; None where
    no class's do."""
    for cls, owners in nearest.items():
        inside = int((owners == cover).sum())
        if inside >= max(GIVE_WAY_MIN, GIVE_WAY_SHARE * len(owners)):
            return Claim(cls, inside, len(owners), seeds)
    return None


def _contradicted(
    x: np.ndarray, rows: np.ndarray, ex_x: np.ndarray, own: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """The `rows` of `x` nearer than 1 / MARGIN of the way to another class's examples (the
    ``~own`` rows of `ex_x`) than to their own class's."""
    if not len(rows) or own.all():
        return rows[:0]
    at = x[rows] / scale
    d_own = cKDTree(ex_x[own] / scale).query(at)[0]
    d_other = cKDTree(ex_x[~own] / scale).query(at)[0]
    return rows[d_other * MARGIN < d_own]
