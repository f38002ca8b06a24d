"""The committee summary's front matter: the decision sought, the ATRS record, stop criteria.

The Algorithmic Transparency Recording Standard (ATRS) asks for a tier-1 summary and a
tier-2 record. The workbench fills every field it can from the run itself (the models in
use, the features, the people scored, the data); what only a force can say (its owner and
contact point, the tools' phase, the users' training, its impact assessments) comes from
the data folder's ``deployment.yaml`` or is shown as a marked placeholder, all listed in one
table (:data:`FORCE_FIELDS`). Stop criteria are stated with this month's value against each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from analysis.data.identifiers import IdentifierState
from analysis.report.committee import performance_rows
from analysis.report.disclosure import MIN_PEOPLE
from analysis.report.plan import MonthlyPlan
from analysis.report.tables import styled

#: What only the deploying force can supply: key of ``deployment.yaml``, and what it is.
FORCE_FIELDS: dict[str, str] = {
    "organisation": "Organisation and team that run the tools",
    "senior_responsible_owner": "Senior responsible owner (role)",
    "contact": "Contact point for questions about the tools (a team mailbox)",
    "website": "Where the public record is published",
    "phase": "Phase: pilot or live (or design, retired)",
    "process_replaced": "The process the tools replace or support, and the benefits expected",
    "training": "Training users complete before they see the outputs",
    "dpia": "Data Protection Impact Assessment: status, reference and date",
    "eqia": "Equality Impact Assessment: status, reference and date",
    "legal_basis": "Lawful basis as confirmed by the force's data protection officer",
    "retention": "Retention period of reports and restricted outputs",
    "challenge_route": "How a person asks to see or correct the records behind a score",
}
#: Months from the run date to the proposed review, unless ``deployment.yaml`` sets one.
REVIEW_AFTER_MONTHS = 6
#: Marker of a field the force has not supplied.
PLACEHOLDER = "[to be supplied by the force]"


def force_value(plan: MonthlyPlan, key: str) -> str:
    """A force-supplied field, or the marked placeholder."""
    value = (plan.data.get("deployment") or {}).get(key)
    return str(value) if value else f"{PLACEHOLDER} {FORCE_FIELDS[key].lower()}"


def review_date(plan: MonthlyPlan) -> date:
    """The proposed review: ``deployment.yaml``'s ``review_date``, else six months on."""
    given = (plan.data.get("deployment") or {}).get("review_date")
    if given:
        return date.fromisoformat(str(given))
    run = plan.dates.run_date
    month = run.month - 1 + REVIEW_AFTER_MONTHS
    return date(run.year + month // 12, month % 12 + 1, 1)


def force_fields_table(plan: MonthlyPlan) -> pd.DataFrame:
    """Every field only the force can supply, with its value or that it is missing."""
    given = plan.data.get("deployment") or {}
    return pd.DataFrame(
        [
            {
                "field": FORCE_FIELDS[k],
                "key in deployment.yaml": k,
                "status": "supplied" if given.get(k) else "missing",
                "value": given.get(k) or "",
            }
            for k in FORCE_FIELDS
        ]
    )


# ---------------------------------------------------------------------------- run facts


@dataclass
class RunFacts:
    """The facts the summary states, read from the run's artefacts and plan."""

    people_scored: int | None
    people_flagged: int | None
    evaluation_people: int | None
    evaluation_positives: int | None
    precision_at_k: float | None
    recall_at_k: float | None
    features: list[str]
    protected_features: list[str]
    harm_models: list[str]
    rank_model: str | None
    cells: dict[str, int]
    pseudonymised: bool
    identifiers: str
    hidden_groups: int
    audit_groups: int


#: Features that are protected characteristics (Equality Act 2010), by name.
PROTECTED = {"age_now": "age", "age_first": "age", "sex": "sex", "ethnic_group": "ethnicity"}


def run_facts(plan: MonthlyPlan, artefacts: str | Path) -> RunFacts:
    """Read the run's facts from its artefacts (aggregates only)."""
    artefacts = Path(artefacts)
    harm = artefacts / "harm"
    run = json.loads((harm / "run.json").read_text()) if (harm / "run.json").exists() else {}
    cohorts = run.get("cohorts", {})
    metrics = {}
    if (harm / "metrics.json").exists():
        metrics = json.loads((harm / "metrics.json").read_text())
    rank = run.get("rank_model")
    m = metrics.get(rank, {}) if rank else {}
    features: list[str] = []
    if (harm / "features.csv").exists():
        f = pd.read_csv(harm / "features.csv", comment="#")
        features = f.loc[f["kept"].astype(str) == "True", "feature"].tolist()
    hidden = groups = 0
    if (harm / "fairness.csv").exists():
        fair = pd.read_csv(harm / "fairness.csv", comment="#", dtype={"hidden": str})
        fair = fair.loc[(fair["model"] == rank) & (fair["attribute"] != "all")]
        groups = len(fair)
        hidden = int(fair["hidden"].fillna("").str.len().gt(0).sum()) if "hidden" in fair else 0
    cells = {}
    for path in sorted(artefacts.glob("forecast_*.json")):
        s = json.loads(path.read_text())
        table = artefacts / f"forecast_{s['group']}.csv"
        if table.exists():
            cells[s["group"]] = sum(1 for _ in table.open()) - 1
    return RunFacts(
        people_scored=cohorts.get("score", {}).get("cohort"),
        people_flagged=run.get("capacity_k"),
        evaluation_people=cohorts.get("evaluate", {}).get("cohort"),
        evaluation_positives=cohorts.get("evaluate", {}).get("positives"),
        precision_at_k=m.get("precision_at_k"),
        recall_at_k=m.get("recall_at_k"),
        features=features,
        protected_features=[f for f in features if f in PROTECTED],
        harm_models=list(run.get("models", [])),
        rank_model=rank,
        cells=cells,
        pseudonymised=bool(plan.data.get("pseudonymised_on_load")),
        identifiers=str(plan.data.get("identifiers") or ""),
        hidden_groups=hidden,
        audit_groups=groups,
    )


def decision_sought(plan: MonthlyPlan, facts: RunFacts) -> Markdown:
    """The front page: what the committee is asked to decide, and the scale of use."""
    review = review_date(plan)
    given = (plan.data.get("deployment") or {}).get("phase")
    phase = f"phase: {given}" if given else f"phase {PLACEHOLDER}"
    lines = []
    if plan.data.get("synthetic"):
        lines.append(
            "**This month was run on synthetic data.** No approval is sought for it: the "
            "page shows what a force's committee would be asked, with the force's own "
            "facts left as marked placeholders."
        )
        lines.append("")
    lines += [
        "**Decision sought.** The committee is asked to approve the continued monthly use "
        f"of the knife crime and serious violence forecasts and the harm-escalation model "
        f"({phase}) until the next review on **{review:%d %B %Y}**, subject to the stop "
        "criteria below, or to set conditions on that use.",
        "",
        "| | this month |",
        "|---|---|",
        f"| run date | {plan.dates.run_date:%d %B %Y} (data to {plan.dates.cutoff:%d %B %Y}) |",
        "| frequency | monthly: forecasts for the next 4-week period; harm scores over 12 months |",
    ]
    for g in plan.groups:
        n = facts.cells.get(g.name)
        lines.append(
            f"| {g.label} forecast | {n if n is not None else 'not run'} cells of "
            f"{g.cell_area_km2:g} km², model `{g.model_chosen}` |"
        )
    if facts.people_scored is not None:
        lines.append(
            f"| harm-escalation model | {facts.people_scored:,} people scored; the "
            f"{facts.people_flagged} with the highest probability listed for offender "
            "managers (their caseload) |"
        )
    if facts.audit_groups:
        lines.append(
            f"| suppression | counts of people under {MIN_PEOPLE}: {facts.hidden_groups} of "
            f"the {facts.audit_groups} groups of the fairness audit have a count or rate "
            "suppressed |"
        )
    lines.append(
        "| pseudonymisation | "
        + (facts.identifiers or ("keyed on load" if facts.pseudonymised else "not keyed"))
        + " |"
    )
    lines.append(f"| next review | {review:%d %B %Y} |")
    return Markdown("\n".join(lines))


def features_statement(facts: RunFacts) -> Markdown:
    """Which features the harm model used, and which of them are protected characteristics."""
    if not facts.features:
        return Markdown("The harm-escalation model is not in this run.")
    protected = sorted({PROTECTED[f] for f in facts.protected_features})
    never = [c for c in ("sex", "ethnicity", "age") if c not in protected]
    text = [
        f"The harm-escalation model used {len(facts.features)} features, all from the "
        "person's charge record: " + ", ".join(f"`{f}`" for f in facts.features) + "."
    ]
    if "age" in protected:
        text.append(
            "**Age is a feature** (`age_now`, the person's current age). It is a protected "
            "characteristic; it stays because the chance of escalating falls steeply with "
            "age (the age-crime curve), so leaving it out would overstate older people's "
            "risk and understate younger people's; tools such as OGRS use it for the same "
            "reason. Outcomes are therefore audited by age band below."
        )
    if never:
        names = never[0] if len(never) == 1 else ", ".join(never[:-1]) + " and " + never[-1]
        verb = "is never a feature" if len(never) == 1 else "are never features"
        text.append(f"{names.capitalize()} {verb}: used only to audit outcomes by group.")
    return Markdown(" ".join(text))


def pseudonymisation_statement(facts: RunFacts) -> Markdown:
    """Whether identifiers were replaced by a keyed hash in this run."""
    if facts.pseudonymised:
        return Markdown(
            "Person identifiers were **replaced by a keyed hash on load** in this run; the "
            "key is held by the force, never in the repository or the reports."
        )
    why = {
        IdentifierState.ALREADY.value: "the force stated that the extract's identifiers are "
        "pseudonyms already (`--identifiers-already-pseudonymised`)",
        IdentifierState.SYNTHETIC.value: "the data are synthetic: the identifiers were "
        "invented by the sample generator",
    }.get(facts.identifiers, "no key was given")
    return Markdown(
        f"Person identifiers were **not** keyed on load in this run: {why}. A run on a "
        "force's extract needs the key (`ANALYSIS_PSEUDONYM_KEY`) or that statement, and "
        "refuses to start otherwise; the privacy scan checks that no identifier, in either "
        "form, reaches a public file."
    )


# ---------------------------------------------------------------------------- stop criteria


def _status(ok: bool | None) -> str:
    return "not assessable" if ok is None else ("met" if ok else "BREACHED")


def stop_criteria(plan: MonthlyPlan, artefacts: str | Path) -> pd.DataFrame:
    """The conditions under which the tools stop or go back to the committee, as of now.

    Parameters
    ----------
    plan : MonthlyPlan
    artefacts : path
        The run's artefacts folder.

    Returns
    -------
    pandas.DataFrame
        ``criterion, action if breached, this month, status`` (``met``, ``BREACHED`` or
        ``not assessable``).
    """
    artefacts = Path(artefacts)
    performance = performance_rows(plan)
    rows = []
    for g in plan.groups:
        t = performance.loc[performance["target"].str.startswith(g.label)]
        use = t.loc[t["in use"]]
        base = t.loc[~t["in use"] & ~t["model"].str.startswith("ORACLE")]
        cov = float(use["coverage_90"].iloc[0]) if len(use) else None
        skill = None
        if len(use) and len(base):
            skill = float(use["crps"].iloc[0]) <= 1.01 * float(base["crps"].min())
        rows.append(
            {
                "criterion": f"{g.label}: 90% intervals cover at least 85% of cells in the "
                "backtest",
                "action if breached": "stop the forecast; refit and re-backtest",
                "this month": "no backtest" if cov is None else f"{cov:.1%}",
                "status": _status(None if cov is None else cov >= 0.85),
            }
        )
        rows.append(
            {
                "criterion": f"{g.label}: the model in use scores no worse than 1% above "
                "the best simple baseline on CRPS",
                "action if breached": "switch to the best baseline",
                "this month": "no backtest" if skill is None else ("yes" if skill else "no"),
                "status": _status(skill),
            }
        )
    harm = artefacts / "harm"
    if (harm / "performance.csv").exists():
        perf = pd.read_csv(harm / "performance.csv", comment="#").set_index("model")
        run = json.loads((harm / "run.json").read_text())
        rank = run["rank_model"]
        r = perf.loc[rank]
        baselines = [m for m in ("prior_harm", "points_score") if m in perf.index]
        best = float(perf.loc[baselines, "auc"].max()) if baselines else None
        rows.append(
            {
                "criterion": "Harm model: AUC's 95% interval lies above the best simple "
                "baseline's AUC",
                "action if breached": "stop; use the baseline's ranking or none",
                "this month": f"{r['auc_low']:.2f} to {r['auc_high']:.2f} against "
                + ("–" if best is None else f"{best:.2f}"),
                "status": _status(None if best is None else bool(r["auc_low"] > best)),
            }
        )
        slope = float(r["calibration_slope"])
        rows.append(
            {
                "criterion": "Harm model: calibration slope between 0.8 and 1.2",
                "action if breached": "recalibrate before the next list",
                "this month": f"{slope:.2f}",
                "status": _status(0.8 <= slope <= 1.2),
            }
        )
    if (harm / "fairness.csv").exists():
        f = pd.read_csv(harm / "fairness.csv", comment="#")
        run = json.loads((harm / "run.json").read_text())
        f = f.loc[f["model"] == run["rank_model"]]
        overall = f.loc[f["attribute"] == "all", "share_flagged"]
        groups = f.loc[(f["attribute"] != "all") & f["share_flagged"].notna()]
        ok = None
        if len(overall) and len(groups):
            o = float(overall.iloc[0])
            ratio = groups["share_flagged"] / o
            clear = (groups["share_flagged_low"] > 1.25 * o) | (
                groups["share_flagged_high"] < 0.8 * o
            )
            ok = not bool(((ratio > 1.25) | (ratio < 0.8)).loc[clear].any())
        shown = len(groups)
        total = int((f["attribute"] != "all").sum())
        rows.append(
            {
                "criterion": "Harm model: no group's share flagged is clearly (95% interval) "
                "outside 0.8 to 1.25 times the overall share",
                "action if breached": "return to the committee before the next list",
                "this month": f"{shown} of {total} groups assessable (others suppressed)",
                "status": _status(ok),
            }
        )
    dq = artefacts.parent / "data_quality" / "data_quality.json"
    if dq.exists():
        crimes = json.loads(dq.read_text())["files"].get("crimes")
        if crimes:
            share = crimes["rejected"] / max(crimes["read"], 1)
            rows.append(
                {
                    "criterion": "Data: at most 5% of crime rows quarantined",
                    "action if breached": "stop the month; fix the extract",
                    "this month": f"{share:.1%}",
                    "status": _status(share <= 0.05),
                }
            )
    rows.append(
        {
            "criterion": "Every Bayesian fit converges (R-hat, effective sample size, no "
            "divergences)",
            "action if breached": "the run stops by itself and publishes nothing",
            "this month": "converged (the month was published)",
            "status": "met",
        }
    )
    return pd.DataFrame(rows)


def _models_line(plan: MonthlyPlan) -> str:
    parts = []
    for g in plan.groups:
        board = g.evidence.get("leaderboard")
        where = f"chosen on leaderboard {Path(str(board)).name}" if board else "no backtest yet"
        parts.append(f"{g.label} ({g.cell_area_km2:g} km²): {g.model_chosen}, {where}")
    return "; ".join(parts)


def atrs_record(plan: MonthlyPlan, facts: RunFacts) -> pd.DataFrame:
    """ATRS tier 1 and the tier-2 fields: each with its content and where it comes from."""
    run = "computed from this run"
    docs = "the workbench's documentation"
    force = "the force"
    rows = [
        (
            "1",
            "Name",
            "Police analysis workbench: knife crime and serious violence forecasts; "
            "harm-escalation model",
            docs,
        ),
        (
            "1",
            "Description",
            "Forecasts of where recorded knife crime with injury and serious "
            "violence are likeliest in the next 4 weeks, on 1 km² and 0.5 km² cells, for "
            "analysts deciding where to deploy; and the probability that a person charged "
            "before, not yet high harm, becomes high harm in 12 months, so offender managers "
            "can offer help early. No decision is automated.",
            docs,
        ),
        ("1", "Contact point", force_value(plan, "contact"), force),
        ("1", "Website", force_value(plan, "website"), force),
        ("1", "Organisation and team", force_value(plan, "organisation"), force),
        ("2", "Senior responsible owner", force_value(plan, "senior_responsible_owner"), force),
        ("2", "Phase", force_value(plan, "phase"), force),
        ("2", "Frequency and scale", _scale(facts), run),
        ("2", "Process it replaces; benefits", force_value(plan, "process_replaced"), force),
        ("2", "Alternatives considered", _alternatives(facts), run),
        ("2", "Models in use", _models_line(plan), run),
        ("2", "Features and protected characteristics", _features_line(facts), run),
        (
            "2",
            "Human decision and review",
            "Analysts and offender managers decide every use; "
            "forecasts name no person; the harm list supports offers of help only.",
            docs,
        ),
        ("2", "Users' training", force_value(plan, "training"), force),
        ("2", "DPIA", force_value(plan, "dpia"), force),
        ("2", "EqIA", force_value(plan, "eqia"), force),
        ("2", "Lawful basis", force_value(plan, "legal_basis"), force),
        (
            "2",
            "Data",
            "Recorded crime and charges of the force's extract; LSOA geography, "
            "IMD 2019"
            + (", Census 2021 TS021" if plan.data.get("files", {}).get("lsoa_ethnicity") else "")
            + "; pseudonymised on load: "
            + ("yes" if facts.pseudonymised else "no (no key given)"),
            run,
        ),
        ("2", "Retention", force_value(plan, "retention"), force),
        ("2", "Appeals and challenge", force_value(plan, "challenge_route"), force),
    ]
    return pd.DataFrame(rows, columns=["tier", "field", "content", "source"])


def _scale(facts: RunFacts) -> str:
    parts = [f"monthly; {n:,} cells ({g.replace('_', ' ')})" for g, n in facts.cells.items()]
    if facts.people_scored is not None:
        parts.append(f"{facts.people_scored:,} people scored, {facts.people_flagged} listed")
    return "; ".join(parts) or "not run"


def _alternatives(facts: RunFacts) -> str:
    harm = ", ".join(m for m in facts.harm_models if m != facts.rank_model)
    return (
        "Forecasts: simple baselines (last period, moving and exponentially weighted means, "
        "seasonal means, kernel density, prospective hotspots, a self-exciting process, "
        "negative-binomial regression) scored on the same held-out periods (backtest page)"
        + (f"; harm: {harm} beside {facts.rank_model}" if harm else "")
    )


def _features_line(facts: RunFacts) -> str:
    if not facts.features:
        return "harm model not run"
    protected = sorted({PROTECTED[f] for f in facts.protected_features})
    among = ", ".join(protected) if protected else "none"
    return (
        f"{len(facts.features)} features from the charge record; protected characteristics "
        f"among them: {among}"
    )


def stop_criteria_view(plan: MonthlyPlan, artefacts: str | Path) -> Styler:
    """:func:`stop_criteria` as the page's table."""
    return styled(
        stop_criteria(plan, artefacts),
        f"Stop criteria, with this month's value; reviewed by {review_date(plan):%d %B %Y}",
        labels={
            "criterion": "Criterion",
            "action if breached": "If breached",
            "this month": "This month",
            "status": "Status",
        },
    )


def atrs_view(plan: MonthlyPlan, facts: RunFacts) -> Styler:
    """:func:`atrs_record` as the page's table."""
    return styled(
        atrs_record(plan, facts),
        "Algorithmic Transparency Recording Standard: tier 1 and the tier-2 fields, each "
        "with where its content comes from",
        labels={"tier": "Tier", "field": "Field", "content": "Content", "source": "Source"},
    )


def force_fields_view(plan: MonthlyPlan) -> Styler:
    """:func:`force_fields_table` as the page's table."""
    return styled(
        force_fields_table(plan),
        "What only the force can supply (the data folder's deployment.yaml), and whether it has",
        labels={
            "field": "Field",
            "key in deployment.yaml": "Key in deployment.yaml",
            "status": "Status",
            "value": "Value",
        },
    )
