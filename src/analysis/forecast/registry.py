"""Named forecasters, with ``name:param=value`` specifications for the command line."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from analysis.forecast.base import Forecaster
from analysis.forecast.baselines import EWMA, LastPeriod, MeanOfLast, RescaledEWMA, SeasonalMean
from analysis.forecast.bayesian import BayesianForecaster
from analysis.forecast.bayesian.forecaster import TEST_MODE_BANNER
from analysis.forecast.hotspots import KernelDensity, ProMap
from analysis.forecast.regression import NegBinRegression
from analysis.forecast.selfexciting import GridETASForecaster

#: Every baseline by name, with its defaults.
BASELINES: dict[str, Callable[..., Forecaster]] = {
    "last": LastPeriod,
    "mean4": lambda **kw: MeanOfLast(k=kw.pop("k", 4), **kw),
    "mean13": lambda **kw: MeanOfLast(k=kw.pop("k", 13), **kw),
    "ewma": EWMA,
    "seasonal": SeasonalMean,
    "ewma_rescaled": RescaledEWMA,
    "kde": KernelDensity,
    "promap": ProMap,
    "etas": GridETASForecaster,
    "nbreg": NegBinRegression,
}

#: The default model list of the backtest (the baselines; Bayesian fits take minutes).
DEFAULT_MODELS = tuple(BASELINES)
#: Every model by name: the baselines and the Bayesian spatio-temporal family
#: (``bayes:likelihood=poisson,spatial=icar,interaction=icar,...``; see ``ModelSpec``).
MODELS: dict[str, Callable[..., Forecaster]] = {
    **BASELINES,
    "bayes": BayesianForecaster.from_params,
}


#: The monthly forecast's model for each offence group, as the backtests chose it
#: (``benchmarks/bayes/README.md``, same 13 origins for every model): for knife crime the
#: Bayesian model beat every baseline on CRPS and log score by more than three paired
#: standard errors; for serious violence it tied the rescaled EWMA (CRPS +0.0002 ± 0.0010)
#: at hundreds of times the cost, so the simpler model stays.
GROUP_MODELS = {"knife_crime_with_injury": "bayes", "serious_violence": "ewma_rescaled"}
#: The model of any other offence group: the best baseline on every leaderboard.
FALLBACK_MODEL = "ewma_rescaled"


def default_model(group: str) -> str:
    """Return the monthly forecast's model for an offence group (see ``GROUP_MODELS``)."""
    return GROUP_MODELS.get(group, FALLBACK_MODEL)


#: Models with an explicit test mode (tiny fits, checks off, every output bannered).
TEST_MODE_MODELS = ("bayes",)


def in_test_mode(spec: str) -> str:
    """Return ``spec`` with ``test_mode=1`` added when its model has a test mode.

    Baselines are fast at any size and have no test mode, so their specs come back
    unchanged; a spec that already sets ``test_mode`` is left as it is.

    Examples
    --------
    >>> in_test_mode("bayes")
    'bayes:test_mode=1'
    >>> in_test_mode("bayes:window=26")
    'bayes:window=26,test_mode=1'
    >>> in_test_mode("ewma_rescaled")
    'ewma_rescaled'
    """
    name, _, params = spec.partition(":")
    if name not in TEST_MODE_MODELS or "test_mode=" in params:
        return spec
    return f"{name}:{params + ',' if params else ''}test_mode=1"


def split_model_specs(text: str) -> list[str]:
    """Split a comma-separated list of model specs, keeping each model's parameters.

    A comma separates models, and also a model's parameters: an item of the form
    ``key=value`` (no ``:``) continues the model before it.

    Examples
    --------
    >>> split_model_specs("ewma,bayes:window=26,likelihood=negbin,kde")
    ['ewma', 'bayes:window=26,likelihood=negbin', 'kde']
    """
    out: list[str] = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        if "=" in item and ":" not in item:
            if not out:
                raise ValueError(f"model parameter {item!r} comes before any model")
            out[-1] = f"{out[-1]},{item}"
        else:
            out.append(item)
    return out


def _value(text: str) -> object:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def make_forecaster(spec: str) -> Forecaster:
    """Build a forecaster from ``name`` or ``name:param=value,param=value``.

    Parameters
    ----------
    spec : str
        For example ``"ewma"``, ``"ewma:alpha=0.2"`` or ``"kde:bandwidth_m=500"``. A spec
        with parameters is named after it in leaderboards.

    Returns
    -------
    Forecaster
    """
    name, _, params = spec.partition(":")
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    kwargs = {}
    for item in filter(None, params.split(",")):
        key, eq, val = item.partition("=")
        if not eq:
            raise ValueError(f"model parameter {item!r} in {spec!r} needs the form key=value")
        kwargs[key.strip()] = _value(val.strip())
    try:
        model = MODELS[name](**kwargs)
    except TypeError as exc:
        fields = [f.name for f in dataclasses.fields(MODELS[name]())]
        raise ValueError(f"bad parameter in {spec!r}: {exc}; {name} takes {fields}") from exc
    if params:
        model.name = spec
        if getattr(model, "test_mode", False):
            model.name = f"{spec} [{TEST_MODE_BANNER}]"
    elif name in ("mean4", "mean13"):
        model.name = name
    return model
