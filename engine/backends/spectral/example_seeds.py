"""How an analyst's examples shape the scene classifier's seeds.

The scene's seeds are each class's confident tail, chosen by index thresholds; where the scene
misleads them (pasture in the built-up seeds of a cleared Amazon town, grass in a forest's),
the analyst's examples correct them in three ways:

- a seed pixel much nearer (`MARGIN`) to another class's examples than to its own class's, in
  the classifier's features each scaled by the scene's spread, is dropped: the examples say it
  is not this class;
- the examples join their class's seeds, weighing together as much as the class's own seeds,
  so that a class the scene could not seed (water in true colour) is modelled too;
- examples of ``other`` anchor one more component of the "other" class.

Measured on every benchmark scene with examples drawn from its labels (docs/benchmarks.md,
"Examples the analyst gives").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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


def seed_with_examples(
    x: np.ndarray,
    masks: Mapping[str, np.ndarray],
    extra_components: tuple[tuple[str, np.ndarray], ...],
    examples: Mapping[str, np.ndarray],
) -> ExampleSeeds:
    """Seeds corrected by the examples: `x` (n, d) the scene's features, `masks` its seeds per
    class, `examples` the (m, d) features of each class's example pixels."""
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
    for cls, mask in masks.items():
        mask = np.concatenate([mask, pad])
        if cls in classes:
            wrong = _contradicted(
                both, np.flatnonzero(mask), ex_x, ex_class == classes.index(cls), scale
            )
            mask[wrong] = False
            dropped[cls] = len(wrong)
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
    extra = tuple((c, np.concatenate([m, pad])) for c, m in extra_components)
    return ExampleSeeds(both, weights, out, extra, other, dropped)


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
