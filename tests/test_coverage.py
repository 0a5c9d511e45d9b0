"""Coverage on the drawn neighbourhood of geo/testing.py, with answers computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.analysis.coverage import analyze_areas, gaps, summarize
from geo.analysis.study import Study
from geo.testing import drawn_study, facility_frame, lonlat


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
