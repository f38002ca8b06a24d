"""Committee figures: reliability diagram, decision curve and the coefficient plot."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt  # no backend forced: a notebook keeps its inline figures
import numpy as np
import pandas as pd

#: Colour-blind-safe colours (matplotlib's "tableau-colorblind10"), with a dash pattern and
#: a marker per series, so that no two series differ by colour alone.
_COLOURS = plt.style.library["tableau-colorblind10"]["axes.prop_cycle"].by_key()["color"]
_DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)))
_MARKERS = ("o", "s", "^", "D", "v", "P")


def _series(i: int, n_points: int) -> dict[str, object]:
    return {
        "color": _COLOURS[i % len(_COLOURS)],
        "ls": _DASHES[i % len(_DASHES)],
        "marker": _MARKERS[i % len(_MARKERS)],
        "markevery": max(1, n_points // 8),
        "ms": 4,
        "lw": 1.4,
    }


def _title(ax_or_fig: object, text: str, stamp: str) -> None:
    full = text + (f"\n{stamp}" if stamp else "")
    if hasattr(ax_or_fig, "suptitle"):
        ax_or_fig.suptitle(full, fontsize=10)
    else:
        ax_or_fig.set_title(full, fontsize=10)


def reliability_plot(table: pd.DataFrame, path: Path, *, stamp: str = "") -> Path:
    """Plot observed against predicted risk by bin, one panel per model.

    Parameters
    ----------
    table : pandas.DataFrame
        ``model, mean_predicted, observed, observed_low, observed_high``.
    path : Path
        PNG to write.
    stamp : str
        Text added to the title.
    """
    models = list(dict.fromkeys(table["model"]))
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 3.4), squeeze=False)
    for ax, m in zip(axes[0], models, strict=True):
        t = table.loc[table["model"] == m]
        top = max(t["mean_predicted"].max(), t["observed_high"].max()) * 1.05
        ax.plot([0, top], [0, top], color="grey", lw=0.8, ls="--")
        err = np.abs(
            np.vstack([t["observed"] - t["observed_low"], t["observed_high"] - t["observed"]])
        )
        ax.errorbar(t["mean_predicted"], t["observed"], yerr=err, fmt="o-", ms=3, capsize=2)
        ax.set_title(m, fontsize=9)
        ax.set_xlabel("mean predicted")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
    axes[0, 0].set_ylabel("observed (95% interval)")
    _title(fig, "Reliability on the evaluation cohort (deciles of predicted risk)", stamp)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def decision_curve_plot(table: pd.DataFrame, path: Path, *, stamp: str = "") -> Path:
    """Plot net benefit against threshold probability for every model.

    Parameters
    ----------
    table : pandas.DataFrame
        ``model, threshold, net_benefit, treat_all``.
    path : Path
        PNG to write.
    stamp : str
        Text added to the title.
    """
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    first = None
    for i, m in enumerate(dict.fromkeys(table["model"])):
        t = table.loc[table["model"] == m]
        ax.plot(t["threshold"], t["net_benefit"], label=m, **_series(i, len(t)))
        first = t if first is None else first
    if first is not None:
        ax.plot(first["threshold"], first["treat_all"], color="grey", ls="--", label="act on all")
        ax.axhline(0, color="black", lw=0.8, label="act on none")
        prev = float(first["treat_all"].iloc[0]) if len(first) else 0.0
        ax.set_ylim(-0.25 * max(prev, 0.001), 1.2 * max(prev, 0.001))
    ax.set_xlabel("threshold probability")
    ax.set_ylabel("net benefit")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    _title(ax, "Decision curve on the evaluation cohort", stamp)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def coefficient_plot(table: pd.DataFrame, path: Path, *, stamp: str = "") -> Path:
    """Plot the logistic model's odds ratios per standard deviation with intervals.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :meth:`analysis.harm.logistic.LogisticModel.coefficients`.
    path : Path
        PNG to write.
    stamp : str
        Text added to the title.
    """
    t = table.loc[table["term"] != "const"].iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(t) + 1.2))
    y = np.arange(len(t))
    err = np.vstack([t["odds_ratio"] - t["or_ci_low"], t["or_ci_high"] - t["odds_ratio"]])
    ax.errorbar(t["odds_ratio"], y, xerr=np.abs(err), fmt="o", ms=3, capsize=2)
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels(t["label"], fontsize=7)
    ax.set_xlabel("odds ratio per standard deviation (95% interval)")
    _title(ax, "Logistic model: odds ratios", stamp)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
