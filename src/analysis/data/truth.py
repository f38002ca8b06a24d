"""The synthetic sample's escalation truth file (``truth/escalation.csv.gz``).

The truth file holds, for each reference date and cohort member, the true probability of
becoming high harm in the next 12 months, whether it happened, whether the person is an
escalator, and the CHI threshold. Real data have no such file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.data.errors import LoadError
from analysis.data.reading import read_csv_table

TRUTH_COLUMNS = (
    "reference_date",
    "person_id",
    "true_probability",
    "realised",
    "escalator",
    "threshold_chi_days",
)


def load_escalation_truth(path: str | Path) -> pd.DataFrame:
    """Read the escalation truth file.

    Raises
    ------
    LoadError
        If the file cannot be read or a column is missing.
    """
    truth = read_csv_table(path, dtype={"person_id": str, "reference_date": str})
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise LoadError(path, f"escalation truth lacks columns {missing}")
    for c in ("realised", "escalator"):
        truth[c] = truth[c].astype(str).str.lower().eq("true")
    return truth
