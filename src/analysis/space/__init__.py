"""Space and time units for forecasting: grids, polygons, adjacency and the 4-week calendar.

Modules
-------
periods
    :class:`PeriodCalendar`, the 28-day period calendar, and :func:`event_date`.
crs
    CRS constants and checks (:func:`require_metric_crs`, :func:`to_crs_xy`).
grid
    Square grid cells on a fixed lattice (:func:`make_grid`), arbitrary polygon
    units (:func:`polygon_units`) and point-to-unit assignment (:func:`assign_points`).
adjacency
    Queen/rook contiguity with islands and components (:func:`build_adjacency`).
covariates
    Area-weighted interpolation of covariates onto units (:func:`areal_interpolate`).
"""

from analysis.space.adjacency import Adjacency, build_adjacency
from analysis.space.covariates import areal_interpolate
from analysis.space.crs import BNG, WGS84, parse_crs, require_metric_crs, to_crs_xy
from analysis.space.grid import assign_points, make_grid, polygon_units
from analysis.space.periods import (
    DEFAULT_ANCHOR,
    DEFAULT_PERIOD_DAYS,
    PeriodCalendar,
    event_date,
)

__all__ = [
    "BNG",
    "DEFAULT_ANCHOR",
    "DEFAULT_PERIOD_DAYS",
    "WGS84",
    "Adjacency",
    "PeriodCalendar",
    "areal_interpolate",
    "assign_points",
    "build_adjacency",
    "event_date",
    "make_grid",
    "parse_crs",
    "polygon_units",
    "require_metric_crs",
    "to_crs_xy",
]
