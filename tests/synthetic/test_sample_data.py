"""The synthetic sample: determinism, the committed copy, and whether its truth is the truth."""

from __future__ import annotations

import filecmp
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.data import LoadOptions, load_charges, load_crimes
from analysis.data.offences import load_offence_codes, load_offence_groups
from analysis.space.periods import PeriodCalendar
from analysis.synthetic import SampleConfig, write_sample
from analysis.synthetic.geography import birmingham_lsoas

SMALL = dict(scale=0.04, years=3, truth_replicates=8)


def _same_tree(a, b) -> list[str]:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return [str(f) for f in files if not filecmp.cmp(a / f, b / f, shallow=False)]


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    write_sample(tmp_path / "a", SampleConfig(seed=7, **SMALL), progress=False)
    write_sample(tmp_path / "b", SampleConfig(seed=7, **SMALL), progress=False)
    write_sample(tmp_path / "c", SampleConfig(seed=8, **SMALL), progress=False)
    assert _same_tree(tmp_path / "a", tmp_path / "b") == []
    differ = _same_tree(tmp_path / "a", tmp_path / "c")
    assert "crimes.csv.gz" in differ and "charges.csv.gz" in differ


@pytest.mark.slow
def test_default_seed_reproduces_committed_sample(tmp_path, sample_dir):
    assert main(["sample-data", "--out", str(tmp_path / "s"), "--quiet"]) == 0
    assert _same_tree(tmp_path / "s", sample_dir) == []


def test_committed_sample_is_small_and_documented(sample_dir):
    total = sum(p.stat().st_size for p in sample_dir.rglob("*") if p.is_file())
    assert total < 20 * 1024**2
    meta = json.loads((sample_dir / "sample.json").read_text())
    assert meta["config"]["seed"] == SampleConfig().seed
    assert meta["config"]["years"] >= 6
    sheet = (sample_dir / "DATASHEET.md").read_text()
    assert "must not be used for" in sheet and "synthetic" in sheet


def test_geography_covariates():
    lsoa = birmingham_lsoas()
    assert len(lsoa) == 659
    assert lsoa["population"].sum() == 1_144_925  # Census 2021, Birmingham
    assert int(lsoa["imd_imputed"].sum()) == 43
    assert lsoa["imd_rank"].between(1, 32_844).all()
    assert lsoa.crs.to_epsg() == 27700


@pytest.fixture(scope="module")
def crimes(sample_dir):
    return load_crimes(
        sample_dir / "crimes.csv.gz",
        LoadOptions(area=sample_dir / "study_area.geojson", as_of=date(2026, 11, 24)),
    )


def test_injected_faults_are_what_validation_quarantines(crimes, sample_dir):
    faults = pd.read_csv(sample_dir / "truth" / "injected_faults.csv")
    reasons = crimes.summary()["reasons"]
    for fault, n in faults["fault"].value_counts().items():
        assert reasons.get(fault, 0) == n, fault
    # the remainder are crimes within a metre of the boundary, outside after rounding
    assert (
        crimes.n_read - len(crimes.accepted) - len(faults)
        == reasons.get("outside_study_area", 0)
        < 10
    )


def test_observed_counts_match_true_expectations(crimes, sample_dir):
    truth = pd.read_csv(sample_dir / "truth" / "expected_counts.csv.gz")
    cal = PeriodCalendar()
    acc = crimes.accepted.assign(period=cal.period_of(crimes.accepted["event_date"]))
    table = load_offence_codes()
    for name, group in load_offence_groups().items():
        obs = acc.loc[group.mask(acc, table)].groupby("period").size()
        exp = (
            truth.loc[(truth.group == name) & (truth.unit_set == "lsoa")]
            .groupby("period")["expected"]
            .sum()
        )
        both = pd.DataFrame({"obs": obs, "exp": exp}).dropna().iloc[:-1]  # last: recording lag
        z = (both.obs - both.exp) / np.sqrt(both.exp)
        assert len(both) >= 70
        assert abs(z.mean()) < 0.5, name
        assert 0.6 < z.std() < 2.0, name
    # units within a group and unit set partition the total
    one = truth.loc[truth.period == truth.period.max()]
    totals = one.groupby(["group", "unit_set"])["expected"].sum().unstack()
    assert np.allclose(totals.min(axis=1), totals.max(axis=1), rtol=0.01)


def test_escalation_truth_is_calibrated(sample_dir):
    esc = pd.read_csv(sample_dir / "truth" / "escalation.csv.gz")
    for ref, g in esc.groupby("reference_date"):
        p, y = g["true_probability"], g["realised"].astype(float)
        se = np.sqrt((p * (1 - p)).sum()) / len(g)
        assert abs(y.mean() - p.mean()) < 4 * se + 0.002, ref
        assert (
            g.loc[g.escalator, "true_probability"].mean()
            > 2 * g.loc[~g.escalator, "true_probability"].mean()
        )


def test_sample_charges_load_cleanly(sample_dir):
    result = load_charges(sample_dir / "charges.csv.gz", LoadOptions(as_of=date(2026, 11, 24)))
    s = result.summary()
    assert set(s["reasons"]) <= {"unknown_outcome", "exact_duplicate"}
    assert s["rejected"] < 0.005 * s["read"]
    assert result.accepted["person_id"].str.match(r"^P[0-9a-f]{16}$").all()
    assert 0.8 < (result.accepted["sex"] == "M").mean() < 0.9
