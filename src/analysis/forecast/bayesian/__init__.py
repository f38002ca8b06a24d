"""Bayesian spatio-temporal count models (PyMC, sampled with nutpie by default).

The path through this package follows a fit:

``structure``   the spatial graph: ICAR edges, components, BYM2 scaling, time knots
``priors``      penalised-complexity priors (Simpson et al. 2017; Riebler et al. 2016)
``spec``        :class:`ModelSpec`: the model family, one member chosen by parameter
``coordinates`` the data-driven choice of the coordinates the latent fields are sampled in
``graph``       the PyMC model a specification builds, and its data
``predictive``  posterior predictive rates for the next period, forecast tables
``checks``      posterior predictive checks of the fitted window
``forecaster``  :class:`BayesianForecaster`, the harness's interface to all of the above

Sampling and the convergence checks that fail loudly are the inference layer's
(:mod:`analysis.inference`, shared with the harm model); its settings, diagnostics and
error are re-exported here.
"""

from analysis.forecast.bayesian.forecaster import BayesianForecaster
from analysis.forecast.bayesian.spec import ModelSpec
from analysis.inference import ConvergenceError, Diagnostics, SamplerSettings

__all__ = [
    "BayesianForecaster",
    "ConvergenceError",
    "Diagnostics",
    "ModelSpec",
    "SamplerSettings",
]
