"""Issue 13 items 3 and 7: "why and how far" and printing, in the workbench's panel.

``geo.analysis.catchment`` by hand on the drawn neighbourhood; ``/catchment`` against it; then
Debian's Chromium (the fixtures of tests/workbench_fixtures.py) at 1400×900 and 390×844: clicking
a compound draws its walk to the nearest facility with /nearest's metres, clicking the map
shows a catchment equal to ``catchment()`` in Python, and the print stylesheet hides the
controls and keeps the title and legend. Screenshots go to test-output/.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import shapely
from served import serving
from workbench_fixtures import open_workbench, output

from api.main import create_app
from geo.analysis.catchment import area_walks, catchment, start_point
from geo.analysis.params import WalkParams
from geo.analysis.study import Study
from geo.errors import QueryError
from geo.settings import DEFAULT_DATA_DIR, Settings
from geo.testing import drawn_study, lonlat

# --- catchment() by hand ----------------------------------------------------------------------


def test_catchment_by_hand_on_the_drawn_neighbourhood() -> None:
    drawn = drawn_study()
    # from street A's 600 m mark: the gated compound's gate is 30 m off A at 150 m (450 + 30),
    # the compound touching street B starts 550 m up B (400 + 550); the remote compound
    # (2 km away, no street within 250 m) and the island (another network piece) never
    walks = area_walks(drawn, *lonlat(600, 0))
    assert walks["gated"] == pytest.approx(480.0, abs=0.01)
    assert walks["touching"] == pytest.approx(950.0, abs=0.01)
    assert math.isinf(walks["island"])
    table = catchment(drawn, *lonlat(600, 0), minutes=(7.5, 15), params=WalkParams())
    # 4 km/h: 7.5 minutes is 500 m, 15 minutes 1000 m
    assert table["limit_m"].tolist() == [500.0, 1000.0]
    assert table["ids"].tolist() == [["gated"], ["gated", "touching"]]
    assert table["households"].tolist() == [100, 300]
    assert table["population"].tolist() == [250, 750]
    assert table["elderly"].tolist() == [100, 250]
    # the elderly walker (3 km/h): 15 minutes is 750 m, the touching compound is past it
    slow = catchment(drawn, *lonlat(600, 0), minutes=(15,), params=WalkParams.parse("elderly"))
    assert slow["ids"].tolist() == [["gated"]] and slow["population"].tolist() == [250]


def test_a_point_inside_a_compound_is_zero_metres_from_it() -> None:
    drawn = drawn_study()
    walks = area_walks(drawn, *lonlat(150, 80))  # inside the gated compound, 80 m off A
    assert walks["gated"] == 0.0


def test_a_point_on_the_origins_edge_walks_straight_along_it() -> None:
    drawn = drawn_study()
    # 10 m from the gate's foot along A: 10 + 30, not round either end of A
    assert area_walks(drawn, *lonlat(160, 0))["gated"] == pytest.approx(40.0, abs=0.01)


def test_an_unreachable_point_reaches_nobody_and_says_why_and_bad_minutes_are_refused() -> None:
    drawn = drawn_study()
    far = catchment(drawn, *lonlat(2500, 2500), minutes=(5, 30))
    assert far["compounds"].tolist() == [0, 0] and far["population"].tolist() == [0, 0]
    assert "无法到达" in far.attrs["reason"] and "cannot be reached" in far.attrs["reason"]
    with pytest.raises(QueryError):
        catchment(drawn, *lonlat(600, 0), minutes=(-1,))


def test_start_point_is_the_gate() -> None:
    drawn = drawn_study()
    assert np.allclose(start_point(drawn, "gated", "clinics"), lonlat(150, 30), atol=1e-7)


# --- /catchment -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = create_app(Settings(data=DEFAULT_DATA_DIR, warm=False))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def test_the_catchment_route_is_catchment(client: httpx.Client) -> None:
    sample = Study.load(DEFAULT_DATA_DIR)
    lon, lat = 121.5405, 31.299
    body = client.get(
        "/catchment", params={"lon": lon, "lat": lat, "minutes": "5,10", "profile": "elderly"}
    ).json()
    expected = catchment(sample, lon, lat, (5, 10), WalkParams.parse("elderly"))
    assert body["profile"] == "elderly" and body["speed_kmh"] == 3.0
    assert [r["population"] for r in body["catchments"]] == expected["population"].tolist()
    assert [r["ids"] for r in body["catchments"]] == expected["ids"].tolist()
    assert body["catchments"][1]["population"] > body["catchments"][0]["population"] > 0


@pytest.mark.parametrize(
    "query",
    ["lon=121.54&lat=31.3&minutes=abc", "lon=500&lat=31.3", "lat=31.3",
     "lon=121.54&lat=31.3&minutes=5,1e1", "lon=121.54&lat=31.3&minutes=" + ",".join(["5"] * 13)],
)  # fmt: skip
def test_bad_catchment_requests_are_bilingual_400s(client: httpx.Client, query: str) -> None:
    answer = client.get(f"/catchment?{query}")
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert " / " in detail and any("\u4e00" <= ch <= "\u9fff" for ch in detail)


def test_a_point_far_from_every_street_has_an_empty_catchment_and_the_reason(
    client: httpx.Client,
) -> None:
    # as /nearest answers it: 200, nothing reached, why in both languages
    body = client.get("/catchment", params={"lon": 0, "lat": 0, "minutes": "5,10"}).json()
    assert [row["compounds"] for row in body["catchments"]] == [0, 0]
    assert [row["ids"] for row in body["catchments"]] == [[], []]
    assert "无法到达" in body["reason"] and "cannot be reached" in body["reason"]


def test_start_of_an_unknown_compound_is_404(client: httpx.Client) -> None:
    answer = client.get("/catchment/start?id=nope&type=clinics")
    assert answer.status_code == 404 and "nope" in answer.json()["detail"]


# --- the panel, in Chromium -------------------------------------------------------------------


def explored(page) -> int:
    return int(page.evaluate("document.documentElement.dataset.lcExplored || 0"))


def wait_explored(page, after: int) -> None:
    page.wait_for_function(
        f"() => +(document.documentElement.dataset.lcExplored || 0) > {after}", timeout=30_000
    )


def snap_shot(page, name: str) -> None:
    page.screenshot(path=str(output() / f"workbench-explore-{name}-{page.lc_size}.png"))


#: A compound whose centre is its own pixel, in page coordinates, found in the page.
FIND_COMPOUND = """() => {
  const config = JSON.parse(document.getElementById('lc-workbench-config').textContent);
  const map = window[config.map], box = map.getContainer().getBoundingClientRect();
  const found = [];
  function visit(layer) {
    if (layer.eachLayer && !layer.feature) { layer.eachLayer(visit); return; }
    if (!layer.feature || !layer._path || !layer.getCenter) return;
    const p = map.latLngToContainerPoint(layer.getCenter());
    const x = box.left + p.x, y = box.top + p.y;
    if (x < box.left + 60 || y < box.top + 60 || x > box.right - 20 || y > box.bottom - 20) return;
    if (document.elementFromPoint(x, y) === layer._path) found.push({id: String(layer.feature.id), x, y});
  }
  window[config.areas].eachLayer(visit);
  return found;
}"""

#: Page coordinates of lon/lat, and whether the map itself (no layer) is there.
AT = """([lon, lat]) => {
  const config = JSON.parse(document.getElementById('lc-workbench-config').textContent);
  const map = window[config.map], box = map.getContainer().getBoundingClientRect();
  const p = map.latLngToContainerPoint([lat, lon]);
  const x = box.left + p.x, y = box.top + p.y;
  const inside = x > box.left + 60 && y > box.top + 60 && x < box.right - 60 && y < box.bottom - 30;
  const hit = document.elementFromPoint(x, y);
  const bare = !!hit && !hit.classList.contains('leaflet-interactive')
    && !!hit.closest('.leaflet-container') && !hit.closest('.leaflet-control');
  return {x, y, ok: inside && bare};
}"""


def test_clicking_a_compound_draws_its_walk(page, base_url: str, study: Study) -> None:
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics")
    candidates = page.evaluate(FIND_COMPOUND)
    assert candidates, "no compound is clickable at its centre"
    target = candidates[len(candidates) // 2]
    before = explored(page)
    page.mouse.click(target["x"], target["y"])
    wait_explored(page, before)
    route = page.evaluate("window.lcExplore.route")
    assert route["id"] == target["id"] and route["walk_m"] is not None
    # the metres shown are /nearest's for the point the walk starts from
    answer = page.request.get(
        f"{base_url}/nearest?lon={route['lon']}&lat={route['lat']}&type=clinics&route=true"
    ).json()
    facility = next(f for f in answer["features"] if f["geometry"]["type"] == "Point")
    line = next(f for f in answer["features"] if f["geometry"]["type"] != "Point")
    assert route["walk_m"] == facility["properties"]["walk_m"] == line["properties"]["walk_m"]
    assert route["route_m"] == line["properties"]["walk_m"]
    shown = page.get_attribute("#lc-explore-route", "data-walk-m")
    assert float(shown) == facility["properties"]["walk_m"]
    assert f"{facility['properties']['walk_m']} 米" in page.inner_text("#lc-explore-route")
    # it starts where coverage starts the compound's walk: the same metres, near enough
    expected = start_point(study, target["id"], "clinics")
    assert np.allclose([route["lon"], route["lat"]], expected, atol=1e-6)
    # the route is drawn in its colour
    assert page.locator("path[stroke='#CC79A7']").count() >= 1
    snap_shot(page, "route")
    assert page.lc_errors == []


def bare_point(page, study: Study) -> dict:
    """A point on a street, in no compound, where a click reaches the map itself."""
    net = study.network
    areas = study.layers["residential_areas"]
    middle = shapely.line_interpolate_point(net.edge_geometry, 0.5, normalized=True)
    lengths = net.edge_length
    back = study.crs  # metric → WGS-84
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(back, "EPSG:4326", always_xy=True)
    order = np.argsort(-lengths)[:300]
    lons, lats = to_lonlat.transform(shapely.get_x(middle[order]), shapely.get_y(middle[order]))
    union = areas.geometry.union_all().buffer(0.0003)
    for lon, lat in zip(lons, lats, strict=True):
        if union.contains(shapely.Point(lon, lat)):
            continue
        where = page.evaluate(AT, [float(lon), float(lat)])
        if where["ok"]:
            return where
    raise AssertionError("no bare street point on the map")


def test_clicking_the_map_shows_a_catchment(page, base_url: str, study: Study) -> None:
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics")
    where = bare_point(page, study)
    before = explored(page)
    page.mouse.click(where["x"], where["y"])
    wait_explored(page, before)
    asked = page.evaluate("window.lcExplore.point")
    minutes = [float(m) for m in asked["minutes"].split(",")]
    assert minutes == [7.5, 15.0]  # half the 15-minute clinic threshold, and all of it
    expected = catchment(study, asked["lon"], asked["lat"], minutes, WalkParams())
    rows = page.eval_on_selector_all(
        "#lc-catchment tr[data-population]",
        "rs => rs.map(r => ({population: +r.dataset.population, elderly: +r.dataset.elderly,"
        " households: +r.dataset.households, compounds: +r.dataset.compounds}))",
    )
    assert [r["population"] for r in rows] == expected["population"].tolist()
    assert [r["elderly"] for r in rows] == expected["elderly"].tolist()
    assert [r["households"] for r in rows] == expected["households"].tolist()
    assert [r["compounds"] for r in rows] == expected["compounds"].tolist()
    assert rows[-1]["population"] > 0
    # its isochrones are drawn, and its three nearest clinics listed
    assert page.locator("path[stroke='#0072B2']").count() >= 1
    assert page.locator("#lc-explore-nearest li").count() == 3
    snap_shot(page, "catchment")
    # the button clears it
    page.locator("#lc-explore-clear").scroll_into_view_if_needed()
    page.click("#lc-explore-clear")
    assert page.locator("#lc-catchment").count() == 0
    assert page.locator("path[stroke='#0072B2']").count() == 0
    assert page.lc_errors == []


def style(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")


def test_the_printed_page_is_a_clean_map(page, base_url: str) -> None:
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics")
    assert style(page, ".leaflet-control-zoom", "display") != "none"
    assert style(page, "#lc-print-head", "display") == "none"
    page.wait_for_function("() => document.getElementById('lc-print-head').textContent"
                           ".includes('ETag')")  # fmt: skip
    page.emulate_media(media="print")
    for hidden in (".leaflet-control-zoom", "#lc-controls", "#lc-toggle", "#lc-layers",
                   "#lc-gaps", "#lc-explore .lc-explore-buttons"):  # fmt: skip
        assert style(page, hidden, "display") == "none", hidden
    for kept in ("#lc-print-head", "#lc-key", ".leaflet-control-scale"):
        assert style(page, kept, "display") != "none", kept
        assert page.is_visible(kept), kept
    head = page.inner_text("#lc-print-head")
    assert "15分钟社区生活圈" in head and "ETag" in head and "打印时间" in head
    assert "图例" in page.inner_text("#lc-key")
    # the map takes the page beside the legend column
    box = page.eval_on_selector(".folium-map", "e => e.getBoundingClientRect().toJSON()")
    assert box["width"] > page.viewport_size["width"] * 0.5
    snap_shot(page, "print")
    if page.lc_size == "desktop":
        page.pdf(path=str(output() / "workbench-explore-print.pdf"), prefer_css_page_size=True,
                 print_background=True)  # fmt: skip
    page.emulate_media(media="screen")
    assert style(page, ".leaflet-control-zoom", "display") != "none"
    assert page.lc_errors == []
