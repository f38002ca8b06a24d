"""Spatial units on the real Birmingham geography: grids, adjacency and covariates."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.space import areal_interpolate, build_adjacency, make_grid, polygon_units
from analysis.synthetic.geography import birmingham_lsoas


@pytest.fixture(scope="module")
def lsoa():
    return birmingham_lsoas()


@pytest.mark.parametrize(("cell", "n_cells"), [(1.0, 328), (0.5, 617)])
def test_grids_cover_birmingham(lsoa, cell, n_cells):
    grid = make_grid(lsoa.dissolve().geometry, cell_area_km2=cell)
    assert len(grid) == n_cells
    assert grid["area_km2"].sum() == pytest.approx(lsoa.geometry.area.sum() / 1e6, rel=1e-6)
    assert (grid["area_km2"] <= cell + 1e-9).all()
    for method in ("queen", "rook"):
        s = build_adjacency(grid, method=method).summary()
        # Birmingham's clipped grids hold together: one component, no islands
        assert s["n_units"] == n_cells
        assert (s["n_components"], s["n_islands"]) == (1, 0)
        assert s["component_sizes"] == [n_cells]


def test_lsoa_adjacency_is_one_component(lsoa):
    units = polygon_units(lsoa, "lsoa21cd")
    adj = build_adjacency(units, method="queen")
    s = adj.summary()
    assert s["n_components"] == 1 and s["n_islands"] == 0
    assert 5.0 < s["mean_neighbours"] < 6.5  # 5.7 reported for these boundaries


def test_population_and_deprivation_onto_grid(lsoa):
    grid = make_grid(lsoa.dissolve().geometry, cell_area_km2=1.0)
    cov = areal_interpolate(lsoa, grid, extensive=["population"], intensive=["imd_rank"])
    assert cov["population"].sum() == pytest.approx(1_144_925, rel=1e-6)
    assert np.allclose(cov["covered_share"], 1.0, atol=1e-6)
    assert cov["imd_rank"].between(lsoa["imd_rank"].min(), lsoa["imd_rank"].max()).all()
