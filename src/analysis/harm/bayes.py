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

Sampling uses nutpie (``pm.sample(nuts_sampler="nutpie")``) when it is installed, else
PyMC's own NUTS. After sampling, r-hat, bulk ESS and divergences are checked against
:class:`DiagnosticThresholds`, and :class:`ConvergenceError` is raised when any fails: an
unconverged posterior is never used silently. Test mode (small draws) must be asked for
explicitly and switches enforcement off, and every output of such a run is stamped.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.harm.design import Design, feature_label

log = logging.getLogger(__name__)

#: Level used for units without a known home LSOA or LSOA-to-unit entry.
UNKNOWN_UNIT = "unknown"


class ConvergenceError(RuntimeError):
    """The sampler's diagnostics failed the thresholds."""


@dataclass(frozen=True)
class SamplerSettings:
    """Draws, tuning steps, chains, target acceptance and seed of the sampler."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.99
    seed: int = 0

    @classmethod
    def test_mode(cls, seed: int = 0) -> SamplerSettings:
        """Return tiny settings for tests (results are not for use)."""
        return cls(draws=150, tune=150, chains=2, target_accept=0.95, seed=seed)


@dataclass(frozen=True)
class DiagnosticThresholds:
    """Convergence requirements; ``enforce=False`` only in explicit test mode."""

    max_rhat: float = 1.01
    min_ess_bulk: float = 400.0
    max_divergences: int = 0
    enforce: bool = True


def diagnostics(idata: object, var_names: list[str]) -> tuple[dict[str, object], pd.DataFrame]:
    """Return the sampler diagnostics and the per-parameter summary.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior with ``sample_stats.diverging``.
    var_names : list of str
        Parameters to check.

    Returns
    -------
    summary : dict
        ``max_rhat``, ``min_ess_bulk``, ``min_ess_tail``, ``divergences``, ``chains``,
        ``draws``, and the worst parameters.
    table : pandas.DataFrame
        ArviZ summary of the parameters (mean, sd, HDI, r-hat, ESS).
    """
    import arviz as az

    table = az.summary(idata, var_names=var_names, hdi_prob=0.95, round_to="none")
    diverging = idata.sample_stats["diverging"].to_numpy()
    post = idata.posterior
    out = {
        "max_rhat": float(table["r_hat"].max()),
        "min_ess_bulk": float(table["ess_bulk"].min()),
        "min_ess_tail": float(table["ess_tail"].min()),
        "divergences": int(diverging.sum()),
        "chains": int(post.sizes["chain"]),
        "draws": int(post.sizes["draw"]),
        "worst_rhat": str(table["r_hat"].idxmax()),
        "worst_ess_bulk": str(table["ess_bulk"].idxmin()),
    }
    return out, table


def check_convergence(diag: dict[str, object], thresholds: DiagnosticThresholds) -> list[str]:
    """Compare diagnostics with the thresholds.

    Returns
    -------
    list of str
        The failures (empty when all pass).

    Raises
    ------
    ConvergenceError
        If any check fails and ``thresholds.enforce`` is set.
    """
    failures = []
    if not diag["max_rhat"] <= thresholds.max_rhat:  # NaN fails too
        failures.append(
            f"r-hat {diag['max_rhat']:.4f} > {thresholds.max_rhat} ({diag['worst_rhat']})"
        )
    if not diag["min_ess_bulk"] >= thresholds.min_ess_bulk:
        failures.append(
            f"bulk ESS {diag['min_ess_bulk']:.0f} < {thresholds.min_ess_bulk:g} "
            f"({diag['worst_ess_bulk']})"
        )
    if diag["divergences"] > thresholds.max_divergences:
        failures.append(f"{diag['divergences']} divergences > {thresholds.max_divergences}")
    if failures and thresholds.enforce:
        raise ConvergenceError(
            "Bayesian model did not converge: "
            + "; ".join(failures)
            + ". Increase draws/tune or target_accept, or simplify the model."
        )
    return failures


class BayesianLogisticModel:
    """Hierarchical logistic regression with a varying intercept by offender-management unit.

    Parameters
    ----------
    sampler : SamplerSettings, optional
        Draws, tune, chains, target acceptance, seed.
    thresholds : DiagnosticThresholds, optional
        Convergence requirements (raise on failure unless ``enforce=False``).
    min_nonzero : int
        Passed to :meth:`Design.fit`.
    max_prediction_draws : int
        Posterior draws used for predictions (thinned evenly).
    """

    name = "bayes_hierarchical"

    def __init__(
        self,
        sampler: SamplerSettings | None = None,
        thresholds: DiagnosticThresholds | None = None,
        *,
        min_nonzero: int = 10,
        max_prediction_draws: int = 1000,
    ) -> None:
        self.sampler = sampler or SamplerSettings()
        self.thresholds = thresholds or DiagnosticThresholds()
        self.min_nonzero = min_nonzero
        self.max_prediction_draws = max_prediction_draws
        self.design: Design | None = None
        self.units: list[str] = []
        self.idata = None
        self.diagnostics: dict[str, object] = {}
        self.summary: pd.DataFrame | None = None
        self.failures: list[str] = []
        self.sampler_name = ""

    def fit(
        self, features: pd.DataFrame, y: np.ndarray, units: np.ndarray
    ) -> BayesianLogisticModel:
        """Sample the posterior on the training cohort and check convergence.

        Raises
        ------
        ConvergenceError
            If r-hat, bulk ESS or divergences fail the thresholds (when enforced).
        """
        import pymc as pm

        self.design = Design.fit(features, min_nonzero=self.min_nonzero)
        X = self.design.matrix(features).to_numpy()
        scale = np.sqrt(max(len(X) - 1, 1))
        q, r = np.linalg.qr(X)
        q, r = q * scale, r / scale
        r_inv = np.linalg.inv(r)
        unit_values = pd.Series(units, dtype="string").fillna(UNKNOWN_UNIT).to_numpy(dtype=str)
        self.units = sorted(set(unit_values))
        idx = np.searchsorted(self.units, unit_values)
        coords = {"feature": self.design.columns, "unit": self.units}
        with pm.Model(coords=coords):
            alpha = pm.Normal("intercept", 0.0, 5.0)
            theta = pm.Normal("theta", 0.0, 1.0, dims="feature")
            pm.Deterministic("beta", pm.math.dot(r_inv, theta), dims="feature")
            sigma = pm.HalfNormal("sigma_unit", 0.5)
            z = pm.Normal("z_unit", 0.0, 1.0, dims="unit")
            effect = pm.Deterministic("unit_effect", sigma * z, dims="unit")
            eta = alpha + pm.math.dot(q, theta) + effect[idx]
            pm.Bernoulli("y", logit_p=eta, observed=np.asarray(y, dtype=int))
            kwargs = {
                "draws": self.sampler.draws,
                "tune": self.sampler.tune,
                "chains": self.sampler.chains,
                "target_accept": self.sampler.target_accept,
                "random_seed": self.sampler.seed,
                "progressbar": False,
            }
            if importlib.util.find_spec("nutpie") is not None:
                self.sampler_name = "nutpie"
                self.idata = pm.sample(nuts_sampler="nutpie", **kwargs)
            else:  # pragma: no cover - nutpie is a dependency
                log.warning("nutpie is not installed: sampling with PyMC's NUTS")
                self.sampler_name = "pymc"
                self.idata = pm.sample(**kwargs)
        self.diagnostics, self.summary = diagnostics(
            self.idata, ["intercept", "theta", "beta", "sigma_unit", "z_unit"]
        )
        self.diagnostics["sampler"] = self.sampler_name
        self.diagnostics["thresholds"] = {
            "max_rhat": self.thresholds.max_rhat,
            "min_ess_bulk": self.thresholds.min_ess_bulk,
            "max_divergences": self.thresholds.max_divergences,
            "enforced": self.thresholds.enforce,
        }
        self.failures = check_convergence(self.diagnostics, self.thresholds)
        self.diagnostics["failures"] = self.failures
        return self

    def _draws(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self.idata is None or self.design is None:
            raise RuntimeError("the model is not fitted")
        post = self.idata.posterior.stack(sample=("chain", "draw"))
        n = post.sizes["sample"]
        take = np.unique(np.linspace(0, n - 1, min(n, self.max_prediction_draws)).astype(int))
        alpha = post["intercept"].to_numpy()[take]
        beta = post["beta"].transpose("sample", "feature").to_numpy()[take]
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
        rng = np.random.default_rng(self.sampler.seed)
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
