"""The same seed and data give the same tables (run times aside)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.report import views

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "sample"


def test_forecast_tables_repeat_exactly():
    dates = views.run_dates("2026-10", DATA)
    crimes = views.load_run_crimes(DATA, dates.cutoff)
    area = views.study_area(DATA)
    runs = [
        views.run_forecast(
            crimes,
            "knife_crime_with_injury",
            dates,
            area,
            model="ewma_rescaled",
            cell_area_km2=None,
            seed=7,
            draws=300,
        )
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0].table, runs[1].table)
    assert runs[0].total_lo90 == runs[1].total_lo90
    other = views.run_forecast(
        crimes,
        "knife_crime_with_injury",
        dates,
        area,
        model="ewma_rescaled",
        cell_area_km2=None,
        seed=8,
        draws=300,
    )
    assert not other.table["p_top5"].equals(runs[0].table["p_top5"])


def test_committed_report_matches_its_manifest():
    folder = ROOT / "reports" / "2026-10"
    import json

    m = json.loads((folder / "manifest.json").read_text())
    assert m["status"] == "ok" and m["parameters"]["test_mode"] is False
    from analysis.report.manifest import data_hashes

    assert m["data_hashes"] == data_hashes(DATA)
