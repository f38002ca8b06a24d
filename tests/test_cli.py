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


# ---------------------------------------------------------------- bad input: exit 2, one line


def _crimes_file(tmp_path):
    header = ["crime_ref", "recorded_date", "ho_offence_code", "knife_used", "injury"]
    lines = [",".join([*header, "easting", "northing"]), "A1,2025-05-02,8N,Y,N,406900,286900"]
    path = tmp_path / "crimes.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _one_line_error(capsys, *names):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for name in names:
        assert name in err, err
    return err


@pytest.mark.parametrize("delimiter", [";;", ""])
def test_a_delimiter_must_be_one_character(tmp_path, capsys, delimiter):
    args = ["validate", str(_crimes_file(tmp_path)), "--format", "crimes", "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--delimiter", delimiter])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --delimiter: a delimiter must be one character" in err
    assert "Traceback" not in err


def test_a_tab_delimiter_can_be_written_as_backslash_t(tmp_path):
    path = tmp_path / "crimes.tsv"
    path.write_text(_crimes_file(tmp_path).read_text().replace(",", "\t"))
    out = tmp_path / "out"
    args = ["validate", str(path), "--format", "crimes", "--out", str(out), "--as-of", "2026-11-24"]
    assert main([*args, "--delimiter", "\\t"]) == 0
    assert json.loads((out / "summary.json").read_text())["accepted"] == 1


def test_an_area_that_is_a_csv_is_named(tmp_path, capsys):
    crimes = _crimes_file(tmp_path)
    area = tmp_path / "area.csv"
    area.write_text("a,b\n1,2\n")
    args = ["validate", str(crimes), "--format", "crimes", "--out", str(tmp_path / "o")]
    assert main([*args, "--area", str(area)]) == 2
    _one_line_error(capsys, "area.csv", "not a polygon file")


@pytest.mark.parametrize("command", ["validate", "data-quality"])
def test_the_output_must_be_a_folder(tmp_path, capsys, sample_dir, command):
    taken = tmp_path / "taken.txt"
    taken.write_text("not a folder\n")
    if command == "validate":
        args = ["validate", str(_crimes_file(tmp_path)), "--format", "crimes"]
    else:
        args = ["data-quality", "--data", str(sample_dir)]
    assert main([*args, "--out", str(taken)]) == 2
    _one_line_error(capsys, "taken.txt", "must be a folder")
    assert main([*args, "--out", str(taken / "sub")]) == 2
    _one_line_error(capsys, "taken.txt", "must be a folder")
    assert taken.read_text() == "not a folder\n"


def test_a_damaged_gzip_exits_2_without_a_traceback(tmp_path):
    import gzip

    packed = bytearray(gzip.compress(_crimes_file(tmp_path).read_bytes() * 50, mtime=0))
    packed[20:40] = b"\xff" * 20
    path = tmp_path / "crimes.csv.gz"
    path.write_bytes(bytes(packed))
    command = ["validate", str(path), "--format", "crimes", "--out", str(tmp_path / "out")]
    run = subprocess.run(
        [sys.executable, "-m", "analysis.cli", *command],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "crimes.csv.gz" in run.stderr


def test_swapped_event_coordinates_exit_2_naming_the_file(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text("time,lon,lat\n2024-01-05,39.1,-84.5\n2024-01-06,39.2,-84.4\n")
    args = ["validate", str(path), "--format", "events", "--out", str(tmp_path / "o")]
    cols = ["--time-col", "time", "--lon-col", "lon", "--lat-col", "lat"]
    assert main([*args, *cols]) == 2
    _one_line_error(capsys, "events.csv", "swapped")
