"""Writes through real HTTP: tokens, ETags and If-Match, validation, CRS, caches."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import LAT, LON, clinic, residential_area
from served import serving

from api.deps import LayerCache
from api.main import create_app
from api.routes.items import FEATURE_EXAMPLES
from geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from geo.layers.edit import feature_etag
from geo.schema import LAYER_NAMES
from geo.settings import Settings

TOKEN = "s3cret-令牌-only-for-tests".encode().hex()  # any text; hex keeps it ASCII for headers
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GEOJSON = "application/geo+json"


def write_layer_file(folder: Path, layer: str, features: list[dict]) -> None:
    doc = {"type": "FeatureCollection", "features": features}
    (folder / f"{layer}.geojson").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")


@pytest.fixture
def folder(store: Path) -> Path:
    """Two clinics; a compound 100 m from neither (the clinics are ~1 km east)."""
    write_layer_file(
        store,
        "clinics",
        [
            clinic("C1", "长白社区卫生服务中心", LON + 0.012, LAT),
            clinic("C2", "延吉", LON + 0.02, LAT),
        ],
    )
    write_layer_file(store, "residential_areas", [residential_area("R1", "长白一村")])
    return store


@pytest.fixture
def app(folder: Path):
    return create_app(Settings(data=folder, api_token=TOKEN, network="none"))


@pytest.fixture
def client(app) -> Iterator[httpx.Client]:
    with serving(app) as url, httpx.Client(base_url=url, timeout=20, headers=AUTH) as http:
        yield http


def clinics_bytes(folder: Path) -> bytes:
    return (folder / "clinics.geojson").read_bytes()


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def read(client: httpx.Client, layer: str, feature_id: str) -> tuple[dict, str]:
    """What a planner's client does first: GET the feature and keep its ETag."""
    response = client.get(f"/collections/{layer}/items/{feature_id}")
    assert response.status_code == 200, response.text
    return response.json(), response.headers["etag"]


def version(client: httpx.Client, layer: str, feature_id: str) -> str:
    """The ETag of the feature as served, by the documented scheme (geo.layers.edit.feature_etag)."""
    response = client.get(f"/collections/{layer}/items/{feature_id}")
    assert response.status_code == 200, response.text
    return f'"{feature_etag(response.json())}"'


def without_links(feature: dict) -> dict:
    return {k: v for k, v in feature.items() if k != "links"}


# ------------------------------------------------------------------------------- tokens


def test_without_a_configured_token_writes_are_off(folder: Path) -> None:
    app = create_app(Settings(data=folder, api_token=None, network="none"))
    before = clinics_bytes(folder)
    with serving(app) as url, httpx.Client(base_url=url, headers=AUTH) as http:
        for response in (
            http.post("/collections/clinics/items", json=clinic("C9", "新站")),
            http.put(
                "/collections/clinics/items/C1", json=clinic("C1", "x"), headers={"If-Match": "*"}
            ),
            http.patch(
                "/collections/clinics/items/C1", json={"beds": 1}, headers={"If-Match": "*"}
            ),
            http.delete("/collections/clinics/items/C1", headers={"If-Match": "*"}),
        ):
            detail = assert_problem(response, 403)["detail"]
            assert "set LIFECIRCLE_API_TOKEN and restart" in detail
            assert "Authorization: Bearer <token>" in detail
        assert http.get("/collections/clinics/items/C1").status_code == 200  # reads stay open
    assert clinics_bytes(folder) == before


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, False),
        ({"Authorization": "Bearer wrong"}, True),
        ({"Authorization": f"Bearer {TOKEN}x"}, True),
        ({"Authorization": f"Basic {TOKEN}"}, False),
        ({"Authorization": "Bearer 令牌".encode()}, True),
    ],
)
def test_missing_or_wrong_token_is_401(
    client: httpx.Client, folder: Path, headers: dict, error: bool
) -> None:
    before = clinics_bytes(folder)
    with httpx.Client(base_url=str(client.base_url), headers=headers) as anonymous:
        response = anonymous.post("/collections/clinics/items", json=clinic("C9", "新站"))
        assert_problem(response, 401)
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer")
        assert ('error="invalid_token"' in challenge) is error
        assert_problem(
            anonymous.delete("/collections/clinics/items/C1", headers={"If-Match": "*"}), 401
        )
        assert anonymous.get("/collections/clinics/items").status_code == 200
    assert clinics_bytes(folder) == before


# ------------------------------------------------------------------------------ create


def test_create_is_201_with_location_etag_and_the_stored_feature(
    client: httpx.Client, folder: Path
) -> None:
    response = client.post("/collections/clinics/items", json=clinic("C3", "殷行", beds="8"))
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == GEOJSON
    created = response.json()
    assert created["id"] == "C3" and created["properties"]["beds"] == 8
    assert response.headers["etag"] == f'"{feature_etag(created)}"'
    location = response.headers["location"]
    assert location == f"{client.base_url}/collections/clinics/items/C3"
    got = client.get(location)
    assert without_links(got.json()) == without_links(created)
    assert b'"id":"C3"' in clinics_bytes(folder)


def test_get_serves_the_etag_the_write_returned(client: httpx.Client) -> None:
    created = client.post("/collections/clinics/items", json=clinic("C3", "殷行"))
    _, etag = read(client, "clinics", "C3")
    assert etag == created.headers["etag"]
    patched = client.patch(
        "/collections/clinics/items/C3", json={"beds": 4}, headers={"If-Match": etag}
    )
    assert patched.status_code == 200, patched.text
    assert read(client, "clinics", "C3")[1] == patched.headers["etag"] != etag
    _, other_etag = read(client, "clinics", "C1")
    assert other_etag != etag  # per feature, not per layer


def test_create_without_id_and_with_a_chinese_id(client: httpx.Client) -> None:
    made = client.post("/collections/clinics/items", json=clinic(None, "新站", LON + 0.03, LAT))
    assert made.status_code == 201, made.text
    assert made.json()["id"].startswith("clinics-")
    chinese = client.post("/collections/clinics/items", json=clinic("长白-站1", "长白站"))
    assert chinese.status_code == 201, chinese.text
    assert chinese.headers["location"].endswith("/items/%E9%95%BF%E7%99%BD-%E7%AB%991")
    assert client.get(chinese.headers["location"]).json()["id"] == "长白-站1"


@pytest.mark.parametrize("bad_id", ["../../etc/x", "a/b", "a\\b", "tab\there", "x" * 129])
def test_an_id_that_cannot_be_an_address_is_refused(
    client: httpx.Client, folder: Path, bad_id: str
) -> None:
    before = clinics_bytes(folder)
    body = assert_problem(
        client.post("/collections/clinics/items", json=clinic(bad_id, "新站", LON + 0.03, LAT)), 422
    )
    assert any(e["field"] == "id" and "/" in e["message"] for e in body["errors"])
    assert clinics_bytes(folder) == before


def test_bad_enum_is_422_naming_the_field_and_the_file_is_untouched(
    client: httpx.Client, folder: Path
) -> None:
    before = clinics_bytes(folder)
    response = client.post(
        "/collections/clinics/items", json=clinic("C9", "新站", level="hopsital", beds=-1)
    )
    body = assert_problem(response, 422)
    problems = {e["field"]: e for e in body["errors"]}
    assert set(problems) == {"level", "beds"}
    assert "hospital" in problems["level"]["hint"]
    assert clinics_bytes(folder) == before


def test_duplicate_id_is_409(client: httpx.Client, folder: Path) -> None:
    before = clinics_bytes(folder)
    response = client.post("/collections/clinics/items", json=clinic("C1", "另一个", LON + 0.05))
    assert "C1" in assert_problem(response, 409)["detail"]
    assert clinics_bytes(folder) == before


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"Feature"', GEOJSON),
        (b'{"type": "FeatureCollection", "features": []}', GEOJSON),
        (b'{"type": "Feature", "geometry": NaN, "properties": {}}', GEOJSON),
        (b'{"type": "Feature", "geometry": null, "properties": {"beds": 1e999}}', GEOJSON),
        (b'{"type": "Feature", "properties": {"beds": 1' + b"0" * 400 + b"}}", GEOJSON),
        ("{'type': 'Feature'}".encode("utf-16"), "application/json"),
        (b'{"type": "Feature", "name": "\xff"}', GEOJSON),
    ],
)
def test_unreadable_bodies_are_400_not_500(
    client: httpx.Client, folder: Path, content: bytes, content_type: str
) -> None:
    before = clinics_bytes(folder)
    response = client.post(
        "/collections/clinics/items", content=content, headers={"Content-Type": content_type}
    )
    assert_problem(response, 400)
    assert clinics_bytes(folder) == before


@pytest.mark.parametrize(
    "feature",
    [
        {"type": "Feature"},
        {"type": "Feature", "geometry": "here", "properties": []},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": "x"}, "properties": {}},
        {"type": "Feature", "geometry": {"type": "Point"}, "properties": {"name": {"a": 1}}},
        clinic("C9", "x", beds=[1], level=7),
    ],
)
def test_malformed_features_are_422_not_500(client: httpx.Client, feature: dict) -> None:
    assert assert_problem(client.post("/collections/clinics/items", json=feature), 422)["errors"]


def test_other_media_types_are_415(client: httpx.Client) -> None:
    response = client.post(
        "/collections/clinics/items",
        content=json.dumps(clinic("C9", "x")),
        headers={"Content-Type": "text/plain"},
    )
    assert_problem(response, 415)
    patch = client.patch(
        "/collections/clinics/items/C1",
        content=b'[{"op": "replace", "path": "/properties/beds", "value": 1}]',
        headers={"Content-Type": "application/json-patch+json", "If-Match": "*"},
    )
    assert_problem(patch, 415)


def test_unknown_layers_and_the_coverage_collection(client: httpx.Client) -> None:
    assert (
        "no layer"
        in assert_problem(client.post("/collections/hospitals/items", json=clinic("C9", "x")), 404)[
            "detail"
        ]
    )
    assert_problem(client.patch("/collections/..%2Fsecrets/items/1", json={}), 404)
    response = client.post("/collections/coverage/items", json=clinic("C9", "x"))
    assert "read-only" in assert_problem(response, 405)["detail"]
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_post_in_gcj02_lands_at_the_wgs84_position(client: httpx.Client) -> None:
    gcj_lon, gcj_lat = wgs84_to_gcj02(LON + 0.001, LAT + 0.001)
    response = client.post(
        "/collections/clinics/items",
        params={"crs": "gcj02"},
        json=clinic("C5", "高德坐标的站", gcj_lon, gcj_lat),
    )
    assert response.status_code == 201, response.text
    want = [round(v, 7) for v in gcj02_to_wgs84(gcj_lon, gcj_lat)]
    stored = client.get("/collections/clinics/items/C5").json()["geometry"]["coordinates"]
    assert stored == pytest.approx(want, abs=1.5e-7)
    assert stored != pytest.approx([gcj_lon, gcj_lat], abs=1e-3)  # GCJ-02 is ~500 m off
    assert_problem(
        client.post("/collections/clinics/items", params={"crs": "mars"}, json=clinic("C6", "x")),
        400,
    )


# ------------------------------------------------------------------------ If-Match, 412


def test_without_if_match_the_last_writer_wins_as_part_4_allows(
    client: httpx.Client, folder: Path
) -> None:
    # QGIS and OWSLib send no If-Match: their writes go through
    replaced = client.put("/collections/clinics/items/C1", json=clinic("C1", "新名"))
    assert replaced.status_code == 200, replaced.text
    patched = client.patch("/collections/clinics/items/C1", json={"beds": 1})
    assert patched.status_code == 200 and patched.json()["properties"]["beds"] == 1
    assert client.delete("/collections/clinics/items/C1").status_code == 204
    assert b'"C1"' not in clinics_bytes(folder)


def test_an_operator_can_require_if_match_428(folder: Path) -> None:
    app = create_app(Settings(data=folder, api_token=TOKEN, network="none",
                              require_if_match=True))  # fmt: skip
    before = clinics_bytes(folder)
    with serving(app) as url, httpx.Client(base_url=url, timeout=20, headers=AUTH) as client:
        response = client.put("/collections/clinics/items/C1", json=clinic("C1", "新名"))
        assert "If-Match" in assert_problem(response, 428)["detail"]
        assert_problem(client.patch("/collections/clinics/items/C1", json={"beds": 1}), 428)
        assert_problem(client.delete("/collections/clinics/items/C1"), 428)
    assert clinics_bytes(folder) == before


def test_stale_if_match_is_412_and_the_file_is_untouched(
    client: httpx.Client, folder: Path
) -> None:
    stale = '"' + "0" * 32 + '"'
    before = clinics_bytes(folder)
    response = client.put(
        "/collections/clinics/items/C1", json=clinic("C1", "新名"), headers={"If-Match": stale}
    )
    assert "fetch it again" in assert_problem(response, 412)["detail"]
    assert_problem(client.delete("/collections/clinics/items/C1", headers={"If-Match": stale}), 412)
    assert clinics_bytes(folder) == before


def test_two_planners_editing_the_same_feature(client: httpx.Client, folder: Path) -> None:
    _, etag_a = read(client, "clinics", "C1")
    _, etag_b = read(client, "clinics", "C1")
    assert etag_a == etag_b
    first = client.patch(
        "/collections/clinics/items/C1",
        json={"properties": {"beds": 20}},
        headers={"If-Match": etag_a, "Content-Type": "application/merge-patch+json"},
    )
    assert first.status_code == 200, first.text
    after_a = clinics_bytes(folder)
    second = client.patch(
        "/collections/clinics/items/C1", json={"beds": 99}, headers={"If-Match": etag_b}
    )
    assert_problem(second, 412)
    assert clinics_bytes(folder) == after_a
    feature, etag = read(client, "clinics", "C1")
    assert feature["properties"]["beds"] == 20 and etag == first.headers["etag"]
    retry = client.patch(
        "/collections/clinics/items/C1", json={"beds": 99}, headers={"If-Match": etag}
    )
    assert retry.status_code == 200 and retry.json()["properties"]["beds"] == 99


def test_put_replaces_and_weak_or_star_if_match_is_accepted(client: httpx.Client) -> None:
    etag = version(client, "clinics", "C2")
    replaced = client.put(
        "/collections/clinics/items/C2",
        json=clinic(
            None, "延吉社区卫生服务中心", LON + 0.021, LAT, level="community_health_centre"
        ),
        headers={"If-Match": f"W/{etag}"},
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["content-type"] == GEOJSON
    assert {k: v for k, v in replaced.json()["properties"].items() if v is not None} == {
        "id": "C2",
        "name": "延吉社区卫生服务中心",
        "level": "community_health_centre",
    }
    assert set(replaced.json()["properties"]) >= {"beds", "address", "note"}  # null, listed
    again = client.put(
        "/collections/clinics/items/C2", json=clinic("C2", "延吉"), headers={"If-Match": "*"}
    )
    assert again.status_code == 200 and again.headers["etag"] != replaced.headers["etag"]
    renamed = client.put(
        "/collections/clinics/items/C2", json=clinic("C7", "延吉"), headers={"If-Match": "*"}
    )
    # a body the document calls valid, refused by a rule it cannot state: 409, with errors
    assert [e["field"] for e in assert_problem(renamed, 409)["errors"]] == ["id"]


def test_patch_null_removes_an_optional_property_but_not_a_required_one(
    client: httpx.Client,
) -> None:
    client.patch("/collections/clinics/items/C1", json={"beds": 3}, headers={"If-Match": "*"})
    removed = client.patch(
        "/collections/clinics/items/C1", json={"beds": None}, headers={"If-Match": "*"}
    )
    assert removed.status_code == 200 and removed.json()["properties"]["beds"] is None
    refused = client.patch(
        "/collections/clinics/items/C1", json={"level": None}, headers={"If-Match": "*"}
    )
    # any object is a merge patch: a rule it breaks is a 409 (same bilingual errors)
    assert [e["field"] for e in assert_problem(refused, 409)["errors"]] == ["level"]


def test_delete_then_get_is_404(client: httpx.Client, folder: Path) -> None:
    etag = version(client, "clinics", "C2")
    response = client.delete("/collections/clinics/items/C2", headers={"If-Match": etag})
    assert response.status_code == 204 and response.content == b""
    assert_problem(client.get("/collections/clinics/items/C2"), 404)
    assert_problem(client.delete("/collections/clinics/items/C2", headers={"If-Match": "*"}), 404)
    ids = [f["id"] for f in client.get("/collections/clinics/items").json()["features"]]
    assert ids == ["C1"]
    assert b'"C2"' not in clinics_bytes(folder)


# ------------------------------------------------------------------------------ caches


def test_health_counts_follow_writes(client: httpx.Client) -> None:
    def clinics() -> int:
        return client.get("/health").json()["layers"]["clinics"]

    assert clinics() == 2
    client.post("/collections/clinics/items", json=clinic("C3", "殷行", LON + 0.03, LAT))
    assert clinics() == 3
    client.delete("/collections/clinics/items/C3", headers={"If-Match": "*"})
    client.delete("/collections/clinics/items/C2", headers={"If-Match": "*"})
    assert clinics() == 1


def test_coverage_follows_writes(client: httpx.Client, app) -> None:
    _, before = app.state.studies.coverage()
    assert not bool(before.loc["R1", "clinics_covered"])  # the nearest clinic is ~1 km away
    response = client.post(
        "/collections/clinics/items",
        json=clinic("C4", "长白一村卫生站", LON + 0.0005, LAT - 0.0003),
    )
    assert response.status_code == 201, response.text
    study, after = app.state.studies.coverage()
    assert bool(after.loc["R1", "clinics_covered"]) and after.loc["R1", "clinics_id"] == "C4"
    assert "C4" in study.layers["clinics"].index
    client.delete("/collections/clinics/items/C4", headers={"If-Match": "*"})
    _, again = app.state.studies.coverage()
    assert not bool(again.loc["R1", "clinics_covered"])


def test_layer_cache_forget_sees_a_same_size_rewrite_in_the_same_tick(folder: Path) -> None:
    cache = LayerCache(folder)
    path = folder / "clinics.geojson"
    _, etag = cache.get("clinics")
    stat = path.stat()
    text = path.read_text("utf-8")
    assert "延吉" in text
    path.write_text(text.replace("延吉", "控江"), "utf-8")  # same size in UTF-8
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert cache.get("clinics")[1] == etag  # the stamp cannot tell
    cache.forget("clinics")
    fresh, new_etag = cache.get("clinics")
    assert new_etag != etag and fresh.loc["C2", "name"] == "控江"


# ----------------------------------------------------------------------------- OpenAPI


def test_openapi_documents_the_writes(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    items, item = (
        paths["/collections/clinics/items"],
        paths["/collections/clinics/items/{feature_id}"],
    )
    operations = [items["post"], item["put"], item["patch"], item["delete"]]
    for operation in operations:
        zh, en = operation["summary"].split(" / ")
        assert any("\u4e00" <= c <= "\u9fff" for c in zh) and en.isascii()
        assert operation["security"] == [{"token": []}]
    assert set(items["post"]["responses"]) >= {"201", "401", "403", "409", "422"}
    assert set(item["patch"]["responses"]) >= {"200", "412", "428"}
    post_body = items["post"]["requestBody"]["content"][GEOJSON]
    assert post_body["example"]["type"] == "Feature"
    assert post_body["schema"]["properties"]["properties"]["required"] == ["name", "level"]
    put_body = item["put"]["requestBody"]["content"][GEOJSON]
    assert "id" not in put_body["example"]["properties"]  # the URL's, not the body's
    areas = paths["/collections/residential_areas/items"]["post"]["requestBody"]
    assert areas["content"][GEOJSON]["example"]["geometry"]["type"] == "Polygon"
    # the examples are features their layers accept, one for every layer
    assert set(FEATURE_EXAMPLES) == set(LAYER_NAMES)
    for layer, example in FEATURE_EXAMPLES.items():
        made = client.post(f"/collections/{layer}/items", json=example)
        assert made.status_code == 201, (layer, made.text)
    patch_types = item["patch"]["requestBody"]["content"]
    assert "application/merge-patch+json" in patch_types
    assert {"properties", "feature"} <= set(patch_types["application/json"]["examples"])


def test_writes_are_served_even_when_the_file_stamp_cannot_tell(
    client: httpx.Client, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two writes in one mtime tick with the same size look alike to the cache's stamp;
    # the routes drop the cached layer after every write, so the stamp does not matter.
    monkeypatch.setattr(app.state.layers, "_stamp", lambda layer: (1, 1))
    assert client.get("/health").json()["layers"]["clinics"] == 2
    client.patch("/collections/clinics/items/C1", json={"beds": 7}, headers={"If-Match": "*"})
    assert client.get("/collections/clinics/items/C1").json()["properties"]["beds"] == 7
    client.post("/collections/clinics/items", json=clinic("C3", "殷行", LON + 0.03, LAT))
    assert client.get("/health").json()["layers"]["clinics"] == 3


def test_a_browser_client_on_another_origin_can_edit(folder: Path) -> None:
    """What a district system's web page does: preflight, read the ETag, PATCH with If-Match."""
    origin = "https://jiedao.example.cn"
    app = create_app(Settings(data=folder, api_token=TOKEN, network="none", cors_origins=[origin]))
    with serving(app) as url, httpx.Client(base_url=url, timeout=20) as http:
        preflight = http.options(
            "/collections/clinics/items/C1",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, if-match, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert {"authorization", "if-match", "content-type"} <= {
            h.strip() for h in allowed.split(",")
        }
        got = http.get("/collections/clinics/items/C1", headers={"Origin": origin})
        exposed = got.headers["access-control-expose-headers"].lower()
        assert "etag" in exposed and "location" in exposed
        patched = http.patch(
            "/collections/clinics/items/C1",
            json={"properties": {"name": "长白社区卫生服务中心（新）"}},
            headers={**AUTH, "Origin": origin, "If-Match": got.headers["etag"]},
        )
        assert patched.status_code == 200, patched.text
        elsewhere = http.options(
            "/collections/clinics/items/C1",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PATCH"},
        )
        assert "access-control-allow-origin" not in elsewhere.headers


def test_the_served_map_page_follows_an_edit(client: httpx.Client) -> None:
    # the dashboard page is rendered once per data version: an edit shows at the next visit
    browser = {"Accept": "text/html"}
    before = client.get("/", params={"tiles": "none"}, headers=browser).text
    assert "殷行新站" not in before
    assert client.get("/", params={"tiles": "none"}, headers=browser).text == before
    added = client.post(
        "/collections/clinics/items", json=clinic("C9", "殷行新站", LON + 0.002, LAT)
    )
    assert added.status_code == 201, added.text
    assert "殷行新站" in client.get("/", params={"tiles": "none"}, headers=browser).text
