"""The backtest job: load a file, count it on a grid, run every model, write the leaderboard.

:func:`run_backtest_job` is the job's one entry point, called by ``analysis backtest`` (which
only maps its arguments to :class:`BacktestSettings` and ``LoadOptions``) and by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis import __version__
from analysis.data import LoadOptions, load
from analysis.data.offences import load_offence_codes, load_offence_groups
from analysis.data.reading import file_sha256
from analysis.forecast.backtest import BacktestResult, data_periods, require_history, run_backtest
from analysis.forecast.output import write_backtest, write_model_records
from analysis.forecast.panel import Panel, build_panel
from analysis.forecast.registry import DEFAULT_MODELS, make_forecaster
from analysis.report.manifest import git_state, package_versions
from analysis.space import PeriodCalendar, require_metric_crs


@dataclass(frozen=True)
class BacktestSettings:
    """What a backtest counts and scores.

    Attributes
    ----------
    format : str
        Data contract of the file (``events``, ``crimes``, ``policeuk``).
    models : tuple of str
        Forecaster specs (``name`` or ``name:param=value,...``).
    offence_group : str, optional
        With ``crimes``: the group to forecast.
    offence_groups : Path, optional
        Offence groups file (default the packaged groups).
    cell_area_km2, period_days : float, int
        Grid cell area and period length.
    anchor : date
        First day of period 0.
    test_periods : int
        Number of origins (at least 1).
    cutoff : date, optional
        Last day of the data (default the last event's day).
    seed : int
        Seed of the randomised PIT.
    area : Path, optional
        Study-area polygon file.
    """

    format: str = "events"
    models: tuple[str, ...] = DEFAULT_MODELS
    offence_group: str | None = None
    offence_groups: Path | None = None
    cell_area_km2: float = 1.0
    period_days: int = 28
    anchor: date = date(2018, 1, 1)
    test_periods: int = 13
    cutoff: date | None = None
    seed: int = 0
    area: Path | None = None
    accept_month_dates: bool = False

    def __post_init__(self) -> None:
        if self.test_periods < 1:
            raise ValueError(
                f"--test-periods is the number of origins and must be at least 1, "
                f"got {self.test_periods}"
            )


#: Fewest distinct months before dates all on the 1st are taken for month-only dates.
MONTH_ONLY_MIN_MONTHS = 2


def month_only(times: pd.Series) -> bool:
    """Whether event times carry only a month: every one at midnight on the 1st.

    police.uk files and many extracts give the month of an offence, not its day; binned
    into 4-week periods they leave about one period in 13 empty and others holding two
    months. Detected when every time is midnight on the first of a month across at least
    :data:`MONTH_ONLY_MIN_MONTHS` distinct months (one month alone says nothing).
    """
    t = pd.to_datetime(times.dropna())
    if t.empty:
        return False
    on_first = bool(((t.dt.day == 1) & (t == t.dt.normalize())).all())
    return on_first and t.dt.to_period("M").nunique() >= MONTH_ONLY_MIN_MONTHS


def require_day_dates(times: pd.Series, accept: bool) -> str | None:
    """Refuse month-only dates on 4-week periods, unless accepted; return the note to print.

    Raises
    ------
    ValueError
        When every date is the 1st of a month (:func:`month_only`) and ``accept`` is False:
        the message names the flag that runs anyway.
    """
    if not month_only(times):
        return None
    months = pd.to_datetime(times.dropna()).dt.to_period("M").nunique()
    if not accept:
        raise ValueError(
            f"every event date is the 1st of a month ({months} months): the data give "
            "months, not days, and 4-week periods would leave about one period in 13 "
            "empty and others holding two months. Calendar-month periods are not "
            "available yet; rerun with --accept-month-dates to score on 4-week periods "
            "knowingly (the run records it)"
        )
    return (
        f"month-only dates ({months} months, every date the 1st) binned into "
        f"4-week periods as --accept-month-dates asked: about one period in 13 is empty "
        "and others hold two months, which inflates every model's error"
    )


def require_spread(
    events: pd.DataFrame, calendar: PeriodCalendar, first_day: date, cutoff: date
) -> None:
    """Refuse events that span no area when the study area is to be drawn round them.

    Without a study area the backtest's grid covers the convex hull of the events the
    panel counts (from the first complete period to the cut-off); events at one point or
    on one line have a hull of no area.

    Parameters
    ----------
    events : pandas.DataFrame
        Events with ``time``, ``x`` and ``y``.
    calendar : PeriodCalendar
        The period calendar.
    first_day, cutoff : date
        First and last day of the data.

    Raises
    ------
    ValueError
        If the counted events span no area.
    """
    ev = events[["time", "x", "y"]].dropna()
    day = ev["time"].dt.normalize()
    first, _, _ = data_periods(calendar, first_day, cutoff)
    keep = (day <= pd.Timestamp(cutoff)).to_numpy() & (calendar.period_of(day) >= first)
    xy = ev.loc[keep, ["x", "y"]].to_numpy(dtype=float)
    if len(xy) and shapely.MultiPoint(xy).convex_hull.area > 0:
        return
    where = "at one point" if len(np.unique(xy, axis=0)) <= 1 else "on one line"
    raise ValueError(
        f"the {len(xy)} events counted lie {where} and span no area, so no study area can "
        "be drawn round them: give --area (a study-area polygon file) or more events"
    )


@dataclass
class BacktestOutcome:
    """What the job produced: the panel, the scores, the files and what to tell the user.

    ``data`` is the file's reconciliation (:meth:`analysis.data.LoadResult.summary`).
    """

    panel: Panel
    result: BacktestResult
    files: dict[str, Path]
    n_events: int
    notes: list[str] = field(default_factory=list)
    data: dict[str, object] = field(default_factory=dict)


def run_backtest_job(
    path: str | Path,
    settings: BacktestSettings,
    options: LoadOptions,
    out: str | Path,
    *,
    record: dict[str, object] | None = None,
    progress: bool = True,
) -> BacktestOutcome:
    """Run the rolling-origin backtest of ``settings.models`` on one file.

    Parameters
    ----------
    path : str or Path
        The data file.
    settings : BacktestSettings
        What to count and score.
    options : LoadOptions
        How to read and validate the file.
    out : str or Path
        Output folder (``summary.csv``, ``metrics.csv``, figures, ``run.json``, ...).
    record : dict, optional
        More entries for ``run.json`` (the command line's arguments, say).
    progress : bool
        Show a progress bar.

    Raises
    ------
    ValueError
        For an unknown model or offence group, a crimes file without a group, a cut-off
        before the data, fewer complete periods than the origins plus the history the
        models need, or (without ``settings.area``) events spanning no area.
    """
    models = [make_forecaster(m) for m in settings.models]
    result = load(path, settings.format, options)
    crs = require_metric_crs(result.crs).to_string()
    acc = result.accepted
    if settings.format == "crimes":
        if not settings.offence_group:
            raise ValueError("--format crimes needs --offence-group (e.g. serious_violence)")
        groups = load_offence_groups(settings.offence_groups)
        if settings.offence_group not in groups:
            raise ValueError(
                f"unknown offence group {settings.offence_group!r}; choose from {sorted(groups)}"
            )
        codes = load_offence_codes(options.offence_codes)
        acc = acc.loc[groups[settings.offence_group].mask(acc, codes)]
        events = acc.assign(time=acc["event_date"])
        data_start = result.accepted["recorded_date"].min().date()
    elif settings.format == "policeuk":
        events, data_start = acc.assign(time=acc["month"]), None
    else:
        events, data_start = acc, None
    calendar = PeriodCalendar(anchor=settings.anchor, days=settings.period_days)
    timed = events[["time", "x", "y"]].dropna()
    month_note = require_day_dates(timed["time"], settings.accept_month_dates)
    if len(timed):  # no events at all: build_panel says so
        day = timed["time"].dt.normalize()
        first_day = data_start or day.min().date()
        cutoff = settings.cutoff or day.max().date()
        require_history(calendar, first_day, cutoff, settings.test_periods, models)
        if settings.area is None:
            require_spread(timed, calendar, first_day, cutoff)
    area = gpd.read_file(settings.area).to_crs(crs).geometry if settings.area else None
    panel = build_panel(
        events,
        calendar=calendar,
        cell_area_km2=settings.cell_area_km2,
        area=area,
        crs=crs,
        test_periods=settings.test_periods,
        cutoff=settings.cutoff,
        data_start=data_start,
    )
    # the code's state when the run starts: a commit made while it runs is not its code
    code = {"analysis_version": __version__, **git_state(Path(__file__).parent)}
    bt = run_backtest(panel, models, settings.test_periods, seed=settings.seed, progress=progress)
    run = {
        "command": "analysis backtest",
        **(record or {}),
        "data": result.summary(),
        "month_only_dates": month_note is not None,
        "data_sha256": file_sha256(path),
        "crs": crs,
        "code": code,
        "packages": package_versions(),
    }
    files = write_backtest(bt, panel, out, run)
    files.update(write_model_records(models, out))
    return BacktestOutcome(
        panel=panel,
        result=bt,
        files=files,
        n_events=len(events),
        notes=[*([month_note] if month_note else []), *panel.notes],
        data=result.summary(),
    )
