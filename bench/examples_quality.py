"""Quality with the analyst's examples: a few labelled pixels per class, as an analyst clicks.

For every scene of ``bench/quality`` and each draw: K pixels of each labelled class (the
targets, and code 7 as ``other``) are drawn at random from the labels with a fixed seed and
given to the spectral backend as point examples at their pixel centres, exactly as
``spex extract --examples`` reads them (`engine/backends/spectral/examples.py`). Both runs, the
scene's own seeds and with the examples, are scored on the labelled pixels that were NOT drawn,
by the same IoU as ``bench/quality``; the oracle column is ``bench/quality``'s (all labelled
pixels). Per target: the mean over the rows of each column and the worst row (examples - own).
Last, by how many of a target's own example pixels the fitted model maps as the target (the
share the explanation reports): the recall and IoU of its pixels not drawn, which is what the
explanation's caveat below half rests on.

With ``--area-size S`` the examples are areas instead of points, as an analyst draws them:
``--per-class`` squares of S x S pixels a class, each inside the class's labels (a square
polygon on the pixels' edges, so it holds exactly those S x S pixel centres); a class whose
labels hold no such square (point labels) gets points instead.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.examples_quality [--per-class 10] [--draws 3]
[--groups rgb] [--area-size 5]``
-> Markdown on stdout (about a minute a draw).
"""

from __future__ import annotations

import argparse
import zlib
from collections.abc import Iterable

import numpy as np
import rasterio
from scipy.ndimage import minimum_filter

from spex.engine.backends.spectral.examples import OTHER, ExampleFeature, Examples
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.raster.pixel_grid import grid_transform

from .iou import OTHER_MAX, counts, iou
from .quality import DEFAULT_GROUPS, run_engine, score_scene
from .scenes import LABEL_CODES, Scene, all_scenes

#: Bands of the examples' own agreement for `agreement_table` (the last one includes 100 %).
AGREEMENT_BANDS = ((0.0, 0.5), (0.5, 0.8), (0.8, 1.01))
CLASS_OF_CODE = {code: target for target, code in LABEL_CODES.items()} | {OTHER_MAX: OTHER}


def draw_examples(
    labels: np.ndarray, transform, per_class: int, seed: int
) -> tuple[Examples, np.ndarray]:
    """`per_class` labelled pixels of every class, as point examples at their centres, and the
    mask of the pixels drawn."""
    rng = np.random.default_rng(seed)
    drawn = np.zeros(labels.shape, dtype=bool)
    features = []
    for code, cls in CLASS_OF_CODE.items():
        where = np.flatnonzero(labels.ravel() == code)
        for flat in rng.choice(where, min(per_class, len(where)), replace=False):
            row, col = divmod(int(flat), labels.shape[1])
            x, y = transform * (col + 0.5, row + 0.5)
            features.append(ExampleFeature(cls, {"type": "Point", "coordinates": (x, y)}))
            drawn[row, col] = True
    return Examples(tuple(features), None, "labels (benchmark draw)"), drawn


def draw_areas(
    labels: np.ndarray, transform, per_class: int, size: int, seed: int
) -> tuple[Examples, np.ndarray]:
    """Up to `per_class` squares of `size` x `size` pixels of every class, each wholly inside
    the class's labels and none overlapping another, as polygon examples on the pixels' edges,
    and the mask of their pixels. A class with no such square gets `per_class` point examples
    instead (`draw_examples`)."""
    rng = np.random.default_rng(seed)
    drawn = np.zeros(labels.shape, dtype=bool)
    features = []
    half = size // 2
    for code, cls in CLASS_OF_CODE.items():
        # The centres of odd squares wholly of this class.
        inside = minimum_filter((labels == code).astype(np.uint8), size, mode="constant")
        centres = np.flatnonzero(inside.ravel())
        if len(centres) == 0:
            points, mask = draw_examples(
                np.where(labels == code, code, 0), transform, per_class, seed
            )
            features += [f for f in points.features if f.cls == cls]
            drawn |= mask
            continue
        taken = 0
        for flat in rng.permutation(centres)[: 50 * per_class]:  # squares that do not overlap
            if taken == per_class:
                break
            row, col = (i - half for i in divmod(int(flat), labels.shape[1]))
            if drawn[row : row + size, col : col + size].any():
                continue
            corners = ((col, row), (col + size, row), (col + size, row + size), (col, row + size))
            ring = [transform * xy for xy in (*corners, corners[0])]
            features.append(ExampleFeature(cls, {"type": "Polygon", "coordinates": (ring,)}))
            drawn[row : row + size, col : col + size] = True
            taken += 1
    return Examples(tuple(features), None, "labels (benchmark areas)"), drawn


def score_with_examples(scene: Scene, per_class: int, draws: int, area_size: int = 0) -> list[dict]:
    """Per draw and target: IoU of the scene's own run and of the run with that draw's
    examples, both on the labelled pixels not drawn, and with the examples: the share of the
    class's example pixels the fitted model maps as the class (their own agreement, as the
    explanation reports it) and the class's recall on its pixels not drawn. The own run does
    not depend on the draw: it runs once per raster."""
    targets = scene.targets()
    zero = {t: np.zeros(3, np.int64) for t in targets}
    own = [{t: c.copy() for t, c in zero.items()} for _ in range(draws)]
    given = [{t: c.copy() for t, c in zero.items()} for _ in range(draws)]
    agree = [{t: np.zeros(2, np.int64) for t in targets} for _ in range(draws)]
    params = SpectralParams()
    for k, (image, labels_path) in enumerate(scene.rasters):
        with rasterio.open(labels_path) as src:
            lab = src.read(1)
            transform = grid_transform(src)  # as the engine places the raster
        own_masks = run_engine(image, scene, params)[0]
        for draw in range(draws):
            seed = zlib.crc32(f"{scene.name}/{k}/{draw}".encode())
            if area_size:
                examples, drawn = draw_areas(lab, transform, per_class, area_size, seed)
            else:
                examples, drawn = draw_examples(lab, transform, per_class, seed)
            scored = (lab >= 1) & (lab <= OTHER_MAX) & ~drawn
            with_examples, _, backend = run_engine(image, scene, params, examples)
            for t, mapped in backend.examples_mapped.items():
                if t in agree[draw]:
                    agree[draw][t] += (mapped.get(t, 0), sum(mapped.values()))
            for total, masks in ((own[draw], own_masks), (given[draw], with_examples)):
                for t in targets:
                    pos = (lab == LABEL_CODES[t]) & scored
                    total[t] += counts(masks[t], pos, scored & ~pos)
    return [
        {"scene": scene.name, "target": t, "draw": draw, "own": iou(own[draw][t]),
         "examples": iou(given[draw][t]), "recall": _recall(given[draw][t]),
         "agreement": agree[draw][t][0] / agree[draw][t][1] if agree[draw][t][1] else np.nan}
        for draw in range(draws)
        for t in targets
    ]  # fmt: skip


def _recall(tp_fp_fn: np.ndarray) -> float:
    tp, _, fn = tp_fp_fn
    return float(tp / (tp + fn)) if tp + fn else np.nan


def agreement_table(runs: list[dict]) -> str:
    """Per band of the examples' own agreement: how many (scene, target, draw) rows, and their
    mean recall and IoU on the labelled pixels not drawn."""
    lines = [
        "| examples mapped as their class | rows | recall of the rest | IoU of the rest |",
        "| --- | --- | --- | --- |",
    ]
    for lo, hi in AGREEMENT_BANDS:
        sel = [r for r in runs if lo <= r["agreement"] < hi and np.isfinite(r["recall"])]
        if sel:
            rec, io = (float(np.mean([r[k] for r in sel])) for k in ("recall", "examples"))
            lines.append(f"| {lo:.0%} to {min(hi, 1):.0%} | {len(sel)} | {rec:.3f} | {io:.3f} |")
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> None:
    """Print the per-row and per-target tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=10, help="examples per labelled class")
    parser.add_argument("--draws", type=int, default=3, help="independent draws, averaged")
    parser.add_argument("--scene", action="append", help="only these scenes (repeatable)")
    parser.add_argument(
        "--groups",
        default=DEFAULT_GROUPS,
        help="scene groups, as bench.quality's (rgb: true colour)",
    )
    parser.add_argument(
        "--area-size",
        type=int,
        default=0,
        help="draw squares of this many pixels a side (odd) instead of points (0: points)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.area_size and args.area_size % 2 == 0:
        parser.error("--area-size must be odd: a square centred on a pixel")
    groups = tuple(args.groups.split(","))
    scenes = [s for s in all_scenes(groups) if not args.scene or s.name in args.scene]
    oracle = {
        (r["scene"], r["target"]): r["oracle"]
        for s in scenes
        for r in score_scene(s, SpectralParams())
    }
    rows, every_run = [], []
    what = f"{args.area_size} x {args.area_size} px areas" if args.area_size else "examples"
    print(
        f"| scene | target | own seeds | with {args.per_class} {what} a class | oracle | examples - own |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for scene in scenes:
        runs = score_with_examples(scene, args.per_class, args.draws, args.area_size)
        every_run += runs
        for t in scene.targets():
            mine = [r for r in runs if r["target"] == t]
            a, e = (float(np.mean([r[k] for r in mine])) for k in ("own", "examples"))
            o = oracle[(scene.name, t)]
            rows.append((t, a, e, o))
            print(
                f"| {scene.name} | {t} | {a:.3f} | {e:.3f} | {o:.3f} | {e - a:+.3f} |", flush=True
            )
    print()
    print("| target | rows | own seeds | with examples | oracle | worst (examples - own) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for t in LABEL_CODES:
        sel = np.array([r[1:] for r in rows if r[0] == t])
        if len(sel):
            worst = float(np.min(sel[:, 1] - sel[:, 0]))
            print(
                f"| {t} | {len(sel)} | {sel[:, 0].mean():.3f} | {sel[:, 1].mean():.3f} | "
                f"{np.nanmean(sel[:, 2]):.3f} | {worst:+.3f} |"
            )

    print()
    print(agreement_table(every_run))


if __name__ == "__main__":
    main()
