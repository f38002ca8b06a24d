"""Penalised-complexity (PC) priors, and the reasons for them.

PC priors (Simpson et al. 2017) shrink each added piece of structure towards a simpler base
model at a constant rate on the scale of distance from it, and are set by a statement a
reader can check: "P(parameter > U) = alpha".

Standard deviations
    ``sigma ~ Exponential(rate = -log(alpha) / U)``. The defaults say a unit's relative
    risk is unlikely (1%) to vary by more than a factor ``exp(U)`` through that term.
BYM2 mixing parameter ``rho`` (share of the spatial variance that is structured)
    The base model is ``rho = 0`` (no spatial structure). With ``gamma_k`` the eigenvalues
    of the scaled ICAR covariance, the Kullback-Leibler divergence of the mixture from the
    base is ``KLD(rho) = 0.5 * sum(rho * (gamma_k - 1) - log(1 + rho * (gamma_k - 1)))``
    and the distance is ``d(rho) = sqrt(2 * KLD(rho))``. An exponential prior on ``d``
    with ``P(rho < U) = alpha`` gives the density used here (Riebler et al. 2016; the
    default ``U = 0.5, alpha = 2/3`` is theirs).

References
----------
Simpson, D., Rue, H., Riebler, A., Martins, T. G. and Sørbye, S. H. (2017). Penalising model
component complexity. *Statistical Science* 32, 1-28.
Riebler, A., Sørbye, S. H., Simpson, D. and Rue, H. (2016). An intuitive Bayesian spatial
model for disease mapping that accounts for scaling. *Statistical Methods in Medical
Research* 25, 1145-1165.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

__all__ = ["bym2_rho_logp", "bym2_rho_rate", "kld_distance", "sigma_rate"]


def sigma_rate(upper: float, alpha: float) -> float:
    """Return the exponential rate of a PC prior with ``P(sigma > upper) = alpha``."""
    if upper <= 0 or not 0 < alpha < 1:
        raise ValueError("need upper > 0 and 0 < alpha < 1")
    return float(-np.log(alpha) / upper)


def kld_distance(rho: float | np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Return ``d(rho) = sqrt(2 KLD(rho))`` in NumPy (for setting the prior's rate)."""
    r = np.asarray(rho, dtype=float)[..., None]
    g = np.asarray(gamma, dtype=float) - 1.0
    kld = 0.5 * np.sum(r * g - np.log1p(r * g), axis=-1)
    return np.sqrt(2.0 * np.maximum(kld, 0.0))


def bym2_rho_rate(gamma: np.ndarray, upper: float = 0.5, alpha: float = 2 / 3) -> float:
    """Return the exponential rate on ``d(rho)`` that gives ``P(rho < upper) = alpha``."""
    if not 0 < upper < 1 or not 0 < alpha < 1:
        raise ValueError("need 0 < upper < 1 and 0 < alpha < 1")
    d = float(kld_distance(upper, gamma))
    if d <= 0:
        raise ValueError("the graph has no spatial structure to mix (every unit is an island)")
    return float(-np.log1p(-alpha) / d)


def bym2_rho_logp(rho: pt.TensorVariable, gamma: np.ndarray, rate: float) -> pt.TensorVariable:
    """Return the PC log density of ``rho`` (on 0..1) as a PyTensor expression.

    ``log p(rho) = log(rate) - rate * d(rho) + log|d'(rho)|`` with
    ``d'(rho) = KLD'(rho) / d(rho)``.
    """
    g = pt.as_tensor_variable(np.asarray(gamma, dtype=float) - 1.0)
    kld = 0.5 * pt.sum(rho * g - pt.log1p(rho * g))
    dkld = 0.5 * pt.sum(g - g / (1.0 + rho * g))
    d = pt.sqrt(2.0 * kld + 1e-12)
    return np.log(rate) - rate * d + pt.log(pt.abs(dkld) + 1e-12) - pt.log(d)
