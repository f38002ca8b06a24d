"""The backtest: no model sees the future, baselines are what they say, outputs are complete."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.forecast.backtest import run_backtest
from analysis.forecast.baselines import EWMA, LastPeriod, MeanOfLast, SeasonalMean, ewma
from analysis.forecast.panel import build_panel
from analysis.forecast.registry import DEFAULT_MODELS, make_forecaster
from analysis.forecast.total import forecast_total
from analysis.space import PeriodCalendar

CRS = "EPSG:27700"


def synthetic_events(seed: int = 1, n_periods: int = 40, cells: int = 5) -> pd.DataFrame:
    """Events on a 5 x 5 km square, more in the west, over n_periods 28-day periods."""
    rng = np.random.default_rng(seed)
    days = n_periods * 28
    n = 60 * n_periods
    t = rng.uniform(0, days, n)
    x = 400_000 + rng.beta(1.5, 3, n) * cells * 1000
    y = 280_000 + rng.uniform(0, cells * 1000, n)
    time = pd.Timestamp("2018-01-01") + pd.to_timedelta(t, unit="D")
    return pd.DataFrame({"time": time, "x": x, "y": y})


@pytest.fixture(scope="module")
def panel():
    return build_panel(synthetic_events(), crs=CRS, test_periods=4, cell_area_km2=1.0)


def test_panel_counts_every_event(panel):
    assert panel.counts.sum() == (panel.events["unit"] >= 0).sum()
    assert panel.counts.shape == (len(panel.units), len(panel.periods))
    assert panel.complete.all()  # the events end exactly on a period boundary here
    assert len(panel.units) <= 25


def test_partial_first_period_is_dropped_and_last_is_incomplete():
    ev = synthetic_events(n_periods=10)
    ev = ev.loc[ev["time"] >= pd.Timestamp("2018-01-10")]
    cut = pd.Timestamp("2018-09-20")
    ev = ev.loc[ev["time"] < cut]
    p = build_panel(ev, crs=CRS, test_periods=2, cutoff=cut.date())
    cal = PeriodCalendar()
    assert p.periods[0] == 1  # period 0 began before the first event
    assert not p.complete[-1] and p.complete[:-1].all()
    assert cal.last_day(int(p.periods[-1])) > cut
    assert any("partial" in n for n in p.notes) and any("incomplete" in n for n in p.notes)


def test_no_model_sees_the_future(panel):
    origin = int(panel.periods[-3])
    models = [make_forecaster(m) for m in DEFAULT_MODELS]
    before = {m.name: m.predict(panel.context(origin)) for m in models}
    # perturb everything from the origin on: move, delete and add events
    ev = panel.events
    t0 = panel.t_of(origin)
    future = ev["t"] >= t0
    changed = ev.copy()
    changed.loc[future, "x"] = 400_100.0
    changed = pd.concat([changed, changed.loc[future].assign(t=t0 + 1.0)])
    panel2 = build_panel(
        pd.DataFrame(
            {
                "time": pd.Timestamp("2018-01-01") + pd.to_timedelta(changed["t"], unit="D"),
                "x": changed["x"],
                "y": changed["y"],
            }
        ),
        crs=CRS,
        first_origin=int(panel.periods[-4]),
        units=panel.units,
    )
    assert not np.array_equal(panel2.counts[:, -1], panel.counts[:, -1])
    for m in models:
        after = m.predict(panel2.context(origin))
        np.testing.assert_allclose(after.mean, before[m.name].mean, rtol=1e-9, err_msg=m.name)
        np.testing.assert_allclose(after.size, before[m.name].size, rtol=1e-9, err_msg=m.name)


def test_simple_baselines_by_hand(panel):
    ctx = panel.context(int(panel.periods[-1]))
    c = ctx.counts.astype(float)
    np.testing.assert_array_equal(LastPeriod().predict_mean(ctx), c[:, -1])
    np.testing.assert_allclose(MeanOfLast(k=4).predict_mean(ctx), c[:, -4:].mean(axis=1))
    w = 0.3 * 0.7 ** np.arange(c.shape[1])[::-1]
    np.testing.assert_allclose(EWMA(alpha=0.3).predict_mean(ctx), c @ w / w.sum())
    np.testing.assert_allclose(ewma(np.array([[0.0, 0.0, 10.0]]), 0.5), [10 * 0.5 / 0.875])
    np.testing.assert_allclose(SeasonalMean(years=2).predict_mean(ctx), (c[:, -13] + c[:, -26]) / 2)


def test_total_forecast_follows_trend_and_season():
    periods = np.arange(0, 78)
    season = 1 + 0.3 * np.cos(2 * np.pi * periods / 13)
    totals = 100 * np.exp(0.1 * periods / 13) * season
    got = forecast_total(totals, periods, 78)
    want = 100 * np.exp(0.1 * 78 / 13) * (1 + 0.3 * np.cos(2 * np.pi * 78 / 13))
    assert got == pytest.approx(want, rel=0.03)
    assert forecast_total(np.array([5.0, 7.0]), np.array([0, 1]), 2) == 6.0


def test_backtest_skips_models_without_enough_history():
    p = build_panel(synthetic_events(n_periods=12), crs=CRS, test_periods=3)
    res = run_backtest(
        p, [make_forecaster("seasonal"), make_forecaster("mean4")], 3, progress=False
    )
    assert "seasonal" in res.skipped and "13" in res.skipped["seasonal"]
    summary = res.summary().set_index("model")
    assert summary.loc["mean4", "n_origins"] == 3 and summary.loc["mean4", "note"] == ""
    assert summary.loc["seasonal", "n_origins"] == 0
    assert "needs 13 periods" in summary.loc["seasonal", "note"]


def test_backtest_cli_outputs(tmp_path):
    ev = synthetic_events(n_periods=30)
    src = tmp_path / "ev.csv"
    ev.assign(time=ev["time"].dt.strftime("%Y-%m-%d %H:%M")).to_csv(src, index=False)
    out = tmp_path / "bt"
    code = main(
        [
            "backtest",
            str(src),
            "--time-col",
            "time",
            "--x-col",
            "x",
            "--y-col",
            "y",
            "--crs",
            CRS,
            "--target-crs",
            CRS,
            "--cell-area",
            "1",
            "--test-periods",
            "3",
            "--models",
            "last,ewma,kde,promap,etas,nbreg,ewma_rescaled,seasonal",
            "--out",
            str(out),
            "--quiet",
            "--as-of",
            "2026-11-24",
        ]
    )
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    need = [
        "model",
        "n_origins",
        "hit_rate_5pct",
        "pai_5pct",
        "pei_star_5pct",
        "crps",
        "log_score",
        "mae",
        "rmse",
        "coverage_50",
        "coverage_90",
        "fit_seconds",
        "hit_rate_1pct",
        "pai_10pct",
        "pei_star_1pct",
    ]
    assert set(need) <= set(summary.columns)
    assert (summary["n_origins"] == 3).all() and len(summary) == 8
    fc = pd.read_parquet(out / "forecasts.parquet")
    assert {"unit", "origin", "model", "mean", "q05", "q50", "q95", "observed"} <= set(fc)
    assert (fc["q05"] <= fc["q95"]).all()
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics.columns) == {"model", "origin", "metric", "value"}
    for fig in ("hit_rate_curves.png", "calibration.png", "forecast_map.png"):
        assert (out / fig).stat().st_size > 10_000
    pit = pd.read_csv(out / "pit_histogram.csv")
    assert pit["pit_central_90"].between(pit["pit_central_80"], 1).all()
    # the central 80% is bins 1-8 of the 10-bin histogram (relative frequencies)
    bins = pit[[f"bin{i}" for i in range(1, 9)]].sum(axis=1)
    np.testing.assert_allclose(pit["pit_central_80"], bins, atol=2e-3)
    run = json.loads((out / "run.json").read_text())
    assert len(run["origins"]) == 3
    # The record names the code and input that made it.
    assert len(run["data_sha256"]) == 64 and "pymc" in run["packages"]
    assert {"analysis_version", "commit", "dirty"} <= set(run["code"])


def test_backtest_prints_its_reconciliation_with_the_duplicate_note(tmp_path, capsys):
    ev = synthetic_events(n_periods=20)
    ev = ev.assign(time=ev["time"].dt.strftime("%Y-%m-%d %H:%M"))
    ev = pd.concat([ev, ev.iloc[:7]], ignore_index=True)  # 7 exact duplicates
    ev.loc[len(ev)] = ["not a date", ev["x"].iloc[0], ev["y"].iloc[0]]
    src = tmp_path / "ev.csv"
    ev.to_csv(src, index=False)
    args = ["backtest", str(src), "--time-col", "time", "--x-col", "x", "--y-col", "y"]
    args += ["--crs", CRS, "--target-crs", CRS, "--test-periods", "2", "--models", "last"]
    code = main([*args, "--out", str(tmp_path / "bt"), "--quiet", "--as-of", "2026-11-24"])
    assert code == 0
    printed = capsys.readouterr().out
    n = len(ev)
    assert f"{src}: read {n} = accepted {n - 8} + rejected 8" in printed
    assert "  exact_duplicate: 7" in printed
    assert "--keep-exact-duplicates" in printed  # the note on what duplicates may be
    assert re.search(r"^  \w+: 1$", printed, flags=re.M)  # the bad date, by its reason


def test_month_only_dates_are_refused_unless_accepted(tmp_path, capsys):
    ev = synthetic_events(n_periods=20)
    ev = ev.assign(time=ev["time"].dt.strftime("%Y-%m-01"))  # police.uk-style months
    src = tmp_path / "ev.csv"
    ev.to_csv(src, index=False)
    args = ["backtest", str(src), "--time-col", "time", "--x-col", "x", "--y-col", "y"]
    args += ["--crs", CRS, "--target-crs", CRS, "--test-periods", "2", "--models", "last"]
    args += ["--quiet", "--as-of", "2026-11-24", "--keep-exact-duplicates"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "1st of a month" in err and "--accept-month-dates" in err
    assert not (tmp_path / "a" / "run.json").exists()
    assert main([*args, "--out", str(tmp_path / "b"), "--accept-month-dates"]) == 0
    assert "note: month-only dates" in capsys.readouterr().out
    assert json.loads((tmp_path / "b" / "run.json").read_text())["month_only_dates"] is True


def test_day_dates_and_a_single_month_are_not_month_only():
    from analysis.report.backtest_run import month_only

    days = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-03"]))
    assert not month_only(days)
    assert not month_only(pd.Series(pd.to_datetime(["2024-03-01", "2024-03-01"])))
    assert not month_only(pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-02-01 00:00"])))
    assert month_only(pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", None])))


def test_backtest_refuses_degree_target(tmp_path, capsys):
    ev = synthetic_events(n_periods=6)
    src = tmp_path / "ev.csv"
    ev.to_csv(src, index=False)
    code = main(
        [
            "backtest",
            str(src),
            "--time-col",
            "time",
            "--x-col",
            "x",
            "--y-col",
            "y",
            "--crs",
            CRS,
            "--target-crs",
            "EPSG:4326",
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert code == 2
    assert "metre" in capsys.readouterr().err


def test_context_period_of_matches_the_calendar(panel):
    origin = int(panel.periods[-2])
    ctx = panel.context(origin)
    for c in (ctx, ctx.earlier(3)):
        past = panel.events.loc[panel.events["t"] < c.t0]
        np.testing.assert_array_equal(c.period_of(past["t"].to_numpy()), past["period"])
        edges = c.period_of(np.array([c.t0 - 1e-9, c.t0]))
        np.testing.assert_array_equal(edges, [c.origin - 1, c.origin])


def backtest_cli(tmp_path, events: pd.DataFrame, *extra: str) -> int:
    """Run ``analysis backtest`` on ``events`` written to a CSV; return the exit code."""
    src = tmp_path / "events.csv"
    events.assign(time=events["time"].dt.strftime("%Y-%m-%d %H:%M")).to_csv(src, index=False)
    argv = ["backtest", str(src), "--time-col", "time", "--x-col", "x", "--y-col", "y",
            "--crs", CRS, "--target-crs", CRS, "--models", "last,mean4", "--quiet",
            "--as-of", "2026-11-24", "--out", str(tmp_path / "out"), *extra]  # fmt: skip
    return main(argv)


def refusal(capsys) -> str:
    """The one-line message of a refused command (no traceback, nothing on stdout)."""
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("analysis backtest: error: ")
    return lines[0]


@pytest.mark.parametrize(
    "times",
    [["2024-03-05 10:00"], ["2024-03-05 10:00", "2024-03-05 11:00", "2024-03-05 12:00"]],
    ids=["one event", "one day"],
)
def test_backtest_refuses_data_without_enough_periods(tmp_path, capsys, times):
    n = len(times)
    ev = pd.DataFrame(
        {
            "time": pd.to_datetime(times),
            "x": 400_100.0 + 700 * np.arange(n),
            "y": 280_100.0 + 300 * np.arange(n) ** 2,
        }
    )
    assert backtest_cli(tmp_path, ev, "--test-periods", "3") == 2
    msg = refusal(capsys)
    assert "0 complete 28-day period(s)" in msg
    assert "needs 4: 3 origin(s) (--test-periods) plus 1 period(s) of history" in msg


def test_backtest_refuses_more_origins_than_the_models_history_allows(tmp_path, capsys):
    ev = synthetic_events(n_periods=10)  # ten complete periods; mean4 needs 4, last needs 1
    assert backtest_cli(tmp_path, ev, "--test-periods", "10", "--models", "mean4") == 2
    msg = refusal(capsys)
    assert "hold 10 complete 28-day period(s) from 2018-01-01 to 2018-10-07" in msg
    assert "needs 14: 10 origin(s)" in msg and "4 period(s) of history" in msg


def test_backtest_refuses_a_cutoff_before_the_data(tmp_path, capsys):
    ev = synthetic_events(n_periods=10)
    assert backtest_cli(tmp_path, ev, "--cutoff", "2017-06-01", "--test-periods", "3") == 2
    msg = refusal(capsys)
    assert "the cut-off 2017-06-01 is before the data's first event (2018-01-0" in msg


@pytest.mark.parametrize("k", ["-3", "0"])
def test_backtest_refuses_a_non_positive_number_of_origins(tmp_path, capsys, k):
    assert backtest_cli(tmp_path, synthetic_events(n_periods=10), f"--test-periods={k}") == 2
    assert f"--test-periods is the number of origins and must be at least 1, got {k}" in (
        refusal(capsys)
    )
    assert not (tmp_path / "out").exists()


def test_backtest_refuses_events_at_one_point_without_an_area(tmp_path, capsys):
    ev = synthetic_events(n_periods=10).assign(x=400_000.0, y=280_000.0)
    assert backtest_cli(tmp_path, ev, "--test-periods", "3") == 2
    msg = refusal(capsys)
    assert "lie at one point and span no area" in msg and "give --area" in msg
    assert "polygon with positive area" not in msg
    on_a_line = synthetic_events(n_periods=10).assign(y=280_000.0)
    assert backtest_cli(tmp_path, on_a_line, "--test-periods", "3") == 2
    assert "lie on one line and span no area" in refusal(capsys)


@pytest.mark.parametrize(
    ("start", "cutoff"),
    [("2018-01-01", "2018-10-07"), ("2018-01-10", "2018-09-20"), ("2018-03-01", "2018-03-27")],
)
def test_data_periods_counts_the_periods_a_panel_counts(start, cutoff):
    from analysis.forecast.backtest import data_periods

    ev = synthetic_events(n_periods=12)
    ev = ev.loc[(ev["time"] >= start) & (ev["time"] < pd.Timestamp(cutoff) + pd.Timedelta(days=1))]
    cal = PeriodCalendar()
    first, last, complete = data_periods(
        cal, pd.Timestamp(start).date(), pd.Timestamp(cutoff).date()
    )
    p = build_panel(ev, crs=CRS, first_origin=first + 1, cutoff=pd.Timestamp(cutoff).date(),
                    data_start=pd.Timestamp(start).date())  # fmt: skip
    assert (first, last, complete) == (p.periods[0], p.periods[-1], int(p.complete.sum()))
