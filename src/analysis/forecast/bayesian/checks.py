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
offered. The negative binomial's sums are not negative binomial; its checks are not
built and are refused.

Where the units were chosen as the cells with an offence before the first origin (the
backtest's and the monthly forecast's grid cells), a unit with no offence in those periods
outside the window must have one inside it: its replicate is drawn given that, the count
in the window's selected periods from a zero-truncated Poisson (mean
``mu_unit_selected``), the rest of the window's from a Poisson. Without that, the share of
cells with no offence in the window would be 0 by construction and flag the selection
rule, not the model. The force-wide totals' replicates ignore the selection: it adds
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
    "zero_truncated_poisson",
]


def zero_truncated_poisson(mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw Poisson counts of the given means conditioned on being at least 1.

    By inversion: ``u`` uniform between ``P(0)`` and 1, then the Poisson quantile of ``u``
    (``mean`` must be positive).
    """
    mu = np.asarray(mean, dtype=float)
    if np.any(mu <= 0):
        raise ValueError("a zero-truncated Poisson needs positive means")
    p0 = np.exp(-mu)
    u = p0 + -np.expm1(-mu) * rng.uniform(size=mu.shape)
    k = stats.poisson.ppf(u, mu)
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
        A fit whose posterior holds ``mu_unit`` and ``mu_period``.
    counts : numpy.ndarray
        ``(n_units, window)`` counts the model was fitted to.
    observed : numpy.ndarray
        ``(window,)`` 1 where the period is data, 0 where it is padding.
    rng : numpy.random.Generator
        For the replicates.
    likelihood : str
        The model's likelihood; only ``"poisson"`` is supported.
    n_draws : int
        Posterior draws used (evenly thinned), one replicate each.
    selection_needed : numpy.ndarray, optional
        ``(n_units,)`` True for units whose selection requires an offence in the window's
        selected periods (see the module docstring); the fit must then hold
        ``mu_unit_selected``.

    Returns
    -------
    pandas.DataFrame
        One row per statistic: ``statistic, observed, replicated_mean, replicated_lo90,
        replicated_hi90, p_value``.

    Raises
    ------
    ValueError
        For a likelihood other than Poisson, or a fit without the expected sums.
    """
    if likelihood != "poisson":
        raise ValueError(
            f"posterior predictive checks are built for the Poisson likelihood, not {likelihood}"
        )
    post = idata.posterior
    if "mu_unit" not in post or "mu_period" not in post:
        raise ValueError("the fit did not keep mu_unit and mu_period (see forecaster.KEEP)")
    seen = np.asarray(observed) > 0
    y = np.asarray(counts, dtype=float)
    y_unit = y[:, seen].sum(axis=1)
    y_period = y[:, seen].sum(axis=0)
    keep = thinned_draws(idata, n_draws)
    mu_unit = kept_draws(idata, "mu_unit", keep)
    if selection_needed is not None and np.any(selection_needed):
        if "mu_unit_selected" not in post:
            raise ValueError("a selection was given but the fit did not keep mu_unit_selected")
        need = np.asarray(selection_needed, dtype=bool)
        mu_sel = kept_draws(idata, "mu_unit_selected", keep)
        rest = np.clip(mu_unit - mu_sel, 0.0, None)
        rep_unit = rng.poisson(np.where(need, rest, mu_unit))
        rep_unit[:, need] += zero_truncated_poisson(mu_sel[:, need], rng).astype(np.int64)
    else:
        rep_unit = rng.poisson(mu_unit)
    rep_period = rng.poisson(kept_draws(idata, "mu_period", keep)[:, seen])
    rows = [_row(k, float(f(y_unit)), f(rep_unit)) for k, f in CELL_STATISTICS.items()]
    rows += [_row(k, float(f(y_period)), f(rep_period)) for k, f in PERIOD_STATISTICS.items()]
    return pd.DataFrame(rows)
