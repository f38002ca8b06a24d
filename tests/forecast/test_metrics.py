"""Known-answer tests for the forecast scores (hand arithmetic in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from analysis.forecast import metrics as M
from analysis.forecast.distributions import CountDistribution

# -- CRPS ------------------------------------------------------------------------------------


class PointMass:
    """A point mass at integer ``m`` per unit (implements the DiscreteForecast protocol)."""

    def __init__(self, m):
        self.m = np.asarray(m, dtype=float)

    def __len__(self):
        return self.m.size

    def cdf(self, k):
        return (np.asarray(k, dtype=float) >= self.m).astype(float)

    def quantile(self, q):
        return self.m.astype(np.int64)


def test_crps_point_mass_is_absolute_error():
    # F(k) = 1{k >= m} and 1{y <= k} = 1{k >= y}: the summand (1{k>=m} - 1{k>=y})^2 is 1
    # exactly for k in [min(m, y), max(m, y)), i.e. |y - m| terms, so CRPS = |y - m|.
    m = np.array([0, 0, 3, 3, 3, 5])
    y = np.array([0, 4, 3, 0, 7, 2])
    np.testing.assert_allclose(M.crps(PointMass(m), y), np.abs(y - m), atol=0)
    # CountDistribution with mean 0 is the point mass at 0: CRPS = y.
    d = CountDistribution.make(np.zeros(4), [np.inf, 2.0, np.inf, 0.5])
    np.testing.assert_allclose(M.crps(d, [0, 1, 5, 12]), [0, 1, 5, 12], atol=0)


def test_crps_point_mass_far_observation_uses_closed_form_tail():
    # y far above every forecast's grid: terms between K and y are added as 1 each.
    np.testing.assert_allclose(M.crps(PointMass([2]), [10_000]), [9_998.0])
    d = CountDistribution.make([1.0])
    brute = np.sum((stats.poisson.cdf(np.arange(600), 1.0) - (np.arange(600) >= 500)) ** 2)
    assert M.crps(d, [500])[0] == pytest.approx(brute, abs=1e-9)


def test_crps_poisson1_y0_by_hand():
    # y = 0, so the summand is (1 - F(k))^2 with F(k) = e^-1 sum_{j<=k} 1/j!:
    #   k=0: 1 - 0.367879 = 0.632121 -> 0.399576
    #   k=1: 1 - 0.735759 = 0.264241 -> 0.069823
    #   k=2: 1 - 0.919699 = 0.080301 -> 0.006448
    #   k=3: 1 - 0.981012 = 0.018988 -> 0.000361
    #   k=4: 1 - 0.996340 = 0.003660 -> 0.0000134
    #   k=5: 1 - 0.999406 = 0.000594 -> 0.00000035
    #   sum = 0.476222 (0.4762223882 to 10 digits)
    d = CountDistribution.make([1.0])
    got = M.crps(d, [0])[0]
    assert got == pytest.approx(0.476222, abs=1e-6)
    k = np.arange(100)
    brute = np.sum((1 - stats.poisson.cdf(k, 1.0)) ** 2)
    assert got == pytest.approx(brute, abs=1e-9)
    # Closed form (Wei and Held 2014): (y - l)(2F(y) - 1) + 2 l f(y) - l e^{-2l}(I0 + I1)(2l);
    # at l = 1, y = 0: 1 - e^-2 (I0(2) + I1(2)) = 1 - 0.135335 * 3.870222 = 0.476222.
    assert got == pytest.approx(1 - math.exp(-2) * (special.i0(2) + special.i1(2)), abs=1e-9)


def test_crps_poisson_matches_bessel_closed_form():
    lam = np.array([0.05, 0.5, 1.0, 2.0, 7.5, 30.0])
    y = np.array([1, 0, 2, 5, 3, 41])
    d = CountDistribution.make(lam)
    closed = (
        (y - lam) * (2 * stats.poisson.cdf(y, lam) - 1)
        + 2 * lam * stats.poisson.pmf(y, lam)
        - lam * np.exp(-2 * lam) * (special.i0(2 * lam) + special.i1(2 * lam))
    )
    np.testing.assert_allclose(M.crps(d, y), closed, rtol=1e-9, atol=1e-10)


def test_crps_nb_matches_monte_carlo():
    # CRPS = E|X - y| - E|X - X'| / 2, estimated from 200k independent pairs.
    mean, size = 3.0, 2.0
    y = np.array([0, 3, 10])
    d = CountDistribution.make(np.full(3, mean), size)
    rng = np.random.default_rng(2024)
    x = rng.negative_binomial(size, size / (size + mean), size=(2, 200_000))
    mc = np.array([np.mean(np.abs(x[0] - v)) - 0.5 * np.mean(np.abs(x[0] - x[1])) for v in y])
    np.testing.assert_allclose(M.crps(d, y), mc, atol=0.02)
    # and with a brute-force sum over a long grid
    k = np.arange(400)[:, None]
    brute = np.sum((stats.nbinom.cdf(k, size, 0.4) - (y <= k)) ** 2, axis=0)
    np.testing.assert_allclose(M.crps(d, y), brute, atol=1e-9)


def test_crps_mixed_units_blockwise_equals_brute_force(monkeypatch):
    # Force tiny blocks so that units drop out of later blocks.
    monkeypatch.setattr(M, "_CRPS_BLOCK_ELEMENTS", 8)
    mean = np.array([0.0, 0.3, 4.0, 20.0, 2.0])
    size = np.array([np.inf, np.inf, 1.5, 5.0, 0.3])
    y = np.array([2, 0, 7, 15, 0])
    d = CountDistribution.make(mean, size)
    k = np.arange(3000)[:, None]
    brute = np.sum((d.cdf(k) - (y <= k)) ** 2, axis=0)
    np.testing.assert_allclose(M.crps(d, y), brute, atol=1e-9)


def test_crps_validates():
    d = CountDistribution.make([1.0, 2.0])
    with pytest.raises(ValueError):
        M.crps(d, [1])  # wrong length
    with pytest.raises(ValueError):
        M.crps(d, [1, 0.5])  # not a count
    with pytest.raises(ValueError):
        M.crps(CountDistribution.make([1e6]), [0], max_k=1000)


# -- log score, Brier, point errors ----------------------------------------------------------


def test_log_score_poisson2_y3():
    # P(Y = 3) = e^-2 2^3 / 3! -> -log = -(3 log 2 - 2 - log 6) = 1.712318
    d = CountDistribution.make([2.0, 0.0])
    got = M.log_score(d, [3, 0])
    assert got[0] == pytest.approx(-(3 * math.log(2) - 2 - math.log(6)), rel=1e-12)
    assert got[0] == pytest.approx(1.712318, abs=1e-6)
    assert got[1] == 0.0  # point mass at 0, observed 0
    assert M.log_score(d, [3, 1])[1] == np.inf  # honest infinity


def test_brier_any_by_hand():
    # Poisson(1): P(Y >= 1) = 1 - e^-1 = 0.632121; y = 0 -> 0.632121^2 = 0.399576
    # Poisson(2): P(Y >= 1) = 1 - e^-2 = 0.864665; y = 2 -> 0.135335^2 = 0.018316
    # mean = (0.399576 + 0.018316) / 2 = 0.208946
    d = CountDistribution.make([1.0, 2.0])
    expected = ((1 - math.exp(-1)) ** 2 + math.exp(-2) ** 2) / 2
    assert M.brier_any(d, [0, 2]) == pytest.approx(expected, rel=1e-12)
    assert M.brier_any(d, [0, 2]) == pytest.approx(0.208946, abs=1e-6)


def test_mae_rmse_by_hand():
    # errors [1, -2, 0, 3]: MAE = 6/4 = 1.5, RMSE = sqrt(14/4) = 1.870829
    mean = np.array([1.0, 0.0, 2.0, 5.0])
    y = np.array([0, 2, 2, 2])
    assert M.mae(mean, y) == pytest.approx(1.5)
    assert M.rmse(mean, y) == pytest.approx(math.sqrt(3.5))
    with pytest.raises(ValueError):
        M.mae(mean, y[:3])


# -- intervals and PIT -----------------------------------------------------------------------


def test_central_interval_poisson_small_mean():
    # Poisson(0.2) at 90%: lo = Q(0.05) = 0 since F(0) = 0.8187 >= 0.05;
    # hi = Q(0.95) = 1 since F(0) = 0.8187 < 0.95 <= F(1) = 0.9825.
    # A zero-mean unit is a point mass: (0, 0).
    d = CountDistribution.make([0.2, 0.0])
    lo, hi = M.central_interval(d, 0.9)
    np.testing.assert_array_equal(lo, [0, 0])
    np.testing.assert_array_equal(hi, [1, 0])
    # its probability 0.9825 exceeds the nominal 0.9 (conservative)
    assert d.cdf(hi)[0] - d.cdf(lo - 1)[0] == pytest.approx(1.2 * math.exp(-0.2))
    with pytest.raises(ValueError):
        M.central_interval(d, 1.0)


def test_central_interval_nominal_probability_at_least_level():
    rng = np.random.default_rng(8)
    d = CountDistribution.make(rng.gamma(1.0, 3.0, 500), rng.choice([np.inf, 1.0], 500))
    for level in (0.5, 0.8, 0.9):
        lo, hi = M.central_interval(d, level)
        assert np.all(d.cdf(hi) - d.cdf(lo - 1) >= level)


def test_coverage_by_hand():
    # inside: 1 in [0,2] yes, 3 in [0,2] no, 0 in [0,0] yes, 5 in [5,9] yes -> 3/4
    assert M.coverage([1, 3, 0, 5], [0, 0, 0, 5], [2, 2, 0, 9]) == 0.75


def test_randomised_pit_uniform_when_calibrated_and_not_when_biased():
    rng = np.random.default_rng(123)
    n = 20_000
    mean = rng.gamma(1.0, 2.0, n)
    size = rng.choice([np.inf, 1.0, 5.0], n)
    truth = CountDistribution.make(mean, size)
    y = truth.sample(rng, 1)[0]
    pit = M.randomised_pit(truth, y, rng)
    assert pit.shape == (n,)
    assert np.all((pit >= 0) & (pit <= 1))
    assert stats.kstest(pit, "uniform").pvalue > 0.01
    assert M.pit_uniformity(pit) > 0.01
    doubled = CountDistribution.make(2 * mean, size)
    pit_bad = M.randomised_pit(doubled, y, rng)
    assert stats.kstest(pit_bad, "uniform").pvalue < 1e-6
    assert M.pit_uniformity(pit_bad) < 1e-6
    assert np.mean(pit_bad) < 0.45  # forecasts too high -> PIT piles up low


def test_randomised_pit_point_mass_by_hand():
    # mean 0, y = 0: F(-1) = 0, F(0) = 1 -> u = V, exactly the uniform draw.
    d = CountDistribution.make([0.0])
    u = M.randomised_pit(d, [0], np.random.default_rng(0))
    assert u[0] == pytest.approx(np.random.default_rng(0).uniform())


def test_pit_histogram_and_uniformity_by_hand():
    # 10 values, one per tenth -> frequencies all 0.1, chi-square 0 -> p = 1
    pit = (np.arange(10) + 0.5) / 10
    np.testing.assert_allclose(M.pit_histogram(pit), np.full(10, 0.1))
    assert M.pit_uniformity(pit) == pytest.approx(1.0)
    # all in the first of 2 bins: counts [4, 0], expected [2, 2], chi2 = 4 -> p = 0.0455
    pit = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(M.pit_histogram(pit, bins=2), [1.0, 0.0])
    assert M.pit_uniformity(pit, bins=2) == pytest.approx(stats.chi2.sf(4.0, 1))
    with pytest.raises(ValueError):
        M.pit_histogram([1.2])


# -- area capture ----------------------------------------------------------------------------


def test_area_capture_a_equal_cells():
    # 4 unit cells, scores [4,3,2,1], observed [1,0,3,0], budget 0.5 -> cells 0,1:
    # n = 1, N = 4, hit rate 0.25, PAI = 0.25 / 0.5 = 0.5; best 2 cells are 2 and 0:
    # n* = 3 + 1 = 4 -> PEI* = 1/4.
    out = M.area_capture([4, 3, 2, 1], [1, 0, 3, 0], np.ones(4), 0.5)
    assert out["n_captured"] == pytest.approx(1.0)
    assert out["n_total"] == 4.0
    assert out["hit_rate"] == pytest.approx(0.25)
    assert out["pai"] == pytest.approx(0.5)
    assert out["n_star"] == pytest.approx(4.0)
    assert out["pei_star"] == pytest.approx(0.25)
    assert out["area_share"] == 0.5


def test_area_capture_b_fractional_cell():
    # budget 0.375 of 4 unit cells = area 1.5: cell 0 plus half of cell 1.
    # observed [1,2,3,0]: n = 1 + 0.5 * 2 = 2, N = 6, hit rate 1/3, PAI = (1/3)/0.375 = 8/9;
    # n* = cell 2 (3) + half of cell 1 (1) = 4 -> PEI* = 0.5.
    out = M.area_capture([4, 3, 2, 1], [1, 2, 3, 0], np.ones(4), 0.375)
    assert out["n_captured"] == pytest.approx(2.0)
    assert out["hit_rate"] == pytest.approx(1 / 3)
    assert out["pai"] == pytest.approx(8 / 9)
    assert out["n_star"] == pytest.approx(4.0)
    assert out["pei_star"] == pytest.approx(0.5)


def test_area_capture_c_unequal_areas():
    # areas [1, 3], observed [2, 3], forecast density scores [1, 2] (unit 1 ranked first).
    # A = 4, budget 0.5 -> a = 2: 2/3 of unit 1 -> n = 2/3 * 3 = 2; N = 5,
    # hit rate 0.4, PAI = 0.4 / 0.5 = 0.8.
    # Observed densities: unit 0 = 2/1 = 2, unit 1 = 3/3 = 1 -> n* = 2 + (1/3) * 3 = 3,
    # PEI* = 2/3.
    out = M.area_capture([1.0, 2.0], [2, 3], [1.0, 3.0], 0.5)
    assert out["n_captured"] == pytest.approx(2.0)
    assert out["hit_rate"] == pytest.approx(0.4)
    assert out["pai"] == pytest.approx(0.8)
    assert out["n_star"] == pytest.approx(3.0)
    assert out["pei_star"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("perm", [[0, 1, 2, 3], [1, 0, 2, 3], [3, 2, 1, 0], [2, 1, 3, 0]])
def test_area_capture_d_ties_are_order_free(perm):
    # scores [1,1,0,0], observed [2,0,1,1], budget 0.25 -> a = 1 of A = 4. The tied block
    # {0, 1} has area 2, half of it fits: n = 0.5 * (2 + 0) = 1.0 in any unit order.
    # N = 4: hit rate 0.25, PAI 1; n* = unit 0 alone = 2 -> PEI* 0.5.
    p = np.array(perm)
    score = np.array([1.0, 1.0, 0.0, 0.0])[p]
    observed = np.array([2, 0, 1, 1])[p]
    out = M.area_capture(score, observed, np.ones(4), 0.25)
    assert out["n_captured"] == pytest.approx(1.0)
    assert out["hit_rate"] == pytest.approx(0.25)
    assert out["pai"] == pytest.approx(1.0)
    assert out["n_star"] == pytest.approx(2.0)
    assert out["pei_star"] == pytest.approx(0.5)


def test_area_capture_e_no_events_is_nan():
    out = M.area_capture([3, 2, 1], [0, 0, 0], [1.0, 1.0, 2.0], 0.5)
    assert out["n_captured"] == 0.0
    assert out["n_total"] == 0.0
    assert out["n_star"] == 0.0
    assert math.isnan(out["hit_rate"])
    assert math.isnan(out["pai"])
    assert math.isnan(out["pei_star"])


def test_area_capture_full_budget_and_validation():
    out = M.area_capture([0.3, 0.1, 0.2], [1, 4, 2], [0.7, 1.1, 2.3], 1.0)
    assert out["hit_rate"] == 1.0
    assert out["pai"] == 1.0
    assert out["pei_star"] == 1.0
    with pytest.raises(ValueError):
        M.area_capture([1, 2], [1, 2], [1.0, 0.0], 0.5)  # zero area
    with pytest.raises(ValueError):
        M.area_capture([1, 2], [1, 2], [1.0], 0.5)  # lengths
    with pytest.raises(ValueError):
        M.area_capture([1, 2], [1, 2], [1.0, 1.0], 0.0)
    with pytest.raises(ValueError):
        M.area_capture([1, 2], [1, 2], [1.0, 1.0], 1.5)
    with pytest.raises(ValueError):
        M.area_capture([np.nan, 2], [1, 2], [1.0, 1.0], 0.5)


def _random_units(seed):
    rng = np.random.default_rng(seed)
    n = 200
    area = rng.uniform(0.2, 3.0, n)
    score = rng.integers(0, 12, n).astype(float)  # many ties
    observed = rng.poisson(0.5 + score / 4)
    return score, observed, area


def test_hit_rate_curve_agrees_with_area_capture():
    score, observed, area = _random_units(7)
    shares = np.array([0.01, 0.05, 0.1, 0.25, 0.375, 0.5, 0.9, 1.0])
    curve = M.hit_rate_curve(score, observed, area, shares)
    assert list(curve.columns) == ["share", "hit_rate", "pai"]
    for share, hit, pai in curve.itertuples(index=False):
        cap = M.area_capture(score, observed, area, share)
        assert hit == pytest.approx(cap["hit_rate"], rel=1e-12, abs=1e-15)
        assert pai == pytest.approx(cap["pai"], rel=1e-12, abs=1e-15)


def test_hit_rate_curve_default_grid_monotone_reaches_one():
    score, observed, area = _random_units(9)
    curve = M.hit_rate_curve(score, observed, area)
    assert len(curve) == 100
    np.testing.assert_allclose(curve["share"], np.linspace(0.01, 1, 100))
    assert np.all(np.diff(curve["hit_rate"]) >= -1e-15)
    assert curve["hit_rate"].iloc[-1] == pytest.approx(1.0, abs=1e-12)
    assert curve["pai"].iloc[-1] == pytest.approx(1.0, abs=1e-12)
    # a forecast better than random concentrates events: PAI > 1 at small budgets
    assert curve["pai"].iloc[4] > 1


def test_hit_rate_curve_no_events_nan():
    curve = M.hit_rate_curve([1, 2], [0, 0], [1.0, 1.0], [0.5, 1.0])
    assert curve["hit_rate"].isna().all()


# -- across origins --------------------------------------------------------------------------


def _per_origin():
    # model a: crps [1, 2, 4] at origins 1..3; model b: [0.5, 2.5, 3, 9] at origins 1..4
    # plus a NaN log_score at origin 4 for b.
    return pd.DataFrame(
        {
            "model": ["a", "a", "a", "b", "b", "b", "b"],
            "origin": [1, 2, 3, 1, 2, 3, 4],
            "crps": [1.0, 2.0, 4.0, 0.5, 2.5, 3.0, 9.0],
            "log_score": [1.0, 1.0, 1.0, 2.0, np.nan, np.nan, np.nan],
        }
    )


def test_summarise_origins_by_hand():
    # a, crps: mean 7/3; deviations -4/3, -1/3, 5/3 -> squares 16/9, 1/9, 25/9, sum 42/9,
    #   var (ddof 1) = 42/18 = 7/3, se = sqrt(7/3) / sqrt(3) = sqrt(7) / 3 = 0.881917.
    # b, crps: mean 15/4 = 3.75. b, log_score: one non-NaN value -> mean 2, se NaN, n 1.
    out = M.summarise_origins(_per_origin())
    assert list(out.columns) == ["model", "metric", "mean", "se", "n_origins"]
    assert list(zip(out["model"], out["metric"], strict=True)) == [
        ("a", "crps"),
        ("a", "log_score"),
        ("b", "crps"),
        ("b", "log_score"),
    ]
    row = out.set_index(["model", "metric"])
    assert row.loc[("a", "crps"), "mean"] == pytest.approx(7 / 3)
    assert row.loc[("a", "crps"), "se"] == pytest.approx(math.sqrt(7) / 3)
    assert row.loc[("a", "crps"), "n_origins"] == 3
    assert row.loc[("a", "log_score"), "se"] == pytest.approx(0.0)
    assert row.loc[("b", "crps"), "mean"] == pytest.approx(3.75)
    assert row.loc[("b", "log_score"), "mean"] == pytest.approx(2.0)
    assert math.isnan(row.loc[("b", "log_score"), "se"])
    assert row.loc[("b", "log_score"), "n_origins"] == 1


def test_summarise_origins_explicit_metrics_and_pivot_shape():
    # the backtest passes a pivot_table output whose columns index is named "metric"
    wide = (
        _per_origin()
        .melt(id_vars=["model", "origin"], var_name="metric")
        .pivot_table(index=["model", "origin"], columns="metric", values="value")
        .reset_index()
    )
    out = M.summarise_origins(wide, by=("model",))
    assert set(out["metric"]) == {"crps", "log_score"}
    out = M.summarise_origins(_per_origin(), by="model", metric_cols=["crps"])
    assert list(out["metric"]) == ["crps", "crps"]
    with pytest.raises(ValueError):
        M.summarise_origins(_per_origin(), metric_cols=["nope"])


def test_paired_difference_by_hand():
    # common origins 1..3: a - b = [0.5, -0.5, 1.0], mean 1/3; deviations 1/6, -5/6, 2/3
    # -> squares 1/36, 25/36, 16/36, sum 42/36, var 7/12, se = sqrt(7/12 / 3) = sqrt(7)/6.
    out = M.paired_difference(_per_origin(), "a", "b", "crps")
    assert out["n"] == 3
    assert out["mean_diff"] == pytest.approx(1 / 3)
    assert out["se"] == pytest.approx(math.sqrt(7) / 6)
    # log_score: b has a value only at origin 1 -> one pair, diff -1, se NaN
    out = M.paired_difference(_per_origin(), "a", "b", "log_score")
    assert out["n"] == 1
    assert out["mean_diff"] == pytest.approx(-1.0)
    assert math.isnan(out["se"])
