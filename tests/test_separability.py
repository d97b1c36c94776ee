"""The index-separability bench tool: formulas evaluated as data, AUC and worst-case direction."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bench.separability import auc, evaluate_formula, worst_case


def test_formula_is_evaluated_as_arithmetic():
    n, r = np.array([0.5, 0.3]), np.array([0.1, 0.3])
    ndvi = evaluate_formula("(N - R) / (N + R)", {"N": n, "R": r})
    np.testing.assert_allclose(ndvi, [0.4 / 0.6, 0.0])
    evi_like = evaluate_formula("g * (N - R) ** 2 / -(-1.0)", {"N": n, "R": r, "g": 2.5})
    np.testing.assert_allclose(evi_like, [2.5 * 0.16, 0.0])


@pytest.mark.parametrize(
    "formula",
    ["__import__('os').getcwd()", "N.real", "N[0]", "(lambda: 1)()", "N if R else R", "M + 1"],
)
def test_formula_with_anything_but_arithmetic_is_refused(formula):
    with pytest.raises(ValueError, match="unsupported term"):
        evaluate_formula(formula, {"N": np.ones(2), "R": np.ones(2)})


def test_auc_orders_ties_and_nan():
    assert auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert auc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    assert auc(np.ones(3), np.ones(5)) == 0.5  # a constant index separates nothing
    assert auc(np.array([2.0, np.nan]), np.array([1.0])) == 1.0
    assert math.isnan(auc(np.array([np.nan]), np.array([1.0])))


def test_worst_case_takes_the_better_fixed_direction():
    assert worst_case({"a": 0.8, "b": 0.3}) == (0.3, ">")  # inverted on b: barely separates
    assert worst_case({"a": 0.2, "b": 0.1}) == pytest.approx((0.8, "<"))
    assert worst_case({"a": 0.9, "b": 0.7, "c": float("nan")}) == (0.7, ">")


def test_every_catalogue_formula_evaluates(sample_data):
    """spyndex 0.12.0's formulas (the sha256-pinned sample wheel) need nothing but arithmetic."""
    table = json.loads(sample_data["spyndex_indices_json"].read_text(encoding="utf-8"))
    indices = table["SpectralIndices"]
    assert len(indices) > 200
    for name, spec in indices.items():
        names = {band: np.array([0.12, 0.31]) for band in spec["bands"]}
        value = evaluate_formula(spec["formula"], names)
        assert value.shape in {(), (2,)}, name
