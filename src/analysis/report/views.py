"""The steps the report notebooks call: one function per step, returning tables and figures.

Notebooks stay thin (narrative, parameters, calls); everything that computes lives here or
further up the pipeline.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown

from analysis import __version__
from analysis.data import LoadOptions, load_crimes
from analysis.data.quality import data_quality
from analysis.data.reading import file_sha256
from analysis.forecast.nextperiod import NextPeriodForecast, forecast_next_period
from analysis.forecast.registry import default_model, in_test_mode
from analysis.report.disclosure import suppress_counts
from analysis.report.manifest import package_versions
from analysis.space import areal_interpolate

#: Banner on every output made in test mode.
TEST_BANNER = "TEST MODE - not for use"


def banner(test_mode: bool) -> Markdown:
    """Return the test-mode banner (or nothing) for the top of a notebook."""
    if not test_mode:
        return Markdown("")
    return Markdown(
        f"<div class='banner'>{TEST_BANNER}</div>\n\n**{TEST_BANNER}**: small "
        "models and fast settings; the numbers below are not for decisions."
    )


@dataclass
class RunDates:
    """The dates a monthly run works with."""

    month: str
    run_date: date
    cutoff: date
    data_start: date


def run_dates(month: str, data_dir: str | Path) -> RunDates:
    """Derive the run date (first day of ``month``), data cut-off and data start.

    The cut-off is the day before the run date, or the last recorded day in the crime
    extract if that is earlier; the data start is the extract's first recorded day.
    """
    run_date = date.fromisoformat(f"{month}-01")
    recorded = pd.read_csv(Path(data_dir) / "crimes.csv.gz", usecols=["recorded_date"])
    days = pd.to_datetime(recorded["recorded_date"], format="ISO8601", errors="coerce")
    last = days.max().date()
    return RunDates(
        month=month,
        run_date=run_date,
        cutoff=min(run_date - timedelta(days=1), last),
        data_start=days.min().date(),
    )


# ---------------------------------------------------------------------------- data quality


def run_data_quality(data_dir: str | Path, out_dir: str | Path, cutoff: date) -> dict:
    """Validate the data folder and return the report dict.

    Aggregates go to ``out_dir``; quarantined rows naming people to its ``restricted/``.
    """
    return data_quality(data_dir, out_dir, as_of=cutoff)


def reconciliation_table(report: dict) -> pd.DataFrame:
    """Rows read, accepted and rejected per file."""
    rows = [
        {
            "file": Path(str(s["source"])).name,
            "read": s["read"],
            "accepted": s["accepted"],
            "rejected": s["rejected"],
        }
        for s in report["files"].values()
    ]
    return pd.DataFrame(rows).set_index("file")


def rejection_table(report: dict) -> pd.DataFrame:
    """Quarantined rows by file and reason."""
    rows = [
        {"file": Path(str(s["source"])).name, "reason": r, "rows": n}
        for s in report["files"].values()
        for r, n in s["reasons"].items()
    ]
    return pd.DataFrame(rows, columns=["file", "reason", "rows"])


def charges_by_outcome(report: dict) -> pd.DataFrame:
    """Charges by outcome, with counts under 10 suppressed (charges relate to people)."""
    t = pd.DataFrame(sorted(report["charges_by_outcome"].items()), columns=["outcome", "charges"])
    return suppress_counts(t, ["charges"], total=False)


def plot_monthly(report: dict) -> plt.Figure:
    """Recorded crimes by month: all in the extract, and each offence group."""
    monthly = pd.DataFrame(report["monthly"]).set_index("month")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    monthly["all_in_extract"].plot(ax=axes[0], color="black")
    axes[0].set_title("All crimes in the extract, by month committed")
    monthly.drop(columns="all_in_extract").plot(ax=axes[1])
    axes[1].set_title("Offence groups, by month committed")
    for ax in axes:
        ax.set_xlabel("")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    plt.close(fig)
    return fig


# ---------------------------------------------------------------------------- forecasts


def load_run_crimes(data_dir: str | Path, cutoff: date) -> pd.DataFrame:
    """Load the crime extract for a run (quarantining rows outside the study area)."""
    data_dir = Path(data_dir)
    result = load_crimes(
        data_dir / "crimes.csv.gz", LoadOptions(area=data_dir / "study_area.geojson", as_of=cutoff)
    )
    return result.accepted


def study_area(data_dir: str | Path) -> gpd.GeoSeries:
    """The study-area polygon in British National Grid."""
    return gpd.read_file(Path(data_dir) / "study_area.geojson").to_crs("EPSG:27700").geometry


def forecast_model(model: str | None, offence_group: str, test_mode: bool) -> str:
    """The forecaster spec to run.

    ``None`` means the group's default, chosen by the backtests
    (:data:`analysis.forecast.registry.GROUP_MODELS`); in test mode a Bayesian model gets
    its tiny, bannered test fit.
    """
    spec = model or default_model(offence_group)
    return in_test_mode(spec) if test_mode else spec


def run_forecast(
    crimes: pd.DataFrame,
    group: str,
    dates: RunDates,
    area: gpd.GeoSeries,
    *,
    model: str,
    cell_area_km2: float | None,
    seed: int,
    draws: int,
) -> NextPeriodForecast:
    """Forecast the next 4-week period for one offence group."""
    return forecast_next_period(
        crimes,
        group,
        run_date=dates.run_date,
        cutoff=dates.cutoff,
        data_start=dates.data_start,
        area=area,
        model=model,
        cell_area_km2=cell_area_km2,
        seed=seed,
        draws=draws,
    )


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
    g = fc.units[["unit_id", "geometry"]].merge(fc.table, on="unit_id")
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


def change_map(fc: NextPeriodForecast) -> plt.Figure:
    """Map of the forecast mean minus the last complete period's count."""
    g = fc.units[["unit_id", "geometry"]].merge(fc.table, on="unit_id")
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
    fc: NextPeriodForecast, run_dir: str | Path, deprivation: pd.DataFrame | None = None
) -> Path:
    """Write the forecast's artefacts to ``run_dir/artefacts``.

    The table (area counts, not personal), its deprivation profile and a JSON summary.
    """
    out = Path(run_dir) / "artefacts"
    out.mkdir(parents=True, exist_ok=True)
    fc.table.to_csv(out / f"forecast_{fc.group}.csv", index=False, float_format="%.5g")
    if deprivation is not None:
        deprivation.to_csv(out / f"deprivation_{fc.group}.csv")
    summary = {k: v for k, v in asdict(fc).items() if k not in ("table", "units")}
    path = out / f"forecast_{fc.group}.json"
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return path


# ---------------------------------------------------------------------------- leaderboards


@dataclass
class Leaderboard:
    """A saved backtest leaderboard with its provenance."""

    name: str
    table: pd.DataFrame
    sha256: str
    written: str
    figures: list[Path]


def load_leaderboard(folder: str | Path) -> Leaderboard:
    """Read a saved leaderboard (``summary.csv``, ``run.json``, figures) and its hash."""
    folder = Path(folder)
    table = pd.read_csv(folder / "summary.csv")
    oracle = folder / "oracle.csv"
    if oracle.exists():
        table = pd.concat([table, pd.read_csv(oracle)], ignore_index=True)
    stamp = pd.Timestamp((folder / "summary.csv").stat().st_mtime, unit="s").date()
    run = json.loads((folder / "run.json").read_text()) if (folder / "run.json").exists() else {}
    written = str(run.get("written", stamp))
    cols = [
        "model",
        "n_origins",
        "crps",
        "crps_se",
        "log_score",
        "mae",
        "hit_rate_5pct",
        "pai_5pct",
        "pei_star_5pct",
        "coverage_90",
        "fit_seconds",
    ]
    figs = [folder / f for f in ("hit_rate_curves.png", "calibration.png") if (folder / f).exists()]
    return Leaderboard(
        name=folder.name,
        table=table[[c for c in cols if c in table]].round(4),
        sha256=file_sha256(folder / "summary.csv"),
        written=written,
        figures=figs,
    )


# ---------------------------------------------------------------------------- disparities


def deprivation_profile(fc: NextPeriodForecast, data_dir: str | Path) -> pd.DataFrame:
    """Forecast burden by area deprivation: where the forecast would send attention.

    Each unit takes the area-weighted mean IMD 2019 rank of the LSOAs it covers
    (``lsoa.geojson`` in the data folder); units are grouped into national IMD quintiles
    (1 = most deprived fifth of England). For each quintile: units, area, share of the
    expected offences, share of the forecast top 5% of units, and the expected count per
    km².
    """
    lsoa = gpd.read_file(Path(data_dir) / "lsoa.geojson").to_crs("EPSG:27700")
    imd = areal_interpolate(lsoa, fc.units, intensive=["imd_rank"])["imd_rank"]
    t = fc.table.set_index("unit_id").join(imd)
    t["quintile"] = np.clip(np.ceil(t["imd_rank"] / 32_844 * 5), 1, 5).astype("Int64")
    n_top = max(1, int(np.ceil(0.05 * len(t))))
    top = (t["mean"] / t["area_km2"]).rank(ascending=False, method="first") <= n_top
    t["top5"] = top
    g = t.groupby("quintile")
    out = pd.DataFrame(
        {
            "units": g.size(),
            "area_km2": g["area_km2"].sum().round(1),
            "share_of_expected_offences": (g["mean"].sum() / t["mean"].sum()).round(3),
            "share_of_top5pct_units": (g["top5"].sum() / top.sum()).round(3),
            "expected_per_km2": (g["mean"].sum() / g["area_km2"].sum()).round(3),
        }
    )
    out.index.name = "IMD quintile (1 = most deprived)"
    return out


def watermark() -> Markdown:
    """Versions of Python and the key packages, for the end of every notebook."""
    import platform

    v = package_versions()
    keys = ("numpy", "pandas", "statsmodels", "pymc", "geopandas", "papermill")
    text = ", ".join(f"{k} {v[k]}" for k in keys)
    return Markdown(f"*Python {platform.python_version()}; {text}; analysis {__version__}.*")


# ---------------------------------------------------------------------------- harm


def run_harm_escalation(
    data_dir: str | Path,
    run_dir: str | Path,
    reference_date: date,
    *,
    test_mode: bool,
    capacity: int = 100,
) -> Path:
    """Run the harm-escalation model (``analysis harm``) into ``run_dir/artefacts/harm``.

    Aggregates land in that folder; the offender managers' ranked list and any quarantined
    charge rows land in its ``restricted/`` subfolder, which never reaches the committee.

    Returns
    -------
    Path
        The output folder.
    """
    import argparse

    from analysis.report.harm_command import add_harm_parser

    out = Path(run_dir) / "artefacts" / "harm"
    argv = [
        "harm",
        "--data",
        str(data_dir),
        "--reference-date",
        reference_date.isoformat(),
        "--out",
        str(out),
        "--as-of",
        reference_date.isoformat(),
        "--capacity",
        str(capacity),
    ]
    if test_mode:
        argv.append("--test-mode")
    parser = argparse.ArgumentParser(prog="analysis")
    add_harm_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    code = args.func(args)
    if code != 0:
        raise RuntimeError(f"analysis harm failed with exit code {code}")
    return out


def harm_table(out: str | Path, name: str) -> pd.DataFrame:
    """Read one of the harm run's aggregate CSV tables (comment lines skipped)."""
    return pd.read_csv(Path(out) / name, comment="#")
