"""Census 2021 ethnic group of usual residents by LSOA (table TS021), for area-level audits.

The table is read in either of the two shapes the Office for National Statistics publishes
(its bulk download ``census2021-ts021-lsoa.csv``, with ``geography code`` and headings such
as ``Ethnic group: Asian, Asian British or Asian Welsh``; or a Nomis download, with
``mnemonic`` and the headings without the prefix). Only the five high-level groups and the
total are kept; the detailed groups (headings with a further ``:``) are summed by ONS into
them already.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.data.errors import LoadError

#: The five high-level ethnic groups of Census 2021, by a word of their ONS heading.
GROUPS: dict[str, str] = {
    "asian": "Asian, Asian British or Asian Welsh",
    "black": "Black, Black British, Black Welsh, Caribbean or African",
    "mixed": "Mixed or Multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
}
_CODE_COLUMNS = ("geography code", "mnemonic", "lsoa21cd", "lsoa code")
_PREFIX = "ethnic group:"


def _heading(name: str) -> str:
    text = name.strip()
    if text.lower().startswith(_PREFIX):
        text = text[len(_PREFIX) :].strip()
    return text


def load_ts021(path: str | Path) -> pd.DataFrame:
    """Read TS021 into one row per LSOA with each high-level group's share of residents.

    Parameters
    ----------
    path : str or Path
        The CSV (either ONS shape).

    Returns
    -------
    pandas.DataFrame
        ``lsoa21cd``, ``residents`` and ``share_<group>`` for each of :data:`GROUPS`.

    Raises
    ------
    LoadError
        If the code column, the total or a high-level group is missing, a count is not a
        whole number, or an LSOA is listed twice.
    """
    path = Path(path)
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    lower = {c.strip().lower(): c for c in table.columns}
    code = next((lower[c] for c in _CODE_COLUMNS if c in lower), None)
    if code is None:
        raise LoadError(path, f"no LSOA code column (one of {list(_CODE_COLUMNS)})")
    headings = {_heading(c): c for c in table.columns if ":" not in _heading(c)}
    total = next((c for c in table.columns if _heading(c).lower().startswith("total")), None)
    if total is None:
        raise LoadError(path, "no total column ('Total: All usual residents')")
    wanted = {"residents": total}
    for key, label in GROUPS.items():
        column = headings.get(label)
        if column is None:
            raise LoadError(path, f"no column for the ethnic group '{label}'")
        wanted[key] = column
    out = pd.DataFrame({"lsoa21cd": table[code].str.strip()})
    for key, column in wanted.items():
        values = pd.to_numeric(table[column].str.replace(",", ""), errors="coerce")
        bad = values.isna() | (values < 0) | (values % 1 != 0)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 2  # 1-based, after the header
            raise LoadError(path, f"row {row}, column '{column}': not a count of people")
        out[key] = values.astype(int)
    dupes = out["lsoa21cd"].duplicated()
    if dupes.any():
        raise LoadError(path, f"LSOA {out.loc[dupes, 'lsoa21cd'].iloc[0]} is listed twice")
    for key in GROUPS:
        out[f"share_{key}"] = out[key] / out["residents"].where(out["residents"] > 0)
    return out[["lsoa21cd", "residents", *[f"share_{k}" for k in GROUPS]]]
