"""Text written to CSV never runs as a spreadsheet formula; numbers stay numbers."""

from __future__ import annotations

import pandas as pd
import pytest
from contract_files import HEADERS, good_rows, options, write

from analysis.data import LoadOptions, load
from analysis.data.folder import DataFolder
from analysis.data.quality import data_quality
from analysis.data.serial import FORMULA_START, csv_safe, neutralise, write_csv

FORMULAS = [
    '=HYPERLINK("http://example.invalid","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
]


def read_back(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def unsafe_cells(frame: pd.DataFrame) -> list[str]:
    """Text cells a spreadsheet would run: starting with a formula character, not a number."""
    cells = [*frame.columns, *frame.to_numpy().ravel().tolist()]
    return [
        c
        for c in cells
        if isinstance(c, str) and c.startswith(FORMULA_START) and neutralise(c) != c
    ]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_gets_a_leading_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["-1.5", "+44", "-1e5", ".5", "plain", "'=already", "", 3, None])
def test_numbers_and_plain_text_are_kept(value):
    assert neutralise(value) == value


def test_only_text_columns_and_labels_change():
    frame = pd.DataFrame(
        {
            "=label": ["=1+1", "ok"],
            "n": [-1.5, 2.0],
            "k": pd.Categorical(["@x", "y"]),
            "s": pd.array(["+a", pd.NA], dtype="string"),
        },
        index=pd.Index(["-i", "j"], name="@idx"),
    )
    safe = csv_safe(frame)
    assert list(safe.columns) == ["'=label", "n", "k", "s"]
    assert safe["'=label"].tolist() == ["'=1+1", "ok"]
    assert safe["n"].tolist() == [-1.5, 2.0] and safe["n"].dtype == "float64"
    assert safe["k"].tolist() == ["'@x", "y"] and safe["s"].iloc[0] == "'+a"
    assert list(safe.index) == ["'-i", "j"] and safe.index.name == "'@idx"
    assert frame.loc["-i", "=label"] == "=1+1"  # the input is not changed


def test_a_carriage_return_inside_text_survives_a_round_trip(tmp_path):
    frame = pd.DataFrame({"a": ["one\rtwo", "three"], "b": [1, 2]})
    back = read_back(write_csv(frame, tmp_path / "t.csv", index=False))
    assert back["a"].tolist() == ["one\rtwo", "three"] and back["b"].tolist() == ["1", "2"]


def formula_crimes(tmp_path):
    rows = good_rows("crimes", len(FORMULAS) + 1)
    for i, text in enumerate(FORMULAS, start=1):
        rows[i][0] = f"CR{i}"
        rows[i][5] = text
        rows[i][4] = "99Z"  # an unknown code: the row is quarantined with its raw text
    rows[1][0] = "=CR1"
    rows[2][6] = "-5"  # out of range, kept as the number it is
    return write(tmp_path / "crimes.csv", HEADERS["crimes"], rows)


def test_rejected_csv_neutralises_formulas(tmp_path):
    result = load(formula_crimes(tmp_path), "crimes", options("crimes"))
    assert len(result.rejected) == len(FORMULAS)
    back = read_back(result.write(tmp_path / "out")["rejected"])
    assert len(back) == len(FORMULAS)
    assert unsafe_cells(back) == []
    assert back["ho_offence_description"].tolist() == ["'" + t for t in FORMULAS]
    assert back["crime_ref"][0] == "'=CR1" and back["easting"][1] == "-5"


def test_data_quality_tables_neutralise_formulas(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    formula_crimes(folder)
    data = DataFolder.locate(folder).load(LoadOptions(as_of=options("crimes").as_of))
    data_quality(data, tmp_path / "dq")
    written = sorted((tmp_path / "dq").rglob("*.csv"))
    assert {p.name for p in written} >= {"crimes_rejected.csv", "monthly_counts.csv"}
    for path in written:
        assert unsafe_cells(read_back(path)) == [], path.name
    back = read_back(tmp_path / "dq" / "restricted" / "crimes_rejected.csv")
    assert back["ho_offence_description"].tolist() == ["'" + t for t in FORMULAS]


def test_harm_tables_neutralise_formulas(tmp_path):
    from analysis.harm.output import write_csv as harm_write_csv

    frame = pd.DataFrame({"group": ["=1+1", "White"], "share": [-0.25, 0.5]})
    back = read_back(harm_write_csv(frame, tmp_path / "h.csv", stamp="TEST"))
    assert back["group"].tolist() == ["'=1+1", "White"] and back["share"][0] == "-0.25"


def test_rewritten_harm_tables_neutralise_formulas(tmp_path):
    from analysis.report.harm_run import _rewrite

    path = tmp_path / "t.csv"
    path.write_text("# stamp\ngroup,n\n@SUM(1),-3\n")
    _rewrite(path, lambda table: table)
    assert path.read_text() == "# stamp\ngroup,n\n'@SUM(1),-3\n"
