"""The audit groups: sex, age band and broad ethnic group of each cohort member."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Age bands (lower bound inclusive, upper bound exclusive, label).
AGE_BANDS = (
    (10.0, 18.0, "10-17"),
    (18.0, 25.0, "18-24"),
    (25.0, 35.0, "25-34"),
    (35.0, 50.0, "35-49"),
    (50.0, np.inf, "50+"),
)

#: Label of a missing value in any audit attribute.
UNKNOWN = "unknown"


def age_band(age: pd.Series | np.ndarray) -> np.ndarray:
    """Return the age band of each age (``unknown`` when missing or below 10)."""
    a = np.asarray(pd.to_numeric(pd.Series(age), errors="coerce"), dtype=float)
    out = np.full(len(a), UNKNOWN, dtype=object)
    for lo, hi, label in AGE_BANDS:
        out[(a >= lo) & (a < hi)] = label
    return out


def audit_attributes(people: pd.DataFrame) -> pd.DataFrame:
    """Return the audit attributes of cohort members.

    Parameters
    ----------
    people : pandas.DataFrame
        ``sex``, ``ethnic_group`` and ``age_now`` (as built by the cohort).

    Returns
    -------
    pandas.DataFrame
        Same index; ``sex``, ``age_band``, ``ethnic_group`` as text, missing as ``unknown``.
    """

    def text(column: str) -> np.ndarray:
        if column not in people:
            return np.full(len(people), UNKNOWN, dtype=object)
        return people[column].astype("string").fillna(UNKNOWN).to_numpy(dtype=object)

    return pd.DataFrame(
        {
            "sex": text("sex"),
            "age_band": age_band(people["age_now"]) if "age_now" in people else UNKNOWN,
            "ethnic_group": text("ethnic_group"),
        },
        index=people.index,
    )
