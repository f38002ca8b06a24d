"""Tables for the ethics committee summary, read from a run's artefacts and leaderboards.

Everything here is aggregate; person-level outputs never reach these functions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from analysis.harm.output import METRIC_KEYS
from analysis.report.plan import MonthlyPlan
from analysis.report.views import leaderboards

#: Baselines shown beside the model in use.
SHOWN = ("ewma_rescaled", "ewma", "last", "kde", "ORACLE_true_mean_poisson")


def performance_table(plan: MonthlyPlan) -> pd.DataFrame:
    """The forecast in use, simple baselines and the oracle, per offence group.

    Each group's scores come from the leaderboard its model was chosen on (the plan's
    evidence); a group never backtested has no row.
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
                    "model": r.model + (" (in use)" if r.model == in_use else ""),
                    "CRPS": round(r.crps, 4),
                    "log score": round(r.log_score, 4),
                    "PAI at 5%": round(r.pai_5pct, 2),
                    "90% interval coverage": round(r.coverage_90, 3),
                }
            )
    return pd.DataFrame(rows).set_index(["target", "model"]) if rows else pd.DataFrame()


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


def deprivation_tables(artefacts: str | Path) -> None:
    """Display the deprivation profile of each forecast."""
    for path in sorted(Path(artefacts).glob("deprivation_*.csv")):
        group = path.stem.removeprefix("deprivation_").replace("_", " ")
        display(Markdown(f"**{group}**"))
        display(pd.read_csv(path, index_col=0))


def harm_section(artefacts: str | Path) -> None:
    """Display the harm model's aggregate performance and fairness, or say it is not built."""
    harm = Path(artefacts) / "harm"
    if not (harm / "metrics.json").exists():
        display(
            Markdown(
                "**The harm-escalation model is not in this run.** Its section is left empty "
                "rather than filled with placeholders; see the harm-escalation report."
            )
        )
        return
    metrics = json.loads((harm / "metrics.json").read_text())
    table = pd.DataFrame(metrics).T
    cols = [c for c in METRIC_KEYS if c in table.columns]
    display(Markdown("Performance on the later (evaluation) cohort:"))
    display(table[cols])
    if (harm / "fairness.csv").exists():
        display(Markdown("Fairness audit by group (groups under 10 people suppressed):"))
        display(pd.read_csv(harm / "fairness.csv"))


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
