"""The forecast page (``notebooks/02_crime_forecast.ipynb``): its headline, maps, tables and files.

One function per step of the page; each returns what the page shows (Markdown, a captioned
table, a described figure) or writes the group's downloadable files.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown

from analysis.forecast.nextperiod import NextPeriodForecast
from analysis.forecast.plots import plot_change_map, plot_next_period_maps


def forecast_headline(fc: NextPeriodForecast) -> Markdown:
    """One paragraph: what is forecast, for when, with the force-wide total."""
    return Markdown(
        f"**{fc.group.replace('_', ' ').capitalize()}**, {fc.cell_area_km2:g} km² cells, "
        f"period {fc.target_period} ({fc.target_start:%d %b %Y} to {fc.target_end:%d %b %Y}). "
        f"Expected total **{fc.total_mean:.0f}** offences (90% interval "
        f"{fc.total_lo90:.0f} to {fc.total_hi90:.0f}), model `{fc.model}`, from complete "
        f"periods up to {fc.last_complete}."
    )


def forecast_maps(fc: NextPeriodForecast) -> plt.Figure:
    """Maps of the forecast mean, the upper end of the 90% interval and P(at least one)."""
    return plot_next_period_maps(fc.table, fc.units)


def change_map(fc: NextPeriodForecast) -> plt.Figure:
    """Map of the forecast mean minus the last complete period's count."""
    return plot_change_map(fc.table, fc.units)


def top_units(fc: NextPeriodForecast, n: int = 10) -> pd.DataFrame:
    """The ``n`` units with the highest expected count per km², with their uncertainty."""
    t = fc.table.assign(per_km2=fc.table["mean"] / fc.table["area_km2"])
    cols = ["unit_id", "area_km2", "mean", "lo90", "hi90", "p_any", "p_top5", "last_count"]
    return t.sort_values("per_km2", ascending=False)[cols].head(n).round(3)


def predictive_checks(fc: NextPeriodForecast) -> pd.DataFrame | Markdown:
    """The posterior predictive checks of the fitted window, or why there are none."""
    if fc.checks is None:
        return Markdown(
            f"No posterior predictive checks: `{fc.model}` is not a Bayesian model "
            "(its skill is judged by the backtest)."
        )
    return fc.checks.round(3)


def save_forecast_summary(
    fc: NextPeriodForecast,
    run_dir: str | Path,
    deprivation: pd.DataFrame | Markdown | None = None,
) -> Path:
    """Write the forecast's artefacts to ``run_dir/artefacts``.

    The table (area counts, not personal), its deprivation profile and a JSON summary.
    """
    out = Path(run_dir) / "artefacts"
    out.mkdir(parents=True, exist_ok=True)
    fc.table.to_csv(out / f"forecast_{fc.group}.csv", index=False, float_format="%.5g")
    if isinstance(deprivation, pd.DataFrame):
        deprivation.to_csv(out / f"deprivation_{fc.group}.csv")
    summary = {k: v for k, v in asdict(fc).items() if k not in ("table", "units")}
    path = out / f"forecast_{fc.group}.json"
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return path
