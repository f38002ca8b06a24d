"""Guards that speak: small cohorts, few events, separation, one unit, zero-harm charges."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.data.offences import load_offence_codes
from analysis.harm.bayes import HARM_SAMPLER, BayesianLogisticModel
from analysis.harm.logistic import LogisticModel
from analysis.harm.metrics import roc_auc
from analysis.harm.output import write_run
from analysis.harm.pipeline import NO_EVENTS, HarmConfig, run_harm, zero_harm_guard
from analysis.inference import SamplerSettings
from analysis.report.committee import GUARD_TITLES, guards_view
from analysis.report.harm_summary import committee_summary

CODES = load_offence_codes()
REF = pd.Timestamp("2025-01-01")


def small_features(n: int, seed: int) -> pd.DataFrame:
    """Six usable features of ``n`` people (independent, so no collinearity pruning)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "harm_12m": rng.exponential(50, n),
            "age_now": rng.uniform(15, 45, n),
            "harm_trend": rng.normal(0, 1, n),
            "charges_12m": rng.poisson(2, n).astype(float),
            "days_since_last": rng.uniform(1, 700, n),
            "violent_all": rng.poisson(1, n).astype(float),
        },
        index=pd.Index([f"P{i}" for i in range(n)], name="person_id"),
    )


def test_few_events_per_feature_reduce_the_features_and_say_so():
    f = small_features(300, seed=1)
    rng = np.random.default_rng(2)
    y = np.zeros(len(f), dtype=int)
    y[rng.choice(len(f), 25, replace=False)] = 1  # 25 events for 6 features
    model = LogisticModel().fit(f, y)
    assert [g["guard"] for g in model.guards] == ["events_per_feature"]
    guard = model.guards[0]
    assert guard["events"] == 25 and guard["features_before"] == 6
    # 25 // 10 = 2 features, the preferred ones first
    assert model.design.columns == ["harm_12m", "age_now"] == guard["features_kept"]
    assert model.design.dropped["charges_12m"] == "dropped by the events-per-feature guard"
    assert any("25 events for 6 features" in n for n in model.notes)
    table = model.coefficients()
    assert table["ci_low"].notna().all() and not model.penalised  # still maximum likelihood
    # plenty of events: no guard, every feature kept
    y_many = (rng.uniform(size=len(f)) < 0.4).astype(int)
    many = LogisticModel().fit(f, y_many)
    assert many.guards == [] and len(many.design.columns) == 6


def test_separation_is_reported_and_falls_back_to_the_ridge_fit():
    f = small_features(600, seed=3)
    y = (f["harm_12m"] > f["harm_12m"].quantile(0.8)).astype(int).to_numpy()  # separates
    model = LogisticModel().fit(f, y)
    names = [g["guard"] for g in model.guards]
    assert "separation" in names
    assert model.penalised
    assert any("ridge" in n for n in model.notes)
    table = model.coefficients().set_index("term")
    assert table[["se", "ci_low", "ci_high", "p_value"]].isna().all().all()  # no intervals
    assert 0 < table.loc["harm_12m", "coef"] < 10  # finite, shrunk, right sign
    p = model.predict(f)
    assert np.all((p > 0) & (p < 1))
    assert roc_auc(y, p) > 0.95  # still ranks the separated people first
    coefs = table.drop(index="const")["coef"].abs()
    assert coefs.idxmax() == "harm_12m"


def test_one_unit_means_no_unit_effect():
    f = small_features(400, seed=4)[["harm_12m", "age_now"]]
    rng = np.random.default_rng(5)
    lp = -1.5 + 0.02 * f["harm_12m"].to_numpy()
    y = (rng.uniform(size=len(f)) < 1 / (1 + np.exp(-lp))).astype(int)
    settings = SamplerSettings.for_test_mode(HARM_SAMPLER, draws=50, tune=50, chains=2)
    model = BayesianLogisticModel(settings, seed=1)
    model.fit(f, y, np.array(["unknown"] * len(f), dtype=object))
    assert not model.unit_effect
    assert [g["guard"] for g in model.guards] == ["one_unit"]
    assert "without a unit effect" in model.notes[0]
    assert "sigma_unit" not in model.idata.posterior
    assert not any(t.startswith(("sigma_unit", "z_unit")) for t in model.coefficients()["term"])
    p = model.predict(f.iloc[:5], np.array(["north"] * 5, dtype=object))
    assert p.shape == (5,) and np.all((p > 0) & (p < 1))


def synthetic_charges(n_people: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Charges 2020-2024 of people with a lasting propensity to harm; no convictions.

    About a third of the charges are thefts (no weight in the Cambridge CHI table).
    """
    rng = np.random.default_rng(seed)
    harmful = np.array(["8N", "34B", "10D", "5D"])
    minor = np.array(["46", "58B", "92E"])
    rows = []
    start, days = pd.Timestamp("2020-01-01"), (REF - pd.Timestamp("2020-01-01")).days
    for i in range(n_people):
        risk = rng.beta(1, 6)
        age = rng.uniform(14, 45)
        for _ in range(1 + rng.poisson(4)):
            u = rng.uniform()
            code = (
                "39"
                if u < 0.35
                else (rng.choice(harmful) if rng.uniform() < risk else rng.choice(minor))
            )
            day = start + pd.Timedelta(days=int(rng.integers(0, days)))
            rows.append((f"P{i}", day, code, age))
    df = pd.DataFrame(rows, columns=["person_id", "charge_date", "offence_code", "age"])
    df["outcome"] = np.where(np.arange(len(df)) % 3 == 0, "acquitted", "pending")
    df["home_lsoa"] = "E01000001"
    df["family"] = df["offence_code"].map(CODES["family"])
    df["sex"] = "M"
    df["ethnic_group"] = "White"
    df["row"] = np.arange(2, len(df) + 2)
    return df.sort_values("charge_date", kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def small_run():
    charges = synthetic_charges()
    config = HarmConfig(REF, models=("logistic",), n_boot=0, capacity=50, test_mode=True)
    return charges, run_harm(charges, config)


def test_a_large_share_of_zero_harm_charges_is_a_headline_warning(small_run, tmp_path):
    charges, run = small_run
    guard = next(g for g in run.guards if g["guard"] == "zero_harm_share")
    thefts = int((charges["offence_code"] == "39").sum())
    assert guard["families"]["theft"] == thefts
    assert guard["share"] == pytest.approx(thefts / len(charges))
    assert "theft: " + str(thefts) in guard["message"]
    assert run.notes[0] == guard["message"]
    summary = committee_summary(run, None)
    lines = [line for line in summary.splitlines() if line]
    title = next(i for i, line in enumerate(lines) if line.startswith("# "))
    assert guard["message"] in lines[title + 1]  # right under the title
    # the same charges without the thefts: no warning
    kept = charges.loc[charges["offence_code"] != "39"]
    assert zero_harm_guard(kept, run.config.measure, CODES) is None


def test_a_sensitivity_row_without_events_is_not_scored(small_run):
    _, run = small_run
    rows = run.counting.set_index("counting")
    assert rows.loc["convictions", "note"] == NO_EVENTS
    assert pd.isna(rows.loc["convictions", "brier"]) and pd.isna(rows.loc["convictions", "auc"])
    assert rows.loc["charges", "note"] == "" and np.isfinite(rows.loc["charges", "brier"])
    guard = next(g for g in run.guards if g["guard"] == "sensitivity_no_events")
    assert guard["rows"] == ["convictions"]


def test_guards_are_written_to_run_json_and_shown(small_run, tmp_path):
    _, run = small_run
    write_run(run, tmp_path / "harm")
    meta = json.loads((tmp_path / "harm" / "run.json").read_text())
    assert [g["guard"] for g in meta["guards"]] == [g["guard"] for g in run.guards]
    view = guards_view(tmp_path).data
    assert all(f"- **{GUARD_TITLES[g['guard']]}" in view for g in run.guards)
    assert all(g["message"] in view for g in run.guards)
    meta["guards"] = []
    (tmp_path / "harm" / "run.json").write_text(json.dumps(meta))
    assert guards_view(tmp_path).data == "No guard was triggered."
