"""The workbench's page-test fixtures, a pytest plugin (``pytest_plugins`` in conftest.py).

``browser`` (Debian's Chromium, once per module), ``page`` (a fresh page at a desktop's
1400×900 and, as a second run of each test, a phone's 390×844), and the bundled sample
served from a copy: ``data_folder`` (one compound renamed to an HTML snippet, so a test can
see that data is shown as text), ``study`` and ``base_url``. A test module that needs
another store or size defines its own fixture of the same name, which wins. Chromium is
imported when a test asks for the browser: without it that test is skipped (an error in CI),
not every test of the run.

The helpers (``open_workbench``, ``shot``, ``centre_is`` …) are imported from here.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from served import serving

from api.main import create_app
from geo.analysis.study import Study
from geo.settings import DEFAULT_DATA_DIR, Settings

#: A compound's name in ``data_folder``: shown as text, never run.
XSS = "<img src=x onerror=alert(1)>"
#: The page sizes every ``page`` test runs at.
SIZES = {"desktop": (1400, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workbench")
    shutil.copytree(
        DEFAULT_DATA_DIR, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*")
    )
    path = folder / "residential_areas.geojson"
    text = path.read_text(encoding="utf-8").replace('"name":"安图新村"', json.dumps(
        {"name": XSS}, ensure_ascii=False)[1:-1])  # fmt: skip
    path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def study(data_folder: Path) -> Study:
    return Study.load(data_folder)


@pytest.fixture(scope="module")
def base_url(data_folder: Path) -> Iterator[str]:
    with serving(create_app(Settings(data=data_folder))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from browser import launched  # skips the test when Chromium or Playwright is missing

    with launched() as running:
        yield running


@pytest.fixture(params=list(SIZES))
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    width, height = SIZES[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    page = context.new_page()
    page.lc_size = request.param
    page.lc_errors = []
    page.lc_dialogs = []
    page.lc_documents = []
    page.on("console", lambda m: m.type == "error" and page.lc_errors.append(m.text))
    page.on("pageerror", lambda e: page.lc_errors.append(str(e)))
    page.on("dialog", lambda d: (page.lc_dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: r.resource_type == "document" and page.lc_documents.append(r.url))
    yield page
    context.close()


def output() -> Path:
    """test-output/, made when first needed."""
    from browser import OUTPUT

    OUTPUT.mkdir(exist_ok=True)
    return OUTPUT


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(output() / f"workbench-{name}-{page.lc_size}.png"))


def painted(page: Any) -> int:
    return int(page.evaluate("document.documentElement.dataset.lcPainted || 0"))


def open_workbench(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.documentElement.dataset.lcPainted", timeout=30_000)
    page.wait_for_selector("#lc-gap-totals", timeout=30_000)


def wait_painted(page: Any, after: int) -> None:
    page.wait_for_function(
        f"() => +(document.documentElement.dataset.lcPainted || 0) > {after}", timeout=30_000
    )


def centre_is(page: Any, selector: str) -> bool:
    """Whether the element at the centre of ``selector`` is it or inside it."""
    return page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect();"
        " const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        " return !!hit && (hit === e || e.contains(hit)); }",
    )


@pytest.fixture(scope="module")
def city_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic city too big to inline in the page (its views load from /coverage)."""
    from city import write_city

    from geo.maps.dashboard import INLINE_LIMIT

    return write_city(tmp_path_factory.mktemp("city"), INLINE_LIMIT + 2000)


@pytest.fixture(scope="module")
def city_url(city_folder: Path) -> Iterator[str]:
    """The service on :func:`city_folder`, for the module's tests."""
    with serving(create_app(Settings(data=city_folder))) as url:
        yield url
