"""A facility nearer than the street ranks by the few steps to it, not by the detour via the
street (hand-drawn: street A along y = 0, the point 22 m off it)."""

from __future__ import annotations

from geo.testing import drawn_study, facility_frame, lonlat


def _study_with(rows: list[tuple[str, str, float, float]]):
    study = drawn_study()
    return study.with_layers({**study.layers, "clinics": facility_frame(rows)})


def test_a_clinic_at_the_point_is_first_and_zero_metres_away() -> None:
    # "here" stands at the point, 22 m off A at 400 m; "street" is on A, 22 m from the point
    study = _study_with([("street", "街边站", 400, 0), ("here", "本站", 400, 22)])
    near = study.nearest(lonlat(400, 22), "clinics", k=2)
    assert near["facility_id"].tolist() == ["here", "street"]
    assert near["walk_m"].round(1).tolist() == [0.0, 22.0]  # not 44 m via the street


def test_a_clinic_beyond_the_street_keeps_its_network_walk() -> None:
    # 30 m from the point, but the point is only 22 m from its street: walked via A
    study = _study_with([("across", "对面站", 400, -8)])
    near = study.nearest(lonlat(400, 22), "clinics", k=1)
    assert round(float(near["walk_m"].iloc[0]), 1) == 30.0  # 22 to A, then 8 off it
    study = _study_with([("far", "远站", 430, 40)])
    walk = float(study.nearest(lonlat(400, 22), "clinics", k=1)["walk_m"].iloc[0])
    assert round(walk, 1) == 22.0 + 30.0 + 40.0  # out to A, 30 m along, 40 m in
