"""Simulation-based calibration of the Bayesian harm-escalation model.

For each replicate: draw the intercept, the orthogonalised coefficients ``theta``, the
spread of unit effects ``sigma_unit`` and the standardised unit effects ``z_unit`` from
their priors, simulate the outcomes of a fixed design (a seeded synthetic cohort of
``--people`` people, four features, ``--units`` units) and fit the model with the
inference layer's sampler (the harm model's settings, fewer draws). The rank of each true
value among 99 thinned posterior draws is uniform when the fit is calibrated (Talts et
al. 2018); a chi-square test over 10 bins per parameter checks it
(:mod:`analysis.harm.simulate`).

Usage (from the repository root; about 5 minutes on 2 cores)::

    .venv/bin/python benchmarks/harm_sbc.py --replicates 200 --out benchmarks/harm_sbc

Writes ``ranks.csv`` (one row per replicate and parameter), ``fits.csv`` (diagnostics and
timings per replicate), ``summary.csv`` (the uniformity test per parameter) and
``summary.json`` (settings and totals).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import asdict, replace
from pathlib import Path

from analysis.harm.bayes import HARM_SAMPLER
from analysis.harm.simulate import RANK_DRAWS, rank_uniformity, sbc_replicates, simulation_design


def main() -> None:
    """Run the calibration study and write its tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--start", type=int, default=0, help="first replicate")
    ap.add_argument("--people", type=int, default=300)
    ap.add_argument("--units", type=int, default=5)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/harm_sbc"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    design = simulation_design(args.people, args.units, seed=args.seed)
    settings = replace(
        HARM_SAMPLER, draws=args.draws, tune=args.tune, chains=args.chains, check=False
    )
    started = time.perf_counter()
    ranks, fits = sbc_replicates(
        design, settings, replicates=args.replicates, seed=args.seed, start=args.start
    )
    minutes = (time.perf_counter() - started) / 60
    summary = rank_uniformity(ranks)
    ranks.to_csv(args.out / "ranks.csv", index=False, float_format="%.6g")
    fits.to_csv(args.out / "fits.csv", index=False, float_format="%.6g")
    summary.to_csv(args.out / "summary.csv", index=False, float_format="%.4g")
    totals = {
        "settings": {**vars(args), "out": str(args.out)},
        "sampler": asdict(settings),
        "features": list(design.features),
        "rank_draws": RANK_DRAWS,
        "replicates": len(fits),
        "converged_share": float(fits["converged"].mean()),
        "replicates_with_divergences": int((fits["divergences"] > 0).sum()),
        "median_min_ess_bulk": float(fits["min_ess_bulk"].median()),
        "smallest_p_value": float(summary["p_value"].min()),
        "p_values_below_0.05": int((summary["p_value"] < 0.05).sum()),
        "parameters": len(summary),
        "minutes": minutes,
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    (args.out / "summary.json").write_text(json.dumps(totals, indent=2, default=str))
    print(summary.to_string(index=False))
    print(json.dumps(totals, indent=2, default=str))


if __name__ == "__main__":
    main()
