"""The forecast page (``notebooks/02_crime_forecast.ipynb``): its headline, maps, tables and files.

One function per step of the page. :func:`prepare` joins a group's forecast to the data
folder's geography once (the LSOA covering most of each cell, its offender-management unit,
the cell's centre, whether the cell is an edge sliver, its rank); every later step reads that
:class:`ForecastPage` and returns what the page shows: Markdown, a captioned table
(:func:`analysis.report.tables.styled`), a figure with its description
(:func:`analysis.report.figures.figure`), or a :class:`Section` of several.

Cells are ranked by expected count. A cell that the study-area boundary clips to less than a
quarter of a full cell (:data:`SLIVER_SHARE`) is a *sliver*: it is flagged in the downloads
and given no rank, so the numbered list holds full-size places only. Slivers are not merged
into a neighbour: a merged cell's interval would need the joint draws of both cells, which
the forecast table does not keep.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from pandas.io.formats.style import Styler

from analysis.data.folder import FolderData
from analysis.data.serial import write_csv
from analysis.forecast.nextperiod import NextPeriodForecast, forecast_next_period
from analysis.forecast.plots import MapLayers, plot_change_map, plot_next_period_maps
from analysis.report.figures import DescribedFigure, figure
from analysis.report.plan import GroupPlan, MonthlyPlan, RunDates
from analysis.report.tables import styled
from analysis.space import PeriodCalendar
from analysis.testmode import BANNER

#: A cell clipped to less than this share of a full cell's area is a sliver.
SLIVER_SHARE = 0.25
#: The threshold ``k`` of the forecast table's ``p_at_least_k``: the forecast's default,
#: which the monthly run (:func:`analysis.report.views.run_forecast`) does not change.
K: int = inspect.signature(forecast_next_period).parameters["k"].default
#: Published centres are rounded to this many metres (as the privacy scan expects).
CENTRE_PRECISION_M = 10
#: Columns of the downloads taken from the forecast table, in order.
FORECAST_COLUMNS = (
    "area_km2",
    "mean",
    "median",
    "lo50",
    "hi50",
    "lo80",
    "hi80",
    "lo90",
    "hi90",
    "p_any",
    "p_at_least_k",
    "p_top5",
    "last_count",
    "change",
)
#: Columns of the per-cell geography, in order.
PLACE_COLUMNS = (
    "lsoa21cd",
    "lsoa21nm",
    "lsoa_share",
    "lom_unit",
    "easting",
    "northing",
    "latitude",
    "longitude",
)


@dataclass
class Section:
    """Several outputs shown one after another (Markdown, tables, figures)."""

    parts: list[object]

    def _ipython_display_(self) -> None:
        for part in self.parts:
            display(part)


@dataclass
class ForecastPage:
    """One group's forecast joined to the geography the page shows it with.

    Attributes
    ----------
    fc : NextPeriodForecast
        The forecast.
    label : str
        The group's name for people (``Knife crime with injury``).
    dates : RunDates
        The run's dates.
    cells : geopandas.GeoDataFrame
        One row per cell in table order: ``unit_id``, ``rank`` (1 = highest expected count;
        missing for slivers), ``sliver``, the place columns (:data:`PLACE_COLUMNS`, missing
        without an LSOA geography), the forecast table's columns and the cell's geometry
        (EPSG:27700).
    layers : MapLayers
        LSOA boundaries, study-area outline and offender-management units for the maps.
    top_n : int
        Cells numbered on the maps and listed in the table.
    k : int
        Threshold of ``p_at_least_k``.
    """

    fc: NextPeriodForecast
    label: str
    dates: RunDates
    cells: gpd.GeoDataFrame
    layers: MapLayers
    top_n: int
    k: int = K

    @property
    def top(self) -> gpd.GeoDataFrame:
        """The numbered cells, by rank."""
        return self.cells.loc[self.cells["rank"] <= self.top_n].sort_values("rank")

    @property
    def period(self) -> str:
        """The length of a period in words (``4 weeks``)."""
        days = self.dates.period_days
        return f"{days // 7} weeks" if days % 7 == 0 else f"{days} days"

    @property
    def window(self) -> str:
        """The target period's dates (``26 Oct to 22 Nov 2026``)."""
        return span(self.fc.target_start, self.fc.target_end)

    @property
    def calendar(self) -> PeriodCalendar:
        """The run's period calendar."""
        return PeriodCalendar(days=self.dates.period_days)


# ---------------------------------------------------------------------------- words


def day(d: date) -> str:
    """A date as people write it (``1 Oct 2026``)."""
    return f"{d.day} {d:%b %Y}"


def span(start: date, end: date) -> str:
    """Two dates as a range (``26 Oct to 22 Nov 2026``; the year once if shared)."""
    first = f"{start.day} {start:%b}" if start.year == end.year else day(start)
    return f"{first} to {day(end)}"


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:]


def _md(text: str) -> str:
    """Escape the characters Markdown would read as emphasis or links."""
    for ch in ("\\", "_", "*", "[", "]"):
        text = text.replace(ch, "\\" + ch)
    return text


def _place(row: pd.Series) -> str:
    """Where a cell is, in words: its LSOA and offender-management unit when known."""
    name = row.get("lsoa21nm")
    if not isinstance(name, str):
        return f"cell {row['unit_id']}"
    unit = row.get("lom_unit")
    return f"{name}, {unit} unit" if isinstance(unit, str) else name


def chance(p: float) -> str:
    """A probability as a whole percentage, never rounded to a certainty (``>99%``, ``<1%``)."""
    if p > 0.99:
        return ">99%"
    if 0 < p < 0.01:
        return "<1%"
    return f"{p:.0%}"


# ---------------------------------------------------------------------------- geography


def largest_overlap(
    units: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, columns: list[str]
) -> pd.DataFrame:
    """For each unit, the columns of the area covering most of it and the share it covers.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        ``unit_id`` and geometry, in a metric CRS.
    areas : geopandas.GeoDataFrame
        Non-overlapping areas carrying ``columns``; reprojected to the units' CRS.
    columns : list of str
        The columns to take from the area covering most of each unit.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unit_id`` in units' order: ``columns`` and ``share`` (0 to 1); missing
        for a unit no area touches. Ties go to the area listed first.
    """
    areas = areas.to_crs(units.crs)
    left = units[["unit_id", "geometry"]]
    right = areas[[*columns, "geometry"]].assign(_order=np.arange(len(areas)))
    pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    pieces["_km2"] = pieces.area / 1e6
    pieces = pieces.sort_values(["unit_id", "_km2", "_order"], ascending=[True, False, True])
    best = pieces.drop_duplicates("unit_id").set_index("unit_id")
    own = pd.Series(units.area.to_numpy() / 1e6, index=units["unit_id"])
    best["share"] = best["_km2"] / own.reindex(best.index)
    return best[[*columns, "share"]].reindex(units["unit_id"])


def _lsoa(data: FolderData) -> gpd.GeoDataFrame | None:
    """The folder's LSOAs with their offender-management unit (from either file)."""
    lsoa = data.lsoa
    if lsoa is None:
        return None
    if "lom_unit" not in lsoa and data.lsoa_units is not None:
        lsoa = lsoa.assign(lom_unit=lsoa["lsoa21cd"].map(data.lsoa_units))
    return lsoa


def centres(units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each unit's centroid: easting and northing rounded to 10 m, and its latitude/longitude.

    The centroid is of the cell as clipped to the study area; latitude and longitude (WGS84,
    5 decimals) are of the rounded point.
    """
    c = units.geometry.centroid
    east = (np.round(c.x.to_numpy() / CENTRE_PRECISION_M) * CENTRE_PRECISION_M).astype(int)
    north = (np.round(c.y.to_numpy() / CENTRE_PRECISION_M) * CENTRE_PRECISION_M).astype(int)
    wgs = gpd.GeoSeries(gpd.points_from_xy(east, north), crs=units.crs).to_crs("EPSG:4326")
    return pd.DataFrame(
        {
            "easting": east,
            "northing": north,
            "latitude": np.round(wgs.y.to_numpy(), 5),
            "longitude": np.round(wgs.x.to_numpy(), 5),
        },
        index=pd.Index(units["unit_id"].to_numpy(), name="unit_id"),
    )


def unit_places(units: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Where each unit is: its centre, and the LSOA and offender-management unit covering most.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        The forecast's units (``unit_id``, geometry, EPSG:27700).
    lsoa : geopandas.GeoDataFrame, optional
        LSOAs with ``lsoa21cd``, ``lsoa21nm`` and optionally ``lom_unit``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unit_id`` in units' order, with :data:`PLACE_COLUMNS` (``lsoa_share``:
        the share of the cell that LSOA covers; ``lom_unit``: the unit covering most of the
        cell, which may differ from its LSOA's when the cell straddles two units).
    """
    out = centres(units)
    for col in ("lsoa21cd", "lsoa21nm", "lsoa_share", "lom_unit"):
        out[col] = np.nan if col == "lsoa_share" else None
    if lsoa is not None:
        best = largest_overlap(units, lsoa, ["lsoa21cd", "lsoa21nm"])
        out["lsoa21cd"] = best["lsoa21cd"].to_numpy()
        out["lsoa21nm"] = best["lsoa21nm"].to_numpy()
        out["lsoa_share"] = best["share"].round(3).to_numpy()
        if "lom_unit" in lsoa:
            districts = lsoa.dropna(subset=["lom_unit"]).dissolve(by="lom_unit").reset_index()
            out["lom_unit"] = largest_overlap(units, districts, ["lom_unit"])["lom_unit"].to_numpy()
    return out[list(PLACE_COLUMNS)]


def rank_units(
    table: pd.DataFrame, full_area_km2: float | np.ndarray, share: float = SLIVER_SHARE
) -> pd.DataFrame:
    """Flag slivers and rank the other units by expected count.

    Parameters
    ----------
    table : pandas.DataFrame
        The forecast table (``area_km2``, ``mean``).
    full_area_km2 : float or numpy.ndarray
        Area of a full cell (per unit if the grid's cells differ).
    share : float
        A unit under this share of a full cell is a sliver.

    Returns
    -------
    pandas.DataFrame
        On the table's index: ``sliver`` (bool) and ``rank`` (``Int64``; 1 = the highest
        expected count, ties to the earlier unit; missing for slivers).
    """
    sliver = table["area_km2"].to_numpy() < share * np.asarray(full_area_km2, dtype=float)
    order = table.loc[~sliver, "mean"].sort_values(ascending=False, kind="stable").index
    rank = pd.Series(pd.NA, index=table.index, dtype="Int64")
    rank.loc[order] = np.arange(1, len(order) + 1)
    return pd.DataFrame({"sliver": sliver, "rank": rank}, index=table.index)


def map_layers(lsoa: gpd.GeoDataFrame | None, area: gpd.GeoSeries | None) -> MapLayers:
    """The maps' reference geography: LSOA lines, offender-management units, the outline."""
    outline = None if area is None else gpd.GeoSeries(area.geometry).to_crs("EPSG:27700")
    if lsoa is None:
        return MapLayers(outline=outline)
    lsoa = lsoa.to_crs("EPSG:27700")
    districts = None
    if "lom_unit" in lsoa:
        d = lsoa.dropna(subset=["lom_unit"]).dissolve(by="lom_unit").reset_index()
        districts = d.rename(columns={"lom_unit": "name"})[["name", "geometry"]]
    return MapLayers(boundaries=lsoa.geometry, outline=outline, districts=districts)


def prepare(
    plan: MonthlyPlan, data: FolderData, group: GroupPlan, fc: NextPeriodForecast
) -> ForecastPage:
    """Join a group's forecast to the data folder's geography, once for the whole page."""
    lsoa = _lsoa(data)
    units = fc.units
    full = units["full_area_km2"].to_numpy() if "full_area_km2" in units else fc.cell_area_km2
    ranks = rank_units(fc.table, full)
    places = unit_places(units, lsoa).reset_index(drop=True)
    table = fc.table.reset_index(drop=True)
    cells = pd.concat(
        [table[["unit_id"]], ranks.reset_index(drop=True), places, table[list(FORECAST_COLUMNS)]],
        axis=1,
    )
    cells = gpd.GeoDataFrame(cells, geometry=units.geometry.to_numpy(), crs=units.crs)
    return ForecastPage(
        fc=fc,
        label=group.label,
        dates=plan.dates,
        cells=cells,
        layers=map_layers(lsoa, data.study_area),
        top_n=plan.forecast.top_n,
    )


# ---------------------------------------------------------------------------- headline, dates


def page_title(page: ForecastPage) -> Markdown:
    """The page's heading: the group and the dates it is forecast for."""
    return Markdown(f"# {page.label}: forecast for {page.window}")


def forecast_headline(page: ForecastPage) -> Markdown:
    """One paragraph: what is forecast, for when, with the force-wide total."""
    fc = page.fc
    last_end = page.calendar.last_day(fc.last_complete).date()
    return Markdown(
        f"**{page.label}**, {fc.cell_area_km2:g} km² grid cells, period {fc.target_period} "
        f"({page.window}). Expected total **{fc.total_mean:.0f}** offences across the "
        f"{len(page.cells)} cells (90% interval {fc.total_lo90:.0f} to {fc.total_hi90:.0f}), "
        f"model `{fc.model}`, from complete periods up to period {fc.last_complete} "
        f"(ending {day(last_end)})."
    )


def _between(page: ForecastPage) -> list[dict[str, str]]:
    """The periods after the last complete one and before the target: why each is skipped."""
    cal, fc, dates = page.calendar, page.fc, page.dates
    rows = []
    for p in range(fc.last_complete + 1, fc.target_period):
        start, end = cal.start(p).date(), cal.last_day(p).date()
        why = (
            f"contains the data cut-off ({day(dates.cutoff)}): incomplete, not used"
            if start <= dates.cutoff
            else "after the data cut-off: no data, not used"
        )
        rows.append({"what": f"Period {p}", "dates": span(start, end), "meaning": why})
    return rows


def forecast_window(page: ForecastPage) -> Section:
    """How the forecast window relates to the run: run date, cut-off, periods used, target."""
    cal, fc, dates = page.calendar, page.fc, page.dates
    last = (cal.start(fc.last_complete).date(), cal.last_day(fc.last_complete).date())
    rows = [
        {"what": "Run date", "dates": day(dates.run_date), "meaning": "first day of the month"},
        {"what": "Data cut-off", "dates": day(dates.cutoff), "meaning": "last day of data"},
        {
            "what": f"Period {fc.last_complete}",
            "dates": span(*last),
            "meaning": "last complete period: the latest data the forecast uses",
        },
        *_between(page),
        {
            "what": f"Period {fc.target_period}",
            "dates": page.window,
            "meaning": "forecast: the first period starting on or after the run date",
        },
    ]
    lead = (fc.target_start - dates.run_date).days
    starts = "on the run date" if lead == 0 else f"{lead} days after the run date"
    ahead = fc.target_period - fc.last_complete
    text = (
        f"The forecast is for the first {dates.period_days}-day period that starts on or after "
        f"the run date: period {fc.target_period}, {page.window}, which starts {starts}. "
        f"Only complete periods are used, so the forecast is {ahead} "
        f"period{'s' if ahead > 1 else ''} ahead of the latest data. At the run the window had "
        f"not started; after {day(fc.target_end)} this page describes a past period, and the "
        "next monthly run forecasts the one after."
    )
    table = styled(
        pd.DataFrame(rows),
        f"The forecast's dates against the run of {day(dates.run_date)}",
        labels={"what": "", "dates": "Dates", "meaning": "What it is"},
    )
    return Section([Markdown(text), table])


# ---------------------------------------------------------------------------- maps


def _map_labels(page: ForecastPage) -> dict[str, str]:
    return {
        "mean": f"expected offences per cell, {page.period}",
        "hi90": f"upper end of the 90% interval: offences per cell, {page.period}",
        "p_any": f"probability of at least one offence in the cell, {page.period}",
    }


def _district_share(cells: pd.DataFrame, column: str) -> str:
    """The offender-management unit holding the largest share of ``column``, in words."""
    if cells["lom_unit"].isna().all():
        return ""
    by = cells.groupby("lom_unit")[column].sum()
    total = float(by.sum())
    if total <= 0:
        return ""
    name = by.idxmax()
    return (
        f" The {name} offender-management unit has the largest share of the expected "
        f"offences ({by.max() / total:.0%})."
    )


def _alt_common(page: ForecastPage) -> str:
    fc = page.fc
    top = len(page.top)
    return (
        f"Map of the study area's {len(page.cells)} grid cells of {fc.cell_area_km2:g} km², "
        f"{_lower(page.label)}, {page.window}"
        + (f"; the top {top} cells are outlined and numbered as in the table." if top else ".")
    )


def _alt(page: ForecastPage, column: str) -> str:
    """What a forecast map shows, from the data."""
    cells = page.cells
    best = cells.loc[cells[column].idxmax()]
    where = _place(best)
    if column == "p_any":
        likely = int((cells["p_any"] >= 0.5).sum())
        detail = (
            f" Colour shows the probability of at least one offence: {likely} cells have 50% "
            f"or more; the highest is {chance(best['p_any'])} in {where}."
        )
    elif column == "hi90":
        detail = (
            " Colour shows the upper end of each cell's 90% interval: at most "
            f"{best['hi90']:.0f} offences in 19 periods out of 20, highest in {where}."
        )
    else:
        detail = (
            f" Colour shows expected offences per cell, 0 to {best['mean']:.1f}; the highest is "
            f"{best['mean']:.1f} (90% interval {best['lo90']:.0f} to {best['hi90']:.0f}) in "
            f"{where}." + _district_share(cells, "mean")
        )
    return _alt_common(page) + detail


def forecast_map(page: ForecastPage, column: str = "mean") -> DescribedFigure:
    """One map of the forecast: ``mean``, ``hi90`` (upper end of 90%) or ``p_any``."""
    labels = {column: _map_labels(page)[column]}
    top = page.top["unit_id"].tolist()
    fig = plot_next_period_maps(page.cells, page.cells, labels, layers=page.layers, top=top)
    return figure(fig[column], alt=_alt(page, column))


def change_map(page: ForecastPage) -> DescribedFigure:
    """Map of the forecast mean minus the last complete period's count."""
    cells = page.cells
    up, down = cells.loc[cells["change"].idxmax()], cells.loc[cells["change"].idxmin()]
    alt = (
        _alt_common(page)
        + f" Colour shows the forecast minus the count of period {page.fc.last_complete}, "
        f"orange for more and purple for fewer: {int((cells['change'] > 0).sum())} cells up, "
        f"{int((cells['change'] < 0).sum())} down; the largest rise is "
        f"{up['change']:+.1f} in {_place(up)}, the largest fall {down['change']:+.1f} in "
        f"{_place(down)}."
    )
    fig = plot_change_map(
        cells,
        cells,
        label=f"forecast minus period {page.fc.last_complete}'s count, offences per cell",
        layers=page.layers,
        top=page.top["unit_id"].tolist(),
    )
    return figure(fig, alt=alt)


# ---------------------------------------------------------------------------- tables


def _cell_id_note(page: ForecastPage) -> str:
    example = page.top["unit_id"].iloc[0] if len(page.top) else page.cells["unit_id"].iloc[0]
    _, col, row = str(example).split("_")
    side = float(np.sqrt(page.fc.cell_area_km2) * 1000)
    side_txt = f"{side:.0f}" if abs(side - round(side)) < 1e-6 else f"{side:.1f}"
    return (
        f"A cell ID such as `{example}` names a square of the forecast grid: `g`, the side in "
        f"whole metres, then the column and row counted from the British National Grid origin "
        f"(its south-west corner is at easting {col} × {side_txt} m, northing {row} × "
        f"{side_txt} m). The centre is of the cell as clipped to the study area, rounded to "
        "10 m; the LSOA is the one covering most of the cell."
    )


def _sliver_note(page: ForecastPage) -> str:
    cells = page.cells
    slivers = cells.loc[cells["sliver"]]
    if slivers.empty:
        return "No cell is an edge sliver (under a quarter of a full cell)."
    worst = slivers.loc[slivers["mean"].idxmax()]
    ranked = cells.loc[cells["rank"].notna()]
    cut = float(ranked.loc[ranked["rank"] == min(page.top_n, len(ranked)), "mean"].iloc[0])
    above = int((slivers["mean"] > cut).sum())
    would = (
        "none of them would be in this list"
        if above == 0
        else f"{above} would be in this list by expected count (see the downloads)"
    )
    full = SLIVER_SHARE * page.fc.cell_area_km2
    return (
        f"**Edge slivers are not numbered.** {len(slivers)} cells are cut by the study-area "
        f"boundary to less than a quarter of a full cell (under {full:g} km²): strips along "
        "the edge rather than places of their own. They are flagged `sliver` in the downloads "
        "and left out of the ranking (merging one into its neighbour would need the joint "
        "simulations, which the forecast does not keep). The largest expected count among "
        f"them is {worst['mean']:.1f}, in {_place(worst)}; {would}."
    )


def top_units(page: ForecastPage) -> Section:
    """The numbered cells: rank, place, centre, expected count with 90% interval, chances."""
    k, top = page.k, page.top
    frame = pd.DataFrame(
        {
            "rank": top["rank"].astype(int),
            "unit_id": top["unit_id"],
            "lsoa21nm": top["lsoa21nm"],
            "lom_unit": top["lom_unit"],
            "grid": [f"{e}, {n}" for e, n in zip(top["easting"], top["northing"], strict=True)],
            "latlon": [
                f"{a:.5f}, {b:.5f}" for a, b in zip(top["latitude"], top["longitude"], strict=True)
            ],
            "expected": [
                f"{m:.1f} ({lo:.0f} to {hi:.0f})"
                for m, lo, hi in zip(top["mean"], top["lo90"], top["hi90"], strict=True)
            ],
            "p_any": top["p_any"],
            "p_at_least_k": top["p_at_least_k"],
            "last_count": top["last_count"].astype(int),
        }
    )
    labels = {
        "rank": "No.",
        "unit_id": "Cell ID",
        "lsoa21nm": "LSOA (covering most of the cell)",
        "lom_unit": "Offender-management unit",
        "grid": "Centre: easting, northing (m)",
        "latlon": "Centre: latitude, longitude",
        "expected": "Expected offences (90% interval)",
        "p_any": "Chance of 1 or more",
        "p_at_least_k": f"Chance of {k} or more",
        "last_count": f"Count in period {page.fc.last_complete}",
    }
    caption = (
        f"The {len(top)} cells with the highest expected count of {_lower(page.label)}, "
        f"{page.window} (numbered as on the maps; slivers excluded)"
    )
    formats = {"p_any": chance, "p_at_least_k": chance}
    table = styled(frame, caption, labels=labels, formats=formats)
    return Section([table, Markdown(_cell_id_note(page) + "\n\n" + _sliver_note(page))])


#: Number formats of the deprivation profile's columns (this page and the committee's).
DEPRIVATION_FORMATS = {
    "share_of_expected_offences": "{:.1%}".format,
    "share_of_top5pct_units": "{:.1%}".format,
    "area_km2": "{:.1f}".format,
}
#: Headings of the ethnic-composition profile (:func:`analysis.fairness.areas.ethnicity_profile`).
ETHNICITY_HEADINGS = {
    "group": "Ethnic group (Census 2021)",
    "residents": "Residents",
    "expected_per_1000_residents": "Expected offences per 1,000 residents",
    "ratio_to_all": "Against all residents",
    "share_in_top5pct_units": "Share living in the top 5% of cells",
}
#: Number formats of the ethnic-composition profile.
ETHNICITY_FORMATS = {"ratio_to_all": "{:.2f}×".format, "share_in_top5pct_units": "{:.1%}".format}


def deprivation_headings(quintile_column: str, period: str) -> dict[str, str]:
    """Headings of the deprivation profile (:func:`analysis.fairness.areas.deprivation_profile`)."""
    return {
        quintile_column: "IMD 2019 quintile (1 = most deprived)",
        "units": "Cells",
        "area_km2": "Area (km²)",
        "share_of_expected_offences": "Share of expected offences",
        "share_of_top5pct_units": "Share of the top 5% of cells (by expected count)",
        "expected_per_km2": f"Expected offences per km², {period}",
    }


def deprivation_table(profile: pd.DataFrame | Markdown, page: ForecastPage) -> Styler | Markdown:
    """The deprivation profile (:func:`analysis.fairness.areas.deprivation_profile`) as a table."""
    if not isinstance(profile, pd.DataFrame):
        return profile
    return styled(
        profile,
        f"Expected {_lower(page.label)} by the deprivation of the cells' areas, {page.window}",
        labels=deprivation_headings(profile.index.name, page.period),
        formats=DEPRIVATION_FORMATS,
    )


def ethnicity_table(profile: pd.DataFrame | Markdown, page: ForecastPage) -> Styler | Markdown:
    """The profile by the areas' ethnic composition (Census 2021 TS021), as a table."""
    if not isinstance(profile, pd.DataFrame):
        return profile
    return styled(
        profile,
        f"Expected {_lower(page.label)} where each ethnic group lives (Census 2021 TS021), "
        f"{page.window}",
        labels=ETHNICITY_HEADINGS,
        formats=ETHNICITY_FORMATS,
    )


def diagnostics(fc: NextPeriodForecast) -> Markdown:
    """What the forecast assumed (data window, incomplete periods, units, fits), as a list."""
    items = [f"- {_md(n)}" for n in fc.notes]
    if any(n.startswith("Bayesian fit") for n in fc.notes):
        items.append(
            "- In test mode the convergence checks are off: an unconverged fit is used as it is."
            if BANNER in fc.model
            else "- A Bayesian fit that does not converge is refitted once with more draws and "
            "otherwise stops the run."
        )
    return Markdown("\n".join(items))


_CHECKS_TEXT = (
    "Posterior predictive checks of the Bayesian model on the periods it was fitted to: each "
    "statistic of the observed window (spread of the cells' totals, cells with no offence, the "
    "busiest cell, the share of offences in the busiest 5% of cells; spread, autocorrelation "
    "and largest value of the force-wide totals) against its distribution in data replicated "
    "from the posterior. A two-sided p-value near 0 says the model rarely produces data like "
    "these in that respect. Forecast skill is judged by the backtest, not here.\n\n"
    "The map's cells are those with at least one recorded offence before the forecast, so a "
    "cell with no offence before the fitted window must have one inside it; its replicates are "
    "drawn given that (otherwise the share of cells with no offence would be 0 by construction "
    "and its p-value would reflect how the cells were chosen, not the model). The force-wide "
    "totals' replicates ignore the selection, which adds about one offence per sparse cell over "
    "the whole window."
)


def predictive_checks(fc: NextPeriodForecast) -> Section:
    """The Bayesian model's posterior predictive checks, explained; or one sentence why none."""
    if fc.checks is None:
        bayesian = any(n.startswith("Bayesian fit") for n in fc.notes)
        why = (
            "this model's likelihood has none"
            if bayesian
            else "it is not a Bayesian model; its skill is judged by the backtest"
        )
        return Section(
            [
                Markdown(
                    f"## Model checks\n\nNo posterior predictive checks for `{fc.model}`: {why}."
                )
            ]
        )
    table = styled(
        fc.checks,
        f"Posterior predictive checks of the model {fc.model} on its fitted window",
        labels={
            "statistic": "Statistic",
            "observed": "Observed",
            "replicated_mean": "Replicated: mean",
            "replicated_lo90": "Replicated: 90% interval, lower",
            "replicated_hi90": "Replicated: 90% interval, upper",
            "p_value": "Two-sided p-value",
        },
    )
    return Section([Markdown("## Does the model reproduce its data?\n\n" + _CHECKS_TEXT), table])


# ---------------------------------------------------------------------------- downloads


def column_dictionary(k: int = K, period: str = "4 weeks") -> pd.DataFrame:
    """What each column of the downloaded forecast means, with its unit."""
    rows = [
        ("offence_group", "offence group forecast", "name"),
        ("period_start", "first day of the forecast period", "date"),
        ("period_end", "last day of the forecast period", "date"),
        ("unit_id", "grid cell: g, side in metres, column and row from the grid origin", "id"),
        ("rank", "rank by expected count (1 = highest); empty for a sliver", "rank"),
        ("sliver", f"cell clipped to under {SLIVER_SHARE:g} of a full cell (not ranked)", "yes/no"),
        ("lsoa21cd", "code of the 2021 LSOA covering most of the cell", "code"),
        ("lsoa21nm", "name of that LSOA", "name"),
        ("lsoa_share", "share of the cell that LSOA covers", "0 to 1"),
        ("lom_unit", "offender-management unit covering most of the cell", "name"),
        ("easting", "centre of the (clipped) cell, rounded to 10 m", "m, EPSG:27700"),
        ("northing", "centre of the (clipped) cell, rounded to 10 m", "m, EPSG:27700"),
        ("latitude", "the same centre", "degrees, WGS84"),
        ("longitude", "the same centre", "degrees, WGS84"),
        ("area_km2", "area of the cell inside the study area", "km²"),
        ("mean", f"expected offences in the period ({period})", "offences"),
        ("median", "median of the predictive distribution", "offences"),
        ("lo50", "lower end of the central 50% interval", "offences"),
        ("hi50", "upper end of the central 50% interval", "offences"),
        ("lo80", "lower end of the central 80% interval", "offences"),
        ("hi80", "upper end of the central 80% interval", "offences"),
        ("lo90", "lower end of the central 90% interval", "offences"),
        ("hi90", "upper end of the central 90% interval", "offences"),
        ("p_any", "probability of at least one offence", "0 to 1"),
        (f"p_at_least_{k}", f"probability of at least {k} offences", "0 to 1"),
        (
            "p_top5",
            "probability the cell is in the top 5% of cells by expected count per km²",
            "0 to 1",
        ),
        ("last_count", "recorded offences in the last complete period", "offences"),
        ("change", "mean minus last_count", "offences"),
    ]
    return pd.DataFrame(rows, columns=["column", "meaning", "unit"])


def export_frame(page: ForecastPage) -> gpd.GeoDataFrame:
    """The downloads' rows: one per cell, columns as :func:`column_dictionary`, with geometry."""
    c = page.cells
    out = c.drop(columns="geometry").rename(columns={"p_at_least_k": f"p_at_least_{page.k}"})
    out.insert(0, "period_end", page.fc.target_end.isoformat())
    out.insert(0, "period_start", page.fc.target_start.isoformat())
    out.insert(0, "offence_group", page.fc.group)
    rounding = {"area_km2": 5, "mean": 4, "change": 4, "p_any": 4, f"p_at_least_{page.k}": 4}
    out = out.round({**rounding, "p_top5": 4})
    out = out[column_dictionary(page.k)["column"].tolist()]
    return gpd.GeoDataFrame(out, geometry=c.geometry.to_numpy(), crs=c.crs)


def write_forecast_files(
    page: ForecastPage,
    run_dir: str | Path,
    deprivation: pd.DataFrame | Markdown | None = None,
    ethnicity: pd.DataFrame | Markdown | None = None,
) -> dict[str, Path]:
    """Write the group's downloads to ``run_dir/artefacts`` and return them by kind.

    ``forecast_<group>.gpkg`` (cells as polygons, EPSG:27700), ``forecast_<group>.csv`` (the
    same columns, no geometry), ``forecast_<group>_columns.csv`` (the column dictionary),
    ``deprivation_<group>.csv`` and ``ethnicity_<group>.csv`` (when those profiles are
    given) and ``forecast_<group>.json`` (the forecast's summary). Area counts only: no
    person and no crime appears.
    """
    out = Path(run_dir) / "artefacts"
    out.mkdir(parents=True, exist_ok=True)
    g = page.fc.group
    paths = {
        "gpkg": out / f"forecast_{g}.gpkg",
        "csv": out / f"forecast_{g}.csv",
        "columns": out / f"forecast_{g}_columns.csv",
        "json": out / f"forecast_{g}.json",
    }
    frame = export_frame(page)
    write_csv(pd.DataFrame(frame.drop(columns="geometry")), paths["csv"], index=False)
    paths["gpkg"].unlink(missing_ok=True)
    frame.copy().to_file(paths["gpkg"], driver="GPKG", layer=f"forecast_{g}")
    write_csv(column_dictionary(page.k, page.period), paths["columns"], index=False)
    if isinstance(deprivation, pd.DataFrame):
        paths["deprivation"] = out / f"deprivation_{g}.csv"
        write_csv(deprivation, paths["deprivation"])
    if isinstance(ethnicity, pd.DataFrame):
        paths["ethnicity"] = out / f"ethnicity_{g}.csv"
        write_csv(ethnicity, paths["ethnicity"], index=False)
    summary = {k: v for k, v in asdict(page.fc).items() if k not in ("table", "units")}
    summary["p_at_least_k_threshold"] = page.k
    paths["json"].write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return paths


def save_forecast_files(
    page: ForecastPage,
    run_dir: str | Path,
    deprivation: pd.DataFrame | Markdown | None = None,
    ethnicity: pd.DataFrame | Markdown | None = None,
) -> Section:
    """Write the downloads (:func:`write_forecast_files`); return their links and dictionary."""
    paths = write_forecast_files(page, run_dir, deprivation, ethnicity)
    link = {k: f"[{p.name}](artefacts/{p.name})" for k, p in paths.items()}
    lines = [
        f"One row per cell ({len(page.cells)} cells, slivers flagged), with the columns below:",
        "",
        f"- {link['gpkg']}: GeoPackage, the cells as polygons (EPSG:27700), for QGIS or ArcGIS",
        f"- {link['csv']}: the same table with each cell's centre, for a spreadsheet",
        f"- {link['columns']}: this column dictionary",
        f"- {link['json']}: the forecast's summary (total, dates, model, notes)",
    ]
    if "deprivation" in link:
        lines.append(f"- {link['deprivation']}: the deprivation profile above")
    if "ethnicity" in link:
        lines.append(f"- {link['ethnicity']}: the profile by the areas' ethnic composition")
    lines += ["", "The files hold area counts only: no person and no crime record."]
    table = styled(
        column_dictionary(page.k, page.period),
        f"Columns of forecast_{page.fc.group}.csv and .gpkg",
        labels={"column": "Column", "meaning": "Meaning", "unit": "Unit"},
    )
    return Section([Markdown("\n".join(lines)), table])
