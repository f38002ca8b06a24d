"""Tables for the ethics committee summary, read from a run's artefacts and leaderboards.

Everything here is aggregate; person-level outputs never reach these functions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from pandas.io.formats.style import Styler

from analysis.report.disclosure import FAIRNESS_COUNTS, MIN_PEOPLE, SUPPRESSED
from analysis.report.forecast_page import (
    DEPRIVATION_FORMATS,
    ETHNICITY_FORMATS,
    ETHNICITY_HEADINGS,
    deprivation_headings,
)
from analysis.report.plan import MonthlyPlan
from analysis.report.tables import definitions, styled
from analysis.report.views import leaderboards

#: Baselines shown beside the model in use.
SHOWN = ("ewma_rescaled", "ewma", "last", "kde", "ORACLE_true_mean_poisson")


def performance_rows(plan: MonthlyPlan) -> pd.DataFrame:
    """The forecast in use, simple baselines and the oracle, per offence group (raw scores).

    Each group's scores come from the leaderboard its model was chosen on (the plan's
    evidence); a group never backtested has no row.

    Returns
    -------
    pandas.DataFrame
        ``target, model, in use, crps, log_score, pai_5pct, coverage_90``.
    """
    boards = {b.name: b for b in leaderboards(plan)}
    rows = []
    for g in plan.groups:
        board = g.evidence.get("leaderboard")
        if not board or Path(str(board)).name not in boards:
            continue
        lb = boards[Path(str(board)).name]
        t = lb.scores.loc[lb.scores["n_origins"] > 0]
        in_use = g.model_chosen
        keep = t.loc[t["model"].isin([in_use, *SHOWN])]
        keep = pd.concat([keep.loc[keep["model"] == in_use], keep.loc[keep["model"] != in_use]])
        label = f"{g.label}, {g.cell_area_km2:g} km², {lb.name}"
        for r in keep.itertuples(index=False):
            rows.append(
                {
                    "target": label,
                    "model": r.model,
                    "in use": r.model == in_use,
                    "crps": r.crps,
                    "log_score": r.log_score,
                    "pai_5pct": r.pai_5pct,
                    "coverage_90": r.coverage_90,
                }
            )
    columns = ["target", "model", "in use", "crps", "log_score", "pai_5pct", "coverage_90"]
    return pd.DataFrame(rows, columns=columns)


def performance_table(plan: MonthlyPlan) -> pd.DataFrame:
    """:func:`performance_rows` rounded for reading, the model in use marked, indexed."""
    t = performance_rows(plan)
    if t.empty:
        return pd.DataFrame()
    out = pd.DataFrame(
        {
            "target": t["target"],
            "model": t["model"] + np.where(t["in use"], " (in use)", ""),
            "CRPS": t["crps"].round(4),
            "log score": t["log_score"].round(4),
            "PAI at 5%": t["pai_5pct"].round(2),
            "90% interval coverage": t["coverage_90"].round(3),
        }
    )
    return out.set_index(["target", "model"])


def performance_view(plan: MonthlyPlan) -> Styler | Markdown:
    """The performance table for the page (captioned, readable headings)."""
    t = performance_table(plan)
    if t.empty:
        return Markdown("No offence group of this run has been backtested yet.")
    return styled(
        t,
        "Backtest scores of each forecast in use against simple baselines and, on synthetic "
        "data, the true expected counts (ORACLE); mean over the held-out periods",
        labels={
            "target": "Offence group, cells, leaderboard",
            "model": "Model",
            "CRPS": "CRPS (lower is better)",
            "log score": "Log score (lower is better)",
            "PAI at 5%": "PAI at 5% of area (higher is better)",
            "90% interval coverage": "90% interval coverage",
        },
        formats={"90% interval coverage": "{:.1%}"},
        digits=3,
    )


def forecast_table(artefacts: str | Path) -> pd.DataFrame:
    """Forecast totals of the run, per offence group."""
    rows = []
    for path in sorted(Path(artefacts).glob("forecast_*.json")):
        s = json.loads(path.read_text())
        rows.append(
            {
                "offence group": s["group"].replace("_", " "),
                "cell km²": s["cell_area_km2"],
                "period": s["target_period"],
                "from": s["target_start"],
                "to": s["target_end"],
                "expected total": round(s["total_mean"]),
                "90% interval": f"{s['total_lo90']:.0f}-{s['total_hi90']:.0f}",
                "model": s["model"],
            }
        )
    return pd.DataFrame(rows)


def forecast_view(artefacts: str | Path) -> Styler | Markdown:
    """:func:`forecast_table` as the page's table."""
    t = forecast_table(artefacts)
    if t.empty:
        return Markdown("No forecast in this run.")
    return styled(
        t,
        "This month's forecasts: the force-wide expected total of each offence group for the "
        "target 4-week period, with its 90% interval",
        labels={
            "offence group": "Offence group",
            "cell km²": "Cell (km²)",
            "period": "Period",
            "from": "From",
            "to": "To",
            "expected total": "Expected total",
            "90% interval": "90% interval",
            "model": "Model",
        },
    )


def _harm(artefacts: str | Path) -> Path:
    return Path(artefacts) / "harm"


def harm_readings(artefacts: str | Path) -> Markdown:
    """The harm model's performance in plain words (evaluation cohort, model in use)."""
    harm = _harm(artefacts)
    if not (harm / "run.json").exists():
        return Markdown(
            "**The harm-escalation model is not in this run.** Its sections are left empty "
            "rather than filled with placeholders."
        )
    run = json.loads((harm / "run.json").read_text())
    perf = pd.read_csv(harm / "performance.csv", comment="#").set_index("model")
    rank = run["rank_model"]
    r = perf.loc[rank]
    k = int(r["k"])
    score = run["cohorts"].get("score", {})
    lines = [
        f"- **Who is scored.** This month {suppressed(score.get('cohort', 0))} people charged "
        f"before {run['reference_date']} and not yet high harm were scored; the {k} with the "
        "highest probability (the offender managers' caseload) are listed for them, in the "
        "restricted folder only.",
    ]
    precision = pd.to_numeric(r["precision_at_k"], errors="coerce")
    if np.isfinite(precision):
        tp = round(float(precision) * k)
        positives = int(r["positives"])
        missed = positives - tp
        lines += [
            f"- **How often a listed person escalates.** On the evaluation cohort "
            f"({int(r['n']):,} people, a year earlier, outcomes since), about **{tp} of the "
            f"{k}** people listed went on to become high harm within 12 months "
            f"(precision {float(precision):.0%}); among everyone, "
            f"{float(r['observed_rate']):.1%} did.",
            f"- **How many escalations it misses.** Of the {positives} people who became high "
            f"harm, {tp} were on the list and {missed} were not: about "
            f"**{missed / positives:.0%} of those who escalate are not listed** "
            f"(recall {float(r['recall_at_k']):.0%}). The list is a prompt to offer help, not "
            "a screen.",
        ]
    else:
        lines.append(
            "- **How often a listed person escalates** and **how many escalations it misses** "
            f"are not shown: a count behind them is under {MIN_PEOPLE} (suppressed)."
        )
    lines += [
        f"- **Ranking.** AUC {float(r['auc']):.2f} (95% interval {float(r['auc_low']):.2f} to "
        f"{float(r['auc_high']):.2f}): a person who escalated had a higher score than one "
        f"who did not in about {float(r['auc']):.0%} of pairs.",
        f"- **Calibration.** Slope {float(r['calibration_slope']):.2f} (1 is ideal): the "
        "stated probabilities are "
        + (
            "about right."
            if 0.9 <= float(r["calibration_slope"]) <= 1.1
            else (
                "too extreme (spread too wide)."
                if float(r["calibration_slope"]) < 0.9
                else "too cautious (spread too narrow)."
            )
        ),
    ]
    return Markdown("\n".join(lines))


def harm_performance(artefacts: str | Path) -> Styler | Markdown:
    """The harm models' scores on the evaluation cohort, with intervals."""
    harm = _harm(artefacts)
    if not (harm / "performance.csv").exists():
        return Markdown("The harm-escalation model is not in this run.")
    t = pd.read_csv(harm / "performance.csv", comment="#")
    t["AUC (95% interval)"] = [
        f"{a:.3f} ({lo:.3f} to {hi:.3f})"
        for a, lo, hi in zip(t["auc"], t["auc_low"], t["auc_high"], strict=True)
    ]
    t["PR AUC (95% interval)"] = [
        f"{a:.3f} ({lo:.3f} to {hi:.3f})"
        for a, lo, hi in zip(t["pr_auc"], t["pr_auc_low"], t["pr_auc_high"], strict=True)
    ]
    k = int(t["k"].iloc[0])
    return styled(
        t,
        f"Harm-escalation models on the evaluation cohort ({_people(t['n'].iloc[0])} people, "
        f"{_people(t['positives'].iloc[0])} became high harm); the top {k} listed; a share "
        f"resting on a count under {MIN_PEOPLE} is not shown",
        keep=[
            "model",
            "AUC (95% interval)",
            "PR AUC (95% interval)",
            "brier",
            "calibration_slope",
            "calibration_intercept",
            "precision_at_k",
            "recall_at_k",
        ],
        labels={
            "model": "Model",
            "brier": "Brier score (lower is better)",
            "calibration_slope": "Calibration slope (1 is ideal)",
            "calibration_intercept": "Calibration intercept (0 is ideal)",
            "precision_at_k": f"Share of the {k} listed who escalated",
            "recall_at_k": f"Share of escalations among the {k} listed",
        },
        formats={"precision_at_k": "{:.0%}", "recall_at_k": "{:.0%}", "brier": "{:.4f}"},
    )


#: Fairness metrics shown, with their headings.
FAIRNESS_SHOWN = {
    "share_flagged": "Share listed",
    "tpr": "Share of escalations listed (TPR)",
    "fpr": "Share of others listed (FPR)",
    "calibration_in_the_large": "Predicted minus observed rate",
    "auc": "AUC",
}


def fairness_view(artefacts: str | Path) -> Styler | Markdown:
    """The fairness audit of the model in use: counts protected, rates with intervals."""
    harm = _harm(artefacts)
    if not (harm / "fairness.csv").exists():
        return Markdown("The harm-escalation model is not in this run.")
    run = json.loads((harm / "run.json").read_text())
    rank = run["rank_model"]
    f = pd.read_csv(harm / "fairness.csv", comment="#", dtype={c: str for c in FAIRNESS_COUNTS})
    f = f.loc[f["model"] == rank].copy()
    for metric in FAIRNESS_SHOWN:
        f[metric] = [
            "suppressed"
            if not np.isfinite(v)
            else (
                f"{v:.2%} ({lo:.2%} to {hi:.2%})"
                if metric != "auc"
                else f"{v:.2f} ({lo:.2f} to {hi:.2f})"
            )
            for v, lo, hi in zip(
                f[metric].astype(float),
                f[f"{metric}_low"].astype(float),
                f[f"{metric}_high"].astype(float),
                strict=True,
            )
        ]
    f["attribute"] = f["attribute"].map(ATTRIBUTE_LABELS).fillna(f["attribute"])
    return styled(
        f,
        f"Fairness audit of the model in use ({rank}), evaluation cohort: each rate with its "
        f"95% bootstrap interval; counts under {MIN_PEOPLE}, and any count or rate from which "
        "one could be worked out, are suppressed",
        keep=["attribute", "group", *FAIRNESS_COUNTS, *FAIRNESS_SHOWN],
        labels={
            "attribute": "Characteristic",
            "group": "Group",
            "n": "People",
            "positives": "Became high harm",
            "flagged": "Listed",
            "true_positives": "Listed and became high harm",
            **FAIRNESS_SHOWN,
        },
    )


#: Readable names of the audited characteristics.
ATTRIBUTE_LABELS = {
    "all": "Everyone",
    "sex": "Sex",
    "age_band": "Age band",
    "ethnic_group": "Ethnicity (self-defined, as recorded)",
}


#: The counting rules in words.
COUNTING_LABELS = {
    "charges": "all charges",
    "exclude-acquitted-nfa": "charges without acquittals or no further action",
    "convictions": "convictions",
}


def counting_sensitivity(artefacts: str | Path) -> Markdown:
    """How much who counts as high harm depends on the counting rule, in words and a table."""
    harm = _harm(artefacts)
    path = harm / "sensitivity_pairs.csv"
    if not path.exists():
        return Markdown("No counting-rule sensitivity in this run.")
    pairs = pd.read_csv(path, comment="#")
    lines = []
    for r in pairs.itertuples(index=False):
        a, b = (COUNTING_LABELS.get(m.split("/")[-1], m) for m in (r.measure_a, r.measure_b))
        lines.append(
            f"- Of the {suppressed(r.high_harm_a)} people high harm when counting **{a}**, "
            f"{r.share_a_in_b:.0%} are also high harm when counting **{b}** "
            f"({suppressed(r.both)} people in both; {suppressed(r.high_harm_b)} high harm by "
            f"{b})."
        )
    return Markdown(
        "Who is *high harm* depends on what is counted. Charges include people later "
        "acquitted or not proceeded against; convictions lag and miss cases still open. At "
        "the run date:\n\n" + "\n".join(lines)
    )


def _people(value: object) -> str:
    v = pd.to_numeric(value, errors="coerce")
    return SUPPRESSED if not np.isfinite(v) else suppressed(float(v))


def suppressed(count: float) -> str:
    """A count of people as published: the number, or ``<10``."""
    return SUPPRESSED if count < MIN_PEOPLE else f"{int(count):,}"


def disparities(artefacts: str | Path) -> None:
    """Display each forecast's profile by area deprivation and, if supplied, ethnicity."""
    artefacts = Path(artefacts)
    for path in sorted(artefacts.glob("deprivation_*.csv")):
        group = path.stem.removeprefix("deprivation_")
        label = group.replace("_", " ")
        t = pd.read_csv(path)
        display(
            styled(
                t,
                f"{label.capitalize()}: where the forecast points, by national IMD 2019 "
                "quintile of the area (1 = most deprived fifth of England)",
                labels=deprivation_headings(t.columns[0], "4 weeks"),
                formats=DEPRIVATION_FORMATS,
            )
        )
        eth = artefacts / f"ethnicity_{group}.csv"
        if eth.exists():
            e = pd.read_csv(eth)
            display(
                styled(
                    e,
                    f"{label.capitalize()}: expected offences where each ethnic group lives "
                    "(Census 2021 TS021), per 1,000 residents, and the share of the group "
                    "living in the forecast's top 5% of cells",
                    labels=ETHNICITY_HEADINGS,
                    formats=ETHNICITY_FORMATS,
                )
            )
        else:
            display(
                Markdown(
                    f"*{label.capitalize()}: no Census 2021 TS021 table in the data folder "
                    "(`lsoa_ethnicity.csv`), so no profile by the ethnic composition of "
                    "areas.*"
                )
            )


#: Terms a reader meets on these pages.
GLOSSARY = {
    "CRPS": "Continuous ranked probability score: how far the whole forecast distribution "
    "is from what happened, in offences per cell; lower is better.",
    "Log score": "Minus the log of the probability the forecast gave to what happened; lower "
    "is better.",
    "PAI": "Predictive accuracy index: the share of offences in the forecast's top cells "
    "divided by the share of the area they cover (here the top 5% of area); higher is "
    "better.",
    "PIT": "Probability integral transform: where each outcome falls in its forecast "
    "distribution; a flat histogram means honest uncertainty.",
    "90% interval coverage": "Share of cells whose count fell inside the 90% interval; "
    "for counts it is at least 90% by construction, so 95-98% is expected.",
    "ORACLE_true_mean_poisson": "Synthetic data only: the true simulated expected counts "
    "scored as a forecast, the best any model could do.",
    "ewma_rescaled": "Exponentially weighted moving average of each cell's counts, rescaled "
    "so the cells add up to a force-wide forecast of the total.",
    "ewma, last, kde": "Simple baselines: exponentially weighted mean; last period's count; "
    "kernel density of recent offences.",
    "bayes": "The Bayesian spatio-temporal model: Poisson counts with a force-wide level, a "
    "season, a spatial effect and each cell's slowly moving level (docs/bayesian-models.md).",
    "AUC": "Area under the ROC curve: the chance a person who escalated scored higher than "
    "one who did not; 0.5 is chance.",
    "PR AUC": "Area under the precision-recall curve: useful when few escalate; compare with "
    "the share who escalate.",
    "Brier score": "Mean squared difference between the stated probability and what "
    "happened; lower is better.",
    "Calibration slope and intercept": "Whether stated probabilities match observed rates: "
    "slope 1 and intercept 0 are ideal.",
    "TPR, FPR": "True positive rate: share of people who escalated who were listed. False "
    "positive rate: share of people who did not who were listed.",
    "High harm": "Harm (Cambridge Crime Harm Index days) in the trailing 12 months at or "
    "above the 95th percentile of people charged in those months.",
    "Suppressed (<10)": "A count under 10 people, or a count or rate from which one could "
    "be worked out, is not shown.",
}


def glossary() -> Styler:
    """The glossary table."""
    return definitions(GLOSSARY, "Glossary of the terms on these pages")


def models_in_use(plan: MonthlyPlan) -> Markdown:
    """Each offence group's forecast model in this run, and the evidence it was chosen on."""
    lines = []
    for g in plan.groups:
        board = g.evidence.get("leaderboard")
        where = f"leaderboard `{Path(str(board)).name}`" if board else "no backtest yet"
        lines.append(
            f"- **{g.label}** ({g.cell_area_km2:g} km² cells): `{g.model_chosen}`, "
            f"{g.evidence['reason']} ({where})."
        )
    return Markdown("\n".join(lines))


#: A plain title for each guard the harm run can trigger (``harm/run.json``'s ``guards``).
GUARD_TITLES = {
    "events_per_feature": "Too few events for the features",
    "separation": "Separation",
    "one_unit": "A single management unit",
    "zero_harm_share": "Many charges at zero harm",
    "sensitivity_no_events": "A counting rule with no events",
}


def guards_view(artefacts: str | Path) -> Markdown:
    """The harm run's guards (``harm/run.json``'s ``guards``) as Markdown.

    Parameters
    ----------
    artefacts : str or Path
        The month's artefacts folder (holding ``harm/run.json``).

    Returns
    -------
    IPython.display.Markdown
        "No guard was triggered." or one bullet per guard: its title
        (:data:`GUARD_TITLES`) and model in bold, then its message.
    """
    path = _harm(artefacts) / "run.json"
    if not path.exists():
        return Markdown("No harm run: no guards to show.")
    guards = json.loads(path.read_text()).get("guards") or []
    if not guards:
        return Markdown("No guard was triggered.")
    lines = []
    for g in guards:
        model = f" ({g['model']})" if g.get("model") else ""
        name = str(g.get("guard", "guard"))
        title = GUARD_TITLES.get(name, name.replace("_", " ").capitalize())
        lines.append(f"- **{title}**{model}: {g.get('message', '')}")
    return Markdown("\n".join(lines))
