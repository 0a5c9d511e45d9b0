"""Walks start on a piece of the network that leads somewhere, per facility type.

Hand-drawn (metres in UTM 51N from geo.testing's origin): the main streets A and B, and a
100 m street D drawn 60 m north of A, joined to nothing.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.analysis.study import NO_PATH, Study
from geo.network.lines import from_lines
from geo.testing import X0, Y0, facility_frame, lonlat


def _study(extra_street: list[tuple[float, float]]) -> Study:
    streets = gpd.GeoDataFrame(
        {"name": ["A", "B", "D"]},
        geometry=[
            shapely.LineString([(X0, Y0), (X0 + 1000, Y0)]),
            shapely.LineString([(X0 + 1000, Y0), (X0 + 1000, Y0 + 800)]),
            shapely.LineString([(X0 + x, Y0 + y) for x, y in extra_street]),
        ],
        crs="EPSG:32651",
    )
    layers = {
        "residential_areas": gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
        "clinics": facility_frame([("c1", "卫生站", 350, 62)]),  # on the fragment D
        "neighbor_centers": facility_frame([]),
        "charging_points": facility_frame([("p1", "车棚", 350, 0)]),  # on A
        "renovation_projects": gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
    }
    return Study(layers, from_lines(streets))


def test_a_fragment_holding_a_clinic_is_no_start_for_a_walk_to_a_charger() -> None:
    study = _study([(300, 60), (400, 60)])
    point = lonlat(350, 55)  # 5 m below D, 55 m above A
    # to the clinic: D holds it, so the walk starts on D: 5 m + 2 m off D
    clinic = study.nearest(point, "clinics")
    assert clinic.loc[0, "walk_m"] == pytest.approx(7.0, abs=0.05)
    # to the charger: D leads to none, so the walk starts on A, 55 m away
    charger = study.nearest(point, "charging_points")
    assert charger.loc[0, "walk_m"] == pytest.approx(55.0, abs=0.05)
    assert charger.loc[0, "facility_id"] == "p1"


def test_a_long_piece_without_the_facility_says_none_can_be_reached() -> None:
    study = _study([(0, 2000), (700, 2000)])  # 700 m: a piece of its own, not a fragment
    near = study.nearest(lonlat(350, 2010), "charging_points", k=2)
    assert near.loc[0, "reason"] == NO_PATH
    assert "fewer facilities than k" in near.loc[1, "reason"]  # only one charger exists
