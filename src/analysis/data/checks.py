"""Row-level checks: parse string columns and quarantine the rows that fail.

A :class:`Quarantine` records, for each record, the *first* check it failed (in the order
the loader runs them): the reason code, the column and a human-readable detail. Reason
codes are stable strings, listed in ``docs/data-dictionary.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

TRUE_WORDS = frozenset({"y", "yes", "true", "t", "1"})
#: The days a timestamp (nanoseconds, as every loader returns) can hold.
FIRST_DAY, LAST_DAY = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")
FALSE_WORDS = frozenset({"n", "no", "false", "f", "0", ""})


class Quarantine:
    """Collects the first failure of each record.

    Parameters
    ----------
    n : int
        Number of records being checked.
    """

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, None, dtype=object)
        self.column = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of records with no failure so far."""
        return pd.isna(self.reason)

    def flag(
        self,
        mask: np.ndarray | pd.Series,
        reason: str,
        column: str | None,
        detail: str | pd.Series | np.ndarray,
    ) -> int:
        """Quarantine records where ``mask`` holds, unless they already failed a check.

        Parameters
        ----------
        mask : array-like of bool
            Records failing this check.
        reason : str
            Stable reason code, such as ``"unparseable_date"``.
        column : str or None
            The column at fault (None for whole-row problems).
        detail : str or array-like of str
            Message for the user; an array gives one message per record.

        Returns
        -------
        int
            Number of records newly quarantined.
        """
        m = np.asarray(mask, dtype=bool) & self.ok
        if not m.any():
            return 0
        self.reason[m] = reason
        self.column[m] = column
        details = np.asarray(detail, dtype=object)
        self.detail[m] = details[m] if details.ndim else detail
        return int(m.sum())


def blank(values: pd.Series) -> np.ndarray:
    """Return a mask of empty or whitespace-only strings (and NA)."""
    s = values.astype("string").str.strip()
    return (s.isna() | (s == "")).to_numpy(dtype=bool)


def show(values: pd.Series) -> pd.Series:
    """Quote values for messages, truncating long ones."""
    return values.astype(str).str.slice(0, 40).map(repr)


def _parse_wide(values: pd.Series, fmt: str | None) -> pd.Series:
    """Parse strings to naive timestamps at the coarsest resolution that holds them.

    Sub-microsecond digits of ISO 8601 values are dropped first, so that pandas keeps a
    microsecond resolution (years -290,000 to 290,000) and a date far in the past or
    future comes back as a date, not as a failure.
    """
    s = values.astype("string").str.strip()
    if fmt is None:
        s = s.str.replace(r"(\.\d{6})\d+", r"\1", regex=True)
    parsed = pd.to_datetime(s, format=fmt or "ISO8601", errors="coerce", utc=True)
    return parsed.dt.tz_localize(None)


def _to_ns(parsed: pd.Series) -> pd.Series:
    inside = (parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max)
    return parsed.where(inside).astype("datetime64[ns]")


def parse_datetime(values: pd.Series, fmt: str | None = None) -> pd.Series:
    """Parse strings to naive timestamps; unparseable, empty and out-of-range values become NaT.

    Time-zone-aware values are converted to UTC and the zone dropped. Dates a nanosecond
    timestamp cannot hold (before 1677-09-22 or after 2262-04-11) become NaT too:
    :func:`check_dates` quarantines them as ``date_out_of_range``.

    Parameters
    ----------
    values : pandas.Series of str
        Raw values.
    fmt : str, optional
        ``strftime`` format; default ISO 8601 (``YYYY-MM-DD`` with optional time and zone).

    Returns
    -------
    pandas.Series of datetime64[ns]
    """
    return _to_ns(_parse_wide(values, fmt))


def out_of_range(raw: pd.Series, parsed: pd.Series, fmt: str | None = None) -> np.ndarray:
    """Mask of values that are valid dates but outside the range a timestamp can hold.

    Parameters
    ----------
    raw, parsed : pandas.Series
        Raw strings and their parsed timestamps (:func:`parse_datetime`).
    fmt : str, optional
        The format they were parsed with.

    Returns
    -------
    numpy.ndarray of bool
    """
    failed = ~blank(raw) & parsed.isna().to_numpy()
    mask = np.zeros(len(raw), dtype=bool)
    if failed.any():
        mask[failed] = _parse_wide(raw[failed], fmt).notna().to_numpy()
    return mask


def parse_float(values: pd.Series) -> pd.Series:
    """Parse strings to finite floats; anything else (including inf and nan) becomes NaN."""
    s = values.astype("string").str.strip()
    out = pd.to_numeric(s, errors="coerce").astype("float64")
    return out.where(np.isfinite(out))


def parse_bool(values: pd.Series) -> pd.Series:
    """Parse flag strings (Y/N, yes/no, true/false, 1/0; blank is no) to a nullable boolean.

    Unrecognised values become NA.
    """
    s = values.astype("string").str.strip().str.lower().fillna("")
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[s.isin(TRUE_WORDS)] = True
    out[s.isin(FALSE_WORDS)] = False
    return out


def check_required(q: Quarantine, df: pd.DataFrame, columns: Iterable[str]) -> None:
    """Quarantine records with an empty value in any of ``columns``."""
    for col in columns:
        q.flag(blank(df[col]), "missing_value", col, f"{col} is empty")


def check_dates(
    q: Quarantine,
    raw: pd.Series,
    parsed: pd.Series,
    column: str,
    *,
    today: date,
    min_date: date,
    required: bool,
    fmt: str | None = None,
) -> None:
    """Quarantine unparseable, out-of-range, implausibly old and future dates in one column.

    Parameters
    ----------
    q : Quarantine
        Collector.
    raw, parsed : pandas.Series
        Raw strings and their parsed timestamps.
    column : str
        Column name for messages.
    today : date
        Last acceptable day.
    min_date : date
        First acceptable day.
    required : bool
        Whether an empty value is a fault.
    fmt : str, optional
        The format ``parsed`` was parsed with (to tell a date out of range from a non-date).
    """
    empty = blank(raw)
    if required:
        q.flag(empty, "missing_value", column, f"{column} is empty")
    q.flag(
        out_of_range(raw, parsed, fmt),
        "date_out_of_range",
        column,
        f"{column} "
        + show(raw)
        + f" is outside the dates that can be held ({FIRST_DAY:%Y-%m-%d} to {LAST_DAY:%Y-%m-%d})",
    )
    bad = ~empty & parsed.isna().to_numpy()
    q.flag(bad, "unparseable_date", column, f"{column} " + show(raw) + " is not a valid date")
    day = parsed.dt.normalize()
    future = (day > pd.Timestamp(today)).to_numpy()
    q.flag(future, "future_date", column, f"{column} " + show(raw) + f" is after {today}")
    old = (day < pd.Timestamp(min_date)).to_numpy()
    q.flag(old, "implausible_date", column, f"{column} " + show(raw) + f" is before {min_date}")


def check_vocabulary(
    q: Quarantine, raw: pd.Series, allowed: Iterable[str], column: str, reason: str
) -> pd.Series:
    """Quarantine values outside a vocabulary (matched case-insensitively after trimming).

    Returns
    -------
    pandas.Series of str
        The canonical spelling of each value (NA where unknown or empty).
    """
    canon = {str(a).strip().lower(): str(a) for a in allowed}
    key = raw.astype("string").str.strip().str.lower()
    out = key.map(canon)
    unknown = ~blank(raw) & out.isna().to_numpy()
    q.flag(unknown, reason, column, f"{column} " + show(raw) + " is not a known value")
    return out.astype("string")


def duplicates(
    q: Quarantine,
    frame: pd.DataFrame,
    *,
    exact_columns: list[str],
    id_columns: list[str] | None,
    policy: str,
    exact: str,
    rows: pd.Series,
) -> None:
    """Quarantine exact duplicate rows and identifiers repeated with different content.

    Only records that passed every earlier check take part, so a faulty row never
    makes a good one look like a duplicate.

    Parameters
    ----------
    q : Quarantine
        Collector.
    frame : pandas.DataFrame
        Raw values (strings) of the records.
    exact_columns : list of str
        Columns compared for exact duplicates (all of the file's columns).
    id_columns : list of str, optional
        Columns forming the identifier; None when the format has none.
    policy : {"keep-first", "keep-last", "reject-all"}
        Rule for identifiers repeated with different content.
    exact : {"quarantine", "keep"}
        Whether exact duplicates are quarantined.
    rows : pandas.Series
        Row numbers, for messages.
    """
    alive = q.ok
    if not alive.any():
        return
    live = frame.loc[alive]
    live_rows = rows.to_numpy()[alive]
    if exact == "quarantine":
        dup = live.duplicated(subset=exact_columns, keep="first").to_numpy()
        if dup.any():
            first = live.groupby(exact_columns, dropna=False, sort=False).ngroup().to_numpy()
            first_row = pd.Series(live_rows).groupby(first).transform("min").to_numpy()
            mask = np.zeros(len(frame), dtype=bool)
            mask[np.flatnonzero(alive)[dup]] = True
            detail = np.full(len(frame), None, dtype=object)
            detail[np.flatnonzero(alive)[dup]] = [f"identical to row {r}" for r in first_row[dup]]
            q.flag(mask, "exact_duplicate", None, detail)
    if not id_columns:
        return
    alive = q.ok
    live = frame.loc[alive]
    has_id = ~np.column_stack([blank(live[c]) for c in id_columns]).any(axis=1)
    ids = live.loc[has_id, id_columns]
    if ids.empty:
        return
    repeated = ids.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return
    positions = np.flatnonzero(alive)[has_id]
    if policy == "reject-all":
        drop = repeated
    elif policy == "keep-last":
        drop = ids.duplicated(keep="last").to_numpy()
    else:
        drop = ids.duplicated(keep="first").to_numpy()
    group = ids.groupby(id_columns, sort=False).ngroup().to_numpy()
    row_arr = rows.to_numpy()[positions]
    kept_row = {}
    for g, r, d in zip(group, row_arr, drop, strict=True):
        if not d:
            kept_row.setdefault(g, r)
    mask = np.zeros(len(frame), dtype=bool)
    mask[positions[drop]] = True
    detail = np.full(len(frame), None, dtype=object)
    name = "+".join(id_columns)
    for pos, g in zip(positions[drop], group[drop], strict=True):
        if policy == "reject-all":
            detail[pos] = f"{name} repeated with different content (rule: reject-all)"
        else:
            detail[pos] = (
                f"{name} repeated with different content; row {kept_row[g]} kept (rule: {policy})"
            )
    q.flag(mask, "duplicate_id", name, detail)
