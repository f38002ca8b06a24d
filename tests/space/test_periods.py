from datetime import date

import numpy as np
import pandas as pd
import pytest

from analysis.space import DEFAULT_ANCHOR, DEFAULT_PERIOD_DAYS, PeriodCalendar, event_date

CAL = PeriodCalendar()


def test_defaults():
    assert DEFAULT_ANCHOR == date(2018, 1, 1)
    assert DEFAULT_ANCHOR.weekday() == 0  # Monday
    assert DEFAULT_PERIOD_DAYS == 28
    assert CAL.anchor == DEFAULT_ANCHOR and CAL.days == 28


@pytest.mark.parametrize(
    ("day", "k"),
    [
        ("2018-01-01", 0),  # anchor
        ("2018-01-28", 0),  # last day of period 0
        ("2018-01-29", 1),  # first day of period 1
        ("2017-12-31", -1),  # the day before the anchor
        ("2017-12-04", -1),  # first day of period -1 (anchor - 28 days)
        ("2017-12-03", -2),
        ("2024-03-18", 81),  # 2268 days = 81 * 28 after the anchor
        ("2024-03-17", 80),
    ],
)
def test_period_of_scalar(day, k):
    got = CAL.period_of(day)
    assert got == k
    assert isinstance(got, int)
    assert CAL.period_of(date.fromisoformat(day)) == k
    assert CAL.period_of(pd.Timestamp(day)) == k


def test_period_of_ignores_time_of_day():
    assert CAL.period_of("2018-01-28 23:59:59") == 0
    assert CAL.period_of(pd.Timestamp("2017-12-31 23:59:59")) == -1
    aware = pd.Series(pd.to_datetime(["2018-01-28T23:30:00+01:00"]))
    assert CAL.period_of(aware).tolist() == [0]  # local calendar day 28 Jan


def test_period_of_vectorised_types():
    days = ["2017-12-03", "2017-12-04", "2018-01-01", "2018-01-29"]
    expected = [-2, -1, 0, 1]
    series = pd.Series(pd.to_datetime(days))
    for values in (series, pd.DatetimeIndex(series), series.to_numpy(), days):
        got = CAL.period_of(values)
        assert isinstance(got, np.ndarray)
        assert got.dtype == np.int64
        assert got.tolist() == expected
    assert CAL.period_of([date(2018, 1, 1), date(2017, 12, 31)]).tolist() == [0, -1]


def test_period_of_nat_raises_with_count():
    values = pd.Series([pd.Timestamp("2018-01-01"), pd.NaT, None])
    with pytest.raises(ValueError, match="2 missing"):
        CAL.period_of(values)
    with pytest.raises(ValueError, match="1 missing"):
        CAL.period_of(pd.NaT)


def test_start_end_last_day():
    assert CAL.start(0) == pd.Timestamp("2018-01-01")
    assert CAL.end(0) == pd.Timestamp("2018-01-29")
    assert CAL.last_day(0) == pd.Timestamp("2018-01-28")
    assert CAL.start(-1) == pd.Timestamp("2017-12-04")
    assert CAL.last_day(-1) == pd.Timestamp("2017-12-31")
    assert CAL.start(81) == pd.Timestamp("2024-03-18")
    assert CAL.last_day(81) == pd.Timestamp("2024-04-14")
    assert list(CAL.start(np.array([0, 1]))) == [
        pd.Timestamp("2018-01-01"),
        pd.Timestamp("2018-01-29"),
    ]
    # every day of a period maps back to it
    k = 81
    days = pd.date_range(CAL.start(k), CAL.last_day(k), freq="D")
    assert len(days) == 28
    assert set(CAL.period_of(days).tolist()) == {k}


def test_next_period_start_day_vs_mid_period():
    assert CAL.next_period("2024-03-18") == 81  # a period's first day: that period
    assert CAL.next_period("2024-03-18 17:45") == 81
    assert CAL.next_period("2024-03-19") == 82  # mid-period: the following one
    assert CAL.next_period("2024-04-14") == 82  # last day: the following one
    assert CAL.next_period("2017-12-05") == 0
    assert CAL.next_period("2017-12-04") == -1


def test_is_complete_cutoff_boundary():
    assert CAL.is_complete(81, "2024-04-14") is True  # cutoff on the last day
    assert CAL.is_complete(81, "2024-04-13") is False  # the day before
    assert CAL.is_complete(-1, date(2017, 12, 31)) is True
    got = CAL.is_complete(np.array([79, 80, 81, 82]), "2024-04-14")
    assert got.dtype == bool
    assert got.tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="missing"):
        CAL.is_complete(81, None)


def test_table():
    t = CAL.table(80, 82, cutoff="2024-04-14")
    assert t["period"].tolist() == [80, 81, 82]
    assert t.loc[1, "start"] == pd.Timestamp("2024-03-18")
    assert t.loc[1, "end"] == pd.Timestamp("2024-04-15")
    assert t.loc[1, "label"] == "2024-03-18/2024-04-14"
    assert t["complete"].tolist() == [True, True, False]
    assert CAL.table(0, 0)["complete"].tolist() == [True]
    with pytest.raises(ValueError, match="after"):
        CAL.table(3, 2)


def test_custom_calendar_and_validation():
    weekly = PeriodCalendar(anchor=date(2024, 1, 3), days=7)
    assert weekly.period_of("2024-01-02") == -1
    assert weekly.period_of("2024-01-10") == 1
    with pytest.raises(ValueError, match="at least 1"):
        PeriodCalendar(days=0)
    with pytest.raises(ValueError, match="integer"):
        PeriodCalendar(days=2.5)


@pytest.mark.parametrize(("days", "expected"), [(28, 13), (7, 52), (14, 26), (30, 12), (1, 365)])
def test_periods_per_year_is_the_whole_number_of_periods_nearest_a_year(days, expected):
    assert PeriodCalendar(days=days).periods_per_year == expected


def test_default_calendar_has_13_periods_a_year():
    assert CAL.periods_per_year == 13


@pytest.mark.parametrize("days", [21, 29, 100])
def test_a_period_length_that_does_not_divide_a_year_is_refused(days):
    cal = PeriodCalendar(days=days)  # the calendar itself is still usable for counting
    with pytest.raises(ValueError, match="do not divide a year"):
        _ = cal.periods_per_year


def test_periods_longer_than_half_a_year_have_no_season():
    with pytest.raises(ValueError, match="at least 2"):
        _ = PeriodCalendar(days=365).periods_per_year


def test_event_date_prefers_committed_from():
    committed = pd.Series([pd.Timestamp("2024-03-17 22:00"), pd.NaT, pd.NaT], index=[10, 11, 12])
    recorded = pd.Series(
        pd.to_datetime(["2024-03-19 09:00", "2024-03-20 14:00", None]), index=[0, 1, 2]
    )
    got = event_date(committed, recorded)
    assert got.index.tolist() == [10, 11, 12]
    assert got.iloc[0] == pd.Timestamp("2024-03-17")
    assert got.iloc[1] == pd.Timestamp("2024-03-20")
    assert pd.isna(got.iloc[2])
    assert CAL.period_of(got.iloc[:2]).tolist() == [80, 81]
    with pytest.raises(ValueError, match="rows"):
        event_date(committed, recorded.iloc[:2])
