"""What each scene's spectra allow: a per-pixel classifier fitted WITH the labels, as a ceiling.

``bench/quality`` compares the spectral backend with the best single-index threshold (the
oracle). This adds the ceiling of the backend's own kind of model: per scene and target, one
Gaussian per side (the target, every other labelled class) on the same log-band features the
scene classifier reads (``feature_roles``; the other side a mixture of one Gaussian per labelled
class, as the scene classifier has one per class), fitted on the labelled pixels themselves, and cut
at its best log-likelihood-ratio threshold (the IoU the same way as the oracle's). It sees the
labels and is scored on the pixels it was fitted on, so it is an upper bound: where the ceiling
sits close to the oracle, no per-pixel spectral rule can beat the oracle by much; where ours
sits close to the ceiling, what is left is in the labels (mixed pixels, classes the spectra
do not separate), not in the method. Point-labelled scenes with few pixels overfit it most.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.ceiling [--groups benchmark,extra,dev]
[--rows bench/out/NAME.json]`` (ours and the oracle from a ``bench/quality --out NAME`` run,
otherwise scored again; about 30 s) -> Markdown on stdout and in ``bench/out/ceiling.md``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from spex.engine.backends.spectral.params import SpectralParams
from spex.engine.backends.spectral.scene_model import FLOOR, feature_roles
from spex.engine.raster.raster_source import open_source

from .quality import DEFAULT_GROUPS, OTHER_MAX, OUT, _best_threshold, evaluate
from .scenes import LABEL_CODES, TARGETS, Scene, all_scenes

#: Covariance shrinkage towards its scaled identity: a side of a few labelled points stays
#: invertible (the scene classifier's own value is 0.1; here the fit should be tight).
SHRINKAGE = 0.01


def _log_features(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) log-band features of every labelled pixel of `scene` and their (n,) labels."""
    xs, ys = [], []
    for image, labels_path in scene.rasters:
        with open_source(image, bands=scene.bands, sensor=scene.sensor, scale=scene.scale) as src:
            roles = feature_roles(src.roles)
            bands = src.read(Window(0, 0, src.width, src.height))
        with rasterio.open(labels_path) as lab_src:
            lab = lab_src.read(1)
        keep = (lab >= 1) & (lab <= OTHER_MAX)
        x = np.stack([np.log(np.maximum(bands[r][keep].astype(np.float64), FLOOR)) for r in roles])
        ok = np.all(np.isfinite(x), axis=0)
        xs.append(x[:, ok].T)
        ys.append(lab[keep][ok])
    return np.concatenate(xs), np.concatenate(ys)


def _log_density(x: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Log-density of every row of `x` under one shrunk Gaussian fitted to ``x[side]``."""
    fit = x[side]
    mean = fit.mean(axis=0)
    d = x.shape[1]
    cov = np.cov(fit.T, bias=True).reshape(d, d) if len(fit) > 1 else np.zeros((d, d))
    cov = (1 - SHRINKAGE) * cov + SHRINKAGE * (np.trace(cov) / d + 1e-6) * np.eye(d)
    centred = x - mean
    maha = np.einsum("ij,jk,ik->i", centred, np.linalg.inv(cov), centred)
    return -0.5 * (maha + np.linalg.slogdet(cov)[1])


def ceiling(scene: Scene) -> dict[str, float]:
    """Per target with labelled positives and negatives: the label-fitted Gaussian's best IoU."""
    x, lab = _log_features(scene)
    out = {}
    for target in TARGETS:
        pos = lab == LABEL_CODES[target]
        if pos.sum() < 2 or (~pos).sum() < 2:
            continue
        # The other side is several classes: one Gaussian each, weighted by its pixel count.
        others = [lab == code for code in np.unique(lab[~pos]) if (lab == code).sum() >= 2]
        rest = np.logaddexp.reduce(
            [np.log(m.sum()) + _log_density(x, m) for m in others], axis=0
        ) - np.log(sum(m.sum() for m in others))
        ratio = _log_density(x, pos) - rest
        out[target] = _best_threshold(ratio, pos)[0]
    return out


def table(rows: list[dict], ceilings: dict[tuple[str, str], float]) -> str:
    """Markdown: per scene and target, then per target the means over the scenes scored."""
    lines = [
        "| scene | target | ours | oracle | ceiling | ours / ceiling | oracle / ceiling |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    per_target: dict[str, list[tuple[float, float, float]]] = {}
    for r in rows:
        top = ceilings.get((r["scene"], r["target"]))
        if top is None or not top > 0:
            continue
        ours, oracle = r["ours"], r["oracle"]
        per_target.setdefault(r["target"], []).append((ours, oracle, top))
        lines.append(
            f"| {r['scene']} | {r['target']} | {ours:.3f} | {oracle:.3f} | {top:.3f} "
            f"| {ours / top:.2f} | {oracle / top:.2f} |"
        )
    lines += [
        "",
        "| target | scenes | ours | oracle | ceiling | ceiling - oracle | ceiling below "
        "oracle + 0.05 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for target in TARGETS:
        if target in per_target:
            a = np.array(per_target[target])
            short = int(np.sum(a[:, 2] < a[:, 1] + 0.05))
            lines.append(
                f"| {target} | {len(a)} | {a[:, 0].mean():.3f} | {a[:, 1].mean():.3f} "
                f"| {a[:, 2].mean():.3f} | {(a[:, 2] - a[:, 1]).mean():+.3f} "
                f"| {short} of {len(a)} |"
            )
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> None:
    """Print the ceiling table and write it to bench/out/ceiling.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default=DEFAULT_GROUPS, help="scene groups, as bench/quality")
    parser.add_argument("--rows", type=Path, help="a bench/quality --out JSON: ours and oracle")
    args = parser.parse_args(list(argv) if argv is not None else None)
    scenes = all_scenes(tuple(args.groups.split(",")))
    if args.rows:
        rows = json.loads(args.rows.read_text(encoding="utf-8"))["rows"]
    else:
        rows = evaluate(scenes, SpectralParams())
    ceilings = {(s.name, t): v for s in scenes for t, v in ceiling(s).items()}
    text = table(rows, ceilings)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ceiling.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
