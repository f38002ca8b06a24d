"""From a fitted model's posterior to next-period forecasts.

:func:`next_period_rates` turns posterior draws into draws of each unit's expected count in
the origin period: the force-wide level one step ahead (a fresh AR(1) or random-walk
innovation), the origin's season, the static spatial effect and each unit's newest local
level plus one random-walk step to the origin. That step is drawn independently across
units; for the ICAR interaction this approximates the spatially structured step by
independent steps with the same marginal variance (the scaled ICAR has geometric-mean
variance 1), a small part of the variance one period ahead.

:func:`forecast_table` summarises the predictive per unit: mean, median, 50/80/90%
intervals, ``P(count >= 1)``, ``P(count >= k)`` and the probability of being among the top
share of units, with :func:`total_summary` for the force-wide total.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd

from analysis.forecast.bayesian.model import YEAR, ModelSpec, block_index
from analysis.forecast.mixture import MixtureCountDistribution

__all__ = ["forecast_table", "next_period_rates", "top_share_probability", "total_summary"]


def _draws(idata: az.InferenceData, name: str, keep: np.ndarray) -> np.ndarray:
    """Return the kept posterior draws of a variable, draws first."""
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
        Period of the year (0..12) of the origin.
    covariates : numpy.ndarray, optional
        Standardised covariates, as fitted.
    n_draws : int
        Posterior draws kept in the mixture (evenly thinned).
    rng : numpy.random.Generator
        For the one-step-ahead innovations.

    Returns
    -------
    MixtureCountDistribution
    """
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    keep = np.unique(np.linspace(0, total - 1, min(n_draws, total)).round().astype(int))
    s = keep.size
    n = log_offset.shape[0]
    eta = np.broadcast_to(log_offset + centre, (s, n)).copy()
    eta += _draws(idata, "b0", keep)[:, None]
    tau = _draws(idata, "tau", keep)
    sigma_t = _draws(idata, "sigma_time", keep)
    last = tau[:, -1]
    if spec.temporal == "ar1":
        last = _draws(idata, "phi_time", keep) * last
    eta += (last + sigma_t * rng.standard_normal(s))[:, None]
    if spec.seasonal:
        eta += _draws(idata, "season_effect", keep)[:, season][:, None]
    if "space_effect" in post:
        eta += _draws(idata, "space_effect", keep)
    if "level_now" in post:
        blocks = block_index(spec, spec.window)
        newest = np.flatnonzero(blocks == blocks.max())
        gap = (spec.window - newest.mean()) / YEAR
        level = _draws(idata, "level_now", keep)
        sigma_l = _draws(idata, "sigma_level", keep)
        eta += level + (sigma_l * np.sqrt(gap))[:, None] * rng.standard_normal((s, n))
    if spec.covariates and covariates is not None:
        eta += _draws(idata, "beta", keep) @ covariates.T
    sizes = _draws(idata, "size", keep) if spec.likelihood == "negbin" else np.full(s, np.inf)
    return MixtureCountDistribution(np.exp(eta), sizes)


def top_share_probability(
    dist: MixtureCountDistribution,
    rng: np.random.Generator,
    *,
    share: float = 0.05,
    area: np.ndarray | None = None,
    n_sims: int = 2000,
) -> np.ndarray:
    """Return each unit's probability of being among the top ``share`` of units.

    Whole maps are simulated jointly; in each, units are ranked by count (per km² when
    ``area`` is given) with ties broken at random, and the top ``ceil(share * n)`` marked.
    """
    sims = dist.sample(rng, n_sims)
    if area is not None:
        sims = sims / area[None, :]
    n = sims.shape[1]
    top = max(int(np.ceil(share * n)), 1)
    jitter = rng.random(sims.shape)
    order = np.lexsort((jitter, -sims), axis=1)[:, :top]
    hits = np.zeros(n)
    np.add.at(hits, order.ravel(), 1.0)
    return hits / n_sims


def total_summary(
    dist: MixtureCountDistribution, rng: np.random.Generator, n_sims: int = 4000
) -> dict[str, float]:
    """Return the force-wide total's mean, median and 50/80/90% intervals."""
    totals = dist.sample(rng, n_sims).sum(axis=1)
    q = np.quantile(totals, [0.05, 0.10, 0.25, 0.5, 0.75, 0.90, 0.95])
    return {
        "mean": float(dist.mean.sum()),
        "median": float(q[3]),
        "lo50": float(q[2]),
        "hi50": float(q[4]),
        "lo80": float(q[1]),
        "hi80": float(q[5]),
        "lo90": float(q[0]),
        "hi90": float(q[6]),
    }


def forecast_table(
    dist: MixtureCountDistribution,
    unit_ids: np.ndarray,
    rng: np.random.Generator,
    *,
    k: int = 2,
    area: np.ndarray | None = None,
    top_share: float = 0.05,
) -> pd.DataFrame:
    """Return the per-unit forecast table keyed by ``unit_id``.

    Columns: ``mean, median, lo50, hi50, lo80, hi80, lo90, hi90, p_any, p_at_least_k,
    p_top`` (``k`` and the top share are recorded in the table's ``attrs``).
    """
    table = pd.DataFrame(
        {
            "unit_id": unit_ids,
            "mean": dist.mean,
            "median": dist.quantile(0.5),
            "lo50": dist.quantile(0.25),
            "hi50": dist.quantile(0.75),
            "lo80": dist.quantile(0.10),
            "hi80": dist.quantile(0.90),
            "lo90": dist.quantile(0.05),
            "hi90": dist.quantile(0.95),
            "p_any": dist.prob_at_least(1),
            "p_at_least_k": dist.prob_at_least(k),
            "p_top": top_share_probability(dist, rng, share=top_share, area=area),
        }
    )
    table.attrs.update({"k": k, "top_share": top_share})
    return table
