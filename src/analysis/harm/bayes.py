"""Bayesian logistic regression with partial pooling across offender-management units (PyMC).

Model, on the standardised design ``X`` of :class:`~analysis.harm.design.Design`::

    logit P(escalation) = alpha + X beta + u[unit]
    alpha ~ Normal(0, 5)
    X = Q R (thin QR, Q scaled to unit variance),  theta = R beta ~ Normal(0, 1)
    u = sigma * z,  z ~ Normal(0, 1),  sigma ~ HalfNormal(0.5)   (non-centred)

The QR parametrisation makes the sampler's geometry nearly isotropic although harm features
are strongly correlated (about five times fewer leapfrog steps). The prior on ``theta`` is
a unit-information (Zellner-type) prior on ``beta``: ``beta ~ Normal(0, C^-1)`` with ``C``
the training correlation matrix of the features, i.e. one standard deviation of the linear
predictor per unit of ``theta``.

Sampling and the convergence checks are the inference layer's (:mod:`analysis.inference`,
shared with the forecast models): nutpie by default, with :data:`HARM_SAMPLER`'s settings
(4 chains of 1,000 draws after 1,000 warm-up, target acceptance 0.99). After sampling,
every element of :data:`PARAMETERS` is checked for r-hat, bulk and tail ESS, and the run
for divergences and E-BFMI, and :class:`~analysis.inference.ConvergenceError` is raised
when any fails: an unconverged posterior is never used silently. Test mode
(:meth:`~analysis.inference.SamplerSettings.for_test_mode`, small draws) must be asked for
explicitly and switches the checks off, and every output of such a run is stamped.

When every training person falls in one unit (no home LSOA, say) a unit effect cannot be
told from the intercept: the model is then fitted without it (``sigma_unit`` and
``z_unit`` are left out of the model and of the checks, every unit effect is 0) and the
fit's ``guards`` and ``notes`` say so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.harm.design import Design, feature_label
from analysis.inference import (
    Diagnostics,
    SamplerSettings,
    diagnose,
    require_convergence,
    sample,
)

log = logging.getLogger(__name__)

__all__ = [
    "HARM_SAMPLER",
    "PARAMETERS",
    "UNKNOWN_UNIT",
    "BayesianLogisticModel",
    "build_model",
    "diagnostics_record",
    "qr_design",
]

#: Level used for units without a known home LSOA or LSOA-to-unit entry.
UNKNOWN_UNIT = "unknown"

#: The harm model's sampler: fewer draws than the forecast models', smaller steps.
HARM_SAMPLER = SamplerSettings(draws=1000, tune=1000, chains=4, target_accept=0.99)

#: Variables whose every element is checked for convergence.
PARAMETERS = ("intercept", "theta", "beta", "sigma_unit", "z_unit")


def qr_design(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the thin QR factor ``Q`` scaled to unit variance and the matching ``R^-1``.

    Parameters
    ----------
    X : numpy.ndarray
        Standardised design, people by features.

    Returns
    -------
    q : numpy.ndarray
        ``Q * sqrt(n - 1)``: orthogonal columns of unit variance.
    r_inv : numpy.ndarray
        Inverse of ``R / sqrt(n - 1)``, so that ``beta = r_inv @ theta``.
    """
    scale = np.sqrt(max(len(X) - 1, 1))
    q, r = np.linalg.qr(X)
    return q * scale, np.linalg.inv(r / scale)


def build_model(
    q: np.ndarray,
    r_inv: np.ndarray,
    y: np.ndarray,
    unit_index: np.ndarray,
    *,
    features: Sequence[str],
    units: Sequence[str],
    unit_effect: bool = True,
) -> object:
    """Return the PyMC model of the module docstring.

    Parameters
    ----------
    q, r_inv : numpy.ndarray
        From :func:`qr_design`.
    y : numpy.ndarray
        Outcomes (0 or 1), in the data container ``outcome`` (so that a compiled model can
        be reused with other outcomes on the same design).
    unit_index : numpy.ndarray
        Each person's position in ``units``.
    features, units : sequence of str
        Coordinates of ``theta``/``beta`` and of the unit effects.
    unit_effect : bool
        Include the unit effects (False: ``logit P = alpha + X beta``).

    Returns
    -------
    pymc.Model
    """
    import pymc as pm

    coords = {"feature": list(features), "unit": list(units)}
    with pm.Model(coords=coords) as model:
        alpha = pm.Normal("intercept", 0.0, 5.0)
        theta = pm.Normal("theta", 0.0, 1.0, dims="feature")
        pm.Deterministic("beta", pm.math.dot(r_inv, theta), dims="feature")
        eta = alpha + pm.math.dot(q, theta)
        if unit_effect:
            sigma = pm.HalfNormal("sigma_unit", 0.5)
            z = pm.Normal("z_unit", 0.0, 1.0, dims="unit")
            effect = pm.Deterministic("unit_effect", sigma * z, dims="unit")
            eta = eta + effect[unit_index]
        outcome = pm.Data("outcome", np.asarray(y, dtype=int))
        pm.Bernoulli("y", logit_p=eta, observed=outcome)
    return model


def diagnostics_record(diag: Diagnostics, settings: SamplerSettings) -> dict[str, object]:
    """Return the JSON-ready diagnostics of a fit (``bayes_diagnostics.json``).

    Parameters
    ----------
    diag : Diagnostics
        From :func:`analysis.inference.diagnose`.
    settings : SamplerSettings
        The fit's settings (sampler and thresholds).

    Returns
    -------
    dict
        ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``, ``min_bfmi``, ``divergences``,
        ``chains``, ``draws``, the worst parameters, ``sampler``, ``thresholds`` (with
        ``enforced``), ``failures`` and ``seconds``.
    """
    return {
        "max_rhat": diag.max_rhat(),
        "min_ess_bulk": diag.min_ess_bulk(),
        "min_ess_tail": diag.min_ess_tail(),
        "min_bfmi": diag.min_bfmi,
        "divergences": diag.divergences,
        "chains": diag.chains,
        "draws": diag.draws,
        "worst_rhat": diag.worst("r_hat"),
        "worst_ess_bulk": diag.worst("ess_bulk"),
        "worst_ess_tail": diag.worst("ess_tail"),
        "sampler": settings.sampler,
        "thresholds": {
            "max_rhat": settings.max_rhat,
            "min_ess": settings.min_ess,
            "max_divergences": settings.max_divergences,
            "min_bfmi": settings.min_bfmi,
            "enforced": settings.check,
        },
        "failures": list(diag.failures),
        "seconds": dict(diag.seconds),
    }


class BayesianLogisticModel:
    """Hierarchical logistic regression with a varying intercept by offender-management unit.

    Parameters
    ----------
    sampler : SamplerSettings, optional
        Sampler, draws and convergence thresholds; default :data:`HARM_SAMPLER`. Failing
        the thresholds raises unless the settings are in test mode (``check=False``).
    seed : int
        Seed of the sampler and of new units' effects in predictions.
    min_nonzero : int
        Passed to :meth:`Design.fit`.
    max_prediction_draws : int
        Posterior draws used for predictions (thinned evenly).
    """

    name = "bayes_hierarchical"

    def __init__(
        self,
        sampler: SamplerSettings | None = None,
        *,
        seed: int = 0,
        min_nonzero: int = 10,
        max_prediction_draws: int = 1000,
    ) -> None:
        self.sampler = sampler or HARM_SAMPLER
        self.seed = seed
        self.min_nonzero = min_nonzero
        self.max_prediction_draws = max_prediction_draws
        self.design: Design | None = None
        self.units: list[str] = []
        self.idata = None
        self.convergence: Diagnostics | None = None
        self.diagnostics: dict[str, object] = {}
        self.summary: pd.DataFrame | None = None
        self.failures: list[str] = []
        self.sampler_name = ""
        self.unit_effect = True
        self.notes: list[str] = []
        self.guards: list[dict[str, object]] = []

    def fit(
        self, features: pd.DataFrame, y: np.ndarray, units: np.ndarray
    ) -> BayesianLogisticModel:
        """Sample the posterior on the training cohort and check convergence.

        Raises
        ------
        analysis.inference.ConvergenceError
            If r-hat, bulk or tail ESS, divergences or E-BFMI fail the thresholds (unless
            the settings are in test mode).
        """
        import arviz as az

        self.design = Design.fit(features, min_nonzero=self.min_nonzero)
        q, r_inv = qr_design(self.design.matrix(features).to_numpy())
        unit_values = pd.Series(units, dtype="string").fillna(UNKNOWN_UNIT).to_numpy(dtype=str)
        self.units = sorted(set(unit_values))
        idx = np.searchsorted(self.units, unit_values)
        self.unit_effect = len(self.units) > 1
        self.notes, self.guards = [], []
        if not self.unit_effect:
            message = (
                f"every training person is in one unit ({self.units[0]}): the hierarchical "
                "model is fitted without a unit effect (a plain Bayesian logistic regression)"
            )
            self.notes.append(message)
            self.guards.append({"guard": "one_unit", "message": message, "unit": self.units[0]})
        parameters = [
            p for p in PARAMETERS if self.unit_effect or p not in ("sigma_unit", "z_unit")
        ]
        model = build_model(
            q,
            r_inv,
            y,
            idx,
            features=self.design.columns,
            units=self.units,
            unit_effect=self.unit_effect,
        )
        self.sampler_name = self.sampler.sampler
        self.idata, _, seconds = sample(model, self.sampler, seed=self.seed)
        self.convergence = diagnose(self.idata, self.sampler, parameters=tuple(parameters))
        self.convergence.seconds = seconds
        self.summary = az.summary(self.idata, var_names=parameters, hdi_prob=0.95, round_to="none")
        self.diagnostics = diagnostics_record(self.convergence, self.sampler)
        self.failures = require_convergence(
            self.convergence, self.sampler, what="The Bayesian harm model"
        )
        return self

    def _draws(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self.idata is None or self.design is None:
            raise RuntimeError("the model is not fitted")
        post = self.idata.posterior.stack(sample=("chain", "draw"))
        n = post.sizes["sample"]
        take = np.unique(np.linspace(0, n - 1, min(n, self.max_prediction_draws)).astype(int))
        alpha = post["intercept"].to_numpy()[take]
        beta = post["beta"].transpose("sample", "feature").to_numpy()[take]
        if not self.unit_effect:
            zeros = np.zeros(len(take))
            return alpha, beta, zeros, np.zeros((len(take), len(self.units)))
        sigma = post["sigma_unit"].to_numpy()[take]
        effect = post["unit_effect"].transpose("sample", "unit").to_numpy()[take]
        return alpha, beta, sigma, effect

    def predict(self, features: pd.DataFrame, units: np.ndarray) -> np.ndarray:
        """Return posterior mean probabilities.

        A unit not seen in training gets a new unit effect drawn from the fitted
        population of units (so its uncertainty is carried into the probability).
        """
        alpha, beta, sigma, effect = self._draws()
        X = self.design.matrix(features).to_numpy()
        unit_values = pd.Series(units, dtype="string").fillna(UNKNOWN_UNIT).to_numpy(dtype=str)
        known = np.isin(unit_values, self.units)
        idx = np.searchsorted(self.units, np.where(known, unit_values, self.units[0]))
        rng = np.random.default_rng(self.seed)
        new = sigma * rng.standard_normal(len(sigma))
        u = np.where(known[None, :], effect[:, idx], new[:, None])
        eta = alpha[:, None] + beta @ X.T + u
        return (1.0 / (1.0 + np.exp(-eta))).mean(axis=0)

    def coefficients(self) -> pd.DataFrame:
        """Return the posterior summary with plain-language labels (committee level)."""
        if self.summary is None or self.design is None:
            raise RuntimeError("the model is not fitted")
        table = self.summary.reset_index(names="term")
        labels = []
        for term in table["term"]:
            if term.startswith("beta["):
                labels.append(feature_label(term[5:-1]))
            elif term.startswith("theta["):
                labels.append(f"orthogonalised coefficient {term[6:-1]} (sampled)")
            elif term.startswith("z_unit["):
                labels.append(f"standardised effect of unit {term[7:-1]}")
            elif term == "sigma_unit":
                labels.append("spread of unit effects (log-odds)")
            else:
                labels.append("intercept (log-odds at the training means)")
        table.insert(1, "label", labels)
        return table

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return contributions to the log-odds at the posterior mean coefficients."""
        _, beta, _, _ = self._draws()
        X = self.design.matrix(features)
        return pd.DataFrame(
            X.to_numpy() * beta.mean(axis=0), index=X.index, columns=self.design.columns
        )
