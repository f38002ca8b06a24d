"""Commands that read person identifiers need the key, or the statement that they need not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import cli
from analysis.data.pseudonymise import KEY_ENV

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture
def extract(tmp_path):
    """A small folder like a force's extract: the sample's rows, but not its record."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("study_area.geojson", "lsoa.geojson"):
        shutil.copy(SAMPLE / name, folder / name)
    for name in ("crimes.csv.gz", "charges.csv.gz"):
        pd.read_csv(SAMPLE / name, dtype=str, nrows=200).to_csv(folder / name, index=False)
    return folder


@pytest.mark.parametrize(
    "command", [["data-quality"], ["harm", "--reference-date", "2026-10-01", "--test-mode"]]
)
def test_no_key_and_no_statement_is_refused(command, extract, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    code = cli.main([*command, "--data", str(extract), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "no pseudonym key is set" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.csv"))


def test_the_statement_is_accepted_and_recorded(extract, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    code = cli.main(
        [
            "data-quality",
            "--data",
            str(extract),
            "--out",
            str(tmp_path / "out"),
            "--identifiers-already-pseudonymised",
        ]
    )
    assert code == 0
    assert "person identifiers: already pseudonymised" in capsys.readouterr().out


def test_with_the_key_identifiers_are_keyed(extract, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "a test key, not a secret")
    assert cli.main(["data-quality", "--data", str(extract), "--out", str(tmp_path / "o")]) == 0
    assert "person identifiers: keyed on load" in capsys.readouterr().out
