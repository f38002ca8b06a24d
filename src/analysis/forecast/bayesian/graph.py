"""The PyMC model of a :class:`~.spec.ModelSpec` for one window, and the data it is fed.

:func:`build_model` builds the model (the family is described in :mod:`.spec`);
:func:`model_data` returns the values of its data containers, which another origin's
window (same shapes) can replace without rebuilding or recompiling.

With the Poisson likelihood the log likelihood factorises over blocks::

    sum_i a_i Y_i + sum_t c_t Y_t + sum_ik level_ik Y_ik - sum_ik exp(a_i + level_ik) E_k

(``a_i`` the unit terms, ``c_t`` the period terms, ``Y`` the count sums and ``E_k`` the
sum of ``exp(c_t)`` over block ``k``), so a gradient costs ``O(n_units * n_blocks)``,
not ``O(n_units * window)``. The negative binomial needs every cell and costs more.

Periods of the window before the data begin are masked out of the likelihood, so the
shapes, and with them the compiled model, stay the same across the origins of a backtest.
Only neighbour pairs (never an ``N x N`` matrix) enter the model.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from analysis.forecast.bayesian.coordinates import (
    _block_gaps,
    _centring_weights,
    _level_weights,
    _partial_walk,
    _static_field_weight,
    _totals_scale,
    level_scale_estimate,
)
from analysis.forecast.bayesian.priors import bym2_rho_logp, bym2_rho_rate, sigma_rate
from analysis.forecast.bayesian.spec import DEFAULT_PERIODS_PER_YEAR, ModelSpec, block_index
from analysis.forecast.bayesian.structure import SpatialStructure

__all__ = ["build_model", "model_data"]


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
    periods_per_year: int = DEFAULT_PERIODS_PER_YEAR,
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
        ``(window,)`` period of the year (``0 .. periods_per_year - 1``) of each column.
    log_offset : numpy.ndarray
        ``(n_units,)`` log offset.
    covariates : numpy.ndarray, optional
        ``(n_units, n_covariates)`` standardised covariates.
    selection_span : numpy.ndarray, optional
        ``(window,)`` 1 for the periods in which every unit was required to have an
        offence (the units were chosen that way); the model then also keeps each unit's
        expected count over them, ``mu_unit_selected``, for the posterior predictive
        checks. Never enters the density.
    periods_per_year : int
        Periods in a year, from the data's calendar (``ForecastContext.periods_per_year``):
        the length of the ``season`` dimension, and the unit of the local levels' step
        variance (per year).

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
    coords = {"unit": np.arange(n), "period": np.arange(w), "season": np.arange(periods_per_year)}
    if use_level:
        coords["step"] = np.arange(n_blocks - 1)
        coords["block"] = np.arange(n_blocks)
    data = model_data(spec, counts, observed, season, log_offset, selection_span, periods_per_year)
    with pm.Model(coords=coords) as model:
        d = {k: pm.Data(k, v) for k, v in data.items()}
        if spec.centring == "totals":
            _totals_model(
                spec, structure, d, blocks, use_level, log_offset, covariates, periods_per_year
            )
            return model
        unit = pm.math.constant(log_offset) + d["centre"] + pm.Normal("b0", 0.0, 1.0)
        period = _temporal(spec, w)
        if spec.seasonal:
            period = period + _season(spec)[d["season"]]
        unit = _unit_terms(spec, structure, d, unit, covariates)
        level, index = _levels(spec, structure, blocks, d, use_level, periods_per_year)
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
    periods_per_year: int = DEFAULT_PERIODS_PER_YEAR,
) -> dict[str, np.ndarray]:
    """Return the values of a model's data containers for one window.

    The Poisson model sees count sums per unit, per period and per unit and block; the
    negative binomial sees every count. ``selection_span`` (see :func:`build_model`) is
    kept, masked to the observed periods, when given. ``periods_per_year`` is the
    model's (:func:`build_model`): it sets the years between blocks.

    Raises
    ------
    ValueError
        If a period of the year in ``season`` is outside ``0 .. periods_per_year - 1``.
    """
    season = np.asarray(season, dtype=np.int64)
    if season.size and (season.min() < 0 or season.max() >= periods_per_year):
        raise ValueError(
            f"season holds periods of the year {season.min()}..{season.max()}, "
            f"outside 0..{periods_per_year - 1} ({periods_per_year} periods a year)"
        )
    obs = observed.astype(float)
    y = counts.astype(float) * obs[None, :]
    out: dict[str, np.ndarray] = {
        "observed": obs,
        "season": season,
        "centre": np.asarray(_centre(counts, observed, log_offset)),
    }
    if selection_span is not None:
        out["selection_span"] = np.asarray(selection_span, dtype=float) * obs
    blocks = block_index(spec, counts.shape[1])
    onehot = _block_onehot(blocks)
    y_block = y @ onehot
    seen_block = obs @ onehot
    gap = _block_gaps(blocks, periods_per_year)
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


def _totals_model(
    spec: ModelSpec,
    s: SpatialStructure,
    d: dict[str, pt.TensorVariable],
    blocks: np.ndarray,
    use_level: bool,
    log_offset: np.ndarray,
    covariates: np.ndarray | None,
    periods_per_year: int,
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
    level, index = _levels(spec, s, blocks, d, use_level, periods_per_year)
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
    periods_per_year: int,
) -> tuple[pt.TensorVariable, np.ndarray]:
    """Return the units' levels ``(n_units, n_blocks)`` and each period's block.

    Without an interaction the level is a single column of zeros and every period is in
    block 0.
    """
    if use_level:
        return _local_level(spec, s, blocks, d, periods_per_year), blocks
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
    """Return the seasonal effect: ``sigma`` times a sum-to-zero normal.

    One value per period of the year (the ``season`` dimension, ``periods_per_year``
    long).
    """
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
    spec: ModelSpec,
    s: SpatialStructure,
    blocks: np.ndarray,
    d: dict[str, pt.TensorVariable],
    periods_per_year: int,
) -> pt.TensorVariable:
    """Return each unit's level in every block, ``(n_units, n_blocks)``, 0 in the first.

    A step's variance is ``sigma_level**2`` times the years (of ``periods_per_year``
    periods) between the blocks' centres.

    The levels sum to zero over units in every block (Knorr-Held's constraints for the
    type II interaction; the ICAR steps of type IV sum to zero per component already),
    so that the force-wide level is the temporal effect's alone. Without them a shift of
    every unit's level in a block trades off against ``tau`` in that block: a collective
    direction the sampler crosses slowly once counts are large (serious violence at
    force scale: R-hat 1.10 on ``tau``).
    """
    gap = _block_gaps(blocks, periods_per_year)
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
