"""Force-scale timing of the default Bayesian model, nutpie against PyMC, and scaling.

Data are simulated from the default model on queen grids with fixed, plausible
hyperparameters and the mean counts per cell and period of the synthetic sample (knife
crime 0.36 per 1 km² cell, serious violence 2.15 per 0.5 km² cell). Earlier rows of
``scale.csv`` simulated with the stated mean as the model's centre, which the spatial
field's spread raised to 0.58 and 4.3 per cell; ``--uncalibrated`` repeats that. Each
run fits the model with the default sampler settings, then forecasts the next period
(mixture predictive and the full forecast table), and records compile, sampling and
forecast time, the smallest bulk and tail ESS over hyperparameters, the largest R-hat,
divergences and mean leapfrog steps per draw.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bayes_scale.py force        # 1,800 x 78 and 900 x 78
    .venv/bin/python benchmarks/bayes_scale.py force --groups sv --centring totals
    .venv/bin/python benchmarks/bayes_scale.py force --groups sv --interaction icar
    .venv/bin/python benchmarks/bayes_scale.py pymc         # PyMC's NUTS on 900 x 78
    .venv/bin/python benchmarks/bayes_scale.py scaling      # cells and periods
    .venv/bin/python benchmarks/bayes_scale.py centring     # fixed against partial centring
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bayes_common import queen_grid

from analysis.forecast.bayesian.forecaster import KEEP, LATENTS
from analysis.forecast.bayesian.graph import build_model, model_data
from analysis.forecast.bayesian.predictive import next_period_rates
from analysis.forecast.bayesian.simulate import simulate
from analysis.forecast.bayesian.spec import HYPERPARAMETERS, ModelSpec
from analysis.forecast.bayesian.structure import spatial_structure
from analysis.forecast.summary import summarise_predictive
from analysis.inference import SamplerSettings, diagnose, sample
from analysis.report.manifest import git_state

ROOT = Path(__file__).resolve().parent.parent


def code_version() -> str:
    """Return the commit checked out now, marked when the code (not docs) has changes.

    Called when the benchmark starts, so it names the code the process imported.
    """
    state = git_state(ROOT, paths=("src/*.py", "benchmarks/*.py"))
    return str(state["commit"])[:7] + (" + local changes" if state["dirty"] else "")


CODE = code_version()

TRUTH = {
    "b0": 0.0,
    "sigma_time": 0.05,
    "sigma_season": 0.1,
    "sigma_space": 1.0,
    "sigma_level": 0.15,
}
KNIFE, SV = np.log(0.36), np.log(2.15)


def run(
    label: str,
    rows: int,
    cols: int,
    periods: int,
    log_mean: float,
    settings: SamplerSettings,
    *,
    calibrated: bool = True,
    **spec_kw: object,
) -> dict[str, object]:
    """Simulate, fit and forecast one configuration; return its timings and diagnostics.

    The data depend only on the grid and the number of periods (and the mean), so runs
    that differ only in the sampler or the centring fit the same data. With
    ``calibrated`` the window's mean rate per cell and period is ``exp(log_mean)``;
    without it ``log_mean`` is the simulation's centre, as for the rows of ``scale.csv``
    with mean counts 0.58 and 4.3 (not 0.36 and 2.15), measured before the correction.
    """
    spec = ModelSpec(window=periods, **spec_kw)  # type: ignore[arg-type]
    adjacency = queen_grid(rows, cols)
    t0 = time.perf_counter()
    structure = spatial_structure(adjacency)
    structure_s = time.perf_counter() - t0
    n = structure.n_units
    offset = np.zeros(n)
    shift = 0.0
    for _ in range(2 if calibrated else 1):
        # The same seed twice: the second run draws the same fields with the log mean
        # shifted so that the window's mean rate is the stated one (the fields'
        # log-normal spread alone would double it).
        rng = np.random.default_rng([rows, cols, periods])
        sim = simulate(
            spec,
            structure,
            adjacency,
            log_offset=offset,
            log_mean=log_mean - shift,
            rng=rng,
            params=TRUTH,
        )
        shift = float(np.log(sim.rate[:, :periods].mean()) - log_mean)
    counts, season = sim.counts[:, :periods], sim.season[:periods]
    observed = np.ones(periods)
    t0 = time.perf_counter()
    model = build_model(
        spec, structure, counts=counts, observed=observed, season=season, log_offset=offset
    )
    build_s = time.perf_counter() - t0
    keep = [v for v in KEEP if v in model.named_vars]
    idata, _, secs = sample(
        model,
        settings,
        seed=1,
        var_names=keep,
        parameters=HYPERPARAMETERS,
        latents=LATENTS,
    )
    diag = diagnose(idata, settings, parameters=HYPERPARAMETERS, latents=LATENTS)
    t0 = time.perf_counter()
    centre = float(model_data(spec, counts, observed, season, offset)["centre"])
    dist = next_period_rates(
        idata,
        spec,
        log_offset=offset,
        centre=centre,
        season=int(sim.season[periods]),
        covariates=None,
        n_draws=400,
        rng=rng,
    )
    summarise_predictive(dist, np.ones(n), rng, k=2, draws=4000)
    forecast_s = time.perf_counter() - t0
    hyper = diag.table[diag.table["kind"] == "parameter"]
    out = {
        "run": label,
        "code": CODE,
        "centring": spec.centring
        + ("" if spec.level_centring == "non-centred" else ", partial levels"),
        "interaction": spec.interaction,
        "sampler": settings.sampler,
        "cells": n,
        "periods": periods,
        "mean_count": float(counts.mean()),
        "chains": settings.chains,
        "draws": settings.draws,
        "draws_used": diag.draws,
        "min_draws": settings.min_draws if settings.stop_early else settings.draws,
        "tune": settings.tune,
        "target_accept": settings.target_accept,
        "structure_s": structure_s,
        "build_s": build_s,
        "compile_s": secs["compile"],
        "sample_s": secs["sample"],
        "forecast_s": forecast_s,
        "total_s": structure_s + build_s + secs["compile"] + secs["sample"] + forecast_s,
        "min_ess_bulk": float(hyper["ess_bulk"].min()),
        "min_ess_tail": float(hyper["ess_tail"].min()),
        "slowest": str(hyper.sort_values("ess_bulk")["parameter"].iloc[0]),
        "max_rhat": float(diag.table["r_hat"].max()),
        "divergences": diag.divergences,
        "mean_steps": diag.mean_steps,
        "ess_per_s": float(hyper["ess_bulk"].min()) / secs["sample"],
        "converged": diag.converged,
        "failures": "; ".join(diag.failures),
    }
    print(out, flush=True)
    return out


def main() -> None:
    """Run the chosen benchmark and append its rows to ``benchmarks/bayes/scale.csv``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("which", choices=["force", "pymc", "scaling", "centring"])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/bayes/scale.csv"))
    ap.add_argument("--groups", default="sv,knife", help="force: which groups (sv, knife)")
    ap.add_argument("--centring", default="fixed", help="force: the model's coordinates")
    ap.add_argument("--draws", type=int, default=None, help="force: draws per chain")
    ap.add_argument("--tune", type=int, default=None, help="force: warm-up steps per chain")
    ap.add_argument("--target-accept", type=float, default=None, help="force: NUTS target")
    ap.add_argument(
        "--stop-early",
        action="store_true",
        help="force: stop at the first checkpoint that passes every check",
    )
    ap.add_argument(
        "--level-centring", default="non-centred", help="force: the local levels' coordinates"
    )
    ap.add_argument(
        "--interaction", default="iid", help="force: the local levels' structure (iid, icar)"
    )
    ap.add_argument(
        "--uncalibrated",
        action="store_true",
        help="the stated mean as the model's centre (earlier rows), not the data's mean",
    )
    args = ap.parse_args()
    fit = functools.partial(run, calibrated=not args.uncalibrated)
    default = SamplerSettings(check=False)
    rows = []
    if args.which == "force":
        groups = args.groups.split(",")
        force = SamplerSettings(
            check=False,
            draws=args.draws or default.draws,
            tune=args.tune or default.tune,
            target_accept=args.target_accept or default.target_accept,
        )
        if args.stop_early:
            force = replace(force, stop_early=True)
        kw = {
            "centring": args.centring,
            "level_centring": args.level_centring,
            "interaction": args.interaction,
        }
        if "sv" in groups:
            rows.append(fit("serious violence, force", 30, 60, 78, SV, force, **kw))
        if "knife" in groups:
            rows.append(fit("knife crime, force", 30, 30, 78, KNIFE, force, **kw))
    elif args.which == "pymc":
        # PyMC's defaults: 1,000 draws after 1,000 tuning steps, target_accept 0.8.
        pymc = SamplerSettings(sampler="pymc", draws=1000, tune=1000, target_accept=0.8)
        nut = SamplerSettings(draws=1000, tune=1000, target_accept=0.8, check=False)
        rows.append(fit("knife crime, PyMC default NUTS", 15, 30, 78, KNIFE, pymc))
        rows.append(fit("knife crime, nutpie same settings", 15, 30, 78, KNIFE, nut))
        rows.append(fit("knife crime, nutpie default settings", 15, 30, 78, KNIFE, default))
    elif args.which == "centring":
        # The same data fitted in both coordinate systems (the posterior is the same).
        for label, log_mean in (("serious violence", SV), ("knife crime", KNIFE)):
            for centring in ("fixed", "partial"):
                rows.append(
                    fit(f"{label}, 450 cells", 15, 30, 78, log_mean, default, centring=centring)
                )
    else:
        # 900 x 78 is the knife-crime run of "force": with it, three sizes of each.
        for r, c in ((15, 15), (15, 30)):
            rows.append(fit("scaling: cells", r, c, 78, KNIFE, default))
        for p in (26, 52):
            rows.append(fit("scaling: periods", 30, 30, p, KNIFE, default))
    table = pd.DataFrame(rows)
    if args.out.exists():
        old = pd.read_csv(args.out)
        if "centring" not in old:  # rows measured before partial centring existed
            old.insert(1, "centring", "fixed")
        if "code" not in old:  # rows measured before the code version was recorded
            old.insert(1, "code", "not recorded")
        if "draws_used" not in old:  # rows measured before checkpoints: every draw
            at = old.columns.get_loc("draws") + 1
            old.insert(at, "draws_used", old["draws"])
            old.insert(at + 1, "min_draws", old["draws"])
        if "interaction" not in old:  # rows measured before the option existed: the default
            old.insert(old.columns.get_loc("centring") + 1, "interaction", "iid")
        table = pd.concat([old, table], ignore_index=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
