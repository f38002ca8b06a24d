"""A monthly run that fails anywhere ends under failed/ with its manifest; a run killed
halfway is taken over by the next; a publication cut short is finished."""

from __future__ import annotations

import gzip
import json
import os
import socket

import pytest

from analysis.report import runner
from analysis.report.runner import RUN_MARKER, run_monthly, take_over_abandoned


def run(small_folder, out, **kwargs):
    return run_monthly(
        "2026-10", data_dir=small_folder, out_root=out, steps=(), progress=False, **kwargs
    )


def test_a_failure_of_the_runner_itself_is_kept_under_failed(small_folder, tmp_path, monkeypatch):
    def broken_scan(*args, **kwargs):
        raise RuntimeError("the scanner broke")

    monkeypatch.setattr(runner, "scan", broken_scan)
    result = run(small_folder, tmp_path / "reports")
    assert not result.ok and result.folder.parent == tmp_path / "reports" / "failed"
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["runner_error"] == "RuntimeError: the scanner broke"
    assert not list((tmp_path / "reports").glob(".staging-*"))


def test_a_truncated_charges_file_fails_the_run_under_failed(small_folder, tmp_path):
    whole = gzip.decompress((small_folder / "charges.csv.gz").read_bytes())
    (small_folder / "charges.csv.gz").write_bytes(gzip.compress(whole)[:-200])
    result = run(small_folder, tmp_path / "reports")
    assert not result.ok and result.folder.parent.name == "failed"
    assert (result.folder / "manifest.json").exists()
    assert "charges" in json.dumps(result.manifest["plan"])
    assert not list((tmp_path / "reports").glob(".staging-*"))


def test_a_killed_run_is_taken_over_and_a_live_one_left_alone(tmp_path):
    out = tmp_path / "reports"
    dead = out / ".staging-2026-10-20260101T000000"
    unmarked = out / ".staging-2026-09-20260101T000000"
    live = out / ".staging-2026-11-20260101T000000"
    for folder in (dead, unmarked, live):
        (folder / "restricted").mkdir(parents=True)
        (folder / "restricted" / "charges_rejected.csv").write_text("person_id\nX\n")
    host = socket.gethostname()
    (dead / RUN_MARKER).write_text(json.dumps({"pid": 2**22 + 12345, "host": host}))
    (live / RUN_MARKER).write_text(json.dumps({"pid": os.getpid(), "host": host}))
    moved = take_over_abandoned(out)
    assert sorted(moved) == [
        "2026-09-20260101T000000-abandoned",
        "2026-10-20260101T000000-abandoned",
    ]
    assert live.exists() and not dead.exists() and not unmarked.exists()
    record = json.loads((out / "failed" / moved[1] / "manifest.json").read_text())
    assert record["status"] == "abandoned"
    assert (out / "failed" / moved[1] / "restricted" / "charges_rejected.csv").exists()


def test_a_publication_cut_short_is_finished(tmp_path):
    out = tmp_path / "reports"
    cut = out / ".previous-2026-10-20260101T000000"  # the old month, moved aside, never back
    cut.mkdir(parents=True)
    (cut / "index.html").write_text("last good month")
    take_over_abandoned(out)
    assert (out / "2026-10" / "index.html").read_text() == "last good month"
    stale = out / ".previous-2026-10-20260102T000000"  # the new month did land
    stale.mkdir()
    take_over_abandoned(out)
    assert not stale.exists() and (out / "2026-10" / "index.html").exists()


def test_the_next_run_records_what_it_took_over(small_folder, tmp_path):
    out = tmp_path / "reports"
    (out / ".staging-2026-10-20260101T000000").mkdir(parents=True)
    result = run(small_folder, out)
    assert result.manifest["abandoned_runs_moved_to_failed"] == [
        "2026-10-20260101T000000-abandoned"
    ]
    assert not (result.folder / RUN_MARKER).exists()  # the published month names no process


def test_run_from_outside_the_checkout_records_the_packages_commit(
    small_folder, tmp_path, monkeypatch
):
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists() or shutil.which("git") is None:
        pytest.skip("an installed copy has no checkout to name")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    monkeypatch.chdir(tmp_path)  # not a git checkout
    result = run(small_folder, tmp_path / "reports")
    assert result.manifest["code"]["commit"] == head
