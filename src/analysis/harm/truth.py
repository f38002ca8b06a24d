"""Checks against the synthetic sample's escalation truth (read by ``analysis.data``).

The truth file holds, for each reference date and cohort member, the true probability of
becoming high harm in the next 12 months (from 200 simulated futures of the person's
latent career), whether it happened, whether the person is an escalator, and the CHI
threshold. Real data have no such file; these checks only say whether a model recovers a
truth of this kind.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.harm.metrics import roc_auc

__all__ = ["compare_with_truth", "truth_at"]


def truth_at(truth: pd.DataFrame, reference_date: pd.Timestamp) -> pd.DataFrame:
    """Return the truth rows of one reference date, indexed by ``person_id``."""
    day = pd.Timestamp(reference_date).date().isoformat()
    return truth.loc[truth["reference_date"] == day].set_index("person_id")


def compare_with_truth(
    predicted: pd.Series, truth: pd.DataFrame, *, bins: int = 10
) -> tuple[dict[str, object], pd.DataFrame]:
    """Compare predicted probabilities with the true probabilities of the same people.

    Parameters
    ----------
    predicted : pandas.Series
        Index ``person_id``; predicted probabilities of a cohort.
    truth : pandas.DataFrame
        Truth rows of the same reference date, indexed by ``person_id``.
    bins : int
        Bins (equal counts of predicted risk) of the calibration table.

    Returns
    -------
    summary : dict
        ``matched`` people, ``spearman`` and ``pearson`` correlation of predicted with
        true probability, ``mean_predicted``, ``mean_true``, ``mae`` and ``rmse`` against
        the true probability, ``slope_true_on_predicted`` (1 when calibrated), and the AUC
        of the predictions and of the true probabilities against the realised outcome.
    table : pandas.DataFrame
        ``bin, n, mean_predicted, mean_true``.
    """
    common = predicted.index.intersection(truth.index)
    p = predicted.reindex(common).to_numpy(dtype=float)
    t = truth.loc[common, "true_probability"].to_numpy(dtype=float)
    realised = truth.loc[common, "realised"].to_numpy(dtype=bool)
    summary: dict[str, object] = {
        "cohort": len(predicted),
        "truth_cohort": len(truth),
        "matched": len(common),
    }
    if len(common) < 3:
        return summary, pd.DataFrame(columns=["bin", "n", "mean_predicted", "mean_true"])
    slope = np.polyfit(p, t, 1)[0] if np.ptp(p) > 0 else float("nan")
    summary.update(
        {
            "spearman": float(stats.spearmanr(p, t).statistic),
            "pearson": float(stats.pearsonr(p, t).statistic),
            "mean_predicted": float(p.mean()),
            "mean_true": float(t.mean()),
            "mae": float(np.mean(np.abs(p - t))),
            "rmse": float(np.sqrt(np.mean((p - t) ** 2))),
            "slope_true_on_predicted": float(slope),
            "auc_realised": roc_auc(realised, p),
            "auc_realised_true_probability": roc_auc(realised, t),
        }
    )
    order = np.argsort(p, kind="stable")
    rows = [
        {
            "bin": b + 1,
            "n": len(g),
            "mean_predicted": float(p[g].mean()),
            "mean_true": float(t[g].mean()),
        }
        for b, g in enumerate(np.array_split(order, bins))
        if len(g)
    ]
    return summary, pd.DataFrame(rows)
