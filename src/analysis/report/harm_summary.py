"""The committee's one-page summary of a harm run (Markdown, aggregates only).

Written by the report layer from the run's results (:func:`committee_summary`); the harm
stage computes, and this module says what the numbers are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.harm.output import performance_table
from analysis.harm.pipeline import HarmRun
from analysis.report.disclosure import SUPPRESSED, protect_performance


def md_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A Markdown table of ``frame`` (numbers to ``digits`` significant figures)."""

    def fmt(v: object) -> str:
        if isinstance(v, float | np.floating):
            return "" if not np.isfinite(v) else f"{v:.{digits}g}"
        if isinstance(v, list):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return str(v)

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def committee_summary(run: HarmRun, fairness: pd.DataFrame | None, stamp: str = "") -> str:
    """Return the committee's one-page summary (Markdown, aggregates only)."""
    cfg = run.config
    lines = []
    if stamp:
        lines += [f"**{stamp}**", ""]
    lines += [
        f"# Harm-escalation model: reference date {cfg.reference_date.date()}",
        "",
        *[f"> **{g['message']}**" for g in run.guards if g.get("guard") == "zero_harm_share"],
        *([""] if any(g.get("guard") == "zero_harm_share" for g in run.guards) else []),
        *([f"> **{run.scored_anyway}**", ""] if run.scored_anyway else []),
        f"Harm measure: {cfg.measure.index.label}, counting {cfg.measure.counting.value}. "
        f"High harm: {cfg.rule.describe()}.",
        "",
        "| cohort | reference date | people | threshold (days) | became high harm |",
        "|---|---|---|---|---|",
    ]
    for label, c in run.cohorts.items():
        pos = "" if c.target is None else str(int(c.target.sum()))
        pos = SUPPRESSED if pos and int(pos) < 10 else pos
        lines.append(
            f"| {label} | {c.reference_date.date()} | {len(c)} | {c.threshold:g} | {pos} |"
        )
    perf = protect_performance(performance_table(run))
    cols = [
        "model",
        "auc",
        "auc_low",
        "auc_high",
        "pr_auc",
        "brier",
        "calibration_slope",
        "calibration_intercept",
        "precision_at_k",
        "recall_at_k",
        "k",
    ]
    lines += [
        "",
        "## Performance on the evaluation cohort",
        "",
        md_table(perf[cols]),
        "",
        "Figures: `reliability.png`, `decision_curve.png`, `coefficients.png`.",
    ]
    if fairness is not None and len(fairness):
        default = fairness.loc[fairness["model"] == cfg.rank_model]
        fcols = [
            "attribute",
            "group",
            "n",
            "suppressed",
            "share_flagged",
            "tpr",
            "fpr",
            "calibration_in_the_large",
            "auc",
        ]
        lines += [
            "",
            f"## Fairness audit ({cfg.rank_model}, top {cfg.capacity} flagged)",
            "",
            "Groups of fewer than 10 people, or with fewer than 10 escalations or 10 "
            "non-escalations, are suppressed. Intervals are in `fairness.csv`.",
            "",
            md_table(default[fcols]),
        ]
    if len(run.sensitivity_pairs):
        lines += [
            "",
            "## Sensitivity of the high-harm group to the index and counting rule",
            "",
            md_table(run.sensitivity_groups),
            "",
            md_table(run.sensitivity_pairs),
        ]
    if run.truth:
        t = pd.DataFrame(
            [
                {
                    "cohort/model": k,
                    **{c: v.get(c) for c in ("spearman", "mean_predicted", "mean_true", "mae")},
                }
                for k, v in run.truth.items()
            ]
        )
        lines += ["", "## Synthetic truth (sample data only)", "", md_table(t)]
    if run.guards:
        lines += ["", "## Guards triggered", ""]
        for g in run.guards:
            model = f" ({g['model']})" if g.get("model") else ""
            lines.append(f"- **{g['guard']}**{model}")
    if run.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in run.notes]
    lines += [
        "",
        "Charges are not convictions; recorded charges reflect policing as well as offending. "
        "The model supports an offer of help and makes no decision about anyone. "
        "Person-level lists are restricted and never part of this report.",
        "",
    ]
    return "\n".join(lines)
