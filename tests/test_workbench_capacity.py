"""The workbench's capacity colouring in Chromium: compounds painted by their supply within
reach (E2SFCA) against the study's average, rings round overloaded facilities, a bilingual
legend, and the state in the URL."""

from __future__ import annotations

import pytest
from workbench_fixtures import open_workbench, painted, shot, wait_painted

from geo.analysis.capacity import capacity
from geo.analysis.params import WalkParams
from geo.analysis.study import Study
from geo.maps.workbench import CAPACITY_BANDS, CAPACITY_COLOURS, UNREACHABLE


def expected_fills(study: Study, kind: str, params: WalkParams) -> dict[str, str]:
    """Each compound's capacity colour, from geo's ratios and the documented bands."""
    result = capacity(study, params).areas
    out = {}
    for key, share in result[f"{kind}_access_share"].items():
        if share != share:
            out[str(key)] = UNREACHABLE
        else:
            band = sum(share >= edge for edge in CAPACITY_BANDS)
            out[str(key)] = CAPACITY_COLOURS[band]
    return out


def test_capacity_colouring_and_overloaded_markers(page, base_url: str, study: Study) -> None:
    kind = "neighbor_centers"
    open_workbench(page, f"{base_url}/?tiles=none&type={kind}")
    walk = page.evaluate("window.lcWorkbench.fills()")
    before = painted(page)
    page.select_option("#lc-colour", "capacity")
    wait_painted(page, before)
    assert "colour=capacity" in page.url
    fills = page.evaluate("window.lcWorkbench.fills()")
    assert fills == expected_fills(study, kind, WalkParams())
    assert fills != walk
    assert CAPACITY_COLOURS[0] in fills.values()  # some compounds are under-served
    # one ring per overloaded centre, where the service says
    loads = capacity(study).facilities
    overloaded = loads[(loads["type"] == kind) & loads["overloaded"]]
    assert len(overloaded) > 0
    page.wait_for_function(
        f"() => document.documentElement.dataset.lcOverloaded == {len(overloaded)}",
        timeout=30_000,
    )
    assert page.locator("path.lc-overloaded").count() == len(overloaded)
    legend = page.inner_text("#lc-key")
    assert "可达供给 ÷ 研究区平均" in legend and "超负荷设施" in legend
    assert "睦邻中心面积 m² / 千人" in legend
    shot(page, "capacity")
    # the elderly walker: the ratios of a 3 km/h walk
    before = painted(page)
    page.select_option("#lc-walker", "elderly")
    wait_painted(page, before)
    elderly = WalkParams.parse("elderly")
    assert page.evaluate("window.lcWorkbench.fills()") == expected_fills(study, kind, elderly)
    # English, then back to walking times: the rings go
    page.click("button.lc-lang[data-lang=en]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert "supply within reach ÷ study average" in page.inner_text("#lc-key")
    before = painted(page)
    page.select_option("#lc-colour", "walk")
    wait_painted(page, before)
    assert page.locator("path.lc-overloaded").count() == 0
    assert "colour=capacity" not in page.url
    assert page.lc_errors == []


def test_a_shared_capacity_url_opens_coloured(page, base_url: str, study: Study) -> None:
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics&colour=capacity")
    fills = page.evaluate("window.lcWorkbench.fills()")
    assert fills == expected_fills(study, "clinics", WalkParams())
    assert page.input_value("#lc-colour") == "capacity"
    assert page.lc_errors == []


def test_a_large_city_is_coloured_by_capacity_view_by_view(page, city_url, city_folder) -> None:
    if page.lc_size == "phone":
        pytest.skip("the loader is the same at both sizes; once is enough for 7,000 compounds")
    open_workbench(page, f"{city_url}/?tiles=none&type=charging_points")
    before = painted(page)
    page.select_option("#lc-colour", "capacity")
    wait_painted(page, before)
    study = Study.load(city_folder)
    expected = expected_fills(study, "charging_points", WalkParams())
    shown = page.evaluate("window.lcWorkbench.fills()")
    assert len(shown) > 100 and {k: expected[k] for k in shown} == shown
    assert len(set(shown.values())) > 1
    loads = capacity(study).facilities
    overloaded = int(loads["overloaded"].sum())
    page.wait_for_function(
        f"() => document.documentElement.dataset.lcOverloaded == {overloaded}", timeout=30_000
    )
    assert page.lc_errors == []
