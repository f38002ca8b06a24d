"""Bad input a reviewer found: each is quarantined row by row or refused in one named line."""

from __future__ import annotations

import pandas as pd
import pytest
from contract_files import (
    DATE_COLUMN,
    FORMATS,
    HEADERS,
    OUT_OF_RANGE_YEARS,
    TEXT_COLUMN,
    corrupt_gzip,
    csv_text,
    good_row,
    good_rows,
    options,
    write,
)

from analysis.data import LoadError, load
from analysis.data.reading import MAX_FIELD_CHARS, read_table


def out_of_range(fmt: str, year: str) -> str:
    return f"{year}-01" if fmt == "policeuk" else f"{year}-01-01"


# ------------------------------------------------------------------ dates outside pandas' range


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("year", [*OUT_OF_RANGE_YEARS, "last"])
def test_a_date_out_of_range_quarantines_its_row(tmp_path, fmt, year):
    rows = good_rows(fmt, 3)
    column = DATE_COLUMN[fmt]
    value = "9999-12-31" if year == "last" else out_of_range(fmt, year)
    if year == "last" and fmt == "policeuk":
        value = "9999-12"
    rows[1][HEADERS[fmt].index(column)] = value
    result = load(write(tmp_path / "f.csv", HEADERS[fmt], rows), fmt, options(fmt))
    assert result.n_read == 3 and len(result.accepted) == 2
    bad = result.rejected.iloc[0]
    assert (bad["row"], bad["reason"], bad["column"]) == (3, "date_out_of_range", column)
    assert value in bad["detail"]


@pytest.mark.parametrize("value", ["-1", "2262-04-12", "1677-09-21T00:00:00.1234567"])
def test_edge_dates_out_of_range_in_an_optional_column(tmp_path, value):
    rows = good_rows("crimes", 2)
    rows[0][HEADERS["crimes"].index("committed_from")] = value
    result = load(write(tmp_path / "c.csv", HEADERS["crimes"], rows), "crimes", options("crimes"))
    assert result.rejected["reason"].tolist() == ["date_out_of_range"]
    assert result.rejected["column"].tolist() == ["committed_from"]


def test_a_date_out_of_range_in_a_given_format(tmp_path):
    rows = good_rows("charges", 2)
    rows[0][2], rows[1][2] = "01/02/3000", "01/02/2025"
    path = write(tmp_path / "c.csv", HEADERS["charges"], rows)
    result = load(path, "charges", options("charges", time_format="%d/%m/%Y"))
    assert result.rejected["reason"].tolist() == ["date_out_of_range"]
    assert result.accepted["charge_date"].tolist() == [pd.Timestamp("2025-02-01")]


# ------------------------------------------------------------------ unbalanced quotes


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_stray_opening_quote_is_refused_naming_its_row(tmp_path, fmt):
    lines = csv_text(HEADERS[fmt], good_rows(fmt, 20)).splitlines()
    lines[4] = '"' + lines[4]  # row 5 opens a quote that never closes
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(LoadError, match=r"q\.csv: unbalanced quote: the record at row 5") as exc:
        load(path, fmt, options(fmt))
    assert "\n" not in str(exc.value)


def test_a_stray_quote_closed_by_a_later_quoted_field_is_refused(tmp_path):
    rows = good_rows("crimes", 20)
    rows[15][5] = "Assault, with injury"  # quoted by the writer
    lines = csv_text(HEADERS["crimes"], rows).splitlines()
    lines[3] = lines[3].replace(",Assault,", ',"Assault,')
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(LoadError, match=r"unbalanced quote: the record at row 4 \(line 4\)"):
        load(path, "crimes", options("crimes"))


def test_a_stray_quote_merging_two_records_into_one_of_the_right_width_is_refused(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('x,y,z\n1,2,3\na,"b,c\ng1,g2,"g3 with, comma"\n4,5,6\n')
    with pytest.raises(LoadError, match=r"unbalanced quote: the record at row 3 \(line 3\)"):
        read_table(path)


def test_a_stray_quote_closed_by_a_quote_inside_a_later_field_is_refused(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('x,y,z\n1,2,3\n"a,b,c\n5\'10",4,5\n6,7,8\n')
    with pytest.raises(LoadError, match=r"unbalanced quote: the record at row 3 \(line 3\)"):
        read_table(path)


def test_a_stray_quote_in_the_last_field_swallowing_the_last_line_is_refused(tmp_path):
    lines = csv_text(HEADERS["events"], good_rows("events", 5)).splitlines()
    lines[4] = lines[4][: -len("ok")] + '"ok'
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines))  # no line break at the end
    with pytest.raises(LoadError, match="runs to the end of the file"):
        load(path, "events", options("events"))


def test_a_stray_quote_in_the_header_is_refused(tmp_path):
    lines = csv_text(HEADERS["events"], good_rows("events", 3)).splitlines()
    lines[0] = lines[0].replace(",note", ',"note')  # every record would join the last name
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(LoadError, match=r"q\.csv: unbalanced quote: the header \(line 1\)"):
        load(path, "events", options("events"))


def test_quoted_line_breaks_in_a_text_field_are_kept(tmp_path):
    rows = good_rows("crimes", 5)
    rows[2][5] = "Assault\non the stairs,\nsecond floor"
    result = load(write(tmp_path / "c.csv", HEADERS["crimes"], rows), "crimes", options("crimes"))
    assert len(result.accepted) == 5
    assert result.accepted["offence_description"][2] == rows[2][5]


# ------------------------------------------------------------------ very long fields


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_field_over_the_limit_quarantines_its_row(tmp_path, fmt):
    rows = good_rows(fmt, 3)
    column = TEXT_COLUMN[fmt]
    rows[0][HEADERS[fmt].index(column)] = "x" * (MAX_FIELD_CHARS + 1)
    result = load(write(tmp_path / "f.csv", HEADERS[fmt], rows), fmt, options(fmt))
    assert result.n_read == 3 and len(result.accepted) == 2
    bad = result.rejected.iloc[0]
    assert (bad["row"], bad["reason"]) == (2, "field_too_long")
    assert column in bad["detail"] and len(bad["raw"]) < 1_000


def test_a_field_at_the_limit_is_read(tmp_path):
    rows = good_rows("crimes", 2)
    rows[1][5] = "y" * MAX_FIELD_CHARS
    result = load(write(tmp_path / "c.csv", HEADERS["crimes"], rows), "crimes", options("crimes"))
    assert len(result.accepted) == 2


# ------------------------------------------------------------------ whole-file faults


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_gzip_with_a_damaged_body_is_refused_by_name(tmp_path, fmt):
    path = tmp_path / "damaged.csv.gz"
    path.write_bytes(corrupt_gzip(csv_text(HEADERS[fmt], good_rows(fmt, 5)).encode()))
    with pytest.raises(LoadError, match=r"damaged\.csv\.gz: looks gzip-compressed but cannot"):
        load(path, fmt, options(fmt))


def test_swapped_longitude_and_latitude_are_named(tmp_path):
    rows = [["E1", "2024-01-05", "39.10", "-84.51"], ["E2", "2024-01-06", "39.11", "-84.50"]]
    path = write(tmp_path / "swapped.csv", ["id", "time", "lon", "lat"], rows)
    with pytest.raises(LoadError, match=r"swapped\.csv: .*longitude and latitude .*swapped"):
        load(path, "events", options("events"))


def test_points_beyond_valid_latitude_are_quarantined(tmp_path):
    rows = good_rows("events", 3)
    rows[1][2], rows[1][3] = "52.48", "-91.5"
    result = load(write(tmp_path / "e.csv", HEADERS["events"], rows), "events", options("events"))
    assert result.rejected["reason"].tolist() == ["coordinate_out_of_range"]
    assert len(result.accepted) == 2


@pytest.mark.parametrize("fmt", ["crimes", "events"])
def test_an_area_that_is_not_a_polygon_file_is_named(tmp_path, fmt):
    area = write(tmp_path / "area.csv", ["a", "b"], [["1", "2"]])
    path = write(tmp_path / "f.csv", HEADERS[fmt], good_rows(fmt, 2))
    with pytest.raises(LoadError, match=r"area\.csv: not a polygon file"):
        load(path, fmt, options(fmt, area=area))


@pytest.mark.parametrize("delimiter", [";;", "", '"', "\n"])
def test_a_delimiter_must_be_one_character(tmp_path, delimiter):
    path = write(tmp_path / "f.csv", HEADERS["crimes"], good_rows("crimes", 1))
    with pytest.raises(ValueError, match="delimiter"):
        read_table(path, delimiter=delimiter)


# ------------------------------------------------------------------ huge numbers


@pytest.mark.parametrize("column", ["age", "year_of_birth"])
@pytest.mark.parametrize("value", ["1e19", "9999999999999999999", "-1e19", "1e300"])
def test_a_huge_age_or_year_of_birth_quarantines_its_row(tmp_path, column, value):
    header = [column if c == "age" else c for c in HEADERS["charges"]]
    rows = good_rows("charges", 3)
    if column == "year_of_birth":
        for r in rows:
            r[5] = "2000"
    rows[2][5] = value
    result = load(write(tmp_path / "c.csv", header, rows), "charges", options("charges"))
    assert result.n_read == 3 and len(result.accepted) == 2
    assert result.rejected["reason"].tolist() == ["implausible_age"]
    assert result.accepted["age"].notna().all()


# ------------------------------------------------------------------ the pseudonym key everywhere


def test_the_key_reaches_the_raw_fields_of_malformed_rows(tmp_path):
    rows = good_rows("charges", 6)
    rows[1] = [*rows[1], "extra"]  # one field too many
    rows[2] = rows[2][:-2]  # two too few
    rows[3][0] = "RAWID, split"  # unquoted below: the identifier spills into a second field
    rows[4][1] = "z" * (MAX_FIELD_CHARS + 5)  # an over-long field
    rows[5] = rows[5][:1]  # the identifier alone
    text = csv_text(HEADERS["charges"], rows).replace('"RAWID, split"', "RAWID, split")
    path = tmp_path / "c.csv"
    path.write_text(text)
    result = load(path, "charges", options("charges", pseudonym_key=b"k"))
    assert set(result.rejected["reason"]) == {"wrong_field_count", "field_too_long"}
    assert len(result.rejected) == 5
    published = result.rejected.to_csv() + result.accepted.to_csv()
    assert "RAWID" not in published
    raw = result.rejected.set_index("row")["raw"]
    assert raw[3].endswith(",2025-06-01,8N,convicted,23,M,W1,E01033620,extra")  # kept to fix


def test_without_a_key_the_raw_fields_are_kept(tmp_path):
    rows = good_rows("charges", 2)
    rows[1] = [*rows[1], "extra"]
    path = write(tmp_path / "c.csv", HEADERS["charges"], rows)
    result = load(path, "charges", options("charges"))
    assert result.rejected["raw"].str.startswith("RAWID00001,").all()


def test_good_rows_still_load(tmp_path):
    for fmt in FORMATS:
        rows = [good_row(fmt, i) for i in range(4)]
        result = load(write(tmp_path / f"{fmt}.csv", HEADERS[fmt], rows), fmt, options(fmt))
        assert len(result.accepted) == 4 and result.rejected.empty, fmt


# ------------------------------------------------------------------ the codes are documented


def _reason_codes() -> set[str]:
    """Every reason code the data layer can give (constants passed where reasons go)."""
    import ast
    from pathlib import Path

    import analysis.data

    codes = set()
    for path in Path(analysis.data.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            at = {"flag": 1, "_malformed": 3, "check_vocabulary": 4}.get(name)
            if at is not None and len(node.args) > at and isinstance(node.args[at], ast.Constant):
                codes.add(node.args[at].value)
    return codes


def test_every_reason_code_is_in_the_data_dictionary(root):
    codes = _reason_codes()
    assert {"date_out_of_range", "field_too_long", "wrong_field_count", "missing_value"} <= codes
    table = (root / "docs" / "data-dictionary.md").read_text().split("## Reason codes")[1]
    table = table.split("\n## ")[0]
    assert sorted(c for c in codes if f"`{c}`" not in table) == []


# ------------------------------------------------------------------ the files beside the contracts

DAMAGED_FOLDER_FILES = {
    "lsoa.geojson": b'{"type": "FeatureCollection", "features": [',
    "study_area.geojson": b"not json at all",
    "lsoa_to_lom_unit.csv": b'lsoa21cd,lom_unit\nE1,"a\nE2,b\n',
    "offence_codes.csv": b"\xff\xfe garbage",
    "truth/escalation.csv.gz": corrupt_gzip(b"reference_date,person_id\n"),
}


@pytest.mark.parametrize("name", sorted(DAMAGED_FOLDER_FILES))
def test_a_damaged_file_beside_the_contracts_is_named(tmp_path, name):
    from analysis.data.folder import DataFolder

    write(tmp_path / "crimes.csv", HEADERS["crimes"], good_rows("crimes", 2))
    (tmp_path / name).parent.mkdir(exist_ok=True)
    (tmp_path / name).write_bytes(DAMAGED_FOLDER_FILES[name])
    with pytest.raises(LoadError) as exc:
        DataFolder.locate(tmp_path).load(options("crimes"))
    assert str(exc.value).startswith(f"{tmp_path / name}: ") and "\n" not in str(exc.value)
