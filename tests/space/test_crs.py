import numpy as np
import pyproj
import pytest

from analysis.space import BNG, WGS84, require_metric_crs, to_crs_xy


@pytest.mark.parametrize("crs", [BNG, 27700, pyproj.CRS(BNG), "EPSG:3857", "EPSG:7405"])
def test_metric_crs_accepted(crs):
    got = require_metric_crs(crs)
    assert isinstance(got, pyproj.CRS)


def test_bng_round_trips():
    assert require_metric_crs(27700).to_epsg() == 27700


def test_degree_crs_refused():
    with pytest.raises(ValueError, match=r"'degree', not the metre.*EPSG:27700"):
        require_metric_crs(WGS84)


def test_feet_crs_refused():
    with pytest.raises(ValueError, match="not the metre"):
        require_metric_crs("EPSG:2263")  # New York State Plane, US survey feet


@pytest.mark.parametrize("bad", ["EPSG:99999999", "not a crs"])
def test_unknown_crs(bad):
    with pytest.raises(ValueError, match="unknown"):
        require_metric_crs(bad)


def test_missing_crs():
    with pytest.raises(ValueError, match="missing"):
        require_metric_crs(None)


def test_to_crs_xy_true_origin():
    # The BNG true origin 49N 2W (on the OSGB36 datum) is at E 400000, N -100000.
    x, y = to_crs_xy([-2.0], [49.0], "EPSG:4277", BNG)
    np.testing.assert_allclose(x, [400_000.0], atol=1e-3)
    np.testing.assert_allclose(y, [-100_000.0], atol=1e-3)


def test_to_crs_xy_always_xy_nan_and_round_trip():
    ex = np.array([530_000.0, np.nan, 400_000.0])
    ny = np.array([180_000.0, 200_000.0, np.nan])
    lon, lat = to_crs_xy(ex, ny, BNG, WGS84)
    assert -0.2 < lon[0] < 0.0 and 51.4 < lat[0] < 51.6  # central London, lon first
    assert np.isnan(lon[1:]).all() and np.isnan(lat[1:]).all()
    bx, by = to_crs_xy(lon, lat, WGS84, BNG)
    np.testing.assert_allclose(bx[0], ex[0], atol=0.01)
    np.testing.assert_allclose(by[0], ny[0], atol=0.01)


def test_to_crs_xy_same_crs_copies_and_shape_check():
    x = np.array([1.0, 2.0])
    tx, _ = to_crs_xy(x, x, BNG, 27700)
    tx[0] = 99.0
    assert x[0] == 1.0
    with pytest.raises(ValueError, match="shape"):
        to_crs_xy([1.0, 2.0], [1.0], BNG, WGS84)
