"""Fitting with nutpie (default) or PyMC's NUTS, and convergence checks that fail loudly.

Every fit reports, for each hyperparameter and summarised over each latent field: R-hat
(rank-normalised, split), bulk and tail ESS; and for the run: divergences, tree depth and
the energy Bayesian fraction of missing information (E-BFMI) per chain. A fit whose
hyperparameters have R-hat above ``max_rhat``, bulk or tail ESS below ``min_ess``, whose
latent fields have R-hat above ``max_rhat_latent``, or with more than ``max_divergences``
divergences raises :class:`ConvergenceError`, naming what failed. The checks can be turned
off only by an explicit test mode.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Literal

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from analysis.forecast.bayesian.model import HYPERPARAMETERS

__all__ = ["ConvergenceError", "Diagnostics", "SamplerSettings", "diagnose", "sample"]

log = logging.getLogger("analysis.forecast")

#: Latent fields summarised (not each checked against the ESS floor).
LATENTS = ("tau", "season_effect", "space_effect", "level_now")


class ConvergenceError(RuntimeError):
    """A Bayesian fit that did not converge; carries its :class:`Diagnostics`."""

    def __init__(self, message: str, diagnostics: Diagnostics) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample, and what counts as converged.

    Attributes
    ----------
    sampler : {"nutpie", "pymc"}
        nutpie (Rust NUTS on a numba-compiled model) or PyMC's own NUTS.
    draws, tune, chains : int
        Kept draws and warm-up iterations per chain, and the number of chains.
    cores : int
        Chains run at once.
    target_accept : float
        Step-size adaptation target.
    low_rank_mass_matrix : bool
        nutpie's low-rank modified mass matrix (helps correlated hyperparameters).
    max_rhat, min_ess, max_divergences, max_rhat_latent : float
        Convergence thresholds (hyperparameters; latent fields' worst R-hat).
    check : bool
        Raise :class:`ConvergenceError` on failure. Only test mode turns this off.
    """

    sampler: Literal["nutpie", "pymc"] = "nutpie"
    draws: int = 3500
    tune: int = 1000
    chains: int = 4
    cores: int = 2
    target_accept: float = 0.95
    low_rank_mass_matrix: bool = False
    max_rhat: float = 1.01
    min_ess: float = 400.0
    max_divergences: int = 0
    max_rhat_latent: float = 1.02
    check: bool = True


@dataclass
class Diagnostics:
    """Convergence diagnostics of one fit.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per hyperparameter (and per latent field, worst element), with ``r_hat``,
        ``ess_bulk``, ``ess_tail``.
    divergences : int
        Divergent transitions after warm-up.
    bfmi : list of float
        E-BFMI per chain.
    max_tree_depth_share : float
        Share of draws that hit the maximum tree depth (nutpie) or ``nan``.
    mean_steps : float
        Mean leapfrog steps per draw (gradient evaluations).
    seconds : dict of str to float
        ``compile`` and ``sample`` wall time.
    failures : list of str
        What failed the checks (empty when converged).
    """

    table: pd.DataFrame
    divergences: int
    bfmi: list[float]
    max_tree_depth_share: float
    mean_steps: float
    seconds: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    def min_ess_bulk(self, hyper_only: bool = True) -> float:
        """Return the smallest bulk ESS (over hyperparameters by default)."""
        t = self.table[self.table["kind"] == "hyper"] if hyper_only else self.table
        return float(t["ess_bulk"].min())

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready summary."""
        out = asdict(self)
        out["table"] = self.table.to_dict(orient="records")
        return out


def sample(
    model: pm.Model,
    settings: SamplerSettings,
    *,
    seed: int,
    compiled: object | None = None,
    data: dict[str, np.ndarray] | None = None,
    var_names: list[str] | None = None,
) -> tuple[az.InferenceData, object, dict[str, float]]:
    """Sample a model; with nutpie, reuse a compiled model with new data when given.

    Parameters
    ----------
    model : pymc.Model
        The model (its data containers hold the data unless ``data`` replaces them).
    settings : SamplerSettings
        Sampler and its settings.
    seed : int
        Random seed.
    compiled : object, optional
        A nutpie compiled model of the same model structure to reuse.
    data : dict, optional
        New values of the model's data containers (same shapes).
    var_names : list of str, optional
        Variables to keep in the trace (nutpie); all when None.

    Returns
    -------
    idata : arviz.InferenceData
    compiled : object
        The nutpie compiled model (``None`` with PyMC).
    seconds : dict
        ``compile`` and ``sample`` wall times.
    """
    seconds = {"compile": 0.0}
    if settings.sampler == "nutpie":
        import nutpie

        if compiled is None:
            start = time.perf_counter()
            compiled = nutpie.compile_pymc_model(model, var_names=var_names)
            seconds["compile"] = time.perf_counter() - start
        run = compiled.with_data(**data) if data else compiled
        start = time.perf_counter()
        idata = nutpie.sample(
            run,
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            cores=settings.cores,
            seed=seed,
            target_accept=settings.target_accept,
            low_rank_modified_mass_matrix=settings.low_rank_mass_matrix,
            progress_bar=False,
            save_warmup=False,
        )
        seconds["sample"] = time.perf_counter() - start
        return idata, compiled, seconds
    if settings.sampler != "pymc":
        raise ValueError(f"unknown sampler {settings.sampler!r}; choose nutpie or pymc")
    with model:
        if data:
            pm.set_data(data)
        start = time.perf_counter()
        idata = pm.sample(
            draws=settings.draws,
            tune=settings.tune,
            chains=settings.chains,
            cores=settings.cores,
            random_seed=seed,
            target_accept=settings.target_accept,
            progressbar=False,
            compute_convergence_checks=False,
            var_names=var_names,
        )
        seconds["sample"] = time.perf_counter() - start
    return idata, None, seconds


def diagnose(idata: az.InferenceData, settings: SamplerSettings) -> Diagnostics:
    """Compute the diagnostics of a fit and list what fails the thresholds.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior and sample stats.
    settings : SamplerSettings
        Thresholds.

    Returns
    -------
    Diagnostics
    """
    post = idata.posterior
    rows = []
    hyper = [name for name in HYPERPARAMETERS if name in post]
    if hyper:
        summ = az.summary(idata, var_names=hyper, kind="diagnostics")
        for label, r in summ.iterrows():
            rows.append(("hyper", str(label), r["r_hat"], r["ess_bulk"], r["ess_tail"]))
    for name in LATENTS:
        if name not in post:
            continue
        rhat = az.rhat(post[name]).to_array().values
        ess = az.ess(post[name], method="bulk").to_array().values
        tail = az.ess(post[name], method="tail").to_array().values
        rows.append(("latent", name, np.nanmax(rhat), np.nanmin(ess), np.nanmin(tail)))
    table = pd.DataFrame(rows, columns=["kind", "parameter", "r_hat", "ess_bulk", "ess_tail"])
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    try:
        bfmi = [float(v) for v in az.bfmi(idata)]
    except (KeyError, ValueError, TypeError):
        bfmi = []
    depth = float(stats["maxdepth_reached"].mean()) if "maxdepth_reached" in stats else np.nan
    steps = np.nan
    for key in ("n_steps", "tree_size"):
        if key in stats:
            steps = float(stats[key].mean())
            break
    failures = []
    hyper = table[table["kind"] == "hyper"]
    for _, r in hyper.iterrows():
        if not r["r_hat"] <= settings.max_rhat:
            failures.append(f"{r['parameter']}: r-hat {r['r_hat']:.3f} > {settings.max_rhat}")
        if not r["ess_bulk"] >= settings.min_ess:
            failures.append(f"{r['parameter']}: bulk ESS {r['ess_bulk']:.0f} < {settings.min_ess}")
        if not r["ess_tail"] >= settings.min_ess:
            failures.append(f"{r['parameter']}: tail ESS {r['ess_tail']:.0f} < {settings.min_ess}")
    for _, r in table[table["kind"] == "latent"].iterrows():
        if not r["r_hat"] <= settings.max_rhat_latent:
            failures.append(
                f"{r['parameter']}: worst r-hat {r['r_hat']:.3f} > {settings.max_rhat_latent}"
            )
    if divergences > settings.max_divergences:
        failures.append(f"{divergences} divergent transitions (allowed {settings.max_divergences})")
    if bfmi and min(bfmi) < 0.3:
        failures.append(f"E-BFMI {min(bfmi):.2f} < 0.3 (energy: poor exploration)")
    return Diagnostics(
        table=table,
        divergences=divergences,
        bfmi=bfmi,
        max_tree_depth_share=depth,
        mean_steps=steps,
        failures=failures,
    )
