"""The label-fitted ceiling of `bench/ceiling.py`: a real density, and at or above the oracle."""

from __future__ import annotations

import numpy as np

from bench.ceiling import _log_density, ceiling
from bench.quality import score_scene
from bench.scenes import benchmark_scenes
from spex.engine.backends.spectral.params import SpectralParams
from tests.scene_sources import needs_benchmark


def test_log_density_is_highest_at_the_fitted_mean() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0.0, 1.0, (200, 3)), [[0.0, 0.0, 0.0], [4.0, 4.0, 4.0]]])
    side = np.zeros(len(x), dtype=bool)
    side[:200] = True
    density = _log_density(x, side)
    assert density[200] > density[201] + 10  # the mean against a point 4 sd off on each axis
    assert np.all(np.isfinite(density))


def test_log_density_of_two_points_stays_finite() -> None:
    """A side of two labelled pixels (a point-labelled scene) still gives a proper density."""
    x = np.array([[0.1, 0.2], [0.1, 0.2], [0.5, 0.9]])
    density = _log_density(x, np.array([True, True, False]))
    assert np.all(np.isfinite(density)) and density[0] > density[2]


@needs_benchmark
def test_ceiling_is_at_least_the_oracle_on_the_shared_scenes() -> None:
    """Fitted with the labels, the Gaussians separate at least as well as one index does
    (within 0.01: the oracle's 400 quantile thresholds and the model's are different cuts)."""
    checked = 0
    for scene in benchmark_scenes()[:4]:
        top = ceiling(scene)
        for row in score_scene(scene, SpectralParams()):
            assert row["ceiling"] == top[row["target"]]  # the column bench/quality prints
            if np.isfinite(row["oracle"]):
                assert row["ceiling"] >= row["oracle"] - 0.01, (scene.name, row["target"])
                assert 0.0 <= row["ceiling"] <= 1.0
                checked += 1
    assert checked >= 4
