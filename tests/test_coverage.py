"""Coverage on a small drawn neighbourhood whose answers are computed by hand.

Metric coordinates in UTM 51N (Shanghai) relative to X0, Y0; layers are stored in WGS-84.

    street A: (0,0) ── 1000 m ── (1000,0)      street B: (1000,0) ── 800 m ── (1000,800)
    island street C: (3000,0) ── (3200,0)      (not connected to A/B)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from geo.coverage import analyze_areas, gaps, summarize
from geo.network import from_lines
from geo.walks import Study

X0, Y0 = 355_000.0, 3_460_000.0
TO_LONLAT = Transformer.from_crs("EPSG:32651", "EPSG:4326", always_xy=True)


def lonlat(x: float, y: float) -> list[float]:
    lon, lat = TO_LONLAT.transform(X0 + x, Y0 + y)
    return [lon, lat]


def to_wgs(geom):
    return shapely.transform(
        geom, lambda c: np.column_stack(TO_LONLAT.transform(X0 + c[:, 0], Y0 + c[:, 1]))
    )


def square(x0, y0, x1, y1):
    return to_wgs(shapely.box(x0, y0, x1, y1))


def facility_frame(rows):
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "name": [r[1] for r in rows]},
        geometry=[to_wgs(shapely.Point(r[2], r[3])) for r in rows],
        crs="EPSG:4326",
        index=[r[0] for r in rows],
    )


def drawn_study(clinic_minutes: float | None = None) -> Study:
    streets = gpd.GeoDataFrame(
        {"name": ["A", "B", "C"]},
        geometry=[
            shapely.LineString([(X0, Y0), (X0 + 1000, Y0)]),
            shapely.LineString([(X0 + 1000, Y0), (X0 + 1000, Y0 + 800)]),
            shapely.LineString([(X0 + 3000, Y0), (X0 + 3200, Y0)]),
        ],
        crs="EPSG:32651",
    )
    areas = gpd.GeoDataFrame(
        {
            "id": ["gated", "touching", "remote", "island", "across"],
            "name": ["有门小区", "临街小区", "远离道路", "孤岛", "河对岸"],
            "subdistrict": ["甲街道", "甲街道", "乙街道", "乙街道", "乙街道"],
            "households": [100, 200, 50, 80, 40],
            "population": [250, 500, 120, 200, 100],
            "elderly": [100, 150, 60, 50, 40],
            "entrances": [[lonlat(150, 30)], None, None, [lonlat(3100, 10)], [lonlat(500, -330)]],
        },
        geometry=[
            square(100, 30, 200, 130),
            square(950, 500, 990, 600),
            square(2000, 2000, 2100, 2100),
            square(3050, 10, 3150, 110),
            square(450, -430, 550, -330),
        ],
        crs="EPSG:4326",
        index=["gated", "touching", "remote", "island", "across"],
    )
    layers = {
        "residential_areas": areas,
        "clinics": facility_frame([("c1", "卫生站", 400, 20)]),
        "neighbor_centers": facility_frame([("n1", "睦邻中心", 2050, 2050)]),
        "charging_points": facility_frame([])
        if False
        else facility_frame([("p1", "车棚", 150, 80)]),
        "renovation_projects": gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
    }
    return Study(layers, from_lines(streets))


def test_hand_computed_walks():
    result = analyze_areas(drawn_study())
    # gate 30 m from A at 150 m; clinic 20 m from A at 400 m → 30 + 250 + 20
    assert result.at["gated", "clinics_walk_m"] == pytest.approx(300.0)
    assert result.at["gated", "clinics_minutes_standard"] == 4.5  # 300 m at 66.7 m/min
    assert result.at["gated", "clinics_minutes_elderly"] == 6.0  # 300 m at 50 m/min
    assert result.at["gated", "clinics_id"] == "c1" and result.at["gated", "clinics_covered"]
    # no gates: street B touches it (10 m away); the nearest point of B to its centre is
    # 550 m up B → 20 + 600 + 550
    assert result.at["touching", "clinics_walk_m"] == pytest.approx(1170.0)
    assert not result.at["touching", "clinics_covered"]  # 17.6 min > 15
    assert result.at["touching", "clinics_method"] == "network"


def test_facility_inside_an_area_is_zero_metres():
    result = analyze_areas(drawn_study())
    assert result.at["remote", "neighbor_centers_walk_m"] == 0.0
    assert result.at["remote", "neighbor_centers_covered"]
    assert result.at["gated", "charging_points_walk_m"] == 0.0  # the shed inside the compound
    assert result.at["gated", "charging_points_within"] == 1


def test_unreachable_areas_say_why():
    result = analyze_areas(drawn_study())
    assert np.isnan(result.at["island", "clinics_walk_m"])  # disconnected island
    assert "no facility" in result.at["island", "clinics_reason"]
    # the gate across the water is 330 m from street A: refused, never snapped across
    assert np.isnan(result.at["across", "clinics_walk_m"])
    assert "beyond the 250 m limit" in result.at["across", "clinics_reason"]
    assert not result.at["across", "all_covered"]


def test_elderly_profile_and_distance_mode():
    study = drawn_study()
    elderly = analyze_areas(study, minutes={"clinics": 5}, profile="elderly")
    assert not elderly.at["gated", "clinics_covered"]  # 6.0 min > 5
    standard = analyze_areas(study, minutes={"clinics": 5})
    assert standard.at["gated", "clinics_covered"]  # 4.5 min
    metres = analyze_areas(
        study, metres={"clinics": 300, "neighbor_centers": 500, "charging_points": 300}
    )
    assert metres.at["gated", "clinics_covered"] and not metres.at["touching", "clinics_covered"]


def test_straight_line_mode_is_labelled():
    study = drawn_study()
    plain = Study(study.layers, None)
    result = analyze_areas(plain)
    assert (result["clinics_method"] == "straight_line").all()
    # gate (150,30) to clinic (400,20): 250.2 m × 1.25
    assert result.at["gated", "clinics_walk_m"] == pytest.approx(np.hypot(250, 10) * 1.25, abs=0.1)


def test_summary_and_gaps():
    study = drawn_study()
    areas = study.layers["residential_areas"]
    result = analyze_areas(study)
    table = summarize(areas, result)
    overall = table[(table["subdistrict"] == "全部 / all") & (table["type"] == "clinics")].iloc[0]
    assert overall["areas_covered"] == 1 and overall["population_covered"] == 250
    assert overall["share_population"] == round(250 / 1170, 4)
    ranked = gaps(areas, result, elderly_weight=2.0)
    assert ranked.index[0] == "touching"  # 500 + 150 people affected
    assert ranked.loc["touching", "people_affected"] == 650.0
    assert "clinics" in ranked.loc["island", "missing"]


@settings(max_examples=25, deadline=None)
@given(st.floats(1, 30), st.floats(0, 30))
def test_more_minutes_never_cover_less(minutes, more):
    study = drawn_study()
    few = analyze_areas(study, minutes={"clinics": minutes})["clinics_covered"]
    many = analyze_areas(study, minutes={"clinics": minutes + more})["clinics_covered"]
    assert (many | ~few).all()


def test_adding_a_facility_never_lengthens_a_walk():
    study = drawn_study()
    before = analyze_areas(study)["clinics_walk_m"]
    layers = dict(study.layers)
    layers["clinics"] = pd.concat([layers["clinics"], facility_frame([("c2", "新站", 1000, 500)])])
    after = analyze_areas(Study(layers, study.network))["clinics_walk_m"]
    assert (after.fillna(np.inf) <= before.fillna(np.inf)).all()
    assert after["touching"] == pytest.approx(50.0)  # 50 m along B from the new station


def test_nearest_for_points():
    study = drawn_study()
    near = study.nearest([lonlat(150, 30), lonlat(3100, 5)], "clinics", k=1)
    assert near.loc[0, "walk_m"] == pytest.approx(300.0)
    assert near.loc[0, "straight_m"] == pytest.approx(np.hypot(250, 10))
    assert np.isnan(near.loc[1, "walk_m"])
