"""Score the *true* expected counts of the synthetic sample on a backtest's origins.

The synthetic sample ships the true expected count of every unit and period given the
history (``data/sample/truth/expected_counts.csv.gz``). Scoring a Poisson forecast with that
mean on the same units and origins as a backtest shows how much skill is there to find: the
gap between the best model and this oracle is the headroom. (The true count distribution is
slightly overdispersed by near-repeat cascades, so the Poisson oracle's interval and log
scores are close to, not exactly, the best attainable.)

    .venv/bin/python benchmarks/synthetic_oracle.py --backtest DIR --group G --unit-set S
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from analysis.forecast.backtest import score_origin
from analysis.forecast.distributions import CountDistribution


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backtest", required=True, help="folder written by analysis backtest")
    ap.add_argument("--truth", default="data/sample/truth/expected_counts.csv.gz")
    ap.add_argument("--group", required=True)
    ap.add_argument("--unit-set", required=True, help="e.g. grid_1km2 or grid_0.5km2")
    ap.add_argument("--out", help="CSV to append the oracle row to (the backtest summary)")
    args = ap.parse_args()
    fc = pd.read_parquet(f"{args.backtest}/forecasts.parquet")
    fc = fc.loc[fc["model"] == fc["model"].iloc[0], ["unit", "origin", "observed"]]
    truth = pd.read_csv(args.truth)
    truth = truth.loc[(truth["group"] == args.group) & (truth["unit_set"] == args.unit_set)]
    joined = fc.merge(truth, left_on=["unit", "origin"], right_on=["unit_id", "period"], how="left")
    missing = joined["expected"].isna().sum()
    if missing:
        raise SystemExit(f"{missing} unit-periods have no truth: wrong --unit-set?")
    area_by_unit = pd.read_csv(f"{args.backtest}/units.csv").set_index("unit_id")["area_km2"]
    rng = np.random.default_rng(0)
    rows = []
    for origin, g in joined.groupby("origin"):
        dist = CountDistribution.make(np.maximum(g["expected"].to_numpy(), 1e-9))
        area = area_by_unit.reindex(g["unit"]).to_numpy()
        values, _, _ = score_origin(dist, g["observed"].to_numpy(), area, rng)
        rows.append({"origin": origin, **values})
    per = pd.DataFrame(rows)
    mean = per.drop(columns="origin").mean()
    print(f"oracle (true expected count, Poisson) over {len(per)} origins")
    print(
        mean[
            [
                "crps",
                "log_score",
                "mae",
                "rmse",
                "pai_5pct",
                "hit_rate_5pct",
                "coverage_50",
                "coverage_90",
            ]
        ]
        .round(4)
        .to_string()
    )
    if args.out:
        row = {"model": "ORACLE_true_mean_poisson", "n_origins": len(per), **mean.to_dict()}
        pd.DataFrame([row]).to_csv(args.out, index=False, float_format="%.6g")


if __name__ == "__main__":
    main()
