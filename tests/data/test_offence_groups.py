"""Offence groups: definitions from codes, families and flags, and user overrides."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data import LoadError
from analysis.data.offences import load_offence_codes, load_offence_groups


@pytest.fixture(scope="module")
def table():
    return load_offence_codes()


def crimes(rows):
    return pd.DataFrame(rows, columns=["offence_code", "knife", "injury"])


def test_knife_crime_with_injury(table):
    group = load_offence_groups()["knife_crime_with_injury"]
    df = crimes(
        [
            ("8N", True, True),  # in
            ("8N", True, False),  # no injury
            ("8N", False, True),  # no knife
            ("34B", True, True),  # robbery with knife and injury: in
            ("10D", True, True),  # possession: not a selected offence
            ("105A", True, True),  # common assault is not a selected offence
            ("3B", True, True),  # threats to kill is selected
            ("46", True, True),  # shoplifting
        ]
    )
    assert group.mask(df, table).tolist() == [True, False, False, True, False, False, True, False]


def test_serious_violence(table):
    group = load_offence_groups()["serious_violence"]
    df = crimes(
        [
            ("8N", False, True),  # assault with injury: in
            ("34A", False, False),  # robbery: in
            ("105A", False, False),  # common assault: out
            ("105A", True, False),  # common assault with a knife: in
            ("10D", True, False),  # possession only: out
            ("1", False, True),  # homicide: in
        ]
    )
    assert group.mask(df, table).tolist() == [True, True, False, True, False, True]
    assert {"8N", "34A", "1", "105A"} <= group.codes(table)
    assert "10D" not in group.codes(table)


def test_groups_have_sources_and_defaults():
    groups = load_offence_groups()
    assert groups["knife_crime_with_injury"].default_cell_area_km2 == 1.0
    assert groups["serious_violence"].default_cell_area_km2 == 0.5
    assert all(g.source and g.description for g in groups.values())


def test_user_override(tmp_path, table):
    path = tmp_path / "groups.yaml"
    path.write_text("groups:\n  robbery_only:\n    rules:\n      - families: [robbery]\n")
    groups = load_offence_groups(path)
    assert list(groups) == ["robbery_only"]
    assert groups["robbery_only"].mask(
        crimes([("34B", False, False), ("8N", 0, 0)]), table
    ).tolist() == [True, False]


@pytest.mark.parametrize(
    "text",
    [
        "groups: [1, 2]",
        "groups:\n  g:\n    rules: []\n",
        "groups:\n  g:\n    rules:\n      - colour: red\n",
        ": [",
    ],
)
def test_bad_group_files(tmp_path, text):
    path = tmp_path / "g.yaml"
    path.write_text(text)
    with pytest.raises(LoadError, match=r"g\.yaml"):
        load_offence_groups(path)


def test_code_table_override_rejects_duplicates(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(
        "code,description,family,knife_selected,violent\n8N,a,b,true,true\n8N,c,d,false,false\n"
    )
    with pytest.raises(LoadError, match="repeats codes"):
        load_offence_codes(path)
