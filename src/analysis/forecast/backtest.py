"""Rolling-origin backtest: fit on the past only, forecast the next 4-week period, score.

At each origin every model sees only :meth:`Panel.context` (counts and events before the
origin's first day) and forecasts the origin period; metrics are computed per origin, then
averaged with standard errors across origins. Units are fixed before the first origin.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from analysis.forecast import metrics as M
from analysis.forecast.base import Forecaster
from analysis.forecast.distributions import CountDistribution
from analysis.forecast.panel import Panel, origins_of
from analysis.space import PeriodCalendar

log = logging.getLogger("analysis.forecast")

#: Area budgets (share of the total area of the units) for hit rate, PAI and PEI*.
BUDGETS = (0.01, 0.05, 0.10)
#: Quantiles stored with every forecast.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Interval levels whose coverage is reported.
LEVELS = (0.5, 0.8, 0.9)


@dataclass
class BacktestResult:
    """Everything a backtest produces.

    Attributes
    ----------
    metrics : pandas.DataFrame
        One row per model, origin and metric (``model, origin, metric, value``).
    forecasts : pandas.DataFrame
        ``unit, origin, model, mean, q05, q25, q50, q75, q95, observed``.
    curves : pandas.DataFrame
        Hit-rate curves: ``model, origin, share, hit_rate, pai``.
    pit : pandas.DataFrame
        Randomised PIT values: ``model, origin, pit``.
    fit_seconds : pandas.DataFrame
        ``model, origin, seconds``.
    skipped : dict of str to str
        Models not run, and why.
    origins : numpy.ndarray
        The origins.
    """

    metrics: pd.DataFrame
    forecasts: pd.DataFrame
    curves: pd.DataFrame
    pit: pd.DataFrame
    fit_seconds: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)
    origins: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))

    def summary(self) -> pd.DataFrame:
        """Return the leaderboard: one row per model, means across origins (and ``_se``).

        Sorted by CRPS; models skipped for lack of history follow with ``n_origins`` 0 and
        the reason in ``note``.
        """
        wide = self.metrics.pivot_table(
            index=["model", "origin"], columns="metric", values="value"
        ).reset_index()
        long = M.summarise_origins(wide, by=("model",))
        table = long.pivot_table(index="model", columns="metric", values="mean")
        se = long.pivot_table(index="model", columns="metric", values="se").add_suffix("_se")
        n = self.metrics.groupby("model")["origin"].nunique().rename("n_origins")
        secs = self.fit_seconds.groupby("model")["seconds"].sum().rename("fit_seconds")
        out = pd.concat([n, table, secs, se], axis=1).reset_index(names="model")
        lead = ["model", "n_origins"]
        for b in BUDGETS:
            tag = f"{round(b * 100):d}pct"
            lead += [f"hit_rate_{tag}", f"pai_{tag}", f"pei_star_{tag}"]
        lead += ["crps", "log_score", "mae", "rmse", "coverage_50", "coverage_90", "fit_seconds"]
        out["note"] = ""
        skipped = pd.DataFrame(
            {
                "model": list(self.skipped),
                "n_origins": 0,
                "note": [f"skipped: {why}" for why in self.skipped.values()],
            }
        )
        out = out.sort_values("crps")
        if len(skipped):
            out = pd.concat([out, skipped], ignore_index=True)
        rest = [c for c in out.columns if c not in lead]
        return out[[c for c in lead if c in out.columns] + rest]


def score_origin(
    dist: CountDistribution, observed: np.ndarray, area: np.ndarray, rng: np.random.Generator
) -> tuple[dict[str, float], pd.DataFrame, np.ndarray]:
    """Score one forecast against what happened.

    Returns
    -------
    metrics : dict
        Metric name to value.
    curve : pandas.DataFrame
        Hit-rate curve.
    pit : numpy.ndarray
        Randomised PIT values per unit.
    """
    y = observed
    score = dist.mean / area
    out: dict[str, float] = {}
    for b in BUDGETS:
        tag = f"{round(b * 100):d}pct"
        cap = M.area_capture(score, y, area, b)
        out[f"hit_rate_{tag}"] = cap["hit_rate"]
        out[f"pai_{tag}"] = cap["pai"]
        out[f"pei_star_{tag}"] = cap["pei_star"]
    out["crps"] = float(np.mean(M.crps(dist, y)))
    out["log_score"] = float(np.mean(M.log_score(dist, y)))
    out["mae"] = float(M.mae(dist.mean, y))
    out["rmse"] = float(M.rmse(dist.mean, y))
    out["brier_any"] = float(M.brier_any(dist, y))
    for level in LEVELS:
        lo, hi = M.central_interval(dist, level)
        out[f"coverage_{round(level * 100):d}"] = float(M.coverage(y, lo, hi))
    out["observed_total"] = float(y.sum())
    out["forecast_total"] = float(dist.mean.sum())
    curve = M.hit_rate_curve(score, y, area)
    return out, curve, M.randomised_pit(dist, y, rng)


def history_needed(model: Forecaster, periods_per_year: int) -> int:
    """Return the periods of history ``model`` needs on a calendar of ``periods_per_year``.

    A model whose need depends on the calendar (a year of lags) says so with a
    ``history_needed(periods_per_year)`` method; otherwise it is ``min_history``.
    """
    needed = getattr(model, "history_needed", None)
    return int(needed(periods_per_year)) if callable(needed) else int(model.min_history)


def data_periods(calendar: PeriodCalendar, first_day: date, cutoff: date) -> tuple[int, int, int]:
    """Return the periods data from ``first_day`` to ``cutoff`` cover, as a panel counts them.

    The first period is the first starting on or after ``first_day`` (a partial first
    period is dropped); the last is the one holding ``cutoff``, complete only when it ends
    on or before ``cutoff``.

    Parameters
    ----------
    calendar : PeriodCalendar
        The period calendar.
    first_day : date
        First day of the data.
    cutoff : date
        Last day of the data.

    Returns
    -------
    first, last : int
        First and last period (``last < first`` when the data cover none).
    complete : int
        Number of complete periods from ``first`` to ``last``.
    """
    start = pd.Timestamp(first_day).normalize()
    first = int(calendar.period_of(start))
    if calendar.start(first) < start:
        first += 1
    last = int(calendar.period_of(pd.Timestamp(cutoff)))
    first_incomplete = int(calendar.period_of(pd.Timestamp(cutoff) + pd.Timedelta(days=1)))
    return first, last, max(0, min(last + 1, first_incomplete) - first)


def require_history(
    calendar: PeriodCalendar,
    first_day: date,
    cutoff: date,
    test_periods: int,
    models: list[Forecaster],
) -> None:
    """Refuse a backtest the data cannot hold, saying what is missing.

    The data must start on or before the cut-off and hold at least ``test_periods``
    complete periods (the origins) plus the history the least demanding of ``models``
    needs before the first origin (models needing more are skipped by
    :func:`run_backtest`).

    Parameters
    ----------
    calendar : PeriodCalendar
        The period calendar.
    first_day : date
        First day of the data (the first event's day, or the extract's first recorded
        day).
    cutoff : date
        Last day of the data.
    test_periods : int
        Number of origins.
    models : list of Forecaster
        The models to compare.

    Raises
    ------
    ValueError
        If ``test_periods`` is not positive, the cut-off is before the first day, or the
        complete periods are too few.
    """
    if test_periods < 1:
        raise ValueError(
            f"the number of origins (--test-periods) must be at least 1, got {test_periods}"
        )
    first_day, cutoff = pd.Timestamp(first_day).date(), pd.Timestamp(cutoff).date()
    if cutoff < first_day:
        raise ValueError(
            f"the cut-off {cutoff} is before the data's first event ({first_day}): "
            "nothing to count; give a later --cutoff"
        )
    first, last, complete = data_periods(calendar, first_day, cutoff)
    needs = {m.name: max(1, history_needed(m, calendar.periods_per_year)) for m in models}
    least = min(needs, key=needs.__getitem__) if needs else None
    history = needs[least] if least else 1
    if complete < test_periods + history:
        held = (
            f"from {calendar.start(first).date()} to {calendar.last_day(last).date()}"
            if complete
            else f"between {first_day} and {cutoff}"
        )
        who = f"the least any model needs ({least})" if least else "at least one"
        raise ValueError(
            f"the data hold {complete} complete {calendar.days}-day period(s) {held}; "
            f"the backtest needs {test_periods + history}: {test_periods} origin(s) "
            f"(--test-periods) plus {history} period(s) of history, {who}; give more "
            "data or fewer --test-periods"
        )


def run_backtest(
    panel: Panel,
    models: list[Forecaster],
    test_periods: int,
    *,
    seed: int = 0,
    progress: bool = True,
) -> BacktestResult:
    """Run the rolling-origin backtest.

    Parameters
    ----------
    panel : Panel
        Counts, events and units.
    models : list of Forecaster
        Models to compare (all see the same origins).
    test_periods : int
        Number of origins: the last complete periods of the panel.
    seed : int
        Seed of the randomised PIT.
    progress : bool
        Show a progress bar.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ValueError
        If ``test_periods`` is not positive or leaves the panel no history.
    """
    if test_periods < 1:
        raise ValueError(f"the number of origins must be at least 1, got {test_periods}")
    origins = origins_of(panel, test_periods)
    area = panel.units["area_km2"].to_numpy()
    rng = np.random.default_rng(seed)
    first_history = int(np.searchsorted(panel.periods, origins[0]))
    needed = {m.name: history_needed(m, panel.periods_per_year) for m in models}
    skipped = {
        m.name: f"needs {needed[m.name]} periods of history, the first origin has {first_history}"
        for m in models
        if needed[m.name] > first_history
    }
    runnable = [m for m in models if m.name not in skipped]
    rows, fcs, curves, pits, secs = [], [], [], [], []
    bar = tqdm(total=len(origins) * len(runnable), desc="backtest", disable=not progress)
    for origin in origins:
        ctx = panel.context(int(origin))
        y = panel.observed(int(origin))
        for model in runnable:
            bar.set_postfix_str(f"{model.name} @ {origin}")
            start = time.perf_counter()
            dist = model.predict(ctx)
            seconds = time.perf_counter() - start
            values, curve, pit = score_origin(dist, y, area, rng)
            rows += [(model.name, int(origin), k, v) for k, v in values.items()]
            curves.append(curve.assign(model=model.name, origin=int(origin)))
            pits.append(pd.DataFrame({"model": model.name, "origin": int(origin), "pit": pit}))
            secs.append((model.name, int(origin), seconds))
            q = {f"q{round(p * 100):02d}": dist.quantile(p) for p in QUANTILES}
            fcs.append(
                pd.DataFrame(
                    {
                        "unit": panel.units["unit_id"].to_numpy(),
                        "origin": int(origin),
                        "model": model.name,
                        "mean": dist.mean,
                        **q,
                        "observed": y,
                    }
                )
            )
            bar.update()
    bar.close()
    for name, why in skipped.items():
        log.warning("skipped %s: %s", name, why)
    return BacktestResult(
        metrics=pd.DataFrame(rows, columns=["model", "origin", "metric", "value"]),
        forecasts=pd.concat(fcs, ignore_index=True) if fcs else pd.DataFrame(),
        curves=pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(),
        pit=pd.concat(pits, ignore_index=True) if pits else pd.DataFrame(),
        fit_seconds=pd.DataFrame(secs, columns=["model", "origin", "seconds"]),
        skipped=skipped,
        origins=origins,
    )
