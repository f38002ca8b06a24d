"""Benchmark: simulate a grid ETAS data set and time the EM fit.

Usage::

    .venv/bin/python benchmarks/etas_fit.py --events 150000 --cells 600 --days 3640 --seed 1
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from analysis.forecast.etas import fit_grid_etas, simulate_grid_etas


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000, help="expected number of events")
    parser.add_argument("--cells", type=int, default=600)
    parser.add_argument("--days", type=float, default=3640.0)
    parser.add_argument("--theta", type=float, default=0.3)
    parser.add_argument("--omega", type=float, default=0.2)
    parser.add_argument("--mu-shape", type=float, default=1.0, help="Gamma shape of mu")
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    # background rates: Gamma-distributed across cells, scaled so that the stationary
    # expected total mu.sum() * days / (1 - theta) equals --events
    weights = rng.gamma(args.mu_shape, 1.0, size=args.cells)
    mu = weights / weights.sum() * args.events * (1 - args.theta) / args.days

    t0 = time.perf_counter()
    cell, t = simulate_grid_etas(mu, args.theta, args.omega, 0.0, args.days, rng)
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = fit_grid_etas(cell, t, args.cells, 0.0, args.days, max_iter=args.max_iter, tol=args.tol)
    t_fit = time.perf_counter() - t0

    per_cell = np.bincount(cell, minlength=args.cells)
    rel = np.abs(fit.mu - mu) / mu
    print(f"events simulated    {t.shape[0]:,} (busiest cell {per_cell.max():,})")
    print(f"cells, days         {args.cells}, {args.days:g}")
    print(f"simulation time     {t_sim:.2f} s")
    print(f"fit wall time       {t_fit:.2f} s")
    print(f"iterations          {fit.n_iter} (converged={fit.converged}, tol={args.tol:g})")
    print(f"time per iteration  {1000 * t_fit / max(fit.n_iter, 1):.1f} ms")
    print(f"theta true / fit    {args.theta:.4f} / {fit.theta:.4f}")
    print(f"omega true / fit    {args.omega:.4f} / {fit.omega:.4f}")
    print(f"mu corr(true, fit)  {np.corrcoef(mu, fit.mu)[0, 1]:.4f}")
    print(f"mu median rel err   {np.median(rel):.3f}")
    print(f"sum mu true / fit   {mu.sum():.3f} / {fit.mu.sum():.3f} per day")
    print(f"log-likelihood      {fit.loglik:.2f}")


if __name__ == "__main__":
    main()
