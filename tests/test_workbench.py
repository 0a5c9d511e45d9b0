"""The planner's workbench on ``/`` as a planner uses it: Debian's Chromium via Playwright,
at a desktop's 1400×900 and a phone's 390×844.

Controls apply without a reload (no new document request, one navigation entry), colours
follow the threshold, the gap list agrees with ``geo.analysis.coverage``, the CSV download
is the list, nothing covers a popup or the layer switcher, and the back button undoes a
change. Screenshots go to test-output/.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from workbench_fixtures import centre_is, open_workbench, output, painted, shot, wait_painted

from geo.analysis.coverage import analyze_areas, gaps, summarize
from geo.analysis.params import WalkParams
from geo.analysis.study import Study
from geo.maps.base import LABELS, popup_html
from geo.maps.workbench import BAND_COLOURS, GAP_COLUMNS, UNREACHABLE


def navigations(page) -> int:
    return page.evaluate("performance.getEntriesByType('navigation').length")


def change_ms(page) -> float:
    """How long the last control change took to repaint, from the page's own marks."""
    return page.evaluate(
        "() => { performance.measure('lc-repaint', 'lc-change', 'lc-painted');"
        " const m = performance.getEntriesByName('lc-repaint');"
        " return m[m.length - 1].duration; }"
    )


def fills(page) -> dict[str, str]:
    return page.evaluate("window.lcWorkbench.fills()")


def expected_fills(study: Study, kind: str, params: WalkParams) -> dict[str, str]:
    """The band of each compound, relative to the threshold, as geo computes coverage."""
    result = analyze_areas(study, params)
    limit = params.limit_m(kind)
    out = {}
    for key, row in result.iterrows():
        metres, covered = row[f"{kind}_walk_m"], bool(row[f"{kind}_covered"])
        if metres != metres:
            out[str(key)] = UNREACHABLE
        elif covered:
            out[str(key)] = BAND_COLOURS[0] if metres <= limit / 2 else BAND_COLOURS[1]
        else:
            out[str(key)] = BAND_COLOURS[2] if metres <= limit * 1.5 else BAND_COLOURS[3]
    return out


TIMINGS: dict[str, float] = {}


# the drawn compounds whose dashed gap outline shows, and how many dashed outlines the map's
# SVG strokes (a hidden one has stroke="none")
OUTLINED = """() => {
  const config = JSON.parse(document.getElementById('lc-workbench-config').textContent);
  const ids = [];
  const visit = layer => layer.eachLayer ? layer.eachLayer(visit)
    : layer.lcOutline && layer.lcOutline.options.stroke && ids.push(String(layer.feature.id));
  window[config.areas].eachLayer(visit);
  const stroked = document.querySelectorAll('path[stroke-dasharray="6 4"]:not([stroke=none])');
  return {ids: ids, stroked: stroked.length};
}"""


def assert_gaps_outlined(page, result, kind: str) -> None:
    """The drawn compounds not covered for ``kind`` (as geo computes it) are outlined, and
    only they."""
    drawn = set(fills(page))
    want = {key for key in drawn if not bool(result.at[key, f"{kind}_covered"])}
    got = page.evaluate(OUTLINED)
    assert want and set(got["ids"]) == want and got["stroked"] == len(want)


def test_changing_the_type_repaints_in_place(page, base_url: str, study: Study) -> None:
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics")
    shot(page, "clinics")
    assert fills(page) == expected_fills(study, "clinics", WalkParams())
    result = analyze_areas(study, WalkParams())
    assert_gaps_outlined(page, result, "clinics")
    documents, entries, before = len(page.lc_documents), navigations(page), painted(page)
    page.click("a.lc-type[data-type=charging_points]")
    wait_painted(page, before)
    TIMINGS[f"type-{page.lc_size}"] = change_ms(page)
    assert "type=charging_points" in page.url
    assert len(page.lc_documents) == documents and navigations(page) == entries  # no reload
    # a charger 5–7.5 minutes away is past its 5-minute threshold: yellow, not "covered"
    assert fills(page) == expected_fills(study, "charging_points", WalkParams())
    assert "#F0E442" in fills(page).values()
    assert_gaps_outlined(page, result, "charging_points")
    # the threshold: a fetch of /coverage, still no reload
    before = painted(page)
    page.fill("#lc-minutes", "8")
    page.dispatch_event("#lc-minutes", "change")
    wait_painted(page, before)
    TIMINGS[f"threshold-{page.lc_size}"] = change_ms(page)
    params = WalkParams.parse(minutes="charging_points=8")
    assert fills(page) == expected_fills(study, "charging_points", params)
    assert "minutes=charging_points%3D8" in page.url or "minutes=charging_points=8" in page.url
    assert len(page.lc_documents) == documents and navigations(page) == entries
    shot(page, "charging-8min")
    assert page.lc_errors == []
    (output() / "workbench-timing.json").write_text(json.dumps(TIMINGS, indent=1))
    assert TIMINGS[f"type-{page.lc_size}"] < 1000 and TIMINGS[f"threshold-{page.lc_size}"] < 1000


def test_own_speed_and_elderly_walker(page, base_url: str, study: Study) -> None:
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics")
    before = painted(page)
    page.select_option("#lc-walker", "custom")
    wait_painted(page, before)
    before = painted(page)
    asked: list[str] = []
    page.on("request", lambda r: "/coverage" in r.url and asked.append(r.url))
    page.fill("#lc-speed", "2")
    page.dispatch_event("#lc-speed", "change")
    wait_painted(page, before)
    assert "speed=2" in page.url
    # the service computes the own-speed walker: asked for it, thresholds as they are
    queries = [parse_qs(urlparse(url).query) for url in asked]
    assert queries and all(q["speed"] == ["2"] and "profile" not in q
                           and "clinics=15" in q["minutes"][0] for q in queries), asked  # fmt: skip
    assert fills(page) == expected_fills(study, "clinics", WalkParams.parse(speed=2))
    before = painted(page)
    page.select_option("#lc-walker", "elderly")
    wait_painted(page, before)
    assert fills(page) == expected_fills(study, "clinics", WalkParams.parse("elderly"))
    assert page.lc_errors == []


def gap_list(page) -> tuple[dict[str, int], list[dict]]:
    totals = page.eval_on_selector(
        "#lc-gap-totals",
        "e => ({compounds: +e.dataset.compounds, households: +e.dataset.households,"
        " population: +e.dataset.population, elderly: +e.dataset.elderly})",
    )
    return totals, page.evaluate("window.lcWorkbench.gaps.rows")


def test_the_gap_list_is_what_geo_computes(page, base_url: str, study: Study) -> None:
    url = f"{base_url}/?tiles=none&type=charging_points&profile=elderly"
    open_workbench(page, url)
    page.wait_for_function(
        "() => window.lcWorkbench.gaps && window.lcWorkbench.gaps.profile === 'elderly'"
    )
    shot(page, "gaps")
    totals, rows = gap_list(page)
    params = WalkParams.parse("elderly")
    areas = study.layers["residential_areas"]
    result = analyze_areas(study, params)
    expected = gaps(areas, result, types=("charging_points",))
    assert totals["compounds"] == len(expected) == len(rows) > 0
    assert totals["population"] == expected["population"].sum()
    assert totals["elderly"] == expected["elderly"].sum()
    assert [r["id"] for r in rows] == [str(i) for i in expected.index]
    overall = summarize(areas, result)
    row = overall[(overall["subdistrict"] == "全部 / all") & (overall["type"] == "charging_points")]
    row = row.iloc[0]
    assert totals["compounds"] == row["areas"] - row["areas_covered"]
    population = areas["population"].sum()
    assert totals["population"] == population - row["population_covered"]
    households = areas["households"].sum()
    assert totals["households"] == households - row["households_covered"]
    # a compound named like HTML is text in the list, never an element
    assert page.locator("img[src=x]").count() == 0 and page.lc_dialogs == []
    # sortable: by residents, most first, then fewest
    page.click("#lc-gap-table th[data-key=population]")
    people = page.eval_on_selector_all(
        "#lc-gap-table tbody tr td:nth-child(4)", "tds => tds.map(t => +t.textContent)"
    )
    assert people == sorted(people, reverse=True)
    page.click("#lc-gap-table th[data-key=population]")
    people = page.eval_on_selector_all(
        "#lc-gap-table tbody tr td:nth-child(4)", "tds => tds.map(t => +t.textContent)"
    )
    assert people == sorted(people)
    # a row zooms to its compound and opens its popup
    first = page.locator("#lc-gap-table tbody tr").first
    name = first.locator("td").first.inner_text()
    first.click()
    popup = page.wait_for_selector(".leaflet-popup-content .lc-popup-title")
    assert popup.inner_text() == name
    assert page.lc_errors == []


def test_the_csv_download_is_the_list(page, base_url: str) -> None:
    open_workbench(page, f"{base_url}/?tiles=none&type=charging_points")
    page.locator("#lc-csv").scroll_into_view_if_needed()
    with page.expect_download() as info:
        page.click("#lc-csv")
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel and WPS read the Chinese
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == [names[0] for _, names in GAP_COLUMNS] and "小区" in table[0]
    _, rows = gap_list(page)
    keys = [key for key, _ in GAP_COLUMNS]
    shown = [["" if r[k] is None else str(r[k]) for k in keys] for r in rows]

    def plain(cell: str) -> str:  # CSV writes 757 as 757, 5.0 as 5.0: compare as numbers
        try:
            return f"{float(cell):g}"
        except ValueError:
            return cell

    assert [[plain(c) for c in r] for r in table[1:]] == [[plain(c) for c in r] for r in shown]
    # the Excel file has the same rows, English headers with lang=en
    from openpyxl import load_workbook

    answer = page.request.get(f"{base_url}/gaps.xlsx?type=charging_points&lang=en")
    sheet = load_workbook(io.BytesIO(answer.body())).active
    values = list(sheet.values)
    assert list(values[0]) == [names[1] for _, names in GAP_COLUMNS]
    assert [v[0] for v in values[1:]] == [r["id"] for r in rows]


def test_the_report_is_downloaded_for_the_walker_and_street_shown(page, base_url: str) -> None:
    import pypdf

    open_workbench(page, f"{base_url}/?tiles=none&type=charging_points&subdistrict=长白新村街道"
                   "&profile=elderly")  # fmt: skip
    page.locator("#lc-report-pdf").scroll_into_view_if_needed()
    href = page.get_attribute("#lc-report-pdf", "href")
    assert "profile=elderly" in href and "subdistrict=" in href and "charging_points=5" in href
    with page.expect_download(timeout=120_000) as info:
        page.click("#lc-report-pdf")
    reader = pypdf.PdfReader(info.value.path())
    text = reader.pages[0].extract_text()
    assert "长白新村街道" in text and "老年人步行 3 km/h" in text
    assert page.lc_errors == []


def test_nothing_covers_a_popup_or_the_layer_switcher(page, base_url: str) -> None:
    open_workbench(page, f"{base_url}/?tiles=none")
    # the map ends where the panel begins
    box = page.eval_on_selector(".folium-map", "e => e.getBoundingClientRect().toJSON()")
    panel = page.eval_on_selector("#lc-panel", "e => e.getBoundingClientRect().toJSON()")
    if page.lc_size == "desktop":
        assert box["right"] <= panel["left"] + 1 and panel["top"] == 0
    else:
        assert box["bottom"] <= panel["top"] + 1 and panel["left"] == 0
    # every compound's popup, opened where it is, shows its title
    ids = page.evaluate("Object.keys(window.lcWorkbench.fills())")
    for key in ids[:: max(1, len(ids) // 8)]:
        page.evaluate(
            f"() => {{ const w = window.lcWorkbench; w.zoomTo({{id: {json.dumps(key)}}}); }}"
        )
        page.wait_for_selector(".leaflet-popup-content .lc-popup-title")
        page.wait_for_timeout(350)  # the pan to fit the popup
        assert centre_is(page, ".leaflet-popup-content .lc-popup-title"), key
    shot(page, "popup")
    page.locator(".leaflet-control-layers").scroll_into_view_if_needed()
    assert centre_is(page, ".leaflet-control-layers")
    # the switcher works from the panel
    page.locator(".leaflet-control-layers label", has_text="等时圈").locator("input").check()
    page.wait_for_function(
        "() => Object.keys(window[JSON.parse(document.getElementById('lc-workbench-config')"
        ".textContent).isochrones]._layers).length > 0",
        timeout=30_000,
    )
    shot(page, "layers")
    # collapsed, the sheet gives the map the room
    page.click("#lc-toggle")
    page.wait_for_timeout(100)
    bigger = page.eval_on_selector(".folium-map", "e => e.getBoundingClientRect().toJSON()")
    assert bigger["width"] * bigger["height"] > box["width"] * box["height"]
    shot(page, "collapsed")
    assert page.lc_errors == []


def test_back_button_restores_the_previous_state(page, base_url: str, study: Study) -> None:
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics")
    first = fills(page)
    entries = navigations(page)
    before = painted(page)
    page.click("a.lc-type[data-type=charging_points]")
    wait_painted(page, before)
    before = painted(page)
    page.click("a.lc-type[data-type=neighbor_centers]")
    wait_painted(page, before)
    before = painted(page)
    page.go_back()
    wait_painted(page, before)
    assert "type=charging_points" in page.url
    assert page.locator("a.lc-type.lc-current").get_attribute("data-type") == "charging_points"
    before = painted(page)
    page.go_back()
    wait_painted(page, before)
    assert "type=clinics" in page.url and fills(page) == first
    assert navigations(page) == entries and page.lc_errors == []


def test_a_shared_url_opens_in_its_state(page, base_url: str, study: Study) -> None:
    url = (f"{base_url}/?tiles=none&type=charging_points&speed=3.5"
           "&minutes=charging_points%3D8&lang=en&subdistrict=长白新村街道")  # fmt: skip
    open_workbench(page, url)
    page.wait_for_function("() => window.lcWorkbench.gaps && window.lcWorkbench.gaps.speed_kmh")
    assert page.input_value("#lc-walker") == "custom"
    assert page.input_value("#lc-speed") == "3.5" and page.input_value("#lc-minutes") == "8"
    assert page.input_value("#lc-subdistrict") == "长白新村街道"
    assert "share covered" in page.inner_text("#lc-summary")
    assert "Legend" in page.inner_text("#lc-key")
    params = WalkParams.parse(speed=3.5, minutes="charging_points=8")
    areas = study.layers["residential_areas"]
    areas = areas[areas["subdistrict"] == "长白新村街道"]
    expected = gaps(
        areas, analyze_areas(study, params).loc[areas.index], types=("charging_points",)
    )
    totals, _ = gap_list(page)
    assert totals["compounds"] == len(expected) and totals["elderly"] == expected["elderly"].sum()
    # switching the language is in place too
    entries = navigations(page)
    page.click("button.lc-lang[data-lang=zh]")
    page.wait_for_function("() => document.getElementById('lc-key').textContent.includes('图例')")
    assert "lang=zh" in page.url and navigations(page) == entries
    shot(page, "shared")
    assert page.lc_errors == []


# --- a city too big to inline -----------------------------------------------------------------


def test_a_large_city_follows_the_controls(page, city_url: str, city_folder: Path) -> None:
    if page.lc_size == "phone":
        pytest.skip("the loader is the same at both sizes; once is enough for 5 000 compounds")
    open_workbench(page, f"{city_url}/?tiles=none&type=clinics")
    count = page.locator("path.leaflet-interactive").count()
    assert 100 < count < 5000
    city = Study.load(city_folder)
    result = analyze_areas(city, WalkParams())
    result.index = result.index.astype(str)
    assert_gaps_outlined(page, result, "clinics")
    entries, before = navigations(page), painted(page)
    colours = fills(page)
    page.click("a.lc-type[data-type=charging_points]")
    wait_painted(page, before)
    TIMINGS["type-large-city"] = change_ms(page)
    after = fills(page)
    assert navigations(page) == entries
    assert any(colours[k] != after[k] for k in set(colours) & set(after))
    assert_gaps_outlined(page, result, "charging_points")
    # and back: the outlines made for clinics are shown again, the chargers' hidden
    before = painted(page)
    page.click("a.lc-type[data-type=clinics]")
    wait_painted(page, before)
    assert_gaps_outlined(page, result, "clinics")
    before = painted(page)
    page.click("a.lc-type[data-type=charging_points]")
    wait_painted(page, before)
    page.wait_for_function("() => window.lcWorkbench.gaps.type === 'charging_points'")
    totals, _ = gap_list(page)
    assert totals["compounds"] == len(page.evaluate("window.lcWorkbench.gaps.rows"))
    # a new threshold in the same view: the areas drawn take the new numbers (no shapes
    # fetched again), and each is painted in its band as geo computes it
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/coverage?" in r.url else None)
    before = painted(page)
    page.fill("#lc-minutes", "8")
    page.dispatch_event("#lc-minutes", "change")
    wait_painted(page, before)
    TIMINGS["threshold-large-city"] = change_ms(page)
    assert asked and all("skipGeometry=true" in url for url in asked), asked
    eight = WalkParams.parse(minutes="charging_points=8")
    expected = expected_fills(city, "charging_points", eight)
    shown = fills(page)
    assert len(shown) > 100 and {k: expected[k] for k in shown} == shown
    result = analyze_areas(city, eight)
    result.index = result.index.astype(str)
    assert_gaps_outlined(page, result, "charging_points")
    assert navigations(page) == entries
    shot(page, "large-city")
    (output() / "workbench-timing.json").write_text(json.dumps(TIMINGS, indent=1))
    assert page.lc_errors == []


def test_popups_follow_the_language(page, base_url: str, study: Study) -> None:
    """A facility's popup and a compound's, open when the language changes, change with it:
    the facility's field names are those of the page built in that language."""
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics&lang=zh")
    clinic = study.layers["clinics"].iloc[0]
    row = {"name": clinic["name"], **clinic.drop("geometry").to_dict()}
    heads = "els => els.map(e => e.innerText.trim())"

    def names(lang: str) -> list[str]:
        return re.findall(r"<th>(.*?)</th>", popup_html(row, "clinics", lang))

    page.evaluate(
        "name => { const w = window.lcWorkbench; w.map.eachLayer(l => {"
        " if (l.feature && l.feature.id === name && l.getLatLng)"
        " l.fire('click', {latlng: l.getLatLng()}, true); }); }",
        str(clinic.name),
    )
    page.wait_for_selector(".leaflet-popup-content th")
    assert page.eval_on_selector_all(".leaflet-popup-content th", heads) == names("zh")
    page.click("button.lc-lang[data-lang=en]")
    assert page.eval_on_selector_all(".leaflet-popup-content th", heads) == names("en")
    # a compound's popup, open when the language changes back
    key = str(study.layers["residential_areas"].index[0])
    page.evaluate(f"window.lcWorkbench.zoomTo({{id: {json.dumps(key)}}})")
    page.wait_for_selector(".leaflet-popup-content .lc-popup-title")
    shown = page.eval_on_selector_all(".leaflet-popup-content th", heads)
    assert LABELS["clinics"][1] in shown and LABELS["clinics"][0] not in shown
    page.click("button.lc-lang[data-lang=zh]")
    shown = page.eval_on_selector_all(".leaflet-popup-content th", heads)
    assert LABELS["clinics"][0] in shown and LABELS["clinics"][1] not in shown
    assert page.lc_errors == []
