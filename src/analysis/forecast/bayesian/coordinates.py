"""The coordinates each latent field is sampled in, chosen from the window's data.

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
derived from it (see :func:`.graph._totals_model`); the rest is as in ``"fixed"``.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from analysis.forecast.bayesian.spec import ModelSpec

__all__ = [
    "MAX_WALK",
    "MAX_WEIGHT",
    "WEIGHT_LEVELS",
    "field_scale_estimate",
    "level_scale_estimate",
    "overdispersion_variance",
]

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


def _block_gaps(blocks: np.ndarray, periods_per_year: int) -> np.ndarray:
    """Return the distance in years (of ``periods_per_year``) between block centres."""
    centres = np.array([np.flatnonzero(blocks == k).mean() for k in range(blocks.max() + 1)])
    return np.diff(centres) / periods_per_year


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
