"""Quality evaluation of the spectral backend on real labelled imagery.

For every dataset and target: IoU of our classifier against the labels, on labelled pixels only
(positives = the target's label, negatives = the other labelled classes), next to the oracle
baseline: the best fixed threshold of each single index, chosen WITH the labels over a sweep.
A dataset of several scenes (``lsts``) fits one model per scene and pools the confusion counts
(the oracle threshold is one threshold over the pooled pixels). ``FP px`` counts the labelled
negatives we call the target: on a scene set without water it must stay near 0.

The predictor is a swappable function ``predict_scene(path, roles, calibrated, scale) -> class
map`` (uint8 codes of ``CLASS_CODES``, 255 nodata); the default fits the scene model on a
decimated whole-raster sample, predicts the full scene and smooths. Data: ``bench/quality_data``.

Run: ``.venv/bin/python -m bench.quality`` -> Markdown table on stdout and ``bench/out/quality.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio

from spex.engine.backends.spectral.context import apply_context_rule, fit_context_rule, texture
from spex.engine.backends.spectral.scene_model import (
    fit_scene_model,
    predict_proba,
    top_class,
)
from spex.engine.backends.spectral.smoothing import smooth_probabilities
from spex.engine.indices import compute_index

from .quality_data import (
    CACHE,
    L7_ROLES,
    LABELS,
    LSTS_ROLES,
    S2_ROLES,
    SPYNDEX_ROLES,
    optional_l7,
    prepare_lsts,
    prepare_s2,
    prepare_s2_hand,
    prepare_spyndex_raster,
)

OUT = Path(__file__).resolve().parent / "out"
CLASS_CODES = {"water": 1, "vegetation": 2, "builtup": 3, "bare": 4, "snow": 5, "cloud": 6}
SAMPLE_PIXELS = 1_000_000

Predictor = Callable[[Path, Sequence[str], bool, float], np.ndarray]

BASELINE_INDICES = {
    "water": ("NDWI", "MNDWI", "AWEI_NSH", "AWEI_SH", "WI2015"),
    "vegetation": ("NDVI", "SAVI"),
    "builtup": ("NDBI", "BSI"),
    "snow": ("NDSI",),
    "cloud": ("HOT", "BRIGHTNESS"),
}


@dataclass(frozen=True)
class Dataset:
    """One labelled raster: band roles, calibration, DN scale and the targets scored on it."""

    name: str
    image: Path
    labels: Path
    roles: tuple[str, ...]
    calibrated: bool
    scale: float
    # target -> (positive label codes, negative label codes)
    targets: dict[str, tuple[tuple[int, ...], tuple[int, ...]]]
    note: str
    # Further (image, labels) scenes scored with the first one, each fitted on its own.
    more: tuple[tuple[Path, Path], ...] = ()
    # Unrelated pixels side by side (a table, not an image): never smoothed.
    points: bool = False

    @property
    def scenes(self) -> tuple[tuple[Path, Path], ...]:
        """Every (image, labels) pair of the dataset."""
        return ((self.image, self.labels),) + self.more


W, V, B, BARE, OTHER = (LABELS[k] for k in ("water", "vegetation", "builtup", "bare", "other"))
SNOW, CLOUD, SHADOW, HAZE = (LABELS[k] for k in ("snow", "cloud", "shadow", "haze"))


def datasets() -> list[Dataset]:
    """The evaluation datasets (prepared on first use)."""
    prepare_s2()
    hand = prepare_s2_hand()
    has_l7 = bool(optional_l7())
    lsts = prepare_lsts()
    spx = prepare_spyndex_raster()
    fmask_targets = {
        "water": ((W,), (OTHER, SNOW, CLOUD, SHADOW)),
        "snow": ((SNOW,), (W, OTHER, CLOUD, SHADOW)),
        "cloud": ((CLOUD,), (W, OTHER, SNOW, SHADOW)),
    }
    spx_targets = {
        "water": ((W,), (V, B)),
        "vegetation": ((V,), (W, B)),
        "builtup": ((B,), (W, V)),
    }
    s2_targets = {
        "water": ((W,), (V, B, OTHER)),
        "vegetation": ((V,), (W, B)),
        "builtup": ((B,), (W, V, OTHER)),
    }
    # Hand labels: cloud against clear land (thin haze unscored); built-up's FP px are the
    # haze and cloud pixels called built-up (its positives are the OSM residential areas).
    hand_targets = {"cloud": ((CLOUD,), (OTHER,)), "builtup": ((B,), (HAZE, CLOUD))}
    l7_targets = {
        "water": ((W,), (V, B, BARE)),
        "vegetation": ((V,), (W, B, BARE)),
        "builtup": ((B,), (W, V, BARE)),
    }
    sets = [
        Dataset("s2_4326", CACHE / "s2_4326.tif", CACHE / "s2_4326_labels.tif", S2_ROLES, True,
                1e4, s2_targets, "S2 L1C chip warped to EPSG:4326, 512x512"),
        Dataset("s2_utm", CACHE / "s2_utm.tif", CACHE / "s2_utm_labels.tif", S2_ROLES, True,
                1e4, s2_targets, "S2 L1C full scene, haze/cloud corner"),
        Dataset("s2_hand", CACHE / "s2_utm.tif", hand, S2_ROLES, True, 1e4, hand_targets,
                "the same scene, hand-drawn cloud / haze / clear polygons"),
        Dataset("l7_dn", CACHE / "l7_dn.tif", CACHE / "l7_labels.tif", L7_ROLES, False,
                255.0, l7_targets, "Landsat 7, simulated raw 8-bit DN"),
        Dataset("l7_sr", CACHE / "l7_sr.tif", CACHE / "l7_labels.tif", L7_ROLES, True,
                1e4, l7_targets, "Landsat 7 surface reflectance"),
        Dataset("lsts_sr", lsts[0][0], lsts[0][2], LSTS_ROLES, True, 1e4, fmask_targets,
                "105 Landsat 5/7 scenes, red/nir/swir1 reflectance, Fmask labels",
                more=tuple((a, c) for a, _, c in lsts[1:])),
        Dataset("lsts_dn", lsts[0][1], lsts[0][2], LSTS_ROLES, False, 255.0, fmask_targets,
                "the same as simulated 8-bit DN", more=tuple((b, c) for _, b, c in lsts[1:])),
        Dataset("spyndex_sr", spx[0], spx[2], SPYNDEX_ROLES, True, 1e4, spx_targets,
                "120 Landsat 8 reflectance pixels", points=True),
        Dataset("spyndex_dn", spx[1], spx[2], SPYNDEX_ROLES, False, 255.0, spx_targets,
                "the same as simulated 8-bit DN", points=True),
    ]  # fmt: skip
    return sets if has_l7 else [d for d in sets if not d.name.startswith("l7_")]


def read_bands(path: Path, roles: Sequence[str], scale: float) -> dict[str, np.ndarray]:
    """Read every band as float32 / scale keyed by role; 0 (fill) becomes NaN."""
    with rasterio.open(path) as src:
        data = src.read().astype(np.float32)
    data[:, (data == 0).all(axis=0)] = np.nan
    return {role: data[i] / np.float32(scale) for i, role in enumerate(roles)}


def global_sample(bands: dict[str, np.ndarray], max_pixels: int = SAMPLE_PIXELS) -> dict:
    """Decimated (regular stride) sample of valid pixels of the whole raster, 1-D per role."""
    h, w = next(iter(bands.values())).shape
    step = max(1, int(np.ceil(np.sqrt(h * w / max_pixels))))
    sub = {r: v[::step, ::step].ravel() for r, v in bands.items()}
    ok = np.all([np.isfinite(v) for v in sub.values()], axis=0)
    return {r: v[ok] for r, v in sub.items()}


def predict_scene(
    path: Path,
    roles: Sequence[str],
    calibrated: bool,
    scale: float,
    radius: int = 1,
    context: bool = True,
) -> tuple[np.ndarray, dict]:
    """Default predictor, as the spectral backend: fit on the global sample, predict the whole
    scene, smooth, most probable class, texture rule (fitted on sample windows) if ``context``.
    """
    bands = read_bands(path, roles, scale)
    model = fit_scene_model(global_sample(bands), calibrated)
    probs = predict_proba(model, bands)
    if radius:
        probs = smooth_probabilities(probs, radius)
    idx, top = top_class(probs)
    nodata = np.isnan(top)
    info = model.to_dict()
    if context:
        h, w = top.shape
        rule = fit_context_rule(
            model,
            lambda b: {r: v[b[0] : b[0] + b[2], b[1] : b[1] + b[3]] for r, v in bands.items()},
            h,
            w,
            radius,
        )
        apply_context_rule(rule, idx, top, probs, texture(model, bands))
        info["texture_rule"] = rule.to_dict()
    idx[nodata] = 255
    lut = np.full(256, 0, dtype=np.uint8)
    for i, c in enumerate(model.classes):
        lut[i] = CLASS_CODES.get(c, 0)
    lut[255] = 255
    return lut[idx], info


def iou(pred: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """IoU of the boolean prediction against positives, over labelled (pos | neg) pixels."""
    tp = np.sum(pred & pos)
    fp = np.sum(pred & neg)
    fn = np.sum(~pred & pos)
    return float(tp / max(tp + fp + fn, 1))


def best_threshold(values: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """Oracle: the threshold ``values > t`` with the best IoU (sweep of 400 quantiles)."""
    lab = (pos | neg) & np.isfinite(values)
    v, p = values[lab], pos[lab]
    best = (0.0, float("nan"))
    for t in np.unique(np.quantile(v, np.linspace(0, 1, 401))):
        pred = v > t
        tp = np.sum(pred & p)
        score = tp / max(np.sum(pred) + np.sum(p) - tp, 1)
        if score > best[0]:
            best = (float(score), float(t))
    return best


def evaluate(
    predictor: Callable = predict_scene, radius: int = 1, context: bool = True
) -> tuple[str, list[dict]]:
    """Score every dataset/target; returns the Markdown table and the rows."""
    rows = []
    for ds in datasets():
        t0 = time.perf_counter()
        counts: dict[str, np.ndarray] = {t: np.zeros(3, np.int64) for t in ds.targets}
        pooled: dict[str, list] = {t: [] for t in ds.targets}
        infos = []
        for image, labels in ds.scenes:
            pred, info = predictor(
                image,
                ds.roles,
                ds.calibrated,
                ds.scale,
                radius=0 if ds.points else radius,
                context=context and not ds.points,
            )
            infos.append(info)
            with rasterio.open(labels) as src:
                lab = src.read(1)
            for target, (pos_codes, neg_codes) in ds.targets.items():
                pos, neg = np.isin(lab, pos_codes), np.isin(lab, neg_codes)
                ours = pred == CLASS_CODES[target]
                counts[target] += [np.sum(ours & pos), np.sum(ours & neg), np.sum(~ours & pos)]
                keep = pos | neg
                pooled[target].append((image, keep, pos[keep]))
        seconds = time.perf_counter() - t0
        for target, (tp, fp, fn) in counts.items():
            base = _oracle(ds, target, pooled[target])
            rows.append({"dataset": ds.name, "target": target,
                         "ours": float(tp / max(tp + fp + fn, 1)), "fp": int(fp),
                         "base": base[0], "base_index": base[2], "base_t": base[1],
                         "pos": int(tp + fn), "neg": int(sum(k.sum() for _, k, _ in pooled[target])
                                                         - tp - fn),
                         "seconds": seconds, "scenes": len(ds.scenes),
                         "model": infos[0]})  # fmt: skip
    lines = [
        "| dataset | target | ours IoU | ours FP px | best single index IoU (oracle) | index > t "
        "| pos px | neg px |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['target']} | {r['ours']:.3f} | {r['fp']} | {r['base']:.3f} | "
            f"{r['base_index']} > {r['base_t']:.3f} | {r['pos']} | {r['neg']} |"
        )
    return "\n".join(lines), rows


def _oracle(ds: Dataset, target: str, pooled: list) -> tuple[float, float, str]:
    """Best single-index threshold over the pooled labelled pixels of every scene."""
    best = (float("nan"), float("nan"), "-")
    for ix in BASELINE_INDICES.get(target, ()):
        if not all(r in ds.roles for r in _roles(ix)):
            continue
        values, pos = [], []
        for image, keep, p in pooled:
            values.append(compute_index(ix, read_bands(image, ds.roles, ds.scale))[keep])
            pos.append(p)
        v, p = np.concatenate(values), np.concatenate(pos)
        if not p.any():
            continue
        score = best_threshold(v, p, ~p) + (ix,)
        if not score[0] <= best[0]:
            best = score
    return best


def _roles(index: str) -> tuple[str, ...]:
    from spex.engine.indices import get_index

    return get_index(index).roles


def main() -> None:
    """Print the table and write it to bench/out/quality.md (+ rows as JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radius", type=int, default=1, help="smoothing radius (0: none)")
    parser.add_argument(
        "--no-context", action="store_true", help="no texture rule for built-up vs bare soil"
    )
    args = parser.parse_args()
    table, rows = evaluate(radius=args.radius, context=not args.no_context)
    print(table)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "quality.md").write_text(table + "\n")
    (OUT / "quality.json").write_text(json.dumps(rows, indent=1, default=str))
    for r in rows:
        if r["target"] == "water" and r["scenes"] == 1:
            print(r["dataset"], json.dumps(r["model"]["seed_counts"]), r["model"]["notes"])


if __name__ == "__main__":
    main()
