"""From a fitted model's posterior to next-period forecasts.

:func:`next_period_rates` turns posterior draws into draws of each unit's expected count in
the origin period: the force-wide level one step ahead (a fresh AR(1) or random-walk
innovation), the origin's season, the static spatial effect and each unit's newest local
level plus one random-walk step to the origin. That step is drawn independently across
units; for the ICAR interaction this approximates the spatially structured step by
independent steps with the same marginal variance (the scaled ICAR has geometric-mean
variance 1), a small part of the variance one period ahead.

The per-unit forecast table (mean, median, 50/80/90% intervals, ``P(count >= 1)``,
``P(count >= k)``, the probability of being among the top 5% of units) and the force-wide
total come from :func:`analysis.forecast.summary.summarise_predictive`, shared by every
model.
"""

from __future__ import annotations

import arviz as az
import numpy as np

from analysis.forecast.bayesian.spec import DEFAULT_PERIODS_PER_YEAR, ModelSpec, block_index
from analysis.forecast.mixture import MixtureCountDistribution

__all__ = ["kept_draws", "next_period_rates", "thinned_draws"]


def thinned_draws(idata: az.InferenceData, n_draws: int) -> np.ndarray:
    """Return the indices of at most ``n_draws`` evenly spaced draws over all chains.

    Parameters
    ----------
    idata : arviz.InferenceData
        The fit.
    n_draws : int
        Draws wanted; all of them when the fit has fewer.

    Returns
    -------
    numpy.ndarray
        Sorted, distinct indices into the draws flattened over chains.
    """
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    return np.unique(np.linspace(0, total - 1, min(n_draws, total)).round().astype(int))


def kept_draws(idata: az.InferenceData, name: str, keep: np.ndarray) -> np.ndarray:
    """Return the kept posterior draws of a variable, draws first.

    Parameters
    ----------
    idata : arviz.InferenceData
        The fit.
    name : str
        A posterior variable.
    keep : numpy.ndarray
        Indices from :func:`thinned_draws`.

    Returns
    -------
    numpy.ndarray
        ``(len(keep), *variable_shape)``.
    """
    arr = idata.posterior[name].values
    flat = arr.reshape((-1, *arr.shape[2:]))
    return flat[keep]


def next_period_rates(
    idata: az.InferenceData,
    spec: ModelSpec,
    *,
    log_offset: np.ndarray,
    centre: float,
    season: int,
    covariates: np.ndarray | None,
    n_draws: int,
    rng: np.random.Generator,
    periods_per_year: int = DEFAULT_PERIODS_PER_YEAR,
) -> MixtureCountDistribution:
    """Return the posterior predictive of the origin period as a mixture over draws.

    Parameters
    ----------
    idata : arviz.InferenceData
        The fit.
    spec : ModelSpec
        Its model.
    log_offset : numpy.ndarray
        Log offset per unit.
    centre : float
        The model's centring constant (its ``centre`` data).
    season : int
        Period of the year (``0 .. periods_per_year - 1``) of the origin.
    covariates : numpy.ndarray, optional
        Standardised covariates, as fitted.
    n_draws : int
        Posterior draws kept in the mixture (evenly thinned).
    rng : numpy.random.Generator
        For the one-step-ahead innovations.
    periods_per_year : int
        Periods in a year, as the model was built with (its ``season`` dimension): the
        local levels' last step is that many periods' fraction of a year.

    Returns
    -------
    MixtureCountDistribution
    """
    post = idata.posterior
    keep = thinned_draws(idata, n_draws)
    s = keep.size
    n = log_offset.shape[0]
    eta = np.broadcast_to(log_offset + centre, (s, n)).copy()
    eta += kept_draws(idata, "b0", keep)[:, None]
    tau = kept_draws(idata, "tau", keep)
    sigma_t = kept_draws(idata, "sigma_time", keep)
    last = tau[:, -1]
    if spec.temporal == "ar1":
        last = kept_draws(idata, "phi_time", keep) * last
    eta += (last + sigma_t * rng.standard_normal(s))[:, None]
    if spec.seasonal:
        eta += kept_draws(idata, "season_effect", keep)[:, season][:, None]
    if "space_effect" in post:
        eta += kept_draws(idata, "space_effect", keep)
    if "level_now" in post:
        blocks = block_index(spec, spec.window)
        newest = np.flatnonzero(blocks == blocks.max())
        gap = (spec.window - newest.mean()) / periods_per_year
        level = kept_draws(idata, "level_now", keep)
        sigma_l = kept_draws(idata, "sigma_level", keep)
        step = rng.standard_normal((s, n))
        step -= step.mean(axis=1, keepdims=True)  # local levels sum to zero over units
        eta += level + (sigma_l * np.sqrt(gap))[:, None] * step
    if spec.covariates and covariates is not None:
        eta += kept_draws(idata, "beta", keep) @ covariates.T
    sizes = kept_draws(idata, "size", keep) if spec.likelihood == "negbin" else np.full(s, np.inf)
    return MixtureCountDistribution(np.exp(eta), sizes)
