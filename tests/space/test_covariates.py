import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import affinity

from analysis.space import BNG, WGS84, areal_interpolate

X0, Y0 = 400_000.0, 200_000.0  # somewhere in England, so WGS84 round trips make sense


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture()
def source():
    return gpd.GeoDataFrame(
        {"pop": [100.0, 300.0], "imd": [10.0, 40.0]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs=BNG,
    )


@pytest.fixture()
def target():
    return gpd.GeoDataFrame(
        {"unit_id": ["straddle", "corner", "away"]},
        geometry=[
            box(75, 0, 175, 100),  # 25% of source 1, 75% of source 2
            box(150, 50, 250, 150),  # a 50 x 50 corner of source 2
            box(1000, 1000, 1100, 1100),  # no overlap
        ],
        crs=BNG,
    )


def test_hand_computed(source, target):
    got = areal_interpolate(source, target, extensive=["pop"], intensive=["imd"])
    assert got.index.name == "unit_id"
    assert got.index.tolist() == ["straddle", "corner", "away"]
    assert list(got.columns) == ["pop", "imd", "covered_share"]
    # 100 * 0.25 + 300 * 0.75; 300 * 2500 / 10000
    np.testing.assert_allclose(got["pop"], [250.0, 75.0, 0.0])
    # (10 * 2500 + 40 * 7500) / 10000; only source 2 covers "corner"
    np.testing.assert_allclose(got["imd"].iloc[:2], [32.5, 40.0])
    assert np.isnan(got.loc["away", "imd"])
    np.testing.assert_allclose(got["covered_share"], [1.0, 0.25, 0.0])


def test_population_conserved_when_targets_cover_sources(source):
    halves = gpd.GeoDataFrame(
        {"unit_id": ["w", "e"]}, geometry=[box(-50, -50, 60, 150), box(60, -50, 250, 150)], crs=BNG
    )
    got = areal_interpolate(source, halves, extensive=["pop"])
    assert got["pop"].sum() == pytest.approx(400.0)
    assert got.loc["w", "pop"] == pytest.approx(60.0)


def test_target_reprojected(source, target):
    expected = areal_interpolate(source, target, extensive=["pop"], intensive=["imd"])
    got = areal_interpolate(source, target.to_crs(WGS84), extensive=["pop"], intensive=["imd"])
    # the BNG <-> WGS84 round trip moves vertices by well under a millimetre
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-4, atol=1e-4)


def test_missing_source_values(source, target):
    source.loc[0, "imd"] = np.nan
    source.loc[1, "pop"] = np.nan
    got = areal_interpolate(source, target, extensive=["pop"], intensive=["imd"])
    assert got.loc["straddle", "imd"] == pytest.approx(40.0)  # mean over sources with a value
    assert np.isnan(got.loc["straddle", "pop"])  # an unknown count makes the total unknown
    assert got.loc["away", "pop"] == 0.0


def test_shapes_not_aligned(source):
    rotated = gpd.GeoDataFrame(
        {"unit_id": ["diamond"]},
        geometry=[affinity.rotate(box(50, 0, 150, 100), 45, origin="centroid")],
        crs=BNG,
    )
    got = areal_interpolate(source, rotated, extensive=["pop"], intensive=["imd"])
    # The diamond (side 100 m, centre x = 100) is split equally between the sources;
    # its tips poke 50*sqrt(2) - 50 m above and below them: two triangles of area
    # (50*sqrt(2) - 50)**2 are uncovered, so covered_share = (2*sqrt(2) - 1) / 2.
    share = (2 * np.sqrt(2) - 1) / 2
    assert got.loc["diamond", "covered_share"] == pytest.approx(share)
    assert got.loc["diamond", "imd"] == pytest.approx(25.0)
    assert got.loc["diamond", "pop"] == pytest.approx(200.0 * share)


def test_errors(source, target):
    with pytest.raises(ValueError, match="both extensive and intensive"):
        areal_interpolate(source, target, extensive=["pop"], intensive=["pop"])
    with pytest.raises(ValueError, match="not in source"):
        areal_interpolate(source, target, extensive=["people"])
    with pytest.raises(ValueError, match="not numeric"):
        areal_interpolate(source.assign(name="x"), target, intensive=["name"])
    with pytest.raises(ValueError, match="unique"):
        areal_interpolate(source, target.assign(unit_id="same"), extensive=["pop"])
    with pytest.raises(ValueError, match="degree"):
        areal_interpolate(source.to_crs(WGS84), target, extensive=["pop"])
    with pytest.raises(ValueError, match="not found"):
        areal_interpolate(source, target, extensive=["pop"], target_id="code")
