"""A forecast of the force-wide total for the next period: level, trend and season."""

from __future__ import annotations

import warnings

import numpy as np
import statsmodels.api as sm

from analysis.forecast.panel import PERIODS_PER_YEAR


def _design(periods: np.ndarray, ref: int, seasonal: bool, harmonics: int) -> np.ndarray:
    t = (np.asarray(periods, dtype=float) - ref) / PERIODS_PER_YEAR
    cols = [np.ones_like(t), t]
    if seasonal:
        for h in range(1, harmonics + 1):
            angle = 2 * np.pi * h * np.asarray(periods) / PERIODS_PER_YEAR
            cols += [np.sin(angle), np.cos(angle)]
    return np.column_stack(cols)


def forecast_total(
    totals: np.ndarray,
    periods: np.ndarray,
    origin: int,
    *,
    max_periods: int = 78,
    harmonics: int = 2,
) -> float:
    """Forecast the total count of the origin period from past totals.

    A Poisson log-linear regression (statsmodels GLM) of the total on a linear trend and,
    with at least two years of history, ``harmonics`` Fourier pairs of the 13-period year,
    fitted to the last ``max_periods`` periods. With fewer than 8 periods it returns the
    mean of what there is.

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

    Returns
    -------
    float
        Expected total.
    """
    y = np.asarray(totals, dtype=float)[-max_periods:]
    p = np.asarray(periods)[-max_periods:]
    if len(y) < 8 or y.sum() == 0:
        return float(y.mean()) if len(y) else 0.0
    seasonal = len(y) >= 2 * PERIODS_PER_YEAR
    x = _design(p, origin, seasonal, harmonics)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.Poisson()).fit()
    x0 = _design(np.array([origin]), origin, seasonal, harmonics)
    return float(np.exp(x0 @ fit.params)[0])
