"""Forecast disparities by area: where a forecast would send attention.

The forecasts name no person, but where they point matters: recorded crime is higher where
policing is more intense, and deprived areas are policed more, so a forecast that
concentrates attention there can feed back into its own data. This module profiles a
forecast by the deprivation of the areas it covers and, where a Census 2021 TS021 table is
supplied, by the ethnic composition of the people living there.

A forecast's *top units* are the 5% of units with the highest expected count (not count
per km²: cells clipped by the study-area boundary would otherwise lead on their small
area alone).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.data.census import GROUPS
from analysis.space import areal_interpolate

#: LSOAs in England ranked by the Index of Multiple Deprivation 2019.
IMD_LSOAS_ENGLAND = 32_844
#: Share of units counted as the forecast's top units.
TOP_SHARE = 0.05


def deprivation_profile(
    table: pd.DataFrame, units: gpd.GeoDataFrame, lsoa: gpd.GeoDataFrame
) -> pd.DataFrame:
    """Forecast burden by area deprivation.

    Each unit takes the area-weighted mean IMD 2019 rank of the LSOAs it covers; units are
    grouped into national IMD quintiles (1 = most deprived fifth of England). For each
    quintile: units, area, share of the expected offences, share of the forecast top 5% of
    units (by expected count), and the expected count per km².

    Parameters
    ----------
    table : pandas.DataFrame
        The forecast (``unit_id``, ``area_km2``, ``mean``).
    units : geopandas.GeoDataFrame
        The forecast's units with geometry, in the LSOAs' CRS or any other.
    lsoa : geopandas.GeoDataFrame
        LSOA geography with ``imd_rank``.

    Returns
    -------
    pandas.DataFrame
        Indexed by quintile.
    """
    lsoa = lsoa.to_crs(units.crs) if units.crs is not None else lsoa
    imd = areal_interpolate(lsoa, units, intensive=["imd_rank"])["imd_rank"]
    t = table.set_index("unit_id").join(imd)
    t["quintile"] = np.clip(np.ceil(t["imd_rank"] / IMD_LSOAS_ENGLAND * 5), 1, 5).astype("Int64")
    n_top = max(1, int(np.ceil(TOP_SHARE * len(t))))
    top = t["mean"].rank(ascending=False, method="first") <= n_top
    t["top5"] = top
    g = t.groupby("quintile")
    out = pd.DataFrame(
        {
            "units": g.size(),
            "area_km2": g["area_km2"].sum().round(1),
            "share_of_expected_offences": (g["mean"].sum() / t["mean"].sum()).round(3),
            "share_of_top5pct_units": (g["top5"].sum() / top.sum()).round(3),
            "expected_per_km2": (g["mean"].sum() / g["area_km2"].sum()).round(3),
        }
    )
    out.index.name = "IMD quintile (1 = most deprived)"
    return out


def ethnicity_profile(
    table: pd.DataFrame,
    units: gpd.GeoDataFrame,
    lsoa: gpd.GeoDataFrame,
    ethnicity: pd.DataFrame,
) -> pd.DataFrame:
    """Forecast burden by the ethnic composition of the areas people live in.

    Each unit's expected offences are split over the LSOAs it covers by area, and spread over
    each LSOA's residents (Census 2021). For each high-level ethnic group: its residents,
    the expected offences per 1,000 residents averaged over the group's residents (where
    its members live, how much the forecast expects), that rate against all residents', and
    the share of the group's residents living inside the forecast's top 5% of units (by
    area within each LSOA).

    Parameters
    ----------
    table : pandas.DataFrame
        The forecast (``unit_id``, ``area_km2``, ``mean``).
    units : geopandas.GeoDataFrame
        The forecast's units with geometry, in table order.
    lsoa : geopandas.GeoDataFrame
        LSOA geography with ``lsoa21cd``.
    ethnicity : pandas.DataFrame
        :func:`analysis.data.census.load_ts021`: ``lsoa21cd``, ``residents``,
        ``share_<group>``.

    Returns
    -------
    pandas.DataFrame
        One row per group, then ``all residents``: ``group, residents,
        expected_per_1000_residents, ratio_to_all, share_in_top5pct_units``. LSOAs missing
        from the census table are left out (their number is in ``attrs["lsoas_without_census"]``).
    """
    n_top = max(1, int(np.ceil(TOP_SHARE * len(table))))
    top = table["mean"].rank(ascending=False, method="first").to_numpy() <= n_top
    src = gpd.GeoDataFrame(
        {
            "mean": table["mean"].to_numpy(dtype=float),
            "top_area": np.where(top, units.geometry.area.to_numpy(), 0.0),
        },
        geometry=units.geometry.to_numpy(),
        crs=units.crs,
    ).to_crs(lsoa.crs)
    per_lsoa = areal_interpolate(
        src, lsoa[["lsoa21cd", "geometry"]], extensive=["mean", "top_area"], target_id="lsoa21cd"
    )
    area = lsoa.set_index("lsoa21cd").geometry.area
    per_lsoa["in_top"] = (per_lsoa["top_area"] / area.reindex(per_lsoa.index)).clip(0, 1)
    census = ethnicity.set_index("lsoa21cd")
    joined = per_lsoa.join(census, how="inner")
    joined = joined.loc[joined["residents"] > 0]
    rate = joined["mean"] / joined["residents"]  # expected offences per resident
    rows = []
    for key, label in [*GROUPS.items(), ("all", "all residents")]:
        people = joined["residents"] * (1.0 if key == "all" else joined[f"share_{key}"])
        total = float(people.sum())
        rows.append(
            {
                "group": label,
                "residents": round(total),
                "expected_per_1000_residents": 1000 * float((people * rate).sum()) / total
                if total
                else np.nan,
                "share_in_top5pct_units": float((people * joined["in_top"]).sum()) / total
                if total
                else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    overall = out.loc[out["group"] == "all residents", "expected_per_1000_residents"].iloc[0]
    out["ratio_to_all"] = out["expected_per_1000_residents"] / overall
    out.attrs["lsoas_without_census"] = int(len(per_lsoa) - len(joined))
    cols = [
        "group",
        "residents",
        "expected_per_1000_residents",
        "ratio_to_all",
        "share_in_top5pct_units",
    ]
    return out[cols]
