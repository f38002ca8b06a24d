"""High harm, and the cohort at a reference date with its features and target.

At a reference date ``D``:

- the **threshold** is fixed from the records before ``D``: by default the 95th percentile
  of harm in the 12 months before ``D`` among the people charged in those 12 months (or a
  fixed number of days);
- a person is **high harm** when their harm in those 12 months is at or above the threshold
  (and above zero);
- the **cohort** is everyone charged at least once before ``D`` who is not high harm;
- **features** come only from charges dated before ``D``;
- the **target** is whether the person's harm in the 12 months from ``D`` reaches the
  threshold fixed at ``D``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.offences import load_offence_codes
from analysis.harm.features import offence_families, person_features
from analysis.harm.index import HarmMeasure
from analysis.harm.person import harm_in_window, months_after, months_before


@dataclass(frozen=True)
class HighHarmRule:
    """How "high harm" is defined.

    Parameters
    ----------
    quantile : float
        Percentile (as a fraction) of trailing harm among people charged in the window.
    window_months : int
        Trailing window (and outcome horizon) in months.
    threshold_days : float, optional
        A fixed threshold in days instead of the percentile.
    """

    quantile: float = 0.95
    window_months: int = 12
    threshold_days: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.quantile < 1:
            raise ValueError("quantile must be between 0 and 1")
        if self.window_months < 1:
            raise ValueError("window_months must be at least 1")
        if self.threshold_days is not None and self.threshold_days <= 0:
            raise ValueError("threshold_days must be positive")

    def threshold(self, trailing: pd.Series) -> float:
        """Return the threshold given the trailing harm of the people charged in the window."""
        if self.threshold_days is not None:
            return float(self.threshold_days)
        if trailing.empty:
            raise ValueError("nobody was charged in the trailing window: no threshold")
        return float(np.quantile(trailing.to_numpy(dtype=float), self.quantile))

    def describe(self) -> str:
        """Return the rule in words."""
        if self.threshold_days is not None:
            return f"harm in the trailing {self.window_months} months >= {self.threshold_days} days"
        return (
            f"harm in the trailing {self.window_months} months at or above the "
            f"{100 * self.quantile:g}th percentile among people charged in those months"
        )


def is_high_harm(harm: pd.Series | np.ndarray, threshold: float) -> np.ndarray:
    """Return whether harm reaches the threshold (zero harm is never high harm)."""
    h = np.asarray(harm, dtype=float)
    return (h >= threshold) & (h > 0)


@dataclass
class Cohort:
    """The cohort at one reference date.

    Attributes
    ----------
    reference_date : pandas.Timestamp
        The date.
    measure : str
        Name of the harm measure.
    threshold : float
        High-harm threshold fixed at the date, in days.
    features : pandas.DataFrame
        Index ``person_id``; model features.
    people : pandas.DataFrame
        Same index: ``home_lsoa``, and audit-only ``sex``, ``ethnic_group``, ``age_now``.
    target : pandas.Series or None
        Bool, same index; None when the outcome window is not requested.
    future_harm : pandas.Series or None
        Harm in the outcome window (days).
    summary : dict
        Counts (no person-level data).
    """

    reference_date: pd.Timestamp
    measure: str
    threshold: float
    features: pd.DataFrame
    people: pd.DataFrame
    target: pd.Series | None = None
    future_harm: pd.Series | None = None
    summary: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.features)


def build_cohort(
    charges: pd.DataFrame,
    reference_date: pd.Timestamp | str,
    measure: HarmMeasure,
    rule: HighHarmRule | None = None,
    *,
    with_target: bool = True,
    data_end: pd.Timestamp | str | None = None,
    codes: pd.DataFrame | None = None,
    weights: np.ndarray | None = None,
) -> Cohort:
    """Build the cohort at a reference date.

    Parameters
    ----------
    charges : pandas.DataFrame
        Canonical charges (from :func:`analysis.data.load_charges`).
    reference_date : pandas.Timestamp or str
        The date ``D``.
    measure : HarmMeasure
        Index and counting rule.
    rule : HighHarmRule, optional
        Definition of high harm; default the 95th percentile over 12 months.
    with_target : bool
        Compute the target from charges in the ``window_months`` from ``D``.
    data_end : pandas.Timestamp or str, optional
        Last day covered by the data; with a target, an outcome window running past it is
        an error (an incomplete window would understate the outcome).
    codes : pandas.DataFrame, optional
        Offence code table; default the packaged table.
    weights : numpy.ndarray, optional
        Precomputed ``measure.weigh(charges)``.

    Returns
    -------
    Cohort

    Raises
    ------
    ValueError
        If the outcome window runs past ``data_end``.
    """
    rule = rule or HighHarmRule()
    codes = load_offence_codes() if codes is None else codes
    ref = pd.Timestamp(reference_date)
    w = measure.weigh(charges, codes) if weights is None else np.asarray(weights, dtype=float)
    date = charges["charge_date"].to_numpy(dtype="datetime64[ns]")
    before = date < np.datetime64(ref)

    window_start = months_before(ref, rule.window_months)
    trailing = harm_in_window(charges, measure, window_start, ref, weights=w)
    threshold = rule.threshold(trailing)
    high = trailing.index[is_high_harm(trailing, threshold)]

    history = charges.loc[before]
    features, people = person_features(
        history,
        w[before],
        ref,
        families=offence_families(codes),
        violent_codes=codes.index[codes["violent"]].tolist(),
    )
    keep = ~features.index.isin(high)
    features, people = features.loc[keep], people.loc[keep]
    summary: dict[str, object] = {
        "reference_date": ref.date().isoformat(),
        "measure": measure.name,
        "threshold_days": threshold,
        "rule": rule.describe(),
        "charged_before": int(keep.size),
        "charged_in_trailing_window": len(trailing),
        "high_harm": len(high),
        "cohort": int(keep.sum()),
    }
    cohort = Cohort(ref, measure.name, threshold, features, people, summary=summary)
    if with_target:
        horizon = months_after(ref, rule.window_months)
        if data_end is not None and pd.Timestamp(data_end) < horizon - pd.Timedelta(days=1):
            raise ValueError(
                f"the outcome window {ref.date()} to {horizon.date()} runs past the end of "
                f"the data ({pd.Timestamp(data_end).date()})"
            )
        future = harm_in_window(charges, measure, ref, horizon, weights=w)
        future = future.reindex(features.index, fill_value=0.0)
        cohort.future_harm = future
        cohort.target = pd.Series(
            is_high_harm(future, threshold), index=features.index, name="high_harm_next"
        )
        summary["outcome_window_end"] = horizon.date().isoformat()
        summary["positives"] = int(cohort.target.sum())
        summary["prevalence"] = float(cohort.target.mean()) if len(cohort) else float("nan")
    return cohort
