"""The package's folders follow the data's path, and nothing imports back up it."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "analysis"

#: Which stages each stage may import (besides itself).
ALLOWED = {
    "data": set(),
    "space": {"data"},
    "forecast": {"data", "space"},
    "harm": {"data", "space"},
    "fairness": {"data", "space", "harm"},
    "report": {"data", "space", "forecast", "harm", "fairness"},
    "synthetic": {"data", "space", "harm"},
}


def stages_imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for n in names:
            parts = n.split(".")
            if parts[0] == "analysis" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_no_stage_imports_a_later_one():
    bad = []
    for stage, allowed in ALLOWED.items():
        for path in sorted((SRC / stage).rglob("*.py")):
            extra = stages_imported(path) - allowed - {stage, "__init__"}
            if extra:
                bad.append(f"{path.relative_to(SRC)} imports {sorted(extra)}")
    assert bad == []


def test_every_stage_is_declared():
    stages = {p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert stages == set(ALLOWED)
