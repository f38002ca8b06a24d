"""Fitting with nutpie (default) or PyMC's NUTS, optionally stopping early at checkpoints.

:func:`sample` runs the sampler a :class:`~analysis.inference.SamplerSettings` names and
returns the trace; :func:`~analysis.inference.diagnose` then checks it, and every fit
reports, for each checked parameter and summarised over each latent field: R-hat
(rank-normalised, split), bulk and tail ESS; and for the run: divergences, tree depth and
the energy Bayesian fraction of missing information (E-BFMI) per chain. A fit whose
parameters have R-hat above ``max_rhat``, bulk or tail ESS below ``min_ess``, whose
latent fields have R-hat above ``max_rhat_latent``, with more than ``max_divergences``
divergences or a chain's E-BFMI below ``min_bfmi`` raises
:class:`~analysis.inference.ConvergenceError`, naming what failed. The checks can be
turned off only by an explicit test mode.

With nutpie and ``stop_early`` (an option, off by default), sampling stops at the first
checkpoint where the draws so far pass every check (a sequential stopping rule on the
effective sample size, as in Gong and Flegal 2016 and Vats, Flegal and Jones 2019): the
chains run to at most
``draws`` kept draws each, and at ``min_draws``, ``min_draws + checkpoint_every``, ...
the first that many draws of every chain are diagnosed (on the ``parameters`` and
``latents`` the caller names). The result is the first ``n``
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
from collections.abc import Sequence

import arviz as az
import numpy as np
import pymc as pm

from analysis.inference.diagnostics import diagnose
from analysis.inference.settings import SamplerSettings

__all__ = ["checkpoints", "sample"]

log = logging.getLogger("analysis.inference")


def sample(
    model: pm.Model,
    settings: SamplerSettings,
    *,
    seed: int,
    compiled: object | None = None,
    data: dict[str, np.ndarray] | None = None,
    var_names: list[str] | None = None,
    parameters: Sequence[str] = (),
    latents: Sequence[str] = (),
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
    parameters, latents : sequence of str
        What the checkpoints diagnose (see :func:`~analysis.inference.diagnose`); needed
        only with ``settings.stop_early``.

    Returns
    -------
    idata : arviz.InferenceData
    compiled : object
        The nutpie compiled model (``None`` with PyMC).
    seconds : dict
        ``compile`` and ``sample`` wall times.

    Raises
    ------
    ValueError
        For an unknown sampler, or checkpoints without ``parameters`` to check.
    """
    seconds = {"compile": 0.0}
    if checkpoints(settings) and not parameters:
        raise ValueError("stopping early needs the parameters to check")
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
            idata = _sample_with_checkpoints(run, settings, kwargs, parameters, latents)
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
    idata: az.InferenceData,
    settings: SamplerSettings,
    pending: list[int],
    parameters: Sequence[str],
    latents: Sequence[str],
) -> int | None:
    """Check the pending checkpoints the trace has reached, in order (popping them).

    Returns the first that passes every check or has too many divergences, else None.
    """
    done = _complete_draws(idata)
    while pending and pending[0] <= done:
        n = pending.pop(0)
        diag = diagnose(
            idata.isel(draw=slice(0, n)),
            settings,
            parameters=parameters,
            latents=latents,
            latent_ess=False,
        )
        log.info("checkpoint at %d draws per chain: %s", n, "; ".join(diag.failures) or "pass")
        if diag.converged or diag.divergences > settings.max_divergences:
            return n
    return None


def _sample_with_checkpoints(
    run: object,
    settings: SamplerSettings,
    kwargs: dict[str, object],
    parameters: Sequence[str],
    latents: Sequence[str] = (),
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
        stop = _first_passing(trace, settings, pending, parameters, latents)
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
    stop = _first_passing(idata, settings, pending, parameters, latents)
    return idata if stop is None else idata.isel(draw=slice(0, stop))
