"""The package's folders follow the data's path, and nothing imports back up it."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "analysis"

#: Which stages each stage may import (besides itself).
ALLOWED = {
    "data": set(),
    "inference": set(),
    "space": {"data"},
    "forecast": {"data", "space", "inference"},
    "harm": {"data", "space", "inference"},
    "fairness": {"data", "space", "harm", "inference"},
    "report": {"data", "space", "forecast", "harm", "fairness", "inference"},
    "synthetic": {"data", "space", "harm", "inference"},
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


#: Leaf modules beside the stages that every stage may import (they import no stage).
SHARED = {"testmode"}


def test_no_stage_imports_a_later_one():
    bad = []
    for stage, allowed in ALLOWED.items():
        for path in sorted((SRC / stage).rglob("*.py")):
            extra = stages_imported(path) - allowed - {stage, "__init__"} - SHARED
            if extra:
                bad.append(f"{path.relative_to(SRC)} imports {sorted(extra)}")
    assert bad == []


def test_every_stage_is_declared():
    stages = {p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert stages == set(ALLOWED)


def test_one_sampler_settings_and_one_convergence_error():
    """Both Bayesian model families share the inference layer's classes: no second copy."""
    found: dict[str, list[str]] = {"SamplerSettings": [], "ConvergenceError": []}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                for key in found:
                    if key.lower() in node.name.lower():
                        found[key].append(f"{path.relative_to(SRC)}:{node.name}")
    assert found == {
        "SamplerSettings": ["inference/settings.py:SamplerSettings"],
        "ConvergenceError": ["inference/diagnostics.py:ConvergenceError"],
    }


def test_shared_modules_import_no_stage():
    for name in SHARED:
        assert stages_imported(SRC / f"{name}.py") == set(), name


# ---------------------------------------------------------------- the shell around the package

#: Where each rule allows what it forbids elsewhere.
DATA_STAGE = SRC / "data"
CLI = SRC / "cli.py"


def folder_file_names() -> set[str]:
    from analysis.data.folder import file_names

    return file_names()


def data_folder_files_named(tree: ast.AST, names: set[str]) -> list[str]:
    """String constants naming a data-folder file (the only way to open one by name)."""
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if " " in node.value:  # prose (help texts, messages) names files to users
                continue
            if node.value in names or any(node.value.endswith("/" + n) for n in names):
                hits.append(node.value)
    return hits


def argparse_used(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "argparse" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "argparse":
            return True
    return False


def outside(folder_or_file: Path) -> list[Path]:
    return [
        p
        for p in sorted(SRC.rglob("*.py"))
        if p != folder_or_file and folder_or_file not in p.parents
    ]


def test_only_the_data_stage_names_a_data_folder_file():
    names = folder_file_names()
    assert {"crimes.csv.gz", "charges.csv.gz", "lsoa_to_lom_unit.csv"} <= names
    bad = []
    for path in outside(DATA_STAGE):
        hits = data_folder_files_named(ast.parse(path.read_text()), names)
        bad += [f"{path.relative_to(SRC)}: {h}" for h in hits]
    assert bad == []


def test_only_the_cli_uses_argparse():
    bad = [str(p.relative_to(SRC)) for p in outside(CLI) if argparse_used(ast.parse(p.read_text()))]
    assert bad == []


def test_the_shell_rules_catch_what_they_forbid():
    """The checks above fail on code that breaks them (so they are not vacuous)."""
    names = folder_file_names()
    opened = ast.parse('import pandas as pd\npd.read_csv(folder / "charges.csv.gz")')
    assert data_folder_files_named(opened, names) == ["charges.csv.gz"]
    nested = ast.parse('path = data / "truth/escalation.csv.gz"')
    assert data_folder_files_named(nested, names) == ["truth/escalation.csv.gz"]
    assert data_folder_files_named(ast.parse('x = "crimes in the extract"'), names) == []
    assert argparse_used(ast.parse("import argparse"))
    assert argparse_used(ast.parse("from argparse import Namespace"))
    assert not argparse_used(ast.parse("import json"))
