"""The committee's performance table shows the model each forecast uses."""

from __future__ import annotations

import pandas as pd

from analysis.report import committee


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


def test_performance_table_marks_the_model_in_use(tmp_path):
    boards, bayes = tmp_path / "boards", tmp_path / "bayes"
    base = ["ewma_rescaled", "ewma", "last", "kde", "nbreg"]
    _board(boards / "synthetic_knife_1km2", base)
    _board(boards / "synthetic_sv_0.5km2", base)
    _board(bayes / "synthetic_knife_1km2", [*base, "bayes"])
    oracle = pd.DataFrame(
        {"model": ["ORACLE_true_mean_poisson"], "n_origins": [13], "crps": [0.1]}
        | {"log_score": [0.5], "pai_5pct": [5.0], "coverage_90": [0.98]}
    )
    oracle.to_csv(boards / "synthetic_knife_1km2" / "oracle.csv", index=False)
    t = committee.performance_table(boards, bayes).reset_index()
    knife = t[t["target"].str.startswith("knife")]
    sv = t[t["target"].str.startswith("serious")]
    assert knife["model"].iloc[0] == "bayes (in use)"  # the backtests chose it
    assert "ORACLE_true_mean_poisson" in set(knife["model"])
    assert sv["model"].iloc[0] == "ewma_rescaled (in use)"
    assert "nbreg" not in set(t["model"])
    # without the Bayesian leaderboards the knife row for the model in use is absent
    plain = committee.performance_table(boards).reset_index()
    plain_knife = plain[plain["target"].str.startswith("knife")]
    assert not plain_knife["model"].str.contains("in use").any()


def test_forecast_model_follows_the_group_and_the_test_mode():
    from analysis.report import views

    knife, sv = "knife_crime_with_injury", "serious_violence"
    assert views.forecast_model("bayes", sv, test_mode=True) == "bayes:test_mode=1"
    assert views.forecast_model("bayes:window=26", sv, True) == "bayes:window=26,test_mode=1"
    assert views.forecast_model("bayes:test_mode=1", sv, True) == "bayes:test_mode=1"
    assert views.forecast_model("ewma_rescaled", knife, test_mode=True) == "ewma_rescaled"
    assert views.forecast_model("bayes", knife, test_mode=False) == "bayes"
    # None: the group's default as the backtests chose it
    assert views.forecast_model(None, knife, test_mode=False) == "bayes"
    assert views.forecast_model(None, knife, test_mode=True) == "bayes:test_mode=1"
    assert views.forecast_model(None, sv, test_mode=True) == "ewma_rescaled"
    assert views.forecast_model(None, "burglary", test_mode=False) == "ewma_rescaled"
