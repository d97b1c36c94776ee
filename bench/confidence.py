"""Whether the confidence the engine writes tells right from wrong, on every labelled scene.

Each polygon of ``features.gpkg`` carries ``confidence``, the mean of its pixels', and the
explanation flags a target whose pixel-weighted mean confidence is under
``explanation.LOW_CONFIDENCE``. An analyst filters and trusts results by them, so they must
mean something: higher where the result is right. For each scene and target of
`bench/quality` (the target asked alone, as there), over the labelled pixels the engine maps
as the target:

- **precision**: the share of them labelled the target, and their **mean confidence**;
- **AUC**: how often a right pixel's confidence is above a wrong one's (0.5: it tells
  nothing; only rows with both);
- per target, the rows' Spearman correlation of mean confidence with precision, and the
  caveat: the rows under ``LOW_CONFIDENCE`` against the others, and how many of the rows
  under half precision it flags;
- a reliability table: each row weighs the same, its pixels binned by confidence, the
  precision per bin.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.confidence [--groups ...] [--scene ...]``
(about a minute) -> Markdown on stdout and in ``bench/out/confidence.md``.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import rasterio
from scipy.stats import mannwhitneyu, spearmanr

from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.reports.explanation import LOW_CONFIDENCE

from .quality import FOREST, OUT, has_trees, run_predictions, scored_pixels
from .scenes import Scene, all_scenes

#: Upper edges of the reliability table's confidence bins.
BINS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)


def scene_rows(scene: Scene) -> list[dict]:
    """Per target of `scene`: the confidence of each labelled pixel mapped as the target, and
    whether it is labelled the target (pooled over the scene's rasters)."""
    targets = scene.targets() + ((FOREST,) if has_trees(scene) else ())
    found: dict[str, tuple[list, list]] = {t: ([], []) for t in targets}
    for image, labels_path in scene.rasters:
        predictions, _, _ = run_predictions(image, scene, SpectralParams())
        with rasterio.open(labels_path) as src:
            lab = src.read(1)
        for t in targets:
            pos, neg = scored_pixels(scene, labels_path, lab, t)
            mapped = (predictions[t].classes == 1) & (pos | neg)
            found[t][0].append(predictions[t].confidence[mapped].astype(np.float64))
            found[t][1].append(pos[mapped])
    rows = []
    for t, (confidence, right) in found.items():
        c, ok = np.concatenate(confidence), np.concatenate(right)
        if len(c):
            rows.append({"scene": scene.name, "target": t, **row_figures(c, ok)})
    return rows


def row_figures(confidence: np.ndarray, right: np.ndarray) -> dict:
    """One row's pixels, size, precision, mean confidence, AUC and reliability bins."""
    n_right = int(right.sum())
    both = 0 < n_right < len(right)
    auc = (
        mannwhitneyu(confidence[right], confidence[~right]).statistic
        / (n_right * (len(right) - n_right))
        if both
        else float("nan")
    )
    which = np.searchsorted(BINS, confidence, side="left").clip(0, len(BINS) - 1)
    bins = [
        (float(np.mean(which == b)), float(right[which == b].mean()) if (which == b).any() else 0)
        for b in range(len(BINS))
    ]
    return {"pixels": len(right), "precision": float(right.mean()),
            "confidence": float(confidence.mean()), "auc": float(auc), "bins": bins}  # fmt: skip


def summary(rows: list[dict]) -> list[str]:
    """Markdown: per target, then the reliability table, then every row."""
    lines = [
        f"| target | rows | mean confidence | mean precision | Spearman (confidence, precision) "
        f"| median AUC (rows) | rows < {LOW_CONFIDENCE}: precision | others: precision "
        "| rows under half precision flagged |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    targets = list(dict.fromkeys(r["target"] for r in rows))
    for t in [*targets, "all"]:
        part = [r for r in rows if t in ("all", r["target"])]
        conf = np.array([r["confidence"] for r in part])
        prec = np.array([r["precision"] for r in part])
        aucs = np.array([r["auc"] for r in part])
        low = conf < LOW_CONFIDENCE
        rho = spearmanr(conf, prec).statistic if len(part) > 2 else float("nan")
        aucs = aucs[np.isfinite(aucs)]
        poor = prec < 0.5
        lines.append(
            f"| {t} | {len(part)} | {conf.mean():.3f} | {prec.mean():.3f} | {rho:.2f} "
            f"| {np.median(aucs) if len(aucs) else float('nan'):.3f} ({len(aucs)}) "
            f"| {_mean(prec[low])} ({low.sum()}) | {_mean(prec[~low])} ({(~low).sum()}) "
            f"| {(poor & low).sum()} of {poor.sum()} |"
        )
    share = np.array([[b[0] for b in r["bins"]] for r in rows])
    hits = np.array([[b[0] * b[1] for b in r["bins"]] for r in rows])
    lines += ["", "| confidence | share of mapped pixels | precision |", "| --- | --- | --- |"]
    for b, top in enumerate(BINS):
        low = BINS[b - 1] if b else 0.0
        s, h = share[:, b].sum(), hits[:, b].sum()
        lines.append(
            f"| {low:.2f}-{top:.2f} | {s / len(rows):.3f} | {_mean(h / s if s else None)} |"
        )
    lines += [
        "",
        "| scene | target | pixels | precision | mean confidence | AUC |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['scene']} | {r['target']} | {r['pixels']} | {r['precision']:.3f} "
        f"| {r['confidence']:.3f} | {r['auc']:.3f} |"
        for r in rows
    ]
    return lines


def _mean(values) -> str:
    if values is None or (hasattr(values, "__len__") and not len(values)):
        return "-"
    return f"{float(np.mean(values)):.3f}"


def main() -> None:
    """Score every scene's confidence and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", default="benchmark,extra,dev")
    parser.add_argument("--scene", action="append", help="only these scenes (repeatable)")
    parser.add_argument("--out", default="confidence", help="bench/out/<out>.md and .json")
    args = parser.parse_args()
    scenes = all_scenes(tuple(args.groups.split(",")))
    if args.scene:
        scenes = [s for s in scenes if s.name in args.scene]
    with ProcessPoolExecutor(2) as pool:
        rows = [r for part in pool.map(scene_rows, scenes) for r in part]
    text = "\n".join(summary(rows))
    print(text)
    OUT.mkdir(exist_ok=True)
    Path(OUT, f"{args.out}.md").write_text(text + "\n")
    Path(OUT, f"{args.out}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
