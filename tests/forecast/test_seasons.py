"""Seasonal terms follow the calendar: 13 periods a year of 28 days, 52 of 7 days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.forecast.backtest import history_needed, run_backtest
from analysis.forecast.baselines import LastPeriod, SeasonalMean
from analysis.forecast.bayesian import BayesianForecaster
from analysis.forecast.bayesian.graph import build_model, model_data
from analysis.forecast.bayesian.spec import ModelSpec
from analysis.forecast.bayesian.structure import spatial_structure
from analysis.forecast.panel import build_panel, season_of
from analysis.forecast.regression import lag_features
from analysis.forecast.total import forecast_total
from analysis.space import PeriodCalendar

CRS = "EPSG:27700"


def events(days: int, seed: int = 2, cells: int = 3, per_day: float = 2.0) -> pd.DataFrame:
    """Events over ``days`` days on a small square from 2018-01-01."""
    rng = np.random.default_rng(seed)
    n = int(per_day * days)
    t = rng.uniform(0, days, n)
    x = 400_000 + rng.uniform(0, cells * 1000, n)
    y = 280_000 + rng.uniform(0, cells * 1000, n)
    return pd.DataFrame(
        {"time": pd.Timestamp("2018-01-01") + pd.to_timedelta(t, unit="D"), "x": x, "y": y}
    )


@pytest.fixture(scope="module")
def weekly():
    return build_panel(
        events(7 * 170),
        calendar=PeriodCalendar(days=7),
        crs=CRS,
        test_periods=2,
        cell_area_km2=1.0,
    )


@pytest.fixture(scope="module")
def four_weekly():
    return build_panel(events(28 * 50), crs=CRS, test_periods=2, cell_area_km2=1.0)


def test_panels_and_contexts_carry_the_calendars_periods_per_year(weekly, four_weekly):
    assert weekly.periods_per_year == 52
    ctx = weekly.context(int(weekly.periods[-1]))
    assert ctx.periods_per_year == 52 and ctx.earlier(3).periods_per_year == 52
    assert four_weekly.context(int(four_weekly.periods[-1])).periods_per_year == 13
    assert season_of(np.array([51, 52, 105]), 52).tolist() == [51, 0, 1]


def test_seasonal_mean_averages_whole_years_of_the_calendar(weekly, four_weekly):
    ctx = weekly.context(int(weekly.periods[-1]))
    model = SeasonalMean()
    assert model.lags(ctx) == [52, 104, 156]
    expected = ctx.counts[:, [-52, -104, -156]].mean(axis=1)
    np.testing.assert_array_equal(model.predict_mean(ctx), expected)
    assert np.isfinite(model.predict(ctx).mean).all()
    assert model.history_needed(52) == 52 and history_needed(model, 52) == 52
    assert history_needed(LastPeriod(), 52) == 1
    assert model.lags(four_weekly.context(int(four_weekly.periods[-1]))) == [13, 26, 39]


def test_seasonal_mean_is_skipped_without_a_year_of_weekly_history():
    panel = build_panel(events(7 * 40), calendar=PeriodCalendar(days=7), crs=CRS, test_periods=2)
    result = run_backtest(panel, [SeasonalMean(), LastPeriod()], 2, progress=False)
    assert "52 periods" in result.skipped["seasonal"]
    short = panel.context(int(panel.periods[-1]))
    with pytest.raises(ValueError, match="a year"):
        SeasonalMean().predict_mean(short)


def test_regression_harmonics_and_total_follow_the_calendar(weekly):
    ctx = weekly.context(int(weekly.periods[-1]))
    j = ctx.n_history - 1
    x = lag_features(ctx, j, [])
    angle = 2 * np.pi * ctx.periods[j] / 52
    assert x[0, 6] == pytest.approx(np.sin(angle)) and x[0, 7] == pytest.approx(np.cos(angle))
    periods = np.arange(118)  # the origin, 117, is at the weekly season's peak
    rate = np.exp(4.0 + 0.5 * np.sin(2 * np.pi * periods / 52))
    totals = np.random.default_rng(0).poisson(rate[:-1])
    got = forecast_total(totals, periods[:-1], 117, max_periods=117, periods_per_year=52)
    assert got == pytest.approx(rate[-1], rel=0.1)
    # a 13-period year misses the weekly season
    wrong = forecast_total(totals, periods[:-1], 117, max_periods=117)
    assert abs(wrong - rate[-1]) > 3 * abs(got - rate[-1])


def test_bayesian_season_has_one_value_per_week(weekly):
    ctx = weekly.context(int(weekly.periods[-1]))
    forecaster = BayesianForecaster(spec=ModelSpec(window=39))
    data = forecaster.window_data(ctx)
    np.testing.assert_array_equal(data["season"], np.arange(ctx.origin - 39, ctx.origin) % 52)
    structure = spatial_structure(ctx.neighbours)
    model = build_model(
        forecaster.spec,
        structure,
        **{k: v for k, v in data.items() if k != "selection_needed"},
        periods_per_year=52,
    )
    assert len(model.coords["season"]) == 52
    assert model["season_effect"].eval().shape == (52,)
    assert model["season"].get_value().max() < 52


def test_bayesian_season_stays_13_on_the_4_weekly_calendar(four_weekly):
    ctx = four_weekly.context(int(four_weekly.periods[-1]))
    forecaster = BayesianForecaster(spec=ModelSpec(window=26))
    data = forecaster.window_data(ctx)
    structure = spatial_structure(ctx.neighbours)
    model = build_model(
        forecaster.spec, structure, **{k: v for k, v in data.items() if k != "selection_needed"}
    )
    assert len(model.coords["season"]) == 13


def test_model_data_refuses_seasons_outside_the_year():
    spec = ModelSpec(window=20)
    counts = np.ones((3, 20), dtype=np.int64)
    with pytest.raises(ValueError, match=r"outside 0\.\.12"):
        model_data(spec, counts, np.ones(20), np.arange(20) % 52, np.zeros(3))


def test_a_period_length_without_seasons_is_refused_before_counting():
    with pytest.raises(ValueError, match="do not divide a year"):
        build_panel(events(1000), calendar=PeriodCalendar(days=100), crs=CRS, test_periods=2)
