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


class _ClassDensities:
    """One Gaussian per labelled class of `lab` (of at least two pixels), fitted once and
    asked for every target's best threshold."""

    def __init__(self, x: np.ndarray, lab: np.ndarray) -> None:
        self.lab = lab
        codes, counts = np.unique(lab, return_counts=True)
        self.sizes = {int(c): int(n) for c, n in zip(codes, counts, strict=True)}
        self.density = {c: _log_density(x, lab == c) for c, n in self.sizes.items() if n >= 2}

    def best_iou(self, code: int) -> float | None:
        """The best IoU of `code` against the other codes; None without both sides."""
        others = [c for c in self.density if c != code]
        if code not in self.density or not others:
            return None
        # The other side is several classes: a mixture weighted by their pixel counts.
        rest = np.logaddexp.reduce(
            [np.log(self.sizes[c]) + self.density[c] for c in others], axis=0
        ) - np.log(sum(self.sizes[c] for c in others))
        return best_threshold(self.density[code] - rest, self.lab == code)[0]


#: The code tree cover takes in the ceiling's labels (any code the labels do not use).
TREE_CODE = 100


def ceiling(scene: Scene) -> dict[str, float]:
    """Per target with labelled positives and negatives: the label-fitted Gaussian's best IoU.
    Forest, where the scene's labels tell tree cover: its pixels as a class of their own, on
    the pixels whose tree cover is known."""
    x, lab, trees = _log_features(scene)
    classes = _ClassDensities(x, lab)
    out = {}
    for target in TARGETS:
        best = classes.best_iou(LABEL_CODES[target])
        if best is not None:
            out[target] = best
    if trees is not None:
        known = trees != 255
        relabelled = np.where(trees[known] == 1, TREE_CODE, lab[known])
        best = _ClassDensities(x[known], relabelled).best_iou(TREE_CODE)
        if best is not None:
            out["forest"] = best
    return out
