"""Architecture: harm imports only data, space and inference; fairness only harm, space and
data; nothing up."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "analysis"


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m for m in found if m == "analysis" or m.startswith("analysis.")}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_harm_library_imports_only_data_space_and_itself():
    for path in sorted((SRC / "harm").glob("*.py")):
        allowed = {"data", "space", "harm", "inference", "testmode"}
        bad = {m for m in imports(path) if layer(m) not in allowed}
        assert not bad, f"{path.name} imports {bad}"


def test_fairness_imports_only_harm_data_and_itself():
    for path in sorted((SRC / "fairness").glob("*.py")):
        allowed = {"data", "space", "harm", "fairness", "inference", "testmode"}
        bad = {m for m in imports(path) if layer(m) not in allowed}
        assert not bad, f"{path.name} imports {bad}"


def test_lower_layers_do_not_import_harm_or_fairness():
    for folder in ("data", "space"):
        for path in sorted((SRC / folder).glob("*.py")):
            bad = {m for m in imports(path) if layer(m) in {"harm", "fairness"}}
            assert not bad, f"{folder}/{path.name} imports {bad}"
