"""The 加装电梯地图 in headless Chromium: its counts are progress()'s, on the slider's date.

The bundled sample plus one project without stage dates, served by the app; pages opened
with ``tiles=none``. Every number read off the legend is compared with
:func:`geo.analysis.progress.progress` for the same kinds, 街道 and date, and the projects
drawn with those it counts. Screenshots (desktop and phone) go to ``test-output/``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import OUTPUT, launched
from served import serving

from api.main import create_app
from geo.analysis.progress import progress
from geo.analysis.retrofits import retrofit_candidates
from geo.layers.store import read_layer
from geo.schema import PROJECT_STATUSES, PROJECT_UNITS
from geo.settings import DEFAULT_DATA_DIR, Settings

UNDATED = {
    "type": "Feature",
    "id": "rp-900",
    "geometry": {"type": "Point", "coordinates": [121.5451, 31.2990]},
    "properties": {"id": "rp-900", "name": "无日期车棚", "kind": "bike_shed",
                   "status": "completed", "units": 1, "subdistrict": "长白新村街道"},
}  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("renovation")
    shutil.copytree(
        DEFAULT_DATA_DIR, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*")
    )
    path = folder / "renovation_projects.geojson"
    layer = json.loads(path.read_text(encoding="utf-8"))
    layer["features"].append(UNDATED)
    path.write_text(json.dumps(layer, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def base_url(folder: Path) -> Iterator[str]:
    with serving(create_app(Settings(data=folder))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with launched() as running:
        yield running


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.lc_errors = []
    page.on("console", lambda m: m.type == "error" and page.lc_errors.append(m.text))
    page.on("pageerror", lambda e: page.lc_errors.append(str(e)))
    yield page
    assert page.lc_errors == []
    page.close()


def shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))


def open_map(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("path.lc-project")


def to_step(page, month: str) -> None:
    """Move the slider to ``month`` as a person would (the input event of a drag)."""
    steps = json.loads(page.inner_text("#lc-renovation-config"))["steps"]
    page.fill("#lc-slider", str(steps.index(month)))
    page.dispatch_event("#lc-slider", "input")


def units(text: str) -> dict[str, int]:
    """'49台 · 758户' → {'台': 49, '户': 758}; zeros left out."""
    found = {u: int(n) for n, u in re.findall(r"(\d+)\s*([^\d\s·]+)", text)}
    return {u: n for u, n in found.items() if n}


def legend(page) -> dict[str, dict]:
    """The legend's numbers per stage, as a person reads them."""
    out = {}

    def cell(stage: str, way: str, of: str) -> str:
        return page.inner_text(
            f"#lc-counts tr[data-stage={stage}] td[data-way={way}][data-of={of}]"
        )

    for stage in PROJECT_STATUSES:
        out[stage] = {
            "exclusive": int(cell(stage, "exclusive", "projects")),
            "cumulative": int(cell(stage, "cumulative", "projects")),
            "units_exclusive": units(cell(stage, "exclusive", "units")),
            "units_cumulative": units(cell(stage, "cumulative", "units")),
        }
    return out


def expected(projects, as_of: str, kind: str | None = None, subdistrict: str | None = None):
    """progress() for the same filters, summed over kinds (units by their unit), as the
    legend shows them; and how many projects it counts at a stage."""
    by_kind = progress(projects, subdistrict, kind, as_of)["by_kind"]
    out = {}
    for stage in PROJECT_STATUSES:
        row = {"exclusive": 0, "cumulative": 0, "units_exclusive": {}, "units_cumulative": {}}
        for k, counts in by_kind.items():
            unit = PROJECT_UNITS[k][0]
            row["exclusive"] += counts["exclusive"][stage]
            row["cumulative"] += counts["cumulative"][stage]
            for way in ("units_exclusive", "units_cumulative"):
                row[way][unit] = row[way].get(unit, 0) + counts[way][stage]
        for way in ("units_exclusive", "units_cumulative"):
            row[way] = {u: n for u, n in row[way].items() if n}
        out[stage] = row
    return out, sum(c["projects"] for c in by_kind.values()), by_kind


def test_the_legend_counts_what_progress_counts_on_the_slider_date(page, base_url, folder):
    projects = read_layer("renovation_projects", folder)
    open_map(page, f"{base_url}/maps/renovation?tiles=none")
    # today: every project at its status, the undated one too
    now, begun_now, _ = expected(projects, None)
    assert legend(page) == now and begun_now == len(projects)
    assert page.locator("path.lc-project").count() == len(projects)
    for month, last_day in (("2023-02", "2023-02-28"), ("2022-06", "2022-06-30")):
        to_step(page, month)
        assert page.inner_text("#lc-month") == last_day
        want, begun, by_kind = expected(projects, last_day)
        assert legend(page) == want
        # the projects drawn are those begun by then, at their stage then
        assert page.locator("path.lc-project").count() == begun < len(projects)
        assert page.inner_text("[data-note=undated]").startswith("1 ")  # said, and not drawn
        assert f"month={month}" in page.url
    not_begun = sum(c["not_begun"] for c in by_kind.values())
    assert not_begun > 0  # the sheds of 2023, for one
    assert page.inner_text("[data-note=not_begun]").startswith(f"{not_begun} ")
    shot(page, "renovation-map")


def test_the_kind_and_subdistrict_filters_recount_and_stay_in_the_url(page, base_url, folder):
    projects = read_layer("renovation_projects", folder)
    open_map(page, f"{base_url}/maps/renovation?tiles=none&month=2023-02")
    everything = legend(page)
    for box in page.locator("input.lc-kind").all():
        if box.get_attribute("value") != "elevator_retrofit":
            box.uncheck()
    lifts = legend(page)
    assert lifts != everything
    assert lifts == expected(projects, "2023-02-28", "elevator_retrofit")[0]
    page.select_option("#lc-subdistrict", "打浦桥街道")
    dapuqiao, begun, _ = expected(projects, "2023-02-28", "elevator_retrofit", "打浦桥街道")
    assert legend(page) == dapuqiao
    # 截至2023年2月，累计签约65台，其中完工49台、在建11台、待开工5台
    assert page.inner_text("td[data-way=cumulative][data-of=units] >> nth=3") == "65台"
    assert [page.inner_text(f"tr[data-stage={s}] td[data-way=exclusive][data-of=units]")
            for s in ("completed", "under_construction", "awaiting_start")] == [
        "49台", "11台", "5台"]  # fmt: skip
    assert page.locator("path.lc-project").count() == begun == 4  # one still consulting
    assert "kind=elevator_retrofit" in page.url and "subdistrict=" in page.url
    # the link opens the same view
    link = page.url
    open_map(page, link)
    assert legend(page) == dapuqiao
    assert page.input_value("#lc-subdistrict") == "打浦桥街道"


def test_popups_name_every_enum_chinese_or_english(page, base_url):
    open_map(page, f"{base_url}/maps/renovation?tiles=none&kind=bike_shed")
    page.locator("path.lc-project").first.click(force=True)
    popup = page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert "类型: 非机动车棚" in popup and "bike_shed" not in popup
    assert re.search(r"阶段 \(截至 今天 \d{4}-\d\d-\d\d\): (完工|在建)", popup)
    assert re.search(r"数量: \d+个", popup)
    assert "bike_shed" not in page.inner_text("body")  # nor in the legend
    open_map(page, f"{base_url}/maps/renovation?tiles=none&kind=bike_shed&lang=en")
    page.locator("path.lc-project").first.click(force=True)
    popup = page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert "Kind: bike shed" in popup and re.search(r"Units: \d+ sheds", popup)
    assert "At stage" in page.inner_text("#lc-counts")


def test_the_compound_view_shows_candidates_with_their_progress(page, base_url, folder):
    areas, projects = read_layer("residential_areas", folder), read_layer("renovation_projects",
                                                                          folder)  # fmt: skip
    open_map(page, f"{base_url}/maps/renovation?tiles=none&month=2023-02")
    assert page.locator("path.lc-candidate").count() == 0
    page.check("#lc-compound-view")
    assert page.locator("path.lc-candidate").count() == len(retrofit_candidates(areas, projects))
    assert "view=compounds" in page.url
    shot(page, "renovation-map-compounds")
    page.select_option("#lc-subdistrict", "打浦桥街道")
    assert page.locator("path.lc-candidate").count() == 2
    # the candidates' fills are the elderly-share classes' colours
    found = retrofit_candidates(areas, projects, as_of="2023-02-28")
    config = json.loads(page.inner_text("#lc-renovation-config"))
    fills = set(page.eval_on_selector_all(
        "path.lc-candidate", "els => els.map(e => e.getAttribute('fill'))"))  # fmt: skip
    classes = found.loc[["ra-dpq-001", "ra-dpq-002"], "elderly_class"]
    assert fills == {config["elderly"]["colours"][c] for c in classes}
    # 蒙西小区's corner, away from its retrofits' dots at its centre
    for candidate in page.locator("path.lc-candidate").all():
        page.wait_for_timeout(500)  # the map has panned the last popup into view
        candidate.click(position={"x": 4, "y": 4})
        popup = page.wait_for_selector(".leaflet-popup-content").inner_text()
        if popup.startswith("蒙西小区"):
            break
        page.click(".leaflet-popup-close-button")
    else:
        pytest.fail("蒙西小区 has no popup")
    row = found.loc["ra-dpq-001"]
    assert popup.endswith(f"在建 {row['units_under_construction']}台 · "
                          f"完工 {row['units_completed']}台")  # fmt: skip
    assert "在建 11台 · 完工 49台" in popup
    assert "老人占比: 47.8%" in popup and "电梯: 无 · 按层数推断" in popup
    assert "房屋性质: 售后公房" in popup


def test_on_a_phone_the_panel_folds_away_from_popups_and_the_switcher(browser, base_url):
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                             has_touch=True)  # fmt: skip
    errors: list[str] = []
    phone.on("pageerror", lambda e: errors.append(str(e)))
    open_map(phone, f"{base_url}/maps/renovation?tiles=none&subdistrict=打浦桥街道")
    assert phone.get_attribute("#lc-renovation-details", "open") is None
    switcher = phone.locator(".leaflet-control-layers")
    assert "leaflet-control-layers-expanded" not in switcher.get_attribute("class")
    phone.click("#lc-renovation summary")
    assert phone.get_attribute("#lc-renovation-details", "open") is not None
    shot(phone, "renovation-map-phone-legend")
    phone.locator("path.lc-project").first.tap(force=True)
    phone.wait_for_timeout(600)  # the map pans the popup into view
    popup = phone.wait_for_selector(".leaflet-popup-content-wrapper").bounding_box()
    panel = phone.locator("#lc-renovation").bounding_box()
    control = switcher.bounding_box()
    assert phone.get_attribute("#lc-renovation-details", "open") is None  # folded for it

    def apart(a, b) -> bool:
        return (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])  # fmt: skip

    zoom = phone.locator(".leaflet-control-zoom").bounding_box()
    assert apart(popup, panel) and apart(popup, control) and apart(popup, zoom)
    assert popup["x"] >= 0 and popup["x"] + popup["width"] <= 390  # on the screen
    shot(phone, "renovation-map-phone")
    assert errors == []
    phone.close()
