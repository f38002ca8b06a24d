"""Data drawn from the model itself, for simulation-based calibration and benchmarks.

:func:`simulate` draws hyperparameters from the priors of a :class:`ModelSpec` (or takes
them as given), latent fields from their priors and counts from the likelihood, for a window
plus one period to forecast. Scaled ICAR fields are drawn exactly from their (constrained)
Gaussian distribution through each component's eigendecomposition, which is affordable for
the grids simulated here; the fitted model never uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import brentq

from analysis.forecast.bayesian.priors import bym2_rho_rate, kld_distance, sigma_rate
from analysis.forecast.bayesian.spec import DEFAULT_PERIODS_PER_YEAR, ModelSpec, block_index
from analysis.forecast.bayesian.structure import SpatialStructure, laplacian_spectrum

__all__ = ["Simulation", "draw_icar", "simulate"]


@dataclass
class Simulation:
    """One simulated data set and its truth.

    Attributes
    ----------
    counts : numpy.ndarray
        ``(n_units, window + 1)`` counts; the last column is the period to forecast.
    rate : numpy.ndarray
        ``(n_units, window + 1)`` true expected counts.
    params : dict of str to float
        True hyperparameters.
    space_effect : numpy.ndarray
        True static spatial effect.
    season : numpy.ndarray
        Period of the year of each column.
    """

    counts: np.ndarray
    rate: np.ndarray
    params: dict[str, float]
    space_effect: np.ndarray
    season: np.ndarray


def draw_icar(
    structure: SpatialStructure, adjacency: sp.spmatrix, rng: np.random.Generator, size: int = 1
) -> np.ndarray:
    """Draw scaled ICAR fields (sum-to-zero per component, islands standard normal).

    Returns
    -------
    numpy.ndarray
        ``(size, n_units)``.
    """
    adj = sp.csr_matrix(adjacency, dtype=float)
    out = np.zeros((size, structure.n_units))
    out[:, structure.islands] = rng.standard_normal((size, int(structure.islands.sum())))
    for idx in structure.constraint_groups:
        val, vec = laplacian_spectrum(adj, idx)
        z = rng.standard_normal((size, val.size))
        out[:, idx] = (z / np.sqrt(val)) @ vec.T
    return out / np.sqrt(structure.scale)[None, :]


def pc_rho_draw(gamma: np.ndarray, rate: float, rng: np.random.Generator) -> float:
    """Draw the BYM2 mixing parameter from its PC prior, as the model's density has it.

    The distance ``d(rho)`` is exponential with ``rate``, truncated to ``d(rho) <= d(1)``
    (the model's density lives on 0..1); ``rho`` is found by inverting ``d``, which
    grows with ``rho``.
    """
    d_max = float(kld_distance(1.0, gamma))
    u = rng.uniform()
    d = -np.log1p(-u * -np.expm1(-rate * d_max)) / rate
    return float(brentq(lambda r: float(kld_distance(r, gamma)) - d, 0.0, 1.0, xtol=1e-12))


def _prior_draws(
    spec: ModelSpec, structure: SpatialStructure, rng: np.random.Generator
) -> dict[str, float]:
    p = {
        "b0": float(rng.normal(0.0, 1.0)),
        "sigma_time": float(rng.exponential(1 / sigma_rate(spec.sigma_time_upper, 0.01))),
        "sigma_season": float(rng.exponential(1 / sigma_rate(spec.sigma_season_upper, 0.01))),
        "sigma_space": float(rng.exponential(1 / sigma_rate(spec.sigma_space_upper, 0.01))),
        "sigma_level": float(rng.exponential(1 / sigma_rate(spec.sigma_level_upper, 0.01))),
    }
    if spec.temporal == "ar1":
        p["phi_time"] = float(2 * rng.beta(2.0, 2.0) - 1)
    if spec.spatial == "bym2":
        rate = bym2_rho_rate(structure.gamma, spec.rho_upper, spec.rho_alpha)
        p["rho_space"] = pc_rho_draw(structure.gamma, rate, rng)
    if spec.likelihood == "negbin":
        p["inv_sqrt_size"] = float(rng.exponential(1 / sigma_rate(1.0, 0.01)))
    return p


def simulate(
    spec: ModelSpec,
    structure: SpatialStructure,
    adjacency: sp.spmatrix,
    *,
    log_offset: np.ndarray,
    log_mean: float,
    rng: np.random.Generator,
    first_season: int = 0,
    params: dict[str, float] | None = None,
    periods_per_year: int = DEFAULT_PERIODS_PER_YEAR,
) -> Simulation:
    """Simulate a window of counts plus the next period from the model.

    Parameters
    ----------
    spec : ModelSpec
        The model (its window sets the length).
    structure, adjacency
        The units' graph.
    log_offset : numpy.ndarray
        Log offset per unit.
    log_mean : float
        Log mean count per unit of offset and period (the model's ``centre``).
    rng : numpy.random.Generator
        Randomness.
    first_season : int
        Period of the year of the first column.
    params : dict, optional
        Hyperparameters; drawn from the priors when None (missing ones are drawn too).
    periods_per_year : int
        Periods in a year: the season's length and the unit of the levels' step variance.

    Returns
    -------
    Simulation
    """
    p = _prior_draws(spec, structure, rng)
    p.update(params or {})
    n, w = structure.n_units, spec.window
    t_all = w + 1
    season = (first_season + np.arange(t_all)) % periods_per_year
    z = rng.standard_normal(t_all) * p["sigma_time"]
    if spec.temporal == "rw1":
        tau = np.cumsum(z)
        tau -= tau[:w].mean()
    else:
        phi = p["phi_time"]
        tau = np.empty(t_all)
        tau[0] = z[0] / np.sqrt(1 - phi**2)
        for t in range(1, t_all):
            tau[t] = phi * tau[t - 1] + z[t]
    period = tau.copy()
    if spec.seasonal:
        raw = rng.standard_normal(periods_per_year)
        period += (p["sigma_season"] * (raw - raw.mean()))[season]
    if spec.spatial == "none":
        b = np.zeros(n)
    elif spec.spatial == "iid":
        b = p["sigma_space"] * rng.standard_normal(n)
    else:
        phi_s = draw_icar(structure, adjacency, rng)[0]
        if spec.spatial == "icar":
            b = p["sigma_space"] * phi_s
        else:
            rho = p["rho_space"]
            b = p["sigma_space"] * (
                np.sqrt(rho) * phi_s + np.sqrt(1 - rho) * rng.standard_normal(n)
            )
    blocks = block_index(spec, w)
    level = np.zeros((n, t_all))
    if spec.interaction != "none" and blocks.max() > 0:
        centres = np.array([np.flatnonzero(blocks == k).mean() for k in range(blocks.max() + 1)])
        gaps = np.diff(np.r_[centres, w]) / periods_per_year
        if spec.interaction == "iid":
            raw = rng.standard_normal((gaps.size, n))
            raw -= raw.mean(axis=1, keepdims=True)  # the model's sum-to-zero constraint
        else:
            raw = draw_icar(structure, adjacency, rng, size=gaps.size)
        steps = p["sigma_level"] * np.sqrt(gaps)[:, None] * raw
        block_levels = np.vstack([np.zeros((1, n)), np.cumsum(steps[:-1], axis=0)])
        level[:, :w] = block_levels.T[:, blocks]
        level[:, w] = (
            block_levels[-1] + steps[-1]
            if spec.interaction == "iid"
            else (block_levels[-1] + p["sigma_level"] * np.sqrt(gaps[-1]) * rng.standard_normal(n))
        )
    eta = log_offset[:, None] + log_mean + p["b0"] + period[None, :] + b[:, None] + level
    rate = np.exp(eta)
    if spec.likelihood == "negbin":
        size = 1.0 / p["inv_sqrt_size"] ** 2
        counts = rng.poisson(rng.gamma(size, rate / size))
    else:
        counts = rng.poisson(rate)
    return Simulation(counts=counts, rate=rate, params=p, space_effect=b, season=season)
