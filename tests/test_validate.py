"""The gallery of bad data: each mistake gives its own message naming file, feature, field."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import LAT, LON, clinic, point_feature, polygon_feature, residential_area

from geo.errors import Problem
from geo.layers.geojson import parse_feature_collection
from geo.layers.store import validate_store
from geo.layers.validate import coerce_layer, format_report, validate_layer


def _check(layer: str, features: list[dict], source: str = "layer.geojson") -> list[Problem]:
    doc = json.dumps({"type": "FeatureCollection", "features": features})
    frame, problems = parse_feature_collection(doc, source)
    return problems + validate_layer(frame, layer, source=source)


def _only(problems: list[Problem], severity: str = "error") -> Problem:
    chosen = [p for p in problems if p.severity == severity]
    assert len(chosen) == 1, [str(p) for p in problems]
    return chosen[0]


def test_valid_layers_have_no_problems() -> None:
    assert _check("clinics", [clinic("C1", "甲"), clinic("C2", "乙", LON + 0.01)]) == []
    assert _check("residential_areas", [residential_area("R1", "长白二村")]) == []


def test_broken_json_names_file_line_and_column(store: Path) -> None:
    path = store / "clinics.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n  {"type": "Feature",,}\n]}')
    problems = validate_store(store)
    broken = _only(problems)
    assert broken.file == str(path)
    assert "line 3, column" in broken.message and "not valid JSON" in broken.message
    # The other layers are still checked (here: missing, so warnings only).
    assert sum(p.severity == "warning" for p in problems) == 5


def test_self_intersecting_polygon_reports_reason() -> None:
    x, y = LON, LAT
    bowtie = [[x, y], [x + 0.001, y + 0.001], [x + 0.001, y], [x, y + 0.001], [x, y]]
    area = residential_area("R1", "蝴蝶小区")
    area["geometry"]["coordinates"] = [bowtie]
    area["properties"]["entrances"] = []
    problem = _only(_check("residential_areas", [area], "areas.geojson"))
    assert (problem.file, problem.feature, problem.field) == ("areas.geojson", "R1", "geometry")
    assert "Self-intersection" in problem.message


def test_swapped_lon_lat_is_named() -> None:
    problem = _only(_check("clinics", [clinic("C1", "甲", lon=LAT, lat=LON)]))
    assert (problem.feature, problem.field) == ("C1", "geometry")
    assert "swapped" in problem.hint


def test_missing_required_field() -> None:
    feature = clinic("C1", "甲")
    del feature["properties"]["level"]
    problem = _only(_check("clinics", [feature]))
    assert (problem.feature, problem.field) == ("C1", "level")
    assert "required field missing" in problem.message


def test_wrong_enum_suggests_the_close_value() -> None:
    problem = _only(_check("clinics", [clinic("C1", "甲", level="statoin")]))
    assert (problem.feature, problem.field) == ("C1", "level")
    assert "did you mean 'station'" in problem.hint


def test_duplicated_ids() -> None:
    problems = _check("clinics", [clinic("C1", "甲"), clinic("C1", "乙", LON + 0.01)])
    problem = _only(problems)
    assert (problem.feature, problem.field) == ("C1", "id")
    assert "used 2 times" in problem.message


def test_same_name_within_5_m_is_a_warning_not_an_error() -> None:
    near = clinic("C2", "长白站", LON + 0.00002, LAT)  # about 2 m east
    problems = _check("clinics", [clinic("C1", "长白站"), near])
    problem = _only(problems, "warning")
    assert (problem.feature, problem.field) == ("C2", "name")
    assert "C1" in problem.message and "5 m" in problem.message
    far = clinic("C3", "长白站", LON + 0.001, LAT)  # about 95 m: a different place
    assert _check("clinics", [clinic("C1", "长白站"), far]) == []


def test_far_outside_shanghai_is_a_warning() -> None:
    problem = _only(_check("clinics", [clinic("B1", "北京站", 116.40, 39.90)]), "warning")
    assert (problem.feature, problem.field) == ("B1", "geometry")
    assert "outside the study region" in problem.message


def test_elderly_above_population() -> None:
    area = residential_area("R1", "老龄小区", elderly=4000, population=3000)
    problem = _only(_check("residential_areas", [area]))
    assert (problem.feature, problem.field) == ("R1", "elderly")
    assert "4000" in problem.message and "3000" in problem.message


def test_end_before_start() -> None:
    project = point_feature(
        LON,
        LAT,
        id="P1",
        name="加装电梯",
        kind="elevator_retrofit",
        status="completed",
        start="2024-05-01",
        end="2024-03-01",
    )
    problem = _only(_check("renovation_projects", [project]))
    assert (problem.feature, problem.field) == ("P1", "end")
    assert "end is before start" in problem.message


def test_wrong_geometry_type() -> None:
    ring = [[LON, LAT], [LON + 0.001, LAT], [LON, LAT + 0.001], [LON, LAT]]
    feature = polygon_feature(ring, id="C1", name="甲", level="station")
    problem = _only(_check("clinics", [feature]))
    assert (problem.feature, problem.field) == ("C1", "geometry")
    assert "Polygon not allowed" in problem.message


def test_wrong_type_and_below_minimum() -> None:
    problems = _check("clinics", [clinic("C1", "甲", beds="many"), clinic("C2", "乙", beds=-1)])
    assert {(p.feature, p.field) for p in problems} == {("C1", "beds"), ("C2", "beds")}
    assert any("below the minimum" in p.message for p in problems)


def test_unreadable_geometry_is_reported_by_feature() -> None:
    feature = clinic("C1", "甲")
    feature["geometry"] = {"type": "Point", "coordinates": "east"}
    problems = _check("clinics", [feature])
    assert ("C1", "geometry") in {(p.feature, p.field) for p in problems}
    assert any("unreadable geometry" in p.message for p in problems)


def test_gate_far_from_compound_is_a_warning() -> None:
    area = residential_area("R1", "长白二村")
    area["properties"]["entrances"] = [[LON + 0.01, LAT]]  # ~950 m away
    problem = _only(_check("residential_areas", [area]), "warning")
    assert (problem.feature, problem.field) == ("R1", "entrances")


@pytest.mark.parametrize(
    "gate, hint",
    [([LAT, LON], "swapped"), ([LON, 95.0], "latitude in"), ([float("inf"), LAT], "latitude in")],
)
def test_impossible_gate_is_an_error_naming_the_gate(gate, hint) -> None:
    area = residential_area("R1", "长白二村")
    area["properties"]["entrances"] = [[LON, LAT - 0.0004], gate]
    problem = _only(_check("residential_areas", [area]), "error")
    assert (problem.feature, problem.field) == ("R1", "entrances")
    assert "gate 2" in problem.message and hint in problem.hint


def test_coerce_turns_loose_values_into_schema_types() -> None:
    frame = gpd.GeoDataFrame(
        {
            "id": [12.0],
            "name": ["睦邻中心"],
            "subdistrict": ["长白新村街道"],
            "kind": ["centre"],
            "health_station": ["是"],
            "floor_area_m2": ["1,200"],
        },
        geometry=gpd.points_from_xy([LON], [LAT]),
        crs="EPSG:4326",
    )
    coerced, problems = coerce_layer(frame, "neighbor_centers")
    assert problems == []
    row = coerced.iloc[0]
    assert (row["id"], row["health_station"], row["floor_area_m2"]) == ("12", True, 1200.0)
    assert validate_layer(coerced, "neighbor_centers") == []


def test_coerce_reports_what_it_cannot_convert() -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["R1"], "built": ["1980年代"], "households": ["很多"]},
        geometry=gpd.points_from_xy([LON], [LAT]),
    )
    coerced, problems = coerce_layer(frame, "residential_areas", source="x.csv")
    assert coerced.iloc[0]["built"] == "1980s"
    assert [(p.file, p.feature, p.field) for p in problems] == [("x.csv", "R1", "households")]


def test_int_field_with_gaps_read_back_is_valid(store: Path) -> None:
    # Regression: a gap makes pandas read the column as floats; 12.0 is still an int.
    features = [clinic("C1", "甲", beds=12), clinic("C2", "乙", LON + 0.01)]
    (store / "clinics.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    assert [p for p in validate_store(store) if p.severity == "error"] == []
    assert _check("clinics", [clinic("C1", "甲", beds=12.5)])[0].field == "beds"


def test_format_report_lists_errors_then_warnings() -> None:
    problems = _check(
        "clinics", [clinic("C1", "甲", level="x"), clinic("C2", "乙", 116.4, 39.9)], "c.geojson"
    )
    text = format_report(problems)
    lines = text.splitlines()
    assert lines[0].startswith("错误 / errors (1)")
    assert "c.geojson · feature C1 · field 'level'" in lines[1]
    assert lines[2].startswith("警告 / warnings (1)")
    assert lines[-1] == "共 1 个错误、1 个警告 / 1 error(s), 1 warning(s)"
    assert format_report([]) == "全部通过 / all layers valid ✓"


@pytest.mark.parametrize("layer", ["clinics", "residential_areas"])
def test_validate_store_on_sample_has_no_errors(sample_store: Path, layer: str) -> None:
    problems = validate_store(sample_store)
    assert not [p for p in problems if p.severity == "error" and layer in p.file]


# --- plausibility (issue 12): sizes, densities and distances no Shanghai layer has


def _square_compound(side_deg: float, **extra: object) -> dict:
    area = residential_area("R1", "大小区", **extra)
    x, y = LON, LAT
    ring = [[x, y], [x + side_deg, y], [x + side_deg, y + side_deg], [x, y + side_deg], [x, y]]
    area["geometry"]["coordinates"] = [ring]
    area["properties"]["entrances"] = [[x + side_deg / 2, y]]
    return area


def test_a_60_km2_compound_is_implausible() -> None:
    # 0.08° × 0.07° at 31°N: about 7.6 km × 7.8 km = 59 km².
    area = _square_compound(0.08)
    area["geometry"]["coordinates"][0][2][1] = area["geometry"]["coordinates"][0][3][1] = LAT + 0.07
    problem = _only(_check("residential_areas", [area], "areas.geojson"), "warning")
    assert (problem.file, problem.feature, problem.field) == ("areas.geojson", "R1", "geometry")
    km2 = float(problem.message.split("小区面积 ")[1].split(" ")[0])
    assert 55 < km2 < 65 and "km²" in problem.message and "subdistrict" in problem.hint
    # Shanghai's largest real compounds (~1–2 km²) pass.
    assert _check("residential_areas", [_square_compound(0.012)]) == []


def test_population_per_hectare_and_households_per_building_beyond_the_densest() -> None:
    # ~1 ha with 60 000 residents, 1200 households in 1 building
    area = residential_area("R1", "密", population=60000, elderly=100, buildings=1)
    problems = [p for p in _check("residential_areas", [area]) if p.severity == "warning"]
    fields = sorted(p.field for p in problems)
    assert fields == ["households", "population"]
    assert all(p.feature == "R1" and "检查" in p.hint for p in problems)
    # The fixture's ordinary 3000 residents and 1200 households in 6 buildings pass.
    assert _check("residential_areas", [residential_area("R1", "常", buildings=6)]) == []


def test_a_facility_50_km_from_the_rest_of_its_layer() -> None:
    near = [clinic(f"C{i}", f"站{i}", LON + 0.01 * i, LAT) for i in range(3)]
    far = clinic("C9", "崇明远站", LON + 0.6, LAT)  # ~57 km east, still inside Shanghai's box
    problem = _only(_check("clinics", [*near, far]), "warning")
    assert (problem.feature, problem.field) == ("C9", "geometry")
    assert "50 km" in problem.message
    assert _check("clinics", near) == []
