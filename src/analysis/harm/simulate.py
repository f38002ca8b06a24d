"""Simulation-based calibration of the Bayesian harm model (Talts et al. 2018).

Each replicate draws every parameter of :mod:`analysis.harm.bayes`'s model from its prior
(``intercept ~ Normal(0, 5)``, ``theta ~ Normal(0, 1)``, ``sigma_unit ~ HalfNormal(0.5)``,
``z_unit ~ Normal(0, 1)``), simulates the outcomes of a fixed design (the standardised,
QR-transformed features of a seeded synthetic cohort, people spread over a few units) and
fits the model to them with the inference layer's sampler. The rank of each true value
among thinned posterior draws is uniform when the fit is calibrated: a posterior too
narrow piles the ranks at both ends, a biased one at one end. The outcomes are drawn from
exactly the model and priors that are fitted, on the same ``Q``, so any departure from
uniformity is the sampler's or the code's, not a misspecification.

The compiled model is reused across replicates (only the outcomes change), so a replicate
costs a sampling run, not a compilation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.harm.bayes import build_model, qr_design
from analysis.harm.design import Design
from analysis.inference import SamplerSettings, diagnose, sample

__all__ = [
    "RANK_DRAWS",
    "SimulationDesign",
    "draw_prior",
    "rank_uniformity",
    "sbc_replicates",
    "simulate_outcomes",
    "simulation_design",
]

#: Posterior draws each true value is ranked among (ranks run from 0 to this).
RANK_DRAWS = 99
#: Parameters drawn from the prior and ranked (``beta`` is derived from ``theta``).
RANKED = ("intercept", "theta", "sigma_unit", "z_unit")


@dataclass(frozen=True)
class SimulationDesign:
    """A fixed design the outcomes are simulated on.

    Attributes
    ----------
    q : numpy.ndarray
        QR factor of the standardised features, scaled to unit variance (people by
        features).
    r_inv : numpy.ndarray
        ``R^-1``, so that ``beta = r_inv @ theta``.
    unit_index : numpy.ndarray
        Each person's unit (position in ``units``).
    features, units : tuple of str
        Names of the design's columns and of the units.
    """

    q: np.ndarray
    r_inv: np.ndarray
    unit_index: np.ndarray
    features: tuple[str, ...]
    units: tuple[str, ...]

    @property
    def n_people(self) -> int:
        """People in the design."""
        return int(self.q.shape[0])


def simulation_design(n_people: int = 300, n_units: int = 5, *, seed: int = 0) -> SimulationDesign:
    """Return the design of a seeded synthetic cohort with four features.

    Parameters
    ----------
    n_people : int
        Cohort size.
    n_units : int
        Offender-management units, people spread over them unevenly.
    seed : int
        Seed of the feature frame and of the units.

    Returns
    -------
    SimulationDesign
        Features ``harm_12m``, ``charges_12m``, ``violent_all`` (counts and days, entered
        as ``log(1 + x)``) and ``age_now``, standardised by :class:`Design` and
        orthogonalised as the model does.
    """
    rng = np.random.default_rng([seed, 1])
    charges = rng.poisson(1.5, n_people)
    features = pd.DataFrame(
        {
            "harm_12m": rng.exponential(40.0, n_people) * (charges > 0),
            "charges_12m": charges.astype(float),
            "violent_all": rng.poisson(0.8, n_people).astype(float),
            "age_now": rng.uniform(15.0, 50.0, n_people),
        }
    )
    design = Design.fit(features, min_nonzero=1)
    q, r_inv = qr_design(design.matrix(features).to_numpy())
    share = rng.dirichlet(np.full(n_units, 2.0))
    unit_index = rng.choice(n_units, size=n_people, p=share)
    return SimulationDesign(
        q=q,
        r_inv=r_inv,
        unit_index=unit_index,
        features=tuple(design.columns),
        units=tuple(f"unit_{k}" for k in range(n_units)),
    )


def draw_prior(design: SimulationDesign, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw every sampled parameter of the harm model from its prior.

    Returns
    -------
    dict of str to numpy.ndarray
        ``intercept`` and ``sigma_unit`` (scalars), ``theta`` (one per feature) and
        ``z_unit`` (one per unit).
    """
    return {
        "intercept": np.asarray(rng.normal(0.0, 5.0)),
        "theta": rng.normal(0.0, 1.0, len(design.features)),
        "sigma_unit": np.asarray(abs(rng.normal(0.0, 0.5))),
        "z_unit": rng.normal(0.0, 1.0, len(design.units)),
    }


def simulate_outcomes(
    design: SimulationDesign, params: dict[str, np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """Return outcomes (0 or 1) drawn from the model with the given parameters."""
    effect = params["sigma_unit"] * params["z_unit"]
    eta = params["intercept"] + design.q @ params["theta"] + effect[design.unit_index]
    return (rng.uniform(size=design.n_people) < 1.0 / (1.0 + np.exp(-eta))).astype(int)


def _labels(name: str, value: np.ndarray, design: SimulationDesign) -> list[tuple[str, float]]:
    """Return ``(label, value)`` per element, labelled as ArviZ labels them."""
    if name == "theta":
        return [(f"theta[{f}]", float(v)) for f, v in zip(design.features, value, strict=True)]
    if name == "z_unit":
        return [(f"z_unit[{u}]", float(v)) for u, v in zip(design.units, value, strict=True)]
    return [(name, float(value))]


def sbc_replicates(
    design: SimulationDesign,
    settings: SamplerSettings,
    *,
    replicates: int,
    seed: int = 0,
    start: int = 0,
    rank_draws: int = RANK_DRAWS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run simulation-based calibration replicates of the harm model.

    Parameters
    ----------
    design : SimulationDesign
        The fixed design.
    settings : SamplerSettings
        The sampler (its checks are reported per replicate, never raised).
    replicates : int
        Replicates to run.
    seed : int
        Base seed: replicate ``r`` draws from ``default_rng([seed, r])`` and samples
        with seed ``seed + r``.
    start : int
        First replicate (to repeat part of a run).
    rank_draws : int
        Thinned posterior draws each truth is ranked among.

    Returns
    -------
    ranks : pandas.DataFrame
        One row per replicate and parameter element: ``rank`` (0 to ``rank_draws``),
        ``truth``, the posterior ``mean`` and its 1% and 99% quantiles ``lower`` and
        ``upper``.
    fits : pandas.DataFrame
        One row per replicate: the outcome rate, diagnostics and timings.
    """
    model = compiled = None
    ranks, fits = [], []
    for r in range(start, start + replicates):
        rng = np.random.default_rng([seed, r])
        params = draw_prior(design, rng)
        y = simulate_outcomes(design, params, rng)
        if model is None:
            model = build_model(
                design.q,
                design.r_inv,
                y,
                design.unit_index,
                features=design.features,
                units=design.units,
            )
        idata, compiled, seconds = sample(
            model, settings, seed=seed + r, compiled=compiled, data={"outcome": y}
        )
        diag = diagnose(idata, settings, parameters=RANKED)
        post = idata.posterior
        total = post.sizes["chain"] * post.sizes["draw"]
        thin = np.linspace(0, total - 1, rank_draws).round().astype(int)
        for name in RANKED:
            dims = [d for d in post[name].dims if d not in ("chain", "draw")]
            draws = post[name].stack(sample=("chain", "draw")).transpose("sample", *dims)
            values = draws.to_numpy().reshape(total, -1)
            for j, (label, truth) in enumerate(_labels(name, params[name], design)):
                column = values[:, j]
                ranks.append(
                    {
                        "replicate": r,
                        "parameter": label,
                        "rank": int((column[thin] < truth).sum()),
                        "truth": truth,
                        "mean": float(column.mean()),
                        "lower": float(np.quantile(column, 0.01)),
                        "upper": float(np.quantile(column, 0.99)),
                    }
                )
        fits.append(
            {
                "replicate": r,
                "outcome_rate": float(y.mean()),
                "converged": diag.converged,
                "divergences": diag.divergences,
                "max_rhat": diag.max_rhat(),
                "min_ess_bulk": diag.min_ess_bulk(),
                "min_ess_tail": diag.min_ess_tail(),
                "min_bfmi": diag.min_bfmi,
                "compile_seconds": seconds["compile"],
                "sample_seconds": seconds["sample"],
                "failures": "; ".join(diag.failures),
            }
        )
    return pd.DataFrame(ranks), pd.DataFrame(fits)


def rank_uniformity(
    ranks: pd.DataFrame, *, rank_draws: int = RANK_DRAWS, bins: int = 10
) -> pd.DataFrame:
    """Return a chi-square test of uniform ranks per parameter element.

    Parameters
    ----------
    ranks : pandas.DataFrame
        From :func:`sbc_replicates`.
    rank_draws : int
        The draws ranked among (ranks run from 0 to ``rank_draws``).
    bins : int
        Equal-width bins of the ranks.

    Returns
    -------
    pandas.DataFrame
        One row per parameter element: ``replicates``, ``chi2``, ``p_value``, the share of
        truths inside the central 98% posterior interval (``coverage_98``) and the bin
        counts ``bin_0`` ... (in the order of :func:`sbc_replicates`' parameters).
    """
    rows = []
    for name, g in ranks.groupby("parameter", sort=False):
        counts = np.bincount(g["rank"] * bins // (rank_draws + 1), minlength=bins)
        test = stats.chisquare(counts)
        inside = ((g["lower"] <= g["truth"]) & (g["truth"] <= g["upper"])).mean()
        rows.append(
            {
                "parameter": name,
                "replicates": len(g),
                "chi2": float(test.statistic),
                "p_value": float(test.pvalue),
                "coverage_98": float(inside),
                **{f"bin_{k}": int(c) for k, c in enumerate(counts)},
            }
        )
    return pd.DataFrame(rows)
