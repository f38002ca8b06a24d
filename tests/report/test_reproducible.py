"""The same seed and data give the same tables (run times aside)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from analysis.report import views
from analysis.report.plan import ForecastSettings, build_plan

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "sample"


def test_forecast_tables_repeat_exactly(tmp_path):
    plan, data = build_plan("2026-10", DATA, tmp_path, project_dir=ROOT)
    group = views.group_plan(plan, "knife_crime_with_injury", model="ewma_rescaled")

    def forecast(seed):
        return views.run_forecast(
            replace(plan, forecast=ForecastSettings(draws=300, seed=seed)), data, group
        )

    runs = [forecast(7) for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0].table, runs[1].table)
    assert runs[0].total_lo90 == runs[1].total_lo90
    other = forecast(8)
    assert not other.table["p_top5"].equals(runs[0].table["p_top5"])


def test_committed_report_matches_its_manifest():
    folder = ROOT / "reports" / "2026-10"
    import json

    m = json.loads((folder / "manifest.json").read_text())
    assert m["status"] == "ok" and m["parameters"]["test_mode"] is False
    from analysis.report.manifest import data_hashes

    assert m["data_hashes"] == data_hashes(DATA)
