"""Tables for people: pandas' Styler with a caption, readable headings and no index column.

Every table a report page shows goes through :func:`styled`. It uses pandas' own Styler
(jinja2 is already a dependency through nbconvert) rather than a table library of our own:
the caption becomes the table's ``<caption>``, headings are renamed to words with units,
numbers are formatted per column, and the index is hidden. The Styler's element ids are
derived from the caption, so the same table renders to the same bytes every run. The page
renderer (:mod:`analysis.report.html`) adds header scopes and puts each table in its own
horizontally scrolling box.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

#: Shown for a missing value.
MISSING = "–"

Format = str | Callable[[object], str]


def _default_format(v: object, digits: int) -> str:
    if v is None or (isinstance(v, float | np.floating) and not np.isfinite(v)):
        return MISSING
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        if float(v).is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:,.{digits}g}" if abs(v) < 1 else f"{v:,.{digits}f}".rstrip("0").rstrip(".")
    return str(v)


def styled(
    frame: pd.DataFrame,
    caption: str,
    *,
    labels: Mapping[str, str] | None = None,
    formats: Mapping[str, Format] | None = None,
    digits: int = 3,
    keep: list[str] | None = None,
) -> Styler:
    """Return ``frame`` as a captioned, formatted table with no index column.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table. A named or multi-level index is moved into columns first.
    caption : str
        What the table shows, in words (becomes ``<caption>``).
    labels : mapping, optional
        Column name to the heading shown (words, with units in brackets).
    formats : mapping, optional
        Column name to a format string (``"{:.1%}"``) or a function of the value.
    digits : int
        Significant digits (below 1) or decimals (from 1) of other numbers.
    keep : list of str, optional
        Columns to show, in order (default: all).

    Returns
    -------
    pandas.io.formats.style.Styler
        Displays as HTML in a notebook; ``.to_html()`` for a file.
    """
    t = frame.copy()
    if t.index.nlevels > 1 or t.index.name is not None:
        t = t.reset_index()
    else:
        t = t.reset_index(drop=True)
    if keep is not None:
        t = t[list(keep)]
    fmt: dict[str, Format] = {c: (lambda v, d=digits: _default_format(v, d)) for c in t.columns}
    for c, f in (formats or {}).items():
        if c in fmt:
            fmt[c] = f
    t = t.rename(columns=dict(labels or {}))
    fmt = {dict(labels or {}).get(c, c): f for c, f in fmt.items()}
    uuid = "t" + hashlib.sha256(caption.encode()).hexdigest()[:8]
    s = Styler(t, uuid=uuid, cell_ids=False, caption=caption)
    s = s.format(fmt, na_rep=MISSING).hide(axis="index")
    numeric = [
        c
        for c in t.columns
        if pd.api.types.is_numeric_dtype(t[c]) and not pd.api.types.is_bool_dtype(t[c])
    ]
    # text reads from the left (the page's default); numbers line up on the right
    if numeric:
        s = s.set_properties(subset=numeric, **{"text-align": "right"})
        s = s.set_table_styles(
            [
                {"selector": f"th.col_heading.col{j}", "props": "text-align: right;"}
                for j, c in enumerate(t.columns)
                if c in numeric
            ],
            overwrite=False,
        )
    return s


def definitions(terms: Mapping[str, str], caption: str) -> Styler:
    """A two-column table of terms and what they mean (a column dictionary, a glossary)."""
    frame = pd.DataFrame({"term": list(terms), "meaning": list(terms.values())})
    return styled(frame, caption, labels={"term": "Term", "meaning": "Meaning"})
