"""Committee figure of the fairness audit: group metrics with intervals, by attribute."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt  # no backend forced: a notebook keeps its inline figures
import numpy as np
import pandas as pd

PANELS = (
    ("share_flagged", "share flagged"),
    ("tpr", "true positive rate"),
    ("fpr", "false positive rate"),
    ("calibration_in_the_large", "observed - predicted"),
    ("auc", "AUC"),
)


def fairness_figure(table: pd.DataFrame, model: str, path: Path, *, stamp: str = "") -> Path:
    """Plot one model's group metrics (suppressed groups are listed, not plotted).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`analysis.fairness.audit.audit_models`.
    model : str
        Model to plot.
    path : Path
        PNG file to write.
    stamp : str
        Text added to the title (the test-mode stamp).
    """
    t = table.loc[(table["model"] == model) & (table["attribute"] != "all")]
    attrs = list(dict.fromkeys(t["attribute"]))
    overall = table.loc[(table["model"] == model) & (table["attribute"] == "all")]
    fig, axes = plt.subplots(
        len(attrs),
        len(PANELS),
        figsize=(3.2 * len(PANELS), 0.5 + 2.2 * max(len(attrs), 1)),
        squeeze=False,
    )
    for r, attr in enumerate(attrs):
        rows = t.loc[t["attribute"] == attr]
        shown = rows.loc[~rows["suppressed"].astype(bool)]
        hidden = rows.loc[rows["suppressed"].astype(bool), "group"].tolist()
        ypos = np.arange(len(shown))
        for c, (metric, title) in enumerate(PANELS):
            ax = axes[r, c]
            v = shown[metric].to_numpy(dtype=float)
            lo = v - shown[f"{metric}_low"].to_numpy(dtype=float)
            hi = shown[f"{metric}_high"].to_numpy(dtype=float) - v
            ax.errorbar(v, ypos, xerr=np.abs(np.vstack([lo, hi])), fmt="o", capsize=3)
            if len(overall) and np.isfinite(overall[metric].iloc[0]):
                ax.axvline(overall[metric].iloc[0], color="grey", lw=0.8, ls="--")
            ax.tick_params(axis="x", labelsize=7)
            ax.set_yticks(ypos)
            ax.set_yticklabels(shown["group"] if c == 0 else [])
            if r == 0:
                ax.set_title(title, fontsize=9)
            if c == 0:
                ax.set_ylabel(attr + (f"\n(suppressed: {', '.join(hidden)})" if hidden else ""))
    fig.suptitle(
        f"Fairness audit of {model} at the operating point (dashed: whole cohort)"
        + (f" - {stamp}" if stamp else ""),
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
