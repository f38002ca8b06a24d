"""The committee's performance table shows the model each forecast uses."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analysis.forecast.registry import model_choice
from analysis.report import committee
from analysis.report.plan import (
    ForecastSettings,
    GroupPlan,
    HarmPlan,
    MonthlyPlan,
    RunDates,
)
from analysis.testmode import TestMode


def _board(folder, models):
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "model": models,
            "n_origins": 13,
            "crps": [0.2 + 0.01 * i for i in range(len(models))],
            "log_score": 0.6,
            "pai_5pct": 4.0,
            "coverage_90": 0.97,
        }
    ).to_csv(folder / "summary.csv", index=False)


def _plan(project, groups):
    dates = RunDates(
        month="2026-10",
        run_date=date(2026, 10, 1),
        as_of=date(2026, 9, 30),
        cutoff=date(2026, 9, 30),
        data_start=date(2020, 10, 1),
        target_period=115,
        target_start=date(2026, 10, 26),
        target_end=date(2026, 11, 22),
        period_days=28,
    )
    return MonthlyPlan(
        dates=dates,
        groups=tuple(groups),
        harm=HarmPlan(reference_date=dates.run_date),
        forecast=ForecastSettings(),
        test_mode=False,
        data={},
        inputs="",
        project_dir=str(project),
        leaderboards=tuple(g.evidence["leaderboard"] for g in groups if g.evidence["leaderboard"]),
    )


def _group(name, label, cell, model, board, oracle=None):
    return GroupPlan(
        name=name,
        label=label,
        description="",
        source="",
        rules=[],
        cell_area_km2=cell,
        model=model,
        model_chosen=model,
        evidence={"leaderboard": board, "summary_sha256": None, "reason": "why", "oracle": oracle},
        output=f"02_forecast_{name}",
    )


def test_performance_table_marks_the_model_in_use(tmp_path):
    base = ["ewma_rescaled", "ewma", "last", "kde", "nbreg"]
    _board(tmp_path / "boards" / "synthetic_knife_1km2", base)
    _board(tmp_path / "boards" / "synthetic_sv_0.5km2", base)
    _board(tmp_path / "bayes" / "synthetic_knife_1km2", [*base, "bayes"])
    oracle = pd.DataFrame(
        {"model": ["ORACLE_true_mean_poisson"], "n_origins": [13], "crps": [0.1]}
        | {"log_score": [0.5], "pai_5pct": [5.0], "coverage_90": [0.98]}
    )
    oracle.to_csv(tmp_path / "boards" / "synthetic_knife_1km2" / "oracle.csv", index=False)
    knife = _group(
        "knife_crime_with_injury",
        "Knife crime with injury",
        1.0,
        "bayes",
        "bayes/synthetic_knife_1km2",
        oracle="boards/synthetic_knife_1km2/oracle.csv",
    )
    sv = _group(
        "serious_violence", "Serious violence", 0.5, "ewma_rescaled", "boards/synthetic_sv_0.5km2"
    )
    new = _group("burglary", "Burglary", 1.0, "ewma_rescaled", None)
    t = committee.performance_table(_plan(tmp_path, [knife, sv, new])).reset_index()
    k = t[t["target"].str.startswith("Knife")]
    s = t[t["target"].str.startswith("Serious")]
    assert k["model"].iloc[0] == "bayes (in use)"  # the plan's evidence
    assert "ORACLE_true_mean_poisson" in set(k["model"])
    assert s["model"].iloc[0] == "ewma_rescaled (in use)"
    assert "nbreg" not in set(t["model"])
    assert not t["target"].str.startswith("Burglary").any()  # never backtested: no row
    text = committee.models_in_use(_plan(tmp_path, [knife, sv, new])).data
    assert "**Burglary** (1 km² cells): `ewma_rescaled`" in text and "no backtest yet" in text


def test_model_specs_follow_the_test_mode():
    on, off = TestMode(True), TestMode(False)
    assert on.model_spec("bayes") == "bayes:test_mode=1"
    assert on.model_spec("bayes:window=26") == "bayes:window=26,test_mode=1"
    assert on.model_spec("bayes:test_mode=1") == "bayes:test_mode=1"
    assert on.model_spec("ewma_rescaled") == "ewma_rescaled"
    assert off.model_spec("bayes") == "bayes"
    assert model_choice("knife_crime_with_injury").model == "bayes"
    assert model_choice("serious_violence").model == "ewma_rescaled"
    assert model_choice("burglary").model == "ewma_rescaled"
    assert model_choice("burglary").leaderboard is None
