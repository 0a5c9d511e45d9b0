"""The service through real HTTP: uvicorn on a free loopback port, httpx as the client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pages import shown
from served import serving

from api.main import create_app
from geo.settings import Settings

CLINICS = [
    ("c-1", "长白社区卫生服务中心", 121.540039, 31.299711),
    ("c-2", "延吉社区卫生服务中心", 121.533038, 31.290852),
    ("c-3", "控江社区卫生服务中心", 121.516633, 31.282509),
    ("c-4", "<img src=x onerror=alert(1)>", 121.545, 31.295),
    ("c-5", "定海社区卫生服务中心", 121.548348, 31.280311),
]


def write_clinics(folder: Path, rows: list[tuple[str, str, float, float]]) -> None:
    features = [
        {
            "type": "Feature",
            "id": cid,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"id": cid, "name": name, "level": "community_health_centre"},
        }
        for cid, name, lon, lat in rows
    ]
    doc = {"type": "FeatureCollection", "features": features}
    (folder / "clinics.geojson").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("store")
    write_clinics(folder, CLINICS)
    with serving(create_app(Settings(data=folder))) as url:
        yield url, folder


@pytest.fixture
def client(service: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service[0], timeout=10) as http:
        yield http


#: What a browser sends: HTML first.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_health_counts_every_layer(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["layers"] == {
        "residential_areas": 0,
        "neighbor_centers": 0,
        "clinics": 5,
        "charging_points": 0,
        "renovation_projects": 0,
        "facilities": 0,  # the catalogue's other kinds: absent, so empty
    }


def test_collections_lists_the_six_layers_and_coverage(client: httpx.Client) -> None:
    body = client.get("/collections").json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == [
        "residential_areas",
        "neighbor_centers",
        "clinics",
        "charging_points",
        "renovation_projects",
        "facilities",
        "renovation_projects_points",
        "renovation_projects_areas",
        "coverage",
    ]
    clinics = body["collections"][2]
    assert clinics["extent"]["spatial"]["bbox"] == [[121.516633, 31.280311, 121.548348, 31.299711]]
    assert client.get("/collections/clinics").json()["title"].startswith("社区卫生服务中心")


def test_items_page_through_with_links(client: httpx.Client) -> None:
    first = client.get("/collections/clinics/items", params={"limit": 2})
    assert first.headers["content-type"] == "application/geo+json"
    body = first.json()
    assert (body["numberMatched"], body["numberReturned"]) == (5, 2)
    assert [f["id"] for f in body["features"]] == ["c-1", "c-2"]
    seen = [f["id"] for f in body["features"]]
    while nxt := [link for link in body["links"] if link["rel"] == "next"]:
        body = client.get(nxt[0]["href"]).json()
        seen += [f["id"] for f in body["features"]]
    assert seen == ["c-1", "c-2", "c-3", "c-4", "c-5"]
    assert body["numberReturned"] == 1 and any(link["rel"] == "prev" for link in body["links"])


def test_bbox_selects_exactly_the_clinic_inside(client: httpx.Client) -> None:
    body = client.get(
        "/collections/clinics/items", params={"bbox": "121.539,31.299,121.541,31.300"}
    ).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["长白社区卫生服务中心"]
    assert body["numberMatched"] == 1


def test_property_filter(client: httpx.Client) -> None:
    body = client.get("/collections/clinics/items", params={"name": "延吉社区卫生服务中心"}).json()
    assert [f["id"] for f in body["features"]] == ["c-2"]
    assert_problem(client.get("/collections/clinics/items", params={"colour": "red"}), 400)


def test_a_limit_above_the_cap_is_capped_not_refused(client: httpx.Client) -> None:
    page = client.get("/collections/clinics/items", params={"limit": 10_001, "offset": 1})
    assert page.status_code == 200
    assert all("limit=10000" in link["href"] for link in page.json()["links"])


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "a,b,c,d"},
        {"bbox": "1e2,31.2,121.5,31.3"},  # plain decimals, as the document's pattern says
        {"limit": 0},
        {"offset": -1},
    ],
)
def test_bad_parameters_are_problems_not_500(client: httpx.Client, params: dict) -> None:
    assert_problem(client.get("/collections/clinics/items", params=params), 400)


def test_a_bbox_west_of_its_east_edge_crosses_the_antimeridian(client: httpx.Client) -> None:
    def matched(bbox: str) -> int:
        answer = client.get("/collections/clinics/items", params={"bbox": bbox})
        assert answer.status_code == 200, answer.text
        return answer.json()["numberMatched"]

    every = matched("-180,-90,180,90")
    assert every > 0
    assert matched("100,-90,-170,90") == every  # 100°E→180°, then −180°→−170°: Shanghai in
    assert matched("170,-90,-170,90") == 0  # 170°E→180°→170°W: no clinic
    assert matched("100,90,180,-90") == every  # latitudes in either order
    assert matched("-999,-99,999,99") == every  # cut at the world's edges


def test_unknown_layers_and_paths_never_reach_the_disk(client: httpx.Client) -> None:
    assert "no layer" in assert_problem(client.get("/collections/hospitals/items"), 404)["detail"]
    assert_problem(client.get("/collections/..%2F..%2Fetc%2Fpasswd/items"), 404)
    assert_problem(client.get("/collections/clinics.geojson"), 404)
    assert_problem(client.get("/no/such/page"), 404)


def test_one_item_and_a_missing_one(client: httpx.Client) -> None:
    response = client.get("/collections/clinics/items/c-3")
    assert response.headers["content-type"] == "application/geo+json"
    feature = response.json()
    assert feature["properties"]["name"] == "控江社区卫生服务中心"
    assert feature["geometry"]["coordinates"] == [121.516633, 31.282509]
    assert "c-9" in assert_problem(client.get("/collections/clinics/items/c-9"), 404)["detail"]


def test_etag_changes_and_edits_on_disk_are_served(
    client: httpx.Client, service: tuple[str, Path]
) -> None:
    before = client.get("/collections/clinics/items")
    assert before.headers["etag"]
    write_clinics(service[1], [*CLINICS, ("c-6", "新增卫生站", 121.55, 31.30)])
    after = client.get("/collections/clinics/items")
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["numberMatched"] == 6
    write_clinics(service[1], CLINICS)


def test_map_page_escapes_data(client: httpx.Client) -> None:
    page = client.get("/", params={"tiles": "none"}, headers=BROWSER)
    assert page.headers["content-type"].startswith("text/html")
    text = shown(page.text)
    assert "社区卫生服务中心/站 Clinics" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<img src=x onerror" not in text
    english = client.get("/", params={"lang": "en", "tiles": "none"}, headers=BROWSER).text
    assert "Clinics 社区卫生服务中心/站" in english


def test_gzip_for_large_bodies(client: httpx.Client) -> None:
    response = client.get("/", headers={"Accept-Encoding": "gzip", **BROWSER})
    assert response.headers.get("content-encoding") == "gzip"


def test_the_document_is_the_openapi_version_the_landing_page_and_conformance_say(
    client: httpx.Client,
) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1.")
    landing = client.get("/", headers={"Accept": "application/json"}).json()
    (desc,) = [link for link in landing["links"] if link["rel"] == "service-desc"]
    assert desc["type"].endswith("version=3.1")
    # OGC API – Features Part 1's oas30 class is for an OpenAPI 3.0 document: not claimed
    claims = client.get("/conformance").json()["conformsTo"]
    assert not any(claim.endswith("/conf/oas30") for claim in claims)
    assert any(claim.endswith("/conf/core") for claim in claims)
