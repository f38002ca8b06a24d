"""The forecaster interface: a mean per unit, and a count distribution around it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from analysis.forecast.distributions import CountDistribution, fit_nb_size
from analysis.forecast.panel import ForecastContext

#: Smallest forecast mean per unit, so that log scores stay finite (documented caveat).
MIN_MEAN = 0.01


@dataclass
class Forecaster(ABC):
    """A forecaster of next-period counts per unit.

    Subclasses implement :meth:`predict_mean`. The predictive distribution is negative
    binomial around that mean with one size parameter fitted by maximum likelihood on
    *pseudo-origins*: the same forecaster applied at the ``calibration_origins`` periods
    before the origin, scored against their (already observed) counts. Only data before the
    origin are used. Forecasters with their own likelihood override :meth:`predict`.

    Attributes
    ----------
    name : str
        Label in leaderboards.
    min_history : int
        Periods of history needed; with fewer the backtest skips the model with a note.
    calibration_origins : int
        Pseudo-origins used to fit the dispersion.
    """

    name: str = "forecaster"
    min_history: int = 1
    calibration_origins: int = 6

    @abstractmethod
    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the expected count per unit for the origin period."""

    def predict(self, ctx: ForecastContext) -> CountDistribution:
        """Return the predictive count distribution per unit."""
        mean = np.maximum(self.predict_mean(ctx), MIN_MEAN)
        return CountDistribution.make(mean, self.dispersion(ctx))

    def dispersion(self, ctx: ForecastContext) -> float:
        """Fit one negative-binomial size on pseudo-origins before ``ctx.origin``."""
        means, obs = [], []
        for k in range(1, self.calibration_origins + 1):
            if ctx.n_history - k < self.min_history:
                break
            past = ctx.earlier(k)
            means.append(np.maximum(self.predict_mean(past), MIN_MEAN))
            obs.append(ctx.counts[:, -k])
        if not means:
            return np.inf
        return fit_nb_size(np.concatenate(obs), np.concatenate(means))
