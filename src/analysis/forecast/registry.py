"""Named forecasters, with ``name:param=value`` specifications for the command line."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from analysis.forecast.base import Forecaster
from analysis.forecast.baselines import EWMA, LastPeriod, MeanOfLast, RescaledEWMA, SeasonalMean
from analysis.forecast.bayesian import BayesianForecaster
from analysis.forecast.hotspots import KernelDensity, ProMap
from analysis.forecast.regression import NegBinRegression
from analysis.forecast.selfexciting import GridETASForecaster
from analysis.testmode import BANNER

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


@dataclass(frozen=True)
class ModelChoice:
    """The monthly forecast's model for an offence group, and the evidence it rests on.

    Attributes
    ----------
    model : str
        Forecaster spec.
    leaderboard : str or None
        The backtest leaderboard it was chosen on (a folder under the project root, with
        ``summary.csv`` and ``run.json``); None when the group has never been backtested.
    reason : str
        Why, in one sentence.
    oracle : str, optional
        The oracle's scores on the same origins and units (``oracle.csv``), when the
        leaderboard folder has none of its own.
    """

    model: str
    leaderboard: str | None
    reason: str
    oracle: str | None = None


#: The monthly forecast's model for each offence group, as the backtests chose it (the same
#: 13 held-out periods for every model; ``benchmarks/bayes/README.md``). This is the one
#: place the choice is written: the monthly plan, the committee summary and the backtest
#: page read it from here.
MODEL_CHOICES = {
    "knife_crime_with_injury": ModelChoice(
        model="bayes",
        leaderboard="benchmarks/bayes/leaderboards/synthetic_knife_1km2",
        reason="the Bayesian spatio-temporal model beat every baseline on CRPS and log score "
        "by more than three paired standard errors and matched the best PAI at 5% of the area",
        oracle="benchmarks/leaderboards/synthetic_knife_1km2/oracle.csv",
    ),
    "serious_violence": ModelChoice(
        model="ewma_rescaled",
        leaderboard="benchmarks/bayes/leaderboards/synthetic_sv_0.5km2",
        reason="the Bayesian model tied the rescaled exponentially weighted mean "
        "(CRPS +0.0002 ± 0.0010) at hundreds of times the cost, so the simpler model stays",
        oracle="benchmarks/leaderboards/synthetic_sv_0.5km2/oracle.csv",
    ),
}
#: The model of any other offence group: the best baseline on every leaderboard.
FALLBACK_CHOICE = ModelChoice(
    model="ewma_rescaled",
    leaderboard=None,
    reason="no backtest of this group: the rescaled exponentially weighted mean, the best "
    "simple baseline on every leaderboard, until the group's own backtest chooses",
)


def model_choice(group: str) -> ModelChoice:
    """Return the monthly forecast's model for an offence group (see ``MODEL_CHOICES``)."""
    return MODEL_CHOICES.get(group, FALLBACK_CHOICE)


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
            model.name = f"{spec} [{BANNER}]"
    elif name in ("mean4", "mean13"):
        model.name = name
    return model
