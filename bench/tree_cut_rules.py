"""Tree cover's cut within the vegetation: Otsu against other ways to split its darkness.

The backend splits the scene's vegetation at one threshold on its visible darkness
(``engine/backends/spectral/tree_cover.py``), chosen by Otsu. The darkness ranks the labelled
trees above the other vegetation well on most scenes, so where the cut falls decides much of
the forest rows. This scores the forest rows of ``bench/quality`` with the cut chosen each other
way, everything else the engine's own:

- ``otsu``: the engine (equal-variance split of the histogram);
- ``mixture``: a two-Gaussian mixture with a variance each, fitted by EM from Otsu's split, cut
  where the darker component becomes the more probable;
- ``mixture-3``: the same mixture after three EM steps only;
- ``halfway``: halfway between the Otsu and the mixture cut;
- ``valley``: the lowest point of the smoothed histogram between Otsu's two class means.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.tree_cut_rules`` (about three minutes), Markdown on
stdout.
"""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import numpy as np

from spex.engine.backends.spectral import tree_cover
from spex.engine.backends.spectral.histograms import otsu_threshold
from spex.engine.backends.spectral.params import SpectralParams

from .quality import FOREST, has_trees, score_scene
from .scenes import all_scenes

GRID = 512  # points on which the mixture's crossing is sought


def mixture_cut(values: np.ndarray, steps: int = 50) -> float:
    """Where the darker of two Gaussians (EM from Otsu's split, `steps` steps) stops being the
    more probable; Otsu's cut where they do not cross between their means."""
    v = values[np.isfinite(values)].astype(np.float64)
    t = otsu_threshold(v)
    sides = (v <= t, v > t)
    w = np.array([s.mean() for s in sides])
    m = np.array([v[s].mean() for s in sides])
    sd = np.array([v[s].std() for s in sides]) + 1e-6

    def weighted(x: np.ndarray) -> np.ndarray:
        return np.stack([w[k] / sd[k] * np.exp(-0.5 * ((x - m[k]) / sd[k]) ** 2) for k in (0, 1)])

    for _ in range(steps):
        r = weighted(v)
        r /= r.sum(0) + 1e-300
        w = r.mean(1)
        m = (r * v).sum(1) / r.sum(1)
        sd = np.sqrt((r * (v - m[:, None]) ** 2).sum(1) / r.sum(1)) + 1e-6
    grid = np.linspace(m.min(), m.max(), GRID)
    dens = weighted(grid)
    dark = int(np.argmax(m))
    crossing = np.flatnonzero(dens[dark] >= dens[1 - dark])
    return float(grid[crossing[0]]) if len(crossing) else t


def valley_cut(values: np.ndarray, bins: int = 256) -> float:
    """The lowest point of the histogram, smoothed by a Gaussian of Silverman's width, between
    the means of Otsu's two classes."""
    v = values[np.isfinite(values)].astype(np.float64)
    t = otsu_threshold(v)
    lo, hi = np.percentile(v, [0.5, 99.5])
    counts, edges = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    width = 1.06 * v.std() * len(v) ** -0.2
    smooth = np.exp(-0.5 * ((centres[:, None] - centres[None, :]) / width) ** 2) @ counts
    inside = np.flatnonzero((centres > v[v <= t].mean()) & (centres < v[v > t].mean()))
    return float(centres[inside[np.argmin(smooth[inside])]]) if len(inside) else t


RULES: dict[str, Callable[[np.ndarray], float]] = {
    "otsu": otsu_threshold,
    "mixture": mixture_cut,
    "mixture-3": lambda v: mixture_cut(v, steps=3),
    "halfway": lambda v: (otsu_threshold(v) + mixture_cut(v)) / 2,
    "valley": valley_cut,
}


def forest_rows(rule: Callable[[np.ndarray], float]) -> dict[str, float]:
    """Forest IoU of each scene whose labels tell trees, with the tree cut chosen by `rule`."""
    found = {}
    with mock.patch.object(tree_cover, "otsu_threshold", rule):
        for scene in all_scenes():
            if has_trees(scene):
                for row in score_scene(scene, SpectralParams(), with_baselines=False):
                    if row["target"] == FOREST:
                        found[scene.name] = row["ours"]
    return found


def main() -> None:
    by_rule = {name: forest_rows(rule) for name, rule in RULES.items()}
    base = by_rule["otsu"]
    print("| scene | " + " | ".join(RULES) + " |")
    print("| --- |" + " --- |" * len(RULES))
    for scene in base:
        print(f"| {scene} | " + " | ".join(f"{by_rule[r][scene]:.3f}" for r in RULES) + " |")
    print(
        "| mean | " + " | ".join(f"{np.mean(list(by_rule[r].values())):.3f}" for r in RULES) + " |"
    )
    worst = []
    for r in RULES:
        drop, scene = min((by_rule[r][s] - base[s], s) for s in base)
        worst.append(f"{drop:+.3f} ({scene})")
    print("| worst against otsu | " + " | ".join(worst) + " |")


if __name__ == "__main__":
    main()
