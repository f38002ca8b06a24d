"""Backtest at force scale: ~150,000 events, ~600 cells of 1 km2, 130 periods, 13 origins.

Events are drawn from a clustered, seasonal, self-exciting process on a 26 x 26 km square so
that the run has the shape of a real force's data. Prints wall time per model (fit and
forecast summed over origins) and the total, and writes the leaderboard to --out.

    .venv/bin/python benchmarks/backtest_scale.py --out /tmp/bt_scale
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from analysis.forecast.backtest import run_backtest
from analysis.forecast.etas import simulate_grid_etas
from analysis.forecast.panel import build_panel
from analysis.forecast.registry import DEFAULT_MODELS, make_forecaster


def make_events(n_target: int, side_km: int, periods: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cells = side_km * side_km
    days = periods * 28
    # background: a few hotspots over a low floor, then same-cell self-excitation
    cx, cy = np.meshgrid(np.arange(side_km) + 0.5, np.arange(side_km) + 0.5)
    level = np.full(cells, 0.05)
    for _ in range(12):
        hx, hy = rng.uniform(0, side_km, 2)
        level += rng.uniform(0.5, 2.0) * np.exp(
            -((cx.ravel() - hx) ** 2 + (cy.ravel() - hy) ** 2) / (2 * rng.uniform(1, 3) ** 2)
        )
    theta, omega = 0.3, 0.2
    mu = level / level.sum() * n_target * (1 - theta) / days
    cell, t = simulate_grid_etas(mu, theta, omega, 0.0, float(days), rng)
    season = 1 + 0.15 * np.cos(2 * np.pi * t / 364)
    keep = rng.uniform(size=len(t)) < season / 1.15  # thin to add a seasonal cycle
    cell, t = cell[keep], t[keep]
    x = 400_000 + (cell % side_km + rng.uniform(size=len(cell))) * 1000
    y = 280_000 + (cell // side_km + rng.uniform(size=len(cell))) * 1000
    time_ = pd.Timestamp("2018-01-01") + pd.to_timedelta(t, unit="D")
    return pd.DataFrame({"time": time_, "x": x, "y": y})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=175_000)
    ap.add_argument("--side-km", type=int, default=26)
    ap.add_argument("--periods", type=int, default=130)
    ap.add_argument("--origins", type=int, default=13)
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    ev = make_events(args.events, args.side_km, args.periods, args.seed)
    start = time.perf_counter()
    panel = build_panel(ev, crs="EPSG:27700", test_periods=args.origins, cell_area_km2=1.0)
    build = time.perf_counter() - start
    models = [make_forecaster(m) for m in args.models.split(",")]
    start = time.perf_counter()
    res = run_backtest(panel, models, args.origins, progress=False)
    total = time.perf_counter() - start
    print(
        f"events {len(ev):,}; units {len(panel.units)}; periods {len(panel.periods)}; "
        f"origins {args.origins}; panel built in {build:.1f} s"
    )
    secs = res.fit_seconds.groupby("model")["seconds"].sum().sort_values()
    print(secs.round(2).to_string())
    no_etas = secs.drop("etas", errors="ignore").sum()
    print(
        f"all models: {total:.1f} s wall (scoring included); all but ETAS, fit and forecast: "
        f"{no_etas:.1f} s"
    )
    if args.out:
        res.summary().to_csv(f"{args.out}.csv", index=False, float_format="%.5g")


if __name__ == "__main__":
    main()
