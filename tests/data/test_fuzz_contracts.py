"""Fuzzing the four contracts and the command line with damaged files.

Whatever the damage, a loader either accounts for every record (read = accepted + rejected,
one row each with a reason, the rows being the file's non-blank lines) or raises a
:class:`LoadError` naming the file in one line; what it writes opens safely in a
spreadsheet and, with a pseudonym key, holds no raw person identifier. The command line
exits 0 or 2, never with a traceback.

The loaders are called in-process; the command line runs a handful of times over the small
hand-made corpus in ``tests/data/corpus/``. Under ``HYPOTHESIS_PROFILE=ci`` the suite is
light; ``HYPOTHESIS_PROFILE=heavy`` runs many more examples.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from contract_files import AS_OF, FORMATS, HEADERS, cli_options, csv_text, good_rows, options
from hypothesis import given
from hypothesis import strategies as st

from analysis.cli import build_parser, main
from analysis.data import DuplicatePolicy, LoadError, load
from analysis.data.reading import MAX_FIELD_CHARS
from analysis.data.serial import neutralise

CORPUS = Path(__file__).parent / "corpus"
KEY = b"fuzz-key"

LINE_FREE = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n")
TEXT = st.text(LINE_FREE, max_size=12)
NASTY = [
    "3000-01-01",
    "1000-01-01",
    "0001-01-01",
    "9999-12-31",
    "-1",
    "3000-01",
    "2024-02-30",
    "2262-04-12T00:00:00.1234567",
    "1e19",
    "-1e19",
    "9999999999999999999",
    "1e400",
    "nan",
    "inf",
    "",
    " ",
    '=HYPERLINK("http://example.invalid","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\t=1",
    "52.48",
    "-1.89",
    "181",
    "-91",
    "39.1",
    "-84.5",
    "9e9",
    "Y",
    "maybe",
    "99Z",
    "W01000001",
    '"',
    ",",
    "\u202e",
    "\ufeff",
    "x" * (MAX_FIELD_CHARS + 1),
]
CELL = st.one_of(st.sampled_from(NASTY), TEXT)


@dataclass
class Damaged:
    """A damaged file of one contract, and what a load must account for."""

    fmt: str
    data: bytes
    suffix: str
    rows: list[int]  # line numbers of the records (non-blank lines after the header)
    quoted: bool  # a stray quote was added (a record may then span lines, shifting rows)


def _fields(line: str) -> list[str]:
    """Split one line alone (as the reader would, whatever its fields' lengths)."""
    old = csv.field_size_limit(max(csv.field_size_limit(), len(line) + 1))
    try:
        return next(csv.reader([line]), [])
    finally:
        csv.field_size_limit(old)


def _is_blank(fields: list[str], width: int) -> bool:
    return not fields or (len(fields) == 1 and fields[0].strip() == "" and width > 1)


@st.composite
def damaged(draw: st.DrawFn, fmt: str) -> Damaged:
    """Draw a file of ``fmt``: good rows with damaged cells, shapes, quotes and bytes."""
    header = list(HEADERS[fmt])
    if draw(st.integers(0, 9)) == 0:
        header[draw(st.integers(0, len(header) - 1))] = draw(CELL)
    rows = good_rows(fmt, draw(st.integers(1, 8)))
    for _ in range(draw(st.integers(0, 6))):
        row = rows[draw(st.integers(0, len(rows) - 1))]
        row[draw(st.integers(0, len(row) - 1))] = draw(CELL)
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(rows) - 1))
        shape = draw(st.sampled_from(["short", "long", "copy", "blank"]))
        if shape == "short" and len(rows[i]) > 1:
            rows[i] = rows[i][: draw(st.integers(1, len(rows[i]) - 1))]
        elif shape == "long":
            rows[i] = [*rows[i], draw(CELL)]
        elif shape == "copy":
            rows.insert(i, list(rows[i]))
        else:
            rows.insert(i, [])
    lines = csv_text(header, rows).split("\r\n")[:-1]
    quotes = draw(st.integers(0, 2)) if draw(st.booleans()) else 0
    for _ in range(quotes):
        i = draw(st.integers(0, len(lines) - 1))
        starts = [0, *(k + 1 for k, c in enumerate(lines[i]) if c == ",")]
        at = draw(st.sampled_from(starts))
        lines[i] = lines[i][:at] + '"' + lines[i][at:]
    width = len(_fields(lines[0]))
    record_rows = [n for n, line in enumerate(lines[1:], 2) if not _is_blank(_fields(line), width)]
    end = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    data = (("\ufeff" if draw(st.booleans()) else "") + text).encode("utf-8")
    container = draw(st.sampled_from(["plain", "plain", "gzip", "damaged", "bad byte"]))
    suffix = ".csv"
    if container == "gzip":
        data, suffix = gzip.compress(data, mtime=0), ".csv.gz"
    elif container == "damaged":
        packed = bytearray(gzip.compress(data * 30, mtime=0))
        packed[20:30] = b"\xff" * 10
        data, suffix = bytes(packed), ".csv.gz"
    elif container == "bad byte":
        data = data[: len(data) // 2] + b"\xff" + data[len(data) // 2 :]
    return Damaged(fmt, data, suffix, record_rows, quoted=quotes > 0)


def unsafe_cells(frame: pd.DataFrame) -> list[str]:
    cells = [*frame.columns, *frame.to_numpy().ravel().tolist()]
    return [c for c in cells if isinstance(c, str) and neutralise(c) != c]


def check_load(case: Damaged, **over: object) -> None:
    """Load a damaged file: a one-line LoadError naming it, or every record accounted for."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{case.fmt}{case.suffix}"
        path.write_bytes(case.data)
        key = KEY if case.fmt == "charges" else None
        try:
            result = load(path, case.fmt, options(case.fmt, pseudonym_key=key, **over))
        except LoadError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
            return
        s = result.summary()
        assert s["read"] == len(case.rows) == s["accepted"] + s["rejected"]
        assert sum(s["reasons"].values()) == s["rejected"]
        rows = sorted([*result.accepted["row"], *result.rejected["row"]])
        if case.quoted:  # a legitimate quoted line break makes rows count records, not lines
            assert len(set(rows)) == len(rows) and (not rows or rows[0] >= case.rows[0])
        else:
            assert rows == case.rows
        assert result.rejected["reason"].notna().all() and result.rejected["detail"].notna().all()
        written = result.write(Path(tmp) / "out")
        back = pd.read_csv(written["rejected"], dtype=str, keep_default_na=False)
        assert len(back) == len(result.rejected)
        assert unsafe_cells(back) == []
        if key:
            text = written["rejected"].read_text() + result.accepted.to_csv()
            assert "RAWID" not in text


POLICIES = st.fixed_dictionaries(
    {
        "duplicate_ids": st.sampled_from(list(DuplicatePolicy)),
        "exact_duplicates": st.sampled_from(["quarantine", "keep"]),
    }
)


@given(damaged("crimes"), POLICIES)
def test_damaged_crimes_are_quarantined_or_refused(case, rules):
    check_load(case, **rules)


@given(damaged("charges"), POLICIES)
def test_damaged_charges_are_quarantined_or_refused(case, rules):
    check_load(case, **rules)


@given(damaged("policeuk"), POLICIES)
def test_damaged_policeuk_files_are_quarantined_or_refused(case, rules):
    check_load(case, **rules)


@given(damaged("events"), POLICIES, st.booleans())
def test_damaged_events_are_quarantined_or_refused(case, rules, with_id):
    check_load(case, **rules, **({} if with_id else {"id_col": None}))


PARSER = build_parser()


@given(st.text(max_size=3))
def test_any_delimiter_is_parsed_or_refused_by_argparse(value):
    try:
        args = PARSER.parse_args(
            ["validate", "f.csv", "--format", "crimes", "--out", "o", f"--delimiter={value}"]
        )
    except SystemExit as exc:
        assert exc.code == 2
        return
    assert len(args.delimiter) == 1 and args.delimiter not in '"\r\n'


# ------------------------------------------------------------------ the command line, end to end

#: Corpus file, contract, expected exit code, and a fragment of the message or a reason.
CLI_CASES = [
    ("crimes_stray_quote.csv", "crimes", 2, "unbalanced quote: the record at row 4"),
    ("crimes_dates_out_of_range.csv", "crimes", 0, "date_out_of_range"),
    ("crimes_formulas.csv", "crimes", 0, "unknown_offence_code"),
    ("crimes_damaged.csv.gz", "crimes", 2, "looks gzip-compressed but cannot be decompressed"),
    ("charges_huge_age.csv", "charges", 0, "implausible_age"),
    ("charges_wrong_fields.csv", "charges", 0, "wrong_field_count"),
    ("policeuk_months_out_of_range.csv", "policeuk", 0, "date_out_of_range"),
    ("events_swapped.csv", "events", 2, "swapped"),
]


@pytest.mark.parametrize(("name", "fmt", "code", "expected"), CLI_CASES)
def test_validate_corpus_file(tmp_path, capsys, monkeypatch, name, fmt, code, expected):
    monkeypatch.setenv("ANALYSIS_PSEUDONYM_KEY", KEY.decode())
    source = CORPUS / name
    out = tmp_path / "out"
    got = main(["validate", str(source), "--format", fmt, "--out", str(out), *cli_options(fmt)])
    err = capsys.readouterr().err.strip()
    assert got == code and "Traceback" not in err, err
    if code == 2:
        assert len(err.splitlines()) == 1 and str(source) in err and expected in err, err
        return
    summary = json.loads((out / "summary.json").read_text())
    assert summary["read"] == summary["accepted"] + summary["rejected"]
    assert expected in summary["reasons"]
    back = pd.read_csv(out / "rejected.csv", dtype=str, keep_default_na=False)
    assert len(back) == summary["rejected"] and unsafe_cells(back) == []
    assert "RAWID" not in (out / "rejected.csv").read_text()


def test_validate_corpus_exit_codes(tmp_path, capsys):
    """Every corpus file with every contract exits 0 or 2 (never 1), in one line on 2."""
    for source in sorted(CORPUS.iterdir()):
        for fmt in FORMATS:
            args = ["validate", str(source), "--format", fmt, "--out", str(tmp_path / fmt)]
            code = main([*args, *cli_options(fmt)])
            err = capsys.readouterr().err.strip()
            assert code in (0, 2), (source.name, fmt)
            if code == 2:
                assert len(err.splitlines()) == 1 and source.name in err, (source.name, fmt, err)


def test_data_quality_over_a_corpus_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANALYSIS_PSEUDONYM_KEY", KEY.decode())
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(CORPUS / "crimes_formulas.csv", folder / "crimes.csv")
    shutil.copy(CORPUS / "charges_wrong_fields.csv", folder / "charges.csv")
    out = tmp_path / "dq"
    args = ["data-quality", "--data", str(folder), "--out", str(out), "--as-of", str(AS_OF)]
    assert main(args) == 0
    assert capsys.readouterr().err == ""
    for path in sorted(out.rglob("*.csv")):
        assert unsafe_cells(pd.read_csv(path, dtype=str, keep_default_na=False)) == [], path.name
        assert "RAWID" not in path.read_text(), path.name
    shutil.copy(CORPUS / "crimes_stray_quote.csv", folder / "crimes.csv")
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "crimes.csv" in err and "unbalanced quote" in err


@pytest.mark.parametrize(
    "extra",
    [
        ["--delimiter", ";;"],
        ["--delimiter", ""],
        ["--area", str(CORPUS / "area_not_polygon.csv")],
        ["--out", str(CORPUS / "area_not_polygon.csv")],
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, extra):
    args = ["validate", str(CORPUS / "crimes_formulas.csv"), "--format", "crimes"]
    args += ["--out", str(tmp_path / "o"), *cli_options("crimes"), *extra]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse refuses the option itself
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err
    assert "error:" in err.splitlines()[-1]
