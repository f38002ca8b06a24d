"""A forecast of the force-wide total for the next period: level, trend and season."""

from __future__ import annotations

import warnings

import numpy as np
import statsmodels.api as sm

from analysis.space import PeriodCalendar

#: Periods a year when none is given: the default 28-day calendar's 13.
DEFAULT_PERIODS_PER_YEAR = PeriodCalendar().periods_per_year


def _design(
    periods: np.ndarray, ref: int, seasonal: bool, harmonics: int, periods_per_year: int
) -> np.ndarray:
    """Return the design matrix: intercept, trend in years and the season's harmonics."""
    t = (np.asarray(periods, dtype=float) - ref) / periods_per_year
    cols = [np.ones_like(t), t]
    if seasonal:
        for h in range(1, harmonics + 1):
            angle = 2 * np.pi * h * np.asarray(periods) / periods_per_year
            cols += [np.sin(angle), np.cos(angle)]
    return np.column_stack(cols)


def forecast_total(
    totals: np.ndarray,
    periods: np.ndarray,
    origin: int,
    *,
    max_periods: int = 78,
    harmonics: int = 2,
    periods_per_year: int = DEFAULT_PERIODS_PER_YEAR,
) -> float:
    """Forecast the total count of the origin period from past totals.

    A Poisson log-linear regression (statsmodels GLM) of the total on a linear trend (per
    year) and, with at least two years of history, ``harmonics`` Fourier pairs of the year
    of ``periods_per_year`` periods, fitted to the last ``max_periods`` periods. With
    fewer than 8 periods it returns the mean of what there is.

    Parameters
    ----------
    totals : numpy.ndarray
        Past totals, oldest first.
    periods : numpy.ndarray
        Their calendar period indices.
    origin : int
        Period to forecast.
    max_periods : int
        Most recent periods used.
    harmonics : int
        Fourier pairs for the season.
    periods_per_year : int
        Periods in a seasonal cycle (``ForecastContext.periods_per_year``; 13 for the
        default 28-day calendar).

    Returns
    -------
    float
        Expected total.
    """
    y = np.asarray(totals, dtype=float)[-max_periods:]
    p = np.asarray(periods)[-max_periods:]
    if len(y) < 8 or y.sum() == 0:
        return float(y.mean()) if len(y) else 0.0
    seasonal = len(y) >= 2 * periods_per_year
    x = _design(p, origin, seasonal, harmonics, periods_per_year)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.Poisson()).fit()
    x0 = _design(np.array([origin]), origin, seasonal, harmonics, periods_per_year)
    return float(np.exp(x0 @ fit.params)[0])
