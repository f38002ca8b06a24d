"""Ground truth for the forecasts: the true expected count per unit and 4-week period.

For period *k* starting at ``t0`` the truth is the expected number of group offences in each
unit during the period *given the full true history before* ``t0``:

* the **background** part is exact: the background rate integrated over the period, spread
  over each LSOA uniformly and multiplied by the LSOA's probability that an offence falls in
  the group;
* the **triggered** part (events set off by earlier events, and by events inside the period)
  has no closed form once cascades and the study-area edge are accounted for, so it is
  estimated by simulating the period forward ``replicates`` times from the history (the
  Monte Carlo standard error is reported alongside). Background events inside the period
  are given a uniform time within the period for this purpose (the rate changes little
  within 28 days).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from analysis.data.offences import OffenceGroup, load_offence_codes
from analysis.space.grid import assign_points
from analysis.synthetic.crimes import INJURY, CrimeField, offspring


def overlap_matrix(units: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame) -> sparse.csr_matrix:
    """Share of each LSOA's area that lies in each unit, shape (n_units, n_lsoa)."""
    tree = shapely.STRtree(lsoa.geometry.to_numpy())
    iu, il = tree.query(units.geometry.to_numpy(), predicate="intersects")
    inter = shapely.area(
        shapely.intersection(units.geometry.to_numpy()[iu], lsoa.geometry.to_numpy()[il])
    )
    share = inter / lsoa.geometry.area.to_numpy()[il]
    keep = share > 0
    return sparse.csr_matrix((share[keep], (iu[keep], il[keep])), shape=(len(units), len(lsoa)))


def group_probabilities(field_: CrimeField, groups: dict[str, OffenceGroup]) -> pd.DataFrame:
    """Probability that an offence in each LSOA belongs to each group (columns: groups)."""
    codes = list(field_.code_probs.columns)
    combos = pd.DataFrame(
        [(c, k, i) for c in codes for k in (False, True) for i in (False, True)],
        columns=["offence_code", "knife", "injury"],
    )
    probs = field_.mark_probability(combos)
    table = load_offence_codes()
    out = {}
    for name, group in groups.items():
        member = group.mask(combos, table).to_numpy()
        out[name] = probs[:, member].sum(axis=1)
    assert all(c in INJURY for c in codes)
    return pd.DataFrame(out)


def _unit_index(
    units: gpd.GeoDataFrame | None, x: np.ndarray, y: np.ndarray, lsoa_idx: np.ndarray
) -> np.ndarray:
    if units is None:
        return lsoa_idx
    ids = assign_points(x, y, units)
    lookup = pd.Series(np.arange(len(units)), index=units["unit_id"].to_numpy())
    return pd.Series(ids).map(lookup).fillna(-1).astype(np.int64).to_numpy()


def expected_counts(
    field_: CrimeField,
    events: pd.DataFrame,
    groups: dict[str, OffenceGroup],
    unit_sets: dict[str, gpd.GeoDataFrame | None],
    pairs: list[tuple[str, str]],
    periods: pd.DataFrame,
    rng: np.random.Generator,
    *,
    replicates: int = 200,
    history_days: float = 60.0,
    pool_size: int = 256,
) -> pd.DataFrame:
    """Compute the true expected count for each (group, unit set) pair, unit and period.

    Parameters
    ----------
    field_ : CrimeField
        The true process.
    events : pandas.DataFrame
        All true events (``t``, ``x``, ``y``, ``lsoa``).
    groups : dict of str to OffenceGroup
        Offence groups.
    unit_sets : dict of str to GeoDataFrame or None
        Spatial units by name (None means the LSOAs themselves).
    pairs : list of (group, unit set)
        Which combinations to compute.
    periods : pandas.DataFrame
        ``period``, ``start``, ``end`` (exclusive) of the periods wanted.
    rng : numpy.random.Generator
        Random source for the Monte Carlo part.
    replicates : int
        Forward simulations per period.
    history_days : float
        Only events this recent can still trigger (the lag's survival after 60 days at a
        5-day mean is e^-12).
    pool_size : int
        Pre-drawn uniform points per LSOA used to place simulated background events.

    Returns
    -------
    pandas.DataFrame
        ``group, unit_set, unit_id, period, period_start, expected, background, triggered,
        triggered_mc_se``.
    """
    from analysis.synthetic.crimes import uniform_in_lsoas

    p = field_.params
    day0 = field_.days[0]
    n_lsoa = len(field_.lsoa)
    gp = group_probabilities(field_, groups)
    overlap = {
        name: (
            overlap_matrix(u, field_.lsoa)
            if u is not None
            else sparse.identity(n_lsoa, format="csr")
        )
        for name, u in unit_sets.items()
    }
    pool_idx = np.repeat(np.arange(n_lsoa), pool_size)
    pool_x, pool_y = uniform_in_lsoas(field_, pool_idx, rng)
    pool_x = pool_x.reshape(n_lsoa, pool_size)
    pool_y = pool_y.reshape(n_lsoa, pool_size)
    t_all = events["t"].to_numpy()
    frames = []
    for period, start, end in periods[["period", "start", "end"]].itertuples(index=False):
        a = float((start - day0).days)
        b = float((end - day0).days)
        bg = field_.mu[:, int(a) : int(b)].sum(axis=1)

        hist = events.loc[(t_all >= a - history_days) & (t_all < a)]
        ht = np.tile(hist["t"].to_numpy(), replicates)
        hx = np.tile(hist["x"].to_numpy(), replicates)
        hy = np.tile(hist["y"].to_numpy(), replicates)
        hrep = np.repeat(np.arange(replicates), len(hist))
        n_first = rng.poisson(p.branching * np.exp(-(a - ht) / p.trigger_mean_days))
        kids_h = offspring(
            field_, ht, hx, hy, rng, t_end=b, counts=n_first, lags_from=np.full(len(ht), a)
        )
        kids_h_rep = hrep[kids_h["root"].to_numpy(dtype=np.int64)]

        n_bg = rng.poisson(np.tile(bg, (replicates, 1)))
        rep_b, lsoa_b = np.nonzero(n_bg)
        cnt = n_bg[rep_b, lsoa_b]
        rep_b, lsoa_b = np.repeat(rep_b, cnt), np.repeat(lsoa_b, cnt)
        pick = rng.integers(0, pool_size, len(lsoa_b))
        bt = rng.uniform(a, b, len(lsoa_b))
        kids_b = offspring(field_, bt, pool_x[lsoa_b, pick], pool_y[lsoa_b, pick], rng, t_end=b)
        kids_b_rep = rep_b[kids_b["root"].to_numpy(dtype=np.int64)]
        kids = pd.concat(
            [kids_h.assign(rep=kids_h_rep), kids_b.assign(rep=kids_b_rep)], ignore_index=True
        )

        for group, unit_name in pairs:
            units = unit_sets[unit_name]
            w = gp[group].to_numpy()
            background = overlap[unit_name] @ (bg * w)
            n_units = overlap[unit_name].shape[0]
            uidx = _unit_index(
                units,
                kids["x"].to_numpy(),
                kids["y"].to_numpy(),
                kids["lsoa"].to_numpy().astype(np.int64),
            )
            ok = uidx >= 0
            weight = w[kids["lsoa"].to_numpy().astype(np.int64)[ok]]
            per_rep = np.zeros((replicates, n_units))
            np.add.at(per_rep, (kids["rep"].to_numpy()[ok], uidx[ok]), weight)
            triggered = per_rep.mean(axis=0)
            se = per_rep.std(axis=0, ddof=1) / np.sqrt(replicates)
            ids = (
                units["unit_id"].to_numpy()
                if units is not None
                else field_.lsoa["lsoa21cd"].to_numpy()
            )
            frames.append(
                pd.DataFrame(
                    {
                        "group": group,
                        "unit_set": unit_name,
                        "unit_id": ids,
                        "period": period,
                        "period_start": start.strftime("%Y-%m-%d"),
                        "expected": background + triggered,
                        "background": background,
                        "triggered": triggered,
                        "triggered_mc_se": se,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
