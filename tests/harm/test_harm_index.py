"""Harm indices: the published CHI medians, scope rules, counting rules, unweighted charges."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.data.offences import load_offence_codes
from analysis.harm.index import (
    CAMBRIDGE_CHI_VERSION,
    CountingRule,
    HarmIndex,
    HarmMeasure,
    cambridge_chi,
    cambridge_chi_by_family,
    index_families_without_weight,
)

# The published subgroup medians (days) from issue 5.
PUBLISHED = {
    "homicide": 5475,
    "sexual": 2555,  # rape
    "violence_with_injury": 365,
    "violence_without_injury": 10,
    "robbery": 365,
    "burglary_residential": 273.5,
    "weapons": 273.75,
    "arson": 185,
    "public_order": 7.5,
    "drug_possession": 3,
    "criminal_damage": 2,
    "shoplifting": 1,
}


def frame(codes, outcomes=None):
    table = load_offence_codes()
    return pd.DataFrame(
        {
            "offence_code": codes,
            "family": [table.loc[c, "family"] if c in table.index else None for c in codes],
            "outcome": outcomes or ["convicted"] * len(codes),
        }
    )


def test_packaged_table_is_exactly_the_published_medians():
    chi = cambridge_chi_by_family()
    assert chi.name == CAMBRIDGE_CHI_VERSION
    assert chi.to_dict() == pytest.approx(PUBLISHED)


def test_no_css_weights_ship_with_the_package():
    ref = Path(str(resources.files("analysis.harm") / "reference"))
    assert [p.name for p in ref.iterdir() if p.suffix == ".csv"] == [
        "cambridge_chi_family_medians.csv"
    ]


def test_codes_take_their_family_median_and_rape_only_the_rape_median():
    w = cambridge_chi().code_weights()
    assert w["8N"] == 365 and w["8P"] == 365 and w["1"] == 5475 and w["4.1"] == 5475
    assert w["10D"] == 273.75 and w["46"] == 1 and w["92E"] == 3
    assert w["19C"] == 2555 and w["19F"] == 2555
    # sexual assault is in the 'sexual' family but the published figure is the rape median
    assert np.isnan(w["20A"]) and np.isnan(w["17A"])
    # families without a published median have no weight
    assert np.isnan(w["2"]) and np.isnan(w["49"]) and np.isnan(w["92A"])


def test_weigh_gives_zero_to_unweighted_charges_and_reports_them():
    index = cambridge_chi()
    charges = frame(["8N", "20A", "49", "46", "49"])
    assert index.weigh(charges).tolist() == [365, 0, 0, 1, 0]
    report = index.unweighted(charges)
    assert report.to_dict() == {"sexual/20A": 1, "theft/49": 2}
    missing = index_families_without_weight(index)
    assert "theft" in missing and "attempted_murder" in missing and "homicide" not in missing


def test_code_weights_override_family_weights():
    index = HarmIndex(
        name="t",
        version="t1",
        source="test",
        by_family=pd.Series({"violence_with_injury": 365.0}),
        by_code=pd.Series({"8P": 500.0, "ZZ9": 7.0}),
    )
    charges = frame(["8N", "8P", "ZZ9"])
    assert index.weigh(charges).tolist() == [365, 500, 7]


def test_counting_rules():
    outcome = pd.Series(["convicted", "acquitted", "no_further_action", "pending"])
    assert CountingRule.CHARGES.counted(outcome).tolist() == [True] * 4
    assert CountingRule.EXCLUDE_ACQUITTED_NFA.counted(outcome).tolist() == [
        True,
        False,
        False,
        True,
    ]
    assert CountingRule.CONVICTIONS.counted(outcome).tolist() == [True, False, False, False]
    charges = frame(["8N"] * 4, outcome.tolist())
    m = HarmMeasure(cambridge_chi(), CountingRule.EXCLUDE_ACQUITTED_NFA)
    assert m.weigh(charges).tolist() == [365, 0, 0, 365]
    assert m.name == "cambridge_chi/exclude-acquitted-nfa"
