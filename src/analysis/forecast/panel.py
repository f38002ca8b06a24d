"""Counts per spatial unit and 4-week period, and the view of them a forecaster may see.

A :class:`Panel` holds the events (in a metric CRS, times in days from the calendar's
anchor), the fixed spatial units, and the count matrix. :meth:`Panel.context` cuts it at a
forecast origin: a :class:`ForecastContext` contains *copies* of the counts and events
strictly before the origin's first day, so no forecaster can see the future.

Seasonal terms follow the calendar: both carry ``periods_per_year``
(:attr:`analysis.space.PeriodCalendar.periods_per_year`: 13 for 28-day periods, 52 for
weeks), and :func:`season_of` numbers the periods of a year with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from analysis.space import PeriodCalendar, assign_points, build_adjacency, make_grid


@dataclass
class ForecastContext:
    """Everything a forecaster may use at one origin: the past only.

    Attributes
    ----------
    counts : numpy.ndarray
        Counts per unit (rows) and past period (columns), oldest first; shape
        (n_units, n_history).
    periods : numpy.ndarray
        Calendar period index of each column of ``counts``.
    origin : int
        Calendar period index being forecast.
    t0 : float
        First day of the origin period, in days since the calendar anchor.
    horizon : float
        Length of the period in days.
    events : pandas.DataFrame
        Past events (``t`` in days since the anchor, ``x``, ``y``, ``unit`` index, -1 when
        outside every unit), all with ``t < t0``.
    units : geopandas.GeoDataFrame
        The fixed units (``unit_id``, ``area_km2``, ``cx``, ``cy``, geometry).
    neighbours : scipy.sparse.csr_matrix
        Binary adjacency of the units (queen).
    covariates : pandas.DataFrame, optional
        Unit covariates aligned with ``units``.
    selected_before : int, optional
        When the units were chosen as the cells with at least one event before this
        period (``Panel.selected_before``); None when they were given. A model's checks
        need it: every unit has an offence in those periods by construction.
    periods_per_year : int
        Periods in a seasonal cycle, from the panel's calendar
        (:attr:`analysis.space.PeriodCalendar.periods_per_year`); the default is the
        default 28-day calendar's 13.
    """

    counts: np.ndarray
    periods: np.ndarray
    origin: int
    t0: float
    horizon: float
    events: pd.DataFrame
    units: gpd.GeoDataFrame
    neighbours: sparse.csr_matrix
    covariates: pd.DataFrame | None = None
    selected_before: int | None = None
    periods_per_year: int = PeriodCalendar().periods_per_year

    @property
    def n_units(self) -> int:
        """Number of units."""
        return self.counts.shape[0]

    @property
    def n_history(self) -> int:
        """Number of past periods available."""
        return self.counts.shape[1]

    def period_of(self, t: np.ndarray) -> np.ndarray:
        """Return the calendar period index of each time ``t`` (days since the anchor).

        Counted from the origin's first day ``t0``, so it does not assume that period 0
        starts at day 0.
        """
        steps = np.floor((np.asarray(t, dtype=float) - self.t0) / self.horizon)
        return self.origin + steps.astype(np.int64)

    def earlier(self, k: int) -> ForecastContext:
        """Return the context at the origin ``k`` periods earlier (for pseudo-origins).

        Parameters
        ----------
        k : int
            How many periods to step back (1 or more, less than ``n_history``).
        """
        if not 1 <= k < self.n_history:
            raise ValueError(f"cannot step back {k} periods from {self.n_history} of history")
        t0 = self.t0 - k * self.horizon
        return ForecastContext(
            counts=self.counts[:, :-k],
            periods=self.periods[:-k],
            origin=self.origin - k,
            t0=t0,
            horizon=self.horizon,
            events=self.events.loc[self.events["t"] < t0],
            units=self.units,
            neighbours=self.neighbours,
            covariates=self.covariates,
            selected_before=self.selected_before,
            periods_per_year=self.periods_per_year,
        )


@dataclass
class Panel:
    """Events, fixed units and the count matrix for a whole study.

    Attributes
    ----------
    calendar : PeriodCalendar
        The period calendar (4-weekly by default); it sets :attr:`periods_per_year`.
    units : geopandas.GeoDataFrame
        Fixed spatial units.
    periods : numpy.ndarray
        Consecutive calendar period indices covered, all fully inside the data.
    counts : numpy.ndarray
        Shape (n_units, n_periods).
    complete : numpy.ndarray
        Whether each period ends on or before the data cut-off.
    events : pandas.DataFrame
        All events (``t``, ``x``, ``y``, ``unit``, ``period``).
    neighbours : scipy.sparse.csr_matrix
        Queen adjacency of the units.
    covariates : pandas.DataFrame, optional
        Unit covariates.
    notes : list of str
        What was assumed when building the panel.
    selected_before : int, optional
        The units are the grid cells with at least one event in the periods before this
        one (the first origin); None when the units were given.
    """

    calendar: PeriodCalendar
    units: gpd.GeoDataFrame
    periods: np.ndarray
    counts: np.ndarray
    complete: np.ndarray
    events: pd.DataFrame
    neighbours: sparse.csr_matrix
    covariates: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    selected_before: int | None = None

    @property
    def periods_per_year(self) -> int:
        """Periods in a seasonal cycle, from the calendar (13 for 28-day periods)."""
        return self.calendar.periods_per_year

    def t_of(self, period: int) -> float:
        """Return the first day of a period in days since the anchor."""
        return float(period * self.calendar.days)

    def context(self, origin: int) -> ForecastContext:
        """Cut the panel at an origin: counts and events strictly before it, as copies.

        Parameters
        ----------
        origin : int
            Calendar period index to forecast; must be in the panel after its first period.
        """
        pos = int(np.searchsorted(self.periods, origin))
        if pos == 0 or pos >= len(self.periods) or self.periods[pos] != origin:
            raise ValueError(f"origin {origin} is not a period of the panel after its first")
        t0 = self.t_of(origin)
        past = self.events.loc[self.events["t"] < t0, ["t", "x", "y", "unit"]].copy()
        return ForecastContext(
            counts=self.counts[:, :pos].copy(),
            periods=self.periods[:pos].copy(),
            origin=origin,
            t0=t0,
            horizon=float(self.calendar.days),
            events=past.reset_index(drop=True),
            units=self.units,
            neighbours=self.neighbours,
            covariates=self.covariates,
            selected_before=self.selected_before,
            periods_per_year=self.periods_per_year,
        )

    def observed(self, origin: int) -> np.ndarray:
        """Return the counts of an origin period per unit."""
        return self.counts[:, int(np.searchsorted(self.periods, origin))].copy()


def build_panel(
    events: pd.DataFrame,
    *,
    calendar: PeriodCalendar | None = None,
    cell_area_km2: float = 1.0,
    area: gpd.GeoSeries | None = None,
    crs: str,
    first_origin: int | None = None,
    test_periods: int | None = None,
    cutoff: date | None = None,
    units: gpd.GeoDataFrame | None = None,
    data_start: date | None = None,
) -> Panel:
    """Count events per unit and period.

    Parameters
    ----------
    events : pandas.DataFrame
        Accepted events with ``time`` (datetime) and ``x``, ``y`` in ``crs`` (metres).
    calendar : PeriodCalendar, optional
        Default 28 days from 2018-01-01. Its period length must give a seasonal cycle
        (:attr:`analysis.space.PeriodCalendar.periods_per_year`).
    cell_area_km2 : float
        Grid cell area when ``units`` is not given.
    area : geopandas.GeoSeries, optional
        Study area; default the convex hull of the events.
    crs : str
        Metric CRS of ``x``/``y``.
    first_origin : int, optional
        First forecast origin; with ``test_periods`` instead, the origins are the last
        ``test_periods`` complete periods. Grid units are the cells with at least one event
        before the first origin (fixed before any forecast is made).
    test_periods : int, optional
        Number of origins at the end of the data.
    cutoff : date, optional
        Last day of the data (default: the day of the last event). Periods ending after it
        are incomplete.
    units : geopandas.GeoDataFrame, optional
        Units to use as they are (for example LSOAs), instead of grid cells.
    data_start : date, optional
        First day the data are complete from (default: the first event's day). For a
        crime extract selected by recorded date, pass its first recorded day: crimes
        committed earlier but recorded late make earlier periods look sparse.

    Returns
    -------
    Panel

    Raises
    ------
    ValueError
        If there are no events, the origins leave no history (or neither
        ``first_origin`` nor ``test_periods`` is given), or the calendar's period length
        does not divide a year into a seasonal cycle.
    """
    calendar = calendar or PeriodCalendar()
    _ = calendar.periods_per_year  # refuse a period length without seasons before counting
    ev = events[["time", "x", "y"]].dropna().copy()
    if ev.empty:
        raise ValueError("no events to count")
    day = ev["time"].dt.normalize()
    anchor = pd.Timestamp(calendar.anchor)
    ev["t"] = (ev["time"] - anchor).dt.total_seconds().to_numpy() / 86_400.0
    ev["period"] = calendar.period_of(day)
    cutoff_ts = pd.Timestamp(cutoff) if cutoff else day.max()
    ev = ev.loc[day <= cutoff_ts]
    first_day = pd.Timestamp(data_start) if data_start else day.min()
    notes = []
    p_first = int(calendar.period_of(first_day))
    if calendar.start(p_first) < first_day:
        notes.append(
            f"period {p_first} starts before the data start ({first_day:%Y-%m-%d}) and "
            "was dropped as partial"
        )
        p_first += 1
    p_last = int(calendar.period_of(cutoff_ts))
    periods = np.arange(p_first, p_last + 1)
    complete = np.asarray(calendar.is_complete(periods, cutoff_ts.date()), dtype=bool)
    if not complete[-1]:
        notes.append(
            f"period {p_last} ends after the cut-off {cutoff_ts:%Y-%m-%d}: incomplete, never scored"
        )
    n_complete = int(complete.sum())
    if first_origin is None:
        if test_periods is None:
            raise ValueError("give first_origin or test_periods")
        if test_periods >= n_complete:
            raise ValueError(
                f"{test_periods} test periods leave no history in {n_complete} complete periods"
            )
        first_origin = int(periods[complete][-test_periods])
    ev = ev.loc[ev["period"] >= p_first]
    t_first_origin = float(first_origin * calendar.days)

    selected = units is None
    if units is None:
        if area is None:
            hull = gpd.GeoSeries(gpd.points_from_xy(ev["x"], ev["y"]), crs=crs).union_all()
            area = gpd.GeoSeries([hull.convex_hull], crs=crs)
            notes.append("study area: convex hull of the events")
        grid = make_grid(area, cell_area_km2=cell_area_km2)
        before = ev.loc[ev["t"] < t_first_origin]
        ids = assign_points(before["x"].to_numpy(), before["y"].to_numpy(), grid)
        used = pd.Series(ids).dropna().unique()
        units = grid.loc[grid["unit_id"].isin(used)].reset_index(drop=True)
        units.attrs = dict(grid.attrs)
        notes.append(
            f"units: {len(units)} of {len(grid)} grid cells of {cell_area_km2:g} km2 "
            "with at least one event before the first origin"
        )
    lookup = pd.Series(np.arange(len(units)), index=units["unit_id"].to_numpy())
    uid = assign_points(ev["x"].to_numpy(), ev["y"].to_numpy(), units)
    ev["unit"] = pd.Series(uid).map(lookup).fillna(-1).astype(np.int64).to_numpy()
    outside = int((ev["unit"] < 0).sum())
    if outside:
        notes.append(f"{outside} events fall outside the fixed units and are not counted")
    inside = ev.loc[ev["unit"] >= 0]
    counts = np.zeros((len(units), len(periods)), dtype=np.int64)
    np.add.at(counts, (inside["unit"].to_numpy(), inside["period"].to_numpy() - p_first), 1)
    adjacency = build_adjacency(units, method="queen")
    return Panel(
        calendar=calendar,
        units=units,
        periods=periods,
        counts=counts,
        complete=complete,
        events=ev[["t", "x", "y", "unit", "period"]].reset_index(drop=True),
        neighbours=adjacency.to_sparse(),
        notes=notes,
        selected_before=int(first_origin) if selected else None,
    )


def origins_of(panel: Panel, test_periods: int) -> np.ndarray:
    """Return the last ``test_periods`` complete periods (the backtest origins)."""
    done = panel.periods[panel.complete]
    if test_periods >= len(done):
        raise ValueError(f"{test_periods} origins leave no history")
    return done[-test_periods:]


def season_of(period: int | np.ndarray, periods_per_year: int) -> np.ndarray:
    """Return the period of the year of calendar period indices.

    Parameters
    ----------
    period : int or numpy.ndarray
        Calendar period indices.
    periods_per_year : int
        Periods in a seasonal cycle (``ForecastContext.periods_per_year``).

    Returns
    -------
    numpy.ndarray
        ``period mod periods_per_year``, in ``0 .. periods_per_year - 1``.
    """
    return np.mod(np.asarray(period), periods_per_year)
