"""The workbench's planning sections (static/panel-plan.js) as a planner uses them: Debian's
Chromium via Playwright at a desktop's 1400×900.

Recommended sites in the page are the API's (same candidates, order and numbers); a charging
point added by clicking the map gains what ``geo.analysis.planning.compare`` says; dragging
and deleting are edits too; a kept scenario reopens from ``/?scenario=NAME``. Screenshots go
to test-output/.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from browser import OUTPUT, launched
from served import serving
from workbench_fixtures import centre_is, output

from api.main import create_app
from geo.analysis.coverage import analyze_areas
from geo.analysis.params import WalkParams
from geo.analysis.planning import Scenario, apply_scenario, candidate_sites, compare
from geo.analysis.study import Study
from geo.settings import DEFAULT_DATA_DIR, Settings

ALL = "全部 / all"


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    shutil.copytree(
        DEFAULT_DATA_DIR, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*")
    )
    return folder


@pytest.fixture(scope="module")
def study(data_folder: Path) -> Study:
    return Study.load(data_folder)


@pytest.fixture(scope="module")
def base_url(data_folder: Path) -> Iterator[str]:
    with serving(create_app(Settings(data=data_folder))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with launched() as running:
        yield running


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.lc_errors = []
    page.on("console", lambda m: m.type == "error" and page.lc_errors.append(m.text))
    page.on("pageerror", lambda e: page.lc_errors.append(str(e)))
    yield page
    context.close()


def shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"workbench-plan-{name}.png"), full_page=True)


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.documentElement.dataset.lcPainted", timeout=30_000)
    page.wait_for_function("() => document.documentElement.dataset.lcPlanReady", timeout=30_000)


def plan_serial(page) -> int:
    return int(page.evaluate("document.documentElement.dataset.lcPlan || 0"))


def wait_plan(page, after: int) -> None:
    page.wait_for_function(
        f"() => +(document.documentElement.dataset.lcPlan || 0) > {after}", timeout=30_000
    )


def click_map_at(page, lon: float, lat: float) -> None:
    point = page.evaluate(
        f"() => {{ const m = window.lcWorkbench.map;"
        f" const p = m.latLngToContainerPoint([{lat}, {lon}]);"
        f" const r = m.getContainer().getBoundingClientRect();"
        f" return [r.left + p.x, r.top + p.y]; }}"
    )
    page.mouse.click(point[0], point[1])


def totals(page) -> dict[str, int]:
    return page.eval_on_selector(
        "#lc-plan-totals",
        "e => ({population_gained: +e.dataset.populationGained,"
        " elderly_gained: +e.dataset.elderlyGained, population_lost: +e.dataset.populationLost,"
        " elderly_lost: +e.dataset.elderlyLost})",
    )


def expected(study: Study, scenario: dict) -> dict[str, dict[str, int]]:
    """Per 街道, what geo computes for charging points in this scenario."""
    result = compare(study, Scenario.from_dict(scenario), WalkParams())
    rows = result.by_subdistrict[result.by_subdistrict["type"] == "charging_points"]
    keys = ["population_gained", "elderly_gained", "population_lost", "elderly_lost"]
    return {r["subdistrict"]: {k: int(r[k]) for k in keys} for r in rows.to_dict("records")}


def table(page) -> dict[str, dict[str, int]]:
    rows = page.eval_on_selector_all(
        "#lc-plan-table tr[data-subdistrict]",
        "trs => trs.map(tr => [tr.dataset.subdistrict,"
        " [...tr.querySelectorAll('td')].slice(1).map(td => +td.textContent)])",
    )
    keys = ["population_gained", "elderly_gained", "population_lost", "elderly_lost"]
    return {name: dict(zip(keys, values, strict=True)) for name, values in rows}


def changed(rows: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {k: v for k, v in rows.items() if k != ALL and any(v.values())}


@pytest.mark.parametrize("source", ["street_nodes", "neighbor_centers"])
def test_recommended_sites_are_the_apis(page, base_url: str, source: str) -> None:
    open_page(page, f"{base_url}/?tiles=none&type=charging_points")
    page.fill("#lc-rec-k", "4")
    page.select_option("#lc-rec-source", source)
    page.fill("#lc-rec-weight", "2")
    page.click("#lc-rec-go")
    page.wait_for_function("() => document.documentElement.dataset.lcRec", timeout=30_000)
    url = page.evaluate("window.lcPlan.recommendedURL")
    assert "k=4" in url and f"candidates={source}" in url and "elderly_weight=2" in url
    api = page.request.get(base_url + url).json()
    listed = page.eval_on_selector_all(
        "#lc-rec-sites li",
        "lis => lis.map(li => [li.dataset.candidate, +li.dataset.population,"
        " +li.dataset.elderly, li.querySelector('.lc-rec-name').textContent])",
    )
    wanted = [[f["properties"][k] for k in ("candidate_id", "population_newly_covered",
               "elderly_newly_covered", "name")] for f in api["features"]]  # fmt: skip
    assert listed == wanted and len(listed) >= 1
    # numbered markers in order, and names a planner can read (not "node-146")
    numbers = page.eval_on_selector_all(".lc-rec-marker", "ms => ms.map(m => m.textContent)")
    assert numbers == [str(n) for n in range(1, len(listed) + 1)]
    assert not any(name.startswith("node-") for *_, name in listed)
    if source == "street_nodes":
        assert any("路口" in name or "/ on" in name for *_, name in listed)
    shot(page, f"recommended-{source}")
    assert page.lc_errors == []


def test_candidates_have_a_planners_names(study: Study) -> None:
    nodes = candidate_sites(study, "charging_points", "street_nodes")
    assert nodes.index[0] == "node-0" and not nodes["name"].str.startswith("node-").any()
    assert nodes["name"].str.contains("路口 / junction").sum() > 10
    projects = candidate_sites(study, "clinics", "renovation_projects")
    areas = study.layers["residential_areas"]["name"]
    layer = study.layers["renovation_projects"]
    for pid, name in projects["name"].items():
        assert name.startswith(layer.at[pid, "name"])
        compound = areas.get(layer.at[pid, "residential_area_id"])
        assert compound is None or compound in name


def test_add_drag_delete_and_reopen(page, browser, base_url: str, study: Study) -> None:
    open_page(page, f"{base_url}/?tiles=none&type=charging_points")
    page.click("#lc-plan-add")
    page.wait_for_selector(".lc-plan-marker")
    before = plan_serial(page)
    click_map_at(page, 121.5525, 31.3030)
    wait_plan(page, before)
    scenario = page.evaluate("window.lcPlan.scenario()")
    assert len(scenario["add"]) == 1 and scenario["add"][0]["type"] == "charging_points"
    want = expected(study, scenario)
    assert totals(page) == want[ALL] and want[ALL]["population_gained"] > 0
    assert table(page) == changed(want)
    assert page.evaluate("window.lcPlan.ms") < 1000  # the bundled data: well under a second
    outlined = page.evaluate(
        "() => window.lcPlan.result.changed_areas.features"
        ".filter(f => f.properties.charging_points_gained).length"
    )
    assert outlined > 0
    shot(page, "added")

    # drag the new one 150 px east
    box = page.locator(".lc-plan-marker.lc-plan-new").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = plan_serial(page)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y, steps=5)
    page.mouse.move(x + 150, y, steps=5)
    page.mouse.up()
    wait_plan(page, before)
    moved = page.evaluate("window.lcPlan.scenario()")
    assert len(moved["add"]) == 1 and moved["add"][0]["lon"] > scenario["add"][0]["lon"]
    assert totals(page) == expected(study, moved)[ALL]

    # delete one of today's charging points: its people may lose coverage
    before = plan_serial(page)
    page.locator(".lc-plan-marker:not(.lc-plan-new)").first.dispatch_event("click")
    page.click(".leaflet-popup .lc-plan-delete")
    wait_plan(page, before)
    edited = page.evaluate("window.lcPlan.scenario()")
    assert len(edited["remove"]) == 1 and edited["remove"][0]["type"] == "charging_points"
    want = expected(study, edited)
    assert totals(page) == want[ALL] and table(page) == changed(want)
    # delete the new one
    before = plan_serial(page)
    page.locator(".lc-plan-marker.lc-plan-new").dispatch_event("click")
    page.click(".leaflet-popup .lc-plan-delete")
    wait_plan(page, before)
    edited = page.evaluate("window.lcPlan.scenario()")
    assert edited["add"] == [] and len(edited["remove"]) == 1
    assert totals(page) == expected(study, edited)[ALL]
    shot(page, "edited")

    # keep it by name; a fresh browser (no localStorage) opens it from the service by URL
    page.fill("#lc-plan-name", "新车棚 plan")
    page.click("#lc-plan-save")
    link = page.wait_for_selector("#lc-plan-link").get_attribute("href")
    assert "scenario=" in link
    kept = page.request.get(f"{base_url}/scenarios/{quote('新车棚 plan')}").json()
    assert kept["remove"] == edited["remove"]
    stored = page.evaluate("JSON.parse(localStorage.getItem('lc-scenarios'))")
    assert stored["新车棚 plan"]["remove"] == edited["remove"]
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    fresh = other.new_page()
    errors: list[str] = []
    fresh.on("pageerror", lambda e: errors.append(str(e)))
    fresh.goto(f"{base_url}/?tiles=none&type=charging_points&scenario={quote('新车棚 plan')}")
    fresh.wait_for_function(
        "() => window.lcPlan && window.lcPlan.result && document.getElementById('lc-plan-totals')",
        timeout=30_000,
    )
    reopened = fresh.evaluate("window.lcPlan.scenario()")
    assert reopened["remove"] == edited["remove"] and reopened["name"] == "新车棚 plan"
    assert totals(fresh) == expected(study, edited)[ALL]
    OUTPUT.mkdir(exist_ok=True)
    fresh.screenshot(path=str(OUTPUT / "workbench-plan-reopened.png"), full_page=True)
    other.close()
    assert errors == [] and page.lc_errors == []
    (OUTPUT / "workbench-plan-timing.json").write_text(
        json.dumps({"scenario_ms": page.evaluate("window.lcPlan.ms")})
    )


def test_compare_two_kept_scenarios(page, base_url: str, study: Study) -> None:
    open_page(page, f"{base_url}/?tiles=none&type=charging_points")
    first = {"name": "a", "add": [{"type": "charging_points", "lon": 121.5525, "lat": 31.303}]}
    page.evaluate(
        f"localStorage.setItem('lc-scenarios', JSON.stringify({{a: {json.dumps(first)}}}))"
    )
    page.evaluate("window.lcPlan.use({name: 'b', add: [], move: [], remove: [], sites: []})")
    page.fill("#lc-plan-name", "b")  # re-rendered: the kept list now holds "a"
    page.select_option("#lc-compare-a", "")
    page.select_option("#lc-compare-b", "a")
    page.click("#lc-compare-go")
    page.wait_for_selector("#lc-compare-table")
    diffs = page.eval_on_selector_all(
        "#lc-compare-table tr[data-subdistrict]",
        "trs => trs.map(tr => [tr.dataset.subdistrict, +tr.dataset.diff])",
    )
    want = expected(study, first)
    for name, diff in diffs:
        row = want.get(name, {"population_gained": 0, "population_lost": 0})
        assert diff == row["population_gained"] - row["population_lost"], name
    assert dict(diffs)[ALL] > 0
    shot(page, "compare")
    assert page.lc_errors == []


def test_a_site_inside_a_compound_is_added_by_clicking_the_compound(
    page, base_url: str, study: Study
) -> None:
    """A charger goes in a compound's bike shed: clicking the compound (whose popup stops
    the click before the map sees it) must add the site there, not open the popup."""
    open_page(page, f"{base_url}/?tiles=none&type=charging_points")
    page.click("#lc-plan-add")
    page.wait_for_selector(".lc-plan-marker")
    areas = study.layers["residential_areas"]
    gap = areas.index[~analyze_areas(study)["charging_points_covered"].to_numpy(bool)][0]
    centre = areas.geometry.loc[gap].representative_point()
    before = plan_serial(page)
    click_map_at(page, centre.x, centre.y)
    wait_plan(page, before)
    scenario = page.evaluate("window.lcPlan.scenario()")
    assert len(scenario["add"]) == 1
    assert totals(page) == expected(study, scenario)[ALL]
    assert totals(page)["population_gained"] > 0  # the compound clicked is now covered


def test_two_scenarios_side_by_side_move_together(page, base_url: str, study: Study) -> None:
    """A scenario saved through the API (not in this browser) against the one being edited:
    each map shows its own scenario's charging points, and panning or zooming one moves the
    other; the per-街道 table stays beside them."""
    first = {"add": [{"type": "charging_points", "lon": 121.5525, "lat": 31.303}]}
    assert page.request.put(f"{base_url}/scenarios/side-a", data=first).ok
    open_page(page, f"{base_url}/?tiles=none&type=charging_points")
    closing = {"name": "b", "add": [], "move": [], "sites": [],
               "remove": [{"type": "charging_points", "id": "cp-001"}]}  # fmt: skip
    page.evaluate(f"window.lcPlan.use({json.dumps(closing)})")
    page.select_option("#lc-compare-a", "side-a")  # listed from GET /scenarios
    page.select_option("#lc-compare-b", "*")
    page.click("#lc-compare-go")
    page.click("#lc-compare-maps")
    page.wait_for_selector("#lc-side-map-b .lc-side-facility")
    ids = "els => els.map(e => e.dataset.id).sort()"
    shown_a = page.eval_on_selector_all("#lc-side-map-a .lc-side-facility", ids)
    shown_b = page.eval_on_selector_all("#lc-side-map-b .lc-side-facility", ids)
    want_a = apply_scenario(study, Scenario.from_dict({**first, "name": "side-a"}))
    want_b = apply_scenario(study, Scenario.from_dict(closing))
    assert shown_a == sorted(want_a.layers["charging_points"].index)
    assert shown_b == sorted(want_b.layers["charging_points"].index)
    assert "side-a-charging_points-1" in shown_a and "cp-001" not in shown_b
    assert page.locator("#lc-side-map-a .lc-plan-new").count() == 1
    assert page.is_visible("#lc-compare-table")  # the panel is not covered

    def views() -> list[list[float]]:
        return page.evaluate(
            "window.lcPlan.sideBySide.maps.map(m => [m.getCenter().lat, m.getCenter().lng,"
            " m.getZoom()])"
        )

    before = views()
    assert before[0] == before[1]
    offsets = page.evaluate(  # each map's centre is the middle of its box on the screen
        "window.lcPlan.sideBySide.maps.map(m => { const p = m.latLngToContainerPoint("
        "m.getCenter()); const box = m.getContainer();"
        " return [p.x - box.clientWidth / 2, p.y - box.clientHeight / 2]; })"
    )
    assert all(abs(dx) <= 1 and abs(dy) <= 1 for dx, dy in offsets), offsets
    box = page.locator("#lc-side-map-a").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 120, y - 80, steps=6)
    page.mouse.up()
    panned = views()
    assert panned[0] != before[0] and panned[0] == pytest.approx(panned[1])
    page.click("#lc-side-map-b .leaflet-control-zoom-in")
    page.wait_for_function(
        f"() => window.lcPlan.sideBySide.maps[0].getZoom() > {before[0][2]}", timeout=5_000
    )
    zoomed = views()
    assert zoomed[0][2] == zoomed[1][2] > before[0][2]
    shot(page, "side-by-side")
    page.click("#lc-side-close")
    assert page.locator("#lc-side-view").count() == 0
    assert page.lc_errors == []


def test_the_editor_is_leaflet_geomans(page, base_url: str, study: Study) -> None:
    """Geoman's toolbar adds (its marker button) and deletes (its removal mode); a right-click
    deletes too; only the editor's markers are Geoman's, never the compounds."""
    open_page(page, f"{base_url}/?tiles=none&type=charging_points&lang=en")
    assert page.evaluate("L.PM.version") == "2.20.2"
    assert (
        page.evaluate(
            "() => { let n = 0; window[window.lcWorkbench.config.areas]"
            ".eachLayer(l => { if (l.pm) n++; }); return n; }"
        )
        == 0
    )
    page.click(".leaflet-pm-toolbar .leaflet-pm-icon-marker")
    assert page.get_attribute("#lc-plan-add", "aria-pressed") == "true"  # the same mode
    before = plan_serial(page)
    click_map_at(page, 121.5525, 31.3030)
    wait_plan(page, before)
    added = page.evaluate("window.lcPlan.scenario()")
    assert len(added["add"]) == 1 and totals(page) == expected(study, added)[ALL]
    page.click("#lc-plan-add")  # stop adding
    assert page.get_attribute("#lc-plan-add", "aria-pressed") == "false"
    assert page.locator(".leaflet-pm-toolbar .active").count() == 0
    assert page.locator(".lc-plan-marker.leaflet-pm-draggable").count() > 1

    # the removal mode: a click on today's charging point closes it
    page.click(".leaflet-pm-toolbar .leaflet-pm-icon-delete")
    first = page.locator(".lc-plan-marker:not(.lc-plan-new)").first
    closed = first.get_attribute("title")
    before = plan_serial(page)
    first.click()
    wait_plan(page, before)
    edited = page.evaluate("window.lcPlan.scenario()")
    names = study.layers["charging_points"]["name"]
    assert [r["id"] for r in edited["remove"]] == [names.index[names == closed][0]]
    assert totals(page) == expected(study, edited)[ALL]
    page.click(".leaflet-pm-toolbar .leaflet-pm-icon-delete")  # leave the removal mode

    # a right-click deletes the added one
    before = plan_serial(page)
    page.locator(".lc-plan-marker.lc-plan-new").click(button="right")
    wait_plan(page, before)
    assert page.evaluate("window.lcPlan.scenario()")["add"] == []
    assert page.lc_errors == []


def test_on_a_phone_nothing_covers_the_plans_popups_or_the_layer_switcher(
    browser, base_url: str
) -> None:
    """390×844: a recommended site's popup, an added facility's (Geoman's editing on) and
    the layer switcher are each what is at their own centre."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.lc_errors = []
    page.on("pageerror", lambda e: page.lc_errors.append(str(e)))
    open_page(page, f"{base_url}/?tiles=none&type=charging_points")
    page.click("#lc-rec-go")
    page.wait_for_function("() => document.documentElement.dataset.lcRec", timeout=30_000)
    page.click("#lc-rec-sites li >> nth=0")
    page.wait_for_selector(".leaflet-popup-content .lc-popup-title")
    page.wait_for_timeout(350)  # the pan that fits the popup
    assert centre_is(page, ".leaflet-popup-content .lc-popup-title")
    page.screenshot(path=str(output() / "workbench-plan-phone-recommended.png"))
    # add a site with Geoman's marker button, then open its popup
    page.click(".leaflet-pm-toolbar .leaflet-pm-icon-marker")
    before = plan_serial(page)
    click_map_at(page, 121.5525, 31.3030)
    wait_plan(page, before)
    page.click(".leaflet-pm-toolbar .leaflet-pm-icon-marker")  # stop adding
    page.locator(".lc-plan-marker.lc-plan-new").dispatch_event("click")
    page.wait_for_selector(".leaflet-popup .lc-plan-delete")
    page.wait_for_timeout(350)
    assert centre_is(page, ".leaflet-popup-content .lc-popup-title")
    assert centre_is(page, ".leaflet-popup .lc-plan-delete")
    page.screenshot(path=str(output() / "workbench-plan-phone-added.png"))
    page.locator(".leaflet-control-layers").scroll_into_view_if_needed()
    assert centre_is(page, ".leaflet-control-layers")
    # today and this plan side by side: on a phone one map above the other, both in view
    page.select_option("#lc-compare-a", "")
    page.select_option("#lc-compare-b", "*")
    page.click("#lc-compare-go")
    page.click("#lc-compare-maps")
    page.wait_for_selector("#lc-side-map-b .lc-side-facility")
    a, b = (page.locator(f"#lc-side-map-{x}").bounding_box() for x in "ab")
    assert a["height"] > 100 and b["height"] > 100 and b["y"] >= a["y"] + a["height"] - 1
    assert b["y"] + b["height"] <= 844 and centre_is(page, "#lc-side-close")
    # the main map's centre is at the middle of each map as it is on the screen
    offsets = page.evaluate(
        "(() => { const c = window.lcWorkbench.map.getCenter();"
        " return window.lcPlan.sideBySide.maps.map(m => { const p = m.latLngToContainerPoint(c);"
        " const box = m.getContainer();"
        " return [p.x - box.clientWidth / 2, p.y - box.clientHeight / 2]; }); })()"
    )
    assert all(abs(dx) <= 1 and abs(dy) <= 1 for dx, dy in offsets), offsets
    page.screenshot(path=str(output() / "workbench-plan-phone-side-by-side.png"))
    page.click("#lc-side-close")
    context.close()
    assert page.lc_errors == []


def test_a_saved_scenario_is_deleted_from_the_panel(page, base_url: str) -> None:
    plan = {"add": [{"type": "charging_points", "lon": 121.5525, "lat": 31.303}]}
    assert page.request.put(f"{base_url}/scenarios/to-forget", data=plan).ok
    open_page(page, f"{base_url}/?tiles=none&type=charging_points")
    page.select_option("#lc-plan-kept", "to-forget")  # listed from GET /scenarios
    page.click("#lc-plan-forget")
    page.wait_for_function("() => document.documentElement.dataset.lcPlanForgot === 'to-forget'")
    assert page.request.get(f"{base_url}/scenarios/to-forget").status == 404
    names = [s["name"] for s in page.request.get(f"{base_url}/scenarios").json()["scenarios"]]
    assert "to-forget" not in names
    assert page.locator("#lc-plan-kept option[value='to-forget']").count() == 0
    assert page.lc_errors == []
