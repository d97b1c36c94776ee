"""A classifier learned across scenes, against the backend's scene-adaptive one.

Issue 8 asks for a method that carries across sensors. The backend learns every scene anew from
its own seeds; the alternative is one model learned once from labelled scenes and applied to a
scene it has not seen. This measures that alternative on the benchmark, each scene held out:
for each target, a logistic regression on index features (NDVI, NDWI, MNDWI, NDBI, BSI, the log
of visible brightness, NIR and SWIR1, and of blue over red; each also squared) is fitted on the
labelled pixels of every OTHER scene (each scene weighing the same, its positives and negatives
half each) and scored on the held-out scene at probability 0.5, beside the backend's result
(``ours``) and the held-out scene's oracle (the best single-index threshold chosen with its
own labels, ``bench/quality``).

Scenes: the real (not simulated) ones the engine reads as reflectance with blue, green, red,
NIR and SWIR1, so that every feature means the same on each; the bands as the engine scales
them. Targets with positives in at least three such scenes.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.cross_scene`` (about a minute), Markdown on stdout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import rasterio

from spex.engine.backends.spectral.params import SpectralParams

from .iou import OTHER_MAX, best_threshold, counts, iou
from .quality import ORACLE_INDICES, index_values, run_engine
from .scenes import LABEL_CODES, TARGETS, all_scenes

ROLES = ("blue", "green", "red", "nir", "swir1")
INDICES = ("NDVI", "NDWI", "MNDWI", "NDBI", "BSI")
FLOOR = 1e-3  # reflectance below this is taken as this in the logs
STEPS, RATE, RIDGE = 300, 0.5, 1e-2
#: Each class side of a scene is fitted on at most this many of its pixels (seeded draw).
FIT_PIXELS = 5000
MIN_SCENES = 3


@dataclass
class ScenePixels:
    """One scene's labelled pixels: features, labels, the backend's masks and the oracle's
    index values."""

    name: str
    features: np.ndarray
    labels: np.ndarray
    ours: dict[str, np.ndarray]
    oracle_values: dict[str, np.ndarray]


def features(bands: dict[str, np.ndarray], keep: np.ndarray) -> np.ndarray:
    """(n, 2d + 1) features of the `keep` pixels: each index and log band, its square, 1."""
    cols = [np.nan_to_num(index_values(n, bands)[keep]) for n in INDICES]
    log = {r: np.log(np.clip(bands[r][keep], FLOOR, None)) for r in ROLES}
    cols += [np.log(np.clip(index_values("brightness", bands)[keep], FLOOR, None))]
    cols += [log["nir"], log["swir1"], log["blue"] - log["red"]]
    x = np.stack(cols, axis=1).astype(np.float64)
    return np.concatenate([x, x**2, np.ones((len(x), 1))], axis=1)


def scene_pixels() -> list[ScenePixels]:
    """Every real scene read as reflectance with all of `ROLES`, as the engine reads it."""
    found = []
    for scene in all_scenes():
        if scene.simulated or len(scene.rasters) != 1:
            continue
        image, labels_path = scene.rasters[0]
        masks, bands, backend = run_engine(image, scene, SpectralParams())
        if not backend.report().details.get("calibrated") or any(r not in bands for r in ROLES):
            continue
        with rasterio.open(labels_path) as src:
            labels = src.read(1)
        keep = (labels >= 1) & (labels <= OTHER_MAX)
        values = {n: v[keep] for n in ORACLE_INDICES if (v := index_values(n, bands)) is not None}
        found.append(
            ScenePixels(
                scene.name,
                features(bands, keep),
                labels[keep],
                {t: m[keep] for t, m in masks.items()},
                values,
            )
        )
    return found


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardisation and weights of a ridge logistic regression by gradient descent."""
    mu, sd = x[:, :-1].mean(0), x[:, :-1].std(0) + 1e-9
    z = np.concatenate([(x[:, :-1] - mu) / sd, x[:, -1:]], axis=1)
    beta = np.zeros(z.shape[1])
    for _ in range(STEPS):
        p = 1 / (1 + np.exp(-z @ beta))
        beta -= RATE * (z.T @ (w * (p - y)) / w.sum() + RIDGE * beta)
    return mu, sd, beta


def predict(model: tuple[np.ndarray, np.ndarray, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Whether each pixel's probability exceeds 0.5."""
    mu, sd, beta = model
    z = np.concatenate([(x[:, :-1] - mu) / sd, x[:, -1:]], axis=1)
    return z @ beta > 0


def _fit_pixels(scene: ScenePixels, code: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `FIT_PIXELS` of the scene's positives and of its negatives: features, 0/1."""
    rng = np.random.default_rng(0)
    picked = []
    for side in (scene.labels == code, scene.labels != code):
        where = np.flatnonzero(side)
        picked.append(rng.choice(where, min(len(where), FIT_PIXELS), replace=False))
    keep = np.concatenate(picked)
    return scene.features[keep], (scene.labels[keep] == code).astype(np.float64)


def held_out_rows(scenes: list[ScenePixels], target: str) -> list[tuple[str, float, float, float]]:
    """(scene, ours, learned on the other scenes, oracle) for each scene labelling `target`."""
    code = LABEL_CODES[target]
    having = [s for s in scenes if (s.labels == code).any()]
    if len(having) < MIN_SCENES:
        return []
    rows = []
    for held in having:
        xs, ys, ws = [], [], []
        for s in having:
            if s is not held:
                x, y = _fit_pixels(s, code)
                xs.append(x)
                ys.append(y)
                ws.append(np.where(y == 1, 0.5 / y.sum(), 0.5 / (1 - y).sum()))
        model = fit(np.concatenate(xs), np.concatenate(ys), np.concatenate(ws))
        pos = held.labels == code
        oracle = max(best_threshold(v, pos)[0] for v in held.oracle_values.values())
        rows.append(
            (
                held.name,
                iou(counts(held.ours[target], pos, ~pos)),
                iou(counts(predict(model, held.features), pos, ~pos)),
                oracle,
            )
        )
    return rows


def main() -> None:
    scenes = scene_pixels()
    print(f"Scenes ({len(scenes)}): " + ", ".join(s.name for s in scenes))
    print()
    print("| target | scene | ours | learned on the other scenes | oracle |")
    print("| --- | --- | --- | --- | --- |")
    means = []
    for target in TARGETS:
        rows = held_out_rows(scenes, target)
        for name, ours, learned, oracle in rows:
            print(f"| {target} | {name} | {ours:.3f} | {learned:.3f} | {oracle:.3f} |")
        if rows:
            means.append((target, len(rows), *np.mean([r[1:] for r in rows], axis=0)))
    print()
    print("| target | scenes | mean ours | mean learned | mean oracle |")
    print("| --- | --- | --- | --- | --- |")
    for target, n, ours, learned, oracle in means:
        print(f"| {target} | {n} | {ours:.3f} | {learned:.3f} | {oracle:.3f} |")


if __name__ == "__main__":
    main()
