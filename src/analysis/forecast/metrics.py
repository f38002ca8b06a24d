"""Scores for count forecasts: proper scores, calibration and crime-concentration metrics.

Per-unit scores
    :func:`crps` (exact, discrete), :func:`log_score`, :func:`brier_any`, :func:`mae`,
    :func:`rmse`.
Calibration
    :func:`central_interval` and :func:`coverage`; the randomised PIT
    (:func:`randomised_pit`, :func:`pit_histogram`, :func:`pit_uniformity`).
Concentration (what a patrol plan would capture)
    :func:`area_capture` (hit rate, PAI, PEI* at one area budget) and
    :func:`hit_rate_curve` (hit rate and PAI over many budgets).
Across origins
    :func:`summarise_origins` and :func:`paired_difference`.

References
----------
Gneiting, T. and Raftery, A. E. (2007). Strictly proper scoring rules, prediction and
estimation. *JASA* 102, 359-378.
Czado, C., Gneiting, T. and Held, L. (2009). Predictive model assessment for count data.
*Biometrics* 65, 1254-1261.
Chainey, S., Tompson, L. and Uhlig, S. (2008). The utility of hotspot mapping for
predicting spatial patterns of crime. *Security Journal* 21, 4-28 (PAI).
PEI (Hunt, Saunders and Hollywood 2014) and PEI*, which divides by the best possible
capture at the same area (Joshi et al. 2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from analysis.forecast.distributions import CountDistribution

__all__ = [
    "DiscreteForecast",
    "area_capture",
    "brier_any",
    "central_interval",
    "coverage",
    "crps",
    "hit_rate_curve",
    "log_score",
    "mae",
    "paired_difference",
    "pit_histogram",
    "pit_uniformity",
    "randomised_pit",
    "rmse",
    "summarise_origins",
]

#: Column holding the forecast origin in per-origin tables (excluded from default metrics).
ORIGIN_COL = "origin"
#: Default tail probability left out of the CRPS sum (see :func:`crps`).
CRPS_TAIL = 1e-12
#: Largest count grid :func:`crps` will evaluate before refusing.
CRPS_MAX_K = 100_000
#: Cap on CDF values evaluated at once by :func:`crps` (memory, not accuracy).
_CRPS_BLOCK_ELEMENTS = 2**21


class DiscreteForecast(Protocol):
    """What the distribution-based scores need: a per-unit CDF and quantile on the integers.

    :class:`~analysis.forecast.distributions.CountDistribution` satisfies it.
    """

    def cdf(self, k: ArrayLike) -> np.ndarray:
        """Return ``P(Y <= k)`` per unit, ``k`` broadcastable against ``(n,)``."""
        ...

    def quantile(self, q: float) -> np.ndarray:
        """Return the smallest integer ``k`` with ``F(k) >= q`` per unit."""
        ...


# -- helpers ---------------------------------------------------------------------------------


def _as_counts(y: ArrayLike, n: int | None = None, name: str = "y") -> np.ndarray:
    """Return ``y`` as a float vector of non-negative integers, checking its length."""
    arr = np.asarray(y, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} values for {n} units")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must hold non-negative integer counts")
    return arr


def _n_units(dist: DiscreteForecast) -> int:
    """Return the number of units of a forecast (from ``len`` or its ``mean``)."""
    try:
        return len(dist)  # type: ignore[arg-type]
    except TypeError:
        return int(np.asarray(dist.quantile(0.5)).shape[0])


# -- per-unit scores -------------------------------------------------------------------------


def crps(
    dist: DiscreteForecast,
    y: ArrayLike,
    *,
    tail: float = CRPS_TAIL,
    max_k: int = CRPS_MAX_K,
) -> np.ndarray:
    """Return the continuous ranked probability score per unit (lower is better).

    For a forecast on the non-negative integers and an integer observation ``y`` the CRPS
    is the exact sum

        ``CRPS(F, y) = sum_{k >= 0} (F(k) - 1{y <= k})**2``

    (the integral of ``(F(x) - 1{y <= x})**2`` over ``x``, which is constant on each
    ``[k, k + 1)``). It equals ``E|X - y| - E|X - X'| / 2`` and is in count units.

    Parameters
    ----------
    dist : DiscreteForecast
        Per-unit forecasts, e.g. a :class:`CountDistribution`.
    y : array_like
        Observed counts, shape ``(n,)``, non-negative integers.
    tail : float, default 1e-12
        Upper tail probability allowed beyond the summed grid.
    max_k : int, default 100000
        Refuse (``ValueError``) to build a grid longer than this; the cost is ``n * K``
        CDF evaluations.

    Returns
    -------
    numpy.ndarray
        CRPS per unit, shape ``(n,)``.

    Notes
    -----
    The sum runs over one common grid ``k = 0 .. K`` with ``K = max_i Q_i(1 - tail)``, the
    largest per-unit ``(1 - tail)``-quantile, so ``F_i(K) >= 1 - tail`` for every unit.
    It is evaluated in blocks of ``k`` to bound memory; for a :class:`CountDistribution` a
    unit drops out of later blocks once ``k`` has passed both its own quantile and its
    observation.

    Terms left out are of two kinds. For ``k >= y`` past a unit's quantile they are
    ``(1 - F(k))**2 <= tail * (1 - F(k))``, summing to at most ``tail * E(Y - K)+``
    (negligible). For ``K < k < y`` (an observation above every unit's grid) they are
    ``F(k)**2``, within ``2 * tail`` of 1, and are added in closed form as
    ``max(0, y - K - 1)``. The result therefore equals the sum over a per-unit grid
    reaching both ``F(K) >= 1 - tail`` and ``K >= y``, to that accuracy, without
    building a grid as long as an outlying count. The grid is capped by ``max_k``.
    """
    n = _n_units(dist)
    y_arr = _as_counts(y, n)
    if not 0 < tail < 1:
        raise ValueError(f"tail must be in (0, 1), got {tail}")
    k_unit = np.asarray(dist.quantile(1.0 - tail), dtype=np.int64)
    total = np.zeros(n)
    if n == 0:
        return total
    k_max = int(k_unit.max())
    if k_max > max_k:
        raise ValueError(
            f"CRPS grid would need K = {k_max} > max_k = {max_k}; raise max_k if intended"
        )
    # a unit needs the grid up to its own quantile and its observation; past both, the
    # remaining terms are (1 - F(k))**2 <= tail**2
    reach = np.maximum(k_unit, y_arr)
    rows = max(1, _CRPS_BLOCK_ELEMENTS // n)
    can_take = hasattr(dist, "take")
    for start in range(0, k_max + 1, rows):
        active = np.flatnonzero(reach >= start)
        part = dist.take(active) if can_take and active.size < n else dist  # type: ignore[attr-defined]
        idx = active if part is not dist else np.arange(n)
        ks = np.arange(start, min(start + rows, k_max + 1), dtype=float)[:, None]
        cdf = np.asarray(part.cdf(ks))
        step = (y_arr[idx][None, :] <= ks).astype(float)
        total[idx] += np.sum((cdf - step) ** 2, axis=0)
    total += np.maximum(y_arr - k_max - 1, 0.0)
    return total


def log_score(dist: CountDistribution, y: ArrayLike) -> np.ndarray:
    """Return the log score ``-log P(Y = y)`` per unit (lower is better).

    Parameters
    ----------
    dist : CountDistribution
        Per-unit forecasts.
    y : array_like
        Observed counts, shape ``(n,)``.

    Returns
    -------
    numpy.ndarray
        Negative log predictive probability per unit, in nats. ``inf`` where the forecast
        gave the observation probability 0 (e.g. a zero mean and a positive count);
        callers floor means to keep it finite, but an infinite score is reported honestly.
    """
    y_arr = _as_counts(y, len(dist))
    return -dist.logpmf(y_arr)


def brier_any(dist: CountDistribution, y: ArrayLike) -> float:
    """Return the Brier score of the event "at least one crime", averaged over units.

    Parameters
    ----------
    dist : CountDistribution
        Per-unit forecasts.
    y : array_like
        Observed counts, shape ``(n,)``.

    Returns
    -------
    float
        ``mean_i (P(Y_i >= 1) - 1{y_i >= 1})**2``; 0 is perfect, lower is better.
    """
    y_arr = _as_counts(y, len(dist))
    p = dist.prob_at_least(1)
    return float(np.mean((p - (y_arr >= 1)) ** 2))


def _point_inputs(mean: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(mean, dtype=float)
    obs = np.asarray(y, dtype=float)
    if m.shape != obs.shape:
        raise ValueError(f"mean has shape {m.shape}, y has shape {obs.shape}")
    if m.size == 0:
        raise ValueError("no units to score")
    return m, obs


def mae(mean: ArrayLike, y: ArrayLike) -> float:
    """Return the mean absolute error of point forecasts.

    Parameters
    ----------
    mean : array_like
        Point forecasts (predictive means).
    y : array_like
        Observations, same shape.

    Returns
    -------
    float
        ``mean |mean - y|``.
    """
    m, obs = _point_inputs(mean, y)
    return float(np.mean(np.abs(m - obs)))


def rmse(mean: ArrayLike, y: ArrayLike) -> float:
    """Return the root mean squared error of point forecasts.

    Parameters
    ----------
    mean : array_like
        Point forecasts (predictive means).
    y : array_like
        Observations, same shape.

    Returns
    -------
    float
        ``sqrt(mean (mean - y)**2)``.
    """
    m, obs = _point_inputs(mean, y)
    return float(np.sqrt(np.mean((m - obs) ** 2)))


# -- calibration -----------------------------------------------------------------------------


def central_interval(dist: DiscreteForecast, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the central prediction interval ``[lo, hi]`` per unit.

    ``lo = Q((1 - level) / 2)`` and ``hi = Q((1 + level) / 2)``, where ``Q(p)`` is the
    smallest integer ``k`` with ``F(k) >= p``.

    Parameters
    ----------
    dist : DiscreteForecast
        Per-unit forecasts.
    level : float
        Nominal level in ``(0, 1)``, e.g. 0.9.

    Returns
    -------
    lo, hi : numpy.ndarray
        Integer bounds per unit (both inclusive).

    Notes
    -----
    For discrete forecasts the interval's own probability ``F(hi) - F(lo - 1)`` is *at
    least* ``level`` (``F(hi) >= (1 + level) / 2`` and ``F(lo - 1) < (1 - level) / 2``),
    often much more for small means: a Poisson(0.2) 90% interval is ``[0, 1]`` with
    probability 0.98. Empirical coverage of a calibrated forecast therefore exceeds the
    nominal level, so coverage is conservative and cannot by itself show calibration; the
    randomised PIT (:func:`randomised_pit`) is the sound check.
    """
    level = float(level)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    lo = np.asarray(dist.quantile((1.0 - level) / 2.0))
    hi = np.asarray(dist.quantile((1.0 + level) / 2.0))
    return lo, hi


def coverage(y: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> float:
    """Return the share of units whose observation lies in ``[lo, hi]`` (inclusive).

    Parameters
    ----------
    y, lo, hi : array_like
        Observations and interval bounds, same shape.

    Returns
    -------
    float
        Share in ``[0, 1]``.
    """
    obs, low, high = (np.asarray(a, dtype=float) for a in (y, lo, hi))
    if not obs.shape == low.shape == high.shape:
        raise ValueError(f"shapes differ: y {obs.shape}, lo {low.shape}, hi {high.shape}")
    if obs.size == 0:
        raise ValueError("no units to score")
    return float(np.mean((low <= obs) & (obs <= high)))


def randomised_pit(dist: DiscreteForecast, y: ArrayLike, rng: np.random.Generator) -> np.ndarray:
    """Return randomised probability integral transform values per unit.

    ``u = F(y - 1) + V (F(y) - F(y - 1))`` with ``V ~ Uniform(0, 1)`` independent
    (Czado, Gneiting and Held 2009). If the observations are drawn from the forecasts
    ``u`` is exactly Uniform(0, 1); a U shape means over-confident (too narrow)
    forecasts, a hump under-confident ones, a slope biased means.

    Parameters
    ----------
    dist : DiscreteForecast
        Per-unit forecasts.
    y : array_like
        Observed counts, shape ``(n,)``.
    rng : numpy.random.Generator
        Source of ``V``.

    Returns
    -------
    numpy.ndarray
        PIT values in ``[0, 1]``, shape ``(n,)``.
    """
    y_arr = _as_counts(y, _n_units(dist))
    upper = np.asarray(dist.cdf(y_arr))
    lower = np.asarray(dist.cdf(y_arr - 1))
    v = rng.uniform(size=y_arr.shape[0])
    return np.clip(lower + v * (upper - lower), 0.0, 1.0)


def _pit_counts(pit: ArrayLike, bins: int) -> np.ndarray:
    values = np.asarray(pit, dtype=float).ravel()
    if values.size == 0:
        raise ValueError("no PIT values")
    if np.any(~np.isfinite(values)) or np.any((values < 0) | (values > 1)):
        raise ValueError("PIT values must lie in [0, 1]")
    if int(bins) < 1:
        raise ValueError("bins must be >= 1")
    counts, _ = np.histogram(values, bins=int(bins), range=(0.0, 1.0))
    return counts


def pit_histogram(pit: ArrayLike, bins: int = 10) -> np.ndarray:
    """Return the relative frequency of PIT values in equal bins of ``[0, 1]``.

    Parameters
    ----------
    pit : array_like
        PIT values in ``[0, 1]``.
    bins : int, default 10
        Number of equal-width bins.

    Returns
    -------
    numpy.ndarray
        Frequencies summing to 1, shape ``(bins,)``; each is ``1 / bins`` when calibrated.
    """
    counts = _pit_counts(pit, bins)
    return counts / counts.sum()


def pit_uniformity(pit: ArrayLike, bins: int = 10) -> float:
    """Return the chi-square goodness-of-fit p-value of a flat PIT histogram.

    Parameters
    ----------
    pit : array_like
        PIT values in ``[0, 1]`` (treated as independent; units in the same period are
        not quite, so read small p-values as a flag, not a verdict).
    bins : int, default 10
        Number of equal-width bins (``bins - 1`` degrees of freedom).

    Returns
    -------
    float
        p-value of :func:`scipy.stats.chisquare` against equal expected counts.
    """
    counts = _pit_counts(pit, bins)
    return float(stats.chisquare(counts).pvalue)


# -- concentration ---------------------------------------------------------------------------


def _capture_inputs(
    score: ArrayLike, observed: ArrayLike, area: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(score, dtype=float)
    obs = np.asarray(observed, dtype=float)
    a = np.asarray(area, dtype=float)
    if not (s.ndim == obs.ndim == a.ndim == 1):
        raise ValueError("score, observed and area must be one-dimensional")
    if not s.shape == obs.shape == a.shape:
        raise ValueError(f"lengths differ: score {s.size}, observed {obs.size}, area {a.size}")
    if s.size == 0:
        raise ValueError("no units")
    if np.any(np.isnan(s)):
        raise ValueError("score contains NaN")
    if not np.all(np.isfinite(obs)) or np.any(obs < 0):
        raise ValueError("observed must be finite and non-negative")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("areas must be finite and > 0")
    return s, obs, a


def _capture_knots(
    score: np.ndarray, observed: np.ndarray, area: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the cumulative-area / cumulative-events knots of a ranking by ``score``.

    Units are sorted by descending score and units with equal scores are merged into one
    block; knots sit at block ends, so interpolating between them takes a block in
    proportion to its area. Captured events are piecewise linear in the area budget.
    """
    order = np.argsort(-score, kind="stable")
    s = score[order]
    ends = np.r_[np.flatnonzero(s[:-1] != s[1:]), s.size - 1]
    cum_area = np.cumsum(area[order])[ends]
    cum_events = np.cumsum(observed[order])[ends]
    return np.r_[0.0, cum_area], np.r_[0.0, cum_events]


def area_capture(
    score: ArrayLike, observed: ArrayLike, area: ArrayLike, budget_share: float
) -> dict[str, float]:
    """Return hit rate, PAI and PEI* of one forecast at one area budget.

    Units are ranked by ``score`` (forecast density, e.g. predicted mean / area),
    highest first, and taken until the area budget ``a = budget_share * A`` is used
    (``A`` the total area of all units). The unit that straddles the budget counts in
    proportion to the share of its area that fits, so units of unequal area (LSOAs) are
    handled and the captured count is fractional.

    Ties: units with equal score form one block of uniform density; a block straddling
    the budget is taken in proportion to its area (each of its units contributes the same
    share of its events). The result does not depend on unit order, and for equal-area
    units equals the expected capture under random tie-breaking.

    Parameters
    ----------
    score : array_like
        Ranking score per unit (higher is selected first); NaN is rejected.
    observed : array_like
        Observed events per unit, non-negative.
    area : array_like
        Area per unit, ``> 0`` (any unit; only shares matter).
    budget_share : float
        Share of the total area searched, in ``(0, 1]``.

    Returns
    -------
    dict of str to float
        ``n_captured``
            Events in the selected area ``n`` (fractional).
        ``n_total``
            All events ``N``.
        ``hit_rate``
            ``n / N``.
        ``pai``
            Predictive accuracy index ``(n / N) / (a / A)``.
        ``n_star``
            The most events any selection of area ``a`` could capture: the same rule
            applied to the ranking by observed density ``observed / area``.
        ``pei_star``
            Predictive efficiency index ``n / n_star`` in ``[0, 1]``.
        ``area_share``
            ``a / A``.

        When ``N == 0`` there is nothing to capture: ``hit_rate``, ``pai`` and
        ``pei_star`` are NaN (callers drop such origins from averages).

    Raises
    ------
    ValueError
        If lengths differ, an area is not ``> 0``, observed is negative, ``score`` has NaN
        or ``budget_share`` is not in ``(0, 1]``.
    """
    s, obs, a = _capture_inputs(score, observed, area)
    share = float(budget_share)
    if not 0 < share <= 1:
        raise ValueError(f"budget_share must be in (0, 1], got {budget_share}")
    x, c = _capture_knots(s, obs, a)
    budget = share * x[-1]
    n = float(np.interp(budget, x, c))
    xs, cs = _capture_knots(obs / a, obs, a)
    n_star = float(np.interp(budget, xs, cs))
    total = float(c[-1])
    if total > 0:
        hit_rate, pai, pei = n / total, n / total / share, n / n_star
    else:
        hit_rate = pai = pei = float("nan")
    return {
        "n_captured": n,
        "n_total": total,
        "hit_rate": hit_rate,
        "pai": pai,
        "n_star": n_star,
        "pei_star": pei,
        "area_share": share,
    }


def hit_rate_curve(
    score: ArrayLike,
    observed: ArrayLike,
    area: ArrayLike,
    shares: ArrayLike | None = None,
) -> pd.DataFrame:
    """Return hit rate and PAI over a range of area budgets, by the :func:`area_capture` rule.

    One sort and cumulative sums give the capture knots; each budget is then a linear
    interpolation, so the curve agrees exactly with :func:`area_capture` (including the
    treatment of ties and of the straddling unit).

    Parameters
    ----------
    score, observed, area : array_like
        As for :func:`area_capture`.
    shares : array_like, optional
        Area budgets in ``(0, 1]``; default ``np.linspace(0.01, 1, 100)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``share``, ``hit_rate``, ``pai``, one row per budget; NaN rates when no
        events were observed.
    """
    s, obs, a = _capture_inputs(score, observed, area)
    grid = np.linspace(0.01, 1.0, 100) if shares is None else np.asarray(shares, dtype=float)
    grid = np.atleast_1d(grid)
    if grid.ndim != 1 or np.any(~(grid > 0)) or np.any(grid > 1):
        raise ValueError("shares must be a vector of values in (0, 1]")
    x, c = _capture_knots(s, obs, a)
    n = np.interp(grid * x[-1], x, c)
    total = c[-1]
    hit = n / total if total > 0 else np.full(grid.shape, np.nan)
    return pd.DataFrame({"share": grid, "hit_rate": hit, "pai": hit / grid})


# -- across origins --------------------------------------------------------------------------


def _se(values: pd.Series) -> float:
    v = values.dropna()
    return float(v.std(ddof=1) / np.sqrt(v.size)) if v.size >= 2 else float("nan")


def summarise_origins(
    per_origin: pd.DataFrame,
    by: Sequence[str] | str = ("model",),
    metric_cols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Average per-origin metrics across origins, with standard errors.

    Parameters
    ----------
    per_origin : pandas.DataFrame
        One row per origin and group (e.g. ``model, origin, crps, ...``).
    by : sequence of str or str, default ``("model",)``
        Grouping columns.
    metric_cols : sequence of str, optional
        Metrics to summarise; default every numeric column not in ``by`` and not
        ``"origin"``.

    Returns
    -------
    pandas.DataFrame
        Long format: the ``by`` columns, ``metric``, ``mean``, ``se``, ``n_origins``.
        NaN values are ignored; ``n_origins`` counts the non-NaN values; ``se`` is the
        sample standard deviation (``ddof=1``) over ``sqrt(n_origins)``, NaN when
        ``n_origins < 2`` (and ``mean`` is NaN when it is 0). Rows are sorted by the
        ``by`` columns, then metrics in ``metric_cols`` order. The standard error treats
        origins as independent, which overlapping seasons make optimistic.

    Raises
    ------
    ValueError
        If a named column is missing or a metric is not numeric.
    """
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in keys if c not in per_origin.columns]
    if missing:
        raise ValueError(f"grouping columns not found: {missing}")
    if metric_cols is None:
        numeric = per_origin.select_dtypes("number").columns
        metrics = [c for c in numeric if c not in keys and c != ORIGIN_COL]
    else:
        metrics = list(metric_cols)
        absent = [c for c in metrics if c not in per_origin.columns]
        if absent:
            raise ValueError(f"metric columns not found: {absent}")
        bad = [c for c in metrics if not pd.api.types.is_numeric_dtype(per_origin[c])]
        if bad:
            raise ValueError(f"metric columns are not numeric: {bad}")
    frames = []
    for metric in metrics:
        grouped = per_origin.groupby(keys, dropna=False, sort=True)[metric]
        stats_ = grouped.agg(mean="mean", se=_se, n_origins="count").reset_index()
        stats_.insert(len(keys), "metric", metric)
        frames.append(stats_)
    columns = [*keys, "metric", "mean", "se", "n_origins"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    order = {m: i for i, m in enumerate(metrics)}
    out["_order"] = out["metric"].map(order)
    out = out.sort_values([*keys, "_order"], kind="stable").drop(columns="_order")
    out["mean"] = out["mean"].astype(float)
    out["se"] = out["se"].astype(float)
    out["n_origins"] = out["n_origins"].astype(int)
    return out[columns].reset_index(drop=True)


def paired_difference(
    per_origin: pd.DataFrame,
    model_a: str,
    model_b: str,
    metric: str,
    *,
    model_col: str = "model",
    origin_col: str = ORIGIN_COL,
) -> dict[str, float]:
    """Compare two models origin by origin: mean and standard error of ``a - b``.

    Pairing removes the variation shared by both models (a hard period is hard for both),
    so this standard error is the one to use when asking whether ``a`` beats ``b``.

    Parameters
    ----------
    per_origin : pandas.DataFrame
        One row per model and origin with the metric as a column.
    model_a, model_b : str
        Models to compare.
    metric : str
        Metric column.
    model_col, origin_col : str
        Column names of the model and origin.

    Returns
    -------
    dict
        ``mean_diff`` (mean of ``a - b``), ``se`` (sample std with ``ddof=1`` over
        ``sqrt(n)``, NaN when ``n < 2``) and ``n`` (origins where both models have a
        non-NaN value; ``mean_diff`` is NaN when it is 0).

    Raises
    ------
    ValueError
        If a column is missing or a model has two rows for one origin.
    """
    for col in (model_col, origin_col, metric):
        if col not in per_origin.columns:
            raise ValueError(f"column not found: {col!r}")

    def _series(model: str) -> pd.Series:
        rows = per_origin.loc[per_origin[model_col] == model, [origin_col, metric]]
        if rows[origin_col].duplicated().any():
            raise ValueError(f"model {model!r} has more than one row for an origin")
        return rows.set_index(origin_col)[metric].astype(float).dropna()

    a, b = _series(model_a), _series(model_b)
    common = a.index.intersection(b.index)
    diff = a.loc[common] - b.loc[common]
    n = int(diff.size)
    mean = float(diff.mean()) if n else float("nan")
    return {"mean_diff": mean, "se": _se(diff), "n": n}
