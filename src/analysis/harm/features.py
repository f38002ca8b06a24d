"""Features of each person at a reference date, from charges dated before that date only.

The function here is handed the charges *before* the reference date (the cohort builder
cuts them) and never sees a later record; :func:`person_features` also refuses history
that reaches the reference date, so a leak cannot happen by accident.

Features (one row per person):

``harm_3m, harm_12m, harm_24m, harm_all``
    Harm in days in the 3, 12 and 24 months before the date, and over the whole history.
``harm_max, harm_last``
    Harm of the most serious single charge and of the latest charge: how serious the
    offences are, apart from how many.
``harm_trend``
    ``log(1 + harm_12m) - log(1 + harm in the 12 months before those)``: rising harm > 0.
``charges_12m, charges_all``
    Number of charges (whatever the counting rule, since a charge is a contact).
``n_<family>``
    Charges in each offence family over the whole history.
``violent_12m, violent_all, weapons_12m``
    Charges for violent offences (the code table's ``violent`` flag) and for possession of
    weapons.
``days_since_last, days_since_first``
    Recency and length of the known record.
``age_first, age_now``
    Age at the first charge in the extract and at the reference date (completed years at
    the last charge plus the time since).

Sex, ethnicity and age band are kept apart for the fairness audit and are never features.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.data.offences import load_offence_codes
from analysis.harm.person import months_before

#: Windows (months) of the harm features.
HARM_WINDOWS = (3, 12, 24)
YEAR_DAYS = 365.25


def _group_max(pid: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    if len(pid):
        np.maximum.at(out, pid, values)
    return out


def offence_families(codes: pd.DataFrame | None = None) -> list[str]:
    """Return the offence families of a code table, sorted (one count feature each)."""
    codes = load_offence_codes() if codes is None else codes
    return sorted(codes["family"].astype(str).unique())


def person_features(
    history: pd.DataFrame,
    harm: np.ndarray,
    reference_date: pd.Timestamp,
    *,
    families: Sequence[str],
    violent_codes: Sequence[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute features and audit attributes of everyone in ``history``.

    Parameters
    ----------
    history : pandas.DataFrame
        Canonical charges dated strictly before ``reference_date``.
    harm : numpy.ndarray
        Harm (days) of each row of ``history`` under the measure in use.
    reference_date : pandas.Timestamp
        The date the features describe.
    families : sequence of str
        Offence families to count.
    violent_codes : sequence of str
        Offence codes flagged violent.

    Returns
    -------
    features : pandas.DataFrame
        Index ``person_id`` (sorted); the columns listed in the module docstring.
    people : pandas.DataFrame
        Same index: ``home_lsoa`` (latest known), and the audit-only attributes ``sex``,
        ``ethnic_group`` (at the latest charge) and ``age_now``.

    Raises
    ------
    ValueError
        If ``history`` holds a charge on or after the reference date.
    """
    ref = pd.Timestamp(reference_date)
    date = history["charge_date"].to_numpy(dtype="datetime64[ns]")
    if len(date) and date.max() >= np.datetime64(ref):
        raise ValueError("history reaches the reference date: features would leak")
    harm = np.asarray(harm, dtype=float)
    pid, people = pd.factorize(history["person_id"], sort=True)
    n = len(people)
    tie = history["row"].to_numpy() if "row" in history else np.arange(len(pid))
    order = np.lexsort((tie, date, pid))
    first_pos = np.searchsorted(pid[order], np.arange(n), side="left")
    last_pos = np.searchsorted(pid[order], np.arange(n), side="right") - 1
    first, last = order[first_pos], order[last_pos]

    def total(mask: np.ndarray | None = None, w: np.ndarray | None = None) -> np.ndarray:
        sel = np.ones(len(pid), dtype=bool) if mask is None else mask
        weights = None if w is None else w[sel]
        return np.bincount(pid[sel], weights=weights, minlength=n).astype(float)

    def since(months: int) -> np.ndarray:
        return date >= np.datetime64(months_before(ref, months))

    out: dict[str, np.ndarray] = {}
    for m in HARM_WINDOWS:
        out[f"harm_{m}m"] = total(since(m), harm)
    out["harm_all"] = total(None, harm)
    out["harm_max"] = _group_max(pid, harm, n)
    out["harm_last"] = harm[last]
    prev = since(24) & ~since(12)
    out["harm_trend"] = np.log1p(out["harm_12m"]) - np.log1p(total(prev, harm))
    out["charges_12m"] = total(since(12))
    out["charges_all"] = total()
    fam = history["family"].astype("string").fillna("").to_numpy(dtype=object)
    for f in families:
        out[f"n_{f}"] = total(fam == f)
    violent = history["offence_code"].astype(str).isin(list(violent_codes)).to_numpy()
    out["violent_12m"] = total(violent & since(12))
    out["violent_all"] = total(violent)
    out["weapons_12m"] = total((fam == "weapons") & since(12))
    days = (np.datetime64(ref) - date).astype("timedelta64[D]").astype(float)
    out["days_since_last"] = days[last]
    out["days_since_first"] = days[first]
    age = pd.to_numeric(history["age"], errors="coerce").to_numpy(dtype=float)
    out["age_first"] = age[first]
    out["age_now"] = age[last] + days[last] / YEAR_DAYS

    index = pd.Index(people, name="person_id")
    features = pd.DataFrame(out, index=index)

    def latest(column: str) -> np.ndarray:
        if column not in history:
            return np.full(n, None, dtype=object)
        values = history[column].astype("string").to_numpy(dtype=object)
        known = ~pd.isna(values)
        # the latest known value: the last row in date order with a value
        sel = order[known[order]]  # rows with a value, by person then date
        p = pid[sel]
        end = np.flatnonzero(np.r_[p[1:] != p[:-1], True]) if len(p) else np.array([], int)
        pos = np.full(n, -1)
        pos[p[end]] = sel[end]
        return np.where(pos >= 0, values[np.maximum(pos, 0)], None)

    people_frame = pd.DataFrame(
        {
            "home_lsoa": latest("home_lsoa"),
            "sex": latest("sex"),
            "ethnic_group": latest("ethnic_group"),
            "age_now": out["age_now"],
        },
        index=index,
    )
    return features, people_frame
