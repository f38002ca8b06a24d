"""Spatial units: square grid cells on a fixed lattice, and arbitrary polygons (e.g. LSOAs).

Every unit table shares one schema: ``unit_id`` (string), ``area_km2``, ``cx``,
``cy`` and ``geometry`` in a metric CRS. Grids add ``col``, ``row`` and
``full_area_km2`` and record their lattice in ``attrs["grid"]`` so that points
can be assigned to cells by arithmetic rather than a spatial search.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from analysis.space.crs import require_metric_crs, to_crs_xy

#: Maximum number of candidate squares built at once (bounds memory use).
_CHUNK_CELLS = 250_000

_POLYGON = shapely.GeometryType.POLYGON
_MULTIPOLYGON = shapely.GeometryType.MULTIPOLYGON
_COLLECTION = shapely.GeometryType.GEOMETRYCOLLECTION


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry.

    Geometry collections (which overlay operations return when pieces merely
    touch) are reduced to the union of their polygons; points and lines become
    empty polygons.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely geometries
        Input geometries (None allowed).

    Returns
    -------
    numpy.ndarray of shapely geometries
        Polygons, MultiPolygons or empty geometries.
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(types == _COLLECTION):
        parts = [
            p
            for p in shapely.get_parts(geoms[i])
            if shapely.get_type_id(p) in (_POLYGON, _MULTIPOLYGON)
        ]
        geoms[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    other = ~np.isin(types, [_POLYGON, _MULTIPOLYGON, _COLLECTION])
    geoms[other] = shapely.Polygon()
    return geoms


def _study_area(
    area: gpd.GeoSeries | gpd.GeoDataFrame | BaseGeometry,
    crs: str | int | pyproj.CRS | None,
) -> tuple[BaseGeometry, pyproj.CRS]:
    """Dissolve ``area`` into one polygonal geometry and return it with its metric CRS."""
    if isinstance(area, gpd.GeoDataFrame):
        area = area.geometry
    if isinstance(area, gpd.GeoSeries):
        if area.crs is not None and crs is not None and pyproj.CRS(crs) != area.crs:
            raise ValueError(
                f"the study area is in {area.crs.to_string()} but crs={crs!r} was given; "
                "reproject the area first (area.to_crs(...)) or omit crs"
            )
        area_crs = area.crs if area.crs is not None else crs
        geoms = np.asarray(area.values, dtype=object)
    elif isinstance(area, BaseGeometry):
        area_crs = crs
        geoms = np.array([area], dtype=object)
    else:
        raise ValueError(
            "area must be a GeoSeries, GeoDataFrame or shapely (Multi)Polygon, "
            f"got {type(area).__name__}"
        )
    if area_crs is None:
        raise ValueError("the study area has no CRS: pass crs=, e.g. crs='EPSG:27700'")
    metric = require_metric_crs(area_crs)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    invalid = ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid])
    geom = _polygonal(np.array([shapely.union_all(_polygonal(geoms))], dtype=object))[0]
    if geom.is_empty or geom.area <= 0:
        raise ValueError("the study area has no polygon with positive area")
    return geom, metric


def _lattice_range(lo: float, hi: float, o: float, side: float) -> np.ndarray:
    """Return lattice indices of all cells that may overlap [lo, hi] (one spare each side)."""
    first = math.floor((lo - o) / side) - 1
    stop = math.ceil((hi - o) / side) + 1
    return np.arange(first, max(stop, first + 1), dtype=np.int64)


def make_grid(
    area: gpd.GeoSeries | gpd.GeoDataFrame | BaseGeometry,
    cell_area_km2: float = 1.0,
    origin: tuple[float, float] = (0.0, 0.0),
    min_overlap_share: float = 0.0,
    *,
    crs: str | int | pyproj.CRS | None = None,
) -> gpd.GeoDataFrame:
    """Cover a study area with square cells on a fixed lattice, clipped to the area.

    Cell edges lie at ``origin + i * side`` with ``side = sqrt(cell_area_km2) * 1000``
    metres, so a cell's id, column and row do not depend on the study area: two
    grids with the same cell size and origin agree wherever they overlap.

    Parameters
    ----------
    area : GeoSeries, GeoDataFrame or shapely (Multi)Polygon
        The study area; all polygons are dissolved into one (invalid ones are
        repaired with ``make_valid``). Its CRS must be metric.
    cell_area_km2 : float, default 1.0
        Area of a full square cell in km².
    origin : tuple of float, default (0.0, 0.0)
        A lattice corner, in CRS units (metres).
    min_overlap_share : float, default 0.0
        Drop cells whose clipped area is less than this share of a full cell.
        With 0 every cell overlapping the area with positive area is kept.
    crs : str, int or pyproj.CRS, optional
        CRS of ``area`` when it is a bare shapely geometry (or a GeoSeries
        without a CRS). Must agree with the area's own CRS if it has one.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell, sorted by ``row`` then ``col`` (south to north, west to
        east), with a RangeIndex and columns ``unit_id`` (``"g{side}_{col}_{row}"``
        with the side in whole metres), ``col``, ``row`` (lattice indices),
        ``area_km2`` (clipped area), ``full_area_km2``, ``cx``, ``cy`` (centre of
        the full square) and ``geometry`` (the cell clipped to the area).
        ``attrs["grid"]`` holds ``side``, ``origin``, ``cell_area_km2`` and ``crs``.

    Raises
    ------
    ValueError
        If ``cell_area_km2`` is not positive, ``min_overlap_share`` is outside
        [0, 1], the CRS is missing or not metric, or the area is empty.
    """
    if isinstance(cell_area_km2, bool) or not (
        isinstance(cell_area_km2, numbers.Real) and math.isfinite(cell_area_km2)
    ):
        raise ValueError(f"cell_area_km2 must be a finite number, got {cell_area_km2!r}")
    if cell_area_km2 <= 0:
        raise ValueError(f"cell_area_km2 must be positive, got {cell_area_km2}")
    if not 0.0 <= min_overlap_share <= 1.0:
        raise ValueError(f"min_overlap_share must be between 0 and 1, got {min_overlap_share}")
    ox, oy = (float(v) for v in origin)
    if not (math.isfinite(ox) and math.isfinite(oy)):
        raise ValueError(f"origin must be two finite numbers, got {origin!r}")
    geom, metric = _study_area(area, crs)

    side = math.sqrt(cell_area_km2) * 1000.0
    full_m2 = side * side
    minx, miny, maxx, maxy = geom.bounds
    cols = _lattice_range(minx, maxx, ox, side)
    rows = _lattice_range(miny, maxy, oy, side)
    shapely.prepare(geom)

    kept_cols: list[np.ndarray] = []
    kept_rows: list[np.ndarray] = []
    kept_geoms: list[np.ndarray] = []
    rows_per_chunk = max(1, _CHUNK_CELLS // len(cols))
    for start in range(0, len(rows), rows_per_chunk):
        cc, rr = np.meshgrid(cols, rows[start : start + rows_per_chunk])
        cc, rr = cc.ravel(), rr.ravel()
        x0 = ox + cc * side
        y0 = oy + rr * side
        boxes = shapely.box(x0, y0, ox + (cc + 1) * side, oy + (rr + 1) * side)
        hit = shapely.intersects(geom, boxes)
        cc, rr, boxes = cc[hit], rr[hit], boxes[hit]
        inside = shapely.contains(geom, boxes)
        clipped = boxes.copy()
        clipped[~inside] = _polygonal(shapely.intersection(boxes[~inside], geom))
        kept_cols.append(cc)
        kept_rows.append(rr)
        kept_geoms.append(clipped)

    cc = np.concatenate(kept_cols)
    rr = np.concatenate(kept_rows)
    geoms = np.concatenate(kept_geoms)
    areas = shapely.area(geoms)
    keep = areas > 0
    if min_overlap_share > 0:
        keep &= areas / full_m2 >= min_overlap_share * (1.0 - 1e-12)
    cc, rr, geoms, areas = cc[keep], rr[keep], geoms[keep], areas[keep]

    side_m = round(side)
    unit_id = (
        f"g{side_m}_"
        + pd.Series(cc, dtype="int64").astype(str)
        + "_"
        + pd.Series(rr, dtype="int64").astype(str)
    )
    grid = gpd.GeoDataFrame(
        {
            "unit_id": unit_id.to_numpy(dtype=object),
            "col": cc,
            "row": rr,
            "area_km2": areas / 1e6,
            "full_area_km2": np.full(len(cc), full_m2 / 1e6),
            "cx": ox + (cc + 0.5) * side,
            "cy": oy + (rr + 0.5) * side,
        },
        geometry=gpd.GeoSeries(geoms, crs=metric),
        crs=metric,
    )
    grid = grid.sort_values(["row", "col"], kind="stable").reset_index(drop=True)
    grid.attrs["grid"] = {
        "side": side,
        "origin": (ox, oy),
        "cell_area_km2": float(cell_area_km2),
        "crs": metric.srs,
    }
    return grid


def polygon_units(gdf: gpd.GeoDataFrame, id_col: str) -> gpd.GeoDataFrame:
    """Standardise arbitrary polygons (e.g. LSOAs) into the unit schema.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Polygons in a metric CRS, one row per unit.
    id_col : str
        Column holding the unique unit identifiers (converted to strings).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``unit_id``, ``area_km2``, ``cx``, ``cy`` (a representative
        point, guaranteed to lie inside the polygon) and ``geometry``, in input
        order with a RangeIndex. Invalid geometries are repaired with
        ``make_valid`` (keeping their polygonal parts).

    Raises
    ------
    ValueError
        If the CRS is missing or not metric, ``id_col`` is absent, ids are
        missing or duplicated (duplicates are named), or a geometry is missing,
        empty or not polygonal.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ValueError(f"gdf must be a GeoDataFrame, got {type(gdf).__name__}")
    metric = require_metric_crs(gdf.crs)
    if id_col not in gdf.columns:
        raise ValueError(f"id column {id_col!r} not found; columns are {list(gdf.columns)}")
    raw_ids = gdf[id_col]
    if raw_ids.isna().any():
        raise ValueError(f"{int(raw_ids.isna().sum())} unit(s) have no {id_col}")
    ids = raw_ids.astype(str).to_numpy(dtype=object)
    dup = pd.Index(ids)[pd.Index(ids).duplicated()].unique()
    if len(dup):
        shown = ", ".join(map(str, dup[:10])) + (" ..." if len(dup) > 10 else "")
        raise ValueError(f"{len(dup)} duplicated unit id(s) in {id_col!r}: {shown}")
    geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        raise ValueError(f"units with missing or empty geometry: {_name(ids[bad])}")
    invalid = ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid])
    geoms = _polygonal(geoms)
    areas = shapely.area(geoms)
    if (areas <= 0).any():
        raise ValueError(
            f"units that are not polygons with positive area: {_name(ids[areas <= 0])}"
        )
    rep = shapely.point_on_surface(geoms)
    return gpd.GeoDataFrame(
        {
            "unit_id": ids,
            "area_km2": areas / 1e6,
            "cx": shapely.get_x(rep),
            "cy": shapely.get_y(rep),
        },
        geometry=gpd.GeoSeries(geoms, crs=metric),
        crs=metric,
    )


def _name(ids: np.ndarray, limit: int = 10) -> str:
    """Format up to ``limit`` ids for an error message."""
    shown = ", ".join(map(str, ids[:limit]))
    return shown + (f" ... ({len(ids)} in all)" if len(ids) > limit else "")


def _grid_spec(units: gpd.GeoDataFrame) -> tuple[float, float, float] | None:
    """Return ``(side, ox, oy)`` if ``units`` is a lattice grid from make_grid, else None."""
    spec: Any = units.attrs.get("grid")
    if not isinstance(spec, dict) or not {"col", "row"} <= set(units.columns):
        return None
    try:
        side = float(spec["side"])
        ox, oy = (float(v) for v in spec["origin"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (side > 0 and math.isfinite(ox) and math.isfinite(oy)):
        return None
    if "crs" in spec and (units.crs is None or pyproj.CRS(spec["crs"]) != units.crs):
        return None  # reprojected since make_grid: the lattice no longer applies
    return side, ox, oy


def _lattice_index(v: np.ndarray, o: float, side: float) -> np.ndarray:
    """Floor rule ``floor((v - o) / side)``, made consistent with cell edges ``o + i * side``."""
    idx = np.floor((v - o) / side)
    idx += o + (idx + 1) * side <= v  # rounding put v below an edge it is on or above
    idx -= o + idx * side > v  # rounding put v at or above an edge it is below
    return idx.astype(np.int64)


def _join(
    x: np.ndarray, y: np.ndarray, units: gpd.GeoDataFrame, predicates: tuple[str, ...]
) -> np.ndarray:
    """Return per point the position of the first unit matched by the first successful predicate.

    Unmatched points get -1.
    """
    result = np.full(len(x), -1, dtype=np.int64)
    if len(x) == 0 or len(units) == 0:
        return result
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=units.crs)
    right = gpd.GeoDataFrame(
        {"_pos": np.arange(len(units), dtype=np.int64)},
        geometry=np.asarray(units.geometry.values),
        crs=units.crs,
    )
    for predicate in predicates:
        todo = result < 0
        if not todo.any():
            break
        joined = gpd.sjoin(points[todo], right, how="inner", predicate=predicate)
        first = joined.groupby(level=0)["_pos"].min()
        result[first.index.to_numpy(dtype=np.int64)] = first.to_numpy(dtype=np.int64)
    return result


def assign_points(
    x: Any,
    y: Any,
    units: gpd.GeoDataFrame,
    *,
    crs: str | int | pyproj.CRS | None = None,
) -> np.ndarray:
    """Return the id of the unit each point falls in.

    For grids made by :func:`make_grid` (recognised by ``attrs["grid"]`` and the
    ``col``/``row`` columns) the cell is found by lattice arithmetic: column
    ``floor((x - ox) / side)`` and likewise for the row, so a point exactly on an
    edge shared by two cells goes to the cell east of (or north of) that edge.
    The point must then be covered by that cell's clipped geometry (boundary
    included). Points this misses — e.g. on the outer boundary of the study area
    where the floor-rule cell does not exist — fall back to the spatial rule
    below with ``intersects``, so points on the area's outer boundary count as
    inside.

    For any other polygon units a spatial join is used: first ``within`` (strict
    interior), then ``intersects`` for points left over (points on a unit
    boundary). Where several units match, the first in ``units`` order wins.

    Parameters
    ----------
    x, y : array-like of float
        Point coordinates, 1-D and the same length. NaN means missing.
    units : geopandas.GeoDataFrame
        Units with a ``unit_id`` column (from :func:`make_grid` or
        :func:`polygon_units`).
    crs : str, int or pyproj.CRS, optional
        CRS of ``x``/``y`` when it differs from ``units.crs``; points are then
        reprojected. By default they are taken to be in ``units.crs``.

    Returns
    -------
    numpy.ndarray of object
        Unit id strings, with None for missing coordinates and points outside
        every unit.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` differ in shape or are not 1-D, ``units`` lacks
        ``unit_id``, or ``crs`` is given but ``units`` has no CRS.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError(
            f"x and y must be 1-D of equal length, got shapes {xa.shape} and {ya.shape}"
        )
    if "unit_id" not in units.columns:
        raise ValueError(f"units need a 'unit_id' column; columns are {list(units.columns)}")
    if crs is not None:
        if units.crs is None:
            raise ValueError("crs was given for the points but units have no CRS")
        xa, ya = to_crs_xy(xa, ya, crs, units.crs)

    ids = units["unit_id"].astype(str).to_numpy(dtype=object)
    out = np.full(len(xa), None, dtype=object)
    ok = np.flatnonzero(np.isfinite(xa) & np.isfinite(ya))
    px, py = xa[ok], ya[ok]
    pos = np.full(len(ok), -1, dtype=np.int64)

    spec = _grid_spec(units)
    if spec is not None:
        side, ox, oy = spec
        lattice = pd.MultiIndex.from_arrays(
            [units["col"].to_numpy(dtype=np.int64), units["row"].to_numpy(dtype=np.int64)]
        )
        if lattice.is_unique:
            cand = lattice.get_indexer(
                pd.MultiIndex.from_arrays(
                    [_lattice_index(px, ox, side), _lattice_index(py, oy, side)]
                )
            )
            found = np.flatnonzero(cand >= 0)
            geoms = np.asarray(units.geometry.values, dtype=object)
            covered = shapely.covers(geoms[cand[found]], shapely.points(px[found], py[found]))
            pos[found[covered]] = cand[found[covered]]
            predicates: tuple[str, ...] = ("intersects",)
        else:
            predicates = ("within", "intersects")
    else:
        predicates = ("within", "intersects")

    todo = np.flatnonzero(pos < 0)
    pos[todo] = _join(px[todo], py[todo], units, predicates)
    hit = pos >= 0
    out[ok[hit]] = ids[pos[hit]]
    return out
