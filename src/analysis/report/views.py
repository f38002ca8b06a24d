"""The steps the report notebooks call: one function per step, returning tables and figures.

Notebooks stay thin (narrative, parameters, calls); everything that computes lives here or
further up the pipeline.
"""

from __future__ import annotations

import html
import json
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown
from matplotlib.ticker import StrMethodFormatter
from pandas.io.formats.style import Styler

from analysis import __version__
from analysis.data.folder import FolderData
from analysis.data.quality import data_quality
from analysis.fairness import AuditSettings
from analysis.fairness.areas import deprivation_profile as area_deprivation_profile
from analysis.fairness.areas import ethnicity_profile as area_ethnicity_profile
from analysis.forecast.nextperiod import NextPeriodForecast, forecast_next_period
from analysis.forecast.output import Leaderboard, read_leaderboard
from analysis.harm.pipeline import HarmConfig
from analysis.report.disclosure import MIN_PEOPLE, SUPPRESSED, suppress_counts
from analysis.report.figures import DescribedFigure, figure
from analysis.report.harm_run import (
    HarmOutcome,
    MeasureSettings,
    harm_measures,
    run_harm_escalation,
)
from analysis.report.manifest import package_versions
from analysis.report.palette import series_style
from analysis.report.plan import GroupPlan, MonthlyPlan, resolve_plan
from analysis.report.tables import styled
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


#: Where the data-quality step leaves the quarantined rows (under the run's folder).
QUARANTINE = "data_quality/restricted/"


def _file_name(summary: dict) -> str:
    return Path(str(summary["source"])).name


def _words(code: str) -> str:
    """``no_further_action`` -> ``No further action``."""
    return code.replace("_", " ").capitalize()


def reconciliation_table(report: dict) -> Styler:
    """Rows read, accepted and quarantined per file (counts only), as a captioned table."""
    rows = [
        {
            "file": _file_name(s),
            "read": s["read"],
            "accepted": s["accepted"],
            "rejected": s["rejected"],
            "share": s["rejected"] / s["read"] if s["read"] else float("nan"),
        }
        for s in report["files"].values()
    ]
    frame = pd.DataFrame(rows, columns=["file", "read", "accepted", "rejected", "share"])
    return styled(
        frame,
        "Rows read, accepted and quarantined per input file (read = accepted + quarantined)",
        labels={
            "file": "File",
            "read": "Rows read",
            "accepted": "Rows accepted",
            "rejected": "Rows quarantined",
            "share": "Share quarantined",
        },
        formats={"share": "{:.2%}"},
    )


def rejection_table(report: dict) -> Styler:
    """Quarantined rows by file and reason, largest first (counts only)."""
    rows = [
        {"file": _file_name(s), "reason": _words(r), "code": r, "rows": n}
        for s in report["files"].values()
        for r, n in sorted(s["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    frame = pd.DataFrame(rows, columns=["file", "reason", "code", "rows"])
    return styled(
        frame,
        f"Quarantined rows by file and reason (counts; the rows are in {QUARANTINE}, restricted)",
        labels={"file": "File", "reason": "Reason", "code": "Reason code", "rows": "Rows"},
    )


def charges_by_outcome(report: dict) -> Styler:
    """Charges by outcome, with counts under 10 suppressed (charges relate to people)."""
    t = pd.DataFrame(sorted(report["charges_by_outcome"].items()), columns=["outcome", "charges"])
    t = suppress_counts(t, ["charges"], total=False)
    t["outcome"] = t["outcome"].map(_words)
    label = "Charges (counts under 10 suppressed)"
    s = styled(
        t,
        "Charges in the extract by outcome (a charge is not a conviction)",
        labels={"outcome": "Outcome", "charges": label},
        formats={"charges": lambda v: f"{int(v):,}" if str(v).isdigit() else html.escape(str(v))},
    )
    return s.set_properties(subset=[label], **{"text-align": "right"})


def _range_text(series: pd.Series) -> str:
    """A monthly series in words: its peak, its range over the last year, its last month."""
    hi, year = series.idxmax(), series.iloc[-12:]
    return (
        f"peak {series[hi]:,} ({hi}); over the last {len(year)} months {year.min():,} to "
        f"{year.max():,} a month, {series.iloc[-1]:,} in the last month ({series.index[-1]})"
    )


def plot_monthly(report: dict) -> DescribedFigure:
    """Recorded crimes by month committed: all in the extract, then each offence group.

    One panel per series, each on its own scale, in colours safe for colour-blind readers
    and with its own marker and line style; the alt text gives each series' range.
    """
    monthly = pd.DataFrame(report["monthly"]).set_index("month")
    when = pd.PeriodIndex(monthly.index, freq="M").to_timestamp()
    names = ["all_in_extract", *[c for c in monthly.columns if c != "all_in_extract"]]
    titles = {"all_in_extract": "All crimes in the extract"}
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.3 * len(names)), sharex=True)
    for i, (ax, name) in enumerate(zip(np.atleast_1d(axes), names, strict=True)):
        style = series_style(i)
        ax.plot(when, monthly[name].to_numpy(), lw=1.6, markevery=6, markersize=5, **style)
        ax.set_title(titles.get(name, _words(name)), loc="left", fontsize=11)
        ax.set_ylabel("crimes a month")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[-1].set_xlabel("month committed")
    fig.tight_layout()
    first, last = monthly.index[0], monthly.index[-1]
    parts = [f"{titles.get(n, _words(n))}: {_range_text(monthly[n])}" for n in names]
    alt = (
        f"Line charts of recorded crimes per month committed, {first} to {last}, one panel "
        f"per series on its own scale. " + "; ".join(parts) + "."
    )
    return figure(fig, alt)


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


def ethnicity_profile(fc: NextPeriodForecast, data: FolderData) -> pd.DataFrame | Markdown:
    """The forecast's burden by the ethnic composition of areas (Census 2021 TS021)."""
    if data.lsoa is None or data.lsoa_ethnicity is None:
        return Markdown(
            "No Census 2021 TS021 table in the data folder (`lsoa_ethnicity.csv`): no profile "
            "by the ethnic composition of areas."
        )
    return area_ethnicity_profile(fc.table, fc.units, data.lsoa, data.lsoa_ethnicity)


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


def harm_coefficients(out: str | Path) -> Styler:
    """The logistic model's odds ratios per standard deviation, with 95% intervals."""
    t = harm_table(out, "coefficients.csv")
    t = t.loc[t["term"] != "const"].copy()
    t["interval"] = [
        f"{lo:.2f} to {hi:.2f}" for lo, hi in zip(t["or_ci_low"], t["or_ci_high"], strict=True)
    ]
    return styled(
        t,
        "Logistic model: odds ratio of becoming high harm per standard deviation of each "
        "feature, with its 95% confidence interval",
        keep=["label", "transform", "odds_ratio", "interval", "p_value"],
        labels={
            "label": "Feature",
            "transform": "Transform",
            "odds_ratio": "Odds ratio",
            "interval": "95% interval",
            "p_value": "p-value",
        },
        formats={
            "odds_ratio": "{:.2f}",
            "p_value": lambda v: "<0.001" if v < 0.001 else f"{v:.3f}",
        },
    )


def harm_sensitivity(out: str | Path) -> Styler:
    """How many people are high harm under each index and counting rule."""
    t = harm_table(out, "sensitivity_index.csv")
    for c in ("charged_in_window", "high_harm"):
        t[c] = [suppressed_count(v) for v in t[c]]
    return styled(
        t,
        "High-harm group at the run date under each counting rule (counts under 10 suppressed)",
        keep=["counting", "index_version", "threshold_days", "charged_in_window", "high_harm"],
        labels={
            "counting": "Counting rule",
            "index_version": "Harm index",
            "threshold_days": "Threshold (harm days)",
            "charged_in_window": "People charged in the 12 months",
            "high_harm": "High harm",
        },
    )


def suppressed_count(v: float) -> str:
    """A count of people as published: the number, or ``<10``."""
    return SUPPRESSED if float(v) < MIN_PEOPLE else f"{int(v):,}"


def harm_figure(out: str | Path, name: str) -> DescribedFigure:
    """One of the harm run's figures, with alt text computed from its table."""
    out = Path(out)
    perf = harm_table(out, "performance.csv").set_index("model")
    rank = json.loads((out / "run.json").read_text())["rank_model"]
    if name == "reliability":
        slope = float(perf.loc[rank, "calibration_slope"])
        alt = (
            "Reliability diagrams, one per model: observed share who became high harm "
            "against the mean predicted probability in each tenth of predicted risk, with "
            f"95% intervals; for the model in use ({rank}) the points follow the diagonal "
            f"with calibration slope {slope:.2f}."
        )
    elif name == "decision_curve":
        alt = (
            "Decision curves: net benefit of each model against the threshold probability, "
            "beside acting on everyone (dashed grey) and on no one (black); a curve above "
            "both is worth acting on at that threshold. Models: " + ", ".join(perf.index) + "."
        )
    elif name == "coefficients":
        c = harm_table(out, "coefficients.csv")
        c = c.loc[c["term"] != "const"]
        top = c.loc[c["odds_ratio"].sub(1).abs().idxmax()]
        alt = (
            "Odds ratios of the logistic model per standard deviation of each feature, with "
            f"95% intervals on a log scale; the largest effect is {top['label']} "
            f"(odds ratio {top['odds_ratio']:.2f})."
        )
    elif name == "fairness":
        alt = (
            f"Fairness audit of {rank} by sex, age band and ethnicity: share listed, true and "
            "false positive rates with 95% intervals against the overall value (dashed); "
            "groups whose counts are suppressed are named, not plotted."
        )
    else:
        raise ValueError(f"no harm figure {name!r}")
    return figure(out / f"{name}.png", alt)
