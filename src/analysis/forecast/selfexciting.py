"""The grid self-exciting point process as a forecaster (Mohler et al. 2015)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.forecast.base import MIN_MEAN, Forecaster
from analysis.forecast.distributions import CountDistribution, fit_nb_size
from analysis.forecast.etas import GridETASFit, expected_counts, fit_grid_etas
from analysis.forecast.panel import ForecastContext


@dataclass
class GridETASForecaster(Forecaster):
    """Background rate per cell plus exponentially decaying same-cell triggering, by EM.

    Fitted at each origin to the events of the last ``fit_days`` before it; the forecast is
    the expected count over the 4-week window given the history, cascades included. The
    dispersion is fitted on pseudo-origins with the same fit (data before the origin only).
    """

    name: str = "etas"
    fit_days: float = 3 * 364.0

    def __post_init__(self) -> None:
        self.min_history = 4

    def _fit(self, ctx: ForecastContext) -> tuple[GridETASFit, np.ndarray, np.ndarray]:
        start = max(ctx.t0 - self.fit_days, float(ctx.periods[0]) * ctx.horizon)
        ev = ctx.events.loc[(ctx.events["unit"] >= 0) & (ctx.events["t"] >= start)]
        cell, t = ev["unit"].to_numpy(), ev["t"].to_numpy()
        return fit_grid_etas(cell, t, ctx.n_units, start, ctx.t0), cell, t

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the expected count per cell over the origin period."""
        fit, cell, t = self._fit(ctx)
        return expected_counts(fit, cell, t, ctx.t0, ctx.horizon)

    def predict(self, ctx: ForecastContext) -> CountDistribution:
        """Return negative-binomial predictive distributions around the ETAS means."""
        fit, cell, t = self._fit(ctx)
        mean = np.maximum(expected_counts(fit, cell, t, ctx.t0, ctx.horizon), MIN_MEAN)
        means, obs = [], []
        for k in range(1, min(self.calibration_origins, ctx.n_history - 1) + 1):
            t0 = ctx.t0 - k * ctx.horizon
            means.append(np.maximum(expected_counts(fit, cell, t, t0, ctx.horizon), MIN_MEAN))
            obs.append(ctx.counts[:, -k])
        size = fit_nb_size(np.concatenate(obs), np.concatenate(means)) if means else np.inf
        return CountDistribution.make(mean, size)
