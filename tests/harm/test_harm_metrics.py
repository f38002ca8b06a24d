"""Evaluation metrics against known answers and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from analysis.harm.metrics import (
    bootstrap_ci,
    brier,
    calibration_slope_intercept,
    decision_curve,
    evaluate,
    net_benefit,
    pr_auc,
    precision_recall_at_k,
    reliability_table,
    roc_auc,
    top_k,
)


def simulated(n=20000, seed=0, prevalence_shift=0.0):
    rng = np.random.default_rng(seed)
    lp = rng.normal(-3, 1.2, n)
    p = 1 / (1 + np.exp(-lp))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(lp + prevalence_shift)))).astype(int)
    return y, p, lp


def test_auc_and_average_precision_match_sklearn_with_ties():
    rng = np.random.default_rng(3)
    y = (rng.uniform(size=2000) < 0.1).astype(int)
    p = np.round(rng.uniform(size=2000) * 0.5 + 0.3 * y, 2)
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert pr_auc(y, p) == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert roc_auc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]) == 1.0
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert np.isnan(roc_auc([0, 0], [0.1, 0.2]))


def test_brier_known_answer():
    assert brier([0, 1, 1], [0.0, 0.5, 1.0]) == pytest.approx(0.25 / 3)


def test_calibration_slope_and_intercept_recover_known_miscalibration():
    y, p, lp = simulated()
    slope, intercept = calibration_slope_intercept(y, p)
    assert slope == pytest.approx(1.0, abs=0.08) and intercept == pytest.approx(0.0, abs=0.06)
    # predictions twice too extreme on the log-odds scale: slope 1/2
    too_extreme = 1 / (1 + np.exp(-(2 * lp + 3)))
    assert calibration_slope_intercept(y, too_extreme)[0] == pytest.approx(0.5, abs=0.05)
    # outcomes shifted by +0.5 on the log-odds scale: the intercept finds it
    y2, p2, _ = simulated(prevalence_shift=0.5, seed=1)
    assert calibration_slope_intercept(y2, p2)[1] == pytest.approx(0.5, abs=0.08)


def test_top_k_precision_and_recall():
    y = np.array([1, 0, 1, 0, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    assert top_k(p, 3).tolist() == [True, True, True, False, False, False]
    prec, rec = precision_recall_at_k(y, p, 3)
    assert prec == pytest.approx(2 / 3) and rec == pytest.approx(2 / 3)
    assert precision_recall_at_k(y, p, 100) == pytest.approx((0.5, 1.0))


def test_net_benefit_known_answer_and_references():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.6, 0.4, 0.1])
    # at t = 0.5: act on the first two: TP 1, FP 1 -> 1/4 - 1/4 * 1 = 0
    # at t = 0.2: act on three: TP 2, FP 1 -> 2/4 - 1/4 * 0.25 = 0.4375
    assert net_benefit(y, p, np.array([0.5, 0.2])).tolist() == pytest.approx([0.0, 0.4375])
    dc = decision_curve(y, p, np.array([0.2]))
    assert dc["treat_all"].iloc[0] == pytest.approx(0.5 - 0.5 * 0.25)
    assert dc["treat_none"].iloc[0] == 0


def test_reliability_table_and_bootstrap():
    y, p, _ = simulated(seed=2)
    rel = reliability_table(y, p, bins=10)
    assert rel["n"].sum() == len(y) and len(rel) == 10
    assert np.all(np.diff(rel["mean_predicted"]) > 0)
    inside = (rel["observed_low"] <= rel["mean_predicted"]) & (
        rel["mean_predicted"] <= rel["observed_high"]
    )
    assert inside.mean() >= 0.7  # calibrated by construction
    lo, hi = bootstrap_ci(roc_auc, y, p, n_boot=200, seed=0)
    assert lo < roc_auc(y, p) < hi and hi - lo < 0.05


def test_evaluate_has_the_metrics_json_keys():
    y, p, _ = simulated(n=3000)
    m = evaluate(y, p, k=50, n_boot=20)
    for key in ("auc", "auc_ci", "pr_auc", "brier", "calibration_slope", "calibration_intercept"):
        assert key in m
    assert m["k"] == 50 and len(m["auc_ci"]) == 2 and m["n"] == 3000


def test_reliability_bins_never_hold_fewer_than_ten_events():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.05, 15_000)
    y = (rng.random(15_000) < p).astype(int)
    rel = reliability_table(y, p, bins=10)
    events = np.round(rel["n"] * rel["observed"])
    assert (events >= 10).all() and (rel["n"] - events >= 10).all()
    assert len(rel) < 10 and rel["n"].sum() == 15_000  # the lowest bins were merged
    assert list(rel["bin"]) == list(range(1, len(rel) + 1))
