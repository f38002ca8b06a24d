"""Fitting with nutpie (default) or PyMC's NUTS, and convergence checks that fail loudly.

Every fit reports, for each hyperparameter and summarised over each latent field: R-hat
(rank-normalised, split), bulk and tail ESS; and for the run: divergences, tree depth and
the energy Bayesian fraction of missing information (E-BFMI) per chain. A fit whose
hyperparameters have R-hat above ``max_rhat``, bulk or tail ESS below ``min_ess``, whose
latent fields have R-hat above ``max_rhat_latent``, or with more than ``max_divergences``
divergences raises :class:`ConvergenceError`, naming what failed. The checks can be turned
off only by an explicit test mode.

With nutpie and ``stop_early`` (an option, off by default), sampling stops at the first
checkpoint where the draws so far pass every check (a sequential stopping rule on the
effective sample size, as in Gong and Flegal 2016 and Vats, Flegal and Jones 2019): the
chains run to at most
``draws`` kept draws each, and at ``min_draws``, ``min_draws + checkpoint_every``, ...
the first that many draws of every chain are diagnosed. The result is the first ``n``
draws of each chain, so it depends on the seed alone, not on when the draws were
inspected: a checkpoint reached between two looks is evaluated in order, and one the
chains finished before a look is evaluated on the finished trace. A checkpoint with more
divergences than allowed also stops (the fit fails, and more draws cannot mend it).
Looking costs: each look pauses the chains while the trace is copied and checked, which
on the 274-cell knife panel made a fit 45% slower than running every draw (measured
the same day, ``benchmarks/bayes/README.md``); it saved a quarter at 900 cells.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Literal

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from analysis.forecast.bayesian.spec import HYPERPARAMETERS

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
        Kept draws (at most, with checkpoints) and warm-up iterations per chain, and the
        number of chains.
    stop_early : bool
        Stop at the first checkpoint whose draws pass every check (nutpie only; off by
        default: the looks cost more than they save on small panels).
    min_draws, checkpoint_every : int
        First checkpoint and the draws between checkpoints (with ``stop_early``);
        ``min_draws >= draws`` leaves none.
    cores : int
        Chains run at once (with checkpoints every chain runs at once, so that they
        reach each checkpoint together; the operating system shares the cores).
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
    stop_early: bool = False
    min_draws: int = 1000
    checkpoint_every: int = 500
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
    draws : int
        Kept draws per chain.
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
    draws: int = 0
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
        kwargs = {
            "draws": settings.draws,
            "tune": settings.tune,
            "chains": settings.chains,
            "seed": seed,
            "target_accept": settings.target_accept,
            "low_rank_modified_mass_matrix": settings.low_rank_mass_matrix,
            "progress_bar": False,
            "save_warmup": False,
        }
        if checkpoints(settings):
            idata = _sample_with_checkpoints(run, settings, kwargs)
        else:
            idata = nutpie.sample(run, cores=settings.cores, **kwargs)
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


def checkpoints(settings: SamplerSettings) -> list[int]:
    """Return the draws per chain at which a fit is checked before ``draws`` (may be none).

    Only nutpie stops early, and only with ``stop_early``.
    """
    if settings.sampler != "nutpie" or not settings.stop_early:
        return []
    step = max(int(settings.checkpoint_every), 1)
    return list(range(int(settings.min_draws), int(settings.draws), step))


def _complete_draws(idata: az.InferenceData) -> int:
    """Return the number of draws every chain of a (partial) nutpie trace has."""
    if "sample_stats" not in idata or "energy" not in idata.sample_stats:
        return 0
    energy = idata.sample_stats["energy"].values
    if energy.size == 0:
        return 0
    return int(np.isfinite(energy).sum(axis=1).min())


def _first_passing(
    idata: az.InferenceData, settings: SamplerSettings, pending: list[int]
) -> int | None:
    """Check the pending checkpoints the trace has reached, in order (popping them).

    Returns the first that passes every check or has too many divergences, else None.
    """
    done = _complete_draws(idata)
    while pending and pending[0] <= done:
        n = pending.pop(0)
        diag = diagnose(idata.isel(draw=slice(0, n)), settings, latent_ess=False)
        log.info("checkpoint at %d draws per chain: %s", n, "; ".join(diag.failures) or "pass")
        if diag.converged or diag.divergences > settings.max_divergences:
            return n
    return None


def _sample_with_checkpoints(
    run: object, settings: SamplerSettings, kwargs: dict[str, object]
) -> az.InferenceData:
    """Sample with nutpie in the background and stop at the first passing checkpoint.

    The sampler is paused while its trace is copied and checked, so that the checks do not
    compete with the chains for the cores. Looks are spaced by the draw rate: during
    warm-up (no kept draws yet) 5, 10, 20, ... seconds apart (at most 60), then when the
    next checkpoint is due. The result is the first ``n`` draws of every chain, ``n`` the
    first checkpoint that passes, or every draw when none does.
    """
    import nutpie

    pending = checkpoints(settings)
    sampler = nutpie.sample(run, cores=settings.chains, blocking=False, **kwargs)
    start = time.perf_counter()
    last, last_t, wait = 0, start, 5.0
    while pending:
        time.sleep(wait)
        look = time.perf_counter()
        sampler.pause()
        with warnings.catch_warnings():
            # during warm-up the trace has no kept draws yet, which arviz warns about
            warnings.filterwarnings("ignore", "More chains", UserWarning)
            trace = sampler.inspect()
        done = _complete_draws(trace)
        stop = _first_passing(trace, settings, pending)
        log.debug(
            "look at %.0f s: %d draws per chain; paused %.1f s",
            look - start,
            done,
            time.perf_counter() - look,
        )
        if stop is not None:
            return sampler.abort().isel(draw=slice(0, stop))
        sampler.resume()
        if done >= settings.draws:
            break
        now = time.perf_counter()
        if done == 0:
            wait = min(2 * wait, 60.0)
        elif last > 0 and pending:
            # draws per second of sampling (the pause excluded), from two looks with draws
            rate = (done - last) / max(look - last_t, 1e-3)
            wait = float(np.clip((pending[0] - done) / max(rate, 1e-3) + 1.0, 1.0, 60.0))
        else:
            wait = 5.0
        last, last_t = done, now
    idata = sampler.wait()
    stop = _first_passing(idata, settings, pending)
    return idata if stop is None else idata.isel(draw=slice(0, stop))


def diagnose(
    idata: az.InferenceData, settings: SamplerSettings, *, latent_ess: bool = True
) -> Diagnostics:
    """Compute the diagnostics of a fit and list what fails the thresholds.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior and sample stats.
    settings : SamplerSettings
        Thresholds.
    latent_ess : bool
        Compute the latent fields' ESS (reported, never checked; ``nan`` when False, which
        halves the time a checkpoint takes for fields of thousands of cells).

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
        rhat = np.nanmax(az.rhat(post[name]).to_array().values)
        ess = tail = np.nan
        if latent_ess:
            ess = np.nanmin(az.ess(post[name], method="bulk").to_array().values)
            tail = np.nanmin(az.ess(post[name], method="tail").to_array().values)
        rows.append(("latent", name, rhat, ess, tail))
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
        draws=int(post.sizes.get("draw", 0)),
        failures=failures,
    )
