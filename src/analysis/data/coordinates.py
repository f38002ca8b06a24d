"""Coordinates on load: parse, check plausibility, reproject, and test against the study area."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from analysis.data.checks import Quarantine, blank, parse_float, show
from analysis.data.errors import LoadError

#: British National Grid (eastings/northings in metres).
BNG = "EPSG:27700"

#: WGS 84 longitude/latitude in degrees (police.uk coordinates).
WGS84 = "EPSG:4326"

#: Plausible ranges for British National Grid coordinates (metres).
BNG_BOUNDS = {"easting": (0.0, 700_000.0), "northing": (0.0, 1_300_000.0)}


def parse_crs(crs: str | int | pyproj.CRS | None, *, what: str = "CRS") -> pyproj.CRS:
    """Return a :class:`pyproj.CRS` for any user input, or raise a clear ValueError.

    Parameters
    ----------
    crs : str, int or pyproj.CRS
        E.g. ``"EPSG:27700"``, ``27700`` or a CRS object.
    what : str, default "CRS"
        Description of the input, for error messages.

    Returns
    -------
    pyproj.CRS
        The parsed CRS.

    Raises
    ------
    ValueError
        If ``crs`` is None or not a CRS pyproj recognises.
    """
    if crs is None:
        raise ValueError(f"{what} is missing: set one, e.g. EPSG:27700 (British National Grid)")
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise ValueError(f"unknown {what} {crs!r}: give it as 'EPSG:N', e.g. 'EPSG:27700'") from exc


def to_crs_xy(
    x: np.ndarray,
    y: np.ndarray,
    src_crs: str | int | pyproj.CRS,
    dst_crs: str | int | pyproj.CRS,
) -> tuple[np.ndarray, np.ndarray]:
    """Reproject coordinate arrays between two CRSs.

    Coordinates are taken in (x, y) = (easting, northing) or (longitude,
    latitude) order whatever the CRS's official axis order (``always_xy=True``).

    Parameters
    ----------
    x, y : array-like of float
        Coordinates in ``src_crs``; same shape.
    src_crs, dst_crs : str, int or pyproj.CRS
        Source and destination CRS.

    Returns
    -------
    tuple of numpy.ndarray
        Float arrays ``(x, y)`` in ``dst_crs``. Missing (NaN) inputs and
        coordinates that cannot be transformed come back as NaN.

    Raises
    ------
    ValueError
        If a CRS is unknown or ``x`` and ``y`` have different shapes.
    """
    src, dst = parse_crs(src_crs, what="source CRS"), parse_crs(dst_crs, what="target CRS")
    xa = np.array(x, dtype=float, copy=True)
    ya = np.array(y, dtype=float, copy=True)
    if xa.shape != ya.shape:
        raise ValueError(f"x has shape {xa.shape} but y has shape {ya.shape}")
    if src == dst:
        return xa, ya
    transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    tx, ty = transformer.transform(xa, ya)
    tx = np.asarray(tx, dtype=float).reshape(xa.shape)
    ty = np.asarray(ty, dtype=float).reshape(ya.shape)
    bad = ~(np.isfinite(tx) & np.isfinite(ty))
    tx[bad] = np.nan
    ty[bad] = np.nan
    return tx, ty


def bounds_for(crs: pyproj.CRS) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Return plausible (x, y) ranges for a CRS: its area of use, or None if unknown."""
    if crs.is_geographic:
        return (-180.0, 180.0), (-90.0, 90.0)
    if crs.to_epsg() == 27700:
        return BNG_BOUNDS["easting"], BNG_BOUNDS["northing"]
    return None


def check_coordinates(
    q: Quarantine,
    raw_x: pd.Series,
    raw_y: pd.Series,
    names: tuple[str, str],
    crs: pyproj.CRS,
    *,
    required: bool = True,
    where: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a coordinate pair and quarantine missing, non-numeric or out-of-range values.

    Parameters
    ----------
    q : Quarantine
        Collector.
    raw_x, raw_y : pandas.Series
        Raw values.
    names : tuple of str
        Column names, for messages.
    crs : pyproj.CRS
        System the values are in (sets the plausible range).
    required : bool
        Whether empty values are a fault.
    where : numpy.ndarray of bool, optional
        Only these records are checked (and parsed); others get NaN.

    Returns
    -------
    tuple of numpy.ndarray
        Parsed x and y (NaN where quarantined or absent).
    """
    use = np.ones(len(raw_x), dtype=bool) if where is None else np.asarray(where, dtype=bool)
    x, y = parse_float(raw_x).where(use), parse_float(raw_y).where(use)
    for raw, parsed, name in ((raw_x, x, names[0]), (raw_y, y, names[1])):
        empty = blank(raw) & use
        if required:
            q.flag(empty, "missing_coordinates", name, f"{name} is empty")
        q.flag(
            use & ~empty & parsed.isna().to_numpy(),
            "invalid_coordinate",
            name,
            f"{name} " + show(raw) + " is not a finite number",
        )
    limits = bounds_for(crs)
    if limits is not None:
        for parsed, raw, name, (lo, hi) in (
            (x, raw_x, names[0], limits[0]),
            (y, raw_y, names[1], limits[1]),
        ):
            out = ((parsed < lo) | (parsed > hi)).fillna(False).to_numpy()
            q.flag(
                out,
                "coordinate_out_of_range",
                name,
                f"{name} " + show(raw) + f" is outside [{lo:g}, {hi:g}] for {crs.to_string()}",
            )
    return x.to_numpy(dtype=float), y.to_numpy(dtype=float)


def read_geo(path: str | Path) -> gpd.GeoDataFrame:
    """Read a geographic file (GeoJSON, GeoPackage, shapefile), naming it if it cannot be.

    Raises
    ------
    LoadError
        If the file cannot be read or holds no geometry (a CSV, say).
    """
    path = Path(path)
    try:
        frame = gpd.read_file(path)
    except Exception as exc:
        raise LoadError(
            path, f"cannot be read as a polygon file ({' '.join(str(exc).split())})"
        ) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LoadError(
            path,
            "not a polygon file (it holds no geometry): give the study area as GeoJSON, "
            "GeoPackage or a shapefile",
        )
    return frame


def load_area(path: str | Path, crs: str | pyproj.CRS) -> BaseGeometry:
    """Read a study-area polygon file and return its union in ``crs``.

    Raises
    ------
    LoadError
        If the file cannot be read, holds no polygon, or has no CRS.
    """
    path = Path(path)
    frame = read_geo(path)
    if frame.empty:
        raise LoadError(path, "holds no features")
    if frame.crs is None:
        raise LoadError(path, "has no coordinate reference system")
    polys = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        raise LoadError(path, "holds no polygons")
    return polys.to_crs(parse_crs(crs)).union_all()


def check_in_area(
    q: Quarantine,
    x: np.ndarray,
    y: np.ndarray,
    area: BaseGeometry | None,
    *,
    buffer_m: float = 0.0,
    column: str,
) -> None:
    """Quarantine points outside the study area (boundary points count as inside)."""
    if area is None:
        return
    zone = area.buffer(buffer_m) if buffer_m > 0 else area
    shapely.prepare(zone)
    finite = np.isfinite(x) & np.isfinite(y)
    inside = np.zeros(len(x), dtype=bool)
    if finite.any():
        pts = shapely.points(x[finite], y[finite])
        inside[finite] = shapely.covers(zone, pts)
    q.flag(finite & ~inside, "outside_study_area", column, "point lies outside the study area")
