"""Crime harm indices as versioned tables.

Only published figures are included. The Cambridge Crime Harm Index (Sherman, Neyroud and
Neyroud 2016) weights each offence by the days of imprisonment at the sentencing-guideline
starting point for a first offender. The table here holds the published *subgroup medians*
(in days) by offence family; families without a published median have no weight and are
reported as such rather than given an invented one.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

#: Version of the packaged Cambridge CHI table (bump when the table changes).
CAMBRIDGE_CHI_VERSION = "cambridge-chi-family-medians-v1"


def cambridge_chi_by_family() -> pd.Series:
    """Return the Cambridge Crime Harm Index subgroup medians, in days, by offence family.

    Returns
    -------
    pandas.Series
        Index: offence family (as in the offence code table); values: days.

    Notes
    -----
    Families mapped to the published subgroups: ``sexual`` carries the *rape* median and
    is meant only for rape codes; ``burglary_residential`` the residential burglary median.
    """
    path = Path(str(resources.files("analysis.harm") / "reference"))
    table = pd.read_csv(path / "cambridge_chi_family_medians.csv")
    series = table.set_index("family")["days"].astype(float)
    series.name = CAMBRIDGE_CHI_VERSION
    return series
