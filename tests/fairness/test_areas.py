"""Forecast disparities by area: deprivation and the ethnic composition of residents."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from analysis.fairness.areas import deprivation_profile, ethnicity_profile

CRS = "EPSG:27700"


def geography():
    """Two LSOAs side by side; four 1 km cells, two in each."""
    lsoa = gpd.GeoDataFrame(
        {"lsoa21cd": ["A", "B"], "imd_rank": [100, 30_000]},
        geometry=[box(0, 0, 2000, 1000), box(2000, 0, 4000, 1000)],
        crs=CRS,
    )
    cells = [box(x, 0, x + 1000, 1000) for x in (0, 1000, 2000, 3000)]
    units = gpd.GeoDataFrame({"unit_id": ["c0", "c1", "c2", "c3"]}, geometry=cells, crs=CRS)
    table = pd.DataFrame(
        {"unit_id": units["unit_id"], "area_km2": 1.0, "mean": [8.0, 4.0, 1.0, 1.0]}
    )
    return table, units, lsoa


def census(share_a_asian: float, share_b_asian: float) -> pd.DataFrame:
    rows = []
    for code, asian in (("A", share_a_asian), ("B", share_b_asian)):
        rows.append(
            {
                "lsoa21cd": code,
                "residents": 1000,
                "share_asian": asian,
                "share_black": 0.0,
                "share_mixed": 0.0,
                "share_white": 1 - asian,
                "share_other": 0.0,
            }
        )
    return pd.DataFrame(rows)


def test_a_group_living_where_the_forecast_is_high_has_the_higher_rate():
    table, units, lsoa = geography()
    out = ethnicity_profile(table, units, lsoa, census(0.8, 0.2)).set_index("group")
    # A holds 12 expected offences per 1,000 residents, B 2
    assert out.loc["all residents", "expected_per_1000_residents"] == pytest.approx(7.0)
    asian = out.loc["Asian, Asian British or Asian Welsh"]
    assert asian["expected_per_1000_residents"] == pytest.approx((800 * 12 + 200 * 2) / 1000)
    assert asian["ratio_to_all"] > 1 > out.loc["White", "ratio_to_all"]
    # the top 5% of 4 units is the busiest cell, half of A
    assert asian["share_in_top5pct_units"] == pytest.approx(800 * 0.5 / 1000)
    assert out.loc["all residents", "residents"] == 2000


def test_equal_composition_gives_equal_rates():
    table, units, lsoa = geography()
    out = ethnicity_profile(table, units, lsoa, census(0.5, 0.5)).set_index("group")
    assert out.loc["Asian, Asian British or Asian Welsh", "ratio_to_all"] == pytest.approx(1.0)


def test_deprivation_top_units_are_ranked_by_expected_count_not_density():
    table, units, lsoa = geography()
    sliver = table.copy()
    sliver.loc[3, ["area_km2", "mean"]] = [0.001, 0.5]  # a clipped edge cell: dense, tiny
    out = deprivation_profile(sliver, units, lsoa)
    assert out.loc[1, "share_of_top5pct_units"] == 1.0  # the busiest cell, in A (quintile 1)
