"""The catalogue's kinds on the real 五角场 study: import → analyze → API → map.

The study's `facilities` layer (66 OSM kindergartens, schools, markets, parks … made by
tools/build_facilities.py) is taken out of a copy and imported again from a planner's CSV
with Chinese headers and Chinese category names; then `lifecircle analyze` writes
completeness.csv, the service lists the layer as an OGC collection and answers
/completeness, and the dashboard colours the compounds by completeness in Chromium.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import httpx
import pandas as pd
import pytest
from served import serving
from workbench_fixtures import open_workbench, painted, shot, wait_painted

from api.main import create_app
from geo.analysis.completeness import completeness
from geo.analysis.study import Study
from geo.catalogue import CATALOGUE, CATEGORIES
from geo.cli import main
from geo.layers.store import read_layer
from geo.maps.workbench import COMPLETENESS_BANDS, COMPLETENESS_COLOURS
from geo.settings import Settings

STUDY = Path(__file__).resolve().parent.parent / "data" / "studies" / "wujiaochang"
#: Facilities per category in the bundled layer (tools/build_facilities.py printed them).
COUNTS = {"kindergarten": 5, "primary_school": 9, "middle_school": 9, "market": 4,
          "culture_centre": 1, "sports_ground": 3, "park": 34, "library": 1}  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the study whose facilities were imported from a Chinese CSV."""
    root = tmp_path_factory.mktemp("wjc")
    copy = root / "study"
    shutil.copytree(STUDY, copy, ignore=shutil.ignore_patterns(".*", "facilities.geojson"))
    bundled = gpd.read_file(STUDY / "facilities.geojson")
    table = root / "其他设施.csv"
    with table.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["编号", "名称", "设施类别", "经度", "纬度", "备注"])
        for row in bundled.itertuples():
            writer.writerow([row.id, row.name, CATALOGUE[row.category].zh,
                             f"{row.geometry.x:.7f}", f"{row.geometry.y:.7f}", row.note])  # fmt: skip
    assert main(["import", "facilities", str(table), "--data", str(copy)]) == 0
    return copy


def test_the_bundled_layer_counts_and_credits_osm():
    frame = read_layer("facilities", STUDY)
    assert frame["category"].value_counts().to_dict() == COUNTS
    assert set(frame["category"]) <= set(CATEGORIES)
    assert frame["note"].str.contains("© OpenStreetMap contributors, ODbL").all()


def test_import_reads_chinese_headers_and_category_names(folder: Path):
    imported = read_layer("facilities", folder)
    bundled = read_layer("facilities", STUDY)
    assert len(imported) == len(bundled) == sum(COUNTS.values())
    assert imported["category"].sort_index().equals(bundled["category"].sort_index())


def test_analyze_writes_completeness_as_the_library_computes_it(folder: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert main(["analyze", "--data", str(folder), "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out / "completeness.csv", encoding="utf-8-sig").set_index("编号 / ID")
    expected = completeness(Study.load(folder))
    basic = "基础保障类可达数 / basic kinds reached · 老年人步行 / elderly walker"
    assert table[basic].to_dict() == expected["basic_elderly"].to_dict()
    assert (
        table[basic] <= table[basic.replace("老年人步行 / elderly", "一般步行 / standard")]
    ).all()
    kindergarten = "幼儿园 5分钟内·一般步行 / kindergarten within 5 min, standard"
    assert table[kindergarten].sum() == expected["kindergarten_standard"].sum() > 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["completeness"]
    assert summary["facilities"]["park"] == COUNTS["park"]
    assert summary["facilities"]["elderly_canteen"] == 0  # OSM has none here: said, not hidden
    wjc = [r for r in summary["summary"] if r["subdistrict"] == "五角场街道"]
    assert {r["walker"] for r in wjc} == {"standard", "elderly"}
    assert wjc[0]["mean_basic"] > wjc[1]["mean_basic"]  # the elderly walker reaches fewer


@pytest.fixture(scope="module")
def base_url(folder: Path) -> Iterator[str]:
    with serving(create_app(Settings(data=folder))) as url:
        yield url


def test_the_layer_is_an_ogc_collection_with_its_categories(base_url: str):
    with httpx.Client(base_url=base_url, timeout=30) as http:
        ids = [c["id"] for c in http.get("/collections").json()["collections"]]
        assert "facilities" in ids
        items = http.get("/collections/facilities/items", params={"limit": 100}).json()
        assert items["numberMatched"] == sum(COUNTS.values())
        parks = http.get("/collections/facilities/items", params={"category": "park"}).json()
        assert parks["numberMatched"] == COUNTS["park"]
        queryables = http.get("/collections/facilities/queryables").json()
        assert queryables["properties"]["category"]["enum"] == list(CATEGORIES)


def test_completeness_answers_per_compound_and_what_each_subdistrict_lacks(
    base_url: str, folder: Path
):
    with httpx.Client(base_url=base_url, timeout=60) as http:
        body = http.get("/completeness", params={"walker": "elderly", "top": 3}).json()
    expected = completeness(Study.load(folder))
    got = {a["id"]: a["basic_standard"] for a in body["areas"]}
    assert got == {str(k): int(v) for k, v in expected["basic_standard"].items()}
    kinds = {k["key"]: k for k in body["kinds"]}
    assert kinds["kindergarten"]["minutes"] == {"standard": 5.0, "elderly": 5.0}
    assert kinds["kindergarten"]["facilities"] == COUNTS["kindergarten"]
    assert not kinds["pharmacy"]["verified"] and "unverified" in kinds["pharmacy"]["source"]
    wjc = [r for r in body["lacking"] if r["subdistrict"] == "五角场街道"]
    assert [r["rank"] for r in wjc] == [1, 2, 3] and all(r["facilities"] > 0 for r in wjc)
    assert wjc[0]["share_without"] >= wjc[1]["share_without"] >= wjc[2]["share_without"]


def expected_fills(table: pd.DataFrame, walker: str) -> dict[str, str]:
    basic = sum(1 for k in CATALOGUE.values() if k.tier == "基础保障")
    out = {}
    for key, count in table[f"basic_{walker}"].items():
        band = sum(count / basic >= edge - 1e-9 for edge in COMPLETENESS_BANDS)
        out[str(key)] = COMPLETENESS_COLOURS[band]
    return out


def test_the_dashboard_colours_by_completeness(page, base_url: str, folder: Path):
    table = completeness(Study.load(folder))
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics")
    before = painted(page)
    page.select_option("#lc-colour", "completeness")
    wait_painted(page, before)
    assert "colour=completeness" in page.url
    fills = page.evaluate("window.lcWorkbench.fills()")
    assert fills == expected_fills(table, "standard")
    legend = page.inner_text("#lc-key")
    assert "生活圈完整度" in legend and "12 类" in legend
    # a compound's popup: its kinds per tier and what it lacks, by name
    key = str(table["basic_standard"].idxmax())
    page.evaluate("id => window.lcWorkbench.zoomTo({id: id})", key)
    popup = page.wait_for_selector(".leaflet-popup-content", timeout=30_000).inner_text()
    assert f"{int(table.loc[key, 'basic_standard'])} / 12 类" in popup and "缺少" in popup
    assert "长者食堂" in popup  # none in the data: every compound lacks it
    assert "其他设施" in page.inner_text("#lc-layers")
    shot(page, "completeness")
    # the elderly walker, from the URL: fewer kinds within the same minutes
    open_workbench(page, f"{base_url}/?tiles=none&type=clinics&profile=elderly&colour=completeness")
    page.wait_for_function("() => window.lcWorkbench.completeness", timeout=30_000)
    page.wait_for_function(
        f"() => Object.values(window.lcWorkbench.fills()).includes('{expected_fills(table, 'elderly')[key]}')",
        timeout=30_000,
    )
    assert page.evaluate("window.lcWorkbench.fills()") == expected_fills(table, "elderly")
    assert not page.lc_errors


def test_the_report_lists_what_the_subdistrict_lacks_most(folder: Path):
    from geo.analysis.completeness import lacking
    from geo.reports.content import build_report
    from geo.reports.render import to_html, to_xlsx

    study = Study.load(folder)
    report = build_report(folder, subdistrict="五角场街道", study=study)
    table = report.tables["lacking"]
    areas = study.layers["residential_areas"]
    chosen = areas[areas["subdistrict"] == "五角场街道"]
    expected = lacking(chosen, completeness(study).loc[chosen.index], "elderly")
    assert table["rank"].tolist() == [1, 2, 3]
    assert table["residents_without"].tolist() == expected["residents_without"].head(3).tolist()
    assert table["service"].iloc[0] == CATALOGUE[expected["kind"].iloc[0]].zh
    page = to_html(report)
    assert "各街道最缺什么" in page and table["service"].iloc[0] in page
    assert len(to_xlsx(report)) > 0
