"""police.uk street-level files: a well-formed file passes; each kind of damage is caught."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from analysis.cli import main
from analysis.data import LoadOptions, load_policeuk
from analysis.data.vocabularies import POLICEUK_COLUMNS

AS_OF = date(2026, 11, 24)


def good_row(
    i: int,
    month: str = "2025-03",
    lon: str = "-1.8904",
    lat: str = "52.4862",
    ctype: str = "Violence and sexual offences",
) -> list[str]:
    return [
        f"{i:064x}",
        month,
        "West Midlands Police",
        "West Midlands Police",
        lon,
        lat,
        "On or near Broad Street",
        "E01033620",
        "Birmingham 138A",
        ctype,
        "Under investigation",
        "",
    ]


@pytest.fixture
def good_file(tmp_path, write_csv):
    rows = [good_row(i, lon=f"{-1.89 + i * 0.001:.4f}") for i in range(20)]
    rows.append(good_row(99, ctype="Anti-social behaviour"))
    rows[-1][0] = ""  # ASB rows have no Crime ID
    return write_csv(tmp_path / "good.csv", list(POLICEUK_COLUMNS), rows)


def test_well_formed_file_is_accepted_whole(good_file):
    result = load_policeuk(good_file, LoadOptions(as_of=AS_OF))
    assert result.summary()["read"] == 21
    assert len(result.accepted) == 21
    assert result.rejected.empty
    acc = result.accepted
    assert acc["month"].iloc[0].isoformat().startswith("2025-03-01")
    # Birmingham city centre in British National Grid
    assert 400_000 < acc["x"].iloc[0] < 410_000
    assert 280_000 < acc["y"].iloc[0] < 290_000
    assert acc["crime_id"].isna().sum() == 1
    assert result.crs == "EPSG:27700"


DAMAGE = {
    "impossible_month": (lambda r: r.__setitem__(1, "2025-13"), "unparseable_date", "Month"),
    "non_numeric_coordinate": (
        lambda r: r.__setitem__(4, "west"),
        "invalid_coordinate",
        "Longitude",
    ),
    "out_of_range_coordinate": (
        lambda r: r.__setitem__(5, "152.48"),
        "coordinate_out_of_range",
        "Latitude",
    ),
    "empty_crime_type": (lambda r: r.__setitem__(9, ""), "missing_value", "Crime type"),
    "unknown_crime_type": (
        lambda r: r.__setitem__(9, "Jaywalking"),
        "unknown_crime_type",
        "Crime type",
    ),
    "future_month": (lambda r: r.__setitem__(1, "2027-01"), "future_date", "Month"),
    "missing_coordinates": (
        lambda r: (r.__setitem__(4, ""), r.__setitem__(5, "")),
        "missing_coordinates",
        "Longitude",
    ),
}


def test_each_damaged_row_is_reported_with_its_reason(tmp_path, write_csv):
    rows = [good_row(i) for i in range(10)]
    expected = {}
    for k, (name, (damage, reason, column)) in enumerate(DAMAGE.items()):
        row = good_row(100 + k)
        damage(row)
        rows.append(row)
        expected[len(rows) + 1] = (reason, column, name)  # spreadsheet row number
    rows.append(list(rows[0]))  # exact duplicate of the first row
    expected[len(rows) + 1] = ("exact_duplicate", None, "exact duplicate")
    dup_id = good_row(1, lon="-1.9000")  # same Crime ID as row 3, other content
    rows.append(dup_id)
    expected[len(rows) + 1] = ("duplicate_id", "Crime ID", "repeated id")
    path = write_csv(tmp_path / "damaged.csv", list(POLICEUK_COLUMNS), rows)

    result = load_policeuk(path, LoadOptions(as_of=AS_OF))
    s = result.summary()
    assert s["read"] == len(rows) == s["accepted"] + s["rejected"]
    assert s["accepted"] == 10
    got = {
        int(r.row): (r.reason, None if pd.isna(r.column) else r.column)
        for r in result.rejected.itertuples()
    }
    assert got == {row: (reason, column) for row, (reason, column, _) in expected.items()}
    assert "row 2" in result.rejected.set_index("row").loc[max(expected) - 1, "detail"]
    assert sum(s["reasons"].values()) == s["rejected"]


def test_cli_validate_policeuk_writes_outputs(tmp_path, good_file, write_csv):
    out = tmp_path / "out"
    code = main(
        [
            "validate",
            str(good_file),
            "--format",
            "policeuk",
            "--out",
            str(out),
            "--as-of",
            "2026-11-24",
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["read"] == summary["accepted"] == 21
    assert summary["rejected"] == 0 and summary["reasons"] == {}
    assert (out / "accepted.parquet").exists() and (out / "rejected.csv").exists()


def test_cli_refuses_unusable_file_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Crime ID;Month;Reported by\n1;2024-01;x\n")
    code = main(["validate", str(bad), "--format", "policeuk", "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "bad.csv" in err and "semicolon" in err


def test_cli_missing_columns_named(tmp_path, capsys):
    bad = tmp_path / "cols.csv"
    bad.write_text("Crime ID,Month\n1,2024-01\n")
    assert main(["validate", str(bad), "--format", "policeuk", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "missing columns" in err and "Longitude" in err
