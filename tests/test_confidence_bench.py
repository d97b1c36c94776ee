"""`bench/confidence.py`: whether the engine's confidence tells right from wrong."""

from __future__ import annotations

import numpy as np
import pytest

from bench.confidence import BINS, row_figures, scene_rows, summary
from bench.scenes import benchmark_scenes
from tests.scene_sources import needs_benchmark


def test_row_figures_rank_and_bin_the_pixels() -> None:
    confidence = np.array([0.3, 0.55, 0.97, 0.995, 0.999])
    right = np.array([False, False, True, True, True])
    row = row_figures(confidence, right)
    assert row["precision"] == pytest.approx(0.6) and row["auc"] == 1.0
    assert row["confidence"] == pytest.approx(confidence.mean())
    shares = [b[0] for b in row["bins"]]
    assert len(shares) == len(BINS) and sum(shares) == pytest.approx(1.0)
    assert row["bins"][0] == (0.2, 0.0) and row["bins"][-1] == (0.4, 1.0)  # <= 0.5, > 0.99
    # The wrong pixels the surer: AUC 0; all right: no AUC.
    assert row_figures(confidence, ~right)["auc"] == 0.0
    assert np.isnan(row_figures(confidence, np.ones(5, bool))["auc"])


@needs_benchmark
def test_the_slovenian_scenes_rows_and_summary() -> None:
    scene = next(s for s in benchmark_scenes() if s.name == "eolearn_s2_slovenia")
    rows = scene_rows(scene)
    assert {r["target"] for r in rows} == {"vegetation", "builtup"}
    for row in rows:
        assert 0 <= row["precision"] <= 1 and 0 < row["confidence"] <= 1 and row["pixels"] > 0
    vegetation = next(r for r in rows if r["target"] == "vegetation")
    builtup = next(r for r in rows if r["target"] == "builtup")
    # Its vegetation is right and sure; its built-up (bare winter fields) unsure and mostly wrong.
    assert vegetation["precision"] > 0.9 and vegetation["confidence"] > 0.9
    assert builtup["precision"] < 0.5 and builtup["confidence"] < 0.6
    text = "\n".join(summary(rows))
    assert "| all | 2 |" in text and "| 0.99-1.00 |" in text
