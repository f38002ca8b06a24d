"""The 4-week period calendar that forecasts and counts are aggregated on.

Periods are consecutive blocks of ``days`` days (28 by default) counted from an
anchor date. Period ``k`` runs from ``anchor + k * days`` (inclusive) to
``anchor + (k + 1) * days`` (exclusive), so every date, before or after the
anchor, falls in exactly one period. Time of day is always ignored: a date-time
counts on its calendar day.

Seasonal terms repeat every :attr:`PeriodCalendar.periods_per_year` periods: the whole
number of periods nearest a year (13 four-week periods, 52 weeks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, overload

import numpy as np
import pandas as pd

#: First day of period 0 (a Monday, so every period starts on a Monday).
DEFAULT_ANCHOR = date(2018, 1, 1)

#: Length of a period in days (four weeks).
DEFAULT_PERIOD_DAYS = 28

#: Mean length of a (Gregorian) year in days.
DAYS_PER_YEAR = 365.25

#: Largest difference, in days, between a seasonal cycle of whole periods and a year.
MAX_SEASON_DRIFT_DAYS = 7.0

_ONE_DAY = pd.Timedelta(days=1)


def _is_scalar(value: Any) -> bool:
    """Return True for a single date-like value (including strings)."""
    return isinstance(value, str) or np.ndim(value) == 0


def _parse_dates(values: Any, what: str) -> pd.DatetimeIndex:
    """Parse array-like date-times into a tz-naive DatetimeIndex normalised to midnight.

    Parameters
    ----------
    values : array-like
        Dates or date-times (pandas Series/Index, numpy array, list). Strings
        must be ISO 8601 (``YYYY-MM-DD`` with optional time), which avoids any
        day/month ambiguity.
    what : str
        Name of the input, for error messages.

    Returns
    -------
    pandas.DatetimeIndex
        Normalised, tz-naive dates (the local calendar day for tz-aware input);
        missing values stay NaT.

    Raises
    ------
    ValueError
        If any value cannot be parsed.
    """
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(pd.Index(values), format="ISO8601"))
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{what} could not be read as dates: {exc}") from exc
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize()


def _to_days_index(values: Any, what: str) -> pd.DatetimeIndex:
    """Parse dates like :func:`_parse_dates`, refusing missing values.

    Raises
    ------
    ValueError
        If any value is missing (the message says how many) or unparsable.
    """
    idx = _parse_dates(values, what)
    n_missing = int(idx.isna().sum())
    if n_missing:
        raise ValueError(
            f"{what} has {n_missing} missing date(s) out of {len(idx)}; choose a date "
            "for every record first (e.g. with event_date) before assigning periods"
        )
    return idx


def _to_day(value: Any, what: str) -> pd.Timestamp:
    """Parse one date-like value into a tz-naive Timestamp at midnight."""
    return _to_days_index([value], what)[0]


@dataclass(frozen=True)
class PeriodCalendar:
    """A calendar of consecutive fixed-length periods counted from an anchor day.

    Period ``k`` covers the days ``anchor + k * days`` up to and including
    ``anchor + (k + 1) * days - 1``. Negative ``k`` are periods before the anchor.

    Parameters
    ----------
    anchor : datetime.date, default DEFAULT_ANCHOR
        First day of period 0.
    days : int, default DEFAULT_PERIOD_DAYS
        Length of every period in days; at least 1.

    Raises
    ------
    ValueError
        If ``days`` is not a positive integer or ``anchor`` is not a date.
    """

    anchor: date = DEFAULT_ANCHOR
    days: int = DEFAULT_PERIOD_DAYS

    def __post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, int | np.integer):
            raise ValueError(f"period length days must be an integer, got {self.days!r}")
        if self.days < 1:
            raise ValueError(f"period length days must be at least 1, got {self.days}")
        if not isinstance(self.anchor, date):
            raise ValueError(f"anchor must be a datetime.date, got {self.anchor!r}")

    @property
    def periods_per_year(self) -> int:
        """Return the periods in a seasonal cycle: the whole number nearest a year.

        ``round(365.25 / days)``: 13 for 28-day periods (a 364-day cycle), 52 for 7-day
        weeks (364 days), 26 for fortnights, 12 for 30- or 31-day periods (360 or 372
        days). Periods have a fixed length (the calendar has no calendar months), so the
        cycle drifts against the year by ``365.25 - periods_per_year * days`` days a year.

        Supported lengths are those whose cycle is within a week
        (:data:`MAX_SEASON_DRIFT_DAYS`) of a year and has at least 2 periods: every length
        from 1 to 16 days, and longer ones close to a fraction of a year (e.g. 28, 30, 31,
        91 or 182 days).

        Returns
        -------
        int
            At least 2.

        Raises
        ------
        ValueError
            If the cycle has fewer than 2 periods (periods longer than about half a
            year: no season to estimate), or its length differs from a year by more than
            a week (e.g. 21-, 29- or 100-day periods), so that "the same period of the
            year" would wander through the seasons.
        """
        n = round(DAYS_PER_YEAR / self.days)
        if n < 2:
            raise ValueError(
                f"{self.days}-day periods give {n} period(s) a year: seasonal terms need "
                "at least 2 (periods of at most about half a year)"
            )
        drift = DAYS_PER_YEAR - n * self.days
        if abs(drift) > MAX_SEASON_DRIFT_DAYS:
            raise ValueError(
                f"{self.days}-day periods do not divide a year: {n} of them make "
                f"{n * self.days} days, {abs(drift):g} days from a year (at most "
                f"{MAX_SEASON_DRIFT_DAYS:g} allowed), so seasons would drift; choose e.g. "
                "7, 14, 28 or 30 days"
            )
        return int(n)

    @property
    def _anchor_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.anchor).normalize()

    @overload
    def period_of(self, dates: date | str | pd.Timestamp | np.datetime64) -> int: ...

    @overload
    def period_of(self, dates: Any) -> np.ndarray: ...

    def period_of(self, dates: Any) -> int | np.ndarray:
        """Return the period index of each date.

        Parameters
        ----------
        dates : scalar or array-like of date-likes
            A single date/date-time (returns an ``int``) or a pandas Series,
            DatetimeIndex, numpy array or list of them. Strings must be ISO 8601.
            Time of day is ignored; tz-aware values count on their local
            calendar day.

        Returns
        -------
        int or numpy.ndarray
            ``floor((day - anchor) / days)`` as a Python int for a scalar input,
            otherwise an int64 array in input order. Dates before the anchor give
            negative indices.

        Raises
        ------
        ValueError
            If any date is missing (NaT/None) or unparsable; the message says how
            many are missing.
        """
        if _is_scalar(dates):
            day = _to_day(dates, "date")
            return int((day - self._anchor_ts) // _ONE_DAY) // self.days
        idx = _to_days_index(dates, "dates")
        offsets = np.asarray((idx - self._anchor_ts) // _ONE_DAY, dtype=np.int64)
        return np.floor_divide(offsets, self.days).astype(np.int64)

    @overload
    def start(self, k: int | np.integer) -> pd.Timestamp: ...

    @overload
    def start(self, k: Any) -> pd.DatetimeIndex: ...

    def start(self, k: Any) -> pd.Timestamp | pd.DatetimeIndex:
        """Return the first day (midnight) of period ``k``.

        Parameters
        ----------
        k : int or array-like of int
            Period index or indices.

        Returns
        -------
        pandas.Timestamp or pandas.DatetimeIndex
            A Timestamp for a scalar ``k``, a DatetimeIndex otherwise.
        """
        if np.ndim(k) == 0:
            return self._anchor_ts + pd.Timedelta(days=int(k) * self.days)
        ks = np.asarray(k, dtype=np.int64)
        return pd.DatetimeIndex(self._anchor_ts + pd.to_timedelta(ks * self.days, unit="D"))

    @overload
    def end(self, k: int | np.integer) -> pd.Timestamp: ...

    @overload
    def end(self, k: Any) -> pd.DatetimeIndex: ...

    def end(self, k: Any) -> pd.Timestamp | pd.DatetimeIndex:
        """Return the exclusive end of period ``k`` (midnight starting period ``k + 1``).

        Parameters
        ----------
        k : int or array-like of int
            Period index or indices.

        Returns
        -------
        pandas.Timestamp or pandas.DatetimeIndex
            ``start(k + 1)``.
        """
        return self.start(np.asarray(k, dtype=np.int64) + 1 if np.ndim(k) else int(k) + 1)

    @overload
    def last_day(self, k: int | np.integer) -> pd.Timestamp: ...

    @overload
    def last_day(self, k: Any) -> pd.DatetimeIndex: ...

    def last_day(self, k: Any) -> pd.Timestamp | pd.DatetimeIndex:
        """Return the last day (inclusive, at midnight) of period ``k``.

        Parameters
        ----------
        k : int or array-like of int
            Period index or indices.

        Returns
        -------
        pandas.Timestamp or pandas.DatetimeIndex
            ``end(k)`` minus one day.
        """
        return self.end(k) - _ONE_DAY

    def next_period(self, run_date: Any) -> int:
        """Return the first period whose start day is on or after ``run_date``.

        This is the period a forecast made on ``run_date`` is for. On a period's
        first day that same period is "next" (it has not yet accumulated any
        data); on any later day of a period the following period is next. Time of
        day is ignored.

        Parameters
        ----------
        run_date : date-like
            The day the forecast is run.

        Returns
        -------
        int
            ``ceil((run_day - anchor) / days)``.

        Raises
        ------
        ValueError
            If ``run_date`` is missing or unparsable.
        """
        day = _to_day(run_date, "run_date")
        offset = int((day - self._anchor_ts) // _ONE_DAY)
        return -((-offset) // self.days)

    @overload
    def is_complete(self, k: int | np.integer, cutoff: Any) -> bool: ...

    @overload
    def is_complete(self, k: Any, cutoff: Any) -> np.ndarray: ...

    def is_complete(self, k: Any, cutoff: Any) -> bool | np.ndarray:
        """Say whether period ``k`` is fully covered by data up to ``cutoff``.

        Parameters
        ----------
        k : int or array-like of int
            Period index or indices.
        cutoff : date-like
            The inclusive data cut-off: the last day for which data are complete.

        Returns
        -------
        bool or numpy.ndarray
            True where the period's last day is on or before ``cutoff``; a bool for
            a scalar ``k``, a boolean array otherwise.

        Raises
        ------
        ValueError
            If ``cutoff`` is missing or unparsable.
        """
        day = _to_day(cutoff, "cutoff")
        # last_day(k) <= cutoff  <=>  start(k + 1) <= cutoff + 1 day
        #                        <=>  k < period_of(cutoff + 1 day)
        first_incomplete = self.period_of(day + _ONE_DAY)
        if np.ndim(k) == 0:
            return bool(int(k) < first_incomplete)
        return np.asarray(k, dtype=np.int64) < first_incomplete

    def table(self, first: int, last: int, cutoff: Any = None) -> pd.DataFrame:
        """Tabulate periods ``first`` to ``last`` inclusive.

        Parameters
        ----------
        first, last : int
            First and last period index (inclusive); ``first <= last``.
        cutoff : date-like, optional
            Inclusive data cut-off used for the ``complete`` column. When None
            every period is marked complete.

        Returns
        -------
        pandas.DataFrame
            One row per period with columns ``period`` (int64), ``start``
            (first day), ``end`` (exclusive end), ``last_day`` (inclusive),
            ``label`` (``"YYYY-MM-DD/YYYY-MM-DD"``, first and last day) and
            ``complete`` (bool).

        Raises
        ------
        ValueError
            If ``first > last``.
        """
        first, last = int(first), int(last)
        if first > last:
            raise ValueError(f"first period {first} is after last period {last}")
        ks = np.arange(first, last + 1, dtype=np.int64)
        starts = self.start(ks)
        ends = self.end(ks)
        last_days = ends - _ONE_DAY
        labels = starts.strftime("%Y-%m-%d") + "/" + last_days.strftime("%Y-%m-%d")
        complete = np.ones(len(ks), dtype=bool) if cutoff is None else self.is_complete(ks, cutoff)
        return pd.DataFrame(
            {
                "period": ks,
                "start": starts,
                "end": ends,
                "last_day": last_days,
                "label": np.asarray(labels, dtype=object),
                "complete": complete,
            }
        )


def event_date(committed_from: pd.Series, recorded: pd.Series) -> pd.Series:
    """Return the date each crime counts on: committed-from date, else recorded date.

    Parameters
    ----------
    committed_from : pandas.Series
        Start of the period in which the offence was committed (may be missing).
    recorded : pandas.Series
        Date the crime was recorded; used where ``committed_from`` is missing.
        Must have the same length; it is aligned by position.

    Returns
    -------
    pandas.Series
        Datetimes normalised to midnight (tz-naive), with ``committed_from``'s
        index and name ``"event_date"``. NaT remains only where both are missing.

    Raises
    ------
    ValueError
        If the lengths differ or values cannot be read as dates.
    """
    if len(committed_from) != len(recorded):
        raise ValueError(
            f"committed_from has {len(committed_from)} rows but recorded has {len(recorded)}"
        )
    committed_idx = _parse_dates(committed_from, "committed_from")
    recorded_idx = _parse_dates(recorded, "recorded")
    chosen = committed_idx.where(committed_idx.notna(), recorded_idx)
    return pd.Series(chosen, index=committed_from.index, name="event_date")
