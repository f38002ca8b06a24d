"""Performance metrics for probabilities of a binary outcome, with bootstrap intervals.

Discrimination: ROC AUC (with ties counted half) and PR AUC (average precision).
Accuracy: Brier score. Calibration: slope and intercept of the logistic recalibration
model (slope from ``logit P(y) = a + b logit(p)``; intercept, "calibration in the large",
from ``logit P(y) = a + logit(p)``) and a reliability table. Use: precision and recall
among the top ``k`` (a caseload), and the decision curve (net benefit).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

EPS = 1e-6


def _arrays(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    yv = np.asarray(y, dtype=float)
    pv = np.asarray(p, dtype=float)
    if yv.shape != pv.shape:
        raise ValueError("y and p differ in length")
    return yv, pv


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Return the ROC AUC (Mann-Whitney form, ties half); NaN if one class is absent."""
    yv, pv = _arrays(y, p)
    pos = yv > 0.5
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(pv)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def pr_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Return the area under the precision-recall curve (average precision)."""
    yv, pv = _arrays(y, p)
    if yv.sum() == 0:
        return float("nan")
    order = np.argsort(-pv, kind="stable")
    ys, ps = yv[order], pv[order]
    last = np.r_[ps[1:] != ps[:-1], True]  # last member of each group of tied scores
    tp = np.cumsum(ys)[last]
    seen = np.arange(1, len(ys) + 1)[last]
    precision = tp / seen
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Return the Brier score (mean squared error of the probabilities)."""
    yv, pv = _arrays(y, p)
    return float(np.mean((pv - yv) ** 2))


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, EPS, 1 - EPS)
    return np.log(q / (1 - q))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Return the calibration slope and intercept (calibration in the large).

    A well-calibrated model has slope 1 and intercept 0; a slope below 1 means predictions
    too extreme (overfitting), an intercept below 0 predictions too high on average.
    """
    yv, pv = _arrays(y, p)
    if yv.min() == yv.max():
        return float("nan"), float("nan")
    lp = _logit(pv)
    slope = sm.GLM(yv, sm.add_constant(lp), family=sm.families.Binomial()).fit()
    large = sm.GLM(yv, np.ones((len(yv), 1)), family=sm.families.Binomial(), offset=lp).fit()
    return float(slope.params[1]), float(large.params[0])


def top_k(p: np.ndarray, k: int) -> np.ndarray:
    """Return a boolean mask of the ``k`` highest probabilities (ties by position)."""
    pv = np.asarray(p, dtype=float)
    k = int(min(max(k, 0), len(pv)))
    mask = np.zeros(len(pv), dtype=bool)
    mask[np.argsort(-pv, kind="stable")[:k]] = True
    return mask


def precision_recall_at_k(y: np.ndarray, p: np.ndarray, k: int) -> tuple[float, float]:
    """Return precision and recall among the ``k`` highest probabilities."""
    yv, pv = _arrays(y, p)
    flagged = top_k(pv, k)
    tp = float(yv[flagged].sum())
    precision = tp / flagged.sum() if flagged.sum() else float("nan")
    recall = tp / yv.sum() if yv.sum() else float("nan")
    return float(precision), float(recall)


#: Fewest events (and non-events) a reliability bin may hold: a published bin never shows a
#: count of people under 10, and a bin with fewer events says little anyway.
MIN_BIN_EVENTS = 10


def _merge_small(groups: list[np.ndarray], yv: np.ndarray, least: int) -> list[np.ndarray]:
    """Merge adjacent bins until each holds at least ``least`` events and non-events."""
    groups = [g for g in groups if len(g)]

    def small(g: np.ndarray) -> bool:
        events = yv[g].sum()
        return events < least or len(g) - events < least

    i = 0
    while len(groups) > 1 and i < len(groups):
        if small(groups[i]):
            j = i + 1 if i + 1 < len(groups) else i - 1
            lo, hi = sorted((i, j))
            groups[lo : hi + 1] = [np.concatenate([groups[lo], groups[hi]])]
            i = lo
        else:
            i += 1
    return groups


def reliability_table(
    y: np.ndarray, p: np.ndarray, bins: int = 10, min_events: int = MIN_BIN_EVENTS
) -> pd.DataFrame:
    """Return observed against predicted risk in bins of predicted risk (equal counts).

    Adjacent bins are merged until each holds at least ``min_events`` people who had the
    outcome and as many who did not.

    Returns
    -------
    pandas.DataFrame
        ``bin, n, mean_predicted, observed, observed_low, observed_high`` (Wilson 95%).
    """
    yv, pv = _arrays(y, p)
    order = np.argsort(pv, kind="stable")
    groups = np.array_split(order, min(bins, max(len(pv), 1)))
    groups = _merge_small(list(groups), yv, min_events)
    rows = []
    z = 1.959963984540054
    for b, g in enumerate(groups):
        if len(g) == 0:
            continue
        n = len(g)
        obs = yv[g].mean()
        denom = 1 + z**2 / n
        centre = (obs + z**2 / (2 * n)) / denom
        half = z * np.sqrt(obs * (1 - obs) / n + z**2 / (4 * n**2)) / denom
        rows.append(
            {
                "bin": b + 1,
                "n": n,
                "mean_predicted": float(pv[g].mean()),
                "observed": float(obs),
                "observed_low": float(centre - half),
                "observed_high": float(centre + half),
            }
        )
    return pd.DataFrame(rows)


def net_benefit(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Return the net benefit of acting on ``p >= t`` at each threshold probability ``t``.

    Net benefit = TP/n - FP/n * t / (1 - t) (Vickers and Elkin 2006).
    """
    yv, pv = _arrays(y, p)
    n = len(yv)
    t = np.asarray(thresholds, dtype=float)
    act = pv[None, :] >= t[:, None]
    tp = (act & (yv[None, :] > 0.5)).sum(axis=1)
    fp = (act & (yv[None, :] <= 0.5)).sum(axis=1)
    return tp / n - fp / n * t / (1 - t)


def decision_curve(
    y: np.ndarray, p: np.ndarray, thresholds: np.ndarray | None = None
) -> pd.DataFrame:
    """Return the decision curve: net benefit of the model, of acting on all and on none.

    Returns
    -------
    pandas.DataFrame
        ``threshold, net_benefit, treat_all, treat_none``.
    """
    yv, pv = _arrays(y, p)
    t = np.round(np.arange(0.0025, 0.3025, 0.0025), 4) if thresholds is None else thresholds
    prev = yv.mean()
    return pd.DataFrame(
        {
            "threshold": t,
            "net_benefit": net_benefit(yv, pv, t),
            "treat_all": prev - (1 - prev) * t / (1 - t),
            "treat_none": 0.0,
        }
    )


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y: np.ndarray,
    p: np.ndarray,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Return a percentile bootstrap interval of a metric, resampling people.

    Resamples where the metric is undefined (NaN) are left out; if fewer than half are
    defined the interval is NaN.
    """
    yv, pv = _arrays(y, p)
    if len(yv) == 0 or n_boot < 1:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = np.empty(n_boot)
    for b in range(n_boot):
        i = rng.integers(0, len(yv), len(yv))
        values[b] = metric(yv[i], pv[i])
    values = values[np.isfinite(values)]
    if len(values) < n_boot / 2:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    lo, hi = np.quantile(values, [a, 1 - a])
    return float(lo), float(hi)


def evaluate(
    y: np.ndarray, p: np.ndarray, *, k: int, n_boot: int = 1000, seed: int = 0
) -> dict[str, object]:
    """Return the standard evaluation of one model's probabilities on one cohort.

    Returns
    -------
    dict
        ``auc, auc_ci, pr_auc, pr_auc_ci, brier, brier_ci, calibration_slope,
        calibration_intercept, precision_at_k, recall_at_k, k, n, positives,
        mean_predicted, observed_rate``.
    """
    yv, pv = _arrays(y, p)
    slope, intercept = calibration_slope_intercept(yv, pv)
    prec, rec = precision_recall_at_k(yv, pv, k)
    return {
        "auc": roc_auc(yv, pv),
        "auc_ci": list(bootstrap_ci(roc_auc, yv, pv, n_boot=n_boot, seed=seed)),
        "pr_auc": pr_auc(yv, pv),
        "pr_auc_ci": list(bootstrap_ci(pr_auc, yv, pv, n_boot=n_boot, seed=seed + 1)),
        "brier": brier(yv, pv),
        "brier_ci": list(bootstrap_ci(brier, yv, pv, n_boot=n_boot, seed=seed + 2)),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "precision_at_k": prec,
        "recall_at_k": rec,
        "k": int(k),
        "n": len(yv),
        "positives": int(yv.sum()),
        "mean_predicted": float(pv.mean()) if len(pv) else float("nan"),
        "observed_rate": float(yv.mean()) if len(yv) else float("nan"),
    }
