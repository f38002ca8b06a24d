"""Every statement of fact in the committee summary follows the run: change an input, and
the statement changes; the published fairness table discloses no count under 10."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
from test_committee import _plan  # the same small plan (tests/report is on the path)

from analysis.data.identifiers import IdentifierState
from analysis.report import atrs, committee
from analysis.report.disclosure import FAIRNESS_COUNTS, protect_fairness

FEATURES = ["harm_12m", "charges_12m", "age_now"]


def artefacts(tmp_path, features=FEATURES):
    """A harm run's aggregate artefacts, as the harm job writes them."""
    harm = tmp_path / "artefacts" / "harm"
    harm.mkdir(parents=True)
    pd.DataFrame(
        {"feature": [*features, "harm_all"], "kept": [True] * len(features) + [False]}
    ).to_csv(harm / "features.csv", index=False)
    run = {
        "rank_model": "logistic",
        "capacity_k": 100,
        "models": ["logistic", "prior_harm"],
        "reference_date": "2026-10-01",
        "cohorts": {"score": {"cohort": 17914}, "evaluate": {"cohort": 15418, "positives": 263}},
    }
    (harm / "run.json").write_text(json.dumps(run))
    (harm / "metrics.json").write_text(
        json.dumps({"logistic": {"precision_at_k": 0.25, "recall_at_k": 0.095}})
    )
    pd.DataFrame(
        {
            "model": ["logistic", "prior_harm"],
            "auc": [0.79, 0.64],
            "auc_low": [0.76, 0.60],
            "auc_high": [0.82, 0.67],
            "calibration_slope": [0.95, 1.3],
            "precision_at_k": [0.25, 0.12],
            "recall_at_k": [0.095, 0.05],
            "k": 100,
            "n": 15418,
            "positives": 263,
            "observed_rate": 0.017,
        }
    ).to_csv(harm / "performance.csv", index=False)
    return tmp_path / "artefacts"


def test_features_statement_says_whether_age_is_a_feature(tmp_path):
    plan = _plan(tmp_path, [])
    with_age = atrs.features_statement(atrs.run_facts(plan, artefacts(tmp_path / "a"))).data
    assert "**Age is a feature**" in with_age and "`age_now`" in with_age
    assert "Sex and ethnicity are never features" in with_age
    no_age = atrs.run_facts(plan, artefacts(tmp_path / "b", ["harm_12m", "charges_12m"]))
    text = atrs.features_statement(no_age).data
    assert "Age is a feature" not in text and "used 2 features" in text
    assert "Sex, ethnicity and age are never features" in text
    assert "protected characteristics among them: none" in " ".join(
        atrs.atrs_record(plan, no_age)["content"]
    )


def test_pseudonymisation_statement_follows_the_run(tmp_path):
    folder = artefacts(tmp_path)
    plain = _plan(tmp_path, [])
    keyed = dataclasses.replace(plain, data={"pseudonymised_on_load": True})
    assert "**not** keyed" in atrs.pseudonymisation_statement(atrs.run_facts(plain, folder)).data
    text = atrs.pseudonymisation_statement(atrs.run_facts(keyed, folder)).data
    assert "replaced by a keyed hash on load" in text and "not" not in text.split("**")[1]


def test_pseudonymisation_statement_says_why_identifiers_were_not_keyed(tmp_path):
    folder = artefacts(tmp_path)
    for state, words in (
        (IdentifierState.ALREADY, "--identifiers-already-pseudonymised"),
        (IdentifierState.SYNTHETIC, "invented by the sample generator"),
    ):
        plan = dataclasses.replace(_plan(tmp_path, []), data={"identifiers": state.value})
        text = atrs.pseudonymisation_statement(atrs.run_facts(plan, folder)).data
        assert "**not** keyed" in text and words in text


def test_force_fields_are_placeholders_until_supplied(tmp_path):
    plain = _plan(tmp_path, [])
    assert atrs.force_value(plain, "contact").startswith(atrs.PLACEHOLDER)
    given = dataclasses.replace(
        plain,
        data={"deployment": {"contact": "analysis@force.example", "review_date": "2027-01-01"}},
    )
    assert atrs.force_value(given, "contact") == "analysis@force.example"
    table = atrs.force_fields_table(given).set_index("key in deployment.yaml")
    assert table.loc["contact", "status"] == "supplied" and table.loc["dpia", "status"] == "missing"
    assert str(atrs.review_date(given)) == "2027-01-01"
    assert str(atrs.review_date(plain)) == "2027-04-01"  # six months after the run date


def test_plain_readings_are_computed_from_the_scores(tmp_path):
    text = committee.harm_readings(artefacts(tmp_path)).data
    assert "17,914 people" in text and "about **25 of the 100**" in text
    assert "238 were not" in text and "**90% of those who escalate are not listed**" in text


def test_scale_and_decision_follow_the_run(tmp_path):
    folder = artefacts(tmp_path)
    plan = dataclasses.replace(
        _plan(tmp_path, []),
        data={"synthetic": True, "identifiers": IdentifierState.SYNTHETIC.value},
    )
    text = atrs.decision_sought(plan, atrs.run_facts(plan, folder)).data
    assert "synthetic data" in text and "17,914 people scored" in text
    assert "| pseudonymisation | synthetic (invented by the sample generator" in text
    assert "01 April 2027" in text
    criteria = atrs.stop_criteria(plan, folder).set_index("criterion")
    auc = criteria.loc[criteria.index.str.startswith("Harm model: AUC")].iloc[0]
    assert auc["status"] == "met" and "0.64" in auc["this month"]


def audit_frame():
    """An audit of one model by sex: F small enough that its flagged count is under 10."""
    rows = []
    for group, n, pos, share, tpr in (
        ("all", 2000, 60, 0.05, 0.5),
        ("F", 200, 12, 0.03, 0.25),
        ("M", 1800, 48, 0.052, 0.5625),
    ):
        rows.append(
            {
                "model": "logistic",
                "attribute": "all" if group == "all" else "sex",
                "group": group,
                "n": n,
                "positives": pos,
                "suppressed": False,
                "share_flagged": share,
                "share_flagged_low": share / 2,
                "share_flagged_high": share * 2,
                "tpr": tpr,
                "tpr_low": 0.1,
                "tpr_high": 0.9,
                "fpr": 0.01,
                "auc": 0.8,
                "calibration_in_the_large": 0.0,
            }
        )
    return pd.DataFrame(rows)


def test_no_count_under_ten_can_be_worked_out_from_the_fairness_table():
    out = protect_fairness(audit_frame()).set_index("group")
    # F: flagged 6 and true positives 3 are primary; M's are secondary (all - F = M)
    assert out.loc["F", "flagged"] == "<10" and out.loc["F", "true_positives"] == "<10"
    assert out.loc["M", "flagged"] == "<10" and out.loc["M", "true_positives"] == "<10"
    assert out.loc["all", "flagged"] == "100"
    for g in ("F", "M"):  # rates that would give them back are gone with their intervals
        assert np.isnan(out.loc[g, "share_flagged"]) and np.isnan(out.loc[g, "share_flagged_high"])
        assert np.isnan(out.loc[g, "tpr"]) and np.isnan(out.loc[g, "fpr"])
        assert out.loc[g, "auc"] == 0.8  # needs only positives and people, both shown
    for c in FAIRNESS_COUNTS:
        shown = pd.to_numeric(out[c], errors="coerce")
        assert not ((shown >= 0) & (shown < 10)).any()


def test_a_zero_count_is_suppressed_too():
    a = audit_frame()
    a.loc[a["group"] == "F", ["positives", "tpr"]] = [0, np.nan]
    out = protect_fairness(a).set_index("group")
    assert out.loc["F", "positives"] == "<10" and out.loc["M", "positives"] == "<10"
    assert np.isnan(out.loc["F", "auc"])


def test_a_group_suppressed_for_its_events_keeps_its_size_but_not_its_events():
    a = audit_frame()
    # F: 200 people but only 5 escalations, so the audit suppressed every figure but its size
    f = a["group"] == "F"
    a.loc[f, ["positives", "suppressed"]] = [5, True]
    a.loc[f, ["share_flagged", "tpr", "fpr", "auc"]] = np.nan
    out = protect_fairness(a).set_index("group")
    assert out.loc["F", "n"] == "200"
    assert out.loc["F", "positives"] == "<10" and out.loc["F", "flagged"] == "<10"
    # all - M would give F's escalations back: M's are hidden too (secondary)
    assert out.loc["M", "positives"] == "<10" and out.loc["all", "positives"] == "60"
    assert np.isnan(out.loc["M", "auc"])
    b = audit_frame()
    b.loc[b["group"] == "F", ["n", "positives", "suppressed"]] = [np.nan, np.nan, True]
    assert protect_fairness(b).set_index("group").loc["F", "n"] == "<10"


def test_harm_tables_hide_small_counts_and_the_rates_that_reveal_them(tmp_path):
    from analysis.report.harm_run import protect_harm_tables

    harm = artefacts(tmp_path) / "harm"
    perf = pd.read_csv(harm / "performance.csv")
    perf.loc[1, "precision_at_k"] = 0.05  # 5 true positives among the top 100
    (harm / "performance.csv").write_text("# TEST MODE\n" + perf.to_csv(index=False))
    pd.DataFrame(
        {
            "measure_a": ["x/charges"],
            "measure_b": ["x/convictions"],
            "high_harm_a": [339],
            "high_harm_b": [340],
            "both": [335],  # only 4 high harm by charges alone
            "jaccard": [0.98],
            "share_a_in_b": [0.99],
            "share_b_in_a": [0.985],
        }
    ).to_csv(harm / "sensitivity_pairs.csv", index=False)
    protect_harm_tables(harm)
    assert (harm / "performance.csv").read_text().startswith("# TEST MODE\n")
    out = pd.read_csv(harm / "performance.csv", comment="#").set_index("model")
    assert np.isnan(out.loc["prior_harm", "precision_at_k"])
    assert np.isnan(out.loc["prior_harm", "recall_at_k"])
    assert out.loc["logistic", "precision_at_k"] == 0.25
    pairs = pd.read_csv(harm / "sensitivity_pairs.csv")
    assert pairs.loc[0, "both"] == 335 and np.isnan(pairs.loc[0, "share_a_in_b"])


def test_disparities_show_the_ethnic_composition_only_when_ts021_was_given(tmp_path, capsys):
    from unittest import mock

    folder = tmp_path / "artefacts"
    folder.mkdir()
    pd.DataFrame(
        {
            "IMD quintile (1 = most deprived)": [1, 2],
            "units": [3, 4],
            "share_of_expected_offences": [0.7, 0.3],
        }
    ).to_csv(folder / "deprivation_knife.csv", index=False)
    shown = []
    with mock.patch.object(committee, "display", side_effect=shown.append):
        committee.disparities(folder)
    assert "no Census 2021 TS021 table" in shown[-1].data
    pd.DataFrame(
        {
            "group": ["White", "all residents"],
            "residents": [900, 1000],
            "expected_per_1000_residents": [1.0, 1.2],
            "ratio_to_all": [0.83, 1.0],
            "share_in_top5pct_units": [0.05, 0.06],
        }
    ).to_csv(folder / "ethnicity_knife.csv", index=False)
    shown.clear()
    with mock.patch.object(committee, "display", side_effect=shown.append):
        committee.disparities(folder)
    html = shown[-1].to_html()
    assert "Census 2021 TS021" in html and "0.83×" in html


def test_the_suppression_applied_is_stated(tmp_path):
    folder = artefacts(tmp_path)
    protect_fairness(audit_frame()).to_csv(folder / "harm" / "fairness.csv", index=False)
    plan = _plan(tmp_path, [])
    text = atrs.decision_sought(plan, atrs.run_facts(plan, folder)).data
    assert "2 of the 2 groups of the fairness audit have a count or rate suppressed" in text
