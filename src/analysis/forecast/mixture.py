"""Posterior predictive count distributions: mixtures over posterior draws.

A Bayesian model's forecast for a unit is ``p(y) = mean_s NB(y | mu_s, r_s)`` over posterior
draws ``s`` of the unit's rate (Poisson where ``r_s`` is infinite). Keeping the mixture,
rather than a negative binomial matched to its moments, keeps the scores exact for the
model's own predictive: every method averages the per-draw distribution over the draws.
Joint draws for all units come from :meth:`MixtureCountDistribution.sample`, which uses
the same posterior draw for every unit of a simulated map (so force-wide totals and ranks
carry the posterior's correlations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from analysis.forecast.distributions import CountDistribution

__all__ = ["MixtureCountDistribution"]

#: Largest rate for which the quantile recursion starts from ``exp(-rate)`` safely.
_MAX_RECURSION_RATE = 500.0


@dataclass(frozen=True, eq=False)
class MixtureCountDistribution:
    """Per-unit mixtures of negative-binomial (or Poisson) distributions over draws.

    Attributes
    ----------
    rates : numpy.ndarray
        ``(n_draws, n_units)`` posterior draws of each unit's expected count.
    sizes : numpy.ndarray
        ``(n_draws,)`` negative-binomial size per draw; ``np.inf`` for Poisson.
    """

    rates: np.ndarray
    sizes: np.ndarray

    def __post_init__(self) -> None:
        rates = np.array(self.rates, dtype=float, copy=True)
        if rates.ndim != 2 or rates.shape[0] < 1:
            raise ValueError(f"rates must be (n_draws, n_units), got shape {rates.shape}")
        if not np.all(np.isfinite(rates)) or np.any(rates < 0):
            raise ValueError("rates must be finite and non-negative")
        sizes = np.broadcast_to(np.asarray(self.sizes, dtype=float), rates.shape[:1]).copy()
        if not np.all(sizes > 0):
            raise ValueError("sizes must be > 0 (np.inf for Poisson)")
        rates.setflags(write=False)
        sizes.setflags(write=False)
        object.__setattr__(self, "rates", rates)
        object.__setattr__(self, "sizes", sizes)

    def __len__(self) -> int:
        return int(self.rates.shape[1])

    @property
    def n_draws(self) -> int:
        """Number of posterior draws in the mixture."""
        return int(self.rates.shape[0])

    @property
    def mean(self) -> np.ndarray:
        """Expected count per unit."""
        return self.rates.mean(axis=0)

    def variance(self) -> np.ndarray:
        """Return the predictive variance per unit (law of total variance)."""
        within = self.rates + self.rates**2 / self.sizes[:, None]
        return within.mean(axis=0) + self.rates.var(axis=0)

    def take(self, index: ArrayLike) -> MixtureCountDistribution:
        """Return the mixtures of a subset of units."""
        return MixtureCountDistribution(self.rates[:, index], self.sizes)

    def _component(self, s: int) -> CountDistribution:
        return CountDistribution.make(self.rates[s], self.sizes[s])

    def _average(self, method: str, k: ArrayLike) -> np.ndarray:
        total = None
        for s in range(self.n_draws):
            value = getattr(self._component(s), method)(k)
            total = value if total is None else total + value
        return total / self.n_draws

    def pmf(self, k: ArrayLike) -> np.ndarray:
        """Return ``P(Y = k)`` per unit."""
        return self._average("pmf", k)

    def logpmf(self, k: ArrayLike) -> np.ndarray:
        """Return ``log P(Y = k)`` per unit (log of the mixture, computed stably)."""
        logs = np.stack([self._component(s).logpmf(k) for s in range(self.n_draws)])
        top = logs.max(axis=0)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            return safe + np.log(np.mean(np.exp(logs - safe), axis=0))

    def cdf(self, k: ArrayLike) -> np.ndarray:
        """Return ``P(Y <= k)`` per unit."""
        return self._average("cdf", k)

    def prob_at_least(self, k: ArrayLike) -> np.ndarray:
        """Return ``P(Y >= k)`` per unit."""
        return self._average("prob_at_least", k)

    def quantile(self, q: float) -> np.ndarray:
        """Return the smallest integer ``k`` with mixture ``F(k) >= q``, per unit.

        The mixture's CDF is accumulated over ``k = 0, 1, ...`` for every draw at once
        through the pmf recursions ``p(k) = p(k-1) mu / k`` (Poisson) and
        ``p(k) = p(k-1) (k - 1 + r) / k * mu / (mu + r)`` (negative binomial), stopping
        once every unit has reached ``q``: one pass instead of a CDF per draw and per
        candidate ``k``. Rates too large for ``p(0)`` to be represented fall back to
        a search between the per-draw quantiles.
        """
        if not 0 <= q < 1:
            raise ValueError(f"q must be in [0, 1), got {q}")
        if self.rates.max(initial=0.0) > _MAX_RECURSION_RATE:
            return self._quantile_by_search(q)
        mu, r = self.rates, self.sizes[:, None]
        pois = np.isinf(r)
        with np.errstate(divide="ignore", invalid="ignore"):
            r_safe = np.where(pois, 1.0, r)
            p = np.where(pois, np.exp(-mu), np.exp(r_safe * np.log(r_safe / (r_safe + mu))))
            odds = np.where(pois, mu, mu / (mu + r_safe))
        target = q - 1e-12
        cdf = p.mean(axis=0)
        out = np.zeros(mu.shape[1], dtype=np.int64)
        todo = cdf < target
        k = 0
        while todo.any():
            k += 1
            p = p * odds * np.where(pois, 1.0, (k - 1 + r_safe)) / k
            cdf = cdf + p.mean(axis=0)
            out[todo] = k
            todo &= cdf < target
        return out

    def _quantile_by_search(self, q: float) -> np.ndarray:
        """Quantile by searching between the smallest and largest per-draw quantiles."""
        per_draw = np.stack([self._component(s).quantile(q) for s in range(self.n_draws)])
        lo, hi = per_draw.min(axis=0), per_draw.max(axis=0)
        span = int((hi - lo).max()) + 1
        grid = lo[None, :] + np.arange(span)[:, None]
        below = self.cdf(grid) < q - 1e-12
        return lo + below.sum(axis=0)

    def sample(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """Return ``(n_draws, n_units)`` joint draws (one posterior draw per simulated map)."""
        which = rng.integers(0, self.n_draws, size=n_draws)
        mu = self.rates[which]
        r = self.sizes[which][:, None]
        pois = np.isinf(r[:, 0])
        out = np.empty(mu.shape)
        out[pois] = rng.poisson(mu[pois])
        if (~pois).any():
            rr = np.broadcast_to(r[~pois], mu[~pois].shape)
            lam = rng.gamma(rr, mu[~pois] / rr)
            out[~pois] = rng.poisson(lam)
        return out
