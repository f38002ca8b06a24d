"""Known-answer tests for the count predictive distributions and the NB size fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.forecast.distributions import CountDistribution, fit_nb_size

# -- construction ----------------------------------------------------------------------------


def test_make_broadcasts_scalar_size_and_freezes():
    d = CountDistribution.make([1.0, 2.0, 0.0], 5.0)
    assert d.size.shape == (3,)
    np.testing.assert_array_equal(d.size, [5.0, 5.0, 5.0])
    assert len(d) == 3
    with pytest.raises(ValueError):
        d.mean[0] = 3.0  # read-only copy
    assert np.isinf(CountDistribution.make(2.0).size).all()


@pytest.mark.parametrize(
    ("mean", "size"),
    [([-1.0], np.inf), ([np.nan], np.inf), ([np.inf], np.inf), ([1.0], 0.0), ([1.0], -2.0)],
)
def test_make_rejects_bad_parameters(mean, size):
    with pytest.raises(ValueError):
        CountDistribution.make(mean, size)


def test_shape_mismatch_rejected():
    with pytest.raises(ValueError):
        CountDistribution(np.array([1.0, 2.0]), np.array([1.0]))


# -- Poisson values by hand ------------------------------------------------------------------


def test_poisson_pmf_cdf_by_hand():
    # Poisson(2): P(0) = e^-2 = 0.135335, P(3) = e^-2 * 8/6 = 0.180447,
    # F(1) = e^-2 (1 + 2) = 0.406006.
    d = CountDistribution.make([2.0])
    e2 = math.exp(-2)
    assert d.pmf(0)[0] == pytest.approx(e2, rel=1e-12)
    assert d.pmf(3)[0] == pytest.approx(e2 * 8 / 6, rel=1e-12)
    assert d.cdf(1)[0] == pytest.approx(3 * e2, rel=1e-12)
    assert d.logpmf(3)[0] == pytest.approx(3 * math.log(2) - 2 - math.log(6), rel=1e-12)
    assert d.prob_at_least(1)[0] == pytest.approx(1 - e2, rel=1e-12)
    assert d.prob_at_least(0)[0] == 1.0
    assert d.cdf(-1)[0] == 0.0
    assert d.pmf(1.5)[0] == 0.0


def test_nb_pmf_by_hand():
    # NB2 mean 3, size 2: p = r / (r + mu) = 0.4.
    # P(0) = p^r = 0.16; P(1) = r p^r (1 - p) = 2 * 0.16 * 0.6 = 0.192.
    # Variance = mu + mu^2 / r = 3 + 4.5 = 7.5.
    d = CountDistribution.make([3.0], 2.0)
    assert d.pmf(0)[0] == pytest.approx(0.16, rel=1e-12)
    assert d.pmf(1)[0] == pytest.approx(0.192, rel=1e-12)
    assert d.cdf(1)[0] == pytest.approx(0.352, rel=1e-12)
    assert d.variance()[0] == pytest.approx(7.5)


def test_zero_mean_is_point_mass_at_zero():
    d = CountDistribution.make([0.0, 0.0], [np.inf, 2.0])
    np.testing.assert_array_equal(d.pmf(0), [1.0, 1.0])
    np.testing.assert_array_equal(d.pmf(1), [0.0, 0.0])
    np.testing.assert_array_equal(d.logpmf(0), [0.0, 0.0])
    np.testing.assert_array_equal(d.logpmf(2), [-np.inf, -np.inf])
    np.testing.assert_array_equal(d.cdf(0), [1.0, 1.0])
    np.testing.assert_array_equal(d.cdf(-1), [0.0, 0.0])
    np.testing.assert_array_equal(d.prob_at_least(1), [0.0, 0.0])
    np.testing.assert_array_equal(d.quantile(0.999), [0, 0])
    np.testing.assert_array_equal(d.variance(), [0.0, 0.0])
    np.testing.assert_array_equal(d.sample(np.random.default_rng(0), 5), np.zeros((5, 2)))


def test_vectorised_mixed_units_and_broadcast_k():
    mean = np.array([1.0, 0.0, 3.0, 2.5])
    size = np.array([np.inf, 2.0, 2.0, 0.7])
    d = CountDistribution.make(mean, size)
    k = np.arange(6)[:, None]
    got = d.cdf(k)
    assert got.shape == (6, 4)
    np.testing.assert_allclose(got[:, 0], stats.poisson.cdf(np.arange(6), 1.0))
    np.testing.assert_allclose(got[:, 2], stats.nbinom.cdf(np.arange(6), 2.0, 0.4))
    np.testing.assert_allclose(got[:, 3], stats.nbinom.cdf(np.arange(6), 0.7, 0.7 / 3.2))
    np.testing.assert_array_equal(got[:, 1], 1.0)
    # k broadcast per unit
    np.testing.assert_allclose(d.pmf([0, 0, 1, 2])[2], 0.192)


def test_quantile_is_smallest_k_with_cdf_at_least_q():
    # Poisson(0.2): F(0) = e^-0.2 = 0.818731, F(1) = 1.2 e^-0.2 = 0.982477.
    d = CountDistribution.make([0.2])
    assert d.quantile(0.05)[0] == 0
    assert d.quantile(0.8187)[0] == 0
    assert d.quantile(0.82)[0] == 1
    assert d.quantile(0.95)[0] == 1
    assert d.quantile(0.99)[0] == 2
    assert d.quantile(0.0)[0] == 0
    with pytest.raises(ValueError):
        d.quantile(1.0)
    # defining inequality on a mixed set, many q
    rng = np.random.default_rng(3)
    d = CountDistribution.make(rng.gamma(1.0, 4.0, 300), rng.choice([np.inf, 0.5, 3.0], 300))
    for q in (0.01, 0.05, 0.3, 0.5, 0.9, 0.999, 1 - 1e-12):
        k = d.quantile(q)
        assert k.dtype == np.int64
        assert np.all(d.cdf(k) >= q)
        assert np.all((k == 0) | (d.cdf(k - 1) < q))


def test_sample_moments():
    # NB mean 3 size 2 has variance 7.5; Poisson(1.5) has variance 1.5.
    d = CountDistribution.make([3.0, 1.5], [2.0, np.inf])
    draws = d.sample(np.random.default_rng(11), 100_000)
    assert draws.shape == (100_000, 2)
    np.testing.assert_allclose(draws.mean(axis=0), [3.0, 1.5], rtol=0.02)
    np.testing.assert_allclose(draws.var(axis=0), [7.5, 1.5], rtol=0.04)


# -- size fit --------------------------------------------------------------------------------


def test_fit_nb_size_recovers_size():
    n = 20_000
    y = CountDistribution.make(np.full(n, 3.0), 2.0).sample(np.random.default_rng(0), 1)[0]
    r = fit_nb_size(y, np.full(n, 3.0))
    assert r == pytest.approx(2.0, rel=0.10)


def test_fit_nb_size_with_varying_means():
    rng = np.random.default_rng(5)
    mu = rng.gamma(2.0, 2.0, 20_000)
    y = CountDistribution.make(mu, 4.0).sample(rng, 1)[0]
    assert fit_nb_size(y, mu) == pytest.approx(4.0, rel=0.15)


def test_fit_nb_size_poisson_data_gives_inf():
    # Seed 4 draws a Poisson sample with no chance overdispersion about the true mean
    # (checked below: sum (y - mu)^2 <= sum y); the NB likelihood then increases all the
    # way to r -> inf. (About half of Poisson samples show slight chance overdispersion
    # and get a large finite r instead, e.g. r ~ 100-2000 at n = 20k, mean 3.)
    n = 20_000
    mu = np.full(n, 3.0)
    y = np.random.default_rng(4).poisson(mu)
    assert np.sum((y - mu) ** 2) <= np.sum(y)
    assert fit_nb_size(y, mu) == np.inf


def test_fit_nb_size_underdispersed_gives_inf():
    # Observations equal to their means exactly: as under-dispersed as it gets.
    mu = np.array([1.0, 2.0, 3.0, 4.0] * 50)
    assert fit_nb_size(mu.copy(), mu) == np.inf


def test_fit_nb_size_validation():
    with pytest.raises(ValueError):
        fit_nb_size([1, 2], [1.0])
    with pytest.raises(ValueError):
        fit_nb_size([1], [0.0])  # positive count with zero mean
    with pytest.raises(ValueError):
        fit_nb_size([-1], [1.0])
    assert fit_nb_size([0, 0], [0.0, 0.0]) == np.inf
