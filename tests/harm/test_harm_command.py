"""The harm-escalation job on the sample, in test mode (a tiny Bayesian fit).

One run of the job's typed entry point (``run_harm_escalation``, as the CLI and the monthly
notebook call it) is shared by the tests of this module; the ``analysis harm`` command is
driven through the CLI's own parser. It checks the output contract, that nothing
person-level leaves ``restricted/``, the test-mode stamp, and the results against the
sample's escalation truth.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from analysis.cli import build_parser, main
from analysis.data import LoadOptions
from analysis.data.folder import DataFolder
from analysis.data.truth import load_escalation_truth
from analysis.fairness import AuditSettings
from analysis.harm.output import SCORED_ANYWAY
from analysis.harm.pipeline import MODEL_NAMES, HarmConfig, outcome_coverage
from analysis.report.disclosure import FAIRNESS_COUNTS, SUPPRESSED
from analysis.report.harm_run import MeasureSettings, harm_measures, run_harm_escalation
from analysis.testmode import BANNER as TEST_STAMP

METRIC_KEYS = {
    "auc",
    "auc_ci",
    "pr_auc",
    "brier",
    "calibration_slope",
    "calibration_intercept",
    "precision_at_k",
    "recall_at_k",
    "k",
}
PSEUDONYM = re.compile(r"P[0-9a-f]{16}")


def parser():
    return build_parser()


def run(argv):
    args = parser().parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def out(tmp_path_factory, sample_dir):
    folder = tmp_path_factory.mktemp("harm")
    data = DataFolder.locate(sample_dir, require=("charges",)).load(
        LoadOptions(as_of=pd.Timestamp("2026-09-30").date()), contracts=("charges",)
    )
    measure, extra, tables = harm_measures(MeasureSettings(), data.offence_codes)
    config = HarmConfig(
        reference_date=pd.Timestamp("2025-10-01"),
        measure=measure,
        capacity=150,
        n_boot=100,
        test_mode=True,
        extra_measures=extra,
    )
    outcome = run_harm_escalation(
        data, config, AuditSettings(n_boot=100), folder, official_tables=tables
    )
    assert outcome.out == folder and (folder / "committee_summary.md").exists()
    listed = json.loads((folder / "run.json").read_text())["files"]
    assert (
        listed["committee"] == "committee_summary.md" and listed["fairness_png"] == "fairness.png"
    )
    return folder


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(["harm", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "usage: analysis harm" in text and "--test-mode" in text and "--css-table" in text
    assert "--score-anyway" in text


def test_css_index_needs_a_table(sample_dir, tmp_path):
    with pytest.raises(ValueError, match="no ONS Crime Severity Score weights ship"):
        run(
            ["harm", "--data", str(sample_dir), "--reference-date", "2025-10-01",
             "--out", str(tmp_path), "--index", "ons_css"]
        )  # fmt: skip


def test_metrics_json_contract(out):
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics) == list(MODEL_NAMES)
    for m in metrics.values():
        assert set(m) == METRIC_KEYS | {"stamp"} and m["stamp"] == TEST_STAMP
        assert 0.5 < m["auc"] < 1 and m["auc_ci"][0] < m["auc"] < m["auc_ci"][1]
        assert 0 < m["brier"] < 0.05 and m["k"] == 150
        assert 0 <= m["precision_at_k"] <= 1 and 0 <= m["recall_at_k"] <= 1
    # the models beat prior harm alone on this sample
    assert metrics["logistic"]["auc"] > metrics["prior_harm"]["auc"] + 0.05
    assert abs(metrics["bayes_hierarchical"]["auc"] - metrics["logistic"]["auc"]) < 0.02


def test_tables_and_figures(out):
    coef = pd.read_csv(out / "coefficients.csv")
    assert {"term", "coef", "ci_low", "ci_high", "odds_ratio", "p_value"} <= set(coef.columns)
    assert (coef["ci_low"] < coef["coef"]).all() and (coef["coef"] < coef["ci_high"]).all()
    assert not {"sex", "ethnic_group", "age_band"} & set(coef["term"])
    fair = pd.read_csv(out / "fairness.csv")
    assert {"suppressed", "note", "tpr", "fpr", "share_flagged", "auc"} <= set(fair.columns)
    assert {"sex", "age_band", "ethnic_group"} <= set(fair["attribute"])
    fair = pd.read_csv(out / "fairness.csv", dtype={c: str for c in FAIRNESS_COUNTS})
    shown = fair.loc[~fair["suppressed"] & (fair["n"] != SUPPRESSED)]
    assert (shown["n"].astype(int) >= 10).all()
    held = fair.loc[fair["suppressed"]]
    # a suppressed group shows no figure; its size only when it was suppressed for its
    # events (at least 10 people), never a count under 10
    assert held[["auc", "tpr", "fpr"]].isna().all().all()
    assert (held["positives"] == SUPPRESSED).all()
    by_events = held["note"].str.contains("escalations")
    sizes = held.loc[by_events & (held["n"] != SUPPRESSED), "n"].astype(int)
    assert (sizes >= 10).all()
    assert (held.loc[~by_events, "n"] == SUPPRESSED).all()
    for name in ("reliability.png", "decision_curve.png", "fairness.png", "coefficients.png"):
        assert (out / name).stat().st_size > 10_000
    diag = json.loads((out / "bayes_diagnostics.json").read_text())
    assert diag["sampler"] == "nutpie" and diag["thresholds"]["enforced"] is False
    assert {"max_rhat", "min_ess_bulk", "divergences"} <= set(diag)


def test_thresholds_and_cohorts_match_the_truth(out, sample_dir):
    meta = json.loads((out / "run.json").read_text())
    truth = load_escalation_truth(sample_dir / "truth" / "escalation.csv.gz")
    given = truth.groupby("reference_date")["threshold_chi_days"].first()
    sizes = truth.groupby("reference_date").size()
    for cohort in meta["cohorts"].values():
        day = cohort["reference_date"]
        assert cohort["threshold_days"] == given[day]
        assert abs(cohort["cohort"] - sizes[day]) <= 5  # a few charges are quarantined
    t = json.loads((out / "truth.json").read_text())
    for model in ("logistic", "bayes_hierarchical", "gradient_boosting"):
        assert t[f"evaluate/{model}"]["spearman"] > 0.2
        assert t[f"evaluate/{model}"]["matched"] >= sizes["2024-10-01"] - 5
        assert (
            abs(t[f"evaluate/{model}"]["mean_predicted"] - t[f"evaluate/{model}"]["mean_true"])
            < 0.01
        )


def test_every_output_is_stamped(out):
    assert (out / "TEST_MODE.txt").read_text().strip() == TEST_STAMP
    for path in out.rglob("*"):
        if path.suffix == ".csv":
            assert pd.read_csv(path, nrows=1)["stamp"].iloc[0] == TEST_STAMP, path
        elif path.suffix in (".json", ".md", ".txt"):
            assert TEST_STAMP in path.read_text(), path


def test_nothing_person_level_outside_restricted(out, sample_dir):
    for path in out.rglob("*"):
        if path.is_dir() or "restricted" in path.relative_to(out).parts:
            continue
        if path.suffix in (".csv", ".json", ".md", ".txt"):
            assert not PSEUDONYM.search(path.read_text()), path
    ranked = pd.read_csv(out / "restricted" / "ranked.csv")
    assert ranked["person_id"].str.fullmatch(PSEUDONYM).all()
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert np.all(np.diff(ranked["probability"]) <= 0)
    assert ranked["within_capacity"].sum() == 150
    assert ranked["factor_1"].notna().all()
    assert (out / "restricted" / "charges_rejected.csv").exists()
    assert len(pd.read_csv(out / "restricted" / "charges_rejected.csv")) == 53


def test_official_tables_enter_the_sensitivity_table(sample_dir, tmp_path):
    # made-up weights for the test only: not ONS or Cambridge figures
    css = tmp_path / "css.csv"
    css.write_text("Offence code,Weight\n1,7000\n8N,150\n34B,400\n10D,80\n46,2\n92E,3\n")
    chi = tmp_path / "chi.csv"
    chi.write_text("code,days\n8N,400\n")
    out = tmp_path / "out"
    argv = ["harm", "--data", str(sample_dir), "--reference-date", "2025-10-01",
            "--out", str(out), "--as-of", "2026-09-30", "--models", "logistic",
            "--css-table", str(css), "--chi-table", str(chi), "--test-mode"]  # fmt: skip
    assert run(argv) == 0
    groups = pd.read_csv(out / "sensitivity_index.csv")
    names = set(groups["measure"])
    assert {
        "cambridge_chi/charges",
        "cambridge_chi/convictions",
        "ons_css/charges",
        "cambridge_chi[cambridge-chi-family-medians-v1]/charges",
        "cambridge_chi[cambridge-chi-family-medians-v1]/convictions",
    } <= names
    pairs = pd.read_csv(out / "sensitivity_pairs.csv")
    assert len(pairs) == len(groups) * (len(groups) - 1) // 2
    meta = json.loads((out / "run.json").read_text())
    assert meta["measure"]["version"].startswith("cambridge_chi-sha256:")
    assert len(meta["official_tables"]["css_table"]["sha256"]) == 64


def test_outcome_coverage_names_the_dates_the_data_miss():
    config = HarmConfig(reference_date=pd.Timestamp("2026-10-01"), models=("logistic",))
    assert outcome_coverage(config, pd.Timestamp("2026-09-30")) == ""
    later = HarmConfig(reference_date=pd.Timestamp("2026-10-02"), models=("logistic",))
    short = outcome_coverage(later, pd.Timestamp("2026-09-30"))
    assert "outcome window (2025-10-02 to 2026-10-01)" in short and "(2026-09-30)" in short
    assert "latest reference date the data cover is 2026-10-01" in short
    assert "training cohort" not in short
    far = HarmConfig(reference_date=pd.Timestamp("2028-06-01"), models=("logistic",))
    assert "training cohort's, 2026-06-01 to 2027-05-31" in outcome_coverage(
        far, pd.Timestamp("2026-09-30")
    )


HARM_PAST_THE_DATA = ["harm", "--reference-date", "2027-06-01", "--as-of", "2026-09-30",
                      "--models", "logistic", "--n-boot", "20"]  # fmt: skip


def test_harm_refuses_a_reference_date_whose_outcomes_the_data_miss(sample_dir, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [*HARM_PAST_THE_DATA, "--data", str(sample_dir), "--out", str(out)]
    assert main(argv) == 2
    stdout, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert stdout == "" and len(lines) == 1 and "Traceback" not in err
    msg = lines[0]
    assert msg.startswith("analysis harm: error: reference date 2027-06-01: ")
    assert (
        "outcome window (2026-06-01 to 2027-05-31) runs past the end of the data (2026-09-30)"
        in msg
    )
    assert "--score-anyway" in msg and "2026-10-01" in msg
    assert not out.exists()


def test_harm_scored_anyway_marks_every_output(sample_dir, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [*HARM_PAST_THE_DATA, "--data", str(sample_dir), "--out", str(out), "--score-anyway"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith(SCORED_ANYWAY + "\n")
    meta = json.loads((out / "run.json").read_text())
    assert meta["stamp"] == SCORED_ANYWAY and meta["test_mode"] is False
    assert "(2026-06-01 to 2027-05-31)" in meta["scored_anyway"]
    assert meta["scored_anyway"] in meta["notes"]
    assert meta["evaluation_outcome_window_end"] == "2027-05-31"
    for entry in json.loads((out / "metrics.json").read_text()).values():
        assert entry["stamp"] == SCORED_ANYWAY
    summary = (out / "committee_summary.md").read_text()
    assert summary.startswith(f"**{SCORED_ANYWAY}**")
    assert f"> **{meta['scored_anyway']}**" in summary
    assert (out / "SCORED_ANYWAY.txt").exists() and not (out / "TEST_MODE.txt").exists()
    for path in out.rglob("*"):
        if path.suffix == ".csv":
            assert pd.read_csv(path, nrows=1)["stamp"].iloc[0] == SCORED_ANYWAY, path
        elif path.suffix in (".json", ".md", ".txt"):
            assert SCORED_ANYWAY in path.read_text(), path
