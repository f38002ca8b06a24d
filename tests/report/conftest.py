"""A monthly run in test mode, shared by the report tests (it takes about a minute and a half)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.report.runner import run_monthly

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def monthly_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    result = run_monthly(
        "2026-10",
        data_dir=ROOT / "data" / "sample",
        out_root=out,
        notebooks_dir=ROOT / "notebooks",
        test_mode=True,
        progress=False,
    )
    return result


@pytest.fixture
def small_folder(tmp_path):
    """The sample's geography with the first 400 crimes and charges (a fast plan).

    It keeps the sample's record (``sample.json``): its identifiers are synthetic.
    """
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("study_area.geojson", "lsoa.geojson", "lsoa_to_lom_unit.csv", "sample.json"):
        shutil.copy(SAMPLE / name, folder / name)
    for name in ("crimes.csv.gz", "charges.csv.gz"):
        pd.read_csv(SAMPLE / name, dtype=str, nrows=400).to_csv(folder / name, index=False)
    return folder
