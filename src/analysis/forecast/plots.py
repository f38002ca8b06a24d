"""Forecast figures: backtest hit-rate curves, calibration, PIT histograms and maps."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt  # no backend forced: a notebook keeps its inline figures
import numpy as np
import pandas as pd

from analysis.forecast.backtest import LEVELS, BacktestResult
from analysis.forecast.metrics import pit_histogram


def plot_hit_rate_curves(result: BacktestResult, path: Path, max_share: float = 0.25) -> Path:
    """Mean hit rate against share of area searched, per model."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    mean = result.curves.groupby(["model", "share"])["hit_rate"].mean().reset_index()
    for model, g in mean.groupby("model"):
        g = g.loc[g["share"] <= max_share]
        ax.plot(g["share"] * 100, g["hit_rate"] * 100, label=model, lw=1.4)
    ax.set_xlabel("share of area searched, %")
    ax.set_ylabel("share of next period's events captured, %")
    ax.set_title(f"Hit-rate curves (mean over {len(result.origins)} origins)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_calibration(result: BacktestResult, path: Path) -> Path:
    """Interval coverage against nominal level, and randomised PIT histograms."""
    models = sorted(result.pit["model"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    ax = axes[0]
    wide = result.metrics.loc[result.metrics["metric"].str.startswith("coverage_")]
    cov = wide.groupby(["model", "metric"])["value"].mean().unstack()
    nominal = np.array(LEVELS)
    for model in models:
        if model in cov.index:
            vals = [cov.loc[model, f"coverage_{round(v * 100):d}"] for v in LEVELS]
            ax.plot(nominal * 100, np.array(vals) * 100, marker="o", label=model)
    ax.plot([40, 100], [40, 100], color="grey", ls="--", lw=1)
    ax.set_xlabel("nominal central interval, %")
    ax.set_ylabel("observed coverage, %")
    ax.set_title("Interval calibration (conservative for counts)")
    ax.legend(fontsize=7)
    ax = axes[1]
    edges = np.linspace(0, 1, 11)
    for model in models:
        h = pit_histogram(result.pit.loc[result.pit["model"] == model, "pit"].to_numpy(), 10)
        ax.step(edges, np.r_[h, h[-1]] * 10, where="post", label=model)
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set_xlabel("randomised PIT")
    ax.set_ylabel("density (1 = calibrated)")
    ax.set_title("Randomised PIT histograms")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_forecast_map(
    forecasts: pd.DataFrame, units: gpd.GeoDataFrame, model: str, origin: int, path: Path
) -> Path:
    """Map a model's forecast mean beside the observed counts for one origin."""
    f = forecasts.loc[(forecasts["model"] == model) & (forecasts["origin"] == origin)]
    g = units[["unit_id", "geometry"]].merge(f, left_on="unit_id", right_on="unit")
    vmax = float(max(g["mean"].max(), g["observed"].max(), 1))
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, col, title in (
        (axes[0], "mean", f"{model}: forecast mean"),
        (axes[1], "observed", "observed"),
    ):
        g.plot(
            column=col,
            ax=ax,
            cmap="viridis",
            vmin=0,
            vmax=vmax,
            legend=True,
            legend_kwds={"shrink": 0.6},
        )
        ax.set_title(f"{title}, period {origin}")
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_next_period_maps(table: pd.DataFrame, units: gpd.GeoDataFrame) -> plt.Figure:
    """Maps of a next-period forecast: mean, upper end of the 90% interval, P(at least one).

    Parameters
    ----------
    table : pandas.DataFrame
        The forecast table (``unit_id``, ``mean``, ``hi90``, ``p_any``).
    units : geopandas.GeoDataFrame
        Units with ``unit_id`` and geometry.
    """
    g = units[["unit_id", "geometry"]].merge(table, on="unit_id")
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6))
    specs = (
        ("mean", "expected count", "viridis"),
        ("hi90", "90% interval: upper end", "viridis"),
        ("p_any", "probability of at least one", "magma"),
    )
    for ax, (col, title, cmap) in zip(axes, specs, strict=True):
        g.plot(column=col, ax=ax, cmap=cmap, legend=True, legend_kwds={"shrink": 0.6})
        ax.set_title(title)
        ax.set_axis_off()
    fig.tight_layout()
    plt.close(fig)
    return fig


def plot_change_map(table: pd.DataFrame, units: gpd.GeoDataFrame) -> plt.Figure:
    """Map of a next-period forecast's mean minus the last complete period's count."""
    g = units[["unit_id", "geometry"]].merge(table, on="unit_id")
    lim = float(np.abs(g["change"]).max() or 1)
    fig, ax = plt.subplots(figsize=(6, 5))
    g.plot(
        column="change",
        ax=ax,
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        legend=True,
        legend_kwds={"shrink": 0.6},
    )
    ax.set_title("forecast minus last complete period")
    ax.set_axis_off()
    fig.tight_layout()
    plt.close(fig)
    return fig
