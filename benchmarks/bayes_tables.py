"""Paired differences of the Bayesian model from every baseline, per backtest (Markdown).

For each leaderboard under ``benchmarks/bayes/leaderboards/``: each Bayesian model's mean minus each
baseline's mean over the same origins, with the paired standard error across origins, for
CRPS and log score (lower is better), PAI at 5% of area (higher is better) and 90%
coverage; ``paired.csv`` is written beside each leaderboard.

Usage: ``.venv/bin/python benchmarks/bayes_tables.py [model-name]`` (default ``bayes``).
"""

from __future__ import annotations

import glob
import os
import sys

import pandas as pd

from analysis.forecast import metrics as M

METRICS = ("crps", "log_score", "pai_5pct", "coverage_90")


def paired(folder: str, prefix: str) -> pd.DataFrame:
    """Return the paired differences of every model named ``prefix...`` from each baseline.

    The baselines are the models whose names do not start with ``prefix``; each Bayesian
    variant in the folder gets its own rows (column ``model``).
    """
    long = pd.read_csv(os.path.join(folder, "metrics.csv"))
    names = sorted(set(long["model"]))
    wide = long.pivot_table(index=["model", "origin"], columns="metric", values="value")
    wide = wide.reset_index()
    rows = []
    for model in (m for m in names if m.startswith(prefix)):
        for other in (m for m in names if not m.startswith(prefix)):
            row: dict[str, object] = {"model": model, "baseline": other}
            for metric in METRICS:
                d = M.paired_difference(wide, model, other, metric)
                row[f"{metric}_diff"] = d["mean_diff"]
                row[f"{metric}_se"] = d["se"]
                row["n_origins"] = d["n"]
            rows.append(row)
    return pd.DataFrame(rows)


BOARD = ["model", "crps", "log_score", "pai_5pct", "coverage_50", "coverage_90", "fit_seconds"]


def leaderboard(folder: str) -> str:
    """Return the leaderboard (with the true-mean oracle where one exists) as Markdown."""
    table = pd.read_csv(os.path.join(folder, "summary.csv"))
    oracle = os.path.join("benchmarks/leaderboards", os.path.basename(folder.rstrip("/")))
    if os.path.exists(os.path.join(oracle, "oracle.csv")):
        table = pd.concat([table, pd.read_csv(os.path.join(oracle, "oracle.csv"))])
    table = table[BOARD]
    lines = ["| " + " | ".join(BOARD) + " |", "|" + "---|" * len(BOARD)]
    for row in table.itertuples(index=False):
        lines.append(
            "| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |"
        )
    return "\n".join(lines)


def main() -> None:
    """Print the tables and write ``paired.csv`` files."""
    model = sys.argv[1] if len(sys.argv) > 1 else "bayes"
    for folder in sorted(glob.glob("benchmarks/bayes/leaderboards/*/")):
        print(f"### {os.path.basename(folder.rstrip('/'))}: leaderboard\n")
        print(leaderboard(folder) + "\n")
        table = paired(folder, model)
        table.to_csv(os.path.join(folder, "paired.csv"), index=False)
        for name, part in table.groupby("model", sort=True):
            print(f"### {os.path.basename(folder.rstrip('/'))}: {name} minus baseline\n")
            cols = ["baseline", "n_origins"]
            head = cols + list(METRICS)
            lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for r in part.itertuples(index=False):
                r = r._asdict()
                cells = [str(r["baseline"]), str(r["n_origins"])]
                cells += [f"{r[f'{m}_diff']:+.4f} ± {r[f'{m}_se']:.4f}" for m in METRICS]
                lines.append("| " + " | ".join(cells) + " |")
            print("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
