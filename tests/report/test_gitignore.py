"""Every folder a monthly run writes restricted rows to is ignored by git."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import nbformat
import pytest

from analysis.report.runner import Step, run_monthly

ROOT = Path(__file__).resolve().parents[2]

BROKEN = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(
            "month = ''\ndata_dir = ''\nrun_dir = ''\nproject_dir = ''\ntest_mode = True\n"
            "plan = None",
            metadata={"tags": ["parameters"]},
        ),
        nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure')"),
    ],
    metadata={"kernelspec": {"name": "analysis", "display_name": "analysis", "language": "python"}},
)


def ignored(paths: list[Path]) -> set[Path]:
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return {Path(line) for line in proc.stdout.splitlines()}


@pytest.fixture
def reports_folder():
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    folder = ROOT / "reports" / f"_test_{uuid.uuid4().hex[:8]}"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_every_restricted_folder_a_run_writes_is_ignored(reports_folder, small_folder, tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nbformat.write(BROKEN, nbdir / "broken.ipynb")
    result = run_monthly(
        "2026-10",
        data_dir=small_folder,
        out_root=reports_folder,
        notebooks_dir=nbdir,
        steps=(Step("broken", "broken", "B"),),
        progress=False,
    )
    assert not result.ok
    written = [p for p in result.folder.rglob("*") if p.is_file()]
    assert any("restricted" in p.parts for p in written)  # the validated rows, at least
    # what other runs leave: a published month's restricted folders, a run killed while
    # staging, a publication cut short
    month = reports_folder / "2026-10"
    planted = [
        month / "restricted" / "validated" / "validated.pkl",
        month / "data_quality" / "restricted" / "crimes_rejected.csv",
        month / "artefacts" / "harm" / "restricted" / "ranked.csv",
        reports_folder / ".staging-2026-10-20260101T000000" / "restricted" / "charges.csv",
        reports_folder / ".previous-2026-10-20260101T000000" / "restricted" / "x.csv",
    ]
    for p in planted:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("restricted\n")
    paths = [p.relative_to(ROOT) for p in written + planted]
    assert ignored(paths) == set(paths)
    assert not ignored([(month / "index.html").relative_to(ROOT)])  # a published page is not
