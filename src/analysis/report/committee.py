"""Tables for the ethics committee summary, read from a run's artefacts and leaderboards.

Everything here is aggregate; person-level outputs never reach these functions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from analysis.forecast.registry import default_model
from analysis.harm.output import METRIC_KEYS

#: Leaderboards summarised for the committee: (folder, label, offence group).
BOARDS = (
    (
        "synthetic_knife_1km2",
        "knife crime with injury, 1 km², synthetic",
        "knife_crime_with_injury",
    ),
    ("synthetic_sv_0.5km2", "serious violence, 0.5 km², synthetic", "serious_violence"),
)
#: Baselines shown beside the model in use.
SHOWN = ("ewma_rescaled", "ewma", "last", "kde", "ORACLE_true_mean_poisson")


def performance_table(boards_dir: str | Path, bayes_dir: str | Path | None = None) -> pd.DataFrame:
    """The forecast in use, simple baselines and the oracle, per leaderboard.

    Parameters
    ----------
    boards_dir : path
        The baselines' leaderboards (``benchmarks/leaderboards``).
    bayes_dir : path, optional
        The leaderboards that add the Bayesian model on the same origins
        (``benchmarks/bayes/leaderboards``); used where they exist.
    """
    rows = []
    for folder, label, group in BOARDS:
        path = Path(boards_dir) / folder
        if bayes_dir is not None and (Path(bayes_dir) / folder / "summary.csv").exists():
            path = Path(bayes_dir) / folder
        if not (path / "summary.csv").exists():
            continue
        t = pd.read_csv(path / "summary.csv")
        t = t.loc[t["n_origins"] > 0]
        oracle = Path(boards_dir) / folder / "oracle.csv"
        if oracle.exists():
            t = pd.concat([t, pd.read_csv(oracle)], ignore_index=True)
        in_use = default_model(group)
        keep = t.loc[t["model"].isin([in_use, *SHOWN])]
        keep = pd.concat([keep.loc[keep["model"] == in_use], keep.loc[keep["model"] != in_use]])
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
