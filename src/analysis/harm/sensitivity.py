"""How the high-harm group changes with the harm index and the counting rule.

At one reference date the high-harm group is computed under each measure (index and
counting rule), and every pair of measures is compared: sizes, overlap, Jaccard index and
the share of one group also in the other. Only counts leave this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import pandas as pd

from analysis.harm.cohort import HighHarmRule, is_high_harm
from analysis.harm.index import HarmMeasure
from analysis.harm.person import trailing_harm


def high_harm_group(
    charges: pd.DataFrame,
    reference_date: pd.Timestamp,
    measure: HarmMeasure,
    rule: HighHarmRule | None = None,
) -> tuple[pd.Index, float, int]:
    """Return the high-harm people at a date, the threshold and how many were charged.

    Returns
    -------
    people : pandas.Index
        ``person_id`` of the high-harm group.
    threshold : float
        Threshold fixed at the date (days).
    charged : int
        People charged in the trailing window.
    """
    rule = rule or HighHarmRule()
    trailing = trailing_harm(charges, measure, reference_date, rule.window_months)
    threshold = rule.threshold(trailing)
    return trailing.index[is_high_harm(trailing, threshold)], threshold, len(trailing)


def index_sensitivity(
    charges: pd.DataFrame,
    reference_date: pd.Timestamp,
    measures: Sequence[HarmMeasure],
    rule: HighHarmRule | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare the high-harm groups of several measures at one date.

    Parameters
    ----------
    charges : pandas.DataFrame
        Canonical charges (only those before the date are used).
    reference_date : pandas.Timestamp
        The date.
    measures : sequence of HarmMeasure
        At least two measures with distinct names.
    rule : HighHarmRule, optional
        Definition of high harm (a percentile rule adapts to each index's scale; a fixed
        threshold in days is applied to every index as it stands).

    Returns
    -------
    groups : pandas.DataFrame
        One row per measure: ``measure, index_version, counting, threshold_days,
        charged_in_window, high_harm``.
    pairs : pandas.DataFrame
        One row per pair: ``measure_a, measure_b, high_harm_a, high_harm_b, both,
        jaccard, share_a_in_b, share_b_in_a``.
    """
    names = [m.name for m in measures]
    if len(set(names)) != len(names):
        raise ValueError(f"measures need distinct names, got {names}")
    ref = pd.Timestamp(reference_date)
    found = {}
    rows = []
    for m in measures:
        people, threshold, charged = high_harm_group(charges, ref, m, rule)
        found[m.name] = set(people)
        rows.append(
            {
                "measure": m.name,
                "index_version": m.index.version,
                "counting": m.counting.value,
                "threshold_days": threshold,
                "charged_in_window": charged,
                "high_harm": len(people),
            }
        )
    pairs = []
    for a, b in combinations(names, 2):
        ga, gb = found[a], found[b]
        both = len(ga & gb)
        union = len(ga | gb)
        pairs.append(
            {
                "measure_a": a,
                "measure_b": b,
                "high_harm_a": len(ga),
                "high_harm_b": len(gb),
                "both": both,
                "jaccard": both / union if union else float("nan"),
                "share_a_in_b": both / len(ga) if ga else float("nan"),
                "share_b_in_a": both / len(gb) if gb else float("nan"),
            }
        )
    return pd.DataFrame(rows), pd.DataFrame(pairs)
