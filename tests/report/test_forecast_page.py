"""The forecast page: ranking, places, downloads, maps and dates, on a tiny hand-made forecast.

The study area is 2.6 km x 2.1 km on the British National Grid: 1 km² cells, the eastern
column clipped to 0.6 km² (not slivers), and along the northern edge three slivers of 0.1 or
0.06 km² (a 100 m strip). Two LSOAs split it at easting 401,800 m, so the middle column lies
80% in the western one.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.patches import Rectangle
from pyproj import Transformer

from analysis.fairness.areas import deprivation_profile
from analysis.forecast.nextperiod import NextPeriodForecast
from analysis.forecast.plots import plot_change_map, plot_next_period_maps
from analysis.report import forecast_page as fp
from analysis.report.plan import ForecastSettings, RunDates
from analysis.space import PeriodCalendar, make_grid

ROOT = Path(__file__).resolve().parents[2]
X0, Y0 = 400_000.0, 280_000.0
#: Expected counts of the six ranked cells (row 280 west to east, then row 281) and the
#: three slivers (row 282): a sliver has the highest count per km², not the highest count,
#: and the clipped g1000_402_281 comes before g1000_401_281 per km² but not by count.
MEANS = {
    "g1000_400_280": 3.0,
    "g1000_401_280": 1.0,
    "g1000_402_280": 6.0,
    "g1000_400_281": 2.0,
    "g1000_401_281": 5.0,
    "g1000_402_281": 4.0,
    "g1000_400_282": 1.2,
    "g1000_401_282": 0.2,
    "g1000_402_282": 0.1,
}


def run_dates() -> RunDates:
    cal = PeriodCalendar()
    run = date(2026, 10, 1)
    target = int(cal.next_period(run))
    return RunDates(
        month="2026-10",
        run_date=run,
        as_of=run - timedelta(days=1),
        cutoff=run - timedelta(days=1),
        data_start=date(2020, 10, 1),
        target_period=target,
        target_start=cal.start(target).date(),
        target_end=cal.last_day(target).date(),
        period_days=28,
    )


def forecast_table(units: gpd.GeoDataFrame) -> pd.DataFrame:
    mean = units["unit_id"].map(MEANS).to_numpy()
    return pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "area_km2": units["area_km2"].to_numpy(),
            "mean": mean,
            "median": np.floor(mean),
            "lo50": np.floor(mean * 0.6),
            "hi50": np.ceil(mean * 1.3),
            "lo80": np.floor(mean * 0.4),
            "hi80": np.ceil(mean * 1.6),
            "lo90": np.floor(mean * 0.3),
            "hi90": np.ceil(mean * 1.8),
            "p_any": 1 - np.exp(-mean),
            "p_at_least_k": 1 - np.exp(-mean) * (1 + mean + mean**2 / 2),
            "p_top5": mean / mean.sum(),
            "last_count": np.round(mean[::-1]).astype(int),
            "change": mean - np.round(mean[::-1]),
        }
    )


@pytest.fixture
def area() -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.box(X0, Y0, X0 + 2600, Y0 + 2100)], crs="EPSG:27700")


@pytest.fixture
def lsoa() -> gpd.GeoDataFrame:
    split = X0 + 1800
    return gpd.GeoDataFrame(
        {
            "lsoa21cd": ["E01000001", "E01000002"],
            "lsoa21nm": ["Alpha 001A", "Beta 002B"],
            "population": [1500, 1600],
            "imd_rank": [1000, 30000],
            "imd_imputed": [False, False],
            "lom_unit": ["West", "East"],
        },
        geometry=[
            shapely.box(X0 - 100, Y0 - 100, split, Y0 + 2200),
            shapely.box(split, Y0 - 100, X0 + 3100, Y0 + 2200),
        ],
        crs="EPSG:27700",
    )


def make_forecast(units: gpd.GeoDataFrame, dates: RunDates, **changes) -> NextPeriodForecast:
    table = forecast_table(units)
    fc = NextPeriodForecast(
        table=table,
        units=units,
        total_mean=float(table["mean"].sum()),
        total_lo90=float(table["mean"].sum() * 0.7),
        total_hi90=float(table["mean"].sum() * 1.4),
        target_period=dates.target_period,
        target_start=dates.target_start,
        target_end=dates.target_end,
        last_complete=dates.target_period - 2,
        model="ewma_rescaled",
        group="knife_crime_with_injury",
        cell_area_km2=1.0,
        notes=["units: 9 of 9 grid cells of 1 km2 with at least one event before the first origin"],
    )
    return replace(fc, **changes)


@pytest.fixture
def page(area, lsoa) -> fp.ForecastPage:
    dates = run_dates()
    units = make_grid(area, 1.0)
    fc = make_forecast(units, dates)
    plan = SimpleNamespace(dates=dates, forecast=ForecastSettings(top_n=3))
    data = SimpleNamespace(lsoa=lsoa, lsoa_units=None, study_area=area)
    group = SimpleNamespace(label="Knife crime with injury")
    return fp.prepare(plan, data, group, fc)


def test_cells_are_ranked_by_expected_count_and_slivers_are_flagged_not_ranked(page):
    cells = page.cells.set_index("unit_id")
    slivers = {u for u in MEANS if u.endswith("_282")}
    assert set(cells.index[cells["sliver"]]) == slivers
    assert cells.loc[list(slivers), "rank"].isna().all()
    full = sorted((u for u in MEANS if u not in slivers), key=lambda u: -MEANS[u])
    assert cells.loc[full, "rank"].tolist() == [1, 2, 3, 4, 5, 6]
    # by count per km² a sliver would come first
    density = cells["mean"] / cells["area_km2"]
    assert density.idxmax() in slivers
    assert page.top["unit_id"].tolist() == full[:3]
    assert density["g1000_402_281"] > density["g1000_401_281"]
    assert cells.loc["g1000_401_281", "rank"] < cells.loc["g1000_402_281", "rank"]

    section = fp.top_units(page)
    table, note = section.parts
    html = table.to_html()
    assert table.data["Cell ID"].tolist() == full[:3]
    assert table.data["No."].tolist() == [1, 2, 3]
    assert f"Chance of {fp.K} or more" in table.data.columns
    assert "row_heading" not in html and "<caption>" in html
    assert "3 cells are cut by the study-area boundary" in note.data
    assert "none of them would be in this list" in note.data
    assert f"`{full[0]}`" in note.data  # the cell ID explained with a real one


def test_sliver_threshold_is_a_quarter_of_a_full_cell():
    table = pd.DataFrame({"area_km2": [0.24, 0.25, 1.0], "mean": [9.0, 1.0, 2.0]})
    ranks = fp.rank_units(table, 1.0)
    assert ranks["sliver"].tolist() == [True, False, False]
    assert ranks["rank"].tolist() == [pd.NA, 2, 1]


def test_each_cell_has_its_lsoa_unit_and_centre(page):
    cells = page.cells.set_index("unit_id")
    middle = cells.loc["g1000_401_280"]
    assert middle["lsoa21nm"] == "Alpha 001A" and middle["lom_unit"] == "West"
    assert middle["lsoa_share"] == pytest.approx(0.8)
    assert cells.loc["g1000_402_281", "lsoa21cd"] == "E01000002"
    assert (middle["easting"], middle["northing"]) == (401_500, 280_500)
    sliver = cells.loc["g1000_400_282"]  # centroid of the 100 m strip, rounded to 10 m
    assert (sliver["easting"], sliver["northing"]) == (400_500, 282_050)
    assert (cells["easting"] % 10 == 0).all() and (cells["northing"] % 10 == 0).all()
    to_wgs = Transformer.from_crs(27700, 4326, always_xy=True)
    lon, lat = to_wgs.transform(cells["easting"].to_numpy(), cells["northing"].to_numpy())
    np.testing.assert_allclose(cells["longitude"], lon, atol=1e-5)
    np.testing.assert_allclose(cells["latitude"], lat, atol=1e-5)
    table = fp.top_units(page).parts[0].data
    first = cells.loc[table["Cell ID"].iloc[0]]
    assert table["Centre: easting, northing (m)"].iloc[0] == (
        f"{first['easting']}, {first['northing']}"
    )
    assert table["LSOA (covering most of the cell)"].iloc[0] == first["lsoa21nm"]


def test_no_lsoa_geography_leaves_the_places_empty(area):
    units = make_grid(area, 1.0)
    places = fp.unit_places(units, None)
    assert places["lsoa21nm"].isna().all() and len(places) == len(units)
    assert places["easting"].notna().all()


def test_downloads_carry_geometry_and_coordinates_and_read_back(page, tmp_path):
    section = fp.save_forecast_files(page, tmp_path)
    out = tmp_path / "artefacts"
    group = page.fc.group
    gpkg = gpd.read_file(out / f"forecast_{group}.gpkg")
    csv = pd.read_csv(out / f"forecast_{group}.csv")
    columns = pd.read_csv(out / f"forecast_{group}_columns.csv")

    assert gpkg.crs.to_epsg() == 27700
    assert gpkg["unit_id"].tolist() == page.cells["unit_id"].tolist() == csv["unit_id"].tolist()
    np.testing.assert_allclose(gpkg.area / 1e6, page.cells["area_km2"], rtol=1e-9)
    assert gpkg["sliver"].tolist() == csv["sliver"].tolist() == page.cells["sliver"].tolist()
    np.testing.assert_allclose(csv["mean"], page.cells["mean"], atol=1e-4)
    for c in ("easting", "northing", "latitude", "longitude", "lsoa21cd", "lsoa21nm", "lom_unit"):
        assert c in gpkg and c in csv
    assert "geometry" not in csv and f"p_at_least_{fp.K}" in csv and "p_at_least_k" not in csv
    assert columns["column"].tolist() == csv.columns.tolist()
    assert columns["meaning"].str.len().min() > 5

    links, dictionary = section.parts
    for name in (f"forecast_{group}.gpkg", f"forecast_{group}.csv", f"forecast_{group}.json"):
        assert f"]({'artefacts/' + name})" in links.data
    assert str(tmp_path) not in links.data
    assert dictionary.data["Column"].tolist() == csv.columns.tolist()
    summary = json.loads((out / f"forecast_{group}.json").read_text())
    assert summary["group"] == group and summary["p_at_least_k_threshold"] == fp.K


def test_maps_have_places_scale_bar_north_arrow_and_labelled_colour_bars(page):
    labels = {"mean": "expected offences per cell, 4 weeks", "p_any": "probability"}
    top = page.top["unit_id"].tolist()
    figs = plot_next_period_maps(page.cells, page.cells, labels, layers=page.layers, top=top)
    assert set(figs) == {"mean", "p_any"}
    for column, fig in figs.items():
        map_ax, bar_ax = fig.axes
        assert bar_ax.get_xlabel() == labels[column]
        texts = {t.get_gid(): [] for t in map_ax.texts}
        for t in map_ax.texts:
            texts[t.get_gid()].append(t.get_text())
        assert texts["north-arrow"] == ["N"]
        assert texts["top-unit-label"] == ["1", "2", "3"]
        assert sorted(texts["place-label"]) == ["East", "West"]
        bar = [p for p in map_ax.patches if isinstance(p, Rectangle) and p.get_gid() == "scale-bar"]
        drawn = sum(p.get_width() for p in bar[1:])  # the first is the white box behind
        end = texts["scale-bar-label"][1]
        value, unit = end.split()
        assert drawn == pytest.approx(float(value) * (1000 if unit == "km" else 1))
        assert map_ax.get_xticks().size == 0 and map_ax.get_aspect() == 1.0
    assert figs["p_any"].axes[1].get_xlim() == (0.0, 1.0)


def test_change_map_is_diverging_and_centred_at_zero(page):
    fig = plot_change_map(page.cells, page.cells, layers=page.layers)
    bar = fig.axes[1]
    low, high = bar.get_xlim()
    assert low == pytest.approx(-high) and high == pytest.approx(page.cells["change"].abs().max())
    assert "offences per cell" in bar.get_xlabel()


def test_alt_text_says_where_the_forecast_is_highest(page):
    best = page.cells.loc[page.cells["mean"].idxmax()]
    alt = fp.forecast_map(page, "mean").alt
    assert best["lsoa21nm"] in alt and f"{best['mean']:.1f}" in alt
    assert page.window in alt
    change = fp.change_map(page).alt
    up = page.cells.loc[page.cells["change"].idxmax()]
    assert f"{up['change']:+.1f} in {up['lsoa21nm']}" in change


def test_title_headline_and_window_name_the_group_and_the_dates(page):
    dates = page.dates
    title = fp.page_title(page).data
    assert title.startswith("# Knife crime with injury: forecast for ")
    assert title.endswith(fp.span(dates.target_start, dates.target_end))
    headline = fp.forecast_headline(page).data
    assert "Knife crime with injury" in headline and "1 km²" in headline
    assert fp.day(dates.target_end) in headline
    text, table = fp.forecast_window(page).parts
    rows = table.data.set_index("")
    assert rows.loc["Run date", "Dates"] == fp.day(dates.run_date)
    assert rows.loc["Data cut-off", "Dates"] == fp.day(dates.cutoff)
    incomplete = rows.loc[f"Period {page.fc.last_complete + 1}", "What it is"]
    assert "contains the data cut-off" in incomplete
    lead = (dates.target_start - dates.run_date).days
    assert f"starts {lead} days after the run date" in text.data
    assert "first 28-day period that starts on or after the run date" in text.data


def test_span_writes_the_year_once_unless_it_changes():
    assert fp.span(date(2026, 11, 30), date(2026, 12, 27)) == "30 Nov to 27 Dec 2026"
    assert fp.span(date(2026, 12, 28), date(2027, 1, 24)) == "28 Dec 2026 to 24 Jan 2027"


def test_predictive_checks_are_explained_only_when_there_are_some(page):
    (none,) = fp.predictive_checks(page.fc).parts
    assert "not a Bayesian model" in none.data and "replicated" not in none.data
    checks = pd.DataFrame(
        {
            "statistic": ["cells: largest window total"],
            "observed": [170.0],
            "replicated_mean": [174.3],
            "replicated_lo90": [152.0],
            "replicated_hi90": [201.1],
            "p_value": [0.81],
        }
    )
    fc = replace(page.fc, checks=checks, model="bayes", notes=["Bayesian fit, attempt 1: x"])
    text, table = fp.predictive_checks(fc).parts
    assert "replicated from the posterior" in text.data
    assert "Two-sided p-value" in table.data.columns


def test_deprivation_profile_is_a_captioned_table(page, lsoa):
    profile = deprivation_profile(page.fc.table, page.fc.units, lsoa)
    table = fp.deprivation_table(profile, page)
    html = table.to_html()
    assert "<caption>" in html and "row_heading" not in html
    assert "IMD 2019 quintile (1 = most deprived)" in table.data.columns
    assert "share_of_expected_offences" not in html


def test_the_notebook_has_one_h1_from_code_and_calls_the_page_module():
    nb = json.loads((ROOT / "notebooks" / "02_crime_forecast.ipynb").read_text())
    markdown = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any(line.startswith("# ") for c in markdown for line in c["source"])
    assert "forecast_page.page_title(page)" in code
    assert not any("posterior predictive" in "".join(c["source"]).lower() for c in markdown)
    assert all(c.get("outputs") == [] for c in nb["cells"] if c["cell_type"] == "code")
    assert sum("parameters" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1
    assert not any(src.lstrip().startswith(("def ", "class ")) for src in code)
