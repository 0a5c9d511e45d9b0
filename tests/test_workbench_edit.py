"""Editing the layers from the workbench's panel (static/panel-edit.js) in Debian's Chromium,
at 1400×900 and 390×844: the token kept for the session, forms built from
``/collections/{layer}/schema``, the server's messages at their fields, the If-Match conflict
explained, and the edit in the layer file afterwards. Screenshots go to test-output/.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from served import serving
from workbench_fixtures import centre_is, open_workbench, shot

from api.main import create_app
from geo.settings import DEFAULT_DATA_DIR, Settings

TOKEN = "edit-令牌-for-tests".encode().hex()
CLINIC = "clinic-001"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(
        DEFAULT_DATA_DIR, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*")
    )
    return tmp_path


@pytest.fixture
def base_url(folder: Path) -> Iterator[str]:
    with serving(create_app(Settings(data=folder, api_token=TOKEN, network="none"))) as url:
        yield url


def on_disk(folder: Path, layer: str, feature_id: str) -> dict:
    doc = json.loads((folder / f"{layer}.geojson").read_text("utf-8"))
    return next(f for f in doc["features"] if f["properties"]["id"] == feature_id)


def ready(page, url: str) -> None:
    open_workbench(page, url)
    page.wait_for_function("() => document.documentElement.dataset.lcEdit === 'ready'")


def give_token(page) -> None:
    page.fill("#lc-edit-token", TOKEN)
    page.click("#lc-edit-use")
    page.wait_for_selector("#lc-edit-token-set")


def open_clinic(page, feature_id: str = CLINIC) -> None:
    """Edit mode for clinics, then a click on the clinic's marker: its form."""
    page.select_option("#lc-edit-layer", "clinics")
    if page.get_attribute("#lc-edit-toggle", "aria-pressed") != "true":
        page.click("#lc-edit-toggle")
    marker = f'.lc-edit-marker[data-id="{feature_id}"]'
    page.wait_for_selector(marker, state="attached")
    page.dispatch_event(marker, "click")
    page.wait_for_selector(f'#lc-edit-form[data-id="{feature_id}"]')


def test_schema_route_lists_the_fields(base_url: str) -> None:
    schema = httpx.get(f"{base_url}/collections/clinics/schema").json()
    beds = schema["properties"]["beds"]
    assert beds["type"] == "integer" and beds["minimum"] == 0 and beds["x-ogc-unit"] == "张"
    assert beds["x-lc-title"] == {"zh": "核定床位", "en": "licensed beds"}
    level = schema["properties"]["level"]
    assert "station" in level["enum"] and level["x-lc-enum-titles"]["station"]["zh"]
    assert set(schema["required"]) == {"id", "name", "level"}
    assert httpx.get(f"{base_url}/collections/nowhere/schema").status_code == 404


def test_an_edit_through_the_form_is_in_the_layer_file(page, base_url: str, folder: Path) -> None:
    ready(page, base_url + "/?type=clinics&tiles=none")
    give_token(page)
    token_kept = page.evaluate(
        "[sessionStorage.getItem('lc-edit-token'), localStorage.length, location.href]"
    )
    assert token_kept[0] == TOKEN and token_kept[1] == 0 and TOKEN not in token_kept[2]
    open_clinic(page)
    assert page.input_value("#lc-edit-f-beds") == str(
        on_disk(folder, "clinics", CLINIC)["properties"]["beds"]
    )
    assert page.locator(".lc-edit-required[data-field=level] .lc-req").count() == 1
    assert "张" in page.inner_text('.lc-edit-field[data-field="beds"]')
    shot(page, "edit-form")
    url = page.url
    page.fill("#lc-edit-f-beds", "42")
    page.click("#lc-edit-save")
    page.wait_for_selector("#lc-edit-hint.lc-edit-ok", timeout=30_000)  # after the reload
    assert page.url == url
    assert on_disk(folder, "clinics", CLINIC)["properties"]["beds"] == 42
    assert "已保存" in page.inner_text("#lc-edit-hint")
    shot(page, "edit-saved")
    assert not page.lc_errors


def test_a_second_tab_gets_the_conflict_explained(page, base_url: str, folder: Path) -> None:
    other = page.context.new_page()
    for tab in (page, other):
        ready(tab, base_url + "/?type=clinics&tiles=none")
        give_token(tab)
        open_clinic(tab)
    other.fill("#lc-edit-f-beds", "7")
    other.click("#lc-edit-save")
    other.wait_for_selector("#lc-edit-hint.lc-edit-ok", timeout=30_000)
    page.fill("#lc-edit-f-beds", "9")
    page.click("#lc-edit-save")
    page.wait_for_selector("#lc-edit-conflict")
    assert "有人在你打开后修改了此要素，请重新加载" in page.inner_text("#lc-edit-conflict")
    assert "someone changed this since you opened it" in page.inner_text("#lc-edit-conflict")
    assert on_disk(folder, "clinics", CLINIC)["properties"]["beds"] == 7
    shot(page, "edit-conflict")
    page.click("#lc-edit-reload")  # reloads, and opens the feature as it is now
    page.wait_for_selector(f'#lc-edit-form[data-id="{CLINIC}"]', timeout=30_000)
    assert page.input_value("#lc-edit-f-beds") == "7"
    other.close()


def test_a_bad_value_shows_the_servers_message_at_its_field(
    page, base_url: str, folder: Path
) -> None:
    before = (folder / "clinics.geojson").read_bytes()
    ready(page, base_url + "/?type=clinics&tiles=none&lang=en")
    give_token(page)
    open_clinic(page)
    page.fill("#lc-edit-f-beds", "-3")
    # an allowed value the server does not know, as a stale page might offer
    page.evaluate("""() => { const s = document.getElementById('lc-edit-f-level');
        const o = document.createElement('option'); o.value = 'bogus'; o.textContent = 'bogus';
        s.appendChild(o); s.value = 'bogus'; }""")
    page.click("#lc-edit-save")
    page.wait_for_selector("#lc-edit-err-beds:not(:empty)")
    assert "below the minimum 0" in page.inner_text("#lc-edit-err-beds")
    assert "数值过小" in page.inner_text("#lc-edit-err-beds")
    assert "not an allowed value" in page.inner_text("#lc-edit-err-level")
    assert page.inner_text("#lc-edit-err-name") == ""
    shot(page, "edit-invalid")
    assert (folder / "clinics.geojson").read_bytes() == before


def test_without_the_token_the_page_says_writes_need_it(page, base_url: str, folder: Path) -> None:
    before = (folder / "clinics.geojson").read_bytes()
    ready(page, base_url + "/?type=clinics&tiles=none")
    assert "写入需要令牌" in page.inner_text("#lc-edit-need")
    open_clinic(page)
    page.fill("#lc-edit-f-beds", "5")
    page.click("#lc-edit-save")
    page.wait_for_selector("#lc-edit-general .lc-edit-error")
    assert "writes need the token" in page.inner_text("#lc-edit-general")
    # a wrong token: the server's 401, explained
    give_token(page)
    page.evaluate("sessionStorage.setItem('lc-edit-token', 'wrong')")
    page.click("#lc-edit-save")
    page.wait_for_selector("#lc-edit-auth")
    assert "令牌缺失或错误" in page.inner_text("#lc-edit-auth")
    shot(page, "edit-no-token")
    assert (folder / "clinics.geojson").read_bytes() == before


def test_adding_and_deleting_a_clinic(page, base_url: str, folder: Path) -> None:
    ready(page, base_url + "/?type=clinics&tiles=none")
    give_token(page)
    page.select_option("#lc-edit-layer", "clinics")
    page.click("#lc-edit-add")
    box = page.locator("#map, .folium-map").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector('#lc-edit-form[data-id=""]')
    page.fill("#lc-edit-f-id", "clinic-new")
    page.fill("#lc-edit-f-name", "新的卫生服务站")
    page.select_option("#lc-edit-f-level", "station")
    page.click("#lc-edit-save")
    page.wait_for_selector("#lc-edit-hint.lc-edit-ok", timeout=30_000)
    assert on_disk(folder, "clinics", "clinic-new")["properties"]["level"] == "station"
    open_clinic(page, "clinic-new")
    page.click("#lc-edit-delete")
    page.click("#lc-edit-delete")
    page.wait_for_selector("#lc-edit-hint.lc-edit-ok", timeout=30_000)
    with pytest.raises(StopIteration):
        on_disk(folder, "clinics", "clinic-new")


def test_while_editing_nothing_covers_a_popup_the_form_or_the_layer_switcher(
    page, base_url: str, folder: Path
) -> None:
    """At 1400×900 and 390×844, in edit mode with a clinic's form open: the form's save
    button, a compound's popup title and the layer switcher are each what is at their
    centre."""
    ready(page, base_url + "/?type=clinics&tiles=none")
    give_token(page)
    open_clinic(page)
    page.locator("#lc-edit-save").scroll_into_view_if_needed()
    assert centre_is(page, "#lc-edit-save")
    areas = json.loads((folder / "residential_areas.geojson").read_text("utf-8"))["features"]
    for feature in areas[:: max(1, len(areas) // 5)]:
        key = json.dumps(feature["properties"]["id"])
        page.evaluate(f"window.lcWorkbench.zoomTo({{id: {key}}})")
        page.wait_for_selector(".leaflet-popup-content .lc-popup-title")
        page.wait_for_timeout(350)  # the pan that fits the popup
        assert centre_is(page, ".leaflet-popup-content .lc-popup-title"), key
    shot(page, "edit-popup")
    page.locator(".leaflet-control-layers").scroll_into_view_if_needed()
    assert centre_is(page, ".leaflet-control-layers")
    assert not page.lc_errors
