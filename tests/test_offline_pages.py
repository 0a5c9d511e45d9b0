"""Every page works with no internet: no request leaves 127.0.0.1 (issue 13).

Planners' offices are often offline or behind a firewall that blocks CDNs. Headless
Chromium (Debian's, as in test_browser.py) opens each page of the service with
``tiles=none`` (the basemap is the one thing meant to come from outside); a request to
any other host is recorded, aborted, and fails the test, and each page must still have
rendered. Required in CI (CI=true): a missing browser fails there instead of skipping.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from browser import OUTPUT, launched
from served import serving

from api.main import create_app
from geo.settings import DEFAULT_DATA_DIR, Settings

STUDY = Path(__file__).resolve().parent.parent / "data" / "studies" / "wujiaochang"

LOCAL = {"127.0.0.1", "localhost"}
SCENARIO = (
    "/maps/scenario?name=plan&add=charging_points:121.5525,31.3030:新车棚"
    "&remove=clinics:clinic-001&sites=rp-020:neighbor_centers&tiles=none"
)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("offline")
    shutil.copytree(
        DEFAULT_DATA_DIR, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*")
    )
    with serving(create_app(Settings(data=folder))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with launched() as running:
        yield running


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in LOCAL


@pytest.fixture
def page(browser):
    """A page whose requests are all seen: one to another host is recorded and aborted
    (so a page that needs the internet shows it here as it would in an office).

    One kind is let through: a request the page's own Content-Security-Policy stopped in the
    browser (ReDoc's sidebar logo on Redocly's CDN, see ``api/routes/docs.py``) never
    reaches the network; Playwright still reports it, failed with "csp"."""
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.lc_outside = []
    page.lc_blocked = []
    page.lc_errors = []

    def route(route) -> None:
        if _local(route.request.url):
            route.continue_()
        else:
            page.lc_outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    # what page.route does not intercept (a worker's, a service worker's) is still seen here
    page.on("request", lambda r: _local(r.url) or page.lc_outside.append(r.url))
    page.on("requestfailed", lambda r: r.failure == "csp" and page.lc_blocked.append(r.url))
    page.on("pageerror", lambda e: page.lc_errors.append(str(e)))
    yield page
    page.close()


def shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"offline-{name}.png"), full_page=False)


def settle(page) -> None:
    """Let late requests (fonts, images, workers) start, then check none left the machine."""
    page.wait_for_load_state("networkidle")
    left = sorted(set(page.lc_outside) - set(page.lc_blocked))
    assert left == [], "requests left 127.0.0.1"
    assert page.lc_errors == []


def test_dashboard_needs_no_internet(page, base_url: str) -> None:
    page.goto(f"{base_url}/?tiles=none")
    page.wait_for_selector(".leaflet-interactive")
    assert page.locator(".leaflet-control-layers").count() == 1
    settle(page)
    shot(page, "dashboard")


def test_swagger_ui_needs_no_internet(page, base_url: str) -> None:
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() >= 12  # every operation listed
    assert "lifecircle" in page.inner_text(".info .title")
    assert page.locator(".opblock-summary-path", has_text="/maps/scenario").count() == 1
    settle(page)
    shot(page, "swagger-ui")


def test_redoc_needs_no_internet(page, base_url: str) -> None:
    page.goto(f"{base_url}/redoc")
    title = page.wait_for_selector("h1", timeout=30_000)
    assert "lifecircle" in title.inner_text()
    page.wait_for_selector("[data-section-id^='operation/']", timeout=30_000)
    # its search runs in a worker (a blob: URL the policy allows)
    page.fill("input[placeholder='Search...']", "scenario")
    found = page.wait_for_selector("[data-role='search:results'] li", timeout=30_000)
    assert "/ a what-if scenario's map" in found.inner_text()
    settle(page)
    assert set(page.lc_blocked) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
    shot(page, "redoc")


def test_renovation_map_needs_no_internet(page, base_url: str) -> None:
    page.goto(f"{base_url}/maps/renovation?tiles=none")
    page.wait_for_selector(".leaflet-interactive")
    settle(page)
    shot(page, "renovation")


def test_scenario_map_from_a_link_needs_no_internet(page, base_url: str) -> None:
    page.goto(base_url + SCENARIO)
    page.wait_for_selector(".leaflet-container .leaflet-interactive")
    stars = page.locator(".lc-star")
    assert stars.count() == 2  # the charging point added, the centre opened at rp-020
    stars.first.hover()
    assert "★ plan-" in page.wait_for_selector(".leaflet-tooltip").inner_text()
    settle(page)
    shot(page, "scenario")


def test_the_link_and_the_post_draw_the_same_map(base_url: str) -> None:
    body = {
        "name": "plan",
        "add": [{"type": "charging_points", "lon": 121.5525, "lat": 31.3030, "name": "新车棚"}],
        "remove": [{"type": "clinics", "id": "clinic-001"}],
        "sites": [{"project_id": "rp-020", "type": "neighbor_centers"}],
    }
    with httpx.Client(base_url=base_url, timeout=60) as client:
        linked = client.get(SCENARIO)
        posted = client.post("/scenarios", params={"f": "html", "tiles": "none"}, json=body)
    assert linked.status_code == posted.status_code == 200
    # folium names its elements with random ids; the same page apart from those
    assert _unnamed(linked.text) == _unnamed(posted.text)
    for text in ("★ plan-charging_points-1", "★ plan-neighbor_centers-2"):
        assert text in linked.text
    assert "cdn" not in linked.text.lower() and "https://" not in linked.text


def _unnamed(page: str) -> str:
    import re

    return re.sub(r"_[0-9a-f]{32}", "_", page)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("add=charging_points:121.5525", "add entry 1"),
        ("add=charging_points:121.55,31.30;clinics:x,y", "add entry 2"),
        ("remove=clinics", "remove entry 1"),
        ("move=clinics:clinic-001:500,31", "move entry 1"),
        ("sites=rp-020", "sites entry 1"),
        ("add=shops:121.55,31.30", "add entry 1"),
    ],
)
def test_a_bad_link_is_a_bilingual_400_naming_the_parameter(
    base_url: str, query: str, named: str
) -> None:
    answer = httpx.get(f"{base_url}/maps/scenario?{query}", timeout=60)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    detail = answer.json()["detail"]
    assert named in detail and " / " in detail  # Chinese / English


def test_a_link_naming_a_missing_facility_is_a_bilingual_404(base_url: str) -> None:
    """Well formed, but the layers have no such clinic: not found, naming the entry."""
    answer = httpx.get(f"{base_url}/maps/scenario?remove=clinics:nope", timeout=60)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    detail = answer.json()["detail"]
    assert "remove #1" in detail and "clinics 中没有 nope / no nope in clinics" in detail


def test_a_scenario_name_cannot_inject_markup(page, base_url: str) -> None:
    name = "<img src=x onerror=alert(1)>`${alert(2)}`\\"
    page.lc_dialogs = []
    page.on("dialog", lambda d: (page.lc_dialogs.append(d.message), d.dismiss()))
    page.goto(str(httpx.URL(f"{base_url}/maps/scenario",
                            params={"tiles": "none", "add": "clinics:121.5525,31.3030",
                                    "name": name})))  # fmt: skip
    page.wait_for_selector(".lc-star")
    page.locator(".lc-star").hover()
    tip = page.wait_for_selector(".leaflet-tooltip").inner_text()
    assert name in tip
    assert page.locator("img[src=x]").count() == 0 and page.lc_dialogs == []
    settle(page)


def test_the_docs_pages_ask_for_no_online_validator_or_fonts(base_url: str) -> None:
    answers = [httpx.get(f"{base_url}/docs"), httpx.get(f"{base_url}/redoc")]
    docs, redoc = (answer.text for answer in answers)
    assert '"validatorUrl": "none"' in docs
    assert "fonts.googleapis" not in redoc
    for answer in answers:  # the browser is told to fetch from nowhere else
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    for page in (docs, redoc):
        assert "cdn" not in page and "https://" not in page


def test_the_real_study_draws_its_streets_as_one_path_and_credits_osm(page, tmp_path: Path) -> None:
    """五角场's 3,295 street pieces are drawn as one SVG path (one layer, not thousands: the
    page opens in about half the time), and the ODbL credit is in the map's attribution."""
    folder = tmp_path / "wujiaochang"
    shutil.copytree(STUDY, folder, ignore=shutil.ignore_patterns(".*"))
    with serving(create_app(Settings(data=folder, warm=False))) as url:
        page.goto(f"{url}/?tiles=none")
        page.wait_for_selector(".leaflet-interactive")
        streets = page.locator(".leaflet-lc-streets-pane path")
        assert streets.count() == 1
        # the streets in view, clipped by Leaflet, are the many runs of that one path
        assert (streets.get_attribute("d") or "").count("M") > 300
        credit = page.inner_text(".leaflet-control-attribution")
        assert "© OpenStreetMap contributors (ODbL)" in credit
        settle(page)
