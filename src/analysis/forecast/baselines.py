"""The simple baselines of crime forecasting, from naive to the rescaled moving average.

Each is deliberately plain and documented, so that any model that claims skill has to beat
them on the same origins.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from analysis.forecast.base import Forecaster
from analysis.forecast.panel import ForecastContext
from analysis.forecast.total import forecast_total


@dataclass
class LastPeriod(Forecaster):
    """Next period's count equals last period's (the naive forecast)."""

    name: str = "last"

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the last observed count per unit."""
        return ctx.counts[:, -1].astype(float)


@dataclass
class MeanOfLast(Forecaster):
    """Mean of the last ``k`` periods."""

    name: str = "mean"
    k: int = 4

    def __post_init__(self) -> None:
        self.min_history = self.k
        if self.name == "mean":
            self.name = f"mean{self.k}"

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the mean of the last ``k`` counts per unit."""
        return ctx.counts[:, -self.k :].mean(axis=1)


def ewma(counts: np.ndarray, alpha: float) -> np.ndarray:
    """Exponentially weighted mean of each row, the latest column weighted most.

    Weights ``alpha * (1 - alpha)**j`` for lag ``j``, normalised over the available history
    (so a short history is not biased towards zero).
    """
    n = counts.shape[1]
    w = alpha * (1 - alpha) ** np.arange(n)[::-1]
    return counts @ (w / w.sum())


@dataclass
class EWMA(Forecaster):
    """Exponentially weighted mean of past counts (``alpha`` weights the latest period)."""

    name: str = "ewma"
    alpha: float = 0.05

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the exponentially weighted mean per unit."""
        return ewma(ctx.counts.astype(float), self.alpha)


@dataclass
class SeasonalMean(Forecaster):
    """Mean of the same period of the year in up to ``years`` earlier years.

    A year is the context's ``periods_per_year`` periods (13 of 28 days, 52 weeks), so the
    lags are 13, 26 and 39 periods on the 4-weekly calendar. ``min_history`` is a year of
    the default calendar; :meth:`history_needed` gives it for another.
    """

    name: str = "seasonal"
    years: int = 3

    def __post_init__(self) -> None:
        self.min_history = self.history_needed(ForecastContext.periods_per_year)

    def history_needed(self, periods_per_year: int) -> int:
        """Return the periods of history needed on a calendar: one year."""
        return int(periods_per_year)

    def lags(self, ctx: ForecastContext) -> list[int]:
        """Return the lags averaged at ``ctx``: whole years back, at most ``years``."""
        year = ctx.periods_per_year
        return [year * j for j in range(1, self.years + 1) if year * j <= ctx.n_history]

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the mean count of the same season in earlier years per unit.

        Raises
        ------
        ValueError
            If the context has less than a year of history.
        """
        lags = self.lags(ctx)
        if not lags:
            raise ValueError(
                f"{self.name} needs a year ({ctx.periods_per_year} periods) of history, "
                f"the context has {ctx.n_history}"
            )
        return ctx.counts[:, [-lag for lag in lags]].mean(axis=1)

    def dispersion(self, ctx: ForecastContext) -> float:
        """Fit the size on pseudo-origins with at least a year of history."""
        year = copy.copy(self)
        year.min_history = self.history_needed(ctx.periods_per_year)
        return Forecaster.dispersion(year, ctx)


@dataclass
class RescaledEWMA(Forecaster):
    """EWMA shares of each unit, rescaled to a forecast of the force-wide total.

    Where crime happens changes slowly and is estimated well by the EWMA; how much crime
    there is next period (level, trend, season) is forecast for the force as a whole by
    :func:`analysis.forecast.total.forecast_total`.
    """

    name: str = "ewma_rescaled"
    alpha: float = 0.05
    total_periods: int = 78

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return EWMA shares times the forecast force-wide total."""
        base = ewma(ctx.counts.astype(float), self.alpha)
        total = forecast_total(
            ctx.counts.sum(axis=0),
            ctx.periods,
            ctx.origin,
            max_periods=self.total_periods,
            periods_per_year=ctx.periods_per_year,
        )
        s = base.sum()
        return base * (total / s) if s > 0 else np.full(ctx.n_units, total / ctx.n_units)
