"""Group metrics of a model at its operating point, with bootstrap intervals and suppression.

For each audit attribute (sex, age band, ethnic group) and each of its groups, on the
evaluation cohort (whose outcomes are known):

- ``share_flagged``: share of the group's members who are flagged at the operating point
  (the top ``k`` of the whole cohort, ``k`` the caseload capacity);
- ``tpr``: share of the group's escalations that were flagged (true positive rate);
- ``fpr``: share of the group's non-escalations that were flagged (false positive rate);
- ``calibration_in_the_large``: observed escalation rate minus mean predicted probability
  (positive: the model under-predicts for the group);
- ``auc``: discrimination within the group.

Intervals are percentile bootstraps resampling people within the group. A group with fewer
than ``min_group_size`` people, or with fewer than ``min_events`` escalations or fewer than
``min_events`` non-escalations (a TPR, FPR or AUC on two events is noise), is suppressed:
every figure is blank (its size too when under ``min_group_size``; a group suppressed for
its events keeps its size, at least ``min_group_size``), and ``suppressed`` and ``note``
say why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.harm.metrics import top_k

#: Groups smaller than this are suppressed.
MIN_GROUP_SIZE = 10

#: Groups with fewer escalations, or fewer non-escalations, than this are suppressed.
MIN_EVENTS = 10

METRICS = ("share_flagged", "tpr", "fpr", "calibration_in_the_large", "auc")


@dataclass(frozen=True)
class AuditSettings:
    """Minimum group size and events, bootstrap resamples, interval level and seed."""

    min_group_size: int = MIN_GROUP_SIZE
    min_events: int = MIN_EVENTS
    n_boot: int = 1000
    level: float = 0.95
    seed: int = 0
    batch: int = 100


def _metrics(y: np.ndarray, p: np.ndarray, flagged: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics along the last axis (rows are bootstrap resamples, or one row)."""
    pos = y > 0.5
    n1 = pos.sum(axis=-1)
    n0 = (~pos).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "share_flagged": flagged.mean(axis=-1),
            "tpr": (flagged & pos).sum(axis=-1) / n1,
            "fpr": (flagged & ~pos).sum(axis=-1) / n0,
            "calibration_in_the_large": pos.mean(axis=-1) - p.mean(axis=-1),
        }
        ranks = stats.rankdata(p, axis=-1)
        auc = ((ranks * pos).sum(axis=-1) - n1 * (n1 + 1) / 2) / (n1 * n0)
    out["auc"] = np.where((n1 > 0) & (n0 > 0), auc, np.nan)
    return out


def _bootstrap(
    y: np.ndarray, p: np.ndarray, flagged: np.ndarray, settings: AuditSettings, seed: int
) -> dict[str, tuple[float, float]]:
    rng = np.random.default_rng(seed)
    n = len(y)
    draws: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    left = settings.n_boot
    while left > 0:
        b = min(left, settings.batch)
        idx = rng.integers(0, n, size=(b, n))
        for m, v in _metrics(y[idx], p[idx], flagged[idx]).items():
            draws[m].append(v)
        left -= b
    a = (1 - settings.level) / 2
    out = {}
    for m, parts in draws.items():
        v = np.concatenate(parts) if parts else np.array([])
        v = v[np.isfinite(v)]
        if len(v) < settings.n_boot / 2:
            out[m] = (float("nan"), float("nan"))
        else:
            lo, hi = np.quantile(v, [a, 1 - a])
            out[m] = (float(lo), float(hi))
    return out


def fairness_table(
    y: np.ndarray,
    p: np.ndarray,
    flagged: np.ndarray,
    attributes: pd.DataFrame,
    *,
    model: str,
    settings: AuditSettings | None = None,
) -> pd.DataFrame:
    """Return the group metrics of one model.

    Parameters
    ----------
    y : numpy.ndarray
        Outcomes (0/1) of the evaluation cohort.
    p : numpy.ndarray
        Predicted probabilities.
    flagged : numpy.ndarray
        Bool: flagged at the operating point.
    attributes : pandas.DataFrame
        One column per audit attribute (text groups), rows aligned with ``y``.
    model : str
        Model name written in the table.
    settings : AuditSettings, optional
        Minimum group size, bootstrap settings.

    Returns
    -------
    pandas.DataFrame
        ``model, attribute, group, n, positives, suppressed, note``, each metric with
        ``_low`` and ``_high`` interval bounds, ``observed_rate`` and ``mean_predicted``.
        The first row is the whole cohort (attribute ``all``).
    """
    settings = settings or AuditSettings()
    yv = np.asarray(y, dtype=float)
    pv = np.asarray(p, dtype=float)
    fv = np.asarray(flagged, dtype=bool)
    if not (len(yv) == len(pv) == len(fv) == len(attributes)):
        raise ValueError("y, p, flagged and attributes differ in length")
    parts = [("all", "all", np.ones(len(yv), dtype=bool))]
    for attr in attributes.columns:
        values = attributes[attr].astype(str).to_numpy()
        for g in sorted(set(values)):
            parts.append((attr, g, values == g))
    rows = []
    for i, (attr, group, mask) in enumerate(parts):
        n = int(mask.sum())
        events = int(yv[mask].sum())
        row: dict[str, object] = {"model": model, "attribute": attr, "group": group}
        why, size = "", np.nan
        if n < settings.min_group_size:
            why = f"fewer than {settings.min_group_size} people: suppressed"
        elif min(events, n - events) < settings.min_events:
            which = "escalations" if events < settings.min_events else "non-escalations"
            why, size = f"fewer than {settings.min_events} {which}: suppressed", n
        if why:
            positives = events if np.isfinite(size) else np.nan  # the restricted audit keeps it
            row.update({"n": size, "positives": positives, "suppressed": True, "note": why})
            rows.append(row)
            continue
        ys, ps, fs = yv[mask], pv[mask], fv[mask]
        point = {m: float(v) for m, v in _metrics(ys, ps, fs).items()}
        ci = _bootstrap(ys, ps, fs, settings, settings.seed + i)
        notes = []
        if ys.sum() == 0:
            notes.append("no escalations in the group: TPR and AUC undefined")
        elif ys.sum() == n:
            notes.append("everyone escalated: FPR and AUC undefined")
        row.update(
            {
                "n": n,
                "positives": int(ys.sum()),
                "suppressed": False,
                "note": "; ".join(notes),
            }
        )
        for m in METRICS:
            row[m] = point[m]
            row[f"{m}_low"], row[f"{m}_high"] = ci[m]
        row["observed_rate"] = float(ys.mean())
        row["mean_predicted"] = float(ps.mean())
        rows.append(row)
    return pd.DataFrame(rows)


def audit_models(
    evaluation: pd.DataFrame,
    attributes: pd.DataFrame,
    models: list[str],
    *,
    capacity: int,
    settings: AuditSettings | None = None,
) -> pd.DataFrame:
    """Audit several models on the evaluation cohort at the top-``capacity`` operating point.

    Parameters
    ----------
    evaluation : pandas.DataFrame
        Index ``person_id``; ``target`` and one probability column per model.
    attributes : pandas.DataFrame
        Audit attributes indexed by ``person_id``.
    models : list of str
        Columns of ``evaluation`` to audit.
    capacity : int
        Caseload: the top ``capacity`` of each model are flagged.
    settings : AuditSettings, optional
        Minimum group size and bootstrap settings.

    Returns
    -------
    pandas.DataFrame
        The tables of :func:`fairness_table` stacked, with ``k`` and ``operating_threshold``
        (the lowest flagged probability).
    """
    attrs = attributes.reindex(evaluation.index)
    y = evaluation["target"].to_numpy(dtype=float)
    out = []
    for name in models:
        p = evaluation[name].to_numpy(dtype=float)
        flagged = top_k(p, capacity)
        table = fairness_table(y, p, flagged, attrs, model=name, settings=settings)
        table["k"] = int(flagged.sum())
        table["operating_threshold"] = float(p[flagged].min()) if flagged.any() else np.nan
        out.append(table)
    return pd.concat(out, ignore_index=True)
