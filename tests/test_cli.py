"""The command line: help everywhere, validate on real files, exit codes, data quality."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from analysis.cli import build_parser, main

SUBCOMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)


def test_every_subcommand_has_help(capsys):
    assert {"validate", "sample-data", "data-quality"} <= set(SUBCOMMANDS)
    for name in SUBCOMMANDS:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0
        assert f"usage: analysis {name}" in capsys.readouterr().out


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "validate" in out.stdout and "sample-data" in out.stdout


@pytest.mark.parametrize(
    ("name", "args"),
    [
        (
            "cincinnati_burglary_2016-2018.csv.gz",
            [
                "--time-col",
                "offense_date",
                "--lon-col",
                "longitude",
                "--lat-col",
                "latitude",
                "--id-col",
                "incident_no",
            ],
        ),
        (
            "austin_aggravated_assaults_2019.csv.gz",
            ["--time-col", "date", "--lon-col", "longitude", "--lat-col", "latitude"],
        ),
        (
            "policeuk_nottingham_robbery_2022.csv.gz",
            [
                "--time-col",
                "month",
                "--lon-col",
                "longitude",
                "--lat-col",
                "latitude",
                "--target-crs",
                "EPSG:27700",
            ],
        ),
        (
            "policeuk_nottingham_burglary_2022.csv.gz",
            [
                "--time-col",
                "month",
                "--lon-col",
                "longitude",
                "--lat-col",
                "latitude",
                "--target-crs",
                "EPSG:27700",
                "--keep-exact-duplicates",
            ],
        ),
    ],
)
def test_validate_real_event_files(tmp_path, external_dir, name, args):
    out = tmp_path / "out"
    assert (
        main(["validate", str(external_dir / name), "--format", "events", "--out", str(out), *args])
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["read"] == summary["accepted"] + summary["rejected"]
    accepted = pd.read_parquet(out / "accepted.parquet")
    rejected = pd.read_csv(out / "rejected.csv")
    assert len(accepted) == summary["accepted"] and len(rejected) == summary["rejected"]
    assert summary["reasons"] == rejected["reason"].value_counts().to_dict()


def test_metric_target_crs_is_not_checked_for_validate_but_bad_crs_is(
    tmp_path, external_dir, capsys
):
    code = main(
        [
            "validate",
            str(external_dir / "austin_aggravated_assaults_2019.csv.gz"),
            "--format",
            "events",
            "--out",
            str(tmp_path),
            "--time-col",
            "date",
            "--lon-col",
            "longitude",
            "--lat-col",
            "latitude",
            "--target-crs",
            "EPSG:0",
        ]
    )
    assert code == 2
    assert "EPSG:0" in capsys.readouterr().err


def test_data_quality_keeps_person_rows_restricted(tmp_path, sample_dir):
    out = tmp_path / "dq"
    assert (
        main(
            ["data-quality", "--data", str(sample_dir), "--out", str(out), "--as-of", "2026-11-24"]
        )
        == 0
    )
    report = json.loads((out / "data_quality.json").read_text())
    for s in report["files"].values():
        assert s["read"] == s["accepted"] + s["rejected"]
    outside = [p for p in out.rglob("*") if p.is_file() and "restricted" not in p.parts]
    text = "".join(p.read_text() for p in outside)
    charges = pd.read_csv(sample_dir / "charges.csv.gz", usecols=["person_id"])
    found = set(re.findall(r"P[0-9a-f]{16}", text))
    assert not found & set(charges["person_id"])
    assert (out / "restricted" / "charges_rejected.csv").exists()
    assert (out / "restricted" / "crimes_rejected.csv").exists()  # crime rows too
    crime_refs = set(pd.read_csv(sample_dir / "crimes.csv.gz", usecols=["crime_ref"])["crime_ref"])
    assert not set(re.findall(r"SYN\d\d-\d{7}", text)) & crime_refs
    assert str(sample_dir) not in text and "/" not in report["files"]["crimes"]["source"]
    monthly = pd.read_csv(out / "monthly_counts.csv")
    assert {"knife_crime_with_injury", "serious_violence"} <= set(monthly.columns)


def test_model_specs_keep_several_parameters_of_one_model():
    from analysis.forecast.registry import make_forecaster, split_model_specs

    specs = split_model_specs("ewma, bayes:window=26,likelihood=negbin ,kde:bandwidth_m=500")
    assert specs == ["ewma", "bayes:window=26,likelihood=negbin", "kde:bandwidth_m=500"]
    model = make_forecaster(specs[1])
    assert model.spec.window == 26 and model.spec.likelihood == "negbin"
    with pytest.raises(ValueError, match="before any model"):
        split_model_specs("window=26,bayes")
