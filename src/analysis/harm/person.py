"""Harm per person over windows of time.

Every function takes charges in the canonical columns of
:func:`analysis.data.load_charges` (``person_id``, ``charge_date``, ``offence_code``,
``family``, ``outcome``) and a :class:`~analysis.harm.index.HarmMeasure`. Windows are
half-open, ``[start, end)``, in calendar months counted back from a date.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.harm.index import HarmMeasure


def months_before(date: pd.Timestamp, months: int) -> pd.Timestamp:
    """Return the day ``months`` calendar months before ``date`` (same day of month)."""
    return pd.Timestamp(date) - pd.DateOffset(months=months)


def months_after(date: pd.Timestamp, months: int) -> pd.Timestamp:
    """Return the day ``months`` calendar months after ``date``."""
    return pd.Timestamp(date) + pd.DateOffset(months=months)


def harm_in_window(
    charges: pd.DataFrame,
    measure: HarmMeasure,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    weights: np.ndarray | None = None,
) -> pd.Series:
    """Return each person's harm (days) from charges dated in ``[start, end)``.

    Parameters
    ----------
    charges : pandas.DataFrame
        Canonical charges.
    measure : HarmMeasure
        Index and counting rule.
    start, end : pandas.Timestamp
        Window.
    weights : numpy.ndarray, optional
        Precomputed ``measure.weigh(charges)`` (saves time when called repeatedly).

    Returns
    -------
    pandas.Series
        Index ``person_id`` of everyone charged in the window (harm 0 included).
    """
    w = measure.weigh(charges) if weights is None else weights
    date = charges["charge_date"].to_numpy()
    inside = (date >= np.datetime64(pd.Timestamp(start))) & (
        date < np.datetime64(pd.Timestamp(end))
    )
    ids = charges["person_id"].to_numpy()[inside]
    return pd.Series(w[inside]).groupby(ids).sum().rename("harm_days").rename_axis("person_id")


def trailing_harm(
    charges: pd.DataFrame,
    measure: HarmMeasure,
    date: pd.Timestamp,
    months: int = 12,
    *,
    weights: np.ndarray | None = None,
) -> pd.Series:
    """Return harm in the ``months`` before ``date`` of everyone charged in that window."""
    return harm_in_window(
        charges, measure, months_before(date, months), pd.Timestamp(date), weights=weights
    )


def rolling_harm(
    charges: pd.DataFrame,
    measure: HarmMeasure,
    dates: Sequence[pd.Timestamp],
    months: int = 12,
) -> pd.DataFrame:
    """Return trailing-window harm per person at each of several dates.

    Parameters
    ----------
    charges : pandas.DataFrame
        Canonical charges.
    measure : HarmMeasure
        Index and counting rule.
    dates : sequence of pandas.Timestamp
        Window ends (each window is the ``months`` before the date).
    months : int
        Window length in calendar months.

    Returns
    -------
    pandas.DataFrame
        Long table ``person_id, date, harm_days`` (people charged in each window).
    """
    w = measure.weigh(charges)
    parts = []
    for d in dates:
        h = trailing_harm(charges, measure, d, months, weights=w).reset_index()
        h.insert(1, "date", pd.Timestamp(d))
        parts.append(h)
    if not parts:
        return pd.DataFrame(columns=["person_id", "date", "harm_days"])
    return pd.concat(parts, ignore_index=True)
