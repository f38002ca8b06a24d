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


def suppression_mask(
    values: np.ndarray,
    *,
    total: bool = True,
    threshold: int = MIN_PEOPLE,
    zeros: bool = False,
    preset: np.ndarray | None = None,
) -> np.ndarray:
    """Which cells of a table of counts to hide: primary, then secondary suppression.

    See :func:`suppress_counts`; ``values`` is the counts as floats (NaN for no value).
    ``preset`` marks cells hidden for another reason (a group suppressed for its events):
    they count as hidden when secondary suppression looks for exposed cells.
    """
    values = np.asarray(values, dtype=float)
    shown_floor = -0.5 if zeros else 0.5  # with zeros hidden, 0 counts as small too
    hide = (values > shown_floor) & (values < threshold)
    if preset is not None:
        hide |= np.asarray(preset, dtype=bool)
    if total:
        changed = True
        while changed:  # until no row or column has a single hidden cell left exposed
            changed = False
            for arr, vals in ((hide, values), (hide.T, values.T)):  # rows, then columns
                for i in range(arr.shape[0]):
                    if arr[i].sum() == 1:
                        candidates = np.where(~arr[i] & (vals[i] > shown_floor))[0]
                        if len(candidates):
                            arr[i, candidates[np.argmin(vals[i, candidates])]] = True
                            changed = True
    return hide


def suppress_counts(
    table: pd.DataFrame,
    columns: Iterable[str],
    *,
    total: bool = True,
    threshold: int = MIN_PEOPLE,
    zeros: bool = False,
) -> pd.DataFrame:
    """Suppress counts of people below ``threshold``, with secondary suppression.

    Primary: any count from 1 to ``threshold - 1`` is suppressed (zero too when ``zeros``:
    a group where nobody had an outcome discloses that of each member). Secondary: where a
    row would show its total, a row with exactly one suppressed cell also has its smallest
    other non-zero cell suppressed, so the hidden value cannot be recovered by subtraction;
    the same is applied down each column, whose totals are also published.

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
    zeros : bool
        Whether a count of 0 is suppressed as well.

    Returns
    -------
    pandas.DataFrame
        Copy with the protected columns as strings, suppressed cells shown as ``"<10"``.
    """
    cols = list(columns)
    values = table[cols].to_numpy(dtype=float)
    hide = suppression_mask(values, total=total, threshold=threshold, zeros=zeros)
    out = table.copy()
    for j, c in enumerate(cols):
        shown = [str(int(v)) if not np.isnan(v) else "" for v in values[:, j]]
        out[c] = np.where(hide[:, j], SUPPRESSED, shown)
    return out


#: The fairness audit's counts, as published (derived from its rates and sizes).
FAIRNESS_COUNTS = ("n", "positives", "flagged", "true_positives")
#: Each published rate and the counts that would reveal it (or that it would reveal).
FAIRNESS_RATES = {
    "share_flagged": ("flagged",),
    "tpr": ("true_positives", "positives"),
    "fpr": ("flagged", "true_positives", "positives"),
    "calibration_in_the_large": ("positives",),
    "auc": ("positives",),
    "observed_rate": ("positives",),
}


def protect_fairness(audit: pd.DataFrame, threshold: int = MIN_PEOPLE) -> pd.DataFrame:
    """The fairness audit as it may be published: no count under ``threshold`` derivable.

    The audit gives each group's size and rates; the counts behind them (people, people who
    became high harm, people flagged, flagged people who became high harm) follow from
    those, so they are computed, published as counts, and protected together. Within each
    model and attribute, the groups and the model's overall row form a table whose columns
    add up to the overall row and whose rows tie the counts together (flagged = true
    positives + false positives), so :func:`suppression_mask` with secondary suppression
    runs over it; zeros count as small. A rate is then hidden, with its interval, wherever a
    count it is computed from is hidden (:data:`FAIRNESS_RATES`).

    Parameters
    ----------
    audit : pandas.DataFrame
        :func:`analysis.fairness.audit_models` output (restricted once small counts exist).
    threshold : int
        Smallest publishable count.

    Returns
    -------
    pandas.DataFrame
        The audit with integer count columns :data:`FAIRNESS_COUNTS` (``"<10"`` where
        hidden), hidden rates and intervals blank, and ``hidden``: what was suppressed.
    """
    t = audit.copy().reset_index(drop=True)
    n = t["n"].astype(float)
    t["flagged"] = np.round(t["share_flagged"].astype(float) * n)
    t["true_positives"] = np.round(t["tpr"].astype(float) * t["positives"].astype(float))
    hide = np.zeros((len(t), len(FAIRNESS_COUNTS)), dtype=bool)
    counts = t[list(FAIRNESS_COUNTS)].to_numpy(dtype=float)
    # the audit suppressed these groups: every count hidden, except the size of a group
    # suppressed only for its events (at least ``threshold`` people), which stays shown
    # unless secondary suppression needs it
    small = t["suppressed"].astype(bool).to_numpy()
    sized = small & np.isfinite(n.to_numpy()) & (n.to_numpy() >= threshold)
    preset = np.zeros_like(hide)
    preset[small] = True
    preset[sized, list(FAIRNESS_COUNTS).index("n")] = False
    for model in t["model"].unique():
        overall = np.where((t["model"] == model) & (t["attribute"] == "all"))[0]
        for attribute in t.loc[t["model"] == model, "attribute"].unique():
            if attribute == "all":
                continue
            rows = np.where((t["model"] == model) & (t["attribute"] == attribute))[0]
            block = np.concatenate([rows, overall])
            mask = suppression_mask(
                counts[block], threshold=threshold, zeros=True, preset=preset[block]
            )
            hide[block] |= mask
        hide[overall] |= suppression_mask(
            counts[overall], threshold=threshold, zeros=True, preset=preset[overall]
        )
    hide |= preset
    out = t.drop(columns=list(FAIRNESS_COUNTS))
    for j, c in enumerate(FAIRNESS_COUNTS):
        shown = [str(int(v)) if np.isfinite(v) else "" for v in counts[:, j]]
        out[c] = np.where(hide[:, j], SUPPRESSED, shown)
    hidden_of = {c: hide[:, j] for j, c in enumerate(FAIRNESS_COUNTS)}
    notes = [[c for c in FAIRNESS_COUNTS if hidden_of[c][i]] for i in range(len(t))]
    for rate, needs in FAIRNESS_RATES.items():
        if rate not in out:
            continue
        gone = np.any([hidden_of[c] for c in needs], axis=0)
        for col in (rate, f"{rate}_low", f"{rate}_high"):
            if col in out:
                out[col] = out[col].astype(float).where(~gone)
        for i in np.where(gone)[0]:
            notes[i].append(rate)
    out["hidden"] = ["; ".join(x) for x in notes]
    return out


def protect_rows(
    table: pd.DataFrame,
    counts: Iterable[str],
    derived: dict[str, tuple[str, ...]] | None = None,
    extra: dict[str, pd.Series] | None = None,
    threshold: int = MIN_PEOPLE,
) -> pd.DataFrame:
    """Suppress counts of people under ``threshold`` row by row, with what they reveal.

    For tables whose rows are not parts of a published total (one row per model or per
    counting rule), so no secondary suppression across rows is needed.

    Parameters
    ----------
    table : pandas.DataFrame
    counts : iterable of str
        Columns holding counts of people (shown as ``"<10"`` when small, zeros included).
    derived : dict, optional
        A rate column and the counts (columns, or names in ``extra``) it would reveal: the
        rate is blanked wherever one of them is small.
    extra : dict of str to Series, optional
        Counts that are not columns but follow from them (for example true positives =
        precision × k).
    threshold : int
        Smallest publishable count.
    """
    out = table.copy()
    values = {c: pd.to_numeric(out[c], errors="coerce") for c in counts if c in out}
    values |= {k: pd.to_numeric(v, errors="coerce") for k, v in (extra or {}).items()}
    small = {k: (v >= 0) & (v < threshold) for k, v in values.items()}
    for rate, needs in (derived or {}).items():
        if rate in out:
            gone = np.any([small[c].to_numpy() for c in needs if c in small], axis=0)
            out[rate] = pd.to_numeric(out[rate], errors="coerce").where(~gone)
    for c in counts:
        if c in out:
            shown = [str(int(v)) if np.isfinite(v) else "" for v in values[c]]
            out[c] = np.where(small[c], SUPPRESSED, shown)
    return out


def protect_performance(table: pd.DataFrame) -> pd.DataFrame:
    """Return a harm performance table as it may be published.

    The table has ``n, positives, precision_at_k, recall_at_k, k``; the true positives among
    the top *k*, the others listed and the escalations missed follow from precision and
    recall, so a small one blanks both.
    """
    tp = (pd.to_numeric(table["precision_at_k"], errors="coerce") * table["k"]).round()
    positives = pd.to_numeric(table["positives"], errors="coerce")
    return protect_rows(
        table,
        ["n", "positives"],
        derived={
            "precision_at_k": ("tp", "listed_others", "missed"),
            "recall_at_k": ("tp", "listed_others", "missed"),
            "observed_rate": ("positives",),
        },
        extra={"tp": tp, "listed_others": table["k"] - tp, "missed": positives - tp},
    )


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
