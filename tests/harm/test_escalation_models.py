"""Models: known coefficients recovered, baselines as defined, convergence checks that fail."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest

from analysis.harm import bayes
from analysis.harm.baselines import PointsScoreModel, PriorHarmModel, points_score
from analysis.harm.bayes import HARM_SAMPLER, PARAMETERS, BayesianLogisticModel
from analysis.harm.boosting import GradientBoostingModel
from analysis.harm.design import Design, variance_inflation
from analysis.harm.logistic import LogisticModel, main_factors
from analysis.harm.metrics import roc_auc
from analysis.inference import ConvergenceError, SamplerSettings, diagnose, require_convergence


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
    energy = rng.normal(size=(2, 1000))
    return az.from_dict(posterior=post, sample_stats={"diverging": div, "energy": energy})


def test_convergence_checks_pass_good_chains_and_raise_on_bad_ones():
    strict = SamplerSettings(max_rhat=1.01, min_ess=300)
    names = ["intercept", "beta"]
    good = diagnose(_idata(), strict, parameters=names)
    assert good.divergences == 0 and good.chains == 2 and good.draws == 1000
    assert require_convergence(good, strict) == []
    bad = diagnose(_idata(diverging=3), strict, parameters=names)
    with pytest.raises(ConvergenceError, match="3 divergent transitions") as err:
        require_convergence(bad, strict)
    assert err.value.diagnostics is bad
    split = diagnose(_idata(shift=3.0), strict, parameters=names)
    with pytest.raises(ConvergenceError, match="r-hat"):
        require_convergence(split, strict)
    floor = SamplerSettings(min_ess=10_000)
    with pytest.raises(ConvergenceError, match="bulk ESS"):
        require_convergence(diagnose(_idata(), floor, parameters=names), floor)
    relaxed = SamplerSettings.for_test_mode(floor)
    assert relaxed.min_ess == 10_000 and not relaxed.check and relaxed.draws == 200
    assert require_convergence(diagnose(_idata(), relaxed, parameters=names), relaxed)


def _sticky_tail(rng, chains=2, draws=1000):
    """Draws whose bulk mixes well but whose upper 5% come in runs: low tail ESS only."""
    x = rng.normal(size=(chains, draws))
    for c in range(chains):
        v = x[c]
        hi = np.flatnonzero(v > np.quantile(v, 0.95))
        rest = np.flatnonzero(v <= np.quantile(v, 0.95))
        parts = []
        for k in range(5):
            stop = None if k == 4 else 190 * (k + 1)
            parts += [rest[190 * k : stop], hi[10 * k : None if k == 4 else 10 * (k + 1)]]
        x[c] = v[np.concatenate(parts)]
    return x


def fake_sampler(*, sticky_tail=False, energy_walk=False):
    """Stands in for the inference layer's ``sample``: well-mixed draws but for one flaw."""

    def fake(model, settings, *, seed, **kwargs):
        rng = np.random.default_rng(0)
        shape = (2, 1000)
        n_feature, n_unit = len(model.coords["feature"]), len(model.coords["unit"])
        post = {
            "intercept": _sticky_tail(rng) if sticky_tail else rng.normal(size=shape),
            "theta": rng.normal(size=(*shape, n_feature)),
            "beta": rng.normal(size=(*shape, n_feature)),
            "sigma_unit": np.abs(rng.normal(size=shape)),
            "z_unit": rng.normal(size=(*shape, n_unit)),
            "unit_effect": rng.normal(size=(*shape, n_unit)),
        }
        walk = np.cumsum(rng.normal(size=shape), axis=1)
        stats = {
            "diverging": np.zeros(shape, dtype=bool),
            "energy": walk if energy_walk else rng.normal(size=shape),
        }
        dims = {"theta": ["feature"], "beta": ["feature"], "z_unit": ["unit"]}
        dims["unit_effect"] = ["unit"]
        idata = az.from_dict(
            posterior=post, sample_stats=stats, coords=dict(model.coords), dims=dims
        )
        return idata, None, {"compile": 0.0, "sample": 0.0}

    return fake


@pytest.mark.parametrize(
    ("flaw", "message"),
    [("sticky_tail", "intercept: tail ESS"), ("energy_walk", "E-BFMI")],
)
def test_the_harm_fit_raises_the_one_convergence_error(monkeypatch, flaw, message):
    f, y = simulated(n=2000)
    units = np.array(["north", "south", None], dtype=object)[np.arange(len(y)) % 3]
    monkeypatch.setattr(bayes, "sample", fake_sampler(**{flaw: True}))
    model = BayesianLogisticModel(HARM_SAMPLER, seed=3)
    with pytest.raises(ConvergenceError, match=message) as err:
        model.fit(f, y, units)
    diag = err.value.diagnostics
    assert len(diag.failures) == 1  # that flaw alone: r-hat, bulk ESS, divergences pass
    assert set(diag.table["parameter"]) >= {"intercept", "sigma_unit", "theta[harm_12m]"}
    if flaw == "sticky_tail":
        assert diag.min_ess_tail() < HARM_SAMPLER.min_ess <= diag.min_ess_bulk()
    else:
        assert diag.min_bfmi < HARM_SAMPLER.min_bfmi
    assert model.diagnostics["failures"] == diag.failures
    # in test mode the same failure is reported, not raised
    test = BayesianLogisticModel(SamplerSettings.for_test_mode(HARM_SAMPLER), seed=3)
    test.fit(f, y, units)
    assert test.failures == diag.failures
    assert test.diagnostics["thresholds"]["enforced"] is False
    assert test.predict(f.iloc[:5], units[:5]).shape == (5,)


def test_the_harm_model_checks_its_parameters():
    assert set(PARAMETERS) == {"intercept", "theta", "beta", "sigma_unit", "z_unit"}
    assert HARM_SAMPLER.draws == 1000 and HARM_SAMPLER.target_accept == 0.99
    assert HARM_SAMPLER.check and HARM_SAMPLER.min_bfmi == 0.3
