"""The pages as a planner sees them: headless Chromium (Debian's), driven by Playwright.

Required in CI (CI=true): a missing browser fails there instead of skipping. Pages are
opened with ``tiles=none``: this machine has no internet, and the basemap is the only
thing on the page fetched from outside.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest
from browser import OUTPUT, launched
from served import serving

from api.main import create_app
from geo.settings import DEFAULT_DATA_DIR, Settings

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("browser")
    shutil.copytree(
        DEFAULT_DATA_DIR, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*")
    )
    # one compound renamed to an XSS probe: it must show as text
    path = folder / "residential_areas.geojson"
    text = path.read_text(encoding="utf-8").replace('"name":"安图新村"', json.dumps(
        {"name": XSS}, ensure_ascii=False)[1:-1])  # fmt: skip
    path.write_text(text, encoding="utf-8")
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
    page.lc_dialogs = []
    page.on("console", lambda m: m.type == "error" and page.lc_errors.append(m.text))
    page.on("pageerror", lambda e: page.lc_errors.append(str(e)))
    page.on("dialog", lambda d: (page.lc_dialogs.append(d.message), d.dismiss()))
    yield page
    page.close()


def shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))


def open_page(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".leaflet-interactive")


def test_dashboard_loads_cleanly_with_every_layer(page, base_url: str) -> None:
    open_page(page, f"{base_url}/?tiles=none")
    shot(page, "dashboard")
    assert page.lc_errors == []
    switcher = page.inner_text(".leaflet-control-layers")
    for name in ("小区", "睦邻中心", "社区卫生服务中心/站", "充电桩", "改造项目", "盲区", "等时圈"):
        assert name in switcher
    assert "lc-summary" in page.content()


def test_clicking_an_area_shows_its_walking_minutes(page, base_url: str) -> None:
    open_page(page, f"{base_url}/?tiles=none")
    page.locator("path.leaflet-interactive").first.click(force=True)
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "分钟 / min" in popup.inner_text()
    shot(page, "dashboard-popup")


def fills(page) -> list[str]:
    return page.eval_on_selector_all(
        "path.leaflet-interactive", "els => els.map(e => e.getAttribute('fill'))"
    )


def test_switching_type_recolours_the_map(page, base_url: str) -> None:
    open_page(page, f"{base_url}/?tiles=none&type=clinics")
    before = fills(page)
    page.click("a.lc-type[data-type=charging_points]")
    page.wait_for_load_state("load")
    page.wait_for_selector(".leaflet-interactive")
    assert "type=charging_points" in page.url
    assert fills(page) != before
    assert page.lc_errors == []


def test_english_on_request(page, base_url: str) -> None:
    open_page(page, f"{base_url}/?tiles=none&lang=en")
    switcher = page.inner_text(".leaflet-control-layers")
    assert switcher.lstrip().startswith("Residential areas") or "Residential areas 小区" in switcher
    assert "share covered" in page.inner_text("#lc-summary")


def test_a_compound_named_like_html_stays_text(page, base_url: str) -> None:
    open_page(page, f"{base_url}/?tiles=none")
    page.wait_for_timeout(300)
    assert page.lc_dialogs == []
    assert page.locator("img[src=x]").count() == 0
    # hovering the compound shows its name as text, never as an element, and so does
    # its popup
    for area in page.locator("path.leaflet-interactive").all()[:60]:
        area.hover(force=True)
        tip = page.locator(".leaflet-tooltip")
        if tip.count() and XSS in tip.first.inner_text():
            area.click(force=True)
            break
    else:
        pytest.fail("the renamed compound's tooltip was not found")
    assert XSS in page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert page.locator("img[src=x]").count() == 0 and page.lc_dialogs == []
    assert page.lc_errors == []


def test_renovation_map_filters_by_stage_and_time(page, base_url: str) -> None:
    open_page(page, f"{base_url}/maps/renovation?tiles=none")
    shot(page, "renovation")
    everything = page.locator(".leaflet-interactive").count()
    page.uncheck("input.lc-stage[value=completed]")
    fewer = page.locator(".leaflet-interactive").count()
    assert 0 < fewer < everything
    page.check("input.lc-stage[value=completed]")
    page.fill("#lc-slider", "0")
    page.dispatch_event("#lc-slider", "input")
    assert page.locator(".leaflet-interactive").count() < everything
    assert page.lc_errors == []


# --- a city too big to inline -----------------------------------------------------------------


@pytest.fixture(scope="module")
def city_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from city import write_city

    from geo.maps.dashboard import INLINE_LIMIT

    folder = write_city(tmp_path_factory.mktemp("city"), INLINE_LIMIT + 2000)
    with serving(create_app(Settings(data=folder))) as url:
        yield url


def settled(page) -> str:
    """Wait until the bottom-left note no longer says it is loading; return what it says."""
    page.wait_for_function(
        "() => { const n = document.querySelector('.lc-note');"
        " return n && n.textContent.indexOf('加载中') < 0; }",
        timeout=60_000,
    )
    return page.inner_text(".lc-note")


def test_a_large_city_loads_the_areas_of_the_view(page, city_url: str) -> None:
    page.goto(f"{city_url}/?tiles=none")
    assert settled(page) == ""  # every area of the view came
    areas = page.locator("path.leaflet-interactive")
    count = areas.count()
    assert 100 < count < 5000  # the view's compounds, not all 5 000
    areas.last.click(force=True)  # the areas arrive after the projects, so they are last
    popup = page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert "新村" in popup and "分钟 / min" in popup and "老人" in popup
    shot(page, "large-city")
    # gap zones come from /gaps when first switched on
    outlines = page.locator("path:not(.leaflet-interactive)").count()  # gap areas
    page.locator(".leaflet-control-layers label", has_text="盲区范围").locator("input").check()
    assert settled(page) == ""
    assert page.locator("path:not(.leaflet-interactive)").count() > outlines
    # zooming out shows at most 5 000 areas, and says so
    page.evaluate("() => { for (const k in window) if (k.startsWith('map_') && window[k]"
                  " && window[k].setZoom) window[k].setZoom(window[k].getZoom() - 2); }")  # fmt: skip
    page.wait_for_function(
        f"() => document.querySelectorAll('path.leaflet-interactive').length > {count}"
        " || document.querySelector('.lc-note').textContent.indexOf('请放大') >= 0",
        timeout=60_000,
    )
    assert page.lc_errors == []
