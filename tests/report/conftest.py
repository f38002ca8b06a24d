"""A monthly run in test mode, shared by the report tests (it takes about a minute and a half)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.report.runner import run_monthly

ROOT = Path(__file__).resolve().parents[2]


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
