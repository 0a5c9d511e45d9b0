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
    response = client.post("/scenarios", json={"remove": [{"type": "clinics", "id": "x"}]})
    assert response.status_code == 400
    assert "remove #1" in response.json()["detail"]
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
    assert client.get("/recommendations", params={"points": text}).status_code == 400


def test_scenario_map_marks_the_new_site(served) -> None:
    client, _ = served
    body = {"name": "plan", "sites": [{"project_id": "rp-020", "type": "neighbor_centers"}]}
    page = client.post("/scenarios", params={"f": "html"}, json=body)
    assert page.headers["content-type"].startswith("text/html")
    assert "★ plan-neighbor_centers-1" in page.text
