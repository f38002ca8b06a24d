"""Recorded-crime and charge contracts: every check, known answers, and pseudonymisation."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analysis.data import DuplicatePolicy, LoadError, LoadOptions, load_charges, load_crimes
from analysis.data.pseudonymise import pseudonymise

AS_OF = date(2026, 11, 24)
CRIME_HEADER = [
    "crime_ref",
    "recorded_date",
    "committed_from",
    "committed_to",
    "ho_offence_code",
    "ho_offence_description",
    "easting",
    "northing",
    "longitude",
    "latitude",
    "lsoa_code",
    "knife_used",
    "injury",
]


def crime(ref: str, **over: str) -> list[str]:
    row = {
        "crime_ref": ref,
        "recorded_date": "2025-05-02",
        "committed_from": "2025-05-01 22:10",
        "committed_to": "2025-05-01 23:00",
        "ho_offence_code": "8N",
        "ho_offence_description": "",
        "easting": "406900",
        "northing": "286900",
        "longitude": "",
        "latitude": "",
        "lsoa_code": "E01033620",
        "knife_used": "Y",
        "injury": "Y",
    }
    row.update(over)
    return [row[c] for c in CRIME_HEADER]


CASES = [
    (dict(crime_ref=""), "missing_value", "crime_ref"),
    (dict(recorded_date="2025-02-30"), "unparseable_date", "recorded_date"),
    (
        dict(recorded_date="2027-01-01", committed_from="", committed_to=""),
        "future_date",
        "recorded_date",
    ),
    (
        dict(
            committed_from="2025-05-03 10:00",
            committed_to="2025-05-03 09:00",
            recorded_date="2025-05-04",
        ),
        "committed_from_after_to",
        "committed_from",
    ),
    (dict(recorded_date="2025-04-30"), "recorded_before_committed", "recorded_date"),
    (dict(ho_offence_code="99Z"), "unknown_offence_code", "ho_offence_code"),
    (dict(knife_used="maybe"), "invalid_flag", "knife_used"),
    (dict(lsoa_code="Birmingham"), "invalid_lsoa_code", "lsoa_code"),
    (dict(easting="", northing=""), "missing_coordinates", "longitude"),
    (dict(easting="abc"), "invalid_coordinate", "easting"),
    (dict(easting="-5"), "coordinate_out_of_range", "easting"),
]


def test_crime_checks_each_reason(tmp_path, write_csv):
    rows = [
        crime("A1"),
        crime("A2", easting="", northing="", longitude="-1.8904", latitude="52.4862"),
    ]
    for k, (over, _, _) in enumerate(CASES):
        rows.append(crime(f"B{k}", **over))
    path = write_csv(tmp_path / "crimes.csv", CRIME_HEADER, rows)
    result = load_crimes(path, LoadOptions(as_of=AS_OF))
    assert result.n_read == len(rows)
    assert list(result.accepted["crime_ref"]) == ["A1", "A2"]
    rej = result.rejected.set_index("row")
    for k, (_, reason, column) in enumerate(CASES):
        assert (rej.loc[k + 4, "reason"], rej.loc[k + 4, "column"]) == (reason, column), k
    acc = result.accepted
    assert acc.loc[0, "offence_description"] == "Assault with injury"
    assert acc.loc[0, "family"] == "violence_with_injury"
    assert bool(acc.loc[0, "knife"]) and bool(acc.loc[0, "injury"])
    assert acc.loc[0, "event_date"] == pd.Timestamp("2025-05-01")
    # the longitude/latitude row lands near the easting/northing one (same place)
    assert abs(acc.loc[1, "x"] - 406_900) < 1_000 and abs(acc.loc[1, "y"] - 286_900) < 1_000


def test_event_date_falls_back_to_recorded(tmp_path, write_csv):
    path = write_csv(
        tmp_path / "c.csv", CRIME_HEADER, [crime("A", committed_from="", committed_to="")]
    )
    acc = load_crimes(path, LoadOptions(as_of=AS_OF)).accepted
    assert acc.loc[0, "event_date"] == pd.Timestamp("2025-05-02")


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        (DuplicatePolicy.KEEP_FIRST, ["A", "B"]),
        (DuplicatePolicy.KEEP_LAST, ["B", "A"]),
        (DuplicatePolicy.REJECT_ALL, ["B"]),
    ],
)
def test_repeated_reference_rule(tmp_path, write_csv, policy, kept):
    rows = [crime("A"), crime("B"), crime("A", easting="407000")]
    path = write_csv(tmp_path / "c.csv", CRIME_HEADER, rows)
    result = load_crimes(path, LoadOptions(as_of=AS_OF, duplicate_ids=policy))
    assert list(result.accepted["crime_ref"]) == kept
    assert set(result.rejected["reason"]) == {"duplicate_id"}
    assert result.n_read == 3


def test_study_area_quarantines_points_outside(tmp_path, write_csv):
    area = tmp_path / "area.geojson"
    area.write_text(
        '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":'
        '"urn:ogc:def:crs:EPSG::27700"}},"features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Polygon","coordinates":[[[406000,286000],[408000,286000],'
        "[408000,288000],[406000,288000],[406000,286000]]]}}]}"
    )
    rows = [crime("IN"), crime("EDGE", easting="406000"), crime("OUT", easting="409000")]
    path = write_csv(tmp_path / "c.csv", CRIME_HEADER, rows)
    result = load_crimes(path, LoadOptions(as_of=AS_OF, area=area))
    assert list(result.accepted["crime_ref"]) == ["IN", "EDGE"]
    assert result.rejected["reason"].tolist() == ["outside_study_area"]


def test_crimes_need_coordinate_columns(tmp_path, write_csv):
    header = ["crime_ref", "recorded_date", "ho_offence_code", "knife_used", "injury"]
    path = write_csv(tmp_path / "c.csv", header, [["A", "2025-01-01", "8N", "N", "Y"]])
    with pytest.raises(LoadError, match="coordinate columns"):
        load_crimes(path)


CHARGE_HEADER = [
    "person_id",
    "crime_ref",
    "charge_date",
    "offence_code",
    "outcome",
    "age",
    "sex",
    "ethnicity",
    "home_lsoa",
]


def charge(pid: str, ref: str, **over: str) -> list[str]:
    row = {
        "person_id": pid,
        "crime_ref": ref,
        "charge_date": "2025-06-01",
        "offence_code": "8N",
        "outcome": "convicted",
        "age": "23",
        "sex": "M",
        "ethnicity": "W1",
        "home_lsoa": "E01033620",
    }
    row.update(over)
    return [row[c] for c in CHARGE_HEADER]


def test_charge_checks(tmp_path, write_csv):
    rows = [
        charge("P1", "C1"),
        charge("P1", "C2", outcome="NFA", ethnicity="b2"),
        charge("P2", "C3", outcome="guilty-ish"),
        charge("P3", "C4", age="9"),
        charge("P4", "C5", age="twenty"),
        charge("P5", "C6", sex="Q"),
        charge("P6", "C7", ethnicity="Martian"),
        charge("P7", "C8", charge_date="2030-01-01"),
        charge("P8", "C9", offence_code="ZZ"),
        charge("P1", "C1"),
    ]
    path = write_csv(tmp_path / "ch.csv", CHARGE_HEADER, rows)
    result = load_charges(path, LoadOptions(as_of=AS_OF))
    assert result.n_read == 10
    acc = result.accepted
    assert acc["crime_ref"].tolist() == ["C1", "C2"]
    assert acc.loc[1, "outcome"] == "no_further_action"
    assert acc.loc[1, "ethnicity"] == "B2" and acc.loc[1, "ethnic_group"] == "Black"
    assert result.rejected["reason"].tolist() == [
        "unknown_outcome",
        "implausible_age",
        "invalid_number",
        "unknown_sex",
        "unknown_ethnicity",
        "future_date",
        "unknown_offence_code",
        "exact_duplicate",
    ]


def test_year_of_birth_gives_age(tmp_path, write_csv):
    header = [c if c != "age" else "year_of_birth" for c in CHARGE_HEADER]
    rows = [charge("P1", "C1", age="2000"), charge("P2", "C2", age="2020")]
    path = write_csv(tmp_path / "ch.csv", header, rows)
    result = load_charges(path, LoadOptions(as_of=AS_OF))
    assert result.accepted["age"].tolist() == [25]
    assert result.rejected["reason"].tolist() == ["implausible_age"]


def test_charges_pseudonymised_on_load_everywhere(tmp_path, write_csv):
    rows = [charge("NAME-123", "C1"), charge("NAME-456", "C2", sex="?")]
    path = write_csv(tmp_path / "ch.csv", CHARGE_HEADER, rows)
    key = b"secret"
    result = load_charges(path, LoadOptions(as_of=AS_OF, pseudonym_key=key))
    assert result.accepted["person_id"].iloc[0] == pseudonymise(pd.Series(["NAME-123"]), key)[0]
    text = result.accepted.to_csv() + result.rejected.to_csv()
    assert "NAME-" not in text
    other = pseudonymise(pd.Series(["NAME-123"]), b"other-key")[0]
    assert other != result.accepted["person_id"].iloc[0]
