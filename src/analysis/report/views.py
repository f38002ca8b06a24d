"""The steps the report notebooks call: one function per step, returning tables and figures.

Notebooks stay thin (narrative, parameters, calls); everything that computes lives here or
further up the pipeline.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown

from analysis import __version__
from analysis.data.folder import FolderData
from analysis.data.quality import data_quality
from analysis.fairness import AuditSettings
from analysis.fairness.areas import deprivation_profile as area_deprivation_profile
from analysis.forecast.nextperiod import NextPeriodForecast, forecast_next_period
from analysis.forecast.output import Leaderboard, read_leaderboard
from analysis.harm.pipeline import HarmConfig
from analysis.report.disclosure import suppress_counts
from analysis.report.harm_run import (
    HarmOutcome,
    MeasureSettings,
    harm_measures,
    run_harm_escalation,
)
from analysis.report.manifest import package_versions
from analysis.report.plan import GroupPlan, MonthlyPlan, resolve_plan
from analysis.space import PeriodCalendar
from analysis.testmode import BANNER


def banner(test_mode: bool) -> Markdown:
    """Return the test-mode banner (or nothing) for the top of a notebook."""
    if not test_mode:
        return Markdown("")
    return Markdown(
        f"<div class='banner'>{BANNER}</div>\n\n**{BANNER}**: small "
        "models and fast settings; the numbers below are not for decisions."
    )


#: The run's plan: the runner's (a papermill parameter), or one made for a notebook run
#: alone (:func:`analysis.report.plan.resolve_plan`).
monthly_plan = resolve_plan


# ---------------------------------------------------------------------------- data quality


def run_data_quality(data: FolderData, run_dir: str | Path) -> dict:
    """Summarise the run's validated data into ``run_dir/data_quality`` and return the report.

    Aggregates go to that folder; quarantined rows naming people to its ``restricted/``.
    """
    return data_quality(data, Path(run_dir) / "data_quality")


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


def group_plan(
    plan: MonthlyPlan,
    name: str,
    *,
    model: str | None = None,
    cell_area_km2: float | None = None,
) -> GroupPlan:
    """One group's plan, with an analyst's override of its model or cell size if given.

    An override is for exploring in JupyterLab; the page says the model is not the one the
    backtests chose.
    """
    g = plan.group(name)
    if model is not None:
        g = replace(g, model=plan.testing.model_spec(model))
    if cell_area_km2 is not None:
        g = replace(g, cell_area_km2=float(cell_area_km2))
    return g


def run_forecast(plan: MonthlyPlan, data: FolderData, group: GroupPlan) -> NextPeriodForecast:
    """Forecast the plan's target period for one offence group."""
    if data.crimes is None or data.study_area is None:
        raise ValueError("the forecasts need the data folder's crimes and study area")
    dates = plan.dates
    return forecast_next_period(
        data.crimes.accepted,
        data.offence_groups[group.name],
        data.offence_codes,
        run_date=dates.run_date,
        cutoff=dates.cutoff,
        data_start=dates.data_start,
        area=data.study_area,
        model=group.model,
        cell_area_km2=group.cell_area_km2,
        seed=plan.forecast.seed,
        draws=plan.forecast.draws,
        calendar=PeriodCalendar(days=dates.period_days),
    )


def model_note(plan: MonthlyPlan, group: GroupPlan) -> Markdown:
    """Which model runs for the group and why (or that an analyst overrode it)."""
    if group.model != plan.testing.model_spec(group.model_chosen):
        return Markdown(
            f"Model `{group.model}`, set by hand for this notebook: the backtests chose "
            f"`{group.model_chosen}` ({group.evidence['reason']})."
        )
    board = group.evidence.get("leaderboard")
    if not board:  # the reason says that no backtest has chosen yet
        return Markdown(f"Model `{group.model}`: {group.evidence['reason']}.")
    return Markdown(
        f"Model `{group.model}`, chosen by the backtest (`{board}`): {group.evidence['reason']}."
    )


# ---------------------------------------------------------------------------- leaderboards


def leaderboards(plan: MonthlyPlan) -> list[Leaderboard]:
    """The saved leaderboards the plan cites: each group's evidence, then real-data ones."""
    root = Path(plan.project_dir)
    oracles = {g.evidence["leaderboard"]: g.evidence.get("oracle") for g in plan.groups}
    out = []
    for board in plan.leaderboards:
        oracle = oracles.get(board)
        out.append(read_leaderboard(root / board, oracle=root / oracle if oracle else None))
    return out


def deprivation_profile(fc: NextPeriodForecast, data: FolderData) -> pd.DataFrame | Markdown:
    """The forecast's burden by area deprivation (:mod:`analysis.fairness.areas`)."""
    if data.lsoa is None:
        return Markdown("No LSOA geography in the data folder: no deprivation profile.")
    return area_deprivation_profile(fc.table, fc.units, data.lsoa)


def watermark() -> Markdown:
    """Versions of Python and the key packages, for the end of every notebook."""
    import platform

    v = package_versions()
    keys = ("numpy", "pandas", "statsmodels", "pymc", "geopandas", "papermill")
    text = ", ".join(f"{k} {v[k]}" for k in keys)
    return Markdown(f"*Python {platform.python_version()}; {text}; analysis {__version__}.*")


# ---------------------------------------------------------------------------- harm


def run_harm(plan: MonthlyPlan, data: FolderData, run_dir: str | Path) -> HarmOutcome:
    """Run the harm-escalation job with the plan's settings into ``run_dir/artefacts/harm``.

    Aggregates land in that folder; the offender managers' ranked list and any quarantined
    charge rows land in its ``restricted/`` subfolder, which never reaches the committee.
    """
    h = plan.harm
    measure, extra, tables = harm_measures(MeasureSettings(), data.offence_codes)
    config = HarmConfig(
        reference_date=pd.Timestamp(h.reference_date),
        measure=measure,
        capacity=h.capacity,
        n_boot=h.n_boot,
        seed=h.seed,
        test_mode=plan.test_mode,
        extra_measures=extra,
    )
    audit = AuditSettings(n_boot=h.n_boot, seed=h.seed)
    out = Path(run_dir) / "artefacts" / "harm"
    return run_harm_escalation(data, config, audit, out, official_tables=tables)


def harm_table(out: str | Path, name: str) -> pd.DataFrame:
    """Read one of the harm run's aggregate CSV tables (comment lines skipped)."""
    return pd.read_csv(Path(out) / name, comment="#")
