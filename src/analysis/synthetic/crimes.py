"""Synthetic recorded violent crime: a known space-time intensity with near-repeat excitation.

The true process is a marked space-time Hawkes process on Birmingham's LSOAs:

* **Background** events in LSOA *i* on day *d* arrive at rate
  ``mu[i, d] = exp(alpha + beta_pop*log(pop_i/mean) + beta_dep*z_i + centre_i + u_i
  + sum_h transient_h(i, d)) * season(d) * trend(d)``, placed uniformly in the LSOA. ``z``
  is standardised deprivation, ``centre`` a night-time-economy bump around the city
  centre, ``u`` an independent effect per LSOA, and ``transient_h`` hotspots that rise and
  fade over months (so each area's level drifts, as real ones do).
* **Near-repeat excitation**: every event triggers Poisson(``branching``) further events,
  after an exponential lag (mean ``trigger_mean_days``) and a Gaussian displacement
  (``trigger_sd_m``); triggered events outside Birmingham are lost.
* **Marks**: an offence code from a mix that shifts with deprivation, then knife and injury
  flags with probabilities by code (knife use rising with deprivation).

Volumes are calibrated to West Midlands Police figures (see :data:`CALIBRATION`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

#: Sources of the volume calibration, recorded in the datasheet.
CALIBRATION = (
    "West Midlands Police recorded on average 11,038 'Violence and sexual offences', 559 "
    "robberies and 549 'Possession of weapons' offences a month (police.uk, April 2024 to "
    "April 2026); Birmingham's 659 LSOAs held 45% of the force's recorded crime over the same "
    "months (308,107 of 683,821). We take violence with injury to be about a quarter of "
    "violence and sexual offences (our assumption, near the England and Wales share), giving "
    "about 1,240 violence-with-injury offences, 250 robberies and 200 weapon possessions a "
    "month in Birmingham."
)

#: Offence mix: expected offences a month in Birmingham at the reference date, by code.
DEFAULT_CODE_MIX = {
    "8N": 1090.0,
    "8P": 25.0,
    "5D": 95.0,
    "5E": 6.0,
    "1": 1.8,
    "4.1": 0.3,
    "2": 5.0,
    "3B": 60.0,
    "34B": 225.0,
    "34A": 25.0,
    "10D": 150.0,
    "10C": 50.0,
}

#: Log-linear effect of deprivation on each code's share (others 0).
DEFAULT_CODE_DEPRIVATION = {"34B": 0.25, "10D": 0.3, "5D": 0.2, "1": 0.3, "2": 0.3}

#: Probability that a knife or sharp instrument was used, by code, at average deprivation.
KNIFE_BASE = {
    "8N": 0.03,
    "8P": 0.02,
    "5D": 0.35,
    "5E": 0.10,
    "1": 0.45,
    "4.1": 0.2,
    "2": 0.5,
    "3B": 0.25,
    "34B": 0.18,
    "34A": 0.15,
    "10D": 0.0,
    "10C": 0.0,
}

#: Probability of injury by code: (without knife, with knife).
INJURY = {
    "8N": (1.0, 1.0),
    "8P": (1.0, 1.0),
    "5D": (0.95, 0.95),
    "5E": (0.3, 0.5),
    "1": (1.0, 1.0),
    "4.1": (1.0, 1.0),
    "2": (0.8, 0.85),
    "3B": (0.0, 0.0),
    "34B": (0.12, 0.35),
    "34A": (0.08, 0.25),
    "10D": (0.0, 0.0),
    "10C": (0.0, 0.0),
}


@dataclass(frozen=True)
class CrimeParams:
    """Parameters of the true crime process (all documented in the datasheet)."""

    code_mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CODE_MIX))
    code_deprivation: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_CODE_DEPRIVATION)
    )
    knife_deprivation: float = 0.4
    reference_date: date = date(2025, 4, 1)
    beta_pop: float = 0.9
    beta_dep: float = 0.45
    centre: tuple[float, float] = (406_900.0, 286_900.0)
    centre_amp: float = 1.6
    centre_sd_m: float = 1_100.0
    iid_sd: float = 0.35
    season_amp: float = 0.12
    season_peak_doy: int = 196
    trend_per_year: float = 0.03
    n_transient: int = 12
    transient_amp: tuple[float, float] = (0.4, 1.0)
    transient_sd_m: float = 900.0
    transient_width_days: tuple[float, float] = (90.0, 300.0)
    branching: float = 0.15
    trigger_mean_days: float = 5.0
    trigger_sd_m: float = 150.0

    @property
    def monthly_volume(self) -> float:
        """Expected offences a month (30.44 days) at the reference date."""
        return float(sum(self.code_mix.values()))


@dataclass
class CrimeField:
    """The realised true intensity: everything needed to simulate and to compute truth.

    Attributes
    ----------
    lsoa : geopandas.GeoDataFrame
        LSOAs with covariates (BNG).
    days : pandas.DatetimeIndex
        Simulated days (burn-in included).
    mu : numpy.ndarray
        Background rate per LSOA and day, shape (n_lsoa, n_days).
    code_probs : pandas.DataFrame
        Probability of each offence code per LSOA (rows LSOAs, columns codes).
    knife_probs : pandas.DataFrame
        Probability of knife use per LSOA and code.
    params : CrimeParams
        The parameters.
    """

    lsoa: gpd.GeoDataFrame
    days: pd.DatetimeIndex
    mu: np.ndarray
    code_probs: pd.DataFrame
    knife_probs: pd.DataFrame
    params: CrimeParams
    tree: shapely.STRtree = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.tree = shapely.STRtree(self.lsoa.geometry.to_numpy())

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the LSOA index of each point, -1 outside Birmingham."""
        out = np.full(len(x), -1, dtype=np.int64)
        if len(x) == 0:
            return out
        pts = shapely.points(x, y)
        idx_pt, idx_poly = self.tree.query(pts, predicate="intersects")
        if len(idx_pt) == 0:
            return out
        # first polygon in LSOA order for boundary points, deterministically
        order = np.lexsort((idx_poly, idx_pt))
        idx_pt, idx_poly = idx_pt[order], idx_poly[order]
        first = np.r_[True, idx_pt[1:] != idx_pt[:-1]]
        out[idx_pt[first]] = idx_poly[first]
        return out

    def mark_probability(self, combos: pd.DataFrame) -> np.ndarray:
        """Probability of each (code, knife, injury) combination per LSOA.

        Parameters
        ----------
        combos : pandas.DataFrame
            Columns ``offence_code``, ``knife``, ``injury``.

        Returns
        -------
        numpy.ndarray
            Shape (n_lsoa, len(combos)).
        """
        out = np.zeros((len(self.lsoa), len(combos)))
        for j, (code, knife, injury) in enumerate(
            combos[["offence_code", "knife", "injury"]].itertuples(index=False)
        ):
            pc = self.code_probs[code].to_numpy()
            pk = self.knife_probs[code].to_numpy()
            pk = pk if knife else 1 - pk
            pi = INJURY[code][int(bool(knife))]
            pi = pi if injury else 1 - pi
            out[:, j] = pc * pk * pi
        return out


def build_field(
    lsoa: gpd.GeoDataFrame,
    z_dep: np.ndarray,
    start: date,
    end: date,
    params: CrimeParams,
    rng: np.random.Generator,
    scale: float = 1.0,
) -> CrimeField:
    """Draw the latent spatial effects and compute the daily background rate.

    Parameters
    ----------
    lsoa : geopandas.GeoDataFrame
        LSOAs with ``population`` (BNG).
    z_dep : numpy.ndarray
        Standardised deprivation per LSOA.
    start, end : date
        First and last simulated day (inclusive).
    params : CrimeParams
        Process parameters.
    rng : numpy.random.Generator
        Random source.
    scale : float
        Multiplier on all volumes.

    Returns
    -------
    CrimeField
    """
    days = pd.date_range(start, end, freq="D")
    n = len(lsoa)
    pts = lsoa.geometry.representative_point()
    px, py = pts.x.to_numpy(), pts.y.to_numpy()
    pop = lsoa["population"].to_numpy(dtype=float)
    d2c = (px - params.centre[0]) ** 2 + (py - params.centre[1]) ** 2
    static = (
        params.beta_pop * np.log(pop / pop.mean())
        + params.beta_dep * z_dep
        + params.centre_amp * np.exp(-d2c / (2 * params.centre_sd_m**2))
        + rng.normal(0.0, params.iid_sd, n)
    )
    t = np.arange(len(days), dtype=float)
    dynamic = np.zeros((n, len(days)))
    weights = pop / pop.sum()
    for _ in range(params.n_transient):
        h = rng.choice(n, p=weights)
        amp = rng.uniform(*params.transient_amp)
        width = rng.uniform(*params.transient_width_days)
        centre_day = rng.uniform(0, len(days))
        space = np.exp(-((px - px[h]) ** 2 + (py - py[h]) ** 2) / (2 * params.transient_sd_m**2))
        time = np.exp(-((t - centre_day) ** 2) / (2 * width**2))
        dynamic += amp * np.outer(space, time)
    doy = days.day_of_year.to_numpy()
    season = 1 + params.season_amp * np.cos(2 * np.pi * (doy - params.season_peak_doy) / 365.25)
    years = (days - pd.Timestamp(params.reference_date)).days.to_numpy() / 365.25
    trend = np.exp(params.trend_per_year * years)
    shape = np.exp(static[:, None] + dynamic) * (season * trend)[None, :]

    # Calibrate: expected background + triggered volume a month at the reference date.
    ref = int(np.clip((pd.Timestamp(params.reference_date) - days[0]).days, 0, len(days) - 1))
    window = slice(max(ref - 182, 0), min(ref + 183, len(days)))
    per_day = shape[:, window].sum(axis=0).mean()
    target_per_day = params.monthly_volume * scale / 30.44
    mu = shape * (target_per_day * (1 - params.branching) / per_day)

    codes = list(params.code_mix)
    base = np.array([params.code_mix[c] for c in codes])
    dep = np.array([params.code_deprivation.get(c, 0.0) for c in codes])
    w = base[None, :] * np.exp(np.outer(z_dep, dep))
    code_probs = pd.DataFrame(w / w.sum(axis=1, keepdims=True), columns=codes)
    kb = np.array([KNIFE_BASE[c] for c in codes])
    knife = np.clip(kb[None, :] * np.exp(params.knife_deprivation * z_dep)[:, None], 0, 0.95)
    knife_probs = pd.DataFrame(knife, columns=codes)
    return CrimeField(lsoa, days, mu, code_probs, knife_probs, params)


def uniform_in_lsoas(
    field_: CrimeField, lsoa_idx: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one uniform point inside the given LSOA for each entry of ``lsoa_idx``."""
    x = np.empty(len(lsoa_idx))
    y = np.empty(len(lsoa_idx))
    geoms = field_.lsoa.geometry.to_numpy()
    order = np.argsort(lsoa_idx, kind="stable")
    sorted_idx = lsoa_idx[order]
    bounds = np.r_[0, np.flatnonzero(np.diff(sorted_idx)) + 1, len(sorted_idx)]
    for a, b in itertools.pairwise(bounds):
        if a == b:
            continue
        poly = geoms[sorted_idx[a]]
        shapely.prepare(poly)
        minx, miny, maxx, maxy = poly.bounds
        need = b - a
        got_x: list[np.ndarray] = []
        got_y: list[np.ndarray] = []
        while need > 0:
            k = max(16, int(need * 3))
            cx = rng.uniform(minx, maxx, k)
            cy = rng.uniform(miny, maxy, k)
            inside = shapely.contains_xy(poly, cx, cy)
            cx, cy = cx[inside][:need], cy[inside][:need]
            got_x.append(cx)
            got_y.append(cy)
            need -= len(cx)
        x[order[a:b]] = np.concatenate(got_x)
        y[order[a:b]] = np.concatenate(got_y)
    return x, y


def offspring(
    field_: CrimeField,
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    *,
    t_end: float,
    counts: np.ndarray | None = None,
    lags_from: np.ndarray | None = None,
) -> pd.DataFrame:
    """Simulate every generation of triggered events descending from the given parents.

    Parameters
    ----------
    field_ : CrimeField
        The process.
    t, x, y : numpy.ndarray
        Parents' times (days since the first simulated day) and positions.
    rng : numpy.random.Generator
        Random source.
    t_end : float
        Events at or after this time are not simulated.
    counts : numpy.ndarray, optional
        Number of first-generation children per parent (default Poisson(branching)).
    lags_from : numpy.ndarray, optional
        Time from which first-generation lags are drawn (default the parents' times;
        memorylessness lets callers start the clock later).

    Returns
    -------
    pandas.DataFrame
        Columns ``t``, ``x``, ``y``, ``lsoa`` (index), ``generation`` and ``root`` (index of
        the first-generation ancestor among the given parents) of triggered events inside
        Birmingham and before ``t_end``.
    """
    p = field_.params
    out = []
    gen = 1
    origin = t if lags_from is None else lags_from
    root = np.arange(len(t))
    n_children = rng.poisson(p.branching, len(t)) if counts is None else counts
    while len(t):
        parent = np.repeat(np.arange(len(t)), n_children)
        root = root[parent]
        ct = np.repeat(origin, n_children) + rng.exponential(p.trigger_mean_days, len(parent))
        cx = x[parent] + rng.normal(0.0, p.trigger_sd_m, len(parent))
        cy = y[parent] + rng.normal(0.0, p.trigger_sd_m, len(parent))
        keep = ct < t_end
        ct, cx, cy, root = ct[keep], cx[keep], cy[keep], root[keep]
        where = field_.locate(cx, cy)
        inside = where >= 0
        t, x, y, where, root = ct[inside], cx[inside], cy[inside], where[inside], root[inside]
        out.append(
            pd.DataFrame({"t": t, "x": x, "y": y, "lsoa": where, "generation": gen, "root": root})
        )
        origin = t
        n_children = rng.poisson(p.branching, len(t))
        gen += 1
    if not out:
        return pd.DataFrame(columns=["t", "x", "y", "lsoa", "generation", "root"])
    return pd.concat(out, ignore_index=True)


def simulate_events(field_: CrimeField, rng: np.random.Generator) -> pd.DataFrame:
    """Simulate all true events (background and triggered) with their marks.

    Returns
    -------
    pandas.DataFrame
        One row per true event, sorted by time: ``t`` (days since the first simulated day),
        ``x``, ``y`` (BNG metres), ``lsoa`` (index), ``generation`` (0 = background),
        ``offence_code``, ``knife``, ``injury``.
    """
    counts = rng.poisson(field_.mu)
    lsoa_idx, day_idx = np.nonzero(counts)
    reps = counts[lsoa_idx, day_idx]
    lsoa_idx = np.repeat(lsoa_idx, reps)
    t = np.repeat(day_idx, reps) + rng.uniform(0.0, 1.0, len(lsoa_idx))
    x, y = uniform_in_lsoas(field_, lsoa_idx, rng)
    background = pd.DataFrame({"t": t, "x": x, "y": y, "lsoa": lsoa_idx, "generation": 0})
    triggered = offspring(field_, t, x, y, rng, t_end=float(len(field_.days)))
    events = pd.concat([background, triggered.drop(columns="root")], ignore_index=True)
    events = events.sort_values("t", kind="stable").reset_index(drop=True)
    return add_marks(field_, events, rng)


def add_marks(field_: CrimeField, events: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Draw offence code, knife and injury flags for each event from its LSOA's mark mix."""
    codes = np.array(field_.code_probs.columns)
    probs = field_.code_probs.to_numpy()[events["lsoa"].to_numpy()]
    u = rng.uniform(size=len(events))[:, None]
    pick = (u > np.cumsum(probs, axis=1)).sum(axis=1)
    pick = np.minimum(pick, len(codes) - 1)
    code = codes[pick]
    pk = field_.knife_probs.to_numpy()[events["lsoa"].to_numpy(), pick]
    knife = rng.uniform(size=len(events)) < pk
    inj_p = np.array([INJURY[c][int(k)] for c, k in zip(code, knife, strict=True)])
    injury = rng.uniform(size=len(events)) < inj_p
    events = events.copy()
    events["offence_code"] = code
    events["knife"] = knife
    events["injury"] = injury
    return events
