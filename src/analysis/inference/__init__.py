"""One inference layer for every Bayesian model of the package.

``settings``     :class:`SamplerSettings`: sampler, draws, and the convergence thresholds
``sampling``     :func:`sample` with nutpie or PyMC, optionally stopping at checkpoints
``diagnostics``  :func:`diagnose`, :class:`Diagnostics`, :func:`require_convergence` and
                 the one :class:`ConvergenceError`

It imports no other stage of ``analysis``: each model family passes the names of its
parameters and latent fields.
"""

from analysis.inference.diagnostics import (
    ConvergenceError,
    Diagnostics,
    diagnose,
    require_convergence,
)
from analysis.inference.sampling import checkpoints, sample
from analysis.inference.settings import TEST_MODE_SAMPLER, SamplerSettings

__all__ = [
    "TEST_MODE_SAMPLER",
    "ConvergenceError",
    "Diagnostics",
    "SamplerSettings",
    "checkpoints",
    "diagnose",
    "require_convergence",
    "sample",
]
