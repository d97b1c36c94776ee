"""Forest with the analyst's examples: tree-cover points and other vegetation points a scene.

For every scene whose labels tell tree cover apart (``trees.tif``, `bench/tree_labels.py`) and
each draw: K tree-cover pixels labelled ``forest`` and K pixels of other labelled vegetation
(the scene's vegetation that is not tree cover, else its "other" labelled land) labelled
``vegetation``, drawn with a fixed seed and given to the spectral backend as point examples at
their pixel centres, as ``spex extract --examples`` reads them. Forest is scored, as
``bench/quality`` scores it, on the labelled pixels that were not drawn: the scene's own cut,
the forest examples alone (they seed the vegetation), and both (the cut lies halfway between
their median visible brightness, `tree_cover.cut_between_examples`).

Run: ``PYTHONPATH=. .venv/bin/python -m bench.forest_examples [--per-class 10] [--draws 3]``
-> Markdown on stdout (about a minute for three draws).
"""

from __future__ import annotations

import argparse
import zlib
from collections.abc import Iterable

import numpy as np
import rasterio
from affine import Affine

from spex.engine.backends.spectral.examples import ExampleFeature, Examples
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.raster.pixel_grid import grid_transform

from .iou import counts, iou
from .quality import DEFAULT_GROUPS, FOREST, has_trees, run_engine, scored_pixels
from .scenes import LABEL_CODES, OTHER, Scene, all_scenes, trees_path

#: The columns: which examples each run is given.
RUNS = ("own cut", "forest examples", "forest and vegetation examples")


def draw_points(
    pools: dict[str, np.ndarray], transform: Affine, per_class: int, seed: int
) -> tuple[list[ExampleFeature], np.ndarray]:
    """`per_class` pixels of each label's pool (a mask), as point examples at their centres,
    and the mask of the pixels drawn."""
    rng = np.random.default_rng(seed)
    shape = next(iter(pools.values())).shape
    drawn = np.zeros(shape, dtype=bool)
    features = []
    for label, pool in pools.items():
        where = np.flatnonzero(pool.ravel())
        for flat in rng.choice(where, min(per_class, len(where)), replace=False):
            row, col = divmod(int(flat), shape[1])
            x, y = transform * (col + 0.5, row + 0.5)
            features.append(ExampleFeature(label, {"type": "Point", "coordinates": (x, y)}))
            drawn[row, col] = True
    return features, drawn


def score_forest_examples(scene: Scene, per_class: int, draws: int) -> dict[str, float]:
    """Forest IoU of each of `RUNS` on the scene's labelled pixels not drawn, over `draws`
    draws (the counts summed over the scene's rasters, then the IoU averaged over draws)."""
    totals = {run: [np.zeros(3, np.int64) for _ in range(draws)] for run in RUNS}
    params = SpectralParams()
    for k, (image, labels_path) in enumerate(scene.rasters):
        with rasterio.open(labels_path) as src:
            labels = src.read(1)
            transform = grid_transform(src)  # as the engine places the raster
        with rasterio.open(trees_path(scene.name, labels_path)) as src:
            trees = src.read(1)
        pos, neg = scored_pixels(scene, labels_path, labels, FOREST)
        other = (trees == 0) & (labels == LABEL_CODES["vegetation"])
        if other.sum() < per_class:  # forest-only vegetation labels: the other land instead
            other = (trees == 0) & (labels == OTHER)
        own = run_engine(image, scene, params)[0][FOREST]
        for draw in range(draws):
            seed = zlib.crc32(f"{scene.name}/{k}/{draw}/forest".encode())
            points, drawn = draw_points(
                {FOREST: (trees == 1) & pos, "vegetation": other}, transform, per_class, seed
            )
            scored_pos, scored_neg = pos & ~drawn, neg & ~drawn
            totals[RUNS[0]][draw] += counts(own, scored_pos, scored_neg)
            for run, given in (
                (RUNS[1], [f for f in points if f.cls == FOREST]),
                (RUNS[2], points),
            ):
                examples = Examples(tuple(given), None, "labels (benchmark draw)")
                mask = run_engine(image, scene, params, examples)[0][FOREST]
                totals[run][draw] += counts(mask, scored_pos, scored_neg)
    return {run: float(np.mean([iou(c) for c in totals[run]])) for run in RUNS}


def main(argv: Iterable[str] | None = None) -> None:
    """Print the per-scene table and the means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=10, help="points per label a draw")
    parser.add_argument("--draws", type=int, default=3, help="independent draws, averaged")
    parser.add_argument("--scene", action="append", help="only these scenes (repeatable)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    scenes = [
        s
        for s in all_scenes(tuple(DEFAULT_GROUPS.split(",")))
        if has_trees(s) and (not args.scene or s.name in args.scene)
    ]
    print("| scene | " + " | ".join(RUNS) + " | both - own |")
    print("| --- | " + " | ".join("---" for _ in RUNS) + " | --- |")
    rows = []
    for scene in scenes:
        row = score_forest_examples(scene, args.per_class, args.draws)
        rows.append([row[r] for r in RUNS])
        cells = " | ".join(f"{row[r]:.3f}" for r in RUNS)
        print(f"| {scene.name} | {cells} | {row[RUNS[2]] - row[RUNS[0]]:+.3f} |", flush=True)
    means = np.mean(rows, axis=0)
    worst = float(np.min(np.array(rows)[:, 2] - np.array(rows)[:, 0]))
    cells = " | ".join(f"{m:.3f}" for m in means)
    print(f"| mean ({len(rows)}) | {cells} | worst {worst:+.3f} |")


if __name__ == "__main__":
    main()
