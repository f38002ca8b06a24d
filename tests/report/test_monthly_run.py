"""The monthly run: every notebook executes, the manifest is complete, outputs are safe."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from analysis.report.plan import MonthlyPlan
from analysis.report.runner import Step, monthly_steps, run_monthly
from analysis.testmode import BANNER as TEST_BANNER

ROOT = Path(__file__).resolve().parents[2]


def steps_of(run):
    return monthly_steps(MonthlyPlan.from_dict(run.manifest["plan"]))


def test_every_step_ran(monthly_run):
    assert monthly_run.ok, monthly_run.manifest["steps"]
    statuses = {s["output"]: s["status"] for s in monthly_run.manifest["steps"]}
    steps = steps_of(monthly_run)
    assert statuses == {f"{s.output}.ipynb": "ok" for s in steps}
    assert len(steps) == 6  # one forecast page per packaged offence group
    index = (monthly_run.folder / "index.html").read_text()
    for s in steps:
        assert (monthly_run.folder / f"{s.output}.html").exists()
        assert f'href="{s.output}.html"' in index


def test_manifest_records_provenance(monthly_run):
    m = json.loads((monthly_run.folder / "manifest.json").read_text())
    assert m["parameters"]["month"] == "2026-10" and m["parameters"]["test_mode"] is True
    plan = MonthlyPlan.from_dict(m["plan"])  # the plan, recorded whole
    assert plan.test_mode and plan.dates.run_date.isoformat() == "2026-10-01"
    assert plan.dates.cutoff.isoformat() == "2026-09-30" and plan.dates.target_period == 115
    assert [g.name for g in plan.groups] == ["knife_crime_with_injury", "serious_violence"]
    assert plan.group("knife_crime_with_injury").evidence["summary_sha256"]
    assert {"crimes", "charges", "offence_groups", "offence_codes"} <= set(plan.data["hashes"])
    assert plan.data["hashes"]["offence_groups"].startswith("packaged:")
    assert not (monthly_run.folder / "restricted" / "validated").exists()  # not published
    assert {"crimes.csv.gz", "charges.csv.gz"} <= set(m["data_hashes"])
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in m["data_hashes"].values())
    assert re.fullmatch(r"[0-9a-f]{40}", m["code"]["commit"])
    assert m["packages"]["pandas"] != "not installed" and m["python"].startswith("3.")
    assert m["started"] <= m["finished"] and m["status"] == "ok"
    for step in m["steps"]:
        assert step["seconds"] > 0 and step["parameters"]["month"] == "2026-10"
    assert m["privacy_check"]["status"] == "ok"


def test_test_mode_is_bannered_everywhere(monthly_run):
    for s in steps_of(monthly_run):
        page = (monthly_run.folder / f"{s.output}.html").read_text()
        assert page.count(TEST_BANNER) >= 2
        nb = nbformat.read(monthly_run.folder / f"{s.output}.ipynb", as_version=4)
        text = json.dumps([c.get("outputs", []) for c in nb.cells])
        assert TEST_BANNER in text


def test_each_group_gets_its_model_and_a_bayesian_fit_runs_in_test_mode(monthly_run):
    from analysis.forecast.registry import MODEL_CHOICES

    for group, choice in MODEL_CHOICES.items():
        model = choice.model
        s = json.loads((monthly_run.folder / "artefacts" / f"forecast_{group}.json").read_text())
        assert s["model"].startswith(model)
        if model.startswith("bayes"):
            assert TEST_BANNER in s["model"]  # the tiny test fit, labelled
            assert any(n.startswith("Bayesian fit, attempt 1") for n in s["notes"])


def test_committee_pages_hold_no_identifier_or_code(monthly_run):
    ids = re.compile(r"\bP[0-9a-f]{16}\b")
    for page in monthly_run.folder.glob("*.html"):
        text = page.read_text()
        assert not ids.search(text), page
        assert "<script" not in text.lower()
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), page
        assert "import " not in text  # code-free: no input cells


def test_executed_notebooks_pass_nbval(monthly_run, tmp_path):
    """Re-run each notebook once (with its test parameters) under nbval-lax.

    The forecast notebook serves every offence group; it is re-run for its cheapest page
    (the last group's), since the monthly run above has already executed it for each.
    """
    copies = []
    by_notebook = {s.notebook: s for s in steps_of(monthly_run)}  # the last step of each
    for s in by_notebook.values():
        dst = tmp_path / f"{s.output}.ipynb"
        shutil.copy(monthly_run.folder / f"{s.output}.ipynb", dst)
        copies.append(str(dst))
    shutil.copytree(monthly_run.folder / "artefacts", tmp_path / "artefacts")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval-kernel-name",
            "analysis",
            *copies,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ passed", proc.stdout)


BROKEN = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(
            "month = ''\ndata_dir = ''\nrun_dir = ''\nproject_dir = ''\ntest_mode = True",
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure')"),
    ],
    metadata={"kernelspec": {"name": "analysis", "display_name": "analysis", "language": "python"}},
)

LEAKY = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(
            "month = ''\ndata_dir = ''\nrun_dir = ''\nproject_dir = ''\ntest_mode = True",
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell(
            "import pandas as pd\n"
            "pd.read_csv(f'{data_dir}/charges.csv.gz', usecols=['person_id']).head(3)"
        ),
    ],
    metadata=BROKEN.metadata,
)


@pytest.fixture
def fake_notebooks(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nbformat.write(BROKEN, nbdir / "broken.ipynb")
    nbformat.write(LEAKY, nbdir / "leaky.ipynb")
    return nbdir


def test_failure_keeps_last_good_report(tmp_path, fake_notebooks):
    out = tmp_path / "reports"
    good = out / "2026-10"
    good.mkdir(parents=True)
    (good / "index.html").write_text("last good report")
    result = run_monthly(
        "2026-10",
        data_dir=ROOT / "data" / "sample",
        out_root=out,
        notebooks_dir=fake_notebooks,
        steps=(Step("broken", "broken", "B"),),
        progress=False,
    )
    assert not result.ok
    assert (good / "index.html").read_text() == "last good report"
    assert result.folder.parent == out / "failed"
    failed_nb = nbformat.read(result.folder / "broken.ipynb", as_version=4)
    assert "deliberate failure" in json.dumps(failed_nb.cells[-1].get("outputs", []))
    step = result.manifest["steps"][0]
    assert step["status"] == "failed" and "deliberate failure" in step["error"]


def test_identifier_in_a_page_fails_the_run(tmp_path, fake_notebooks):
    out = tmp_path / "reports"
    result = run_monthly(
        "2026-10",
        data_dir=ROOT / "data" / "sample",
        out_root=out,
        notebooks_dir=fake_notebooks,
        steps=(Step("leaky", "leaky", "L"),),
        progress=False,
    )
    assert not result.ok
    assert result.manifest["privacy_check"]["status"] == "failed"
    assert not (out / "2026-10").exists()


def test_cli_monthly_exit_code_on_failure(tmp_path, fake_notebooks, monkeypatch):
    from analysis import cli
    from analysis.report import runner

    monkeypatch.setattr(runner, "monthly_steps", lambda plan: (Step("broken", "broken", "B"),))
    code = cli.main(
        [
            "monthly",
            "--month",
            "2026-10",
            "--data",
            str(ROOT / "data" / "sample"),
            "--out",
            str(tmp_path / "r"),
            "--notebooks",
            str(fake_notebooks),
            "--quiet",
        ]
    )
    assert code == 1
