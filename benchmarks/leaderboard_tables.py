"""Print every leaderboard in benchmarks/leaderboards/ as Markdown (for leaderboards.md)."""

from __future__ import annotations

import glob
import os

import pandas as pd

from analysis.forecast.output import read_leaderboard

COLS = [
    "model",
    "n_origins",
    "crps",
    "crps_se",
    "log_score",
    "mae",
    "hit_rate_5pct",
    "pai_5pct",
    "pei_star_5pct",
    "coverage_50",
    "coverage_90",
    "brier_any",
    "fit_seconds",
]


def markdown(df: pd.DataFrame) -> str:
    def fmt(v: object) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


for folder in sorted(glob.glob("benchmarks/leaderboards/*/")):
    table = read_leaderboard(folder).scores  # summary.csv, then the oracle's rows
    print(f"### {os.path.basename(folder.rstrip('/'))}\n")
    print(markdown(table[[c for c in COLS if c in table.columns]]) + "\n")
