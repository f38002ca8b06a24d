"""Test mode, in one place: its banner and what it shrinks.

A run in test mode is small and fast and every output says so: the Bayesian models get a
tiny fit with the convergence checks off, draws and bootstrap resamples are capped, and
every page, table and file carries :data:`BANNER`. This module imports nothing else of
the package, so every stage may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Banner on every output of a test-mode run.
BANNER = "TEST MODE - not for use"

#: What test mode does to a Bayesian sampler (``SamplerSettings.for_test_mode``): few
#: draws, two chains; the convergence checks are off.
SAMPLER = {"draws": 200, "tune": 300, "chains": 2}

#: Models with an explicit test mode (tiny fits, checks off, every output bannered).
MODELS_WITH_TEST_MODE = ("bayes",)


@dataclass(frozen=True)
class TestMode:
    """The test-mode policy.

    Attributes
    ----------
    on : bool
        Whether the run is in test mode.
    max_draws : int
        Simulated draws of a forecast's summaries.
    max_boot : int
        Bootstrap resamples.
    """

    __test__ = False  # not a pytest test class

    on: bool = False
    max_draws: int = 200
    max_boot: int = 100

    def draws(self, draws: int) -> int:
        """Simulated draws to use."""
        return min(draws, self.max_draws) if self.on else draws

    def n_boot(self, n_boot: int) -> int:
        """Bootstrap resamples to use."""
        return min(n_boot, self.max_boot) if self.on else n_boot

    def model_spec(self, spec: str) -> str:
        """A forecaster spec with ``test_mode=1`` added where its model has a test mode.

        Baselines are fast at any size and have no test mode, so their specs come back
        unchanged; a spec that already sets ``test_mode`` is left as it is.

        Examples
        --------
        >>> TestMode(True).model_spec("bayes:window=26")
        'bayes:window=26,test_mode=1'
        >>> TestMode(True).model_spec("ewma_rescaled")
        'ewma_rescaled'
        >>> TestMode(False).model_spec("bayes")
        'bayes'
        """
        name, _, params = spec.partition(":")
        if not self.on or name not in MODELS_WITH_TEST_MODE or "test_mode=" in params:
            return spec
        return f"{name}:{params + ',' if params else ''}test_mode=1"

    def stamp(self) -> str:
        """The banner, or an empty string outside test mode."""
        return BANNER if self.on else ""
