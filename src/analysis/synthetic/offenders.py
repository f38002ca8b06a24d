"""Synthetic offenders: criminal careers in which harm can escalate, and their charges.

Each person has a career start and end, an offending rate that follows the age-crime curve,
and an *escalation state* ``e(t) = e0 + gamma * years_into_career``. The offence family of
each offence is drawn with probabilities proportional to ``share_f * exp(kappa * s_f * e)``,
where ``s_f`` is the family's severity: as ``e`` grows, harmful families become likelier.
About ``escalator_share`` of people have a clearly positive ``gamma``. Only some offences
lead to a charge (by family), after a lag; charges carry an outcome.

The synthetic world has **no** difference in offending by sex or ethnicity beyond the
documented sex mix; ``charge_bias`` (default none) lets a test scenario make policing, not
offending, differ by group, so that the fairness audit can be shown to detect it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.pseudonymise import pseudonymise

#: Offence families of careers: (code charged, base share, severity, charge probability,
#: mean days from offence to charge).
FAMILIES = pd.DataFrame(
    [
        ("shoplifting", "46", 0.24, 0.0, 0.35, 15.0),
        ("drug_possession", "92E", 0.16, 0.3, 0.60, 20.0),
        ("criminal_damage", "58E", 0.12, 0.3, 0.10, 25.0),
        ("public_order", "9", 0.10, 0.4, 0.25, 20.0),
        ("violence_without_injury", "105A", 0.16, 0.6, 0.12, 25.0),
        ("burglary_residential", "28E", 0.05, 0.9, 0.06, 45.0),
        ("weapons", "10D", 0.04, 1.2, 0.60, 20.0),
        ("violence_with_injury", "8N", 0.10, 1.4, 0.18, 30.0),
        ("robbery", "34B", 0.025, 1.6, 0.12, 45.0),
        ("arson", "56B", 0.006, 1.2, 0.10, 45.0),
        ("sexual", "19C", 0.003, 1.8, 0.08, 120.0),
        ("homicide", "1", 0.0004, 2.5, 0.85, 60.0),
    ],
    columns=["family", "code", "share", "severity", "p_charge", "lag_days"],
).set_index("family")

#: Birmingham's Census 2021 ethnic mix (broad groups) and the split into police
#: self-defined ethnicity codes used for the synthetic population.
ETHNIC_MIX = {"White": 0.486, "Asian": 0.310, "Black": 0.110, "Mixed": 0.044, "Other": 0.050}
ETHNIC_CODES = {
    "White": {"W1": 0.85, "W2": 0.02, "W9": 0.13},
    "Asian": {"A1": 0.20, "A2": 0.55, "A3": 0.12, "A4": 0.03, "A9": 0.10},
    "Black": {"B1": 0.40, "B2": 0.45, "B9": 0.15},
    "Mixed": {"M1": 0.45, "M2": 0.10, "M3": 0.30, "M9": 0.15},
    "Other": {"O1": 0.30, "O9": 0.70},
}

YEAR = 365.25
MONTH = YEAR / 12


@dataclass(frozen=True)
class CareerParams:
    """Parameters of the offender population (documented in the datasheet)."""

    people: int = 42_000
    start_years_before: float = 5.0
    male_share: float = 0.84
    not_stated_share: float = 0.03
    start_age_min: float = 12.0
    start_age_shape: float = 2.0
    start_age_scale: float = 4.0
    career_mean_years: float = 8.0
    rate_shape: float = 1.0
    rate_mean: float = 1.6
    peak_age: float = 21.0
    escalator_share: float = 0.15
    escalator_gamma: tuple[float, float] = (0.6, 0.15)
    other_gamma: tuple[float, float] = (-0.05, 0.10)
    e0_sd: float = 0.5
    kappa: float = 1.2
    e_bounds: tuple[float, float] = (-2.0, 3.0)
    pending_decay_days: float = 120.0
    outcome_shares: dict[str, float] = field(
        default_factory=lambda: {"convicted": 0.74, "acquitted": 0.09, "no_further_action": 0.17}
    )
    charge_bias: dict[str, float] = field(default_factory=dict)


def age_factor(age: np.ndarray, peak: float) -> np.ndarray:
    """Relative offending rate by age: 1 at the peak, rising before and falling after."""
    a = np.clip(np.asarray(age, dtype=float), 10.0, None) / peak
    return a**2 * np.exp(2.0 * (1.0 - a))


def make_people(
    n: int,
    first_day: float,
    last_day: float,
    home_weights: np.ndarray,
    params: CareerParams,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw the offender population (days are counted from the simulation's day 0).

    Returns
    -------
    pandas.DataFrame
        One row per person: ``serial, sex, ethnic_group, ethnicity, home (LSOA index),
        birth_day, start_day, end_day, rate, e0, gamma, escalator``.
    """
    start = rng.uniform(first_day, last_day, n)
    start_age = params.start_age_min + rng.gamma(params.start_age_shape, params.start_age_scale, n)
    escalator = rng.uniform(size=n) < params.escalator_share
    gamma = np.where(
        escalator,
        rng.normal(*params.escalator_gamma, n),
        rng.normal(*params.other_gamma, n),
    )
    groups = np.array(list(ETHNIC_MIX))
    group = groups[rng.choice(len(groups), n, p=np.array(list(ETHNIC_MIX.values())))]
    code = np.empty(n, dtype=object)
    for g, codes in ETHNIC_CODES.items():
        idx = np.flatnonzero(group == g)
        code[idx] = rng.choice(list(codes), len(idx), p=np.array(list(codes.values())))
    ns = rng.uniform(size=n) < params.not_stated_share
    code[ns] = "NS"
    rate_scale = params.rate_mean / params.rate_shape
    return pd.DataFrame(
        {
            "serial": np.arange(n),
            "sex": np.where(rng.uniform(size=n) < params.male_share, "M", "F"),
            "ethnic_group": group,
            "ethnicity": code,
            "home": rng.choice(len(home_weights), n, p=home_weights / home_weights.sum()),
            "birth_day": start - start_age * YEAR,
            "start_day": start,
            "end_day": start + rng.exponential(params.career_mean_years, n) * YEAR,
            "rate": rng.gamma(params.rate_shape, rate_scale, n) * np.where(escalator, 1.3, 1.0),
            "e0": rng.normal(0.0, params.e0_sd, n),
            "gamma": gamma,
            "escalator": escalator,
        }
    )


def family_probabilities(e: np.ndarray, kappa: float) -> np.ndarray:
    """Offence-family probabilities for escalation states ``e`` (rows) over FAMILIES."""
    w = FAMILIES["share"].to_numpy()[None, :] * np.exp(
        kappa * np.outer(e, FAMILIES["severity"].to_numpy())
    )
    return w / w.sum(axis=1, keepdims=True)


def simulate_offences(
    people: pd.DataFrame,
    idx: np.ndarray,
    day_from: float,
    day_to: float,
    params: CareerParams,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Simulate offences of people ``idx`` in ``[day_from, day_to)`` and their charges.

    ``idx`` may repeat a person (one entry per Monte Carlo replicate).

    Returns
    -------
    pandas.DataFrame
        ``entry`` (position in ``idx``), ``person`` (row of ``people``), ``day``,
        ``family``, ``charged`` (bool), ``charge_day``.
    """
    n_months = int(np.ceil((day_to - day_from) / MONTH))
    p = people.iloc[idx]
    m_start = day_from + np.arange(n_months) * MONTH
    m_end = np.minimum(m_start + MONTH, day_to)
    lo = np.maximum(m_start[None, :], p["start_day"].to_numpy()[:, None])
    hi = np.minimum(m_end[None, :], p["end_day"].to_numpy()[:, None])
    exposure = np.clip(hi - lo, 0.0, None)
    mid = (lo + hi) / 2
    age = (mid - p["birth_day"].to_numpy()[:, None]) / YEAR
    lam = p["rate"].to_numpy()[:, None] * age_factor(age, params.peak_age) * exposure / YEAR
    counts = rng.poisson(lam)
    entry, month = np.nonzero(counts)
    reps = counts[entry, month]
    entry, month = np.repeat(entry, reps), np.repeat(month, reps)
    day = lo[entry, month] + rng.uniform(size=len(entry)) * exposure[entry, month]
    person = np.asarray(idx)[entry]
    years_in = (day - people["start_day"].to_numpy()[person]) / YEAR
    e = np.clip(
        people["e0"].to_numpy()[person] + people["gamma"].to_numpy()[person] * years_in,
        *params.e_bounds,
    )
    probs = family_probabilities(e, params.kappa)
    u = rng.uniform(size=len(e))[:, None]
    fam_idx = np.minimum((u > np.cumsum(probs, axis=1)).sum(axis=1), len(FAMILIES) - 1)
    families = FAMILIES.index.to_numpy()[fam_idx]
    bias = people["ethnic_group"].map(params.charge_bias).fillna(1.0).to_numpy()[person]
    p_charge = np.clip(FAMILIES["p_charge"].to_numpy()[fam_idx] * bias, 0.0, 1.0)
    charged = rng.uniform(size=len(e)) < p_charge
    charge_day = day + rng.exponential(FAMILIES["lag_days"].to_numpy()[fam_idx])
    return pd.DataFrame(
        {
            "entry": entry,
            "person": person,
            "day": day,
            "family": families,
            "charged": charged,
            "charge_day": charge_day,
        }
    )


def charges_table(
    offences: pd.DataFrame,
    people: pd.DataFrame,
    lsoa_codes: np.ndarray,
    day0: pd.Timestamp,
    first_day: float,
    last_day: float,
    key: bytes,
    params: CareerParams,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Build the charges extract (strings, in the charges contract) for charge days in range.

    Returns
    -------
    pandas.DataFrame
        Contract columns plus ``person`` (row of ``people``) and ``charge_day`` for the
        ground truth; the writer drops those two.
    """
    ch = offences.loc[
        offences["charged"]
        & (offences["charge_day"] >= first_day)
        & (offences["charge_day"] < last_day + 1)
    ].sort_values(["charge_day", "person"], kind="stable")
    ch = ch.reset_index(drop=True)
    person = ch["person"].to_numpy()
    date = day0 + pd.to_timedelta(np.floor(ch["charge_day"].to_numpy()), unit="D")
    age = np.floor((ch["charge_day"].to_numpy() - people["birth_day"].to_numpy()[person]) / YEAR)
    since = last_day - ch["charge_day"].to_numpy()
    pending = rng.uniform(size=len(ch)) < np.exp(-since / params.pending_decay_days)
    names = list(params.outcome_shares)
    shares = np.array(list(params.outcome_shares.values()))
    outcome = np.array(names)[rng.choice(len(names), len(ch), p=shares / shares.sum())]
    outcome = np.where(pending, "pending", outcome)
    ids = pseudonymise(pd.Series(people["serial"].to_numpy()[person]).astype(str), key)
    return pd.DataFrame(
        {
            "person_id": ids,
            "crime_ref": [
                f"SYC{d:%y}-{i:07d}" for d, i in zip(date, range(1, len(ch) + 1), strict=True)
            ],
            "charge_date": date.strftime("%Y-%m-%d"),
            "offence_code": FAMILIES["code"].reindex(ch["family"]).to_numpy(),
            "outcome": outcome,
            "age": age.astype(int).astype(str),
            "sex": people["sex"].to_numpy()[person],
            "ethnicity": people["ethnicity"].to_numpy()[person],
            "home_lsoa": lsoa_codes[people["home"].to_numpy()[person]],
            "person": person,
            "charge_day": ch["charge_day"].to_numpy(),
            "family": ch["family"].to_numpy(),
        }
    )


def escalation_truth(
    people: pd.DataFrame,
    charges: pd.DataFrame,
    offences: pd.DataFrame,
    chi: pd.Series,
    reference_day: float,
    params: CareerParams,
    rng: np.random.Generator,
    *,
    replicates: int = 200,
    quantile: float = 0.95,
) -> tuple[pd.DataFrame, float]:
    """Estimate the true probability of becoming high harm in the 12 months after a date.

    Harm is the Cambridge CHI weight of each charge, summed over the charges dated in a
    window. At the reference date the threshold is the ``quantile`` of trailing-12-month
    harm among people charged in those 12 months. The cohort is everyone charged at least
    once before the reference date (within the extract) who is not high harm. Their true
    probability is estimated by simulating their offending after the reference date
    ``replicates`` times from their latent career; charges already determined by offences
    before the date are taken as they happened.

    Returns
    -------
    truth : pandas.DataFrame
        ``person`` (row of ``people``), ``true_probability``, ``realised`` (the outcome in
        the simulated world), ``escalator``.
    threshold : float
        The high-harm threshold fixed at the reference date, in CHI days.
    """
    day = charges["charge_day"].to_numpy()
    w = charges["family"].map(chi).fillna(0.0).to_numpy()
    before = charges.loc[day < reference_day]
    trailing = (day >= reference_day - YEAR) & (day < reference_day)
    harm_now = pd.Series(w[trailing]).groupby(charges["person"].to_numpy()[trailing]).sum()
    threshold = float(np.quantile(harm_now.to_numpy(), quantile))
    cohort = np.setdiff1d(before["person"].unique(), harm_now.index[harm_now >= threshold])
    after = (day >= reference_day) & (day < reference_day + YEAR)
    realised_harm = pd.Series(w[after]).groupby(charges["person"].to_numpy()[after]).sum()

    # Charges after the date from offences committed before it are fixed.
    fixed = offences.loc[
        offences["charged"]
        & (offences["day"] < reference_day)
        & (offences["charge_day"] >= reference_day)
        & (offences["charge_day"] < reference_day + YEAR)
    ]
    fixed_harm = (
        fixed["family"]
        .map(chi)
        .fillna(0.0)
        .groupby(fixed["person"])
        .sum()
        .reindex(cohort, fill_value=0.0)
        .to_numpy()
    )
    idx = np.repeat(cohort, replicates)
    sim = simulate_offences(people, idx, reference_day, reference_day + YEAR, params, rng)
    sim = sim.loc[sim["charged"] & (sim["charge_day"] < reference_day + YEAR)]
    sim_harm = np.bincount(
        sim["entry"].to_numpy(),
        weights=sim["family"].map(chi).fillna(0.0).to_numpy(),
        minlength=len(idx),
    ).reshape(len(cohort), replicates)
    prob = ((sim_harm + fixed_harm[:, None]) >= threshold).mean(axis=1)
    truth = pd.DataFrame(
        {
            "person": cohort,
            "true_probability": prob,
            "realised": realised_harm.reindex(cohort, fill_value=0.0).to_numpy() >= threshold,
            "escalator": people["escalator"].to_numpy()[cohort],
        }
    )
    return truth, threshold
