"""Predictive count distributions per unit: negative binomial (NB2) with Poisson as a limit.

A forecast for ``n`` units is a :class:`CountDistribution`: a mean per unit and a
negative-binomial *size* ``r`` per unit (``np.inf`` for Poisson). The NB2
parameterisation has variance ``mean + mean**2 / r``; in scipy's terms it is
``scipy.stats.nbinom(n=r, p=r / (r + mean))``. A unit with mean exactly 0 is a point mass
at 0 whatever its size.

:func:`fit_nb_size` fits one maximum-likelihood size to observations given their
forecast means (used to put a dispersion around point forecasts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, special, stats

__all__ = ["CountDistribution", "fit_nb_size"]


@dataclass(frozen=True, eq=False)
class CountDistribution:
    """Independent count distributions for ``n`` units (NB2, Poisson where ``size`` is inf).

    Build with :meth:`make` (which broadcasts a scalar size). The arrays are stored as
    read-only float copies. Equality is identity (arrays do not compare as booleans).

    Attributes
    ----------
    mean : numpy.ndarray
        Expected count per unit, shape ``(n,)``, finite and ``>= 0``. A mean of 0 is a
        point mass at 0.
    size : numpy.ndarray
        Negative-binomial size ``r > 0`` per unit, shape ``(n,)``; ``np.inf`` is Poisson.
        Smaller ``r`` means more overdispersion: ``variance = mean + mean**2 / r``.

    Notes
    -----
    Every method is vectorised over units. Arguments ``k`` may be scalars or arrays
    broadcastable against shape ``(n,)`` (e.g. shape ``(m, 1)`` evaluates ``m`` values of
    ``k`` for every unit and returns shape ``(m, n)``).
    """

    mean: np.ndarray
    size: np.ndarray

    def __post_init__(self) -> None:
        mean = np.array(self.mean, dtype=float, copy=True)
        size = np.array(self.size, dtype=float, copy=True)
        if mean.ndim != 1:
            raise ValueError(f"mean must be one-dimensional, got shape {mean.shape}")
        if size.shape != mean.shape:
            raise ValueError(f"size has shape {size.shape}, mean has shape {mean.shape}")
        if not np.all(np.isfinite(mean)) or np.any(mean < 0):
            raise ValueError("means must be finite and non-negative")
        if not np.all(size > 0):  # also rejects NaN
            raise ValueError("sizes must be > 0 (np.inf for Poisson)")
        mean.setflags(write=False)
        size.setflags(write=False)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "size", size)

    @classmethod
    def make(cls, mean: ArrayLike, size: ArrayLike = np.inf) -> CountDistribution:
        """Build from means and a size that may be a scalar (broadcast to every unit).

        Parameters
        ----------
        mean : array_like
            Expected count per unit (a scalar gives one unit).
        size : array_like, default ``np.inf``
            NB size per unit, or one size for all units; ``np.inf`` is Poisson.

        Returns
        -------
        CountDistribution

        Raises
        ------
        ValueError
            If a mean is negative or not finite, a size is not ``> 0``, or the shapes do not
            broadcast.
        """
        mean_arr = np.atleast_1d(np.asarray(mean, dtype=float))
        size_arr = np.broadcast_to(np.asarray(size, dtype=float), mean_arr.shape)
        return cls(mean_arr, size_arr)

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    def take(self, index: ArrayLike) -> CountDistribution:
        """Return the distributions of a subset of units.

        Parameters
        ----------
        index : array_like
            Integer positions or a boolean mask over units.

        Returns
        -------
        CountDistribution
        """
        return CountDistribution(self.mean[index], self.size[index])

    # -- evaluation ----------------------------------------------------------------------

    def _evaluate(self, k: ArrayLike, method: str, at_zero: Any) -> np.ndarray:
        """Evaluate a scipy method elementwise, with the mean-0 units done by ``at_zero``.

        ``at_zero`` maps the ``k`` values of point-mass units to results.
        """
        kb, mu, r = np.broadcast_arrays(np.asarray(k, dtype=float), self.mean, self.size)
        out = np.empty(kb.shape, dtype=float)
        zero = mu == 0
        pois = ~zero & np.isinf(r)
        nb = ~zero & ~np.isinf(r)
        if zero.any():
            out[zero] = at_zero(kb[zero])
        if pois.any():
            out[pois] = getattr(stats.poisson, method)(kb[pois], mu[pois])
        if nb.any():
            rr = r[nb]
            out[nb] = getattr(stats.nbinom, method)(kb[nb], rr, rr / (rr + mu[nb]))
        return out

    def pmf(self, k: ArrayLike) -> np.ndarray:
        """Return ``P(Y = k)`` per unit (0 for non-integer or negative ``k``).

        Parameters
        ----------
        k : array_like
            Counts, broadcastable against ``(n,)``.

        Returns
        -------
        numpy.ndarray
            Probabilities, the broadcast shape of ``k`` and ``(n,)``.
        """
        return self._evaluate(k, "pmf", lambda kk: (kk == 0).astype(float))

    def logpmf(self, k: ArrayLike) -> np.ndarray:
        """Return ``log P(Y = k)`` per unit (``-inf`` where the probability is 0).

        Parameters
        ----------
        k : array_like
            Counts, broadcastable against ``(n,)``.

        Returns
        -------
        numpy.ndarray
            Log probabilities, the broadcast shape of ``k`` and ``(n,)``.
        """
        return self._evaluate(k, "logpmf", lambda kk: np.where(kk == 0, 0.0, -np.inf))

    def cdf(self, k: ArrayLike) -> np.ndarray:
        """Return ``F(k) = P(Y <= k)`` per unit (0 for ``k < 0``).

        Parameters
        ----------
        k : array_like
            Values, broadcastable against ``(n,)``; non-integers are floored.

        Returns
        -------
        numpy.ndarray
            Probabilities, the broadcast shape of ``k`` and ``(n,)``.
        """
        return self._evaluate(k, "cdf", lambda kk: (kk >= 0).astype(float))

    def prob_at_least(self, k: ArrayLike) -> np.ndarray:
        """Return ``P(Y >= k)`` per unit, computed as a survival function (accurate tails).

        Parameters
        ----------
        k : array_like
            Thresholds, broadcastable against ``(n,)``; non-integers are rounded up.

        Returns
        -------
        numpy.ndarray
            Probabilities, the broadcast shape of ``k`` and ``(n,)``.
        """
        below = np.ceil(np.asarray(k, dtype=float)) - 1  # P(Y >= k) = P(Y > ceil(k) - 1)
        return self._evaluate(below, "sf", lambda kk: (kk < 0).astype(float))

    def quantile(self, q: float) -> np.ndarray:
        """Return the smallest integer ``k`` with ``F(k) >= q``, per unit.

        Parameters
        ----------
        q : float
            Probability in ``[0, 1)``. ``q = 0`` gives 0 (the bottom of the support).

        Returns
        -------
        numpy.ndarray
            Integer quantiles, shape ``(n,)``, dtype int64.

        Raises
        ------
        ValueError
            If ``q`` is not a scalar in ``[0, 1)`` (the 1-quantile of a Poisson or NB
            distribution with a positive mean is infinite).

        Notes
        -----
        scipy's ``ppf`` is used as a starting point and then corrected against
        :meth:`cdf`, so the defining inequality holds exactly for the ``cdf`` this class
        reports (``F(k) >= q`` and ``F(k - 1) < q``).
        """
        q = float(q)
        if not 0.0 <= q < 1.0:
            raise ValueError(f"q must be in [0, 1), got {q}")
        n = len(self)
        if q == 0.0:
            return np.zeros(n, dtype=np.int64)
        k = self._evaluate(np.full(n, q), "ppf", lambda qq: np.zeros_like(qq))
        k = np.where(np.isfinite(k), np.maximum(k, 0.0), 0.0)
        for _ in range(64):  # the scipy start is off by at most one in practice
            up = self.cdf(k) < q
            down = (k > 0) & (self.cdf(k - 1) >= q)
            if not (up.any() or down.any()):
                break
            k = k + up - down
        else:  # pragma: no cover - defensive
            raise RuntimeError("quantile correction did not converge")
        return k.astype(np.int64)

    def variance(self) -> np.ndarray:
        """Return the variance per unit, ``mean + mean**2 / size``.

        Returns
        -------
        numpy.ndarray
            Shape ``(n,)``.
        """
        return self.mean + self.mean**2 / self.size

    def sample(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """Draw counts from every unit's distribution.

        NB units are drawn as a gamma-Poisson mixture: ``lambda ~ Gamma(r, mean / r)``,
        ``Y ~ Poisson(lambda)``.

        Parameters
        ----------
        rng : numpy.random.Generator
            Random generator.
        n_draws : int
            Draws per unit.

        Returns
        -------
        numpy.ndarray
            Integer draws, shape ``(n_draws, n)``.
        """
        lam = np.broadcast_to(self.mean, (int(n_draws), len(self))).copy()
        nb = ~np.isinf(self.size)
        if nb.any():
            r = self.size[nb]
            lam[:, nb] = rng.gamma(shape=r, scale=self.mean[nb] / r, size=(int(n_draws), nb.sum()))
        return rng.poisson(lam)


def _nb_loglik(r: float, y: np.ndarray, mu: np.ndarray) -> float:
    """Return the NB2 log-likelihood with one size ``r`` (``mu > 0`` everywhere)."""
    return float(
        np.sum(
            special.gammaln(y + r)
            - special.gammaln(r)
            - special.gammaln(y + 1)
            - r * np.log1p(mu / r)
            + special.xlogy(y, mu)
            - y * np.log(r + mu)
        )
    )


def fit_nb_size(
    y: ArrayLike, mean: ArrayLike, *, bounds: tuple[float, float] = (1e-2, 1e4)
) -> float:
    """Fit one negative-binomial size ``r`` by maximum likelihood, means held fixed.

    Maximises ``sum_i log NB(y_i; mean_i, r)`` over ``log r`` in ``log(bounds)`` with
    :func:`scipy.optimize.minimize_scalar` (bounded Brent).

    Parameters
    ----------
    y : array_like
        Observed non-negative counts.
    mean : array_like
        The forecast mean of each observation, same shape as ``y``.
    bounds : tuple of float, default ``(1e-2, 1e4)``
        Search interval for ``r``.

    Returns
    -------
    float
        The fitted size, or ``np.inf`` (Poisson) when the data are not overdispersed
        relative to the means: when the Poisson log-likelihood is within ``1e-6`` of the
        best NB log-likelihood, or when the optimum lies at the upper bound (within
        ``1e-3`` on the log scale). An optimum at the lower bound is returned as the lower
        bound. With no informative observations (all means and counts 0) returns inf.

    Raises
    ------
    ValueError
        If shapes differ, values are negative or not finite, an observation has a positive
        count but a zero mean (impossible under any NB), or ``bounds`` is not
        ``0 < low < high``.
    """
    y_arr = np.asarray(y, dtype=float).ravel()
    mu = np.asarray(mean, dtype=float).ravel()
    if y_arr.shape != mu.shape:
        raise ValueError(f"y has {y_arr.size} values, mean has {mu.size}")
    if not (np.all(np.isfinite(y_arr)) and np.all(np.isfinite(mu))):
        raise ValueError("y and mean must be finite")
    if np.any(y_arr < 0) or np.any(mu < 0):
        raise ValueError("y and mean must be non-negative")
    if np.any((mu == 0) & (y_arr > 0)):
        raise ValueError("an observation has a positive count but a zero mean")
    low, high = (float(b) for b in bounds)
    if not 0 < low < high:
        raise ValueError(f"bounds must satisfy 0 < low < high, got {bounds}")
    keep = mu > 0  # mean-0, count-0 observations have likelihood 1 under every r
    y_arr, mu = y_arr[keep], mu[keep]
    if y_arr.size == 0:
        return np.inf

    res = optimize.minimize_scalar(
        lambda log_r: -_nb_loglik(float(np.exp(log_r)), y_arr, mu),
        bounds=(np.log(low), np.log(high)),
        method="bounded",
        options={"xatol": 1e-6},
    )
    log_r = float(res.x)
    best = -float(res.fun)
    poisson = float(np.sum(stats.poisson.logpmf(y_arr, mu)))
    if poisson >= best - 1e-6 or log_r >= np.log(high) - 1e-3:
        return np.inf
    return float(np.exp(log_r))
