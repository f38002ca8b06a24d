"""Models: known coefficients recovered, baselines as defined, convergence checks that fail."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest

from analysis.harm.baselines import PointsScoreModel, PriorHarmModel, points_score
from analysis.harm.bayes import (
    ConvergenceError,
    DiagnosticThresholds,
    check_convergence,
    diagnostics,
)
from analysis.harm.boosting import GradientBoostingModel
from analysis.harm.design import Design, variance_inflation
from analysis.harm.logistic import LogisticModel, main_factors
from analysis.harm.metrics import roc_auc


def simulated(n=6000, seed=0):
    """Features whose transformed, standardised values drive the outcome with known weights."""
    rng = np.random.default_rng(seed)
    f = pd.DataFrame(
        {
            "harm_12m": rng.exponential(50, n),
            "charges_all": rng.poisson(2, n).astype(float),
            "age_now": rng.uniform(15, 45, n),
            "n_theft": np.zeros(n),  # constant: dropped
            "n_arson": (rng.uniform(size=n) < 0.0005).astype(float),  # too rare: dropped
        },
        index=pd.Index([f"P{i}" for i in range(n)], name="person_id"),
    )
    z = Design.fit(f).matrix(f)
    lp = -3.0 + 0.8 * z["harm_12m"] - 0.5 * z["age_now"]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-lp))).astype(int)
    return f, y


def test_design_drops_constant_and_rare_features():
    f, _ = simulated()
    d = Design.fit(f)
    assert d.columns == ["harm_12m", "charges_all", "age_now"]
    assert d.dropped["n_theft"] == "constant in training"
    assert "fewer than 10" in d.dropped["n_arson"]
    z = d.matrix(f)
    assert z.mean().abs().max() < 1e-9 and (z.std(ddof=0) - 1).abs().max() < 1e-9


def test_design_drops_collinear_features_and_keeps_the_preferred_ones():
    rng = np.random.default_rng(5)
    n = 3000
    age_first = rng.uniform(12, 40, n)
    years = rng.uniform(0, 5, n)
    harm_12m = rng.exponential(30, n)
    f = pd.DataFrame(
        {
            "harm_12m": harm_12m,
            "harm_all": harm_12m * 2,  # log1p(2x) is nearly log1p(x) + const
            "charges_12m": rng.poisson(1, n).astype(float),
            "days_since_first": years * 365.25,
            "age_first": age_first,
            "age_now": age_first + years,  # exactly collinear with the two above
        }
    )
    d = Design.fit(f)
    assert {"harm_12m", "age_now", "charges_12m"} <= set(d.columns)
    assert {"harm_all", "days_since_first", "age_first"} & set(d.dropped) == {
        "harm_all",
        "days_since_first",
        "age_first",
    }
    assert all("collinear" in d.dropped[c] for c in ("harm_all", "days_since_first", "age_first"))
    assert variance_inflation(d.matrix(f)).max() <= 10


def test_logistic_recovers_known_coefficients_with_intervals():
    f, y = simulated()
    model = LogisticModel().fit(f, y)
    table = model.coefficients().set_index("term")
    for term, truth in (("harm_12m", 0.8), ("age_now", -0.5), ("charges_all", 0.0)):
        assert table.loc[term, "ci_low"] < truth < table.loc[term, "ci_high"]
    assert table.loc["harm_12m", "odds_ratio"] == pytest.approx(np.exp(0.8), rel=0.25)
    p = model.predict(f)
    assert p.shape == (len(f),) and roc_auc(y, p) > 0.7
    factors = main_factors(model.contributions(f), f, top=2)
    top = factors.loc[f["harm_12m"].idxmax(), "factor_1"]
    assert top.startswith("harm in the last 12 months =")


def test_baselines():
    f = pd.DataFrame(
        {
            "charges_12m": [5.0, 0.0],
            "violent_12m": [1.0, 0.0],
            "violent_all": [2.0, 0.0],
            "n_weapons": [1.0, 0.0],
            "harm_trend": [0.5, -1.0],
            "age_now": [19.0, 40.0],
        }
    )
    assert points_score(f).tolist() == [3 + 2 + 1 + 2 + 1 + 1, 0]
    g, y = simulated()
    prior = PriorHarmModel().fit(g, y).predict(g)
    assert roc_auc(y, prior) > 0.6
    pts = PointsScoreModel().fit(g, y).predict(g)
    assert np.all((pts > 0) & (pts < 1))
    assert abs(pts.mean() - y.mean()) < 0.01  # the logistic link reproduces the base rate


def test_gradient_boosting_beats_chance():
    f, y = simulated(seed=1)
    p = GradientBoostingModel(seed=0).fit(f, y).predict(f)
    assert roc_auc(y, p) > 0.7


def _idata(diverging=0, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    post = {"intercept": rng.normal(size=(2, 1000)), "beta": rng.normal(size=(2, 1000, 3))}
    post["intercept"][1] += shift
    div = np.zeros((2, 1000), dtype=bool)
    div.flat[:diverging] = True
    return az.from_dict(posterior=post, sample_stats={"diverging": div})


def test_convergence_checks_pass_good_chains_and_raise_on_bad_ones():
    strict = DiagnosticThresholds(max_rhat=1.01, min_ess_bulk=300)
    good, _ = diagnostics(_idata(), ["intercept", "beta"])
    assert good["divergences"] == 0 and good["chains"] == 2 and good["draws"] == 1000
    assert check_convergence(good, strict) == []
    bad, _ = diagnostics(_idata(diverging=3), ["intercept", "beta"])
    with pytest.raises(ConvergenceError, match="3 divergences"):
        check_convergence(bad, strict)
    split, _ = diagnostics(_idata(shift=3.0), ["intercept", "beta"])
    with pytest.raises(ConvergenceError, match="r-hat"):
        check_convergence(split, strict)
    with pytest.raises(ConvergenceError, match="bulk ESS"):
        check_convergence(good, DiagnosticThresholds(min_ess_bulk=10_000))
    relaxed = DiagnosticThresholds(min_ess_bulk=10_000, enforce=False)
    assert check_convergence(good, relaxed)  # reported, not raised
