"""Fairness audit: group metrics against hand counts, suppression, and a detected disparity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.fairness import (
    AuditSettings,
    age_band,
    audit_attributes,
    audit_models,
    fairness_table,
)


def test_age_bands_boundaries():
    bands = age_band(np.array([10, 17.99, 18, 24.5, 25, 34.9, 35, 49.99, 50, 90, np.nan, 9]))
    assert bands.tolist() == [
        "10-17",
        "10-17",
        "18-24",
        "18-24",
        "25-34",
        "25-34",
        "35-49",
        "35-49",
        "50+",
        "50+",
        "unknown",
        "unknown",
    ]


def test_audit_attributes_fill_unknowns():
    people = pd.DataFrame(
        {"sex": ["M", None], "ethnic_group": ["Asian", None], "age_now": [20.0, np.nan]},
        index=["a", "b"],
    )
    a = audit_attributes(people)
    assert a.loc["b"].tolist() == ["unknown", "unknown", "unknown"]
    assert a.loc["a"].tolist() == ["M", "18-24", "Asian"]


def test_group_metrics_against_hand_counts():
    # group g1: 12 people, 4 positives; flagged: 3 positives and 1 negative
    y = np.array([1, 1, 1, 1] + [0] * 8 + [1, 0] * 6)
    flagged = np.array([1, 1, 1, 0, 1] + [0] * 7 + [0] * 12, dtype=bool)
    p = np.where(flagged, 0.8, 0.2)
    groups = pd.DataFrame({"g": ["g1"] * 12 + ["g2"] * 12})
    # hand counts on small groups: the events rule is relaxed here (tested below)
    settings = AuditSettings(n_boot=200, min_events=1)
    t = fairness_table(y, p, flagged, groups, model="m", settings=settings)
    g1 = t.set_index("group").loc["g1"]
    assert g1["n"] == 12 and g1["positives"] == 4 and not g1["suppressed"]
    assert g1["share_flagged"] == pytest.approx(4 / 12)
    assert g1["tpr"] == pytest.approx(3 / 4) and g1["fpr"] == pytest.approx(1 / 8)
    assert g1["calibration_in_the_large"] == pytest.approx(4 / 12 - (4 * 0.8 + 8 * 0.2) / 12)
    # AUC: 3 positives at 0.8, one at 0.2; negatives one at 0.8, seven at 0.2
    pairs = 3 * 7 + 3 * 1 * 0.5 + 1 * 7 * 0.5 + 0
    assert g1["auc"] == pytest.approx(pairs / 32)
    assert g1["tpr_low"] <= g1["tpr"] <= g1["tpr_high"]
    g2 = t.set_index("group").loc["g2"]
    assert g2["share_flagged"] == 0 and g2["tpr"] == 0
    assert t.iloc[0]["attribute"] == "all" and t.iloc[0]["n"] == 24


def test_groups_under_ten_are_suppressed_and_say_so():
    y = np.array([1, 0] * 10)
    p = np.linspace(0.1, 0.9, 20)
    flagged = p > 0.5
    groups = pd.DataFrame({"ethnic_group": ["A"] * 9 + ["B"] * 10 + ["C"]})
    settings = AuditSettings(n_boot=50, min_events=1)
    t = fairness_table(y, p, flagged, groups, model="m", settings=settings)
    by = t.set_index("group")
    for g in ("A", "C"):
        assert bool(by.loc[g, "suppressed"]) and "fewer than 10" in by.loc[g, "note"]
        values = by.loc[g, ["n", "positives", "share_flagged", "tpr", "fpr", "auc", "auc_low"]]
        assert values.isna().all()
    assert not bool(by.loc["B", "suppressed"]) and by.loc["B", "n"] == 10


def test_groups_with_fewer_than_ten_events_or_non_events_are_suppressed():
    rng = np.random.default_rng(1)
    # A: 25 people, 2 escalations; B: 25 people, 23 escalations; C: 60 people, 20 and 40
    y = np.array([1] * 2 + [0] * 23 + [1] * 23 + [0] * 2 + [1] * 20 + [0] * 40)
    groups = pd.DataFrame({"g": ["A"] * 25 + ["B"] * 25 + ["C"] * 60})
    p = rng.uniform(size=len(y))
    flagged = p > 0.7
    t = fairness_table(y, p, flagged, groups, model="m", settings=AuditSettings(n_boot=50))
    by = t.set_index("group")
    assert bool(by.loc["A", "suppressed"]) and by.loc["A", "note"] == (
        "fewer than 10 escalations: suppressed"
    )
    assert bool(by.loc["B", "suppressed"]) and by.loc["B", "note"] == (
        "fewer than 10 non-escalations: suppressed"
    )
    for g in ("A", "B"):
        assert by.loc[g, ["tpr", "fpr", "auc", "auc_low"]].isna().all()
        assert by.loc[g, "n"] == 25  # 25 people: the size is publishable
    # the restricted audit keeps the counts, which protect_fairness hides from publication
    assert by.loc["A", "positives"] < 10 and by.loc["B", "n"] - by.loc["B", "positives"] < 10
    assert not bool(by.loc["C", "suppressed"]) and by.loc["C", "positives"] == 20
    assert np.isfinite(by.loc["C", "auc"])


def test_audit_detects_a_group_the_model_over_predicts():
    rng = np.random.default_rng(0)
    n = 6000
    group = np.where(rng.uniform(size=n) < 0.3, "B", "A")
    true_p = 1 / (1 + np.exp(-rng.normal(-3, 1, n)))
    y = (rng.uniform(size=n) < true_p).astype(int)
    p = np.where(group == "B", np.minimum(true_p * 2.0, 1.0), true_p)  # biased against B
    ev = pd.DataFrame({"target": y, "m": p}, index=[f"P{i}" for i in range(n)])
    attrs = pd.DataFrame({"ethnic_group": group}, index=ev.index)
    t = audit_models(ev, attrs, ["m"], capacity=300, settings=AuditSettings(n_boot=200))
    by = t.set_index("group")
    assert by.loc["B", "calibration_in_the_large_high"] < 0  # over-predicted, interval excludes 0
    assert (
        by.loc["A", "calibration_in_the_large_low"]
        < 0
        < by.loc["A", "calibration_in_the_large_high"]
    )
    assert by.loc["B", "share_flagged"] > by.loc["A", "share_flagged"]
    assert by.loc["B", "fpr_low"] > by.loc["A", "fpr_high"]
    assert (t["k"] == 300).all()
