"""The sensitivity table: how the high-harm group changes between any two measures.

The CSS weights here are made up for the test; no CSS weights ship with the package.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data.offences import load_offence_codes
from analysis.harm.cohort import HighHarmRule
from analysis.harm.index import CountingRule, HarmMeasure, cambridge_chi
from analysis.harm.official import load_css_table
from analysis.harm.sensitivity import high_harm_group, index_sensitivity

CODES = load_offence_codes()
REF = pd.Timestamp("2024-01-01")


def toy():
    # 20 people charged in 2023: P0 homicide (acquitted), P1 two robberies, P2 weapons,
    # everyone else shoplifting
    rows = [("P0", "1", "acquitted"), ("P1", "34B", "convicted"), ("P1", "34B", "convicted")]
    rows += [("P2", "10D", "convicted")]
    rows += [(f"P{i}", "46", "convicted") for i in range(3, 20)]
    df = pd.DataFrame(rows, columns=["person_id", "offence_code", "outcome"])
    df["charge_date"] = pd.Timestamp("2023-06-01")
    df["family"] = df["offence_code"].map(CODES["family"])
    return df


def test_groups_and_pairs_known_answers(tmp_path):
    # made-up test weights that rank weapons above homicide, for a visible difference
    path = tmp_path / "css.csv"
    path.write_text("code,weight\n1,100\n34B,10\n10D,1000\n46,1\n")
    css, _ = load_css_table(path)
    rule = HighHarmRule(threshold_days=500)
    chi = HarmMeasure(cambridge_chi())
    convictions = HarmMeasure(cambridge_chi(), CountingRule.CONVICTIONS)
    groups, pairs = index_sensitivity(toy(), REF, [chi, convictions, HarmMeasure(css)], rule)
    found = {
        m: high_harm_group(toy(), REF, x, rule)[0].tolist()
        for m, x in (("chi", chi), ("conv", convictions), ("css", HarmMeasure(css)))
    }
    assert sorted(found["chi"]) == ["P0", "P1"]  # 5475 and 730 days
    assert found["conv"] == ["P1"]  # the acquitted homicide no longer counts
    assert found["css"] == ["P2"]
    assert groups["high_harm"].tolist() == [2, 1, 1]
    assert groups["charged_in_window"].tolist() == [20, 20, 20]
    p = pairs.set_index(["measure_a", "measure_b"])
    row = p.loc[("cambridge_chi/charges", "cambridge_chi/convictions")]
    assert row["both"] == 1 and row["jaccard"] == pytest.approx(0.5)
    assert row["share_a_in_b"] == pytest.approx(0.5) and row["share_b_in_a"] == 1.0
    row = p.loc[("cambridge_chi/charges", "ons_css/charges")]
    assert row["both"] == 0 and row["jaccard"] == 0


def test_percentile_rule_adapts_to_each_index():
    chi = HarmMeasure(cambridge_chi())
    people, threshold, charged = high_harm_group(toy(), REF, chi, HighHarmRule(quantile=0.9))
    h = np.array([5475, 730, 273.75] + [1] * 17)
    assert threshold == pytest.approx(np.quantile(h, 0.9)) and charged == 20
    assert threshold == pytest.approx(273.75 + 0.1 * (730 - 273.75))
    assert sorted(people) == ["P0", "P1"]


def test_measures_need_distinct_names():
    chi = HarmMeasure(cambridge_chi())
    with pytest.raises(ValueError, match="distinct"):
        index_sensitivity(toy(), REF, [chi, chi])
