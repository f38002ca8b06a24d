"""Coordinate reference systems: parse them, insist on metres, reproject points."""

from __future__ import annotations

import numpy as np
import pyproj

from analysis.data.coordinates import BNG, WGS84, parse_crs, to_crs_xy

__all__ = ["BNG", "WGS84", "parse_crs", "require_metric_crs", "to_crs_xy"]

_METRE_NAMES = frozenset({"metre", "meter", "metres", "meters", "m"})
_VERTICAL_DIRECTIONS = frozenset({"up", "down"})


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
