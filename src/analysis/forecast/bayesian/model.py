"""The model family and the PyMC model each member builds.

For unit ``i`` and period ``t`` of a window of ``W`` periods before the origin::

    y[i, t] ~ Poisson(mu[i, t])            or NegativeBinomial(mu[i, t], size)
    log mu[i, t] = offset[i] + centre + b0          (log area, log mean rate, intercept)
                 + tau[t] + season[t mod 13]        (force-wide level: AR(1) or RW1)
                 + b[i]                             (static spatial effect: BYM2)
                 + level[i, block(t)]               (each unit's own evolving level)

The last term is the space-time interaction: a local level per unit, constant within
blocks of periods that are short near the origin (``recent_blocks``, e.g. 6, 4, 2, 1, 1)
and ``block_every`` long before. It is 0 in the oldest block and moves between blocks by
a random-walk step with variance ``sigma_level**2 * gap / 13`` (``gap`` the distance in
periods between block centres), independent across units but summing to zero over them
(a low-rank Knorr-Held type II interaction with its constraints) or a scaled ICAR field,
so that each unit's level is shrunk towards its neighbours' (a low-rank type IV
interaction: RW1 in time times ICAR in space). The newest block's level, one more
random-walk step ahead, is where a forecast starts.

With the Poisson likelihood the log likelihood factorises over blocks::

    sum_i a_i Y_i + sum_t c_t Y_t + sum_ik level_ik Y_ik - sum_ik exp(a_i + level_ik) E_k

(``a_i`` the unit terms, ``c_t`` the period terms, ``Y`` the count sums and ``E_k`` the
sum of ``exp(c_t)`` over block ``k``), so a gradient costs ``O(n_units * n_blocks)``,
not ``O(n_units * window)``. The negative binomial needs every cell and costs more.

How each latent field is sampled is a choice of coordinates that leaves the model (and so
the posterior) unchanged. With ``centring="fixed"`` (the default) every field but the
static ICAR effect is non-centred, and the static effect is centred or non-centred as the
window's data choose (centred when they show clear spatial variation, as crime panels
do; non-centred when units barely differ, where a centred field is a funnel; see
:func:`_static_field_weight`). With ``centring="partial"`` the static ICAR
effect and the independent local levels are partially centred (Papaspiliopoulos, Roberts
and Skold 2007), the levels element by element, with a weight ``w = I / (I + 1 / s**2)``
set from the data before fitting: ``I`` the counts that inform the element (its Fisher
information under a log link) and ``s`` a prior guess of its scale. A busy cell's level
in a long block is then sampled nearly centred, an empty cell's or a one-period block's
nearly non-centred (see :func:`_partial_walk`). The force-wide level and the season stay
non-centred: partially centred, they mixed worse at force scale (R-hat 1.04-1.10). Partial
centring halves the steps per draw for serious violence but doubles the cost of a
gradient, and because ``s`` is a fixed guess it fails simulation-based calibration where
a field's true scale is far below it, so it is not recommended
(``docs/bayesian-models.md``). With
``centring="totals"`` (Poisson, RW1) the sampler works in each period's log expected
force-wide total, which busy periods pin down, and the intercept and force-wide level are
derived from it (see :func:`_totals_model`); the rest is as in ``"fixed"``.

Periods of the window before the data begin are masked
out of the likelihood, so the shapes, and with them the compiled model, stay the same across
the origins of a backtest. Only neighbour pairs (never an ``N x N`` matrix) enter the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from analysis.forecast.bayesian.priors import bym2_rho_logp, bym2_rho_rate, sigma_rate
from analysis.forecast.bayesian.structure import SpatialStructure, block_sizes

__all__ = ["HYPERPARAMETERS", "ModelSpec", "build_model"]

#: Periods per year: the random-walk step of a local level has variance sigma**2 per year.
YEAR = 13
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
        Add a 13-period (4-weekly) seasonal effect.
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
        weights from a moment estimate of ``sigma_level`` (:func:`level_scale_estimate`),
        so that a busy cell's levels, which the data pin down, are sampled nearly
        centred. (``centring="partial"`` centres the levels partially too, with weights
        from a fixed guess of the scale.)
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


def _centred(field: pt.TensorVariable, s: SpatialStructure) -> pt.TensorVariable:
    """Return ``field`` with each component's mean removed (islands untouched).

    The ICAR density does not see a component's mean, so the model uses the centred field
    (exactly sum-to-zero) and the mean is left to its unit-scale prior, where it cannot
    trade off against the intercept.
    """
    if len(s.constraint_groups) == 1 and s.constraint_groups[0].size == s.n_units:
        return field - field.mean(axis=-1, keepdims=True)
    for idx in s.constraint_groups:
        part = field[..., idx]
        field = pt.set_subtensor(field[..., idx], part - part.mean(axis=-1, keepdims=True))
    return field


def _icar_potential(
    name: str,
    field: pt.TensorVariable,
    s: SpatialStructure,
    sigma: pt.TensorVariable | None = None,
) -> None:
    """Add the ICAR log density of ``field`` (last axis: units) as a potential.

    Pairwise differences over edges and a standard normal for islands. The density is flat
    along each component's constant direction; a unit-scale normal prior on that direction
    (the component sum over ``sqrt(n)``) keeps the field near sum-to-zero without the stiff
    geometry of the usual ``N(0, 0.001 n)`` soft constraint. ``field`` may have leading
    dimensions (independent fields).

    Without ``sigma`` the field is the unit-precision ICAR (non-centred use). With it, the
    field is the scaled ICAR times ``sigma`` (centred use): each edge's precision is its
    component's scale over ``sigma**2``, islands have variance ``sigma**2``, and the
    log-determinant term ``-rank * log(sigma)`` is included.
    """
    diff = field[..., s.node1] - field[..., s.node2]
    islands = np.flatnonzero(s.islands)
    if sigma is None:
        logp = -0.5 * pt.sum(diff**2)
        if islands.size:
            logp = logp - 0.5 * pt.sum(field[..., islands] ** 2)
    else:
        rank = s.n_units - len(s.constraint_groups)
        logp = -0.5 * pt.sum(s.scale[s.node1] * diff**2) / sigma**2 - rank * pt.log(sigma)
        if islands.size:
            logp = logp - 0.5 * pt.sum(field[..., islands] ** 2) / sigma**2
    for idx in s.constraint_groups:
        logp = logp - 0.5 * pt.sum(pt.sum(field[..., idx], axis=-1) ** 2) / idx.size
    pm.Potential(name, logp)


def block_index(spec: ModelSpec, window: int) -> np.ndarray:
    """Return the block of each period of a window (all 0 without an interaction)."""
    if spec.interaction == "none":
        return np.zeros(window, dtype=np.int64)
    sizes = block_sizes(window, spec.recent_blocks, spec.block_every)
    return np.repeat(np.arange(sizes.size), sizes)


def build_model(
    spec: ModelSpec,
    structure: SpatialStructure,
    *,
    counts: np.ndarray,
    observed: np.ndarray,
    season: np.ndarray,
    log_offset: np.ndarray,
    covariates: np.ndarray | None = None,
    selection_span: np.ndarray | None = None,
) -> pm.Model:
    """Build the PyMC model of ``spec`` for one window of counts.

    Parameters
    ----------
    spec : ModelSpec
        The model.
    structure : SpatialStructure
        The units' graph.
    counts : numpy.ndarray
        ``(n_units, window)`` counts, oldest period first; masked periods hold 0.
    observed : numpy.ndarray
        ``(window,)`` 1 where the period is data, 0 where it is padding before the data.
    season : numpy.ndarray
        ``(window,)`` period of the year (0..12) of each column.
    log_offset : numpy.ndarray
        ``(n_units,)`` log offset.
    covariates : numpy.ndarray, optional
        ``(n_units, n_covariates)`` standardised covariates.
    selection_span : numpy.ndarray, optional
        ``(window,)`` 1 for the periods in which every unit was required to have an
        offence (the units were chosen that way); the model then also keeps each unit's
        expected count over them, ``mu_unit_selected``, for the posterior predictive
        checks. Never enters the density.

    Returns
    -------
    pymc.Model
        Its data containers (see :func:`model_data`) can be swapped for another origin's
        (same shapes) without rebuilding or recompiling.
    """
    n, w = counts.shape
    if n != structure.n_units:
        raise ValueError(f"counts have {n} units, the structure {structure.n_units}")
    if w != spec.window:
        raise ValueError(f"counts have {w} periods, the model's window is {spec.window}")
    blocks = block_index(spec, w)
    n_blocks = int(blocks.max()) + 1
    use_level = n_blocks > 1
    coords = {"unit": np.arange(n), "period": np.arange(w), "season": np.arange(YEAR)}
    if use_level:
        coords["step"] = np.arange(n_blocks - 1)
        coords["block"] = np.arange(n_blocks)
    data = model_data(spec, counts, observed, season, log_offset, selection_span)
    with pm.Model(coords=coords) as model:
        d = {k: pm.Data(k, v) for k, v in data.items()}
        if spec.centring == "totals":
            _totals_model(spec, structure, d, blocks, use_level, log_offset, covariates)
            return model
        unit = pm.math.constant(log_offset) + d["centre"] + pm.Normal("b0", 0.0, 1.0)
        period = _temporal(spec, w)
        if spec.seasonal:
            period = period + _season(spec)[d["season"]]
        unit = _unit_terms(spec, structure, d, unit, covariates)
        level, index = _levels(spec, structure, blocks, d, use_level)
        if spec.likelihood == "poisson":
            _poisson(d, unit, period, level, index)
        else:
            _expected_sums(d, *_block_terms(d, unit, period, level, index), index, squares=True)
            eta = unit[:, None] + period[None, :] + level[:, index]
            _negbin(d["counts"], d["observed"], eta)
    return model


def model_data(
    spec: ModelSpec,
    counts: np.ndarray,
    observed: np.ndarray,
    season: np.ndarray,
    log_offset: np.ndarray,
    selection_span: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Return the values of a model's data containers for one window.

    The Poisson model sees count sums per unit, per period and per unit and block; the
    negative binomial sees every count. ``selection_span`` (see :func:`build_model`) is
    kept, masked to the observed periods, when given.
    """
    obs = observed.astype(float)
    y = counts.astype(float) * obs[None, :]
    out: dict[str, np.ndarray] = {
        "observed": obs,
        "season": np.asarray(season, dtype=np.int64),
        "centre": np.asarray(_centre(counts, observed, log_offset)),
    }
    if selection_span is not None:
        out["selection_span"] = np.asarray(selection_span, dtype=float) * obs
    blocks = block_index(spec, counts.shape[1])
    onehot = _block_onehot(blocks)
    y_block = y @ onehot
    seen_block = obs @ onehot
    gap = _block_gaps(blocks)
    if spec.centring == "partial":
        out.update(_centring_weights(spec, y, y_block, gap))
    else:
        if spec.spatial == "icar":
            weight = _static_field_weight(
                y, blocks, seen_block, log_offset, negbin=spec.likelihood == "negbin"
            )
            out["w_space"] = np.asarray(weight)
        if spec.level_centring == "partial":
            step = level_scale_estimate(y_block, seen_block > 0, gap)
            out.update(_level_weights(spec, y_block, gap, step))
    if spec.centring == "totals":
        out.update(_totals_scale(y.sum(axis=0), obs))
    if spec.likelihood == "negbin":
        out["counts"] = y
        return out
    out["y_unit"] = y.sum(axis=1)
    out["y_period"] = y.sum(axis=0)
    out["y_block"] = y_block
    return out


#: Largest partial-centring weight (``1 - w`` enters a logarithm).
MAX_WEIGHT = 0.99
#: The weights a random walk's elements are rounded to, so that ``sigma ** (1 - w)`` costs
#: one power per level and a gather, not a power per element (any weights are valid).
WEIGHT_LEVELS = np.r_[np.linspace(0.0, 0.9, 10), MAX_WEIGHT]
#: Longest partially centred walk: its scale factors ``prod(1 - w) >= 0.01**steps`` must
#: stay in the floating-point range.
MAX_WALK = 100


def _weight(information: np.ndarray | float, prior_sd: np.ndarray | float) -> np.ndarray:
    """Return the partial-centring weight ``I / (I + 1 / prior_sd**2)``, at most 0.99.

    For a normal latent value with prior sd ``s`` observed with precision ``I`` this is the
    weight that makes the partially centred coordinate independent of ``s`` a posteriori
    (Papaspiliopoulos, Roberts and Skold 2007); under a log link a count's Fisher
    information about its log rate is its mean, estimated here by the observed count.
    """
    info = np.asarray(information, dtype=float)
    w = info / (info + 1.0 / np.asarray(prior_sd, dtype=float) ** 2)
    return np.minimum(w, MAX_WEIGHT)


def field_scale_estimate(
    counts: np.ndarray, log_offset: np.ndarray, extra_variance: float = 0.0
) -> float:
    """Return a moment estimate of the sd of units' log rates from one set of counts.

    With ``y[i] ~ Poisson(m[i] exp(b[i]))``, ``m[i]`` the unit's exposure times the
    common rate and ``b`` of variance ``s**2`` (log-normal), ``Var(y[i]) = mu[i] +
    mu[i]**2 (exp(s**2) - 1)``, so ``exp(s**2) - 1`` is estimated by
    ``sum((y - m)**2 - y) / sum(m**2)``, floored at 0. Zero counts need no special care,
    unlike a variance of log counts.

    Parameters
    ----------
    counts : numpy.ndarray
        ``(n_units,)`` counts.
    log_offset : numpy.ndarray
        ``(n_units,)`` log exposure.
    extra_variance : float
        Variance of the counts, summed over units, that is neither Poisson nor spatial
        (a negative binomial's; :func:`overdispersion_variance`), taken off the excess.

    Returns
    -------
    float
    """
    y = np.asarray(counts, dtype=float)
    exposure = np.exp(np.asarray(log_offset, dtype=float))
    if y.sum() <= 0:
        return 0.0
    m = exposure * y.sum() / exposure.sum()
    excess = float((np.sum((y - m) ** 2 - y) - extra_variance) / np.sum(m**2))
    return float(np.sqrt(np.log1p(max(excess, 0.0))))


def overdispersion_variance(counts: np.ndarray) -> float:
    """Return the variance that a negative binomial adds to units' totals over periods.

    With ``y[i, t]`` negative binomial of mean ``mu[i, t] = l[i] c[t]`` (a unit's rate,
    whatever its spatial effect, and a period's factor) and size ``r``, each count adds
    ``mu[i, t]**2 / r`` to the variance of unit ``i``'s total beyond the Poisson part.
    With ``z[i, t] = y[i, t] / c[t]`` (``c`` from the periods' totals, shared by all
    units), ``E[z[i, t] z[i, s]] = l[i]**2`` for ``t != s`` and ``E[(y**2 - y) / c**2]
    = l[i]**2 (1 + 1 / r)``, so the ratio of the two averages estimates ``1 + 1 / r``
    free of the spatial effect; ``1 / r`` is floored at 0 and the added variance is
    ``sum(mu**2) / r``. Level shifts within the periods inflate it slightly, which errs
    towards non-centred coordinates.

    Parameters
    ----------
    counts : numpy.ndarray
        ``(n_units, n_periods)`` counts of periods in which units' levels are constant;
        periods with no count anywhere (padding) are ignored.

    Returns
    -------
    float
    """
    y = np.asarray(counts, dtype=float)
    totals = y.sum(axis=0)
    y, totals = y[:, totals > 0], totals[totals > 0]
    t = y.shape[1]
    if t < 2:
        return 0.0
    c = totals / totals.mean()
    z = y / c
    own = float(np.sum((y**2 - y) / c**2)) / t
    pairs = float(np.sum(z.sum(axis=1) ** 2 - (z**2).sum(axis=1))) / (t * (t - 1))
    if pairs <= 0:
        return 0.0
    inv_size = max(own / pairs - 1.0, 0.0)
    return inv_size * pairs * float(np.sum(c**2))


def _static_field_weight(
    y: np.ndarray,
    blocks: np.ndarray,
    seen_block: np.ndarray,
    log_offset: np.ndarray,
    *,
    negbin: bool = False,
) -> float:
    """Return 1 to sample the static ICAR effect centred, 0 for non-centred.

    The scale ``s`` of the effect is estimated (:func:`field_scale_estimate`) from the
    oldest block with data, where every unit's local level is 0, so that the levels'
    drift does not pass for spatial variation. The effect is centred when the data say
    more about it than its prior, ``I s**2 >= 1`` on average (``I / (I + 1 / s**2)``
    averaged over units at least 0.5, ``I`` a unit's count over the window), as in crime
    panels (``s`` about 1); otherwise non-centred, which avoids the funnel of a centred
    field whose scale is near 0 (what simulation-based calibration found). Either way the
    posterior is the same; only the sampler's coordinates change. Under the negative
    binomial its extra variance (:func:`overdispersion_variance`, from the same block) is
    taken off first; else it passes for a spatial field (what SBC of that member found).
    """
    seen = np.flatnonzero(seen_block > 0)  # blocks with observed periods
    if seen.size == 0:
        return 1.0
    oldest = y[:, blocks == seen[0]]  # padded periods hold 0 and add nothing below
    extra = overdispersion_variance(oldest) if negbin else 0.0
    scale = field_scale_estimate(oldest.sum(axis=1), log_offset, extra)
    if scale <= 0:
        return 0.0
    return float(_weight(y.sum(axis=1), scale).mean() >= 0.5)


def _centring_weights(
    spec: ModelSpec, y: np.ndarray, y_block: np.ndarray, gap: np.ndarray
) -> dict[str, np.ndarray]:
    """Return the partial-centring weights of a window (see :func:`_partial_walk`).

    The prior guesses of each field's scale are a third of its PC prior's ``U``; they
    change only how well the sampler mixes, never the posterior.
    """
    out: dict[str, np.ndarray] = {}
    if spec.spatial == "icar":
        per_unit = _weight(y.sum(axis=1), spec.sigma_space_upper / 3)
        out["w_space"] = np.asarray(float(per_unit.mean()))
    out.update(_level_weights(spec, y_block, gap, spec.sigma_level_upper / 3))
    return out


def level_scale_estimate(y_block: np.ndarray, seen: np.ndarray, gap: np.ndarray) -> float:
    """Return a moment estimate of ``sigma_level`` from counts summed over blocks.

    For consecutive blocks ``k - 1, k`` and a unit with ``T`` offences in the two, its
    count in block ``k`` is binomial given ``T``, with a probability whose logit is a
    force-wide term plus the unit's level step ``d ~ N(0, sigma**2 gap[k])``: the unit's
    static effect and offset cancel. The binomial's excess variance,
    ``T (T - 1) Var(p)`` with ``Var(p) ~ p**2 (1 - p)**2 sigma**2 gap``, gives::

        sigma**2 = sum_k sum_i ((y_ik - T_i p_k)**2 - T_i p_k (1 - p_k))
                   / sum_k gap[k] p_k**2 (1 - p_k)**2 sum_i T_i (T_i - 1)

    floored at 0 (``p_k`` pooled over units). Pairs with a block without data are
    skipped. Accurate for the small steps where the choice of coordinates matters; it
    understates large ones (the logit-normal's variance flattens).

    Parameters
    ----------
    y_block : numpy.ndarray
        ``(n_units, n_blocks)`` counts per unit and block.
    seen : numpy.ndarray
        ``(n_blocks,)`` True where the block has observed periods.
    gap : numpy.ndarray
        ``(n_blocks - 1,)`` years between consecutive block centres.
    """
    num = den = 0.0
    for k in range(1, y_block.shape[1]):
        if not (seen[k - 1] and seen[k]):
            continue
        y, t = y_block[:, k], y_block[:, k - 1] + y_block[:, k]
        if t.sum() <= 0:
            continue
        p = y.sum() / t.sum()
        num += float(np.sum((y - t * p) ** 2 - t * p * (1 - p)))
        den += float(gap[k - 1] * p**2 * (1 - p) ** 2 * np.sum(t * (t - 1)))
    return float(np.sqrt(max(num, 0.0) / den)) if den > 0 else 0.0


def _level_weights(
    spec: ModelSpec, y_block: np.ndarray, gap: np.ndarray, step_sd: float
) -> dict[str, np.ndarray]:
    """Return the partial-centring data of the independent local levels (or nothing).

    Each unit's step into block ``k`` gets ``w = I / (I + 1 / s**2)`` with ``I`` the
    unit's count in the block and ``s = step_sd * sqrt(gap[k])`` the step's sd (a prior
    guess or an estimate; any value leaves the posterior unchanged), ``gap`` the years
    between block centres (:func:`_block_gaps`); see :func:`_partial_walk`.
    """
    if spec.interaction != "iid" or gap.size == 0:
        return {}
    sd = max(step_sd, 1e-6) * np.sqrt(gap)
    w_level = _weight(y_block[:, 1:].T, sd[:, None])
    return _walk_data("w_level", w_level, np.sqrt(gap))


def _walk_data(prefix: str, weight: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """Return the data a partially centred walk needs (see :func:`_partial_walk`).

    The weights are rounded to :data:`WEIGHT_LEVELS`; everything that depends on them
    alone is computed here, once per window, not at every gradient.
    """
    level = np.abs(weight[..., None] - WEIGHT_LEVELS).argmin(axis=-1)
    w = WEIGHT_LEVELS[level]
    shape = (scale.size,) + (1,) * (w.ndim - 1)
    out = {
        f"{prefix}_index": level.astype(np.int64),
        f"{prefix}_scale_power": np.asarray(scale, dtype=float).reshape(shape) ** (1.0 - w),
        f"{prefix}_sum": np.asarray(float(w.sum())),
    }
    if w.shape[0] > MAX_WALK:
        raise ValueError(f"a partially centred walk has at most {MAX_WALK} steps")
    # v[k] = exp(cum[k]) * sum_{j<=k} exp(-cum[j]) * innovation[j]; exp(-cum) grows with
    # k, so each partial sum is dominated by its newest term: no cancellation.
    cum = np.cumsum(np.log1p(-w), axis=0)
    out[f"{prefix}_growth"] = np.exp(cum)
    out[f"{prefix}_decay"] = np.exp(-cum)
    return out


def _block_gaps(blocks: np.ndarray) -> np.ndarray:
    """Return the distance in years between consecutive block centres."""
    centres = np.array([np.flatnonzero(blocks == k).mean() for k in range(blocks.max() + 1)])
    return np.diff(centres) / YEAR


def _partial_walk(
    name: str,
    sigma: pt.TensorVariable,
    scale: np.ndarray,
    d: dict[str, pt.TensorVariable],
    prefix: str,
    dims: tuple[str, ...],
) -> pt.TensorVariable:
    """Return a random walk from 0, sampled in partially centred coordinates.

    The walk ``v`` has ``v[k] - v[k-1] ~ N(0, (sigma * scale[k])**2)`` (``v[-1] = 0``) along
    the first axis. The sampler sees ``x``, with::

        v[k] = (1 - w[k]) * v[k-1] + (sigma * scale[k])**(1 - w[k]) * x[k]

    so ``w = 0`` is the non-centred walk (``x`` the standardised steps) and ``w = 1`` the
    centred one (``x = v``). The density of ``x`` is the walk's density plus the log
    Jacobian ``sum((1 - w) * log(sigma * scale))``. What depends on the weights alone
    comes from :func:`_walk_data` (the weights themselves are
    ``WEIGHT_LEVELS[d[prefix + "_index"]]``); the recursion is computed as a scaled
    cumulative sum.
    """
    x = pm.Flat(name, dims=dims)
    t = scale.shape[0]
    shape = (t,) + (1,) * (len(dims) - 1)
    powers = pt.exp((1.0 - WEIGHT_LEVELS) * pt.log(sigma))
    innov = powers[d[f"{prefix}_index"]] * d[f"{prefix}_scale_power"] * x
    walk = d[f"{prefix}_growth"] * pt.cumsum(d[f"{prefix}_decay"] * innov, axis=0)
    previous = pt.concatenate([pt.zeros_like(walk[:1]), walk[:-1]], axis=0)
    z = (walk - previous) * pm.math.constant(1.0 / scale.reshape(shape)) / sigma
    pm.Potential(f"{name}_logp", -0.5 * pt.sum(z**2) - d[f"{prefix}_sum"] * pt.log(sigma))
    return walk


def _totals_scale(totals: np.ndarray, observed: np.ndarray) -> dict[str, np.ndarray]:
    """Return the location and scale of each period's log expected total (``totals``).

    The sampler's coordinate for period ``t`` is ``(m[t] - loc[t]) / scale[t]``, with
    ``loc`` the log of the observed total and ``scale`` its approximate posterior sd
    ``1 / sqrt(total)``, so that it starts and stays near a standard normal. Padded
    periods get the observed periods' mean and a scale of 0.1. Data-only, so the density
    changes by a constant.
    """
    seen = observed > 0
    loc = np.log(np.maximum(totals, 0.5))
    fill = float(loc[seen].mean()) if seen.any() else 0.0
    return {
        "total_loc": np.where(seen, loc, fill),
        "total_scale": np.where(seen, 1.0 / np.sqrt(np.maximum(totals, 1.0)), 0.1),
    }


def _totals_model(
    spec: ModelSpec,
    s: SpatialStructure,
    d: dict[str, pt.TensorVariable],
    blocks: np.ndarray,
    use_level: bool,
    log_offset: np.ndarray,
    covariates: np.ndarray | None,
) -> None:
    """Add the Poisson model in force-wide-total coordinates (``centring="totals"``).

    Given the period totals ``Y[t]``, the counts of a period are multinomial over units
    with probabilities that do not involve the force-wide terms, and ``Y[t]`` is Poisson
    with mean ``exp(m[t])``, ``m[t] = b0 + tau[t] + season[t] + log S[block(t)]`` and
    ``S[k] = sum_i exp(a_i + level[i, k])`` (``a_i`` the unit terms without ``b0``). So
    the sampler works in ``m`` (which a busy force's totals pin down to about
    ``1 / sqrt(Y[t])``), the season and the rest, and ``b0 + tau`` is derived::

        h[t] = m[t] - log S[block(t)] - season[t];  b0 = mean(h);  tau = h - b0

    The model is the same: ``(b0, tau)`` is a linear, parameter-free map of ``h``, and
    ``h`` a shift of ``m`` by other parameters, so the density is the prior of ``b0`` and
    of the random walk's steps ``diff(h)`` (centred: ``-(W - 1) log sigma_time``) plus the
    likelihood, up to a constant. Centred is right when the totals are informative, as
    with serious violence at force scale, where the non-centred level and season needed
    twice the steps per draw.
    """
    w = blocks.size
    unit = _unit_terms(spec, s, d, pm.math.constant(log_offset) + d["centre"], covariates)
    level, index = _levels(spec, s, blocks, d, use_level)
    log_s = pm.math.logsumexp(unit[:, None] + level, axis=0).reshape((-1,))
    raw = pm.Flat("log_total_raw", dims="period")
    m = d["total_loc"] + d["total_scale"] * raw
    h = m - log_s[index]
    if spec.seasonal:
        h = h - _season(spec)[d["season"]]
    b0 = pm.Deterministic("b0", h.mean())
    pm.Deterministic("tau", h - b0, dims="period")
    sigma = pm.Exponential("sigma_time", sigma_rate(spec.sigma_time_upper, 0.01))
    steps = h[1:] - h[:-1]
    prior = -0.5 * b0**2 - 0.5 * pt.sum(steps**2) / sigma**2 - (w - 1) * pt.log(sigma)
    pm.Potential("time_logp", prior)
    fit = pt.sum(unit * d["y_unit"]) + pt.sum(level * d["y_block"])
    fit = fit - pt.sum(log_s * pt.sum(d["y_block"], axis=0))
    fit = fit + pt.sum(m * d["y_period"] - pt.exp(m) * d["observed"])
    pm.Potential("loglik", fit)
    _expected_sums(d, *_block_terms(d, unit, m - log_s[index], level, index), index)


def _unit_terms(
    spec: ModelSpec,
    s: SpatialStructure,
    d: dict[str, pt.TensorVariable],
    base: pt.TensorVariable,
    covariates: np.ndarray | None,
) -> pt.TensorVariable:
    """Return ``base`` plus the static spatial effect and the covariates' terms per unit.

    Creates the spatial variables, then ``beta``: in this order in every model, so that
    the sampler's parameter vector (and a seeded fit) does not depend on the coordinates.
    """
    unit = base
    b = _spatial(spec, s, d)
    if b is not None:
        unit = unit + b
    if spec.covariates:
        if covariates is None or covariates.shape != (s.n_units, len(spec.covariates)):
            raise ValueError(f"the model needs covariates {spec.covariates}")
        beta = pm.Normal("beta", 0.0, 1.0, shape=len(spec.covariates))
        unit = unit + pt.dot(pm.math.constant(covariates), beta)
    return unit


def _levels(
    spec: ModelSpec,
    s: SpatialStructure,
    blocks: np.ndarray,
    d: dict[str, pt.TensorVariable],
    use_level: bool,
) -> tuple[pt.TensorVariable, np.ndarray]:
    """Return the units' levels ``(n_units, n_blocks)`` and each period's block.

    Without an interaction the level is a single column of zeros and every period is in
    block 0.
    """
    if use_level:
        return _local_level(spec, s, blocks, d), blocks
    return pt.zeros((s.n_units, 1)), np.zeros(blocks.size, dtype=np.int64)


def _block_onehot(blocks: np.ndarray) -> np.ndarray:
    """Return the ``(window, n_blocks)`` indicator of each period's block."""
    return np.eye(int(blocks.max()) + 1)[blocks]


def _block_terms(
    d: dict[str, pt.TensorVariable],
    unit: pt.TensorVariable,
    period: pt.TensorVariable,
    level: pt.TensorVariable,
    blocks: np.ndarray,
) -> tuple[pt.TensorVariable, pt.TensorVariable, pt.TensorVariable]:
    """Return the factors of the expected counts ``mu[i, t]`` through the blocks.

    With ``log mu[i, t] = unit[i] + level[i, block(t)] + period[t]``: ``per_block[i, k] =
    exp(unit[i] + level[i, k])``, ``weight[t] = exp(period[t])`` (0 for padded periods)
    and ``exposure[k]``, the sum of ``weight`` over block ``k``; so ``mu[i, t] =
    per_block[i, block(t)] * weight[t]`` without forming the ``(n_units, window)`` array.
    """
    onehot = _block_onehot(blocks)
    per_block = pt.exp(unit[:, None] + level)
    weight = pt.exp(period) * d["observed"]
    return per_block, weight, pt.dot(weight, onehot)


def _expected_sums(
    d: dict[str, pt.TensorVariable],
    per_block: pt.TensorVariable,
    weight: pt.TensorVariable,
    exposure: pt.TensorVariable,
    blocks: np.ndarray,
    *,
    squares: bool = False,
) -> None:
    """Add each unit's and each period's expected count over the window (Deterministics).

    From the factors of :func:`_block_terms` (padded periods excluded): ``mu_unit[i] =
    sum_t mu[i, t]`` and ``mu_period[t] = sum_i mu[i, t]``, ``O(n_units * n_blocks)``,
    and, when the model has a ``selection_span``, ``mu_unit_selected[i]``, the sum over
    those periods only. They are the means of the replicated data in the posterior
    predictive checks (:mod:`.checks`); nothing in the density uses them.

    With ``squares`` (the negative binomial) the same sums of ``mu[i, t]**2`` are kept
    too (``mu2_unit``, ``mu2_period``, ``mu2_unit_selected``): with the size they give
    each sum's variance, ``sum mu + sum mu**2 / size``, which the checks' replicates of
    a sum of negative-binomial counts match.
    """
    onehot = _block_onehot(blocks)
    sums = [("mu", per_block, weight, exposure)]
    if squares:
        sums.append(("mu2", per_block**2, weight**2, pt.dot(weight**2, onehot)))
    for prefix, a, wt, per_period_block in sums:
        pm.Deterministic(f"{prefix}_period", wt * pt.sum(a, axis=0)[blocks], dims="period")
        pm.Deterministic(f"{prefix}_unit", pt.dot(a, per_period_block), dims="unit")
        if "selection_span" in d:
            selected = pt.dot(wt * d["selection_span"], onehot)
            pm.Deterministic(f"{prefix}_unit_selected", pt.dot(a, selected), dims="unit")


def _poisson(
    d: dict[str, pt.TensorVariable],
    unit: pt.TensorVariable,
    period: pt.TensorVariable,
    level: pt.TensorVariable,
    blocks: np.ndarray,
) -> None:
    """Add the factorised Poisson log likelihood (see the module docstring).

    Also adds the expected sums of :func:`_expected_sums`, from the same terms.
    """
    per_block, weight, exposure = _block_terms(d, unit, period, level, blocks)
    fit = pt.sum(unit * d["y_unit"]) + pt.sum(period * d["y_period"])
    fit = fit + pt.sum(level * d["y_block"])
    expected = pt.sum(per_block * exposure[None, :])
    pm.Potential("loglik", fit - expected)
    _expected_sums(d, per_block, weight, exposure, blocks)


def _centre(counts: np.ndarray, observed: np.ndarray, log_offset: np.ndarray) -> float:
    """Return the log mean rate per unit of offset over the observed periods."""
    mask = observed.astype(bool)
    total = counts[:, mask].sum()
    exposure = np.exp(log_offset).sum() * max(int(mask.sum()), 1)
    return float(np.log(max(total, 0.5) / exposure))


def _temporal(spec: ModelSpec, w: int) -> pt.TensorVariable:
    """Return the force-wide level ``tau`` per period (non-centred AR(1) or RW1).

    The level is non-centred because a force-wide 4-week count of a rare offence pins it
    down less sharply than its period-to-period variation, which is small (a centred level
    then has a funnel with ``sigma_time``). AR(1): ``tau = L(phi) @ (sigma * z)`` with
    ``L[t, s] = phi**(t - s)`` below the diagonal and a stationary first innovation; the
    ``w x w`` matrix is over periods, not units. RW1: ``tau = cumsum(sigma * z)`` centred
    to mean 0 (its level is the intercept's).
    """
    sigma = pm.Exponential("sigma_time", sigma_rate(spec.sigma_time_upper, 0.01))
    z = pm.Normal("time_raw", 0.0, 1.0, dims="period")
    if spec.temporal == "rw1":
        walk = pt.cumsum(sigma * z)
        return pm.Deterministic("tau", walk - walk.mean(), dims="period")
    phi_unit = pm.Beta("phi_time_unit", 2.0, 2.0)
    phi = pm.Deterministic("phi_time", 2.0 * phi_unit - 1.0)
    lag = np.subtract.outer(np.arange(w), np.arange(w))
    powers = pt.power(phi, np.arange(w, dtype=float))
    lower = pm.math.constant((lag >= 0).astype(float))
    matrix = powers[np.maximum(lag, 0)] * lower
    innov = sigma * pt.set_subtensor(z[0], z[0] / pt.sqrt(1.0 - phi**2))
    return pm.Deterministic("tau", pt.dot(matrix, innov), dims="period")


def _season(spec: ModelSpec) -> pt.TensorVariable:
    """Return the 13-period seasonal effect: ``sigma`` times a sum-to-zero normal."""
    sigma = pm.Exponential("sigma_season", sigma_rate(spec.sigma_season_upper, 0.01))
    raw = pm.ZeroSumNormal("season_raw", sigma=1.0, dims="season")
    return pm.Deterministic("season_effect", sigma * raw, dims="season")


def _spatial(
    spec: ModelSpec, s: SpatialStructure, d: dict[str, pt.TensorVariable]
) -> pt.TensorVariable | None:
    """Return the static spatial effect per unit, or None."""
    if spec.spatial == "none":
        return None
    sigma = pm.Exponential("sigma_space", sigma_rate(spec.sigma_space_upper, 0.01))
    if spec.spatial == "icar":
        # The field is ICAR(sigma**w) times sigma**(1 - w): w = 1 centred, w = 0
        # non-centred. Fixed and totals: w is 1 or 0 as the data choose (centred when the
        # data pin the effect down, as in crime panels where every period informs it).
        # Partial: w from the counts and a fixed guess of the scale.
        w = d.get("w_space", 1.0)
        field = pm.Flat("space_icar", dims="unit")
        _icar_potential("space_icar_logp", field, s, sigma**w)
        effect = sigma ** (1.0 - w) * _centred(field, s)
        return pm.Deterministic("space_effect", effect, dims="unit")
    theta = pm.Normal("space_iid", 0.0, 1.0, dims="unit")
    if spec.spatial == "iid":
        return pm.Deterministic("space_effect", sigma * theta, dims="unit")
    rho = pm.Uniform("rho_space", 0.0, 1.0)
    rate = bym2_rho_rate(s.gamma, spec.rho_upper, spec.rho_alpha)
    pm.Potential("rho_space_pc", bym2_rho_logp(rho, s.gamma, rate))
    phi = pm.Flat("space_icar", dims="unit")
    _icar_potential("space_icar_logp", phi, s)
    scaled = _centred(phi, s) / np.sqrt(s.scale)
    effect = sigma * (pt.sqrt(rho) * scaled + pt.sqrt(1.0 - rho) * theta)
    return pm.Deterministic("space_effect", effect, dims="unit")


def _local_level(
    spec: ModelSpec, s: SpatialStructure, blocks: np.ndarray, d: dict[str, pt.TensorVariable]
) -> pt.TensorVariable:
    """Return each unit's level in every block, ``(n_units, n_blocks)``, 0 in the first.

    The levels sum to zero over units in every block (Knorr-Held's constraints for the
    type II interaction; the ICAR steps of type IV sum to zero per component already),
    so that the force-wide level is the temporal effect's alone. Without them a shift of
    every unit's level in a block trades off against ``tau`` in that block: a collective
    direction the sampler crosses slowly once counts are large (serious violence at
    force scale: R-hat 1.10 on ``tau``).
    """
    gap = _block_gaps(blocks)
    if spec.level_prior == "pc":
        sigma = pm.Exponential("sigma_level", sigma_rate(spec.sigma_level_upper, 0.01))
    else:
        # Boundary-avoiding Gamma(2) with mean sigma_level_upper / 5 (Chung et al. 2013).
        sigma = pm.Gamma("sigma_level", alpha=2.0, beta=10.0 / spec.sigma_level_upper)
    if spec.interaction == "iid" and "w_level_index" in d:
        walk = _partial_walk("level_raw", sigma, np.sqrt(gap), d, "w_level", ("step", "unit"))
        walk = walk - walk.mean(axis=1, keepdims=True)  # sum to zero over units
        level = pt.concatenate([pt.zeros((1, s.n_units)), walk], axis=0).T
        pm.Deterministic("level_now", level[:, -1], dims="unit")
        return level
    if spec.interaction == "iid":
        steps = pm.Normal("level_raw", 0.0, 1.0, dims=("step", "unit"))
        steps = steps - steps.mean(axis=1, keepdims=True)  # sum to zero over units
    else:
        steps = pm.Flat("level_raw", dims=("step", "unit"))
        _icar_potential("level_icar_logp", steps, s)
        steps = _centred(steps, s) / np.sqrt(s.scale)[None, :]
    steps = sigma * np.sqrt(gap)[:, None] * steps
    zero = pt.zeros((1, s.n_units))
    level = pt.concatenate([zero, pt.cumsum(steps, axis=0)], axis=0).T
    pm.Deterministic("level_now", level[:, -1], dims="unit")
    return level


def _negbin(y: pt.TensorVariable, obs: pt.TensorVariable, eta: pt.TensorVariable) -> None:
    """Add the masked negative-binomial log likelihood (constants in ``y`` dropped)."""
    inv = pm.Exponential("inv_sqrt_size", sigma_rate(1.0, 0.01))
    size = pm.Deterministic("size", 1.0 / inv**2)
    log_size = pt.log(size)
    ll = (
        pt.gammaln(y + size)
        - pt.gammaln(size)
        + size * log_size
        + y * eta
        - (size + y) * pt.logaddexp(log_size, eta)
    )
    pm.Potential("loglik", pt.sum(ll * obs[None, :]))
