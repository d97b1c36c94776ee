"""What each scene's spectra allow: a per-pixel classifier fitted WITH the labels, as a ceiling.

The oracle of ``bench/quality`` is the best single-index threshold. The ceiling is the best of
the backend's own kind of model: per scene and target, one Gaussian for the target and one for
each other labelled class (a mixture, weighted by their pixel counts), on the log-band features
the scene classifier reads (``feature_roles``), fitted on the labelled pixels themselves and cut
at the best log-likelihood-ratio threshold, scored like the oracle. It sees the labels and is
scored on the pixels it was fitted on, so it is optimistic (most where a scene has a few
labelled points). Where the ceiling sits close to the oracle, no per-pixel spectral rule beats
the oracle by much; where ours sits close to the ceiling, what is left is in the labels (mixed
pixels, classes the spectra do not separate), not in the method.

``bench/quality`` prints it as the "ceiling" column, and per target its mean.
"""

from __future__ import annotations

import numpy as np
import rasterio
from rasterio.windows import Window

from spex.engine.backends.spectral.scene_model import FLOOR, feature_roles
from spex.engine.raster.raster_source import open_source

from .iou import OTHER_MAX, best_threshold
from .scenes import LABEL_CODES, TARGETS, Scene, trees_path

#: Covariance shrinkage towards its scaled identity: a side of a few labelled points stays
#: invertible (the scene classifier's own value is 0.1; here the fit should be tight).
SHRINKAGE = 0.01


def _log_features(scene: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(n, d) log-band features of every labelled pixel of `scene`, their (n,) labels and,
    where the scene has them (`trees_path`), their (n,) tree-cover codes (1 tree, 0 not, 255
    unknown)."""
    xs, ys, ts = [], [], []
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
        trees = trees_path(scene.name, labels_path)
        if trees is not None:
            with rasterio.open(trees) as tree_src:
                ts.append(tree_src.read(1)[keep][ok])
    trees_all = np.concatenate(ts) if len(ts) == len(xs) else None
    return np.concatenate(xs), np.concatenate(ys), trees_all


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


def _best_llr(x: np.ndarray, lab: np.ndarray, code: int) -> float | None:
    """The best IoU of `code` against the other codes of `lab` by one label-fitted Gaussian
    per code (the other side a mixture weighted by pixel counts); None without both sides."""
    sizes = {int(c): int(n) for c, n in zip(*np.unique(lab, return_counts=True), strict=True)}
    density = {c: _log_density(x, lab == c) for c, n in sizes.items() if n >= 2}
    others = [c for c in density if c != code]
    if code not in density or not others:
        return None
    rest = np.logaddexp.reduce([np.log(sizes[c]) + density[c] for c in others], axis=0) - np.log(
        sum(sizes[c] for c in others)
    )
    return best_threshold(density[code] - rest, lab == code)[0]


#: The code tree cover takes in the ceiling's labels (any code the labels do not use).
TREE_CODE = 100


def ceiling(scene: Scene) -> dict[str, float]:
    """Per target with labelled positives and negatives: the label-fitted Gaussian's best IoU.
    Forest, where the scene's labels tell tree cover: its pixels as a class of their own, on
    the pixels whose tree cover is known."""
    x, lab, trees = _log_features(scene)
    out = {}
    for target in TARGETS:
        best = _best_llr(x, lab, LABEL_CODES[target])
        if best is not None:
            out[target] = best
    if trees is not None:
        known = trees != 255
        best = _best_llr(x[known], np.where(trees[known] == 1, TREE_CODE, lab[known]), TREE_CODE)
        if best is not None:
            out["forest"] = best
    return out
