import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from analysis.space import BNG, WGS84, assign_points, make_grid, polygon_units, to_crs_xy

RECT = shapely.box(0, 0, 2500, 1500)  # 2.5 km x 1.5 km


@pytest.fixture(scope="module")
def grid():
    return make_grid(RECT, crs=BNG)


def test_rectangle_grid_cells_and_areas(grid):
    # 3 columns (0-1, 1-2, 2-2.5 km) x 2 rows (0-1, 1-1.5 km)
    assert len(grid) == 6
    assert grid["unit_id"].tolist() == [
        "g1000_0_0",
        "g1000_1_0",
        "g1000_2_0",
        "g1000_0_1",
        "g1000_1_1",
        "g1000_2_1",
    ]
    np.testing.assert_allclose(grid["area_km2"], [1, 1, 0.5, 0.5, 0.5, 0.25])
    assert grid["area_km2"].sum() == pytest.approx(3.75)
    np.testing.assert_allclose(grid["full_area_km2"], 1.0)
    assert grid["cx"].tolist() == [500, 1500, 2500, 500, 1500, 2500]  # full-square centres
    assert grid["cy"].tolist() == [500, 500, 500, 1500, 1500, 1500]
    assert isinstance(grid.index, pd.RangeIndex)
    assert grid.crs.to_epsg() == 27700
    assert grid.attrs["grid"]["side"] == 1000.0
    assert grid.attrs["grid"]["origin"] == (0.0, 0.0)
    assert grid.geometry.union_all().equals(RECT)
    expected_cols = ["unit_id", "col", "row", "area_km2", "full_area_km2", "cx", "cy", "geometry"]
    assert list(grid.columns) == expected_cols


def test_ids_stable_under_shifted_area(grid):
    shifted = make_grid(shapely.box(1000, 0, 3500, 1500), crs=BNG)
    assert shifted["unit_id"].tolist() == [
        "g1000_1_0",
        "g1000_2_0",
        "g1000_3_0",
        "g1000_1_1",
        "g1000_2_1",
        "g1000_3_1",
    ]
    common = grid.merge(shifted, on="unit_id", suffixes=("_a", "_b"))
    assert common["unit_id"].tolist() == ["g1000_1_0", "g1000_2_0", "g1000_1_1", "g1000_2_1"]
    assert (common["cx_a"] == common["cx_b"]).all() and (common["cy_a"] == common["cy_b"]).all()
    # g1000_2_0 is 2000-2500 in the first grid but a full square in the second
    assert shifted.set_index("unit_id").loc["g1000_2_0", "area_km2"] == pytest.approx(1.0)


def test_bng_like_coordinates_give_lattice_ids():
    g = make_grid(shapely.box(400_000, 200_000, 402_500, 201_500), crs=BNG)
    assert g["unit_id"].iloc[0] == "g1000_400_200"
    assert g["unit_id"].iloc[-1] == "g1000_402_201"


def test_origin_moves_lattice():
    g = make_grid(RECT, origin=(500.0, 0.0), crs=BNG)
    assert g["col"].unique().tolist() == [-1, 0, 1]
    np.testing.assert_allclose(g["area_km2"].iloc[:3], [0.5, 1.0, 1.0])


def test_min_overlap_share_drops_small_cells():
    g = make_grid(RECT, min_overlap_share=0.5, crs=BNG)
    assert len(g) == 5
    assert "g1000_2_1" not in set(g["unit_id"])  # a quarter cell
    with pytest.raises(ValueError, match="between 0 and 1"):
        make_grid(RECT, min_overlap_share=1.5, crs=BNG)


def test_half_square_km_cells():
    g = make_grid(shapely.box(0, 0, 1000, 1000), cell_area_km2=0.5, crs=BNG)
    side = g.attrs["grid"]["side"]
    assert side == pytest.approx(707.1067811865476)
    assert round(side, 1) == 707.1
    assert g["unit_id"].iloc[0] == "g707_0_0"
    np.testing.assert_allclose(g["full_area_km2"], 0.5)
    assert len(g) == 4  # two columns and two rows cover 1000 m
    assert g["area_km2"].sum() == pytest.approx(1.0)


def test_geodataframe_area_is_dissolved():
    halves = gpd.GeoDataFrame(
        geometry=[shapely.box(0, 0, 1200, 1500), shapely.box(1200, 0, 2500, 1500)], crs=BNG
    )
    g = make_grid(halves)
    assert len(g) == 6
    assert g["area_km2"].sum() == pytest.approx(3.75)


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_bad_cell_area(bad):
    with pytest.raises(ValueError, match="cell_area_km2 must be positive"):
        make_grid(RECT, cell_area_km2=bad, crs=BNG)


def test_degree_crs_refused():
    lonlat = gpd.GeoSeries([shapely.box(-1.0, 52.0, -0.9, 52.1)], crs=WGS84)
    with pytest.raises(ValueError, match="degree"):
        make_grid(lonlat)
    with pytest.raises(ValueError, match="degree"):
        make_grid(shapely.box(-1.0, 52.0, -0.9, 52.1), crs=WGS84)


def test_missing_or_conflicting_crs():
    with pytest.raises(ValueError, match="no CRS"):
        make_grid(RECT)
    with pytest.raises(ValueError, match="reproject"):
        make_grid(gpd.GeoSeries([RECT], crs=BNG), crs="EPSG:3857")


def test_assign_points_edges_outside_and_missing(grid):
    x = [500, 1000, 500, 1000, 2500, 2500, -1, 3000, np.nan, 10, 0]
    y = [500, 500, 1000, 1000, 700, 1500, 500, 500, 10, np.nan, 0]
    got = assign_points(x, y, grid)
    assert got.dtype == object
    assert got.tolist() == [
        "g1000_0_0",  # interior
        "g1000_1_0",  # shared vertical edge: the cell to the east
        "g1000_0_1",  # shared horizontal edge: the cell to the north
        "g1000_1_1",  # shared corner: north-east
        "g1000_2_0",  # on the area's outer (east) boundary
        "g1000_2_1",  # outer corner
        None,  # outside
        None,  # outside
        None,  # missing x
        None,  # missing y
        "g1000_0_0",  # outer corner at the origin
    ]


def test_assign_points_outer_boundary_on_lattice_edge():
    g = make_grid(shapely.box(0, 0, 2000, 1000), crs=BNG)
    # x = 2000 is the area's east boundary; the floor-rule cell (col 2) does not exist
    assert assign_points([2000.0, 2000.0], [500.0, 1000.0], g).tolist() == [
        "g1000_1_0",
        "g1000_1_0",
    ]


def test_assign_points_respects_removed_cells_and_crs(grid):
    kept = grid[grid["area_km2"] >= 0.5].reset_index(drop=True)  # drops g1000_2_1
    assert kept.attrs["grid"]["side"] == 1000.0
    assert assign_points([2400.0, 1500.0], [1400.0, 500.0], kept).tolist() == [None, "g1000_1_0"]
    lon, lat = to_crs_xy([1500.0], [500.0], BNG, WGS84)
    assert assign_points(lon, lat, grid, crs=WGS84).tolist() == ["g1000_1_0"]
    with pytest.raises(ValueError, match="equal length"):
        assign_points([1.0, 2.0], [1.0], grid)


def test_assign_points_clipped_cell_checks_geometry():
    tri = Polygon([(0, 0), (2000, 0), (0, 2000)])
    g = make_grid(tri, crs=BNG)
    # cell 1_0 spans 1000-2000 but the triangle covers only its lower-left half
    assert assign_points([1200.0, 1800.0], [200.0, 900.0], g).tolist() == ["g1000_1_0", None]


@pytest.fixture(scope="module")
def lsoas():
    raw = gpd.GeoDataFrame(
        {
            "LSOA21CD": ["E01000001", "E01000002", "E01000003"],
            "name": ["a", "b", "c"],
        },
        geometry=[
            shapely.box(0, 0, 100, 100),
            shapely.box(100, 0, 200, 100),
            Polygon([(0, 100), (200, 100), (100, 200)]),
        ],
        crs=BNG,
    )
    return polygon_units(raw, "LSOA21CD")


def test_polygon_units_schema(lsoas):
    assert list(lsoas.columns) == ["unit_id", "area_km2", "cx", "cy", "geometry"]
    assert lsoas["unit_id"].tolist() == ["E01000001", "E01000002", "E01000003"]
    np.testing.assert_allclose(lsoas["area_km2"], [0.01, 0.01, 0.01])
    inside = shapely.contains_xy(lsoas.geometry.values, lsoas["cx"], lsoas["cy"])
    assert inside.all()


def test_polygon_units_assign_points(lsoas):
    x = [50, 100, 100, 100, 300, np.nan]
    y = [50, 50, 150, 100, 300, 1]
    assert assign_points(x, y, lsoas).tolist() == [
        "E01000001",
        "E01000001",  # shared edge: the first unit in order
        "E01000003",
        "E01000001",  # vertex shared by all three
        None,
        None,
    ]
    reordered = lsoas.iloc[::-1].reset_index(drop=True)
    assert assign_points([100.0], [50.0], reordered).tolist() == ["E01000002"]


def test_polygon_units_errors(lsoas):
    dup = gpd.GeoDataFrame(
        {"code": ["E01000001", "E01000001", "E01000009"]},
        geometry=list(lsoas.geometry),
        crs=BNG,
    )
    with pytest.raises(ValueError, match=r"duplicated.*E01000001"):
        polygon_units(dup, "code")
    with pytest.raises(ValueError, match="not found"):
        polygon_units(dup, "LSOA21CD")
    with pytest.raises(ValueError, match="degree"):
        polygon_units(dup.set_crs(WGS84, allow_override=True), "code")
