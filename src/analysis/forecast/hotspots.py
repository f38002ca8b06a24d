"""Hotspot baselines: retrospective kernel density and prospective mapping (ProMap).

Both say *where* crime is likeliest; the *how many* comes from the force-wide total
forecast (:func:`analysis.forecast.total.forecast_total`), spread over units in proportion
to each unit's integrated score.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from analysis.forecast.base import Forecaster
from analysis.forecast.panel import ForecastContext
from analysis.forecast.total import forecast_total


def unit_sample_points(units: gpd.GeoDataFrame, per_side: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Points spread over each unit, to integrate a surface over it.

    A ``per_side`` x ``per_side`` lattice over each unit's bounding box, kept where it falls
    inside the unit; a unit with no lattice point inside uses its representative point.

    Returns
    -------
    points : numpy.ndarray
        Shape (n_points, 2).
    owner : numpy.ndarray
        Unit index of each point.
    """
    geoms = units.geometry.to_numpy()
    b = shapely.bounds(geoms)
    f = (np.arange(per_side) + 0.5) / per_side
    fx, fy = np.meshgrid(f, f)
    px = b[:, [0]] + (b[:, [2]] - b[:, [0]]) * fx.ravel()[None, :]
    py = b[:, [1]] + (b[:, [3]] - b[:, [1]]) * fy.ravel()[None, :]
    owner = np.repeat(np.arange(len(units)), per_side * per_side)
    inside = shapely.contains_xy(np.repeat(geoms, per_side * per_side), px.ravel(), py.ravel())
    pts = np.column_stack([px.ravel()[inside], py.ravel()[inside]])
    owner = owner[inside]
    missing = np.setdiff1d(np.arange(len(units)), owner)
    if len(missing):
        rp = shapely.point_on_surface(geoms[missing])
        pts = np.vstack([pts, np.column_stack([shapely.get_x(rp), shapely.get_y(rp)])])
        owner = np.concatenate([owner, missing])
    return pts, owner


def _integrate(
    units: gpd.GeoDataFrame, value_at_points: np.ndarray, owner: np.ndarray
) -> np.ndarray:
    n = len(units)
    mean = np.bincount(owner, weights=value_at_points, minlength=n) / np.bincount(
        owner, minlength=n
    )
    return mean * units["area_km2"].to_numpy()


def _spread(score: np.ndarray, ctx: ForecastContext, total_periods: int) -> np.ndarray:
    total = forecast_total(
        ctx.counts.sum(axis=0), ctx.periods, ctx.origin, max_periods=total_periods
    )
    s = score.sum()
    if s <= 0:
        return np.full(ctx.n_units, total / ctx.n_units)
    return total * score / s


def _pairs_within(ev: pd.DataFrame, pts: np.ndarray, radius: float) -> np.ndarray:
    """Event-point pairs closer than ``radius``, zero distances included.

    Returns a structured array with ``i`` (event), ``j`` (point) and ``v`` (distance).
    """
    tree = cKDTree(ev[["x", "y"]].to_numpy())
    return tree.sparse_distance_matrix(cKDTree(pts), radius, output_type="ndarray")


def quartic_kernel(d: np.ndarray, h: float) -> np.ndarray:
    """Quartic (biweight) kernel in two dimensions: 3/(pi h^2) (1 - d^2/h^2)^2 for d < h."""
    u = np.clip(1 - (d / h) ** 2, 0, None)
    return 3 / (np.pi * h**2) * u**2


@dataclass
class KernelDensity(Forecaster):
    """Retrospective hotspot map: quartic kernel density of the past ``window_days`` of events.

    Attributes
    ----------
    bandwidth_m : float
        Kernel radius in metres.
    window_days : float
        Events this recent are used (default one year).
    """

    name: str = "kde"
    bandwidth_m: float = 1000.0
    window_days: float = 364.0
    total_periods: int = 78

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the density integrated over units, scaled to the forecast total."""
        ev = ctx.events.loc[ctx.events["t"] >= ctx.t0 - self.window_days]
        pts, owner = unit_sample_points(ctx.units)
        density = np.zeros(len(pts))
        if len(ev):
            pairs = _pairs_within(ev, pts, self.bandwidth_m)
            np.add.at(density, pairs["j"], quartic_kernel(pairs["v"], self.bandwidth_m))
        return _spread(_integrate(ctx.units, density, owner), ctx, self.total_periods)


@dataclass
class ProMap(Forecaster):
    """Prospective hotspot map (Bowers, Johnson and Pease 2004).

    Each recent event within ``bandwidth_m`` adds ``1 / ((1 + d) (1 + w))`` to a location,
    with ``d`` the distance in units of ``distance_unit_m`` and ``w`` the event's age in
    whole weeks; events older than ``window_days`` are ignored.
    """

    name: str = "promap"
    bandwidth_m: float = 1000.0
    distance_unit_m: float = 100.0
    window_days: float = 56.0
    total_periods: int = 78

    def predict_mean(self, ctx: ForecastContext) -> np.ndarray:
        """Return the ProMap score integrated over units, scaled to the forecast total."""
        ev = ctx.events.loc[ctx.events["t"] >= ctx.t0 - self.window_days]
        pts, owner = unit_sample_points(ctx.units)
        score = np.zeros(len(pts))
        if len(ev):
            weeks = np.floor((ctx.t0 - ev["t"].to_numpy()) / 7.0)
            pairs = _pairs_within(ev, pts, self.bandwidth_m)
            w = 1.0 / ((1.0 + pairs["v"] / self.distance_unit_m) * (1.0 + weeks[pairs["i"]]))
            np.add.at(score, pairs["j"], w)
        return _spread(_integrate(ctx.units, score, owner), ctx, self.total_periods)
