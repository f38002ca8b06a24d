"""Birmingham's real LSOA 2021 geography with Census 2021 population and IMD 2019 deprivation."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal.weights import Queen

from analysis.data.coordinates import BNG


def _reference(name: str) -> Path:
    return Path(str(resources.files("analysis.synthetic") / "reference" / name))


def birmingham_lsoas() -> gpd.GeoDataFrame:
    """Return Birmingham's 659 LSOAs (2021) in British National Grid with covariates.

    Returns
    -------
    geopandas.GeoDataFrame
        Sorted by ``lsoa21cd``; columns ``lsoa21cd``, ``lsoa21nm``, ``population`` (Census
        2021 usual residents), ``imd_rank`` (IMD 2019, 1 = most deprived in England),
        ``imd_imputed`` (True where the 2021 code had no 2019 row and the rank was
        imputed from neighbours), ``area_km2`` and ``geometry`` (EPSG:27700).

    Notes
    -----
    Imputation: an LSOA without an IMD 2019 rank takes the mean rank of its
    queen-contiguous neighbours that have one, repeated until all have a value (the 2011
    parent areas are not in the shipped data, so neighbours stand in for them).
    """
    lsoa = gpd.read_file(_reference("birmingham_lsoa21_boundaries.geojson")).to_crs(BNG)
    pop = pd.read_csv(_reference("birmingham_census2021_population_lsoa21.csv"))
    imd = pd.read_csv(_reference("birmingham_imd2019_lsoa11.csv"))
    lsoa = lsoa.sort_values("lsoa21cd").reset_index(drop=True)
    lsoa["population"] = lsoa["lsoa21cd"].map(pop.set_index("lsoa21cd")["usual_residents"])
    if lsoa["population"].isna().any():
        missing = lsoa.loc[lsoa["population"].isna(), "lsoa21cd"].tolist()
        raise ValueError(f"LSOAs without Census 2021 population: {missing[:5]}")
    lsoa["population"] = lsoa["population"].astype(int)
    rank = lsoa["lsoa21cd"].map(imd.set_index("lsoa11_code")["imd_rank"]).astype(float)
    lsoa["imd_imputed"] = rank.isna()
    w = Queen.from_dataframe(lsoa, use_index=False, silence_warnings=True)
    values = rank.to_numpy().copy()
    for _ in range(20):
        missing = np.flatnonzero(np.isnan(values))
        if not len(missing):
            break
        update = values.copy()
        for i in missing:
            neigh = [values[j] for j in w.neighbors[i] if not np.isnan(values[j])]
            if neigh:
                update[i] = float(np.mean(neigh))
        values = update
    if np.isnan(values).any():
        raise ValueError("IMD imputation left LSOAs without a rank (isolated areas)")
    lsoa["imd_rank"] = np.round(values).astype(int)
    lsoa["area_km2"] = lsoa.geometry.area / 1e6
    cols = ["lsoa21cd", "lsoa21nm", "population", "imd_rank", "imd_imputed", "area_km2"]
    return lsoa[[*cols, "geometry"]]


def deprivation_score(imd_rank: pd.Series | np.ndarray) -> np.ndarray:
    """Standardised deprivation score: higher is more deprived (from the IMD rank)."""
    r = -np.log(np.asarray(imd_rank, dtype=float))
    return (r - r.mean()) / r.std()


def lom_units(lsoa: gpd.GeoDataFrame) -> pd.Series:
    """Assign each LSOA to a synthetic local offender-management unit.

    Birmingham is split into five units by the position of each LSOA's representative
    point relative to the city centre: Central (within 3 km), and North, East, South and
    West by compass quadrant. A force supplies its real LSOA-to-unit table instead.

    Returns
    -------
    pandas.Series
        Unit name per LSOA, indexed like ``lsoa``.
    """
    centre = np.array([406_900.0, 286_900.0])  # Birmingham city centre, BNG metres
    pts = lsoa.geometry.representative_point()
    dx, dy = pts.x.to_numpy() - centre[0], pts.y.to_numpy() - centre[1]
    angle = np.degrees(np.arctan2(dy, dx)) % 360
    quadrant = np.select(
        [
            (angle >= 45) & (angle < 135),
            (angle >= 135) & (angle < 225),
            (angle >= 225) & (angle < 315),
        ],
        ["North", "West", "South"],
        default="East",
    )
    unit = np.where(np.hypot(dx, dy) < 3_000, "Central", quadrant)
    return pd.Series(unit, index=lsoa.index, name="lom_unit")
