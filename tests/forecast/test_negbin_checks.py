"""Posterior predictive checks under the negative binomial: the sums' replicates and the
second moments the model keeps for them."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from libpysal.weights import lat2W

from analysis.forecast.bayesian.checks import (
    CELL_STATISTICS,
    PERIOD_STATISTICS,
    posterior_predictive_checks,
    replicate_counts,
    sum_size,
)
from analysis.forecast.bayesian.graph import build_model
from analysis.forecast.bayesian.spec import ModelSpec
from analysis.forecast.bayesian.structure import spatial_structure

ZERO = "cells: share with no offence in the window"


def grid_adjacency(rows: int, cols: int):
    """Rook adjacency of a rows x cols grid (sparse)."""
    return lat2W(rows, cols, rook=True).sparse.tocsr()


def _fit_of(mu: np.ndarray, size: float, draws: int = 400) -> az.InferenceData:
    """A stand-in posterior that knows the means ``mu`` (units x periods) exactly."""
    rep = (2, draws // 2)
    post = {
        "mu_unit": np.broadcast_to(mu.sum(axis=1), (*rep, mu.shape[0])),
        "mu_period": np.broadcast_to(mu.sum(axis=0), (*rep, mu.shape[1])),
        "mu2_unit": np.broadcast_to((mu**2).sum(axis=1), (*rep, mu.shape[0])),
        "mu2_period": np.broadcast_to((mu**2).sum(axis=0), (*rep, mu.shape[1])),
        "size": np.full(rep, size),
    }
    return az.from_dict(posterior={k: np.array(v) for k, v in post.items()})


def _means(rng: np.random.Generator, n: int, w: int) -> np.ndarray:
    """Means that vary over cells (a spatial field), periods (season) and blocks."""
    cell = np.exp(rng.normal(-1.0, 1.0, n))
    period = np.exp(0.3 * np.sin(2 * np.pi * np.arange(w) / 13))
    level = np.exp(rng.normal(0, 0.3, (n, 3)))[:, np.repeat(np.arange(3), -(-w // 3))[:w]]
    return cell[:, None] * period[None, :] * level


def test_sum_size_is_exact_for_equal_means_and_poisson_without_dispersion():
    # n counts of mean m and size r sum to a negative binomial of size n r
    assert sum_size(np.array(5 * 0.4), np.array(5 * 0.4**2), np.array(0.8)) == pytest.approx(4.0)
    assert np.isinf(sum_size(np.array(2.0), np.array(0.0), np.array(0.8)))
    assert np.isinf(sum_size(np.array(2.0), np.array(1.0), np.array(np.inf)))
    # an infinite size draws the Poisson (variance = mean), a finite one mean + mean**2 / r
    rng = np.random.default_rng(1)
    a = replicate_counts(np.full(200_000, 3.0), rng, np.full(200_000, np.inf))
    assert a.mean() == pytest.approx(3.0, rel=0.01) and a.var() == pytest.approx(3.0, rel=0.02)
    b = replicate_counts(np.full(200_000, 3.0), rng, np.full(200_000, 0.5))
    assert b.mean() == pytest.approx(3.0, rel=0.02) and b.var() == pytest.approx(21.0, rel=0.05)


def test_moment_matched_sums_agree_with_draws_of_every_cell_and_period():
    # The replicated cell totals and force-wide totals against the exact distribution,
    # drawn count by count: moments, the share of empty cells and the busiest cell.
    rng = np.random.default_rng(3)
    n, w, r, reps = 300, 26, 0.6, 2000
    mu = _means(rng, n, w)
    exact = replicate_counts(np.broadcast_to(mu, (reps, n, w)), rng, np.full((reps, n, w), r))
    exact_unit, exact_period = exact.sum(axis=2), exact.sum(axis=1)
    s_unit = sum_size(mu.sum(axis=1), (mu**2).sum(axis=1), r)
    s_period = sum_size(mu.sum(axis=0), (mu**2).sum(axis=0), r)
    approx_unit = replicate_counts(np.broadcast_to(mu.sum(axis=1), (reps, n)), rng, s_unit)
    approx_period = replicate_counts(np.broadcast_to(mu.sum(axis=0), (reps, w)), rng, s_period)
    # mean and variance of every sum (variance M + sum mu**2 / r)
    var_unit = mu.sum(axis=1) + (mu**2).sum(axis=1) / r
    for sample in (exact_unit, approx_unit):
        z = (sample.mean(axis=0) - mu.sum(axis=1)) / np.sqrt(var_unit / reps)
        assert np.abs(z).max() < 4.5
        np.testing.assert_allclose(sample.var(axis=0).mean(), var_unit.mean(), rtol=0.05)
    var_period = mu.sum(axis=0) + (mu**2).sum(axis=0) / r
    for sample in (exact_period, approx_period):
        assert np.mean(sample.var(axis=0) / var_period) == pytest.approx(1.0, abs=0.05)
    # the statistics the checks compare: replicate means within a few standard errors
    for name, f in CELL_STATISTICS.items():
        a, e = f(approx_unit), f(exact_unit)
        se = np.sqrt((a.var() + e.var()) / reps)
        assert abs(a.mean() - e.mean()) < 4 * se + 1e-3 * abs(e.mean()), name
    # P(total = 0) per cell: exact product against the matched negative binomial
    p0_exact = np.exp(-r * np.log1p(mu / r).sum(axis=1))
    p0_match = np.exp(-s_unit * np.log1p(mu.sum(axis=1) / s_unit))
    assert np.abs(p0_match - p0_exact).max() < 0.02


@pytest.mark.parametrize("spread", [True, False])
def test_checks_pass_negative_binomial_data_and_the_poisson_checks_do_not(spread):
    # Data drawn from the fitted negative binomial pass its checks, with means that vary
    # (moment matching is approximate there) or not. With equal means, where cells
    # differ only by the negative binomial's spread, the Poisson's checks flag it.
    rng = np.random.default_rng(8)
    n, w, r = 400, 26, 0.5
    mu = _means(rng, n, w) if spread else np.full((n, w), 0.2)
    y = replicate_counts(mu, rng, np.full(mu.shape, r))
    idata = _fit_of(mu, r)
    nb = posterior_predictive_checks(idata, y, np.ones(w), rng, likelihood="negbin")
    assert nb["p_value"].min() > 0.01, nb
    assert set(nb["statistic"]) == set(CELL_STATISTICS) | set(PERIOD_STATISTICS)
    if not spread:
        pois = posterior_predictive_checks(idata, y, np.ones(w), rng).set_index("statistic")
        assert pois.loc["cells: variance / mean of window totals", "p_value"] < 0.01
        assert pois.loc["periods: variance / mean of force-wide totals", "p_value"] < 0.01


def test_negative_binomial_checks_condition_on_the_unit_selection():
    # As for the Poisson: cells chosen for an offence in the window have no empty cell,
    # and replicates given the selection reproduce that; without it the check flags it.
    rng = np.random.default_rng(4)
    n, w, r = 300, 10, 0.8
    mu = np.full((3 * n, w), 0.08)
    y = replicate_counts(mu, rng, np.full(mu.shape, r))
    y = y[y.sum(axis=1) > 0][:n]
    idata = _fit_of(mu[:n], r)
    idata.posterior["mu_unit_selected"] = idata.posterior["mu_unit"]
    need = np.ones(n, dtype=bool)
    naive = posterior_predictive_checks(idata, y, np.ones(w), rng, likelihood="negbin")
    assert naive.set_index("statistic").loc[ZERO, "p_value"] < 0.01
    with pytest.raises(ValueError, match="mu2_unit_selected"):
        posterior_predictive_checks(
            idata, y, np.ones(w), rng, likelihood="negbin", selection_needed=need
        )
    idata.posterior["mu2_unit_selected"] = idata.posterior["mu2_unit"]
    given = posterior_predictive_checks(
        idata, y, np.ones(w), rng, likelihood="negbin", selection_needed=need
    ).set_index("statistic")
    assert given.loc[ZERO, "replicated_hi90"] == 0
    assert given.loc[list(CELL_STATISTICS), "p_value"].min() > 0.01, given


def test_negative_binomial_model_keeps_the_sums_of_squared_means():
    # A selection span on one period t makes mu_unit_selected the means of period t
    # alone: from those, by hand, every sum of squares the model keeps.
    rng = np.random.default_rng(5)
    s = spatial_structure(grid_adjacency(3, 3))
    w = 10
    observed = np.r_[np.zeros(2), np.ones(w - 2)]
    counts = rng.poisson(2.0, (9, w)) * observed.astype(int)
    spec = ModelSpec(window=w, recent_blocks=(2, 1, 1), block_every=3, likelihood="negbin")
    span = np.zeros(w)
    m = build_model(
        spec,
        s,
        counts=counts,
        observed=observed,
        season=np.arange(w) % 13,
        log_offset=rng.normal(0, 0.2, 9),
        selection_span=span,
    )
    names = ("mu_unit", "mu_period", "mu2_unit", "mu2_period", "mu_unit_selected")
    fn = m.compile_fn(
        m.replace_rvs_by_values([m[k] for k in (*names, "mu2_unit_selected")]),
        inputs=m.value_vars,
        on_unused_input="ignore",
    )
    shapes = {v.name: m.eval_rv_shapes()[v.name] for v in m.value_vars}
    draw = np.random.default_rng(1)
    point = {k: draw.normal(0, 0.3, [d or 0 for d in shp]) for k, shp in shapes.items()}
    mu = np.zeros((9, w))
    for t in range(w):
        m.set_data("selection_span", np.eye(w)[t] * observed)
        out = dict(zip((*names, "mu2_unit_selected"), fn(point), strict=True))
        mu[:, t] = out["mu_unit_selected"]
        np.testing.assert_allclose(out["mu2_unit_selected"], mu[:, t] ** 2, rtol=1e-10)
    assert np.all(mu[:, observed == 0] == 0) and np.all(mu[:, observed == 1] > 0)
    np.testing.assert_allclose(out["mu_unit"], mu.sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(out["mu_period"], mu.sum(axis=0), rtol=1e-10)
    np.testing.assert_allclose(out["mu2_unit"], (mu**2).sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(out["mu2_period"], (mu**2).sum(axis=0), rtol=1e-10)
    # the Poisson model keeps no squares (they would only cost trace)
    poisson = build_model(
        ModelSpec(window=w, recent_blocks=(2, 1, 1), block_every=3),
        s,
        counts=counts,
        observed=observed,
        season=np.arange(w) % 13,
        log_offset=np.zeros(9),
    )
    assert "mu2_unit" not in poisson.named_vars
