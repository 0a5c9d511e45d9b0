"""The gap list's routes (/gaps.json, /gaps.csv, /gaps.xlsx) and the workbench's page data,
without a browser."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from served import serving

from api.main import create_app
from geo.analysis.coverage import analyze_areas, gaps
from geo.analysis.params import WalkParams
from geo.analysis.study import Study
from geo.maps.workbench import GAP_COLUMNS
from geo.settings import DEFAULT_DATA_DIR, Settings


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = create_app(Settings(data=DEFAULT_DATA_DIR, warm=False))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def study() -> Study:
    return Study.load(DEFAULT_DATA_DIR)


@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("type=charging_points", WalkParams()),
        (
            "type=clinics&profile=elderly&minutes=clinics=8",
            WalkParams.parse("elderly", "clinics=8"),
        ),
        ("type=neighbor_centers&speed=2.5", WalkParams.parse(speed=2.5)),
    ],
)
def test_gap_rows_are_geos_gaps(client: httpx.Client, study: Study, query: str, params) -> None:
    body = client.get(f"/gaps.json?{query}").json()
    kind = body["type"]
    expected = gaps(study.layers["residential_areas"], analyze_areas(study, params), types=(kind,))
    assert [r["id"] for r in body["rows"]] == list(expected.index)
    assert body["totals"]["compounds"] == len(expected)
    assert body["totals"]["population"] == expected["population"].sum()
    assert body["totals"]["elderly"] == expected["elderly"].sum()
    assert body["speed_kmh"] == params.profile.speed_kmh
    for row in body["rows"]:
        if row["walk_m"] is not None:  # minutes rounded up: past the threshold reads past it
            assert row["minutes"] * params.profile.metres_per_minute >= row["walk_m"] - 1e-6


def test_csv_has_a_bom_and_chinese_headers(client: httpx.Client) -> None:
    answer = client.get("/gaps.csv?type=charging_points")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == [names[0] for _, names in GAP_COLUMNS]
    body = client.get("/gaps.json?type=charging_points").json()
    assert [r[0] for r in rows[1:]] == [r["id"] for r in body["rows"]]
    english = client.get("/gaps.csv?type=charging_points&lang=en").content.decode("utf-8-sig")
    assert english.splitlines()[0] == ",".join(names[1] for _, names in GAP_COLUMNS)


def test_xlsx_opens_with_the_same_rows(client: httpx.Client) -> None:
    from openpyxl import load_workbook

    answer = client.get("/gaps.xlsx?type=charging_points&subdistrict=长白新村街道")
    assert answer.status_code == 200
    values = list(load_workbook(io.BytesIO(answer.content)).active.values)
    assert list(values[0]) == [names[0] for _, names in GAP_COLUMNS]
    body = client.get("/gaps.json?type=charging_points&subdistrict=长白新村街道").json()
    assert [v[0] for v in values[1:]] == [r["id"] for r in body["rows"]]
    assert all(r["subdistrict"] == "长白新村街道" for r in body["rows"])


def test_bad_queries_are_bilingual_400s(client: httpx.Client) -> None:
    for query in ("speed=20", "minutes=clinics=0", "type=bakeries"):
        answer = client.get(f"/gaps.csv?{query}")
        assert answer.status_code in (400, 422), query
    # a 街道 the study does not have is not found (404), the ones it has listed
    nowhere = client.get("/gaps.csv?subdistrict=nowhere")
    assert nowhere.status_code == 404 and "长白新村街道" in nowhere.json()["detail"]
    assert "没有街道" in nowhere.json()["detail"] and "no subdistrict" in nowhere.json()["detail"]


def test_the_served_dashboard_carries_the_workbench(client: httpx.Client) -> None:
    page = client.get("/?tiles=none", headers={"Accept": "text/html"}).text  # as a browser asks
    assert '<script src="/static/workbench.js?v=' in page
    assert '<link rel="stylesheet" href="/static/workbench.css?v=' in page
    found = re.search(
        r'<script type="application/json" id="lc-workbench-config">(.*?)</script>', page
    )
    assert found
    config = json.loads(found.group(1))
    assert f"var {config['map']} = L.map(" in page
    assert config["state"]["type"] == "clinics" and config["bands"] == [0.5, 1.0, 1.5]
    assert len(config["initial"]["data"]) == 55
    assert 'id="lc-summary"' in page and 'id="lc-panel"' in page
    # a standalone file keeps its summary box, without the workbench
    from geo.maps.dashboard import Computed, dashboard_map

    standalone = dashboard_map(Computed(Study.load()), "clinics", WalkParams()).get_root().render()
    assert "lc-workbench-config" not in standalone and "lc-summary" in standalone
