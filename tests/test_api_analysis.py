"""Analysis endpoints, OGC landing and QGIS's request sequence, through real HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import shapely
from pyproj import Geod
from served import serving

import geo
from api.main import create_app
from geo.analysis.coverage import analyze_areas
from geo.analysis.params import WalkParams
from geo.analysis.study import Study
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geo.settings import Settings

POINT = (121.5405, 31.2990)  # 松花江路, 长白新村


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    import shutil

    folder = tmp_path_factory.mktemp("sample")
    shutil.copytree(
        geo.settings.DEFAULT_DATA_DIR,
        folder,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".*"),
    )
    app = create_app(Settings(data=folder, max_body_bytes=2_000_000))
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, folder


@pytest.fixture(scope="module")
def client(sample) -> httpx.Client:
    return sample[0]


@pytest.fixture(scope="module")
def study(sample) -> Study:
    return Study.load(sample[1])


def test_nearest_agrees_with_the_library(client: httpx.Client, study: Study) -> None:
    response = client.get(
        "/nearest", params={"lon": POINT[0], "lat": POINT[1], "type": "clinics", "k": 3}
    )
    assert response.headers["content-type"] == "application/geo+json"
    features = response.json()["features"]
    expected = study.nearest(POINT, "clinics", k=3)
    assert [f["properties"]["facility_id"] for f in features] == expected["facility_id"].tolist()
    assert [f["properties"]["walk_m"] for f in features] == expected["walk_m"].round(1).tolist()
    walk = [f["properties"]["walk_m"] for f in features]
    assert walk == sorted(walk)
    assert all(f["properties"]["walk_m"] >= f["properties"]["straight_m"] for f in features)
    minutes = features[0]["properties"]["walk_minutes"]
    assert minutes == pytest.approx(features[0]["properties"]["walk_m"] / (4000 / 60), abs=0.06)


def test_route_is_a_line_as_long_as_the_walk(client: httpx.Client) -> None:
    body = client.get("/nearest", params={"lon": POINT[0], "lat": POINT[1], "route": "true"}).json()
    point, route = body["features"]
    assert route["geometry"]["type"] == "LineString" and route["properties"]["route"] is True
    line = shapely.geometry.shape(route["geometry"])
    metres = Geod(ellps="WGS84").geometry_length(line)
    assert metres == pytest.approx(point["properties"]["walk_m"], abs=1.0)
    assert route["geometry"]["coordinates"][0] == pytest.approx(list(POINT))
    assert route["geometry"]["coordinates"][-1] == pytest.approx(point["geometry"]["coordinates"])
    # the path says the same walk as the facility it leads to
    for key in ("walk_m", "walk_minutes"):
        assert route["properties"][key] == point["properties"][key]


def test_a_wrong_method_is_a_bilingual_405(client: httpx.Client) -> None:
    answer = client.delete("/coverage")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == "application/problem+json"
    assert (
        "DELETE is not allowed here" in answer.json()["detail"]
        and "不支持" in answer.json()["detail"]
    )


def test_gcj02_in_and_out(client: httpx.Client) -> None:
    glon, glat = wgs84_to_gcj02(*POINT)
    wgs = client.get("/nearest", params={"lon": POINT[0], "lat": POINT[1]}).json()["features"][0]
    gcj = client.get("/nearest", params={"lon": glon, "lat": glat, "crs": "gcj02"}).json()
    gcj = gcj["features"][0]
    assert gcj["properties"]["facility_id"] == wgs["properties"]["facility_id"]
    assert gcj["properties"]["walk_m"] == pytest.approx(wgs["properties"]["walk_m"], abs=0.2)
    back = gcj02_to_wgs84(*gcj["geometry"]["coordinates"])
    assert back == pytest.approx(wgs["geometry"]["coordinates"], abs=1e-6)


def test_batch_of_ten_thousand_points_some_out_of_reach_in_gaode_coordinates(
    client: httpx.Client, study: Study
) -> None:
    rng = np.random.default_rng(3)
    # Yangpu and far beyond its streets: many points have no answer, with a reason
    lon, lat = rng.uniform(121.40, 121.60, 10_000), rng.uniform(31.25, 31.40, 10_000)
    glon, glat = wgs84_to_gcj02(lon, lat)
    points = np.column_stack([glon, glat]).tolist()
    answer = client.post("/nearest", json={"points": points, "k": 3, "crs": "gcj02"}, timeout=60)
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert len(results) == 10_000 and all(len(r) == 3 for r in results)
    reached = [r[0] for r in results if r[0]["facility_id"] is not None]
    refused = [r[0] for r in results if r[0]["facility_id"] is None]
    assert reached and refused
    assert all("250" in r["reason"] and r["walk_m"] is None for r in refused)
    clinics = study.facilities("clinics").geometry
    for r in reached[:50]:  # facilities come back in GCJ-02 too
        back = gcj02_to_wgs84(r["lon"], r["lat"])
        stored = clinics.loc[r["facility_id"]]
        assert back == pytest.approx((stored.x, stored.y), abs=1e-6)


def test_batch_matches_single_requests(client: httpx.Client) -> None:
    points = [[121.5405, 31.2990], [121.546, 31.294], [121.552, 31.302]]
    body = client.post(
        "/nearest", json={"points": points, "type": "neighbor_centers", "k": 2}
    ).json()
    assert len(body["results"]) == 3
    for point, results in zip(points, body["results"], strict=True):
        single = client.get(
            "/nearest",
            params={"lon": point[0], "lat": point[1], "type": "neighbor_centers", "k": 2},
        ).json()
        assert [r["facility_id"] for r in results] == [
            f["properties"]["facility_id"] for f in single["features"]
        ]


def test_batch_limits(client: httpx.Client) -> None:
    too_many = client.post("/nearest", json={"points": [[121.54, 31.3]] * 10_001})
    assert too_many.status_code in (400, 413)
    assert too_many.headers["content-type"].startswith("application/problem+json")
    huge = client.post(
        "/nearest",
        content=b"[" + b"1," * 1_500_000 + b"1]",
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["status"] == 413

    def chunks():  # no Content-Length: the limit is met while the body is read
        yield b'{"points": ['
        for _ in range(100):
            yield b"[121.54, 31.3]," * 2_000  # 3 MB in all, over the 2 MB limit
        yield b"[121.54, 31.3]]}"

    chunked = client.post(
        "/nearest", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413
    assert chunked.headers["content-type"] == "application/problem+json"
    assert "2000000" in chunked.json()["detail"]
    bad = client.post(
        "/nearest", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400


def test_coverage_summary_and_gaps_agree_with_the_library(client, study) -> None:
    expected = analyze_areas(study)
    body = client.get("/coverage", params={"type": "clinics"}).json()
    got = {f["id"]: f["properties"] for f in body["features"]}
    assert len(got) == len(expected) == 55
    for area_id, row in expected.iterrows():
        assert got[area_id]["clinics_covered"] == bool(row["clinics_covered"])
        assert "charging_points_covered" not in got[area_id]
    summary = client.get("/coverage/summary").json()["summary"]
    overall = next(
        r for r in summary if r["subdistrict"] == "全部 / all" and r["type"] == "all_types"
    )
    assert overall["areas_covered"] == int(expected["all_covered"].sum())
    gaps = client.get("/gaps", params={"elderly_weight": 2}).json()["features"]
    people = [g["properties"]["people_affected"] for g in gaps]
    assert people == sorted(people, reverse=True) and gaps[0]["properties"]["rank"] == 1
    zones = client.get("/gaps", params={"zones": "true"}).json()["features"]
    assert {z["properties"]["type"] for z in zones} == set(geo.FACILITY_LAYERS)
    elderly = client.get("/coverage/summary", params={"profile": "elderly"}).json()["summary"]
    worse = next(
        r for r in elderly if r["subdistrict"] == "全部 / all" and r["type"] == "all_types"
    )
    assert worse["areas_covered"] <= overall["areas_covered"]


def test_coverage_by_view_in_gaode_coordinates(client, study) -> None:
    """What the dashboard of a large city asks: the areas of one view, in GCJ-02."""
    areas = study.layers["residential_areas"]
    box = (121.530, 31.290, 121.545, 31.300)  # WGS-84
    inside = set(areas.index[areas.intersects(shapely.box(*box))])
    assert 0 < len(inside) < len(areas)
    body = client.get("/coverage", params={"bbox": ",".join(map(str, box))}).json()
    assert {f["id"] for f in body["features"]} == inside
    assert body["numberMatched"] == body["numberReturned"] == len(inside)
    (x0, x1), (y0, y1) = wgs84_to_gcj02([box[0], box[2]], [box[1], box[3]])
    gcj = client.get(
        "/coverage", params={"bbox": f"{x0},{y0},{x1},{y1}", "crs": "gcj02", "limit": 2}
    ).json()
    assert (gcj["numberMatched"], gcj["numberReturned"]) == (len(inside), 2)
    first = gcj["features"][0]
    lon, lat = first["geometry"]["coordinates"][0][0]
    back = gcj02_to_wgs84(lon, lat)
    stored = np.asarray(areas.geometry.loc[first["id"]].exterior.coords[0])
    assert np.allclose(back, stored, atol=1e-6)
    assert client.get("/coverage", params={"bbox": "1,2,3"}).status_code == 400
    assert client.get("/coverage", params={"bbox": ""}).json()["numberMatched"] == len(areas)


def test_coverage_keeps_only_the_properties_asked_for(client, study) -> None:
    full = client.get("/coverage", params={"limit": 3}).json()["features"]
    asked = "name,population,clinics_minutes_elderly,all_covered"
    slim = client.get("/coverage", params={"limit": 3, "properties": asked}).json()["features"]
    assert [f["id"] for f in slim] == [f["id"] for f in full]  # ids stay: they are not properties
    for thin, whole in zip(slim, full, strict=True):
        assert set(thin["properties"]) <= {"id", *asked.split(",")}
        for name in asked.split(","):
            assert thin["properties"].get(name) == whole["properties"].get(name)
        assert thin["geometry"] == whole["geometry"]
    wrong = client.get("/coverage", params={"properties": "name,clinic_minutes"})
    assert wrong.status_code == 400 and wrong.headers["content-type"] == "application/problem+json"
    assert (
        "clinic_minutes" in wrong.json()["detail"]
        and "clinics_minutes_standard" in wrong.json()["detail"]
    )


def test_isochrones_of_a_whole_type(client: httpx.Client, study: Study) -> None:
    body = client.get("/isochrones", params={"type": "clinics", "minutes": "5,15"}).json()
    polygons = [shapely.geometry.shape(f["geometry"]) for f in body["features"]]
    assert [f["properties"]["minutes"] for f in body["features"]] == [5.0, 15.0]
    assert polygons[1].contains(polygons[0].representative_point())
    for clinic in study.facilities("clinics").geometry.values[:3]:
        assert polygons[0].buffer(1e-4).contains(clinic)  # 5 minutes reach the clinic itself
    # without a point, the type's (clinics by default); lon without lat is half a point
    assert client.get("/isochrones", params={"minutes": "5,15"}).json() == body
    lonely = client.get("/isochrones", params={"lon": POINT[0], "type": "clinics"})
    assert lonely.status_code == 400 and "lon and lat together" in lonely.json()["detail"]


def test_isochrones_and_opportunities(client: httpx.Client) -> None:
    iso = client.get(
        "/isochrones", params={"lon": POINT[0], "lat": POINT[1], "minutes": "5,10,15"}
    ).json()["features"]
    assert [f["properties"]["minutes"] for f in iso] == [5.0, 10.0, 15.0]
    areas = [shapely.geometry.shape(f["geometry"]).area for f in iso]
    assert areas == sorted(areas)
    one = client.get("/collections/clinics/items/clinic-007/isochrones", params={"minutes": "10"})
    assert one.json()["features"][0]["properties"]["facility_id"] == "clinic-007"
    assert client.get("/collections/clinics/items/nope/isochrones").status_code == 404
    # only a facility has isochrones: the path of a compound's is not there
    compound = client.get("/collections/residential_areas/items/ra-cb-001/isochrones")
    assert compound.status_code == 404 and "only facilities" in compound.json()["detail"]
    # a point no street is near: nothing reached, and why (as /nearest)
    far = client.get("/isochrones", params={"lon": 0, "lat": 0})
    assert far.status_code == 200 and far.json()["features"] == []
    assert "cannot be reached" in far.json()["reason"] and "无法到达" in far.json()["reason"]
    opportunities = client.get("/opportunities").json()["features"]
    assert opportunities and all(f["properties"]["missing"] for f in opportunities)


def test_landing_page_by_content_negotiation(client: httpx.Client) -> None:
    landing = client.get("/", headers={"Accept": "application/json"}).json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= rels
    assert client.get("/", params={"f": "json"}).json() == landing
    assert (
        client.get("/", headers={"Accept": "text/html"})
        .headers["content-type"]
        .startswith("text/html")
    )
    classes = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes


def test_the_sequence_qgis_requests(client: httpx.Client) -> None:
    """QGIS's OGC API – Features provider: landing, conformance, collections, then items
    by bbox in pages, following `next` links."""
    landing = client.get("/", headers={"Accept": "application/json"}).json()
    conformance = next(link["href"] for link in landing["links"] if link["rel"] == "conformance")
    assert client.get(conformance).status_code == 200
    data = next(link["href"] for link in landing["links"] if link["rel"] == "data")
    collections = client.get(data, headers={"Accept": "application/json"}).json()["collections"]
    areas = next(c for c in collections if c["id"] == "residential_areas")
    minx, miny, maxx, maxy = areas["extent"]["spatial"]["bbox"][0]
    items = next(link["href"] for link in areas["links"] if link["rel"] == "items")
    url, params, seen = items, {"bbox": f"{minx},{miny},{maxx},{maxy}", "limit": 20}, []
    while url:
        page = client.get(url, params=params, headers={"Accept": "application/geo+json"}).json()
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        params = None
    assert len(seen) == len(set(seen)) == 55
    coverage = client.get("/collections/coverage/items", params={"limit": 100}).json()
    assert (
        coverage["numberMatched"] == 55
        and "clinics_walk_m" in coverage["features"][0]["properties"]
    )


def test_request_id_is_echoed_or_made(client: httpx.Client) -> None:
    assert (
        client.get("/health", headers={"X-Request-ID": "abc123"}).headers["x-request-id"]
        == "abc123"
    )
    assert len(client.get("/health").headers["x-request-id"]) == 32


def test_openapi_has_examples_for_every_endpoint(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/nearest",
        "/coverage",
        "/coverage/summary",
        "/gaps",
        "/isochrones",
        "/opportunities",
        "/capacity",
        "/collections/clinics/items",
        "/collections/coverage/items",
    ):
        assert path in spec["paths"], path
    # a path per collection, with its own property filters (pygeoapi's way), writes only to
    # a layer, isochrones only of a facility
    assert "/collections/{layer}/items" not in spec["paths"]
    filters = {p["name"] for p in spec["paths"]["/collections/clinics/items"]["get"]["parameters"]}
    assert {"level", "beds"} <= filters and "status" not in filters
    assert "post" not in spec["paths"]["/collections/coverage/items"]
    assert "/collections/clinics/items/{feature_id}/isochrones" in spec["paths"]
    assert "/collections/residential_areas/items/{feature_id}/isochrones" not in spec["paths"]
    schemas = spec["components"]["schemas"]

    def shown(node) -> str:  # the operation with its request-body models spelled out
        text = json.dumps(node)
        for ref in re.findall(r'"#/components/schemas/([^"]+)"', text):
            text += json.dumps(schemas[ref])
        return text

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), where
            assert '"example' in shown(operation), f"{where} has no example"
            for parameter in operation.get("parameters", []):
                assert parameter.get("description") or parameter["in"] == "header" or (
                    parameter["schema"].get("enum") or parameter["schema"].get("anyOf")
                ) or "example" in json.dumps(parameter), f"{where}: {parameter['name']}"  # fmt: skip


@pytest.mark.parametrize("value", ["inf", "1e400", "nan", "0", "-5", "121", "abc"])
def test_thresholds_out_of_range_are_a_400_naming_the_bounds(client, value) -> None:
    for path in ("/coverage", "/coverage/summary", "/gaps", "/opportunities", "/capacity"):
        answer = client.get(path, params={"minutes": f"clinics={value}"})
        assert answer.status_code == 400, (path, value)
        assert answer.headers["content-type"] == "application/problem+json"
        assert "120" in answer.json()["detail"] and "clinics" in answer.json()["detail"]
    answer = client.get("/isochrones", params={"type": "clinics", "minutes": f"5,{value}"})
    assert answer.status_code == 400 and "120" in answer.json()["detail"]


def test_a_bug_is_a_logged_problem_with_the_request_id(client, monkeypatch, caplog) -> None:
    import api.deps

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.deps.StudyCache, "summary", broken)
    # its own connection: the server closes the one an unhandled error went through
    with httpx.Client(base_url=client.base_url, timeout=30) as own:
        answer = own.get("/coverage/summary", headers={"X-Request-ID": "probe-42"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["request_id"] == "probe-42" and "probe-42" in answer.json()["detail"]
    assert "a bug" not in answer.text  # internals stay in the log
    assert any("probe-42" in r.getMessage() and r.exc_info for r in caplog.records)


def test_an_unknown_subdistrict_is_a_404_listing_the_known_ones(client: httpx.Client) -> None:
    answer = client.get("/", params={"subdistrict": "不存在街道", "tiles": "none", "f": "html"})
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "长白新村街道" in answer.json()["detail"]
    chosen = client.get("/", params={"subdistrict": "长白新村街道", "tiles": "none", "f": "html"})
    assert chosen.status_code == 200 and "长白新村街道" in chosen.text


def test_big_batches_need_the_token_and_come_back_streamed(sample) -> None:
    points = [[121.5405 + i * 1e-5, 31.299] for i in range(2_000)]
    app = create_app(Settings(data=sample[1], api_token="batch-token", warm=False))
    with serving(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        refused = http.post("/nearest", json={"points": points, "k": 26})  # 52,000 results
        assert refused.status_code == 413 and "points × k" in refused.json()["detail"]
        allowed = http.post("/nearest", json={"points": points, "k": 26},
                            headers={"Authorization": "Bearer batch-token"})  # fmt: skip
        assert allowed.status_code == 200 and "content-length" not in allowed.headers
        results = allowed.json()["results"]
        assert len(results) == 2_000 and all(len(r) == 26 for r in results)
        # chunks of 1,000 points join into the same answer as a small request
        small = http.post("/nearest", json={"points": points[1_500:1_502], "k": 26}).json()
        assert small["results"] == results[1_500:1_502]


def test_coverage_at_own_speed_is_the_librarys(client, study) -> None:
    """``speed=`` is a walker of the service's own, not minutes scaled in the browser: the
    answers are the library's for ``WalkParams.parse(speed=…)``, and differ from 4 km/h."""
    params = WalkParams.parse(speed=2.5, minutes="clinics=10")
    expected = analyze_areas(study, params)
    body = client.get("/coverage", params={"speed": 2.5, "minutes": "clinics=10"}).json()
    got = {f["id"]: f["properties"] for f in body["features"]}
    assert len(got) == len(expected)
    for area_id, row in expected.iterrows():
        for kind in geo.FACILITY_LAYERS:
            assert got[area_id][f"{kind}_covered"] == bool(row[f"{kind}_covered"]), area_id
    standard = analyze_areas(study, WalkParams.parse(minutes="clinics=10"))
    assert expected["clinics_covered"].sum() < standard["clinics_covered"].sum()
    summary = client.get("/coverage/summary", params={"speed": 2.5, "minutes": "clinics=10"})
    clinics = next(r for r in summary.json()["summary"]
                   if r["subdistrict"] == "全部 / all" and r["type"] == "clinics")  # fmt: skip
    assert clinics["areas_covered"] == int(expected["clinics_covered"].sum())
    # the catchment takes it too
    catchment = client.get("/catchment", params={"lon": 121.5405, "lat": 31.299,
                                                 "minutes": "10", "speed": 2.5}).json()  # fmt: skip
    assert catchment["speed_kmh"] == 2.5
    for bad in ("0.5", "9", "fast"):
        answer = client.get("/coverage", params={"speed": bad})
        assert answer.status_code in (400, 422) and "speed" in answer.text


def test_coverage_without_geometry_carries_the_same_numbers(client: httpx.Client) -> None:
    query = {"profile": "elderly", "properties": "name,clinics_minutes_elderly,clinics_covered"}
    whole = client.get("/coverage", params=query).json()
    bare = client.get("/coverage", params={**query, "skipGeometry": "true"}).json()
    assert all(f["geometry"] is None for f in bare["features"])
    assert [(f["id"], f["properties"]) for f in bare["features"]] == [
        (f["id"], f["properties"]) for f in whole["features"]
    ]
    assert bare["numberMatched"] == whole["numberMatched"] > 0


def test_coverage_and_capacity_carry_the_librarys_e2sfca(client, study) -> None:
    from geo.analysis.capacity import capacity

    params = WalkParams.parse("elderly")
    expected = capacity(study, params)
    body = client.get("/coverage", params={"profile": "elderly", "type": "clinics",
                                            "skipGeometry": "true"}).json()  # fmt: skip
    got = {f["id"]: f["properties"] for f in body["features"]}
    for area_id, row in expected.areas.iterrows():
        assert got[area_id]["clinics_access_elderly"] == pytest.approx(
            row["clinics_access_elderly"]
        )
        assert got[area_id]["clinics_under_served"] == bool(row["clinics_under_served"])
        assert "neighbor_centers_access_standard" not in got[area_id]
    loads = client.get("/capacity", params={"profile": "elderly"}).json()
    by_id = {f["id"]: f for f in loads["features"]}
    table = expected.facilities.set_index("id")
    assert set(by_id) == set(table.index)
    for fid, row in table.iterrows():
        props = by_id[fid]["properties"]
        assert props["overloaded"] == bool(row["overloaded"])
        if row["load_elderly"] == row["load_elderly"]:
            assert props["load_elderly"] == pytest.approx(row["load_elderly"])
        else:
            assert props.get("load_elderly") is None and props["reason"]
    # a facility's point is its own
    clinic = study.layers["clinics"].iloc[0]
    assert by_id[clinic.name]["geometry"]["coordinates"] == pytest.approx(
        [clinic.geometry.x, clinic.geometry.y], abs=1e-6
    )
    summary = {row["type"]: row for row in loads["summary"]}
    assert summary["clinics"]["standard"] is None
    assert "no verified" in summary["clinics"]["standard_note"]
    only = client.get("/capacity", params={"type": "charging_points"}).json()
    assert {f["properties"]["type"] for f in only["features"]} == {"charging_points"}
    spec = client.get("/openapi.json").json()
    assert "E2SFCA" in spec["paths"]["/coverage"]["get"]["description"]
    assert "/capacity" in spec["paths"]


def test_what_the_document_calls_valid_is_accepted_and_the_rest_refused(
    client: httpx.Client,
) -> None:
    spec = client.get("/openapi.json").json()

    def pattern(path: str, name: str) -> str:
        (param,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == name]
        return param["schema"]["pattern"]

    thresholds = pattern("/coverage", "minutes")
    for text, valid in (("clinics=10,charging_points=7.5", True), ("", True),
                        ("clinics=1e1", False), ("clinics=10,,", False), ("clinics=120.5", False)):  # fmt: skip
        assert bool(re.search(thresholds, text)) is valid, text
        answer = client.get("/coverage/summary", params={"minutes": text})
        assert (answer.status_code == 200) is valid, (text, answer.text[:200])
    # a property of another type than the one asked is left out, not refused
    answer = client.get("/coverage", params={"type": "charging_points", "skipGeometry": "true",
                                             "properties": "name,clinics_walk_m"})  # fmt: skip
    assert answer.status_code == 200
    assert {k for f in answer.json()["features"] for k in f["properties"]} <= {"id", "name"}
    assert client.get("/coverage", params={"properties": "name,colour"}).status_code == 400
    # a facility a linked plan names that the layers have not: 404, naming it
    missing = client.get("/maps/scenario", params={"remove": "clinics:clinic-999", "tiles": "none"})
    assert missing.status_code == 404 and "clinic-999" in missing.json()["detail"]
    # a 街道 the study has not: 404 with those it has, for the gap list too
    gaps = client.get("/gaps.json", params={"subdistrict": "长海路街道"})
    assert gaps.status_code == 404 and "长白新村街道" in gaps.json()["detail"]
