"""Gaussian class densities in log-band space: the scene model's fit and its EM steps.

Every density is a mean, the whitening matrix of a covariance shrunk towards its scaled
identity, and a log-determinant; `loglik` evaluates them elementwise in a fixed order, so a
pixel's value never depends on the other pixels of the array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: How far every covariance moves towards its scaled identity (a class of few, alike seeds
#: still gets a usable spread).
SHRINKAGE = 0.1


def loglik(
    x: np.ndarray, means: np.ndarray, whiten: np.ndarray, log_consts: np.ndarray
) -> np.ndarray:
    """(K, ...) class log-densities of features x (d, ...), elementwise in a fixed order."""
    k_count, d = means.shape
    out = np.empty((k_count,) + x.shape[1:], dtype=np.float64)
    centred = np.empty_like(x)
    for k in range(k_count):
        for j in range(d):
            centred[j] = x[j] - means[k, j]
        q = np.zeros(x.shape[1:], dtype=np.float64)
        for i in range(d):
            y = whiten[k, i, 0] * centred[0]
            for j in range(1, i + 1):
                y = y + whiten[k, i, j] * centred[j]
            q = q + y * y
        out[k] = log_consts[k] - 0.5 * q
    return out


def covariance(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and covariance of x (n, d)."""
    sw = w.sum()
    mu = (w[:, None] * x).sum(0) / sw
    c = x - mu
    return mu, (w[:, None] * c).T @ c / sw


def pooled_shape(covariances: Sequence[tuple[np.ndarray, int]]) -> np.ndarray | None:
    """Count-weighted mean of (covariance, pixel count) pairs (None without pixels)."""
    total = sum(n for _, n in covariances)
    if not total:
        return None
    return sum(cov * (n / total) for cov, n in covariances)


def gaussian(
    x: np.ndarray, w: np.ndarray, shape: np.ndarray | None = None, pooling: float = 0.0
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted mean, shrunk covariance's whitening matrix and log-determinant of x (n, d)."""
    return shrunk_gaussian(*covariance(x, w), shape, pooling)


def shrunk_gaussian(
    mu: np.ndarray, cov: np.ndarray, shape: np.ndarray | None = None, pooling: float = 0.0
) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean, whitening matrix and log-determinant of a covariance shrunk towards its scaled
    identity.

    With a `shape`, the covariance first moves by `pooling` towards it, rescaled to the
    class's own total variance: the class borrows the shape and keeps its size.
    """
    d = len(mu)
    if shape is not None and pooling and np.trace(shape) > 0:  # constant seeds: no shape
        cov = (1 - pooling) * cov + pooling * shape * (np.trace(cov) / np.trace(shape))
    cov = (1 - SHRINKAGE) * cov + SHRINKAGE * (np.trace(cov) / d) * np.eye(d) + 1e-6 * np.eye(d)
    chol = np.linalg.cholesky(cov)
    return mu, np.linalg.inv(chol), 2 * float(np.log(np.diag(chol)).sum())
