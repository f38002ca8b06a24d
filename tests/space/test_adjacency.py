import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.weights import W
from shapely.geometry import Polygon

from analysis.space import BNG, Adjacency, build_adjacency, make_grid


@pytest.fixture(scope="module")
def units():
    """A 3x3 grid of 1 km cells plus one square far away (an island)."""
    grid = make_grid(shapely.box(0, 0, 3000, 3000), crs=BNG)
    far = gpd.GeoDataFrame(
        {"unit_id": ["far"]}, geometry=[shapely.box(10_000, 10_000, 11_000, 11_000)], crs=BNG
    )
    return pd.concat([grid[["unit_id", "geometry"]], far], ignore_index=True)


def neighbours(adj: Adjacency, uid: str) -> set[str]:
    return set(adj.weights.neighbors[uid])


def test_queen_3x3(units):
    adj = build_adjacency(units, "queen")
    assert isinstance(adj.weights, W)
    assert adj.unit_ids[4] == "g1000_1_1"
    assert len(neighbours(adj, "g1000_1_1")) == 8
    assert neighbours(adj, "g1000_0_0") == {"g1000_1_0", "g1000_0_1", "g1000_1_1"}
    s = adj.summary()
    # 6 horizontal + 6 vertical + 8 diagonal links
    assert s["n_links"] == 20
    assert s["n_units"] == 10
    assert s["mean_neighbours"] == pytest.approx(4.0)
    assert s["method"] == "queen"


def test_rook_3x3(units):
    adj = build_adjacency(units, "rook")
    assert neighbours(adj, "g1000_1_1") == {"g1000_1_0", "g1000_0_1", "g1000_2_1", "g1000_1_2"}
    assert len(neighbours(adj, "g1000_0_0")) == 2
    assert adj.summary()["n_links"] == 12


def test_island_kept_and_second_component(units):
    adj = build_adjacency(units)
    assert adj.islands == ["far"]
    assert "far" in adj.unit_ids
    assert adj.n_components == 2
    assert adj.component.tolist() == [0] * 9 + [1]
    s = adj.summary()
    assert s["n_islands"] == 1
    assert s["islands"] == ["far"]
    assert s["component_sizes"] == [9, 1]


def test_sparse_and_edges(units):
    adj = build_adjacency(units, "rook")
    m = adj.to_sparse()
    assert m.shape == (10, 10)
    assert m.nnz == 24
    assert (m != m.T).nnz == 0
    assert set(np.unique(m.data).tolist()) == {1}
    assert m.diagonal().sum() == 0
    assert m[9].nnz == 0  # the island row
    i, j = adj.edges()
    assert len(i) == 12
    assert (i < j).all()
    assert (0, 1) in set(zip(i.tolist(), j.tolist(), strict=True))  # g1000_0_0 - g1000_1_0
    assert (0, 4) not in set(zip(i.tolist(), j.tolist(), strict=True))  # diagonal: not rook


def test_order_follows_units_not_libpysal(units):
    shuffled = units.iloc[[9, 4, 0, 1, 2, 3, 5, 6, 7, 8]].reset_index(drop=True)
    adj = build_adjacency(shuffled, "queen")
    assert adj.unit_ids[0] == "far"
    assert adj.to_sparse()[1].nnz == 8  # the centre cell is now row 1
    assert adj.component.tolist() == [0] + [1] * 9


def test_clipped_cells_touching_at_a_point():
    # two triangles meeting only at (1000, 1000); each lies in one cell
    area = shapely.union_all(
        [
            Polygon([(0, 0), (1000, 0), (1000, 1000)]),
            Polygon([(1000, 1000), (2000, 1000), (2000, 2000)]),
        ]
    )
    grid = make_grid(area, crs=BNG)
    assert grid["unit_id"].tolist() == ["g1000_0_0", "g1000_1_1"]
    queen = build_adjacency(grid, "queen")
    rook = build_adjacency(grid, "rook")
    assert queen.summary()["n_links"] == 1 and queen.n_components == 1
    assert rook.summary()["n_links"] == 0
    assert rook.islands == ["g1000_0_0", "g1000_1_1"]
    assert rook.n_components == 2


def test_clipped_rectangle_grid_links():
    grid = make_grid(shapely.box(0, 0, 2500, 1500), crs=BNG)  # 3 x 2 cells, edge ones clipped
    assert build_adjacency(grid, "rook").summary()["n_links"] == 7
    assert build_adjacency(grid, "queen").summary()["n_links"] == 11


def test_errors(units):
    with pytest.raises(ValueError, match="unknown adjacency method 'bishop'"):
        build_adjacency(units, "bishop")
    with pytest.raises(ValueError, match="not found"):
        build_adjacency(units, id_col="code")
    dup = units.assign(unit_id=["a"] * len(units))
    with pytest.raises(ValueError, match=r"duplicated.*: a"):
        build_adjacency(dup)
