"""Move area-level covariates (population, deprivation) from source polygons onto units."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analysis.space.crs import require_metric_crs

_SRC = "__source_pos"
_TGT = "__target_pos"


def _check_columns(frame: pd.DataFrame, names: Sequence[str], what: str) -> None:
    """Raise a ValueError unless every name is a numeric column of ``frame``."""
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} column(s) not in source: {missing}")
    not_numeric = [c for c in names if not pd.api.types.is_numeric_dtype(frame[c])]
    if not_numeric:
        raise ValueError(f"{what} column(s) are not numeric: {not_numeric}")


def areal_interpolate(
    source: gpd.GeoDataFrame,
    target: gpd.GeoDataFrame,
    extensive: Sequence[str] = (),
    intensive: Sequence[str] = (),
    target_id: str = "unit_id",
) -> pd.DataFrame:
    """Area-weighted interpolation of source-polygon variables onto target units.

    Assumes each variable is spread uniformly over its source polygon (uniform
    density) and that source polygons do not overlap one another. Let ``a_st`` be
    the area of source ``s`` inside target ``t`` and ``A_s`` the area of source
    ``s``:

    * extensive variables (counts, e.g. population) are split in proportion to
      area: ``sum_s v_s * a_st / A_s``. Source counts outside every target are
      not assigned. A missing source value makes the targets it touches missing.
    * intensive variables (rates, scores, ranks, e.g. IMD) are area-weighted
      means over the covered part of the target: ``sum_s v_s * a_st / sum_s a_st``
      over the sources with a non-missing value.

    Parameters
    ----------
    source : geopandas.GeoDataFrame
        Polygons carrying the variables; must be in a metric CRS.
    target : geopandas.GeoDataFrame
        Units to receive the values; reprojected to the source CRS if needed.
    extensive : sequence of str, default ()
        Numeric source columns to split by area.
    intensive : sequence of str, default ()
        Numeric source columns to average by area.
    target_id : str, default "unit_id"
        Column of unique target ids.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``target_id`` in target order, with the extensive columns,
        the intensive columns and ``covered_share`` (share of the target's area
        covered by source polygons, 0 to 1). Targets with no overlap get 0 for
        extensive variables and NaN for intensive ones.

    Raises
    ------
    ValueError
        If a CRS is missing or the source CRS is not metric, columns are missing,
        non-numeric or listed as both kinds, or target ids are missing or
        duplicated.
    """
    extensive, intensive = list(extensive), list(intensive)
    both = sorted(set(extensive) & set(intensive))
    if both:
        raise ValueError(f"column(s) listed as both extensive and intensive: {both}")
    if len(set(extensive)) != len(extensive) or len(set(intensive)) != len(intensive):
        raise ValueError("a column is listed more than once")
    _check_columns(source, extensive, "extensive")
    _check_columns(source, intensive, "intensive")
    if target_id not in target.columns:
        raise ValueError(f"target id column {target_id!r} not found in target")
    ids = target[target_id]
    if ids.isna().any() or ids.duplicated().any():
        dup = ids[ids.duplicated()].unique()[:10].tolist()
        raise ValueError(
            f"target ids in {target_id!r} must be present and unique "
            f"({int(ids.isna().sum())} missing; duplicated: {dup})"
        )
    if source.crs is None or target.crs is None:
        raise ValueError("source and target must both have a CRS (e.g. EPSG:27700)")
    crs = require_metric_crs(source.crs)
    if target.crs != crs:
        target = target.to_crs(crs)

    src_geoms = np.asarray(source.geometry.values, dtype=object)
    src_area = shapely.area(src_geoms)
    usable = np.flatnonzero(~shapely.is_missing(src_geoms) & (src_area > 0))
    tgt_geoms = np.asarray(target.geometry.values, dtype=object)
    tgt_area = shapely.area(tgt_geoms)

    left = gpd.GeoDataFrame({_SRC: usable}, geometry=src_geoms[usable], crs=crs)
    right = gpd.GeoDataFrame(
        {_TGT: np.arange(len(target), dtype=np.int64)}, geometry=tgt_geoms, crs=crs
    )
    pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    s = pieces[_SRC].to_numpy(dtype=np.int64)
    t = pieces[_TGT].to_numpy(dtype=np.int64)
    a = pieces.geometry.area.to_numpy(dtype=float)
    n = len(target)

    covered = np.bincount(t, weights=a, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(tgt_area > 0, np.minimum(covered / tgt_area, 1.0), np.nan)

    out: dict[str, np.ndarray] = {}
    for col in extensive:
        v = source[col].to_numpy(dtype=float)[s]
        out[col] = np.bincount(t, weights=v * a / src_area[s], minlength=n)
    for col in intensive:
        v = source[col].to_numpy(dtype=float)[s]
        has = ~np.isnan(v)
        num = np.bincount(t[has], weights=v[has] * a[has], minlength=n)
        den = np.bincount(t[has], weights=a[has], minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[col] = np.where(den > 0, num / den, np.nan)
    out["covered_share"] = share
    return pd.DataFrame(out, index=pd.Index(ids.to_numpy(), name=target_id))
