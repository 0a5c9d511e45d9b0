"""Scenarios and recommendations through real HTTP on the bundled sample."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
from served import serving

from api.main import create_app
from geo.analysis.coverage import analyze_areas
from geo.analysis.planning import Scenario, compare, recommend_sites
from geo.analysis.study import Study
from geo.crs import wgs84_to_gcj02
from geo.errors import QueryError
from geo.layers.folder import FolderStore
from geo.layers.scenarios import FolderShelf, scenario_shelf
from geo.settings import DEFAULT_DATA_DIR, Settings


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Study]]:
    folder = tmp_path_factory.mktemp("plan")
    shutil.copytree(
        DEFAULT_DATA_DIR, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*")
    )
    with (
        serving(create_app(Settings(data=folder))) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        yield client, Study.load(folder)


def test_scenario_matches_the_library(served) -> None:
    client, study = served
    body = {"name": "test", "add": [{"type": "charging_points", "lon": 121.5525, "lat": 31.3030}]}
    before = (DEFAULT_DATA_DIR / "charging_points.geojson").read_bytes()
    answer = client.post("/scenarios", json=body).json()
    expected = compare(study, Scenario.from_dict(body))
    overall = next(
        r
        for r in answer["by_subdistrict"]
        if r["subdistrict"] == "全部 / all" and r["type"] == "charging_points"
    )
    want = expected.by_subdistrict.query(
        "subdistrict == '全部 / all' and type == 'charging_points'"
    ).iloc[0]
    assert overall["population_gained"] == want["population_gained"] > 0
    changed = {f["id"] for f in answer["changed_areas"]["features"]}
    assert changed == set(expected.changes.index[expected.changes["charging_points_gained"]])
    assert (DEFAULT_DATA_DIR / "charging_points.geojson").read_bytes() == before


def test_bad_scenario_is_400_naming_the_entry(served) -> None:
    client, _ = served
    # well formed, but no such clinic: a conflict with the layers as they are (409)
    response = client.post("/scenarios", json={"remove": [{"type": "clinics", "id": "x"}]})
    assert response.status_code == 409
    assert (
        "remove #1" in response.json()["detail"] and "no x in clinics" in response.json()["detail"]
    )
    # not as the document says (a key it does not list, a number as text): 400, naming it
    for body, field in (({"remove": [{"type": "clinics", "id": "clinic-001", "why": 1}]}, "why"),
                        ({"add": [{"type": "clinics", "lon": "121.5", "lat": 31.3}]}, "lon"),
                        ({"plan": []}, "plan")):  # fmt: skip
        answer = client.post("/scenarios", json=body)
        assert answer.status_code == 400, body
        assert any(field in e["field"] for e in answer.json()["errors"]), answer.json()
    assert (
        client.post(
            "/scenarios", content=b"[1,2]", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )


def test_recommendations_match_the_library(served) -> None:
    client, study = served
    body = client.get("/recommendations", params={"type": "charging_points", "k": 3}).json()
    expected = recommend_sites(study, "charging_points", k=3)
    assert [f["properties"]["candidate_id"] for f in body["features"]] == expected.sites[
        "candidate_id"
    ].tolist()
    assert body["covered_population"] == expected.covered_population
    gains = [f["properties"]["population_newly_covered"] for f in body["features"]]
    assert gains == sorted(gains, reverse=True)
    exact = client.get(
        "/recommendations", params={"type": "charging_points", "k": 3, "method": "exact"}
    ).json()
    assert exact["covered_population"] >= body["covered_population"]


def test_recommendations_among_points_given_in_gaode_coordinates(served) -> None:
    client, study = served
    # three sites a planner has in mind: by two compounds without a charger, and one far off
    uncovered = analyze_areas(study)["charging_points_covered"]
    areas = study.layers["residential_areas"]
    spots = areas.geometry[~uncovered].representative_point().iloc[:2]
    xy = [(p.x, p.y) for p in spots] + [(121.40, 31.40)]
    glon, glat = wgs84_to_gcj02([x for x, _ in xy], [y for _, y in xy])
    text = ";".join(f"{x:.7f},{y:.7f}" for x, y in zip(glon, glat, strict=True))
    body = client.get("/recommendations", params={
        "type": "charging_points", "k": 2, "candidates": "points", "points": text,
        "crs": "gcj02"}).json()  # fmt: skip
    expected = recommend_sites(study, "charging_points", k=2, candidates="points", points=xy)
    got = [f["properties"]["candidate_id"] for f in body["features"]]
    assert got == expected.sites["candidate_id"].tolist()
    assert "point-3" not in got and body["covered_population"] > 0
    for bad in ("", "121.5", "121.5,31.3;abc", "500,31"):
        answer = client.get("/recommendations", params={"candidates": "points", "points": bad})
        assert answer.status_code == 400 and "lon,lat" in answer.json()["detail"]
    # points with another source of candidates: checked, then left aside
    aside = client.get("/recommendations", params={"points": text})
    assert aside.status_code == 200
    assert aside.json() == client.get("/recommendations").json()
    assert client.get("/recommendations", params={"points": "500,31"}).status_code == 400
    # candidates=points without points: no candidate, no site, and why
    none = client.get("/recommendations", params={"candidates": "points"}).json()
    assert none["features"] == [] and "no candidate points" in none["reason"]


def test_scenario_map_marks_the_new_site(served) -> None:
    client, _ = served
    body = {"name": "plan", "sites": [{"project_id": "rp-020", "type": "neighbor_centers"}]}
    page = client.post("/scenarios", params={"f": "html"}, json=body)
    assert page.headers["content-type"].startswith("text/html")
    assert "★ plan-neighbor_centers-1" in page.text


def test_saved_scenarios_outlive_the_service(tmp_path) -> None:
    shutil.copytree(DEFAULT_DATA_DIR, tmp_path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".*"))  # fmt: skip
    plan = {"add": [{"type": "charging_points", "lon": 121.5525, "lat": 31.3030, "name": "新车棚"}],
            "remove": [{"type": "clinics", "id": "clinic-001"}]}  # fmt: skip
    with (
        serving(create_app(Settings(data=tmp_path, warm=False))) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        saved = client.put("/scenarios/228 新车棚", json=plan)
        assert saved.status_code == 200, saved.text
        assert client.put("/scenarios/second", json={}).status_code == 200
        assert client.delete("/scenarios/second").status_code == 204
        assert client.get("/scenarios/second").status_code == 404
    assert (tmp_path / "scenarios" / "228 新车棚.json").is_file()
    # a new service on the same folder: what the planner saved is still there
    with (
        serving(create_app(Settings(data=tmp_path, warm=False))) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        again = client.get("/scenarios/228 新车棚").json()
        assert again["add"] == plan["add"] and again["remove"] == plan["remove"]
        assert again["saved"] == saved.json()["saved"]
        listed = client.get("/scenarios").json()
        assert listed["persistent"] is True
        assert listed["scenarios"] == [{"name": "228 新车棚", "saved": again["saved"],
                                        "add": 1, "move": 0, "remove": 1, "sites": 0}]  # fmt: skip
        # what GET answers can be posted back as it is
        posted = client.post("/scenarios", json=again)
        assert posted.status_code == 200 and posted.json()["by_subdistrict"]
        # (a client resolves a bare ".." itself; encoded, it reaches the service)
        for bad in ("%2E%2E", ".hidden", "a\\b", "a:b", "x" * 81, "a;b", "..%5C..%5Cx"):
            answer = client.put(f"/scenarios/{bad}", json=plan)
            assert answer.status_code == 400, bad
            assert (
                "方案名" in answer.json()["detail"] and "scenario name" in answer.json()["detail"]
            )
            assert client.get(f"/scenarios/{bad}").status_code == 400
        huge = {"add": [{"type": "clinics", "lon": 121.5, "lat": 31.3, "name": "x" * 100}] * 5000}
        answer = client.put("/scenarios/huge", json=huge)
        assert answer.status_code == 400 and "too large" in answer.json()["detail"]
        assert client.put("/scenarios/bad", json={"add": "x"}).status_code == 400
        # an entry the layers refuse is not saved: the same message as POST /scenarios
        refused = client.put("/scenarios/bad", json={"remove": [{"type": "clinics", "id": "x"}]})
        assert refused.status_code == 409 and "remove #1" in refused.json()["detail"]
    files = sorted(p.name for p in (tmp_path / "scenarios").iterdir())
    assert files == ["228 新车棚.json"]  # nothing written for refused names or bodies
    shelf = FolderShelf(tmp_path / "scenarios")
    for bad in ("..", "../layers", "/etc/passwd", "a/b", "", " ", "a\nb", "a\x00"):
        with pytest.raises(QueryError, match="scenario name"):
            shelf.save(bad, plan)


def test_a_store_that_is_not_a_folder_keeps_scenarios_in_memory(tmp_path) -> None:
    shelf = scenario_shelf(object())
    assert not shelf.persistent
    shelf.save("a", {"sites": [{"project_id": "rp-020", "type": "clinics"}]})
    assert shelf.list()[0]["sites"] == 1 and shelf.get("a")["sites"][0]["project_id"] == "rp-020"
    assert isinstance(scenario_shelf(FolderStore(tmp_path)), FolderShelf)
