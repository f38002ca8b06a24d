"""How to sample a Bayesian model, and what counts as converged: one settings object.

Both model families (the forecast count models and the harm-escalation regression) take
a :class:`SamplerSettings`. Its defaults are the forecast models'; a family with other
needs builds its own instance (the harm model's ``HARM_SAMPLER``). The random seed is not
a setting: it is an argument of :func:`analysis.inference.sample`, so that one settings
object serves many seeded fits. The convergence checks can be turned off only by an
explicit test mode, :meth:`SamplerSettings.for_test_mode`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from analysis.testmode import SAMPLER

__all__ = ["TEST_MODE_SAMPLER", "SamplerSettings"]

#: What test mode changes: few draws, two chains, the convergence checks off (the policy
#: lives with the rest of test mode, :mod:`analysis.testmode`).
TEST_MODE_SAMPLER = SAMPLER


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample, and what counts as converged.

    Attributes
    ----------
    sampler : {"nutpie", "pymc"}
        nutpie (Rust NUTS on a numba-compiled model) or PyMC's own NUTS.
    draws, tune, chains : int
        Kept draws (at most, with checkpoints) and warm-up iterations per chain, and the
        number of chains.
    stop_early : bool
        Stop at the first checkpoint whose draws pass every check (nutpie only; off by
        default: the looks cost more than they save on small panels).
    min_draws, checkpoint_every : int
        First checkpoint and the draws between checkpoints (with ``stop_early``);
        ``min_draws >= draws`` leaves none.
    cores : int
        Chains run at once (with checkpoints every chain runs at once, so that they
        reach each checkpoint together; the operating system shares the cores).
    target_accept : float
        Step-size adaptation target.
    low_rank_mass_matrix : bool
        nutpie's low-rank modified mass matrix (helps correlated parameters).
    max_rhat : float
        Largest R-hat (rank-normalised, split, unrounded) of a checked parameter.
    min_ess : float
        Smallest bulk and smallest tail ESS of a checked parameter.
    max_divergences : int
        Divergent transitions allowed after warm-up.
    max_rhat_latent : float
        Largest R-hat of any element of a latent field (summarised, not each checked
        against the ESS floor).
    min_bfmi : float
        Smallest energy Bayesian fraction of missing information (E-BFMI) of a chain.
    check : bool
        Raise :class:`~analysis.inference.ConvergenceError` on failure. Only test mode
        turns this off.
    """

    sampler: Literal["nutpie", "pymc"] = "nutpie"
    draws: int = 3500
    tune: int = 1000
    chains: int = 4
    stop_early: bool = False
    min_draws: int = 1000
    checkpoint_every: int = 500
    cores: int = 2
    target_accept: float = 0.95
    low_rank_mass_matrix: bool = False
    max_rhat: float = 1.01
    min_ess: float = 400.0
    max_divergences: int = 0
    max_rhat_latent: float = 1.02
    min_bfmi: float = 0.3
    check: bool = True

    @classmethod
    def for_test_mode(
        cls, base: SamplerSettings | None = None, **overrides: object
    ) -> SamplerSettings:
        """Return tiny settings for tests, with the convergence checks off.

        Parameters
        ----------
        base : SamplerSettings, optional
            Settings whose other fields (sampler, target acceptance, thresholds, ...) are
            kept; the defaults when None.
        **overrides
            Fields set after the test-mode ones (:data:`TEST_MODE_SAMPLER`); ``check``
            stays False whatever is given.

        Returns
        -------
        SamplerSettings
            Results from these settings are not for use.
        """
        fields = {**TEST_MODE_SAMPLER, **overrides, "check": False}
        return replace(base or cls(), **fields)  # type: ignore[arg-type]
