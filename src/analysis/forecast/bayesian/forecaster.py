"""The Bayesian models as harness forecasters: fit at each origin, forecast the next period.

:class:`BayesianForecaster` takes a :class:`ModelSpec` and :class:`SamplerSettings` by
parameter (the registry's ``bayes:spatial=icar,interaction=icar,...``). At each origin it
fits the last ``window`` periods before the origin (periods without counts, before the data
or incomplete at a monthly forecast's cut-off, padded and masked), checks
convergence (raising :class:`ConvergenceError` unless in test mode) and returns the posterior
predictive of the origin period as a :class:`MixtureCountDistribution`. The compiled model
is reused across origins of the same units, as only the data change.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis.forecast.base import Forecaster
from analysis.forecast.bayesian.checks import posterior_predictive_checks
from analysis.forecast.bayesian.graph import build_model, model_data
from analysis.forecast.bayesian.predictive import next_period_rates
from analysis.forecast.bayesian.spec import HYPERPARAMETERS, ModelSpec
from analysis.forecast.bayesian.structure import SpatialStructure, spatial_structure
from analysis.forecast.mixture import MixtureCountDistribution
from analysis.forecast.panel import ForecastContext, season_of
from analysis.inference import (
    Diagnostics,
    SamplerSettings,
    diagnose,
    require_convergence,
    sample,
)
from analysis.testmode import BANNER

__all__ = ["HYPERPARAMETERS", "LATENTS", "BayesianForecaster"]

log = logging.getLogger("analysis.forecast")

#: Latent fields summarised by their worst element (not each checked against the ESS floor).
LATENTS = ("tau", "season_effect", "space_effect", "level_now")
#: Variables kept in the trace: what forecasts and diagnostics need.
KEEP = (
    "b0",
    "sigma_time",
    "phi_time",
    "tau",
    "sigma_season",
    "season_effect",
    "sigma_space",
    "rho_space",
    "space_effect",
    "sigma_level",
    "level_now",
    "inv_sqrt_size",
    "size",
    "beta",
    "mu_unit",
    "mu_period",
    "mu_unit_selected",
    "mu2_unit",
    "mu2_period",
    "mu2_unit_selected",
)
_SPEC_FIELDS = {f.name for f in fields(ModelSpec)}
_SAMPLER_FIELDS = {f.name for f in fields(SamplerSettings)}


def _blocks(value: object) -> tuple[int, ...]:
    """Parse block lengths given as a tuple or as text such as ``"6/4/2/1/1"``."""
    if isinstance(value, int | float):
        return (int(value),)
    if isinstance(value, str):
        return tuple(int(v) for v in value.replace("-", "/").split("/") if v)
    return tuple(int(v) for v in value)  # type: ignore[union-attr]


@dataclass
class BayesianForecaster(Forecaster):
    """A Bayesian spatio-temporal count model in the backtest harness.

    Attributes
    ----------
    spec : ModelSpec
        The model.
    settings : SamplerSettings
        Sampler and convergence thresholds.
    seed : int
        Base seed; origin ``o`` is fitted with ``seed + o``.
    predictive_draws : int
        Posterior draws kept in each forecast mixture.
    retries : int
        Reruns of a fit that fails the convergence checks, each with twice the draws and
        ``target_accept`` raised to 0.99 (smaller steps, fewer divergences), before
        :class:`ConvergenceError` is raised.
    test_mode : bool
        Tiny fits for tests: convergence checks off and every output labelled with
        :data:`analysis.testmode.BANNER`.
    fits : list of dict
        One record per fit: origin, diagnostics and timings.
    checks : dict of int to pandas.DataFrame
        Posterior predictive checks of each origin's fitted window (see
        :mod:`analysis.forecast.bayesian.checks`).
    """

    name: str = "bayes"
    min_history: int = 13
    spec: ModelSpec = field(default_factory=ModelSpec)
    settings: SamplerSettings = field(default_factory=SamplerSettings)
    seed: int = 0
    predictive_draws: int = 400
    retries: int = 1
    test_mode: bool = False
    fits: list[dict[str, object]] = field(default_factory=list, repr=False)
    checks: dict[int, pd.DataFrame] = field(default_factory=dict, repr=False)
    _cache: dict[tuple[object, ...], object] = field(default_factory=dict, repr=False)

    @classmethod
    def from_params(cls, **params: object) -> BayesianForecaster:
        """Build from flat parameters (model, sampler and forecaster fields mixed).

        ``test_mode=1`` turns the convergence checks off, sets small sampler defaults
        (:meth:`SamplerSettings.for_test_mode`: 2 chains of 200 draws after 300 warm-up,
        unless given) and labels the name.
        """
        spec_kw = {k: params.pop(k) for k in list(params) if k in _SPEC_FIELDS}
        if "recent_blocks" in spec_kw:
            spec_kw["recent_blocks"] = _blocks(spec_kw["recent_blocks"])
        if "seasonal" in spec_kw:
            spec_kw["seasonal"] = bool(spec_kw["seasonal"])
        samp_kw = {k: params.pop(k) for k in list(params) if k in _SAMPLER_FIELDS}
        test = bool(params.pop("test_mode", False))
        for key in ("low_rank_mass_matrix", "check", "stop_early"):
            if key in samp_kw:
                samp_kw[key] = bool(samp_kw[key])
        unknown = set(params) - {"seed", "predictive_draws", "retries", "name", "min_history"}
        if unknown:
            allowed = sorted(_SPEC_FIELDS | _SAMPLER_FIELDS | {"seed", "predictive_draws"})
            raise TypeError(f"unknown parameter(s) {sorted(unknown)}; allowed: {allowed}")
        make = SamplerSettings.for_test_mode if test else SamplerSettings
        model = cls(
            spec=ModelSpec(**spec_kw),  # type: ignore[arg-type]
            settings=make(**samp_kw),  # type: ignore[arg-type]
            test_mode=test,
            **params,  # type: ignore[arg-type]
        )
        if test:
            model.name = f"{model.name} [{BANNER}]"
        return model

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the posterior predictive mean per unit."""
        return self.predict(ctx).mean

    def _structure(self, ctx: ForecastContext) -> SpatialStructure:
        # Keyed by the graph's content: an id() can be reused by another matrix.
        graph = sp.csr_matrix(ctx.neighbours)
        digest = hashlib.sha256(np.asarray(graph.shape, dtype=np.int64).tobytes())
        digest.update(graph.indptr.astype(np.int64).tobytes())
        digest.update(graph.indices.astype(np.int64).tobytes())
        key = ("structure", digest.hexdigest())
        if key not in self._cache:
            self._cache.clear()
            self._cache[key] = spatial_structure(ctx.neighbours)
        return self._cache[key]  # type: ignore[return-value]

    def window_data(self, ctx: ForecastContext) -> dict[str, np.ndarray]:
        """Return the window's counts, mask, seasons and offsets for ``ctx``.

        The window is the ``window`` periods before the origin, placed by
        ``ctx.periods``: a period the context has no counts for is masked.

        When the units were chosen by having an offence before ``ctx.selected_before``,
        also ``selection_span`` (the window's periods before it) and ``selection_needed``
        (the units with no offence before it outside the window's periods, whose offence
        must then fall in the window), for the posterior predictive checks; otherwise
        both are None.
        """
        w = self.spec.window
        # Each column is the window's period ``origin - w + j``: periods without counts
        # (before the data, or an incomplete period at the data's cut-off just before a
        # monthly forecast's origin) are 0 and masked out of the likelihood.
        periods = np.arange(ctx.origin - w, ctx.origin)
        pos = np.asarray(ctx.periods) - periods[0]
        have = (pos >= 0) & (pos < w)
        counts = np.zeros((ctx.n_units, w), dtype=ctx.counts.dtype)
        counts[:, pos[have]] = ctx.counts[:, have]
        observed = np.zeros(w)
        observed[pos[have]] = 1.0
        span = needed = None
        if ctx.selected_before is not None:
            span = (periods < ctx.selected_before).astype(float) * observed
            # From the events, not the counts: the selection also saw periods the counts
            # leave out (an incomplete period at the data's cut-off).
            ev = ctx.events
            period = ctx.period_of(ev["t"].to_numpy())
            inside = np.isin(period, periods[observed > 0])
            outside = (period < ctx.selected_before) & ~inside & (ev["unit"].to_numpy() >= 0)
            seen = np.bincount(ev["unit"].to_numpy()[outside], minlength=ctx.n_units)
            needed = seen == 0
        if self.spec.offset == "area":
            log_offset = np.log(ctx.units["area_km2"].to_numpy(dtype=float))
        else:
            log_offset = np.zeros(ctx.n_units)
        covariates = None
        if self.spec.covariates:
            if ctx.covariates is None:
                raise ValueError(f"{self.name} needs covariates {self.spec.covariates}")
            x = ctx.covariates[list(self.spec.covariates)].to_numpy(dtype=float)
            covariates = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1)
        return {
            "counts": counts,
            "observed": observed,
            "season": season_of(periods, ctx.periods_per_year),
            "log_offset": log_offset,
            "covariates": covariates,  # type: ignore[dict-item]
            "selection_span": span,  # type: ignore[dict-item]
            "selection_needed": needed,  # type: ignore[dict-item]
        }

    def fit(self, ctx: ForecastContext) -> tuple[object, dict[str, np.ndarray], object]:
        """Fit the model at ``ctx``'s origin; return the trace, window data and diagnostics.

        Raises
        ------
        ConvergenceError
            If the fit fails the convergence thresholds (not in test mode).
        """
        structure = self._structure(ctx)
        data = self.window_data(ctx)
        span = data["selection_span"]
        year = ctx.periods_per_year
        key = ("model", structure.key, self.spec, self.settings.sampler, span is not None, year)
        values = model_data(
            self.spec,
            data["counts"],
            data["observed"],
            data["season"],
            data["log_offset"],
            span,
            periods_per_year=year,
        )
        if data["observed"].sum() < self.spec.window / 2:
            log.warning(
                "%s: only %d of the window's %d periods have data; consider window=%d",
                self.name,
                int(data["observed"].sum()),
                self.spec.window,
                int(data["observed"].sum()),
            )
        if key not in self._cache:
            model = build_model(
                self.spec,
                structure,
                **{k: v for k, v in data.items() if k != "selection_needed"},
                periods_per_year=year,
            )
            self._cache[key] = (model, None)
            fresh = None
        else:
            fresh = values
        model, compiled = self._cache[key]  # type: ignore[misc]
        keep = [v for v in KEEP if v in model.named_vars]
        settings = self.settings
        for attempt in range(self.retries + 1):
            idata, compiled, seconds = sample(
                model,
                settings,
                seed=self.seed + int(ctx.origin) + 7919 * attempt,
                compiled=compiled,
                data=fresh,
                var_names=keep,
                parameters=HYPERPARAMETERS,
                latents=LATENTS,
            )
            self._cache[key] = (model, compiled)
            diag = diagnose(idata, settings, parameters=HYPERPARAMETERS, latents=LATENTS)
            diag.seconds = seconds
            padded = int(self.spec.window - data["observed"].sum())
            row = self._record(ctx, diag, seconds, attempt, settings, padded)
            row["static_field_centred"] = float(values.get("w_space", np.nan))
            self.fits.append(row)
            if diag.converged or not settings.check or attempt == self.retries:
                break
            log.warning(
                "%s at origin %s: not converged (%s); rerunning with twice the draws and "
                "target_accept 0.99",
                self.name,
                ctx.origin,
                "; ".join(diag.failures),
            )
            settings = replace(
                settings, draws=2 * settings.draws, target_accept=max(settings.target_accept, 0.99)
            )
        require_convergence(diag, settings, what=f"{self.name} at origin {ctx.origin}")
        if diag.failures:
            log.warning("%s: convergence checks off; failures: %s", self.name, diag.failures)
        data["centre"] = values["centre"]
        return idata, data, diag

    def _record(
        self,
        ctx: ForecastContext,
        diag: Diagnostics,
        seconds: dict[str, float],
        attempt: int,
        settings: SamplerSettings,
        padded: int,
    ) -> dict[str, object]:
        """Return one row of the fit log (``padded``: window periods without counts)."""
        return {
            "model": self.name,
            "origin": int(ctx.origin),
            "padded_periods": padded,
            "attempt": attempt,
            "draws": diag.draws,
            "max_draws": settings.draws,
            "chains": settings.chains,
            "converged": diag.converged,
            "divergences": diag.divergences,
            "min_ess_bulk": diag.min_ess_bulk(),
            "min_ess_tail": diag.min_ess_tail(),
            "max_rhat": diag.max_rhat(),
            "mean_steps": diag.mean_steps,
            "min_bfmi": diag.min_bfmi,
            **{f"{k}_seconds": v for k, v in seconds.items()},
            "failures": "; ".join(diag.failures),
            "test_mode": self.test_mode,
        }

    def predict(self, ctx: ForecastContext) -> MixtureCountDistribution:  # type: ignore[override]
        """Fit at the origin and return the posterior predictive of the origin period."""
        idata, data, _ = self.fit(ctx)
        self.checks[int(ctx.origin)] = posterior_predictive_checks(
            idata,
            data["counts"],
            data["observed"],
            np.random.default_rng([self.seed, int(ctx.origin), 1]),
            likelihood=self.spec.likelihood,
            selection_needed=data["selection_needed"],
        )
        rng = np.random.default_rng([self.seed, int(ctx.origin)])
        return next_period_rates(
            idata,
            self.spec,
            log_offset=data["log_offset"],
            centre=float(data["centre"]),
            season=int(season_of(ctx.origin, ctx.periods_per_year)),
            covariates=data["covariates"],
            n_draws=self.predictive_draws,
            rng=rng,
            periods_per_year=ctx.periods_per_year,
        )
