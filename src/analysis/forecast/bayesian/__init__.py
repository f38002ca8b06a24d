"""Bayesian spatio-temporal count models (PyMC, sampled with nutpie by default).

The path through this package follows a fit:

``structure``   the spatial graph: ICAR edges, components, BYM2 scaling, time knots
``priors``      penalised-complexity priors (Simpson et al. 2017; Riebler et al. 2016)
``spec``        :class:`ModelSpec`: the model family, one member chosen by parameter
``coordinates`` the data-driven choice of the coordinates the latent fields are sampled in
``graph``       the PyMC model a specification builds, and its data
``sampling``    fitting with nutpie or PyMC and the convergence checks that fail loudly
``predictive``  posterior predictive rates for the next period, forecast tables
``checks``      posterior predictive checks of the fitted window
``forecaster``  :class:`BayesianForecaster`, the harness's interface to all of the above
"""

from analysis.forecast.bayesian.forecaster import BayesianForecaster
from analysis.forecast.bayesian.sampling import ConvergenceError, Diagnostics, SamplerSettings
from analysis.forecast.bayesian.spec import ModelSpec

__all__ = [
    "BayesianForecaster",
    "ConvergenceError",
    "Diagnostics",
    "ModelSpec",
    "SamplerSettings",
]
