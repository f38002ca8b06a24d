"""Forecast disparities by area: where a forecast would send attention.

The forecasts name no person, but where they point matters: recorded crime is higher where
policing is more intense, and deprived areas are policed more, so a forecast that
concentrates attention there can feed back into its own data. This module profiles a
forecast by the deprivation of the areas it covers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

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
    units (by expected count per km²), and the expected count per km².

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
    top = (t["mean"] / t["area_km2"]).rank(ascending=False, method="first") <= n_top
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
