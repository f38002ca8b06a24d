"""The run plan: one folder validation, one plan, carried to every notebook and the manifest."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis import cli
from analysis.data.folder import DataFolder, open_validated
from analysis.data.offences import packaged_table
from analysis.data.reading import file_sha256
from analysis.report import runner
from analysis.report.plan import MonthlyPlan, build_plan
from analysis.report.runner import Step, run_monthly

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"

GROUPS = """\
groups:
  robbery_any:
    label: Robbery (any)
    description: Every robbery, with or without a weapon.
    source: A test group that the packaged file does not have.
    default_cell_area_km2: 2.0
    rules:
      - families: [robbery]
"""


ALL_STEPS = runner.monthly_steps


def forecast_steps(plan: MonthlyPlan) -> tuple[Step, ...]:
    return tuple(s for s in ALL_STEPS(plan) if s.notebook == "02_crime_forecast")


def test_monthly_runs_a_custom_groups_file_end_to_end(tmp_path, monkeypatch):
    groups = tmp_path / "groups.yaml"
    groups.write_text(GROUPS)
    codes = tmp_path / "codes.csv"
    shutil.copy(packaged_table("offence_codes.csv"), codes)
    monkeypatch.setattr(runner, "monthly_steps", forecast_steps)  # only the forecast pages
    out = tmp_path / "reports"
    code = cli.main(
        ["monthly", "--month", "2026-10", "--data", str(SAMPLE), "--out", str(out),
         "--offence-groups", str(groups), "--offence-codes", str(codes),
         "--notebooks", str(ROOT / "notebooks"), "--test-mode", "--quiet"]
    )  # fmt: skip
    assert code == 0
    month = out / "2026-10"
    page = (month / "02_forecast_robbery_any.html").read_text()
    assert "Forecast: Robbery (any)" in page and "2 km²" in page
    assert "no backtest of this group" in page and "chosen by the backtest" not in page
    assert not (month / "02_forecast_knife_crime_with_injury.html").exists()
    m = json.loads((month / "manifest.json").read_text())
    plan = MonthlyPlan.from_dict(m["plan"])
    (g,) = plan.groups
    assert g.name == "robbery_any" and g.cell_area_km2 == 2.0
    assert g.model == "ewma_rescaled" and g.evidence["leaderboard"] is None
    assert plan.data["hashes"]["offence_groups"] == file_sha256(groups)
    assert plan.data["hashes"]["offence_codes"] == file_sha256(codes)
    assert m["parameters"]["offence_groups"].endswith("groups.yaml")
    assert not Path(m["parameters"]["offence_groups"]).is_absolute()
    (step,) = m["steps"]
    assert step["output"] == "02_forecast_robbery_any.ipynb" and step["status"] == "ok"
    summary = json.loads((month / "artefacts" / "forecast_robbery_any.json").read_text())
    assert summary["group"] == "robbery_any" and summary["cell_area_km2"] == 2.0


def test_the_folder_is_validated_once_and_handed_on(tmp_path):
    plan, data = build_plan("2026-10", SAMPLE, tmp_path, project_dir=ROOT)
    reopened = open_validated(plan.inputs)
    pd.testing.assert_frame_equal(reopened.crimes.accepted, data.crimes.accepted)
    pd.testing.assert_frame_equal(reopened.charges.accepted, data.charges.accepted)
    assert reopened.options.pseudonym_key is None  # the key is never kept
    # one set of rules for every file: dates after the day before the run are future
    assert data.options.as_of.isoformat() == "2026-09-30"
    assert data.crimes.summary()["read"] == data.crimes.n_read
    assert plan.dates.cutoff <= data.options.as_of
    assert plan.dates.data_start == data.crimes.accepted["recorded_date"].min().date()
    # the plan survives papermill's JSON
    assert MonthlyPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_a_folder_without_crimes_is_refused_by_name(tmp_path):
    from analysis.data import LoadError

    with pytest.raises(LoadError, match=r"no crimes\.csv\.gz or crimes\.csv"):
        DataFolder.locate(tmp_path)
    shutil.copy(SAMPLE / "charges.csv.gz", tmp_path / "charges.csv.gz")
    assert DataFolder.locate(tmp_path, require=("charges",)).has("charges")


SHOW_PUBLISHED_IDS = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(
            "month = ''\ndata_dir = ''\nrun_dir = ''\nproject_dir = ''\ntest_mode = True\n"
            "plan = None",
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell(
            "from analysis.report.plan import MonthlyPlan\n"
            "data = MonthlyPlan.from_dict(plan).open_inputs()\n"
            "print(list(data.charges.accepted['person_id'].head(3)))"
        ),
    ],
    metadata={"kernelspec": {"name": "analysis", "display_name": "analysis", "language": "python"}},
)


def test_the_privacy_scan_checks_the_identifiers_that_were_published(tmp_path, small_folder):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nbformat.write(SHOW_PUBLISHED_IDS, nbdir / "ids.ipynb")
    key = b"a test key, not a secret"
    result = run_monthly(
        "2026-10",
        data_dir=small_folder,
        out_root=tmp_path / "reports",
        notebooks_dir=nbdir,
        steps=(Step("ids", "ids", "I"),),
        progress=False,
        pseudonym_key=key,
    )
    raw = set(pd.read_csv(small_folder / "charges.csv.gz", dtype=str)["person_id"])
    page = (result.folder / "ids.html").read_text()
    shown = set(re.findall(r"P[0-9a-f]{16}", page))
    assert shown and not shown & raw  # the page shows keyed identifiers, not the raw ones
    assert not result.ok
    check = result.manifest["privacy_check"]
    assert check["status"] == "failed" and "ids.html" in check["person_ids"]
    assert check["identifiers_pseudonymised_on_load"] is True
    assert check["identifiers_checked"] >= 2 * len(raw) - 5  # keyed and raw
    assert result.manifest["plan"]["data"]["pseudonymised_on_load"] is True


NAMES_ITS_FOLDER = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(
            "month = ''\ndata_dir = ''\nrun_dir = ''\nproject_dir = ''\ntest_mode = True\n"
            "plan = None",
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell("import os\nprint('folder:', os.path.abspath(run_dir))"),
        nbformat.v4.new_code_cell(
            "from pathlib import Path\n"
            "Path(run_dir, 'artefacts').mkdir(exist_ok=True)\n"
            "Path(run_dir, 'artefacts', 'where.txt').write_text(os.path.abspath(run_dir))"
        ),
    ],
    metadata=SHOW_PUBLISHED_IDS.metadata,
)


def test_no_published_file_names_a_server_path(tmp_path, small_folder):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nbformat.write(NAMES_ITS_FOLDER, nbdir / "where.ipynb")
    result = run_monthly(
        "2026-10",
        data_dir=small_folder,
        out_root=tmp_path / "reports",
        notebooks_dir=nbdir,
        steps=(Step("where", "where", "W"),),
        progress=False,
    )
    page = (result.folder / "where.html").read_text()
    notebook = (result.folder / "where.ipynb").read_text()
    assert "folder: ." in page  # a printed folder is written relative to the run
    assert str(tmp_path) not in page and str(tmp_path) not in notebook
    assert not result.ok  # but a file the notebook wrote with a server path fails the run
    check = result.manifest["privacy_check"]
    assert check["status"] == "failed" and check["server_paths"] == ["artefacts/where.txt"]
    assert str(tmp_path) not in json.dumps(result.manifest["plan"])
    assert str(tmp_path) not in json.dumps(result.manifest["parameters"])


def test_a_relative_path_through_a_server_folder_is_not_a_server_path(tmp_path):
    from analysis.report.privacy import Sensitive, scan

    root = str(tmp_path / "work" / "main")
    relative = tmp_path / "relative.json"
    relative.write_text('{"folder": "../../../' + root.lstrip("/") + '/data"}')
    absolute = tmp_path / "absolute.json"
    absolute.write_text('{"folder": "' + root + '/data"}')
    check = scan([relative, absolute], Sensitive(roots=[root]), tmp_path)
    assert check["server_paths"] == ["absolute.json"]


def test_a_run_reading_people_needs_the_key_or_a_statement(tmp_path, small_folder, monkeypatch):
    from analysis.data.identifiers import IdentifierState, MissingKeyError
    from analysis.data.pseudonymise import KEY_ENV

    monkeypatch.delenv(KEY_ENV, raising=False)
    (small_folder / "sample.json").unlink()  # a force's extract, not the synthetic sample
    with pytest.raises(MissingKeyError, match=KEY_ENV):
        build_plan("2026-10", small_folder, tmp_path / "a", project_dir=ROOT)
    plan, _ = build_plan(
        "2026-10",
        small_folder,
        tmp_path / "b",
        project_dir=ROOT,
        identifiers_already_pseudonymised=True,
    )
    assert plan.data["identifiers"] == IdentifierState.ALREADY.value
    keyed, _ = build_plan(
        "2026-10", small_folder, tmp_path / "c", project_dir=ROOT, pseudonym_key=b"k" * 16
    )
    assert keyed.data["identifiers"] == IdentifierState.KEYED.value
    result = run_monthly(
        "2026-10",
        data_dir=small_folder,
        out_root=tmp_path / "reports",
        notebooks_dir=ROOT / "notebooks",
        steps=(),
        progress=False,
    )
    assert not result.ok and result.folder.parent.name == "failed"
    assert "no pseudonym key is set" in result.manifest["plan"]["error"]
