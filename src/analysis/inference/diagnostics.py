"""Convergence diagnostics of a fit, and the one error an unconverged fit raises.

Every fit reports, for each checked parameter (each element of a vector parameter) its
R-hat (rank-normalised, split, unrounded), bulk and tail ESS; for each latent field its
worst R-hat and smallest bulk and tail ESS; and for the run the divergences, the share
of draws at the maximum tree depth, the mean leapfrog steps and the E-BFMI per chain.
:func:`diagnose` lists what fails the thresholds of a
:class:`~analysis.inference.SamplerSettings`: a parameter's R-hat above ``max_rhat`` or
bulk or tail ESS below ``min_ess``, a latent field's worst R-hat above
``max_rhat_latent``, more than ``max_divergences`` divergences, or a chain's E-BFMI below
``min_bfmi``. Which names are parameters and which are latent fields is the caller's
(each model family knows its own). :func:`require_convergence` raises
:class:`ConvergenceError` on any failure unless the settings are in test mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import arviz as az
import numpy as np
import pandas as pd

from analysis.inference.settings import SamplerSettings

__all__ = ["ConvergenceError", "Diagnostics", "diagnose", "require_convergence"]

#: Advice appended to every convergence error.
ADVICE = "Increase draws/tune or target_accept, or simplify the model."


@dataclass
class Diagnostics:
    """Convergence diagnostics of one fit.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per checked parameter element (``kind`` ``"parameter"``) and per latent
        field (``kind`` ``"latent"``, its worst element), with ``parameter``, ``r_hat``,
        ``ess_bulk``, ``ess_tail``.
    divergences : int
        Divergent transitions after warm-up.
    bfmi : list of float
        E-BFMI per chain (empty when the trace has no energy).
    max_tree_depth_share : float
        Share of draws that hit the maximum tree depth (nutpie) or ``nan``.
    mean_steps : float
        Mean leapfrog steps per draw (gradient evaluations).
    draws : int
        Kept draws per chain.
    chains : int
        Chains.
    seconds : dict of str to float
        ``compile`` and ``sample`` wall time.
    failures : list of str
        What failed the checks (empty when converged).
    """

    table: pd.DataFrame
    divergences: int
    bfmi: list[float]
    max_tree_depth_share: float
    mean_steps: float
    draws: int = 0
    chains: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    def _rows(self, parameters_only: bool) -> pd.DataFrame:
        t = self.table
        return t[t["kind"] == "parameter"] if parameters_only else t

    def min_ess_bulk(self, parameters_only: bool = True) -> float:
        """Return the smallest bulk ESS (over the checked parameters by default)."""
        return float(self._rows(parameters_only)["ess_bulk"].min())

    def min_ess_tail(self, parameters_only: bool = True) -> float:
        """Return the smallest tail ESS (over the checked parameters by default)."""
        return float(self._rows(parameters_only)["ess_tail"].min())

    def max_rhat(self, parameters_only: bool = False) -> float:
        """Return the largest R-hat (over parameters and latent fields by default)."""
        return float(self._rows(parameters_only)["r_hat"].max())

    def worst(self, column: str, parameters_only: bool = True) -> str:
        """Return the name of the element with the worst ``r_hat``, ``ess_bulk`` or ``ess_tail``.

        Returns an empty string when there is no row (or every value is missing).
        """
        rows = self._rows(parameters_only).dropna(subset=[column])
        if rows.empty:
            return ""
        pick = rows[column].idxmax() if column == "r_hat" else rows[column].idxmin()
        return str(rows.loc[pick, "parameter"])

    @property
    def min_bfmi(self) -> float:
        """Return the smallest E-BFMI of a chain (``nan`` when not computed)."""
        return min(self.bfmi) if self.bfmi else float("nan")

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready summary."""
        out = asdict(self)
        out["table"] = self.table.to_dict(orient="records")
        return out


class ConvergenceError(RuntimeError):
    """A Bayesian fit that did not converge; carries its :class:`Diagnostics`."""

    def __init__(self, message: str, diagnostics: Diagnostics) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


def diagnose(
    idata: az.InferenceData,
    settings: SamplerSettings,
    *,
    parameters: Sequence[str],
    latents: Sequence[str] = (),
    latent_ess: bool = True,
) -> Diagnostics:
    """Compute the diagnostics of a fit and list what fails the thresholds.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior and sample stats.
    settings : SamplerSettings
        Thresholds.
    parameters : sequence of str
        Variables whose every element is checked (R-hat, bulk and tail ESS); those not
        in the posterior are skipped.
    latents : sequence of str
        Latent fields summarised by their worst element (R-hat checked against
        ``max_rhat_latent``, ESS reported only); those not in the posterior are skipped.
    latent_ess : bool
        Compute the latent fields' ESS (``nan`` when False, which halves the time a
        checkpoint takes for fields of thousands of cells).

    Returns
    -------
    Diagnostics
    """
    post = idata.posterior
    rows = []
    checked = [name for name in parameters if name in post]
    if checked:
        summ = az.summary(idata, var_names=checked, kind="diagnostics", round_to="none")
        for label, r in summ.iterrows():
            rows.append(("parameter", str(label), r["r_hat"], r["ess_bulk"], r["ess_tail"]))
    for name in latents:
        if name not in post:
            continue
        rhat = np.nanmax(az.rhat(post[name]).to_array().values)
        ess = tail = np.nan
        if latent_ess:
            ess = np.nanmin(az.ess(post[name], method="bulk").to_array().values)
            tail = np.nanmin(az.ess(post[name], method="tail").to_array().values)
        rows.append(("latent", name, rhat, ess, tail))
    table = pd.DataFrame(rows, columns=["kind", "parameter", "r_hat", "ess_bulk", "ess_tail"])
    stats = idata.sample_stats if "sample_stats" in idata else {}
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    try:
        bfmi = [float(v) for v in az.bfmi(idata)]
    except (AttributeError, KeyError, ValueError, TypeError):
        bfmi = []
    depth = float(stats["maxdepth_reached"].mean()) if "maxdepth_reached" in stats else np.nan
    steps = np.nan
    for key in ("n_steps", "tree_size"):
        if key in stats:
            steps = float(stats[key].mean())
            break
    failures = []
    for _, r in table[table["kind"] == "parameter"].iterrows():
        name = r["parameter"]
        if not r["r_hat"] <= settings.max_rhat:  # NaN fails too
            failures.append(f"{name}: r-hat {r['r_hat']:.3f} > {settings.max_rhat}")
        if not r["ess_bulk"] >= settings.min_ess:
            failures.append(f"{name}: bulk ESS {r['ess_bulk']:.0f} < {settings.min_ess:g}")
        if not r["ess_tail"] >= settings.min_ess:
            failures.append(f"{name}: tail ESS {r['ess_tail']:.0f} < {settings.min_ess:g}")
    for _, r in table[table["kind"] == "latent"].iterrows():
        if not r["r_hat"] <= settings.max_rhat_latent:
            failures.append(
                f"{r['parameter']}: worst r-hat {r['r_hat']:.3f} > {settings.max_rhat_latent}"
            )
    if divergences > settings.max_divergences:
        failures.append(f"{divergences} divergent transitions (allowed {settings.max_divergences})")
    if bfmi and not min(bfmi) >= settings.min_bfmi:
        failures.append(
            f"E-BFMI {min(bfmi):.2f} < {settings.min_bfmi:g} (energy: poor exploration)"
        )
    return Diagnostics(
        table=table,
        divergences=divergences,
        bfmi=bfmi,
        max_tree_depth_share=depth,
        mean_steps=steps,
        draws=int(post.sizes.get("draw", 0)),
        chains=int(post.sizes.get("chain", 0)),
        failures=failures,
    )


def require_convergence(
    diagnostics: Diagnostics, settings: SamplerSettings, *, what: str = "the Bayesian model"
) -> list[str]:
    """Raise unless the fit converged or the settings are in test mode.

    Parameters
    ----------
    diagnostics : Diagnostics
        From :func:`diagnose`.
    settings : SamplerSettings
        ``check=False`` (test mode only) reports failures without raising.
    what : str
        The fit, named in the error (``"knife at origin 40"``).

    Returns
    -------
    list of str
        The failures (empty when converged; reported, not raised, in test mode).

    Raises
    ------
    ConvergenceError
        If anything failed and ``settings.check`` is set.
    """
    failures = list(diagnostics.failures)
    if failures and settings.check:
        raise ConvergenceError(
            f"{what} did not converge: " + "; ".join(failures) + ". " + ADVICE, diagnostics
        )
    return failures
