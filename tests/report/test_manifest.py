"""The manifest names the code: its commit, and whether it had local changes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from analysis.report.manifest import git_state


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_git_state_counts_changes_only_in_the_paths_asked(tmp_path: Path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "code.py").write_text("x = 1\n")
    (tmp_path / "README.md").write_text("text\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = _git(tmp_path, "rev-parse", "HEAD")

    assert git_state(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "README.md").write_text("changed\n")
    (tmp_path / "notes.py").write_text("untracked files do not count\n")
    assert git_state(tmp_path)["dirty"] is True
    assert git_state(tmp_path, paths=("*.py",))["dirty"] is False
    (tmp_path / "pkg" / "code.py").write_text("x = 2\n")
    assert git_state(tmp_path, paths=("*.py",))["dirty"] is True
    assert git_state(tmp_path, paths=("docs/*.py",))["dirty"] is False


def test_git_state_outside_a_checkout(tmp_path: Path):
    assert git_state(tmp_path)["dirty"] is None
