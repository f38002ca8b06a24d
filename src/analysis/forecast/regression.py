"""Negative-binomial regression on lagged counts, neighbours' counts, season and covariates."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm

from analysis.forecast.base import MIN_MEAN, Forecaster
from analysis.forecast.distributions import CountDistribution
from analysis.forecast.panel import ForecastContext


def lag_features(ctx: ForecastContext, j: int, covariates: list[str]) -> np.ndarray:
    """Features for predicting column ``j`` of the counts from columns before it.

    Columns: intercept; log1p of the last count, of the mean of the last 4 and of the last
    13; log1p of the count 13 periods back; log1p of the neighbours' mean of the last-4
    mean; two Fourier pairs of the year (``ctx.periods_per_year`` periods: 13 of 28 days,
    52 weeks); log unit area; the named covariates.
    """
    c = ctx.counts.astype(float)
    n = ctx.n_units
    lag1 = c[:, j - 1]
    m4 = c[:, j - 4 : j].mean(axis=1)
    m13 = c[:, j - 13 : j].mean(axis=1)
    lag13 = c[:, j - 13]
    deg = np.asarray(ctx.neighbours.sum(axis=1)).ravel()
    neigh = np.divide(ctx.neighbours @ m4, deg, out=np.zeros(n), where=deg > 0)
    period = ctx.periods[j] if j < ctx.n_history else ctx.origin
    angle = 2 * np.pi * period / ctx.periods_per_year
    cols = [
        np.ones(n),
        np.log1p(lag1),
        np.log1p(m4),
        np.log1p(m13),
        np.log1p(lag13),
        np.log1p(neigh),
        np.full(n, np.sin(angle)),
        np.full(n, np.cos(angle)),
        np.full(n, np.sin(2 * angle)),
        np.full(n, np.cos(2 * angle)),
        np.log(ctx.units["area_km2"].to_numpy()),
    ]
    if covariates and ctx.covariates is not None:
        cols += [ctx.covariates[c].to_numpy(dtype=float) for c in covariates]
    return np.column_stack(cols)


@dataclass
class NegBinRegression(Forecaster):
    """NB2 regression (statsmodels) of each unit's count on its recent history.

    Fitted on the last ``train_periods`` periods of the panel (every unit, every period with
    13 periods of lags), its own dispersion giving the predictive distribution.
    """

    name: str = "nbreg"
    train_periods: int = 39
    covariates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.min_history = 13 + 4

    def _fit(self, ctx: ForecastContext) -> tuple[np.ndarray, float]:
        first = max(13, ctx.n_history - self.train_periods)
        xs = [lag_features(ctx, j, list(self.covariates)) for j in range(first, ctx.n_history)]
        ys = [ctx.counts[:, j] for j in range(first, ctx.n_history)]
        x, y = np.vstack(xs), np.concatenate(ys).astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = sm.GLM(y, x, family=sm.families.Poisson()).fit().params
            fit = sm.NegativeBinomial(y, x, loglike_method="nb2").fit(
                start_params=np.append(start, 0.5), disp=0, maxiter=200
            )
        alpha = float(fit.params[-1])
        return np.asarray(fit.params[:-1]), (1.0 / alpha if alpha > 1e-8 else np.inf)

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the fitted model's mean for the origin period."""
        beta, _ = self._fit(ctx)
        return np.exp(lag_features(ctx, ctx.n_history, list(self.covariates)) @ beta)

    def predict(self, ctx: ForecastContext) -> CountDistribution:
        """Return NB2 predictive distributions with the fitted dispersion."""
        beta, size = self._fit(ctx)
        mean = np.exp(lag_features(ctx, ctx.n_history, list(self.covariates)) @ beta)
        return CountDistribution.make(np.maximum(mean, MIN_MEAN), size)
