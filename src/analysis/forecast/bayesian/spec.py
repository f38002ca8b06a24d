"""The model family: :class:`ModelSpec`, one member of it chosen by parameter.

For unit ``i`` and period ``t`` of a window of ``W`` periods before the origin::

    y[i, t] ~ Poisson(mu[i, t])            or NegativeBinomial(mu[i, t], size)
    log mu[i, t] = offset[i] + centre + b0          (log area, log mean rate, intercept)
                 + tau[t] + season[t mod P]         (force-wide level: AR(1) or RW1)
                 + b[i]                             (static spatial effect: BYM2)
                 + level[i, block(t)]               (each unit's own evolving level)

The last term is the space-time interaction: a local level per unit, constant within
blocks of periods that are short near the origin (``recent_blocks``, e.g. 6, 4, 2, 1, 1)
and ``block_every`` long before. It is 0 in the oldest block and moves between blocks by
a random-walk step with variance ``sigma_level**2 * gap / P`` (``gap`` the distance in
periods between block centres), independent across units but summing to zero over them
(a low-rank Knorr-Held type II interaction with its constraints) or a scaled ICAR field,
so that each unit's level is shrunk towards its neighbours' (a low-rank type IV
interaction: RW1 in time times ICAR in space). The newest block's level, one more
random-walk step ahead, is where a forecast starts.

``P`` is the number of periods in a year, from the calendar the data are counted on
(``ForecastContext.periods_per_year``: 13 for 28-day periods, 52 for weeks): the season
has ``P`` values and ``sigma_level`` is a level's drift per year whatever the period
length. It is not part of the specification; :func:`.graph.build_model` and
:func:`.graph.model_data` take it, :data:`DEFAULT_PERIODS_PER_YEAR` by default.

:mod:`.graph` builds the PyMC model of a specification for one window;
:mod:`.coordinates` holds the rules that choose, from the window's data, the coordinates
its latent fields are sampled in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from analysis.forecast.bayesian.structure import block_sizes
from analysis.space import PeriodCalendar

__all__ = ["DEFAULT_PERIODS_PER_YEAR", "HYPERPARAMETERS", "ModelSpec", "block_index"]

#: Periods per year (the season's length; a local level's random-walk step has variance
#: sigma**2 per year) when no calendar gives it: the default 28-day calendar's 13.
DEFAULT_PERIODS_PER_YEAR = PeriodCalendar().periods_per_year
#: Scalar parameters checked for convergence when present.
HYPERPARAMETERS = (
    "b0",
    "sigma_time",
    "phi_time",
    "sigma_season",
    "sigma_space",
    "rho_space",
    "sigma_level",
    "inv_sqrt_size",
    "beta",
)


@dataclass(frozen=True)
class ModelSpec:
    """One member of the model family, chosen by parameter.

    Attributes
    ----------
    likelihood : {"poisson", "negbin"}
        Count likelihood. The negative binomial has one size; its prior is on
        ``1 / sqrt(size)`` (PC-type exponential, base model Poisson).
    temporal : {"ar1", "rw1"}
        Force-wide level over periods.
    seasonal : bool
        Add a seasonal effect, one value per period of the year (13 on the 4-weekly
        calendar, 52 on a weekly one: the fit's calendar sets it).
    spatial : {"bym2", "icar", "iid", "none"}
        Static spatial effect: BYM2, its purely structured limit (scaled ICAR, islands
        independent), independent effects, or none.
    interaction : {"icar", "iid", "none"}
        Structure of the local-level steps (see the module docstring).
    recent_blocks : tuple of int
        Lengths of the newest blocks of the local level, oldest first.
    block_every : int
        Length of the older blocks.
    window : int
        Periods of history fitted (the last ``window`` before the origin).
    offset : {"area", "none"}
        ``log(area)`` offset, so that clipped edge cells are rates per km².
    covariates : tuple of str
        Unit covariates (columns of the panel's covariates), standardised, with N(0, 1)
        coefficients.
    sigma_space_upper, sigma_level_upper, sigma_time_upper, sigma_season_upper : float
        ``U`` of the PC priors ``P(sigma > U) = 0.01`` (log-rate scale).
    rho_upper, rho_alpha : float
        PC prior of the BYM2 mixing parameter, ``P(rho < U) = alpha``.
    level_prior : {"pc", "gamma"}
        Prior of ``sigma_level``: the PC exponential, or a boundary-avoiding
        ``Gamma(2, 10 / sigma_level_upper)`` (mean ``sigma_level_upper / 5``) whose density
        vanishes at 0.
    centring : {"partial", "fixed", "totals"}
        Coordinates the sampler works in (the posterior is the same): data-weighted
        partial centring of the static ICAR effect and the independent local levels, or
        the fixed choice (everything non-centred but the static ICAR effect, which is
        centred or not as the data choose), or the fixed choice with the force-wide level
        sampled through each period's log expected total (Poisson and RW1 only; for
        periods with thousands of offences). The season, BYM2 and ICAR steps are
        non-centred in all three.
    level_centring : {"non-centred", "partial"}
        Coordinates of the independent local levels with ``centring="fixed"`` or
        ``"totals"``: non-centred steps, or partially centred element by element, with
        weights from a moment estimate of ``sigma_level``
        (:func:`.coordinates.level_scale_estimate`), so that a busy cell's levels, which
        the data pin down, are sampled nearly centred. (``centring="partial"`` centres the
        levels partially too, with weights from a fixed guess of the scale.)
    """

    likelihood: Literal["poisson", "negbin"] = "poisson"
    temporal: Literal["ar1", "rw1"] = "rw1"
    seasonal: bool = True
    spatial: Literal["bym2", "icar", "iid", "none"] = "icar"
    interaction: Literal["icar", "iid", "none"] = "iid"
    recent_blocks: tuple[int, ...] = (6, 4, 2, 1, 1)
    block_every: int = 13
    window: int = 78
    offset: Literal["area", "none"] = "area"
    covariates: tuple[str, ...] = ()
    sigma_space_upper: float = 1.0
    sigma_level_upper: float = 0.5
    sigma_time_upper: float = 0.3
    sigma_season_upper: float = 0.3
    rho_upper: float = 0.5
    rho_alpha: float = 2 / 3
    level_prior: Literal["pc", "gamma"] = "pc"
    centring: Literal["partial", "fixed", "totals"] = "fixed"
    level_centring: Literal["non-centred", "partial"] = "non-centred"

    def __post_init__(self) -> None:
        choices = {
            "likelihood": ("poisson", "negbin"),
            "temporal": ("ar1", "rw1"),
            "spatial": ("bym2", "icar", "iid", "none"),
            "interaction": ("icar", "iid", "none"),
            "offset": ("area", "none"),
            "level_prior": ("pc", "gamma"),
            "centring": ("partial", "fixed", "totals"),
            "level_centring": ("non-centred", "partial"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.centring == "totals" and (self.likelihood, self.temporal) != ("poisson", "rw1"):
            raise ValueError('centring="totals" needs the Poisson likelihood and an RW1 level')
        if self.window < 2 or self.block_every < 1 or any(b < 1 for b in self.recent_blocks):
            raise ValueError("window must be at least 2 and every block at least 1 period")
        object.__setattr__(self, "covariates", tuple(self.covariates))
        object.__setattr__(self, "recent_blocks", tuple(int(b) for b in self.recent_blocks))

    def blocks(self) -> np.ndarray:
        """Return the block lengths of the local level over the window, oldest first."""
        return block_sizes(self.window, self.recent_blocks, self.block_every)

    def as_dict(self) -> dict[str, object]:
        """Return the specification as a plain dict (for manifests)."""
        return asdict(self)

    def label(self) -> str:
        """Return a short readable name, e.g. ``poisson-ar1-bym2-icar``."""
        inter = "" if self.interaction == "none" else self.interaction
        parts = [self.likelihood, self.temporal, self.spatial, inter or "static"]
        return "-".join(parts) + ("" if self.seasonal else "-noseason")


def block_index(spec: ModelSpec, window: int) -> np.ndarray:
    """Return the block of each period of a window (all 0 without an interaction)."""
    if spec.interaction == "none":
        return np.zeros(window, dtype=np.int64)
    sizes = block_sizes(window, spec.recent_blocks, spec.block_every)
    return np.repeat(np.arange(sizes.size), sizes)
