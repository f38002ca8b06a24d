"""Tests for the grid self-exciting point process (ETAS / Hawkes) baseline."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.forecast.etas import (
    GridETASFit,
    expected_counts,
    fit_grid_etas,
    simulate_grid_etas,
)


def _gamma_mu(rng: np.random.Generator, n_cells: int, mean: float) -> np.ndarray:
    shape = 2.0
    return rng.gamma(shape, mean / shape, size=n_cells)


def _brute_loglik(cell, t, mu, theta, omega, t_start, t_end) -> float:
    """O(n^2) log-likelihood straight from the definition (strict t_i < t_j)."""
    ll = 0.0
    for c, tj in zip(cell, t, strict=True):
        lag = tj - t[(cell == c) & (t < tj)]
        ll += np.log(mu[c] + theta * omega * np.exp(-omega * lag).sum())
    ll -= (t_end - t_start) * mu.sum()
    ll -= theta * np.sum(1.0 - np.exp(-omega * (t_end - t)))
    return float(ll)


def _fit(mu, theta, omega) -> GridETASFit:
    return GridETASFit(
        mu=np.asarray(mu, dtype=float),
        theta=theta,
        omega=omega,
        n_iter=0,
        converged=True,
        loglik=np.nan,
        t_start=0.0,
        t_end=100.0,
    )


# ---------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------


def test_parameter_recovery_with_triggering():
    rng = np.random.default_rng(20150101)
    n_cells, days = 300, 2000.0
    mu = _gamma_mu(rng, n_cells, 0.02)
    cell, t = simulate_grid_etas(mu, 0.3, 0.2, 0.0, days, rng)
    perm = rng.permutation(t.shape[0])  # unsorted input is allowed
    fit = fit_grid_etas(cell[perm], t[perm], n_cells, 0.0, days)
    assert fit.converged
    assert abs(fit.theta - 0.3) < 0.05
    assert abs(fit.omega / 0.2 - 1.0) < 0.25
    assert np.corrcoef(fit.mu, mu)[0, 1] > 0.9
    assert fit.mu.shape == (n_cells,)
    assert np.isfinite(fit.loglik)


def test_no_triggering_gives_small_theta():
    rng = np.random.default_rng(7)
    n_cells, days = 300, 2000.0
    mu = _gamma_mu(rng, n_cells, 0.02)
    cell, t = simulate_grid_etas(mu, 0.0, 0.2, 0.0, days, rng)
    fit = fit_grid_etas(cell, t, n_cells, 0.0, days)
    assert fit.theta < 0.05
    assert np.corrcoef(fit.mu, mu)[0, 1] > 0.9


def test_loglik_matches_brute_force_with_ties():
    rng = np.random.default_rng(3)
    mu = np.array([0.05, 0.2, 0.0, 0.1])
    cell, t = simulate_grid_etas(mu, 0.5, 0.3, 0.0, 150.0, rng)
    t = np.floor(t)  # day-resolution times: many ties, which must not excite each other
    assert np.unique(np.c_[cell, t], axis=0).shape[0] < t.shape[0]
    fit = fit_grid_etas(cell, t, 4, 0.0, 150.0, max_iter=3)
    expected = _brute_loglik(cell, t, fit.mu, fit.theta, fit.omega, 0.0, 150.0)
    assert fit.loglik == pytest.approx(expected, rel=1e-12, abs=1e-9)
    assert fit.mu[2] == pytest.approx(1e-6)  # empty cell sits on the floor


def test_loglik_never_decreases_across_em_iterations():
    rng = np.random.default_rng(11)
    mu = _gamma_mu(rng, 40, 0.03)
    cell, t = simulate_grid_etas(mu, 0.4, 0.1, 0.0, 1000.0, rng)
    trace: list[float] = []
    fit = fit_grid_etas(cell, t, 40, 0.0, 1000.0, theta0=0.05, omega0=1.0, trace=trace)
    assert len(trace) == fit.n_iter + 1
    assert trace[-1] == pytest.approx(fit.loglik)
    steps = np.diff(trace)
    assert steps.min() >= -1e-8
    assert trace[-1] - trace[0] > 1.0  # it actually climbed from the poor start


def test_max_iter_reached_reports_not_converged():
    rng = np.random.default_rng(5)
    mu = _gamma_mu(rng, 20, 0.05)
    cell, t = simulate_grid_etas(mu, 0.3, 0.2, 0.0, 500.0, rng)
    fit = fit_grid_etas(cell, t, 20, 0.0, 500.0, max_iter=2)
    assert fit.n_iter == 2
    assert not fit.converged


@pytest.mark.parametrize(
    ("cell", "t", "message"),
    [
        ([0, 1], [5.0, 100.0], "t_start <= t < t_end"),
        ([0, 1], [-1.0, 5.0], "t_start <= t < t_end"),
        ([0, 3], [1.0, 5.0], "cell indices"),
        ([0], [1.0, 2.0], "differ in length"),
    ],
)
def test_fit_validates_input(cell, t, message):
    with pytest.raises(ValueError, match=message):
        fit_grid_etas(np.array(cell), np.array(t), 3, 0.0, 100.0)


# ---------------------------------------------------------------------------
# Forecast
# ---------------------------------------------------------------------------


def test_expected_counts_without_triggering_is_mu_times_horizon():
    mu = np.array([0.1, 0.0, 0.37, 2.5])
    fit = _fit(mu, 0.0, 0.2)
    cell = np.array([0, 0, 2, 3, 3, 3])
    t = np.array([10.0, 99.0, 50.0, 98.0, 99.5, 120.0])
    out = expected_counts(fit, cell, t, 100.0, 28.0)
    np.testing.assert_array_equal(out, mu * 28.0)


def test_expected_counts_ignores_events_from_t0_on():
    fit = _fit([0.1, 0.2, 0.05], 0.4, 0.3)
    cell = np.array([0, 1, 1, 2])
    t = np.array([90.0, 95.0, 99.9, 80.0])
    base = expected_counts(fit, cell, t, 100.0, 14.0)
    leak_cell = np.r_[cell, 0, 1, 2, 2]
    leak_t = np.r_[t, 100.0, 100.5, 105.0, 200.0]
    np.testing.assert_array_equal(expected_counts(fit, leak_cell, leak_t, 100.0, 14.0), base)
    # ... while an event just before t0 does change the forecast of its cell only
    more = expected_counts(fit, np.r_[cell, 2], np.r_[t, 99.99], 100.0, 14.0)
    assert more[2] > base[2]
    np.testing.assert_array_equal(more[:2], base[:2])


@pytest.mark.parametrize("theta", [1.0, 1.3])
def test_expected_counts_requires_subcritical_theta(theta):
    with pytest.raises(ValueError, match="theta < 1"):
        expected_counts(_fit([0.1], theta, 0.2), np.array([0]), np.array([1.0]), 10.0, 5.0)


def _simulate_window(mu, theta, omega, hist_cell, hist_t, t0, horizon, reps, rng):
    """Counts per (replication, cell) in [t0, t0 + horizon) given the history before t0.

    Conditionally on the history, event i's future children form a Poisson process
    with intensity theta * omega * exp(-omega (t - t_i)) on t >= t0: a Poisson
    (theta * exp(-omega (t0 - t_i))) number of them, at t0 + Exponential(omega) by
    memorylessness. Add the window's background, then cascades of all window events.
    """
    n_cells = mu.shape[0]
    t_end = t0 + horizon
    past = hist_t < t0
    h_cell, h_t = hist_cell[past], hist_t[past]
    rep_of = np.repeat(np.arange(reps), h_t.shape[0])
    n_left = rng.poisson(np.tile(theta * np.exp(-omega * (t0 - h_t)), reps))
    kid_unit = np.repeat(rep_of * n_cells + np.tile(h_cell, reps), n_left)
    kid_t = t0 + rng.exponential(1.0 / omega, size=kid_unit.shape[0])
    n_bg = rng.poisson(np.tile(mu * horizon, reps))
    bg_unit = np.repeat(np.arange(reps * n_cells), n_bg)
    bg_t = t0 + rng.uniform(0.0, horizon, size=bg_unit.shape[0])
    unit, times = np.r_[kid_unit, bg_unit], np.r_[kid_t, bg_t]
    keep = times < t_end
    unit, times = unit[keep], times[keep]
    counts = np.zeros(reps * n_cells)
    while unit.shape[0]:
        counts += np.bincount(unit, minlength=reps * n_cells)
        n_kids = rng.poisson(theta, size=unit.shape[0])
        unit = np.repeat(unit, n_kids)
        times = np.repeat(times, n_kids) + rng.exponential(1.0 / omega, size=unit.shape[0])
        keep = times < t_end
        unit, times = unit[keep], times[keep]
    return counts.reshape(reps, n_cells)


def test_expected_counts_matches_monte_carlo():
    rng = np.random.default_rng(2024)
    theta, omega, t0, horizon = 0.6, 0.15, 200.0, 28.0
    mu = np.array([0.02, 0.05, 0.1, 0.01, 0.2, 0.0, 0.08, 0.03])
    hist_cell, hist_t = simulate_grid_etas(mu, theta, omega, 0.0, t0, rng)
    # a recent burst in two cells, so the history matters
    hist_cell = np.r_[hist_cell, [3, 3, 3, 3, 5, 5]]
    hist_t = np.r_[hist_t, [195.0, 197.5, 199.0, 199.8, 190.0, 198.0]]
    fit = _fit(mu, theta, omega)
    expected = expected_counts(fit, hist_cell, hist_t, t0, horizon)

    reps = 6000
    sims = _simulate_window(mu, theta, omega, hist_cell, hist_t, t0, horizon, reps, rng)
    mean = sims.mean(axis=0)
    se = sims.std(axis=0, ddof=1) / np.sqrt(reps)
    z = (mean - expected) / np.maximum(se, 1e-12)
    assert np.all(np.abs(z) < 4.5), z
    total_z = (sims.sum(axis=1).mean() - expected.sum()) / (sims.sum(axis=1).std() / np.sqrt(reps))
    assert abs(total_z) < 4.0

    # the test can tell cascades from no cascades: dropping in-window offspring is rejected
    lag = t0 - hist_t[hist_t < t0]
    h0 = theta * omega * np.bincount(hist_cell[hist_t < t0], np.exp(-omega * lag), 8)
    no_cascade = mu * horizon + h0 * (1 - np.exp(-omega * horizon)) / omega
    total = sims.sum(axis=1)
    assert abs(total.mean() - no_cascade.sum()) > 10 * total.std() / np.sqrt(reps)


# ---------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------


def test_simulation_is_sorted_and_has_the_stationary_mean():
    rng = np.random.default_rng(99)
    mu = np.full(50, 0.05)
    cell, t = simulate_grid_etas(mu, 0.5, 1.0, 0.0, 1000.0, rng)
    assert np.all(np.diff(t) >= 0)
    assert cell.dtype == np.int64
    assert t.min() >= 0.0
    assert t.max() < 1000.0
    expected = mu.sum() * 1000.0 / (1 - 0.5)  # edge loss ~ theta / omega per event: negligible
    assert abs(t.shape[0] - expected) < 4 * np.sqrt(expected / (1 - 0.5) ** 2)


def test_sparse_data_keeps_a_stationary_fit():
    """Few events per cell and long gaps: EM must not drift to theta >= 1."""
    rng = np.random.default_rng(5)
    n_cells = 250
    mu = np.full(n_cells, 0.004)
    cell, t = simulate_grid_etas(mu, 0.1, 0.2, 0.0, 1000.0, rng)
    fit = fit_grid_etas(cell, t, n_cells, 0.0, 1000.0)
    assert 0.0 <= fit.theta <= 0.95
    assert 1 / 365 <= fit.omega <= 24.0
    counts = expected_counts(fit, cell, t, 1000.0, 28.0)
    assert np.all(np.isfinite(counts)) and counts.sum() > 0
