"""Coordinate reference systems: parse them, insist on metres, reproject points."""

from __future__ import annotations

import numpy as np
import pyproj

#: British National Grid (eastings/northings in metres).
BNG = "EPSG:27700"

#: WGS 84 longitude/latitude in degrees (police.uk coordinates).
WGS84 = "EPSG:4326"

_METRE_NAMES = frozenset({"metre", "meter", "metres", "meters", "m"})
_VERTICAL_DIRECTIONS = frozenset({"up", "down"})


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


def require_metric_crs(crs: str | int | pyproj.CRS | None) -> pyproj.CRS:
    """Return ``crs`` as a :class:`pyproj.CRS` after checking its horizontal unit is the metre.

    Parameters
    ----------
    crs : str, int or pyproj.CRS
        The CRS to check.

    Returns
    -------
    pyproj.CRS
        The parsed CRS.

    Raises
    ------
    ValueError
        If the CRS is missing or unknown, or any horizontal axis is not in
        metres (for example a geographic CRS in degrees).
    """
    parsed = parse_crs(crs)
    axes = [a for a in parsed.axis_info if a.direction.lower() not in _VERTICAL_DIRECTIONS]
    if not axes:
        raise ValueError(
            f"CRS {parsed.to_string()} has no horizontal axes; cell areas need a "
            "projected CRS in metres such as EPSG:27700"
        )
    for axis in axes:
        unit = axis.unit_name.lower()
        if unit not in _METRE_NAMES or not np.isclose(axis.unit_conversion_factor, 1.0):
            raise ValueError(
                f"CRS {parsed.to_string()} ({parsed.name}) is not metric: its axis unit "
                f"is {axis.unit_name!r}, not the metre; cell areas need a projected CRS "
                "in metres such as EPSG:27700"
            )
    return parsed


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
