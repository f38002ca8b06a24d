"""The data-quality step: validate a data folder and summarise it without person-level rows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.data.folder import FolderData
from analysis.data.serial import write_csv


def data_quality(data: FolderData, out_dir: str | Path) -> dict[str, object]:
    """Summarise a validated data folder's crimes and charges.

    Outside ``out_dir/restricted/`` only aggregates are written: the reconciliation of each
    file, rejected-row counts by reason, and monthly crime counts by offence group. The
    quarantined rows go to ``restricted/``: crime rows (crime references, dates, places,
    some exact coordinates) to ``crimes_rejected.csv``, charge rows (which name people) to
    ``charges_rejected.csv``. Each file's source is named relative to the data folder.

    Parameters
    ----------
    data : FolderData
        The folder as validated once for the run (:meth:`DataFolder.load`).
    out_dir : str or Path
        Output folder.

    Returns
    -------
    dict
        ``files`` (summary per file) and ``monthly`` (crime counts by month and group).
    """
    out = Path(out_dir)
    (out / "restricted").mkdir(parents=True, exist_ok=True)
    crimes, charges = data.crimes, data.charges
    write_csv(crimes.rejected, out / "restricted" / "crimes_rejected.csv", index=False)
    if charges is not None:
        write_csv(charges.rejected, out / "restricted" / "charges_rejected.csv", index=False)

    acc = crimes.accepted
    month = acc["event_date"].dt.to_period("M").astype(str)
    monthly = {"all_in_extract": acc.groupby(month).size()}
    for name, group in data.offence_groups.items():
        monthly[name] = acc.loc[group.mask(acc, data.offence_codes)].groupby(month).size()
    monthly_df = pd.DataFrame(monthly).fillna(0).astype(int).rename_axis("month")
    write_csv(monthly_df, out / "monthly_counts.csv")

    outcomes = {} if charges is None else charges.accepted["outcome"].value_counts().to_dict()
    named = data.folder.described()
    files = {role: {**s, "source": named[role]} for role, s in data.summaries().items()}
    report = {
        "files": files,
        "charges_by_outcome": outcomes,
        "monthly": monthly_df.reset_index().to_dict(orient="records"),
    }
    (out / "data_quality.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    return report
