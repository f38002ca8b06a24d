"""Simulation-based calibration of the default Bayesian model, and predictive calibration.

For each replicate: draw every hyperparameter from its prior, simulate a grid of counts
from the model (window plus one period), fit the model to the window, and record the rank
of each true hyperparameter among thinned posterior draws (Talts et al. 2018: uniform if
the fit is calibrated) and the randomised PIT and interval coverage of the held-out
period's counts under the posterior predictive. The model's centring constant is fixed
to the simulation's, so the data are drawn from exactly the prior the model uses.

Usage (from the repository root; about 10 minutes on 2 cores)::

    .venv/bin/python benchmarks/bayes_sbc.py --replicates 60 --out benchmarks/bayes/sbc

A member of the model family other than the default is chosen with ``--model``, in the
form the backtest takes (``--model likelihood=negbin,temporal=ar1``); every hyperparameter
the member has (``phi_time``, ``rho_space``, ``inv_sqrt_size`` too) is checked.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).parent))
from bayes_common import queen_grid

from analysis.forecast import metrics as M
from analysis.forecast.bayesian.forecaster import KEEP, LATENTS
from analysis.forecast.bayesian.graph import build_model, model_data
from analysis.forecast.bayesian.predictive import next_period_rates
from analysis.forecast.bayesian.simulate import simulate
from analysis.forecast.bayesian.spec import HYPERPARAMETERS, ModelSpec
from analysis.forecast.bayesian.structure import spatial_structure
from analysis.inference import SamplerSettings, diagnose, sample

RANK_DRAWS = 99


def parse_model(text: str) -> dict[str, object]:
    """Parse ``key=value,key=value`` into ``ModelSpec`` keyword arguments."""
    out: dict[str, object] = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        text = value.strip()
        try:
            out[key.strip()] = float(text) if "." in text else int(text)
        except ValueError:
            out[key.strip()] = text
    return out


def main() -> None:
    """Run the calibration study and write its tables and summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=60)
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--window", type=int, default=39)
    ap.add_argument("--log-mean", type=float, default=0.0, help="log mean count per cell")
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument(
        "--start", type=int, default=0, help="first replicate (to repeat some of a run)"
    )
    ap.add_argument("--out", type=Path, default=Path("benchmarks/bayes/sbc"))
    ap.add_argument("--model", default="", help="ModelSpec fields, key=value,key=value")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    spec = ModelSpec(window=args.window, **parse_model(args.model))  # type: ignore[arg-type]
    settings = SamplerSettings(check=False)
    adjacency = queen_grid(args.rows, args.cols)
    structure = spatial_structure(adjacency)
    n = structure.n_units
    offset = np.zeros(n)
    observed = np.ones(args.window)
    compiled, model = None, None
    ranks, pits, fits = [], [], []
    started = time.perf_counter()
    for r in range(args.start, args.start + args.replicates):
        rng = np.random.default_rng([args.seed, r])
        sim = simulate(
            spec, structure, adjacency, log_offset=offset, log_mean=args.log_mean, rng=rng
        )
        counts = sim.counts[:, : args.window]
        season = sim.season[: args.window]
        data = model_data(spec, counts, observed, season, offset)
        data["centre"] = np.asarray(args.log_mean)
        if model is None:
            model = build_model(
                spec, structure, counts=counts, observed=observed, season=season, log_offset=offset
            )
        keep = [v for v in KEEP if v in model.named_vars]
        hyper = [v for v in HYPERPARAMETERS if v in sim.params and v in model.named_vars]
        idata, compiled, secs = sample(
            model, settings, seed=args.seed + r, compiled=compiled, data=data, var_names=keep
        )
        diag = diagnose(idata, settings, parameters=HYPERPARAMETERS, latents=LATENTS)
        post = idata.posterior
        total = post.sizes["chain"] * post.sizes["draw"]
        thin = np.linspace(0, total - 1, RANK_DRAWS).round().astype(int)
        for name in hyper:
            draws = post[name].values.reshape(-1)[thin]
            ranks.append((r, name, int((draws < sim.params[name]).sum()), sim.params[name]))
        dist = next_period_rates(
            idata,
            spec,
            log_offset=offset,
            centre=args.log_mean,
            season=int(sim.season[args.window]),
            covariates=None,
            n_draws=400,
            rng=rng,
        )
        y = sim.counts[:, args.window].astype(float)
        row = {"replicate": r}
        for level in (0.5, 0.8, 0.9):
            lo, hi = M.central_interval(dist, level)
            row[f"coverage_{round(level * 100)}"] = M.coverage(y, lo, hi)
        pits.append(pd.DataFrame({"replicate": r, "pit": M.randomised_pit(dist, y, rng)}))
        fits.append(
            {
                **row,
                "converged": diag.converged,
                "divergences": diag.divergences,
                "static_field_centred": float(data.get("w_space", np.nan)),
                "min_ess_bulk": diag.min_ess_bulk(),
                "compile_seconds": secs["compile"],
                "sample_seconds": secs["sample"],
                "failures": "; ".join(diag.failures),
            }
        )
        print(f"replicate {r}: {secs['sample']:.1f} s, converged={diag.converged}", flush=True)
    rank_df = pd.DataFrame(ranks, columns=["replicate", "parameter", "rank", "truth"])
    pit_df = pd.concat(pits, ignore_index=True)
    fit_df = pd.DataFrame(fits)
    rank_df.to_csv(args.out / "ranks.csv", index=False)
    pit_df.to_csv(args.out / "pit.csv", index=False)
    fit_df.to_csv(args.out / "fits.csv", index=False)
    summary = summarise(rank_df, pit_df, fit_df)
    summary["settings"] = {**vars(args), "out": str(args.out), "spec": spec.as_dict()}
    summary["minutes"] = (time.perf_counter() - started) / 60
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print(json.dumps(summary, indent=2, default=str))


def summarise(ranks: pd.DataFrame, pit: pd.DataFrame, fits: pd.DataFrame) -> dict[str, object]:
    """Return uniformity tests of the ranks and PIT, and mean interval coverage."""
    out: dict[str, object] = {"replicates": int(fits.shape[0])}
    bins = 10
    rank_tests = {}
    for name, g in ranks.groupby("parameter"):
        counts = np.bincount(g["rank"] * bins // (RANK_DRAWS + 1), minlength=bins)
        rank_tests[name] = {
            "histogram": counts.tolist(),
            "chi2_p": float(stats.chisquare(counts).pvalue),
        }
    out["rank_uniformity"] = rank_tests
    out["pit_histogram"] = M.pit_histogram(pit["pit"].to_numpy(), bins).tolist()
    out["pit_uniformity_p"] = float(M.pit_uniformity(pit["pit"].to_numpy(), bins))
    for level in (50, 80, 90):
        col = f"coverage_{level}"
        out[col] = float(fits[col].mean())
        out[f"{col}_se"] = float(fits[col].std(ddof=1) / np.sqrt(len(fits)))
    out["converged_share"] = float(fits["converged"].mean())
    return out


if __name__ == "__main__":
    main()
