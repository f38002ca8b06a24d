"""Official per-code tables read from CSV: validation, versioning by hash, fines, fallbacks.

The weights below are made up for the tests and are not ONS or Cambridge figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data.errors import LoadError
from analysis.harm.official import fine_to_days, load_chi_code_table, load_css_table


def write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_css_table_loads_and_is_versioned_by_hash(tmp_path):
    a = write(tmp_path, 'Offence code,Weight\n8N,100\n46,2.5\n1,"5,000"\n', "a.csv")
    b = write(tmp_path, "Offence code,Weight\n8N,101\n46,2.5\n1,5000\n", "b.csv")
    index_a, report = load_css_table(a)
    index_b, _ = load_css_table(b)
    assert index_a.name == "ons_css"
    assert index_a.version.startswith("ons_css-sha256:") and index_a.version != index_b.version
    assert report["sha256"] in index_a.notes[0]
    charges = pd.DataFrame({"offence_code": ["8N", "46", "1", "10D"]})
    # a code missing from a CSS table has no weight (there is no family table to fall back on)
    assert index_a.weigh(charges).tolist() == [100, 2.5, 5000, 0]
    assert "10D" in report["offence_table_codes_without_weight"]


def test_chi_code_table_falls_back_on_family_medians(tmp_path):
    path = write(tmp_path, "code,days\n8N,400\n")
    index, _ = load_chi_code_table(path)
    charges = pd.DataFrame({"offence_code": ["8N", "8P", "46", "20A"]})
    assert index.weigh(charges).tolist() == [400, 365, 1, 0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,colour\n8N,red\n", "weight column"),
        ("code,weight\n8N,-1\n", "negative"),
        ("code,weight\n8N,abc\n", "not a number"),
        ("code,weight\n8N,inf\n", "infinite"),
        ("code,weight\n8N,1\n8N,2\n", "repeated with different weights"),
        ("code,weight\n,1\n", "empty offence code"),
        ("code,weight\n", "no rows"),
    ],
)
def test_invalid_tables_are_refused(tmp_path, text, message):
    with pytest.raises(LoadError, match=message):
        load_css_table(write(tmp_path, text))


def test_identical_repeats_are_accepted_and_named_columns_used(tmp_path):
    path = write(tmp_path, "HO,Sev\n8N,3\n8N,3\n")
    index, report = load_css_table(path, code_col="HO", weight_col="Sev")
    assert report["codes"] == 1 and index.by_code.to_dict() == {"8N": 3.0}


def test_fines_convert_to_days_of_minimum_wage_work(tmp_path):
    assert fine_to_days(np.array([100.0]), hourly_wage=10.0, hours_per_day=5.0).tolist() == [2.0]
    path = write(tmp_path, "code,weight,fine_gbp\n46,,120\n8N,365,\n")
    with pytest.raises(LoadError, match="hourly_wage"):
        load_chi_code_table(path, fine_col="fine_gbp")
    index, report = load_chi_code_table(path, hourly_wage=12.0, hours_per_day=5.0)
    assert report["fines_converted"] == 1
    assert index.by_code.to_dict() == {"46": 2.0, "8N": 365.0}
    with pytest.raises(ValueError):
        fine_to_days(np.array([1.0]), hourly_wage=0, hours_per_day=8)
