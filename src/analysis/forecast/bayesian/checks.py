"""Posterior predictive checks of a fitted window: does the model reproduce its data.

Replicated data are drawn from the posterior, and statistics that a crime analyst would
look at are compared between the observed window and the replicates (Gelman, Meng and
Stern 1996; Gabry et al. 2019): over cells, the spread of their window totals (variance
over mean), the share of cells with no offence, the busiest cell and the share of
offences in the top 5% of cells (concentration); over periods, the spread of the
force-wide totals, their lag-1 autocorrelation and the largest total.

Under the Poisson likelihood a cell's window total given the parameters is Poisson with
mean ``mu_unit`` and a period's force-wide total Poisson with mean ``mu_period`` (sums of
independent Poisson counts), so each statistic's replicates are exact draws from the
posterior predictive without storing a mean per cell and period. The two sets of
replicates are drawn separately, so statistics that mix cells and periods are not
offered.

Under the negative binomial (size ``r``) a sum of independent counts is not negative
binomial unless its means are equal. Its replicates are drawn from the negative binomial
with the sum's exact mean ``M = sum mu`` and variance ``M + sum mu**2 / r``, that is
with size ``r M**2 / sum mu**2`` (``mu2_unit``, ``mu2_period``): exact when the means
are equal (a sum of ``n`` counts of mean ``mu`` is negative binomial with size ``n r``),
and close otherwise (for a cell's window total, whose means vary only with the
force-wide level, the season and the cell's few level blocks; a force-wide total is a
sum of hundreds of cells, near normal either way). A test compares it with draws of
every cell and period.

Where the units were chosen as the cells with an offence before the first origin (the
backtest's and the monthly forecast's grid cells), a unit with no offence in those periods
outside the window must have one inside it: its replicate is drawn given that, the count
in the window's selected periods from a zero-truncated Poisson or negative binomial (mean
``mu_unit_selected``), the rest of the window's from the untruncated one. Without that,
the share of cells with no offence in the window would be 0 by construction and flag the
selection rule, not the model. The force-wide totals' replicates ignore the selection: it adds
about one offence, spread over the window's periods, to each unit whose expected count in
the span is well below one, which is small beside a force-wide total over a long window
(not over a short one of a rare offence).

The p-value is two-sided, ``2 min(P(T_rep > T_obs) + P(T_rep = T_obs) / 2, ...)``: small
values say the model rarely produces data like the observed in that respect. Checks use
the data the model was fitted to, so they are conservative (a model can fit its own
window well and still forecast poorly: the backtest judges forecasts).
"""

from __future__ import annotations

from collections.abc import Callable

import arviz as az
import numpy as np
import pandas as pd
from scipy import stats

from analysis.forecast.bayesian.predictive import kept_draws, thinned_draws

__all__ = [
    "CELL_STATISTICS",
    "PERIOD_STATISTICS",
    "posterior_predictive_checks",
    "replicate_counts",
    "sum_size",
    "zero_truncated",
]


def sum_size(mean: np.ndarray, square: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Return the size of the negative binomial that matches a sum's mean and variance.

    For a sum of independent negative-binomial counts of means ``mu`` and common size
    ``r``, ``r M**2 / sum mu**2`` with ``M = sum mu`` (``square`` is ``sum mu**2``);
    infinite (Poisson) where ``r`` is infinite or ``square`` is 0.
    """
    m = np.asarray(mean, dtype=float)
    q = np.asarray(square, dtype=float)
    r = np.asarray(size, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = r * m**2 / q
    return np.where((q > 0) & np.isfinite(r), out, np.inf)


def replicate_counts(
    mean: np.ndarray, rng: np.random.Generator, size: np.ndarray | None = None
) -> np.ndarray:
    """Draw counts of the given means: Poisson, or negative binomial of the given size.

    The negative binomial is drawn as a gamma-Poisson mixture; an infinite size is the
    Poisson.
    """
    mu = np.asarray(mean, dtype=float)
    if size is None:
        return rng.poisson(mu)
    r = np.broadcast_to(np.asarray(size, dtype=float), mu.shape)
    finite = np.isfinite(r) & (mu > 0)
    shape = np.where(finite, r, 1.0)
    rate = rng.gamma(shape, np.where(finite, mu, 0.0) / shape)
    return rng.poisson(np.where(finite, rate, mu))


def zero_truncated(
    mean: np.ndarray, rng: np.random.Generator, size: np.ndarray | None = None
) -> np.ndarray:
    """Draw Poisson (or negative-binomial) counts of the given means given at least 1.

    By inversion: ``u`` uniform between ``P(0)`` and 1, then the quantile of ``u``
    (``mean`` must be positive; ``size`` infinite is the Poisson).
    """
    mu = np.asarray(mean, dtype=float)
    if np.any(mu <= 0):
        raise ValueError("a zero-truncated count needs positive means")
    r = np.full(mu.shape, np.inf) if size is None else np.broadcast_to(size, mu.shape)
    r = np.asarray(r, dtype=float)
    nb = np.isfinite(r)
    safe = np.where(nb, r, 1.0)
    log_p0 = np.where(nb, -safe * np.log1p(mu / safe), -mu)
    u = np.exp(log_p0) + -np.expm1(log_p0) * rng.uniform(size=mu.shape)
    k = np.where(nb, stats.nbinom.ppf(u, safe, safe / (safe + mu)), stats.poisson.ppf(u, mu))
    return np.where(np.isfinite(k), np.maximum(k, 1.0), 1.0)  # u rounded to 1: mean ~ 0


def _dispersion(y: np.ndarray) -> np.ndarray:
    mean = y.mean(axis=-1)
    return np.where(mean > 0, y.var(axis=-1) / np.where(mean > 0, mean, 1.0), np.nan)


def _zero_share(y: np.ndarray) -> np.ndarray:
    return (y == 0).mean(axis=-1)


def _largest(y: np.ndarray) -> np.ndarray:
    return y.max(axis=-1).astype(float)


def _top_share(y: np.ndarray, share: float = 0.05) -> np.ndarray:
    k = max(1, int(np.ceil(share * y.shape[-1])))
    top = -np.sort(-y, axis=-1)[..., :k].sum(axis=-1)
    total = y.sum(axis=-1)
    return np.where(total > 0, top / np.where(total > 0, total, 1), np.nan)


def _lag1(y: np.ndarray) -> np.ndarray:
    x = y - y.mean(axis=-1, keepdims=True)
    den = (x**2).sum(axis=-1)
    num = (x[..., 1:] * x[..., :-1]).sum(axis=-1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


#: Statistics of the cells' window totals: name -> function of ``(..., n_units)``.
CELL_STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "cells: variance / mean of window totals": _dispersion,
    "cells: share with no offence in the window": _zero_share,
    "cells: largest window total": _largest,
    "cells: share of offences in the busiest 5%": _top_share,
}
#: Statistics of the force-wide totals of the observed periods, oldest first.
PERIOD_STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "periods: variance / mean of force-wide totals": _dispersion,
    "periods: lag-1 autocorrelation of force-wide totals": _lag1,
    "periods: largest force-wide total": _largest,
}


def _row(name: str, observed: float, replicated: np.ndarray) -> dict[str, object]:
    rep = replicated[np.isfinite(replicated)]
    if rep.size == 0 or not np.isfinite(observed):
        p = np.nan
    else:
        upper = np.mean(rep > observed) + 0.5 * np.mean(rep == observed)
        p = float(min(1.0, 2 * min(upper, 1 - upper)))
    return {
        "statistic": name,
        "observed": float(observed),
        "replicated_mean": float(np.mean(rep)) if rep.size else np.nan,
        "replicated_lo90": float(np.quantile(rep, 0.05)) if rep.size else np.nan,
        "replicated_hi90": float(np.quantile(rep, 0.95)) if rep.size else np.nan,
        "p_value": p,
    }


def posterior_predictive_checks(
    idata: az.InferenceData,
    counts: np.ndarray,
    observed: np.ndarray,
    rng: np.random.Generator,
    *,
    likelihood: str = "poisson",
    n_draws: int = 1000,
    selection_needed: np.ndarray | None = None,
) -> pd.DataFrame:
    """Compare statistics of the fitted window with their posterior predictive.

    Parameters
    ----------
    idata : arviz.InferenceData
        A fit whose posterior holds ``mu_unit`` and ``mu_period`` (and, for the negative
        binomial, ``size``, ``mu2_unit`` and ``mu2_period``).
    counts : numpy.ndarray
        ``(n_units, window)`` counts the model was fitted to.
    observed : numpy.ndarray
        ``(window,)`` 1 where the period is data, 0 where it is padding.
    rng : numpy.random.Generator
        For the replicates.
    likelihood : {"poisson", "negbin"}
        The model's likelihood.
    n_draws : int
        Posterior draws used (evenly thinned), one replicate each.
    selection_needed : numpy.ndarray, optional
        ``(n_units,)`` True for units whose selection requires an offence in the window's
        selected periods (see the module docstring); the fit must then hold
        ``mu_unit_selected`` (and ``mu2_unit_selected`` for the negative binomial).

    Returns
    -------
    pandas.DataFrame
        One row per statistic: ``statistic, observed, replicated_mean, replicated_lo90,
        replicated_hi90, p_value``.

    Raises
    ------
    ValueError
        For an unknown likelihood, or a fit without the expected sums.
    """
    if likelihood not in ("poisson", "negbin"):
        raise ValueError(f"likelihood must be poisson or negbin, not {likelihood!r}")
    post = idata.posterior
    needed = ["mu_unit", "mu_period"]
    if likelihood == "negbin":
        needed += ["size", "mu2_unit", "mu2_period"]
    missing = [k for k in needed if k not in post]
    if missing:
        raise ValueError(f"the fit did not keep {missing} (see forecaster.KEEP)")
    seen = np.asarray(observed) > 0
    y = np.asarray(counts, dtype=float)
    y_unit = y[:, seen].sum(axis=1)
    y_period = y[:, seen].sum(axis=0)
    keep = thinned_draws(idata, n_draws)

    def draws(name: str) -> np.ndarray:
        return kept_draws(idata, name, keep)

    def size_of(prefix: str, mean: np.ndarray) -> np.ndarray | None:
        # the moment-matched size of each sum; None for the Poisson
        if likelihood == "poisson":
            return None
        square = draws(f"mu2_{prefix}")
        if prefix == "period":
            square = square[:, seen]
        return sum_size(mean, square, draws("size")[:, None])

    mu_unit = draws("mu_unit")
    size_unit = size_of("unit", mu_unit)
    if selection_needed is not None and np.any(selection_needed):
        wanted = ["mu_unit_selected"] + (["mu2_unit_selected"] if likelihood == "negbin" else [])
        if any(k not in post for k in wanted):
            raise ValueError(f"a selection was given but the fit did not keep {wanted}")
        need = np.asarray(selection_needed, dtype=bool)
        mu_sel = draws("mu_unit_selected")
        rest = np.clip(mu_unit - mu_sel, 0.0, None)
        size_sel = size_rest = None
        if likelihood == "negbin":
            sq_unit, sq_sel = draws("mu2_unit"), draws("mu2_unit_selected")
            r = draws("size")[:, None]
            size_sel = sum_size(mu_sel, sq_sel, r)[:, need]
            size_rest = np.where(
                need, sum_size(rest, np.clip(sq_unit - sq_sel, 0.0, None), r), size_unit
            )
        rep_unit = replicate_counts(np.where(need, rest, mu_unit), rng, size_rest)
        rep_unit[:, need] += zero_truncated(mu_sel[:, need], rng, size_sel).astype(np.int64)
    else:
        rep_unit = replicate_counts(mu_unit, rng, size_unit)
    mu_period = draws("mu_period")[:, seen]
    rep_period = replicate_counts(mu_period, rng, size_of("period", mu_period))
    rows = [_row(k, float(f(y_unit)), f(rep_unit)) for k, f in CELL_STATISTICS.items()]
    rows += [_row(k, float(f(y_period)), f(rep_period)) for k, f in PERIOD_STATISTICS.items()]
    return pd.DataFrame(rows)
