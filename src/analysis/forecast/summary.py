"""Per-unit summaries of a predictive distribution: the forecast table every model shares.

Works for any forecast with ``mean``, ``quantile``, ``prob_at_least`` and joint ``sample``
(a :class:`~analysis.forecast.distributions.CountDistribution` or a Bayesian
:class:`~analysis.forecast.mixture.MixtureCountDistribution`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["summarise_predictive"]


class Predictive(Protocol):
    """What the summary needs from a forecast."""

    @property
    def mean(self) -> np.ndarray:
        """Expected count per unit."""
        ...

    def quantile(self, q: float) -> np.ndarray:
        """Smallest integer ``k`` with ``F(k) >= q`` per unit."""
        ...

    def prob_at_least(self, k: ArrayLike) -> np.ndarray:
        """``P(Y >= k)`` per unit."""
        ...

    def sample(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """``(n_draws, n_units)`` simulated maps."""
        ...


def summarise_predictive(
    dist: Predictive,
    area: np.ndarray,
    rng: np.random.Generator,
    *,
    k: int,
    draws: int,
    top_share: float = 0.05,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the per-unit forecast table and simulated force-wide totals.

    Parameters
    ----------
    dist : Predictive
        The forecast.
    area : numpy.ndarray
        Area of each unit in km² (units are ranked by count per km²).
    rng : numpy.random.Generator
        For the simulated maps.
    k : int
        Threshold of ``p_at_least_k``.
    draws : int
        Simulated maps, for the total and the top-share probability.
    top_share : float
        Share of units counted as "top" (at least one unit).

    Returns
    -------
    table : pandas.DataFrame
        ``mean, median, lo50, hi50, lo80, hi80, lo90, hi90, p_any, p_at_least_k, p_top5``
        (``p_top5``: share of simulated maps in which the unit ranks among the top
        ``top_share`` of units by density; ties go to the earlier unit).
    totals : numpy.ndarray
        The force-wide total of each simulated map.
    """
    sims = dist.sample(rng, draws)
    totals = sims.sum(axis=1)
    n_top = max(1, int(np.ceil(top_share * len(area))))
    density = sims / np.asarray(area, dtype=float)[None, :]
    rank = np.argsort(np.argsort(-density, axis=1, kind="stable"), axis=1)
    table = pd.DataFrame(
        {
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
            "p_top5": (rank < n_top).mean(axis=0),
        }
    )
    return table, totals
