import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geometries_from_wgs84,
    geometries_to_wgs84,
    parse_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.errors import CRSError

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def reference_gcj02(lon, lat):
    """The published formula, transcribed as plain scalar Python, independent of geo.crs."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (a / sq * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def reference_bd09(lon, lat):
    x_pi = math.pi * 3000.0 / 180.0
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


@pytest.mark.parametrize(
    ("lon", "lat"), [(121.4737, 31.2304), (121.540039, 31.299711), (116.397428, 39.90923)]
)
def test_forward_matches_the_published_formula(lon, lat):
    assert wgs84_to_gcj02(lon, lat) == pytest.approx(reference_gcj02(lon, lat), abs=1e-12)
    assert wgs84_to_bd09(lon, lat) == pytest.approx(
        reference_bd09(*reference_gcj02(lon, lat)), abs=1e-12
    )


# Pairs published by other converters' test suites (wandergis/coordtransform, as used by
# hutool; geotool's Shanghai point): what Gaode and Baidu tools compute for these inputs.
PUBLISHED = [
    # (WGS-84), (GCJ-02), (BD-09)
    ((121.0917077, 30.6107779), (121.09626935575027, 30.608604331756705),
     (121.10271732371203, 30.61484572185035)),
]  # fmt: skip
PUBLISHED_GCJ = [((116.404, 39.915), (116.41024449916938, 39.91640428150164))]
PUBLISHED_BD = [((116.404, 39.915), (116.41036949371029, 39.92133699351021))]  # from GCJ-02


@pytest.mark.parametrize(("wgs", "gcj", "bd"), PUBLISHED)
def test_published_pairs_both_ways(wgs, gcj, bd):
    # that tool's variant of the formula differs from ours by 8e-8° (under a centimetre)
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-7)
    assert wgs84_to_bd09(*wgs) == pytest.approx(bd, abs=1e-7)
    # back by iteration, to within that centimetre (the one-step inverse is 0.1–0.2 m off)
    assert metres(*gcj02_to_wgs84(*gcj), *wgs) < 0.01
    assert metres(*bd09_to_wgs84(*bd), *wgs) < 0.01


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED_GCJ)
def test_published_gcj02_pair(wgs, gcj):
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    assert metres(*gcj02_to_wgs84(*gcj), *wgs) < 0.001


@pytest.mark.parametrize(("gcj", "bd"), PUBLISHED_BD)
def test_published_bd09_pair(gcj, bd):
    assert gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=1e-9)


def test_known_shanghai_offsets():
    # 长白社区卫生服务中心 (松花江路15号): Gaode shows it ~0.0045° east and ~0.002° south.
    lon, lat = 121.540039, 31.299711
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert 0.0040 < glon - lon < 0.0050
    assert -0.0025 < glat - lat < -0.0015
    assert 400 < metres(lon, lat, glon, glat) < 600
    blon, blat = gcj02_to_bd09(glon, glat)
    assert 0.006 < blon - glon < 0.0075 and 0.005 < blat - glat < 0.0075


shanghai_lon = st.floats(120.85, 122.2)
shanghai_lat = st.floats(30.67, 31.88)


@settings(max_examples=300, deadline=None)
@given(shanghai_lon, shanghai_lat)
def test_round_trips_within_half_a_metre(lon, lat):
    for forward, inverse in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        back = inverse(*forward(lon, lat))
        assert metres(lon, lat, *back) < 0.5
        # and the inverse is a true inverse of the forward transform
        again = forward(*inverse(lon, lat))
        assert again == pytest.approx((lon, lat), abs=1e-9)


def test_inverse_beats_the_one_step_approximation():
    glon, glat = 121.5, 31.3
    one_step = 2 * glon - wgs84_to_gcj02(glon, glat)[0], 2 * glat - wgs84_to_gcj02(glon, glat)[1]
    exact = gcj02_to_wgs84(glon, glat)
    assert metres(*wgs84_to_gcj02(*exact), glon, glat) < 1e-3
    assert metres(*wgs84_to_gcj02(*one_step), glon, glat) > metres(
        *wgs84_to_gcj02(*exact), glon, glat
    )


def test_vectorised_on_a_grid():
    lon, lat = np.meshgrid(np.linspace(120.85, 122.2, 50), np.linspace(30.67, 31.88, 50))
    back = bd09_to_wgs84(*wgs84_to_bd09(lon.ravel(), lat.ravel()))
    assert np.max(metres(lon.ravel(), lat.ravel(), *back)) < 1e-3


@pytest.mark.parametrize(("lon", "lat"), [(24.94, 60.17), (-0.1276, 51.5072), (139.69, 35.68)])
def test_outside_china_passes_through(lon, lat):
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, wgs84_to_bd09, bd09_to_wgs84, bd09_to_gcj02):
        assert func(lon, lat) == (lon, lat)


def test_dispatch_by_name_and_epsg():
    assert parse_crs("GCJ-02") == "gcj02" and parse_crs("baidu") == "bd09"
    assert parse_crs("cgcs2000") == parse_crs("EPSG:4490") == "wgs84"
    assert to_wgs84(121.5, 31.3, "EPSG:4490") == (121.5, 31.3)
    x, y = from_wgs84(121.5, 31.3, "epsg:32651")
    assert 340_000 < x < 360_000 and 3_460_000 < y < 3_470_000
    assert to_wgs84(x, y, "EPSG:32651") == pytest.approx((121.5, 31.3), abs=1e-9)
    assert to_wgs84(*wgs84_to_gcj02(121.5, 31.3), "gaode") == pytest.approx((121.5, 31.3))


def test_unknown_crs_names_the_choices():
    with pytest.raises(CRSError, match="gcj02") as info:
        parse_crs("mars-coordinates")
    assert isinstance(info.value, ValueError)


def test_geometries_keep_structure_and_move_every_coordinate():
    polygon = shapely.Polygon(
        [(121.5, 31.3), (121.51, 31.3), (121.51, 31.31), (121.5, 31.31)],
        holes=[[(121.502, 31.302), (121.504, 31.302), (121.504, 31.304)]],
    )
    points = shapely.MultiPoint([(121.5, 31.3), (121.6, 31.2)])
    moved = geometries_from_wgs84([polygon, points], "gcj02")
    assert len(moved[0].interiors) == 1 and len(moved[1].geoms) == 2
    before = shapely.get_coordinates(polygon)
    after = shapely.get_coordinates(moved[0])
    assert np.all(np.abs(after - before) > 1e-3)
    back = geometries_to_wgs84(moved, "gcj02")
    assert np.allclose(shapely.get_coordinates(back[0]), before, atol=1e-9)
