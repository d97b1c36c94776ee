"""Quality of the spectral backend on every labelled scene: ours, the oracle, the textbook rule.

For each scene (``bench/scenes.py``) and each target with labelled positives:

- **ours**: the real engine, as an analyst runs it: the raster opened with the engine's own band
  and scaling detection (or the scene's stated band roles), the global sample, the spectral
  backend's ``prepare`` and its per-tile ``predict`` over the whole (small) raster;
- **oracle**: the best single-index threshold chosen WITH the labels (NDVI, NDWI, MNDWI, NDBI,
  BSI, AWEIsh, brightness; both directions) on the engine-scaled values. No real run can pick
  it; a method worth using beats it without seeing the labels;
- **textbook**: the fixed rule from the literature (MNDWI > 0 or NDWI > 0, NDVI > 0.3,
  NDBI > 0, BSI > 0, NDSI > 0.4, visible brightness > 0.3), on the same values.
- **ceiling**: what the scene's spectra allow a per-pixel classifier of the backend's kind
  fitted WITH the labels (``bench/ceiling.py``): above it, no per-pixel rule can go.

IoU on labelled pixels only: positives are the target's code, negatives every other labelled
code. Then per target: the mean over scenes of each column and the worst scene (ours - oracle);
and how many rows lie more than `UNDER_ORACLE` (issue 8's 0.05) under the oracle.

``--loo`` repeats the evaluation leaving each scene out of every value tuned on this benchmark
(``TUNED``): for each held-out scene the tuned values are chosen again on the other scenes
only (best mean of ours - oracle over the grid), then the held-out scene is scored with them.
Each scene's runs are remembered by the tuned values they read (``bench/read_values.py``): a grid
point that agrees with an earlier run on all of them takes its result, exactly, so the 512-point
grid costs 10-256 runs a scene (about 20 minutes on two cores; running every point took
about 70).
``--tuned-spread --scene NAME`` prints which tuned values, each alone, move a scene's rows and
how far: a scene added whose rows none moves leaves the folds' choices as they were (where
some value moves them, ``--loo`` says what the folds choose).

Run: ``.venv/bin/python -m bench.quality [--loo] [--groups benchmark,extra,dev]`` -> Markdown on
stdout and in ``bench/out/quality.md`` (rows in ``quality.json``; other groups in
``quality-<groups>.md``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from spex.engine.backends.base import TilePrediction
from spex.engine.backends.spectral.backend import SpectralBackend
from spex.engine.backends.spectral.examples import Examples
from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.backends.spectral.set_thresholds import parse_thresholds, unused_thresholds
from spex.engine.indices import compute_index
from spex.engine.instructions.plan import Plan
from spex.engine.progress import RunMonitor
from spex.engine.raster.raster_source import open_source

from .ceiling import ceiling
from .iou import OTHER_MAX, best_threshold, counts, iou
from .read_values import RunsByReadValues
from .scenes import LABEL_CODES, TARGETS, Scene, all_scenes, trees_path

OUT = Path(__file__).resolve().parent / "out"
#: Issue 8's bar: no target worse than the oracle by more than this on a held-out scene.
UNDER_ORACLE = 0.05

#: Values of ``SpectralParams`` chosen on this benchmark, with the grid they were chosen from.
#: The leave-one-out check chooses them again without each scene.
TUNED: dict[str, tuple[float, ...]] = {
    "builtup_ndvi_margin": (0.0, 0.05),
    "builtup_water_floor": (0.0, 0.1),
    "bare_evidence_z": (4.0, 8.0),
    "cloud_contrast": (1.0, 1.5),
    "cloud_dn_brightness": (2.0, 3.0),
    "cloud_reflectance": (0.22, 0.25),
    "cloud_min_blue_red": (0.0, 0.9),
    "haze_land_max_share": (0.5, 1.01),  # 1.01: hazy land never seeds the land classes
    "water_ndvi_margin": (0.1, 0.25),
}
# ``land_shape_pooling`` was chosen on this benchmark too and is left out alone
# (``--loo-param land_shape_pooling=0,0.25,0.5,0.75,1.0``: every fold chose 1.0, the default
# stays at 0.75): every scene with land reads it, so in the grid above it would multiply
# ``--loo``'s runs by the number of its values.

DEFAULT_GROUPS = "benchmark,extra,dev"
#: Scored where a scene's labels tell tree cover from the rest of its vegetation; nothing of
#: the engine is tuned on it, so its rows take no part in the leave-one-out choices.
FOREST = "forest"
ORACLE_INDICES = ("NDVI", "NDWI", "MNDWI", "NDBI", "BSI", "AWEI_NSH", "brightness")


def _brightness(bands: Mapping[str, np.ndarray]) -> np.ndarray:
    vis = [bands[r] for r in ("blue", "green", "red") if r in bands]
    return np.mean(vis, axis=0) if vis else np.full(next(iter(bands.values())).shape, np.nan)


def index_values(name: str, bands: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """An oracle index on role-keyed reflectance, or None when the bands are missing."""
    if name == "brightness":
        return _brightness(bands)
    try:
        return compute_index(name, bands)
    except Exception:  # noqa: BLE001 (a missing band: the index does not apply)
        return None


def _textbook(target: str, bands: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """The fixed literature rule for a target, or None without its bands."""
    rules: dict[str, Callable[[], np.ndarray | None]] = {
        "water": lambda: (
            v > 0
            if (v := index_values("MNDWI", bands)) is not None
            or (v := index_values("NDWI", bands)) is not None
            else None
        ),
        "vegetation": lambda: (v > 0.3) if (v := index_values("NDVI", bands)) is not None else None,
        "builtup": lambda: (v > 0) if (v := index_values("NDBI", bands)) is not None else None,
        "bare": lambda: (v > 0) if (v := index_values("BSI", bands)) is not None else None,
        "snow": lambda: (
            (v > 0.4) if "swir1" in bands and (v := index_values("NDSI", bands)) is not None
            else None
        ),
        "cloud": lambda: _brightness(bands) > 0.3 if "red" in bands else None,
        "forest": lambda: (v > 0.6) if (v := index_values("NDVI", bands)) is not None else None,
    }  # fmt: skip
    return rules[target]()


def scene_params(scene: Scene, params: SpectralParams) -> SpectralParams:
    """`params` as the scene runs them: point labels side by side are not neighbours, so a
    point scene takes no margins either."""
    if scene.points and params.margin_probability != 1.0:
        return replace(params, margin_probability=1.0)
    return params


def run_engine(
    image: Path, scene: Scene, params: SpectralParams, examples: Examples | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], SpectralBackend]:
    """Per target, the engine's mask when asked for that target alone; the scaled bands; the
    fitted backend. The scene is fitted once: the fit does not depend on the targets asked.
    `examples`: the analyst's, as ``--examples`` gives them (`bench/examples_quality`).
    """
    predictions, bands, backend = run_predictions(image, scene, params, examples)
    return {t: p.classes == 1 for t, p in predictions.items()}, bands, backend


def run_predictions(
    image: Path, scene: Scene, params: SpectralParams, examples: Examples | None = None
) -> tuple[dict[str, TilePrediction], dict[str, np.ndarray], SpectralBackend]:
    """`run_engine`, with the whole prediction per target (classes, confidence, evidence)."""
    with open_source(image, bands=scene.bands, sensor=scene.sensor, scale=scene.scale) as src:
        plan = Plan(prompt="benchmark", targets=(*TARGETS, FOREST))
        params = scene_params(scene, params)
        if params.set_thresholds:  # an index the scene's bands do not use is left out
            unused = unused_thresholds(dict(params.set_thresholds), src.roles)
            kept = tuple((k, v) for k, v in params.set_thresholds if k not in unused)
            params = replace(params, set_thresholds=kept)
        radius = 0 if scene.points else params.smoothing_radius
        backend = SpectralBackend(smoothing_radius=radius, params=params, examples=examples)
        backend.prepare(src, plan, src.read_sample(), RunMonitor())
        whole = Window(0, 0, src.width, src.height)
        bands = src.read(whole)
        predictions = {}
        for target in (*TARGETS, FOREST):
            backend.set_targets((target,))  # as a one-target prompt would
            predictions[target] = backend.predict(bands, whole)
    return predictions, bands, backend


def scored_pixels(
    scene: Scene, labels_path: Path, lab: np.ndarray, target: str
) -> tuple[np.ndarray, np.ndarray]:
    """The (positive, negative) pixels a target is scored on: its label code against every
    other labelled code; forest: the tree raster's tree cover against its other labelled
    pixels (`bench/tree_labels.py`)."""
    labelled = (lab >= 1) & (lab <= OTHER_MAX)
    if target != FOREST:
        pos = lab == LABEL_CODES[target]
        return pos, labelled & ~pos
    with rasterio.open(trees_path(scene.name, labels_path)) as src:
        trees = src.read(1)
    return labelled & (trees == 1), labelled & (trees == 0)


def has_trees(scene: Scene) -> bool:
    """Whether every raster of `scene` has a tree-cover raster with trees in it."""
    return all(trees_path(scene.name, labels) is not None for _, labels in scene.rasters)


def score_scene(scene: Scene, params: SpectralParams, with_baselines: bool = True) -> list[dict]:
    """One row per target of the scene: ours, and (if asked) the oracle and the textbook rule.
    Forest is scored where the scene's labels tell tree cover (`trees_path`)."""
    targets = scene.targets() + ((FOREST,) if has_trees(scene) else ())
    ours = {t: np.zeros(3, np.int64) for t in targets}
    book = {t: np.zeros(3, np.int64) for t in targets}
    whole = np.zeros(3, np.int64)  # the vegetation, scored as forest: what "forest" gave before
    book_ok = dict.fromkeys(targets, True)
    pooled: dict[str, dict[str, list]] = {t: {n: [] for n in ORACLE_INDICES} for t in targets}
    positives: dict[str, list] = {t: [] for t in targets}
    t0 = time.perf_counter()
    info: dict = {}
    for image, labels_path in scene.rasters:
        pred, bands, backend = run_engine(image, scene, params)
        info = backend.report().details
        with rasterio.open(labels_path) as src:
            lab = src.read(1)
        for t in targets:
            pos, neg = scored_pixels(scene, labels_path, lab, t)
            ours[t] += counts(pred[t], pos, neg)
            if t == FOREST:
                whole += counts(pred["vegetation"], pos, neg)
            if with_baselines:
                rule = _textbook(t, bands)
                if rule is None:
                    book_ok[t] = False
                else:
                    book[t] += counts(rule, pos, neg)
                scored = pos | neg
                positives[t].append(pos[scored])
                for name in ORACLE_INDICES:
                    v = index_values(name, bands)
                    if v is not None:
                        pooled[t][name].append(v[scored])
    seconds = time.perf_counter() - t0
    tops = ceiling(scene) if with_baselines else {}
    rows = []
    for t in targets:
        row = {"scene": scene.name, "group": scene.group, "target": t, "ours": iou(ours[t]),
               "pos": int(ours[t][0] + ours[t][2]), "fp": int(ours[t][1]), "seconds": seconds,
               "simulated": scene.simulated}  # fmt: skip
        if with_baselines:
            pos = np.concatenate(positives[t])
            best = (float("nan"), "", float("nan"), "-")
            for name, parts in pooled[t].items():
                if parts:
                    score = best_threshold(np.concatenate(parts), pos)
                    if not score[0] <= best[0]:
                        best = (*score, name)
            row.update(oracle=best[0], oracle_rule=f"{best[3]} {best[1]} {best[2]:.4g}",
                       textbook=iou(book[t]) if book_ok[t] else float("nan"),
                       ceiling=tops.get(t, float("nan")))  # fmt: skip
        if t == FOREST:
            row["vegetation_as_forest"] = iou(whole)
        row["notes"] = info.get("notes", [])
        rows.append(row)
    return rows


def evaluate(scenes: list[Scene], params: SpectralParams) -> list[dict]:
    """Rows of every scene and target."""
    rows: list[dict] = []
    for scene in scenes:
        rows += score_scene(scene, params)
    return rows


def _grid(tuned: Mapping[str, tuple[float, ...]]) -> list[dict[str, float]]:
    """Every combination of the `tuned` values, as name -> value."""
    names = list(tuned)
    return [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(tuned[n] for n in names))
    ]


def _scene_over_grid(
    scene: Scene, params: SpectralParams, points: list[dict[str, float]]
) -> tuple[list[dict[str, float]], int]:
    """Ours per target of `scene` at each of `points` (values over `params`), and how many runs
    it took: a point that agrees with an earlier run on every value that run read takes its
    result (``read_values``)."""
    runs = RunsByReadValues(
        lambda p: {r["target"]: r["ours"] for r in score_scene(scene, p, with_baselines=False)},
        scene_params(scene, params),
        tuple(sorted({n for point in points for n in point})),
    )
    return [runs.get(point) for point in points], runs.runs


def _grid_table(
    scenes: list[Scene], params: SpectralParams, points: list[dict[str, float]]
) -> list[dict[tuple[str, str], float]]:
    """Ours per (scene, target) at each of `points`; one process per core takes whole scenes."""
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        per_scene = list(pool.map(
            _scene_over_grid, scenes, itertools.repeat(params), itertools.repeat(points)))  # fmt: skip
    print("runs per scene:", {s.name: n for s, (_, n) in zip(scenes, per_scene, strict=True)})
    return [
        {
            (s.name, t): v
            for s, (values, _) in zip(scenes, per_scene, strict=True)
            for t, v in values[g].items()
        }
        for g in range(len(points))
    ]


def leave_one_out(
    scenes: list[Scene],
    base: list[dict],
    params: SpectralParams,
    tuned: Mapping[str, tuple[float, ...]] = TUNED,
) -> list[dict]:
    """Each scene scored with the `tuned` values chosen on the other scenes only."""
    oracle = {(r["scene"], r["target"]): r["oracle"] for r in base}
    grid = _grid(tuned)
    table = _grid_table(scenes, params, grid)
    overall = max(range(len(grid)), key=lambda g: float(np.mean(
        [v - oracle[k] for k, v in table[g].items() if k[1] != FOREST])))  # fmt: skip
    print("best on all scenes:", grid[overall])
    defaults = _defaults_point(grid, params)
    rows = []
    for scene in scenes:

        def objective(g: int, held: str = scene.name) -> float:
            gaps = [v - oracle[k] for k, v in table[g].items() if k[0] != held and k[1] != FOREST]
            return float(np.mean(gaps))

        g_best = max(range(len(grid)), key=objective)
        g_safe = g_best
        if defaults is not None:
            kept = [g for g in range(len(grid)) if not _sinks(table, g, defaults, scene.name)]
            g_safe = max(kept, key=objective)
        for (name, target), value in table[g_best].items():
            if name == scene.name:
                rows.append({"scene": name, "target": target, "ours_loo": value,
                             "chosen": grid[g_best], "ours_loo_no_sink": table[g_safe][name, target],
                             "chosen_no_sink": grid[g_safe]})  # fmt: skip
    return rows


#: The project's rule for a tuned value: it may raise the mean, but sink no row of any scene by
#: more than this against the defaults (README, "How work gets done").
SINK = 0.01


def _defaults_point(grid: list[dict[str, float]], params: SpectralParams) -> int | None:
    """The grid point of `params`' own values (the defaults), or None if the grid lacks it."""
    own = {n: getattr(params, n) for n in grid[0]}
    return next((g for g, point in enumerate(grid) if point == own), None)


def _sinks(table: list[dict[tuple[str, str], float]], g: int, defaults: int, held: str) -> bool:
    """Whether grid point `g` lowers a row of a scene other than `held` (forest aside, as in
    the objective) by more than `SINK` against the defaults."""
    return any(
        v < table[defaults][k] - SINK
        for k, v in table[g].items()
        if k[0] != held and k[1] != FOREST
    )


def tuned_spread(
    scenes: list[Scene], params: SpectralParams, tuned: Mapping[str, tuple[float, ...]] = TUNED
) -> dict[str, dict[tuple[str, str], tuple[float, float]]]:
    """Per tuned value, taken alone over its choices (the others as `params`): the lowest and
    highest ours of each (scene, target) it moves.

    For a scene added to the benchmark, a first look: where no value moves its rows, the other
    scenes' folds of ``--loo`` keep their choices (its rows add the same to every grid point's
    objective, barring interactions) and its own left-out figures are its figures. Where some
    value moves them, run ``--loo``: folds can be decided by less than a scene's weight (the
    arid Zion scene's vegetation moved nearly every fold's built-up NDVI margin, stop 42).
    """
    points = [(n, {n: v}) for n, values in tuned.items() for v in values]
    table = _grid_table(scenes, params, [p for _, p in points])
    out: dict[str, dict[tuple[str, str], tuple[float, float]]] = {}
    for name in tuned:
        runs = [t for (n, _), t in zip(points, table, strict=True) if n == name]
        spread = {k: (min(t[k] for t in runs), max(t[k] for t in runs)) for k in runs[0]}
        out[name] = {k: v for k, v in spread.items() if v[1] > v[0]}
    return out


def _fmt(x: float) -> str:
    return "-" if x != x else f"{x:.3f}"


def markdown(rows: list[dict], loo: list[dict] | None) -> str:
    """The per-scene table and the per-target summary."""
    loo_map = {(r["scene"], r["target"]): r["ours_loo"] for r in loo or []}
    head = (
        "| scene | group | target | ours | oracle | oracle rule | textbook | ceiling "
        "| ours - oracle |"
    )
    if loo:
        head += " ours, scene left out |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        line = (
            f"| {r['scene']}{' (sim.)' if r['simulated'] else ''} | {r['group']} | {r['target']} "
            f"| {_fmt(r['ours'])} | {_fmt(r['oracle'])} | {r['oracle_rule']} "
            f"| {_fmt(r['textbook'])} | {_fmt(r.get('ceiling', float('nan')))} "
            f"| {r['ours'] - r['oracle']:+.3f} |"
        )
        if loo:
            line += f" {_fmt(loo_map.get((r['scene'], r['target']), float('nan')))} |"
        lines.append(line)
    lines += ["", summary(rows, loo_map)]
    if loo and "ours_loo_no_sink" in loo[0]:
        lines += ["", no_sink_summary(rows, loo)]
    forest = forest_against_vegetation(rows)
    return "\n".join([*lines, "", forest] if forest else lines)


def no_sink_summary(rows: list[dict], loo: list[dict]) -> str:
    """Per target, the left-out mean under each choice rule: the best mean on the other scenes,
    and the best mean among the values that sink no row of them by more than `SINK` against
    the defaults (the defaults always qualify); and the folds whose choice the rule changes."""
    head = (
        f"| target | scenes | mean ours | mean left out, best mean | mean left out, no row "
        f"sunk by more than {SINK} |"
    )
    lines = [head, "| --- | --- | --- | --- | --- |"]
    for t in (*TARGETS, FOREST):
        rs = [r for r in loo if r["target"] == t]
        ours = [r["ours"] for r in rows if r["target"] == t]
        if not rs:
            continue
        lines.append(
            f"| {t} | {len(rs)} | {np.mean(ours):.3f} | "
            f"{np.mean([r['ours_loo'] for r in rs]):.3f} | "
            f"{np.mean([r['ours_loo_no_sink'] for r in rs]):.3f} |"
        )
    folds = {r["scene"]: r for r in loo}
    moved = sorted(n for n, r in folds.items() if r["chosen_no_sink"] != r["chosen"])
    changed = [
        f"{n}: {', '.join(f'{k} {v}' for k, v in folds[n]['chosen_no_sink'].items() if v != folds[n]['chosen'][k])}"
        for n in moved
    ]
    return "\n".join(lines) + (
        f"\n\nFolds whose choice the no-sink rule changes: {len(moved)} of {len(folds)}"
        + (f" ({'; '.join(changed)})." if changed else ".")
    )


def forest_against_vegetation(rows: list[dict]) -> str:
    """Forest per scene against the whole vegetation scored as forest (what an instruction for
    forest returned while forest was a word for vegetation); empty without forest rows."""
    rs = [r for r in rows if r["target"] == FOREST]
    if not rs:
        return ""
    lines = [
        "| scene | forest | vegetation as forest | forest - vegetation |",
        "| --- | --- | --- | --- |",
    ]
    for r in rs:
        gain = r["ours"] - r["vegetation_as_forest"]
        lines.append(
            f"| {r['scene']} | {r['ours']:.3f} | {r['vegetation_as_forest']:.3f} | {gain:+.3f} |"
        )
    mean_ours = np.mean([r["ours"] for r in rs])
    mean_whole = np.mean([r["vegetation_as_forest"] for r in rs])
    lines.append(
        f"| mean ({len(rs)}) | {mean_ours:.3f} | {mean_whole:.3f} | {mean_ours - mean_whole:+.3f} |"
    )
    return "\n".join(lines)


def summary(rows: list[dict], loo_map: Mapping[tuple[str, str], float]) -> str:
    """Per target: mean of each column over scenes, and the worst scene against the oracle."""
    head = (
        "| target | scenes | mean ours | mean oracle | mean textbook | mean ceiling "
        "| worst (ours - oracle) |"
    )
    if loo_map:
        head += " mean ours, left out | worst left out - oracle |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for t in (*TARGETS, FOREST):
        rs = [r for r in rows if r["target"] == t]
        if not rs:
            continue
        book = [r["textbook"] for r in rs if r["textbook"] == r["textbook"]]
        worst = min(rs, key=lambda r: r["ours"] - r["oracle"])
        line = (
            f"| {t} | {len(rs)} | {np.mean([r['ours'] for r in rs]):.3f} "
            f"| {np.mean([r['oracle'] for r in rs]):.3f} "
            f"| {np.mean(book) if book else float('nan'):.3f} ({len(book)}) "
            f"| {np.mean([r.get('ceiling', float('nan')) for r in rs]):.3f} "
            f"| {worst['ours'] - worst['oracle']:+.3f} ({worst['scene']}) |"
        )
        if loo_map:
            left = [(loo_map[(r["scene"], t)], r) for r in rs if (r["scene"], t) in loo_map]
            w = min(left, key=lambda x: x[0] - x[1]["oracle"])
            line += (
                f" {np.mean([v for v, _ in left]):.3f} "
                f"| {w[0] - w[1]['oracle']:+.3f} ({w[1]['scene']}) |"
            )
        lines.append(line)
    under = [r for r in rows if r["ours"] - r["oracle"] < -UNDER_ORACLE]
    tail = f"\nRows more than {UNDER_ORACLE} under the oracle: {len(under)} of {len(rows)}"
    if loo_map:
        left = [r for r in rows if (r["scene"], r["target"]) in loo_map]
        left_under = [
            r for r in left if loo_map[(r["scene"], r["target"])] - r["oracle"] < -UNDER_ORACLE
        ]
        tail += f"; left out, {len(left_under)} of {len(left)}"
    return "\n".join(lines) + "\n" + tail + "."


def _parse_setting(text: str) -> tuple[str, float | bool]:
    name, _, value = text.partition("=")
    field = SpectralParams.__dataclass_fields__.get(name)
    if field is None or not value:
        raise SystemExit(f"--set {text}: expected NAME=VALUE with NAME a SpectralParams field")
    if field.type in (bool, "bool"):  # a rule, on or off
        if value.lower() not in {"true", "false", "1", "0"}:
            raise SystemExit(f"--set {text}: {name} is true or false")
        return name, value.lower() in {"true", "1"}
    number = float(value)
    if field.type in (int, "int"):  # a radius in pixels: a whole number
        if not number.is_integer():
            raise SystemExit(f"--set {text}: {name} is a whole number")
        return name, int(number)
    return name, number


def main(argv: Iterable[str] | None = None) -> None:
    """Print the tables and write them to bench/out/quality.md (+ rows as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--groups",
        default=DEFAULT_GROUPS,
        help="scene groups to score (rgb, rgbn: the multispectral scenes in true colour only, "
        "or in their visible and NIR bands only; baseline04: the Sentinel-2 ones as products "
        "of processing baseline 04.00 and later store them; s2r20m: the Sentinel-2 ones in "
        "their 20 m bands, B8A without B08; safe: the georeferenced Sentinel-2 ones as "
        "Level-2A products, read as QGIS opens them, their 10 m layer; browser: the "
        "georeferenced reflectance ones as Sentinel Hub exports them, a 16-bit file a band)",
    )
    parser.add_argument("--scene", action="append", help="only these scenes (repeatable)")
    # One leave-one-out check per run: --loo's joint grid or one value's choices, not both.
    loo_kind = parser.add_mutually_exclusive_group()
    loo_kind.add_argument("--loo", action="store_true", help="leave-one-scene-out check of TUNED")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="score with this SpectralParams value instead of the default (repeatable)",
    )
    loo_kind.add_argument(
        "--loo-param",
        metavar="NAME=V1,V2,...",
        help="leave-one-scene-out check of this one SpectralParams value over these choices, "
        "the others as set (a minute or two, where the joint grid of --loo takes about 20)",
    )
    loo_kind.add_argument(
        "--tuned-spread",
        action="store_true",
        help="print, for each tuned value alone, the rows it moves and how far, instead (does "
        "a newly added scene change the --loo folds? not where no value moves its rows)",
    )
    parser.add_argument(
        "--threshold",
        action="append",
        metavar="INDEX=VALUE",
        help="score with this index threshold set as an analyst sets it (spex extract "
        "--threshold), on the scenes whose bands use it (repeatable)",
    )
    parser.add_argument("--out", help="write the tables as this stem in bench/out/")
    args = parser.parse_args(list(argv) if argv is not None else None)
    scenes = all_scenes(tuple(args.groups.split(",")))
    if args.scene:
        scenes = [s for s in scenes if s.name in args.scene]
    params = replace(SpectralParams(), **dict(_parse_setting(v) for v in args.set))
    if args.threshold:
        params = replace(
            params, set_thresholds=tuple(sorted(parse_thresholds(args.threshold).items()))
        )
    if args.tuned_spread:
        for name, moved in tuned_spread(scenes, params).items():
            rows = ", ".join(f"{s} {t} {lo:.3f}-{hi:.3f}" for (s, t), (lo, hi) in moved.items())
            print(f"{name} {TUNED[name]}: {rows or 'no row moves'}")
        return
    rows = evaluate(scenes, params)
    loo = leave_one_out(scenes, rows, params) if args.loo else None
    if args.loo_param:
        name, _, values = args.loo_param.partition("=")
        if name not in SpectralParams.__dataclass_fields__ or not values:
            raise SystemExit(f"--loo-param {args.loo_param}: expected NAME=V1,V2,...")
        choices = tuple(float(v) for v in values.split(","))
        loo = leave_one_out(scenes, rows, params, {name: choices})
    text = markdown(rows, loo)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    stem = args.out or (
        "quality" if args.groups == DEFAULT_GROUPS else f"quality-{args.groups.replace(',', '-')}"
    )
    (OUT / f"{stem}.md").write_text(text + "\n", encoding="utf-8")
    (OUT / f"{stem}.json").write_text(
        json.dumps({"rows": rows, "loo": loo}, indent=1, default=str), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
