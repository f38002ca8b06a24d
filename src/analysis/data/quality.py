"""The data-quality step: validate a data folder and summarise it without person-level rows."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd

from analysis.data.loaders import load_charges, load_crimes
from analysis.data.offences import load_offence_codes, load_offence_groups
from analysis.data.options import LoadOptions

#: Files a data folder holds, by contract.
DATA_FILES = {"crimes": "crimes.csv.gz", "charges": "charges.csv.gz"}


def data_quality(
    data_dir: str | Path, out_dir: str | Path, *, as_of: date | None = None
) -> dict[str, object]:
    """Validate ``crimes.csv.gz`` and ``charges.csv.gz`` of a folder and summarise them.

    Outside ``out_dir/restricted/`` only aggregates are written: the reconciliation of each
    file, rejected-row counts by reason, and monthly crime counts by offence group. The
    quarantined crime rows (no personal data) go to ``crimes_rejected.csv``; quarantined
    charge rows, which name pseudonymised people, go to ``restricted/charges_rejected.csv``.

    Parameters
    ----------
    data_dir : str or Path
        Folder with the files (and ``study_area.geojson`` if crimes are to be checked
        against the study area).
    out_dir : str or Path
        Output folder.
    as_of : date, optional
        Dates after this day are rejected; default today.

    Returns
    -------
    dict
        ``files`` (summary per file) and ``monthly`` (crime counts by month and group).
    """
    data_dir, out = Path(data_dir), Path(out_dir)
    (out / "restricted").mkdir(parents=True, exist_ok=True)
    area = data_dir / "study_area.geojson"
    options = LoadOptions(as_of=as_of, area=area if area.exists() else None)
    crimes = load_crimes(data_dir / DATA_FILES["crimes"], options)
    charges = load_charges(data_dir / DATA_FILES["charges"], options)
    crimes.rejected.to_csv(out / "crimes_rejected.csv", index=False)
    charges.rejected.to_csv(out / "restricted" / "charges_rejected.csv", index=False)

    acc = crimes.accepted
    table = load_offence_codes()
    month = acc["event_date"].dt.to_period("M").astype(str)
    monthly = {"all_in_extract": acc.groupby(month).size()}
    for name, group in load_offence_groups().items():
        monthly[name] = acc.loc[group.mask(acc, table)].groupby(month).size()
    monthly_df = pd.DataFrame(monthly).fillna(0).astype(int).rename_axis("month")
    monthly_df.to_csv(out / "monthly_counts.csv")

    files = {"crimes": crimes.summary(), "charges": charges.summary()}
    report = {
        "files": files,
        "charges_by_outcome": charges.accepted["outcome"].value_counts().to_dict(),
        "monthly": monthly_df.reset_index().to_dict(orient="records"),
    }
    (out / "data_quality.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    return report
