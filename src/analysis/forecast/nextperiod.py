"""Forecast the next 4-week period from a run date: the table and maps analysts use.

The period containing the data cut-off is usually incomplete, so the forecast uses complete
periods only and targets the first period starting on or after the run date (which may be
two periods after the last complete one; the baselines here depend little on that gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.data.offences import OffenceGroup
from analysis.forecast.distributions import CountDistribution
from analysis.forecast.panel import ForecastContext, build_panel
from analysis.forecast.registry import make_forecaster
from analysis.forecast.summary import summarise_predictive
from analysis.space import PeriodCalendar


@dataclass
class NextPeriodForecast:
    """A forecast of one offence group for the next 4-week period.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per unit: ``unit_id, area_km2, mean, median, lo50, hi50, lo80, hi80, lo90,
        hi90, p_any, p_at_least_k, p_top5, last_count, change`` (``change`` = mean minus the
        last complete period's count).
    units : geopandas.GeoDataFrame
        Units with geometry, in table order.
    total_mean, total_lo90, total_hi90 : float
        Force-wide total and its 90% interval (from simulated draws).
    target_period : int
        Calendar period forecast; ``target_start``/``target_end`` its first and last day.
    last_complete : int
        Last complete period used.
    model : str
        Forecaster name.
    notes : list of str
        Assumptions applied.
    checks : pandas.DataFrame, optional
        Posterior predictive checks of the fitted window (Bayesian Poisson models only).
    """

    table: pd.DataFrame
    units: gpd.GeoDataFrame
    total_mean: float
    total_lo90: float
    total_hi90: float
    target_period: int
    target_start: date
    target_end: date
    last_complete: int
    model: str
    group: str
    cell_area_km2: float
    notes: list[str]
    checks: pd.DataFrame | None = None


def forecast_next_period(
    crimes: pd.DataFrame,
    group: OffenceGroup,
    codes: pd.DataFrame,
    *,
    run_date: date,
    cutoff: date,
    data_start: date,
    area: gpd.GeoSeries,
    crs: str = "EPSG:27700",
    cell_area_km2: float | None = None,
    model: str = "ewma_rescaled",
    k: int = 3,
    draws: int = 2000,
    seed: int = 0,
    calendar: PeriodCalendar | None = None,
) -> NextPeriodForecast:
    """Forecast one offence group for the first period starting on or after ``run_date``.

    Parameters
    ----------
    crimes : pandas.DataFrame
        Accepted crimes from :func:`analysis.data.load_crimes`.
    group : OffenceGroup
        The offence group (from the run's offence-groups file).
    codes : pandas.DataFrame
        The run's offence code table (``analysis.data.offences.load_offence_codes``).
    run_date, cutoff, data_start : date
        Day of the run, last day of the data, first day of complete data.
    area : geopandas.GeoSeries
        Study area (metric CRS ``crs``).
    crs : str
        Metric CRS of the crimes' x/y.
    cell_area_km2 : float, optional
        Default: the group's default cell area.
    model : str
        Forecaster spec (see :mod:`analysis.forecast.registry`).
    k : int
        Threshold for ``p_at_least_k``.
    draws : int
        Simulated draws for the total's interval and the top-5% probability.
    seed : int
        Seed of those draws.
    calendar : PeriodCalendar, optional
        Period calendar (4-weekly by default); it sets the seasons' length.

    Returns
    -------
    NextPeriodForecast
    """
    calendar = calendar or PeriodCalendar()
    cell = float(cell_area_km2 or group.default_cell_area_km2)
    sel = crimes.loc[group.mask(crimes, codes)]
    events = sel.assign(time=sel["event_date"])[["time", "x", "y"]]
    target = int(calendar.next_period(run_date))
    panel = build_panel(
        events,
        calendar=calendar,
        cell_area_km2=cell,
        area=area,
        crs=crs,
        first_origin=target,
        cutoff=cutoff,
        data_start=data_start,
    )
    done = panel.complete
    counts = panel.counts[:, done]
    periods = panel.periods[done]
    t0 = float(target * calendar.days)
    ctx = ForecastContext(
        counts=counts,
        periods=periods,
        origin=target,
        t0=t0,
        horizon=float(calendar.days),
        events=panel.events.loc[panel.events["t"] < t0, ["t", "x", "y", "unit"]],
        units=panel.units,
        neighbours=panel.neighbours,
        selected_before=panel.selected_before,
        periods_per_year=panel.periods_per_year,
    )
    forecaster = make_forecaster(model)
    dist: CountDistribution = forecaster.predict(ctx)
    rng = np.random.default_rng(seed)
    area = panel.units["area_km2"].to_numpy()
    table, totals = summarise_predictive(dist, area, rng, k=k, draws=draws)
    table.insert(0, "unit_id", panel.units["unit_id"].to_numpy())
    table.insert(1, "area_km2", area)
    last = counts[:, -1]
    table["last_count"] = last
    table["change"] = dist.mean - last
    notes = list(panel.notes)
    for fit in getattr(forecaster, "fits", []):
        notes.append(
            f"Bayesian fit, attempt {fit['attempt'] + 1}: "
            + ("converged" if fit["converged"] else "NOT converged")
            + f"; {fit['chains']} chains x {fit['draws']} draws, {fit['divergences']} "
            f"divergences, smallest bulk ESS {fit['min_ess_bulk']:.0f}, largest R-hat "
            f"{fit['max_rhat']:.3f}, {fit['mean_steps']:.0f} leapfrog steps per draw, "
            f"{fit['sample_seconds']:.0f} s sampling"
            + (f"; failed: {fit['failures']}" if fit["failures"] else "")
        )
    skipped = panel.periods[~done]
    if len(skipped):
        notes.append(
            f"incomplete period(s) {list(map(int, skipped))} at the cut-off {cutoff} are not used"
        )
    return NextPeriodForecast(
        table=table,
        units=panel.units,
        total_mean=float(dist.mean.sum()),
        total_lo90=float(np.quantile(totals, 0.05)),
        total_hi90=float(np.quantile(totals, 0.95)),
        target_period=target,
        target_start=calendar.start(target).date(),
        target_end=calendar.last_day(target).date(),
        last_complete=int(periods[-1]),
        model=forecaster.name,
        group=group.name,
        cell_area_km2=cell,
        notes=notes,
        checks=getattr(forecaster, "checks", {}).get(target),
    )
