"""Disclosure control for committee outputs: small-count suppression and identifier checks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

#: Counts of people below this are suppressed in committee outputs.
MIN_PEOPLE = 10
#: Marker shown in place of a suppressed count.
SUPPRESSED = "<10"
#: Pattern of the workbench's pseudonymised identifiers (keyed hash, 16 hex digits).
PSEUDONYM = re.compile(r"\bP[0-9a-f]{16}\b")


def suppress_counts(
    table: pd.DataFrame, columns: Iterable[str], *, total: bool = True, threshold: int = MIN_PEOPLE
) -> pd.DataFrame:
    """Suppress counts of people below ``threshold``, with secondary suppression.

    Primary: any count from 1 to ``threshold - 1`` is suppressed (zero is not disclosive of
    a person and stays). Secondary: where a row would show its total, a row with exactly one
    suppressed cell also has its smallest other non-zero cell suppressed, so the hidden value
    cannot be recovered by subtraction; the same is applied down each column, whose totals
    are also published.

    Parameters
    ----------
    table : pandas.DataFrame
        Counts.
    columns : iterable of str
        Count columns to protect.
    total : bool
        Whether totals of rows and columns are (or could be) published.
    threshold : int
        Smallest publishable count.

    Returns
    -------
    pandas.DataFrame
        Copy with the protected columns as strings, suppressed cells shown as ``"<10"``.
    """
    cols = list(columns)
    values = table[cols].to_numpy(dtype=float)
    hide = (values > 0) & (values < threshold)
    if total:
        changed = True
        while changed:  # until no row or column has a single hidden cell left exposed
            changed = False
            for arr, vals in ((hide, values), (hide.T, values.T)):  # rows, then columns
                for i in range(arr.shape[0]):
                    if arr[i].sum() == 1:
                        candidates = np.where(~arr[i] & (vals[i] > 0))[0]
                        if len(candidates):
                            arr[i, candidates[np.argmin(vals[i, candidates])]] = True
                            changed = True
    out = table.copy()
    for j, c in enumerate(cols):
        shown = [str(int(v)) if not np.isnan(v) else "" for v in values[:, j]]
        out[c] = np.where(hide[:, j], SUPPRESSED, shown)
    return out


#: Identifiers shorter than this are not looked for (as whole tokens, short numbers would
#: match counts in every table).
MIN_IDENTIFIER_CHARS = 6
#: A token of text that could be an identifier (letters, digits, ``-``, ``_``, ``/``).
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_/\-]*[A-Za-z0-9]")


def find_identifiers(paths: Iterable[str | Path], known: set[str] | None = None) -> list[str]:
    """Return ``file: identifier`` for each person identifier found in the files.

    Parameters
    ----------
    paths : iterable of path
        Files to scan (HTML, CSV, JSON, notebooks).
    known : set of str, optional
        The data's identifiers (as published and as they stand in the input): every one
        of at least :data:`MIN_IDENTIFIER_CHARS` characters found as a whole token
        counts, whatever its form. Without them, only the workbench's own pseudonym
        pattern (``P`` and 16 hex digits) is looked for.
    """
    if known is not None:
        known = {k for k in known if len(k) >= MIN_IDENTIFIER_CHARS}
    hits = []
    for p in paths:
        text = Path(p).read_text(errors="replace")
        if known is None:
            found = set(PSEUDONYM.findall(text))
        else:
            tokens = set(TOKEN.findall(text))
            # identifiers holding other characters are looked for as they are
            odd = {k for k in known if not TOKEN.fullmatch(k)}
            found = (tokens & known) | {k for k in odd if k in text}
        hits += [f"{p}: {f}" for f in found]
    return sorted(hits)
