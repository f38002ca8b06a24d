"""Values written out: JSON-ready records and manifests, and CSV text a spreadsheet cannot run.

A spreadsheet opening a CSV runs any cell that starts like a formula (``=HYPERLINK(...)``,
``+cmd|' /C calc'!A0``, ``@SUM(1+1)``). Text the package writes to CSV may come straight from
an input file (the quarantine files keep the raw fields), so every CSV it writes goes through
:func:`csv_safe` (or :func:`write_csv`): a text cell starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return gets a leading single quote (the OWASP rule). Numbers, and text
that is just a number (``-1.5``, ``+44``), are left as they are: a spreadsheet reads those as
numbers, never as formulas.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from datetime import date
from pathlib import Path

import pandas as pd

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def jsonable(obj: object) -> object:
    """Return ``obj`` with dataclasses as dicts, tuples as lists and dates as ISO strings."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


def neutralise(value: object) -> object:
    """Return a text cell with a leading ``'`` if a spreadsheet would run it as a formula.

    Parameters
    ----------
    value : object
        A cell; anything but a string is returned unchanged.

    Returns
    -------
    object
        ``"'" + value`` for text starting with a formula character (and not just a number),
        else ``value``.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _is_text(values: pd.Series | pd.Index) -> bool:
    dtype = values.dtype
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def _safe_values(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if not _is_text(values):
        return values
    return values.astype(object).map(neutralise)


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells and labels cannot run as formulas.

    Only text is changed (object, string and categorical columns, a text index and the
    column names); numeric, boolean and date columns are kept as they are.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table about to be written as CSV.

    Returns
    -------
    pandas.DataFrame
        The neutralised copy (see :func:`neutralise`).
    """
    out = frame.copy()
    for i in range(out.shape[1]):
        out.isetitem(i, _safe_values(out.iloc[:, i]))
    out.columns = out.columns.map(neutralise)
    if not isinstance(out.index, pd.MultiIndex) and _is_text(out.index):
        out.index = out.index.map(neutralise)
    out.index.names = [neutralise(n) for n in out.index.names]
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, **to_csv: object) -> Path:
    """Write ``frame`` as CSV after :func:`csv_safe`.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table to write.
    path : str or Path
        Destination file.
    **to_csv
        Passed on to :meth:`pandas.DataFrame.to_csv` (``index``, ``float_format``, ...).
        When a text cell holds a carriage return every field is quoted (pandas would
        leave that cell unquoted, and a reader would split the record there).

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    safe = csv_safe(frame)
    if "quoting" not in to_csv and _has_carriage_return(safe):
        to_csv["quoting"] = csv.QUOTE_ALL  # a bare \r would end the line when read back
    safe.to_csv(path, **to_csv)
    return path


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    """Whether any text cell or label holds a carriage return (which pandas leaves unquoted)."""
    labels = [*map(str, frame.columns), *map(str, frame.index.names)]
    if any("\r" in label for label in labels):
        return True
    columns = [frame.iloc[:, i] for i in range(frame.shape[1])]
    if _is_text(frame.index):
        columns.append(frame.index.to_series())
    for values in columns:
        if _is_text(values) and values.map(lambda v: isinstance(v, str) and "\r" in v).any():
            return True
    return False
