"""High harm, the cohort and its target; no feature depends on records after the date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.data.offences import load_offence_codes
from analysis.harm.cohort import HighHarmRule, build_cohort, is_high_harm
from analysis.harm.index import CountingRule, HarmMeasure, cambridge_chi
from analysis.harm.person import harm_in_window, rolling_harm, trailing_harm

CODES = load_offence_codes()
CHI = HarmMeasure(cambridge_chi())
REF = pd.Timestamp("2024-01-01")


def charges(rows):
    """rows: (person, date, code[, outcome[, age[, lsoa]]])."""
    full = []
    for r in rows:
        person, day, code, *rest = r
        outcome = rest[0] if len(rest) > 0 else "convicted"
        age = rest[1] if len(rest) > 1 else 30
        lsoa = rest[2] if len(rest) > 2 else "E01000001"
        full.append((person, pd.Timestamp(day), code, outcome, age, lsoa))
    df = pd.DataFrame(
        full, columns=["person_id", "charge_date", "offence_code", "outcome", "age", "home_lsoa"]
    )
    df["family"] = df["offence_code"].map(CODES["family"])
    df["sex"] = "M"
    df["ethnic_group"] = "White"
    df["row"] = np.arange(2, len(df) + 2)
    return df


# A: two assaults with injury in the year before REF (730 days): high harm at the 0.95
# percentile. B: shoplifting before, robbery after (365 days). C: old robbery, nothing after.
# D: drug possession before, weapons after (273.75 days). E: only charged after REF.
TOY = charges(
    [
        ("A", "2023-03-01", "8N"),
        ("A", "2023-09-01", "8N"),
        ("B", "2023-06-01", "46"),
        ("B", "2024-05-01", "34B"),
        ("C", "2021-05-01", "34B", "convicted", 20),
        ("C", "2023-12-31", "92E", "convicted", 22),
        ("D", "2023-11-15", "92E", "acquitted"),
        ("D", "2024-12-31", "10D"),
        ("D", "2025-01-01", "1"),  # just outside the 12-month outcome window
        ("E", "2024-02-01", "8N"),
    ]
)


def test_harm_in_windows_known_answers():
    h = harm_in_window(TOY, CHI, pd.Timestamp("2023-01-01"), REF)
    assert h.to_dict() == {"A": 730.0, "B": 1.0, "C": 3.0, "D": 3.0}
    assert trailing_harm(TOY, CHI, REF, 12).to_dict() == h.to_dict()
    long = rolling_harm(TOY, CHI, [REF, pd.Timestamp("2025-01-01")], 12)
    later = long.loc[long["date"] == "2025-01-01"].set_index("person_id")["harm_days"]
    assert later.to_dict() == {"B": 365.0, "D": 273.75, "E": 365.0}


def test_threshold_cohort_and_target_known_answers():
    # trailing harm of the people charged in 2023: A 730, B 1, C 3, D 3
    expected = float(np.quantile([730.0, 1.0, 3.0, 3.0], 0.95))
    c = build_cohort(TOY, REF, CHI, data_end="2025-06-30")
    assert c.threshold == pytest.approx(expected)
    assert list(c.features.index) == ["B", "C", "D"]  # A is high harm, E not yet charged
    assert c.summary["high_harm"] == 1 and c.summary["charged_before"] == 4
    # next 12 months: B 365, C 0, D 273.75 (the homicide on 2025-01-01 is outside)
    assert c.future_harm.to_dict() == {"B": 365.0, "C": 0.0, "D": 273.75}
    assert c.target.to_dict() == {"B": False, "C": False, "D": False}
    fixed = build_cohort(TOY, REF, CHI, HighHarmRule(threshold_days=300), data_end="2025-06-30")
    assert fixed.threshold == 300
    assert fixed.target.to_dict() == {"B": True, "C": False, "D": False}


def test_features_known_answers():
    c = build_cohort(TOY, REF, CHI, with_target=False)
    f = c.features
    assert f.loc["C", "harm_all"] == 368 and f.loc["C", "harm_12m"] == 3
    assert f.loc["C", "harm_24m"] == 3 and f.loc["C", "harm_3m"] == 3
    assert f.loc["C", "n_robbery"] == 1 and f.loc["C", "n_drug_possession"] == 1
    assert f.loc["C", "violent_all"] == 1 and f.loc["C", "violent_12m"] == 0
    assert f.loc["C", "days_since_last"] == 1 and f.loc["C", "age_first"] == 20
    assert f.loc["C", "age_now"] == pytest.approx(22 + 1 / 365.25)
    assert f.loc["C", "harm_max"] == 365 and f.loc["C", "harm_last"] == 3
    assert f.loc["C", "harm_trend"] == pytest.approx(np.log1p(3) - np.log1p(0))
    assert c.people.loc["C", "home_lsoa"] == "E01000001"
    # sex and ethnicity are kept apart, never features
    assert not {"sex", "ethnic_group", "ethnicity"} & set(f.columns)


def test_counting_rule_changes_harm():
    c = build_cohort(
        TOY, REF, HarmMeasure(cambridge_chi(), CountingRule.CONVICTIONS), with_target=False
    )
    assert c.features.loc["D", "harm_all"] == 0  # the acquitted possession does not count


def test_incomplete_outcome_window_is_refused():
    with pytest.raises(ValueError, match="runs past the end of the data"):
        build_cohort(TOY, REF, CHI, data_end="2024-06-30")


def test_zero_harm_is_never_high_harm():
    assert is_high_harm(pd.Series([0.0, 0.0, 5.0]), 0.0).tolist() == [False, False, True]


def test_feature_builder_refuses_history_reaching_the_date():
    from analysis.harm.features import person_features

    with pytest.raises(ValueError, match="leak"):
        person_features(TOY, np.zeros(len(TOY)), REF, families=["robbery"], violent_codes=[])


def _features(df):
    return build_cohort(df, REF, CHI, with_target=False)


def test_changing_records_after_the_date_changes_no_feature():
    base = _features(TOY)
    after = TOY["charge_date"] >= REF
    changed = TOY.copy()
    # change every field of later records, drop one and add new people and charges
    changed.loc[after, "offence_code"] = "1"
    changed.loc[after, "family"] = "homicide"
    changed.loc[after, "outcome"] = "acquitted"
    changed.loc[after, "age"] = 99
    changed.loc[after, "home_lsoa"] = "E01999999"
    changed = changed.drop(index=changed.index[after][0])
    extra = charges([("B", "2024-01-01", "1"), ("Z", "2024-03-03", "1"), ("C", "2030-01-01", "1")])
    changed = pd.concat([changed, extra], ignore_index=True)
    got = _features(changed)
    pd.testing.assert_frame_equal(base.features, got.features)
    pd.testing.assert_frame_equal(base.people, got.people)
    assert base.threshold == got.threshold


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "D", "E", "F"]),
            st.integers(min_value=0, max_value=900),
            st.sampled_from(["8N", "46", "34B", "10D", "1", "92E", "49"]),
            st.sampled_from(["convicted", "acquitted", "pending"]),
            st.integers(min_value=10, max_value=80),
        ),
        max_size=12,
    )
)
def test_any_later_records_leave_features_unchanged(later):
    rows = [
        (p, REF + pd.Timedelta(days=d), code, outcome, age, "E01000002")
        for p, d, code, outcome, age in later
    ]
    changed = pd.concat([TOY, charges(rows)], ignore_index=True) if rows else TOY
    for measure in (CHI, HarmMeasure(cambridge_chi(), CountingRule.CONVICTIONS)):
        base = build_cohort(TOY, REF, measure, with_target=False)
        got = build_cohort(changed, REF, measure, with_target=False)
        pd.testing.assert_frame_equal(base.features, got.features)
        assert base.threshold == got.threshold
