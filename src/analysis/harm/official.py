"""Official harm-index tables supplied by a force, read from CSV exports of the spreadsheets.

The package ships no per-code weights. A force that holds the official Cambridge Crime Harm
Index table or the ONS Crime Severity Score weights exports the spreadsheet to CSV (one row
per Home Office offence code) and loads it here. The file is validated and the resulting
:class:`~analysis.harm.index.HarmIndex` is versioned by the file's SHA-256 hash, so every
output names exactly which table it used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.data.errors import LoadError
from analysis.data.offences import load_offence_codes
from analysis.harm.index import (
    CAMBRIDGE_CHI_SOURCE,
    CHI_FAMILY_SCOPE,
    ONS_CSS_SOURCE,
    HarmIndex,
    cambridge_chi_by_family,
)

#: Accepted spellings (lower case, spaces and underscores equivalent) of the columns.
CODE_ALIASES = ("offence_code", "ho_offence_code", "code", "offence code", "home office code")
WEIGHT_ALIASES = ("weight", "severity_weight", "css_weight", "chi_days", "days", "harm_days")
FINE_ALIASES = ("fine_gbp", "fine", "starting_point_fine")


def fine_to_days(fine_gbp: np.ndarray, hourly_wage: float, hours_per_day: float) -> np.ndarray:
    """Convert a fine into days of minimum-wage work needed to pay it (the CHI convention).

    Parameters
    ----------
    fine_gbp : numpy.ndarray
        Fines in pounds.
    hourly_wage : float
        Minimum hourly wage in pounds, for the year the table refers to (no default: the
        user states the rate and its year).
    hours_per_day : float
        Working hours in a day (no default, for the same reason).

    Returns
    -------
    numpy.ndarray
        Days of work.
    """
    if hourly_wage <= 0 or hours_per_day <= 0:
        raise ValueError("hourly_wage and hours_per_day must be positive")
    return np.asarray(fine_gbp, dtype=float) / (hourly_wage * hours_per_day)


def _find(columns: list[str], given: str | None, aliases: tuple[str, ...]) -> str | None:
    if given:
        return given if given in columns else None
    norm = {c.strip().lower().replace("_", " "): c for c in columns}
    for a in aliases:
        hit = norm.get(a.replace("_", " "))
        if hit:
            return hit
    return None


def load_official_weights(
    path: str | Path,
    *,
    name: str,
    source: str,
    code_col: str | None = None,
    weight_col: str | None = None,
    fine_col: str | None = None,
    hourly_wage: float | None = None,
    hours_per_day: float | None = None,
    family_fallback: pd.Series | None = None,
    offence_codes: pd.DataFrame | None = None,
) -> tuple[HarmIndex, dict[str, object]]:
    """Read an official harm table (CSV: offence code and weight in days) and validate it.

    Parameters
    ----------
    path : str or Path
        CSV export of the official spreadsheet.
    name : str
        Index name (``ons_css``, ``cambridge_chi``).
    source : str
        Citation written into outputs.
    code_col, weight_col : str, optional
        Column names; by default recognised from common spellings (``offence_code``,
        ``code``; ``weight``, ``days``).
    fine_col : str, optional
        Column with a fine in pounds for fine-only offences whose weight is blank; those
        fines are converted with :func:`fine_to_days` (needs ``hourly_wage`` and
        ``hours_per_day``).
    hourly_wage, hours_per_day : float, optional
        Minimum-wage conversion of fines.
    family_fallback : pandas.Series, optional
        Weights by family for codes missing from the file (the CHI family medians); none
        for the CSS.
    offence_codes : pandas.DataFrame, optional
        Offence code table to check codes against; default the packaged table.

    Returns
    -------
    index : HarmIndex
        Weights by code, versioned ``{name}-sha256:{first 12 hex digits}``.
    report : dict
        ``rows``, ``sha256``, codes not in the offence code table, codes of the table
        without a weight, and fines converted.

    Raises
    ------
    LoadError
        If the file lacks a code or weight column, repeats a code with different weights,
        or has a weight that is missing, not a number, negative or infinite.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot read the official table ({exc})") from exc
    digest = hashlib.sha256(data).hexdigest()
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    cols = list(table.columns)
    ccol = _find(cols, code_col, CODE_ALIASES)
    wcol = _find(cols, weight_col, WEIGHT_ALIASES)
    fcol = _find(cols, fine_col, FINE_ALIASES) if (fine_col or hourly_wage) else None
    if ccol is None or wcol is None:
        raise LoadError(
            path,
            f"needs an offence code column and a weight column (found {cols}); name them "
            "with code_col/weight_col",
        )
    if table.empty:
        raise LoadError(path, "the official table has no rows")
    code = table[ccol].str.strip()
    if (code == "").any():
        rows = (np.flatnonzero(code == "") + 2).tolist()
        raise LoadError(path, f"empty offence code on rows {rows[:10]}")
    raw = table[wcol].str.strip().str.replace(",", "", regex=False)
    weight = pd.to_numeric(raw, errors="coerce")
    converted = 0
    if fcol is not None:
        need = raw == ""
        if need.any():
            if hourly_wage is None or hours_per_day is None:
                raise LoadError(
                    path,
                    "fine-only rows need hourly_wage and hours_per_day to convert fines to days",
                )
            fine = pd.to_numeric(table.loc[need, fcol].str.replace(",", ""), errors="coerce")
            weight[need] = fine_to_days(fine.to_numpy(), hourly_wage, hours_per_day)
            converted = int(need.sum())
    bad = weight.isna() | ~np.isfinite(weight) | (weight < 0)
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy()) + 2).tolist()
        raise LoadError(
            path,
            f"weight is missing, not a number, negative or infinite on rows {rows[:10]}",
        )
    frame = pd.DataFrame({"code": code, "weight": weight.astype(float)})
    clash = frame.groupby("code")["weight"].nunique()
    if (clash > 1).any():
        raise LoadError(
            path, f"codes repeated with different weights: {sorted(clash.index[clash > 1])}"
        )
    by_code = frame.drop_duplicates("code").set_index("code")["weight"]
    codes = load_offence_codes() if offence_codes is None else offence_codes
    version = f"{name}-sha256:{digest[:12]}"
    index = HarmIndex(
        name=name,
        version=version,
        source=source,
        by_code=by_code,
        by_family=family_fallback if family_fallback is not None else pd.Series(dtype=float),
        family_scope=dict(CHI_FAMILY_SCOPE) if family_fallback is not None else {},
        notes=(
            f"Official table read from {path.name} (sha256 {digest}).",
            *(
                [
                    f"{converted} fine-only rows converted at £{hourly_wage}/hour, "
                    f"{hours_per_day} hours a day."
                ]
                if converted
                else []
            ),
            *(
                ["Codes missing from the file take their family's published median."]
                if family_fallback is not None
                else ["Codes missing from the file have no weight."]
            ),
        ),
    )
    w = index.code_weights(codes)
    report = {
        "file": str(path),
        "sha256": digest,
        "version": version,
        "rows": len(table),
        "codes": len(by_code),
        "codes_not_in_offence_table": sorted(set(by_code.index) - set(codes.index)),
        "offence_table_codes_without_weight": sorted(w.index[w.isna()]),
        "fines_converted": converted,
    }
    return index, report


def load_css_table(path: str | Path, **kwargs: object) -> tuple[HarmIndex, dict[str, object]]:
    """Read a force's copy of the ONS Crime Severity Score weights (CSV by offence code).

    Keyword arguments are passed to :func:`load_official_weights`. Codes missing from the
    file get no weight (there is no family-level CSS table to fall back on).
    """
    return load_official_weights(path, name="ons_css", source=ONS_CSS_SOURCE, **kwargs)  # type: ignore[arg-type]


def load_chi_code_table(path: str | Path, **kwargs: object) -> tuple[HarmIndex, dict[str, object]]:
    """Read a force's copy of the official Cambridge CHI table (CSV by offence code).

    Codes missing from the file fall back on the packaged family medians. Keyword arguments
    are passed to :func:`load_official_weights`.
    """
    return load_official_weights(
        path,
        name="cambridge_chi",
        source=CAMBRIDGE_CHI_SOURCE + " Per-code weights from the force's official table.",
        family_fallback=cambridge_chi_by_family(),
        **kwargs,  # type: ignore[arg-type]
    )
