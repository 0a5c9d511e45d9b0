"""The 街道 report: its numbers are analyze's, its PDF reads, its workbook opens and is safe."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pypdf
import pytest
from openpyxl import load_workbook
from served import serving

from api.main import create_app
from geo.analysis.params import WalkParams
from geo.analysis.planning import Scenario, compare
from geo.analysis.run import analyze, write_outputs
from geo.analysis.study import Study
from geo.cli import main
from geo.errors import LifecircleError
from geo.reports import figures
from geo.reports.content import build_report, header
from geo.reports.render import PRINT_ROWS, to_html, to_pdf, to_xlsx
from geo.settings import DEFAULT_DATA_DIR, Settings

PLACE = "长白新村街道"


@pytest.fixture(scope="module")
def sample() -> Study:
    return Study.load(DEFAULT_DATA_DIR)


@pytest.fixture(scope="module")
def report(sample: Study):
    return build_report(DEFAULT_DATA_DIR, subdistrict=PLACE, study=sample)


@pytest.fixture(scope="module")
def pictures(report) -> dict[str, bytes]:
    return figures.report_figures(report)


@pytest.fixture(scope="module")
def pdf_text(report, pictures) -> tuple[int, str, bytes]:
    content = to_pdf(report, pictures)
    reader = pypdf.PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages), content


def test_key_figures_are_analyze_s_summary_for_both_walkers(sample: Study, report) -> None:
    table = report.tables["key_figures"]
    for profile, walker in (("standard", "一般步行 4 km/h"), ("elderly", "老年人步行 3 km/h")):
        summary = analyze(sample, WalkParams.parse(profile)).summary
        ours = table[table["walker"] == walker]
        theirs = summary[summary["subdistrict"] == PLACE]
        assert len(ours) == len(theirs) == 4  # three types and all at once
        for mine, row in zip(ours.to_dict("records"), theirs.to_dict("records"), strict=True):
            for key in ("areas", "areas_covered", "households_covered", "population_covered",
                        "elderly_covered"):  # fmt: skip
                assert mine[key] == row[key], (walker, row["type"], key)
            assert mine["share_population"] == round(100 * row["share_population"], 1)
    # the elderly walk slower, so no more of them are covered
    standard = table[table["walker"].str.startswith("一般")]["population_covered"].to_numpy()
    elderly = table[table["walker"].str.startswith("老年")]["population_covered"].to_numpy()
    assert (elderly <= standard).all() and (elderly < standard).any()


def test_the_pdf_has_the_pages_the_place_the_figures_and_the_gap_compounds(
    report,
    pdf_text: tuple[int, str, bytes],
) -> None:
    pages, text, content = pdf_text
    assert pages >= 5
    assert PLACE in text and "杨浦区" in text
    clinics = report.tables["key_figures"].iloc[1]
    assert f"{clinics['population_covered']:,}" in text  # a key figure, as printed
    for name in report.tables["gaps"]["name"].head(5):
        assert name in text
    assert "© OpenStreetMap" in text
    # the CJK font travels inside the file (a subset), so it prints anywhere
    reader = pypdf.PdfReader(io.BytesIO(content))
    embedded = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    embedded.add(str(descendant.get_object()["/BaseFont"]))
    assert any("WenQuanYi" in name or "CJK" in name for name in embedded), embedded


def test_the_html_is_the_same_content_and_loads_nothing(report, pictures) -> None:
    page = to_html(report, pictures)
    assert PLACE in page and 'src="http' not in page and "src='http" not in page
    assert page.count("data:image/png;base64,") == len(pictures)
    for name in report.tables["gaps"]["name"].head(5):
        assert name in page


def test_the_workbook_holds_analyze_s_rows_with_headers_units_and_frozen_rows(
    sample: Study,
    report,
    tmp_path: Path,
) -> None:
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    assert book.sheetnames == ["封面", "主要指标", "覆盖缺口小区", "改造项目机会", "推荐位置",
                               "改造进度", "季度进度", "加装电梯重点小区", "容量",
                               "覆盖但供不足", "各街道最缺什么"]  # fmt: skip
    gaps = book["覆盖缺口小区"]
    assert gaps.freeze_panes == "A2"
    assert [c.value for c in gaps[1]][:6] == ["序号", "名称", "街道", "户数（户）", "人口（人）",
                                              "60岁以上老人（人）"]  # fmt: skip
    rows = list(gaps.iter_rows(min_row=2, values_only=True))
    # the same compounds, in the same order, as analyze's gap_areas.csv for this 街道
    write_outputs(analyze(sample), tmp_path)
    with open(tmp_path / "gap_areas.csv", encoding="utf-8-sig") as handle:
        written = [r for r in csv.DictReader(handle) if r["subdistrict"] == PLACE]
    assert [r[1] for r in rows] == [r["name"] for r in written]
    assert [r[4] for r in rows] == [int(r["population"]) for r in written]
    assert all(isinstance(r[4], int) for r in rows)  # numbers as numbers
    progress = book["改造进度"]
    assert [c.value for c in progress[1]][2] == header("projects_at")


def test_text_that_could_run_in_a_spreadsheet_is_neutralised(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    path = data / "residential_areas.geojson"
    text = path.read_text(encoding="utf-8")
    # 内江大楼 lacks a charger, so it is on the gap list
    path.write_text(text.replace('"内江大楼"', '"=HYPERLINK(\\"http://x\\",\\"点我\\")"'), "utf-8")
    built = build_report(data, subdistrict=PLACE)
    book = load_workbook(io.BytesIO(to_xlsx(built)))
    names = [row[1] for row in book["覆盖缺口小区"].iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://x","点我")' in names
    assert not any(str(n).startswith("=") for n in names)
    cells = [c for row in book["覆盖缺口小区"].iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)


def test_retrofit_candidates_are_the_maps_with_their_elevators(sample: Study) -> None:
    built = build_report(DEFAULT_DATA_DIR, subdistrict="打浦桥街道", study=sample)
    table = built.tables["retrofits"]
    # 蒙西小区 (6 storeys, no lift) with its 49 completed of 60 begun, before 丽苑小区
    assert table["name"].tolist()[:2] == ["蒙西小区", "丽苑小区"]
    assert table.iloc[0][["retrofit_units", "units_completed"]].tolist() == [60, 49]


def test_english_reports_speak_english(sample: Study) -> None:
    built = build_report(DEFAULT_DATA_DIR, subdistrict=PLACE, lang="en", study=sample)
    book = load_workbook(io.BytesIO(to_xlsx(built)))
    assert book.sheetnames[1] == "key figures"
    assert [c.value for c in book["gaps"][1]][:3] == ["rank", "name", "subdistrict"]
    assert "15-minute life circle report" in built.title


def test_without_a_cjk_font_the_report_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(figures, "CJK_FONTS", ("No Such Font SC",))
    with pytest.raises(LifecircleError, match="fonts-wqy-zenhei"):
        figures.cjk_font()
    out = tmp_path / "r.pdf"
    assert main(["report", "--subdistrict", PLACE, "--out", str(out)]) == 1
    assert "no Chinese (CJK) font" in capsys.readouterr().err and not out.exists()


def test_the_cli_writes_each_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("xlsx", "html"):
        out = tmp_path / f"报告.{fmt}"
        assert main(["report", "--subdistrict", PLACE, "--out", str(out)]) == 0
        assert out.stat().st_size > 5_000
    assert main(["report", "--subdistrict", "不存在街道", "--out", str(tmp_path / "x.pdf")]) == 1
    assert "choose from" in capsys.readouterr().err


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = create_app(Settings(data=DEFAULT_DATA_DIR, warm=False))
    with serving(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        yield client


def test_the_api_serves_the_same_report(client: httpx.Client, report) -> None:
    answer = client.get("/reports", params={"subdistrict": PLACE, "f": "pdf"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(answer.content)).pages)
    assert PLACE in text and report.tables["gaps"]["name"].iloc[0] in text
    sheet = client.get("/reports", params={"subdistrict": PLACE, "f": "xlsx"})
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
    bad = client.get("/reports", params={"subdistrict": "不存在街道"})
    assert bad.status_code == 404 and "choose from" in bad.json()["detail"]  # not in the study


def test_long_tables_are_cut_in_print_and_whole_in_the_workbook(report) -> None:
    many = report.tables["gaps"]
    long = many.loc[many.index.repeat(PRINT_ROWS // max(len(many), 1) + 2)].reset_index(drop=True)
    report.tables["gaps"] = long
    try:
        page = to_html(report, {})
        book = load_workbook(io.BytesIO(to_xlsx(report)))
    finally:
        report.tables["gaps"] = many
    assert f"另有 {len(long) - PRINT_ROWS} 行" in page
    assert book["覆盖缺口小区"].max_row == len(long) + 1


def test_a_scenario_s_change_is_compare_s(sample: Study, tmp_path: Path) -> None:
    plan = {"name": "东北角充电桩", "add": [{"type": "charging_points", "lon": 121.5525,
                                           "lat": 31.3030}]}  # fmt: skip
    path = tmp_path / "东北角充电桩.json"
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "s.xlsx"
    assert main(["report", "--subdistrict", PLACE, "--scenario", str(path), "--out", str(out)]) == 0
    rows = list(load_workbook(out)["方案比较"].iter_rows(min_row=2, values_only=True))
    expected = compare(sample, Scenario.from_dict(plan)).by_subdistrict
    expected = expected[(expected["subdistrict"] == PLACE)].set_index("type")
    chargers = next(r for r in rows if r[0] == "充电桩")
    gained = expected.loc["charging_points"]
    assert chargers[3] == gained["population_gained"] - gained["population_lost"] > 0
    assert chargers[6] == gained["elderly_gained"] - gained["elderly_lost"]
    assert chargers[2] - chargers[1] == chargers[3]


def test_a_scenario_saved_in_the_workbench_is_compared_by_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    plan = {"add": [{"type": "charging_points", "lon": 121.5525, "lat": 31.3030}]}
    app = create_app(Settings(data=data, warm=False))
    with serving(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        assert http.put("/scenarios/东北角充电桩", json=plan).status_code == 200
        sheet = http.get("/reports", params={"subdistrict": PLACE, "f": "xlsx",
                                             "scenario": "东北角充电桩"})  # fmt: skip
        assert sheet.status_code == 200
        assert http.get("/reports", params={"scenario": "没有这个"}).status_code == 404
    served = load_workbook(io.BytesIO(sheet.content))["方案比较"]
    out = tmp_path / "r.xlsx"
    args = ["report", "--data", str(data), "--subdistrict", PLACE, "--out", str(out)]
    assert main([*args, "--scenario", "东北角充电桩"]) == 0
    written = load_workbook(out)["方案比较"]
    rows = list(written.iter_rows(values_only=True))
    assert rows == list(served.iter_rows(values_only=True))
    assert next(r for r in rows if r[0] == "充电桩")[3] > 0  # people newly covered
    assert main([*args, "--scenario", "没有这个"]) == 1


def test_the_capacity_tables_are_the_e2sfca_of_the_study(
    sample: Study, report, pdf_text: tuple[int, str, bytes]
) -> None:
    from geo.analysis.capacity import capacity, under_served
    from geo.analysis.coverage import analyze_areas

    result = capacity(sample)
    table = report.tables["capacity"].set_index("type")
    clinics = result.summary.set_index("type").loc["clinics"]
    assert table.at["社区卫生服务中心/站", "supply"] == clinics["supply"] == 755
    assert table.at["社区卫生服务中心/站", "ratio"] == clinics["study_ratio"]
    assert table.at["社区卫生服务中心/站", "ratio_unit"] == "床位 / 千名老人"
    assert table["standard"].str.contains("无经核实").all()  # nothing invented
    areas = sample.layers["residential_areas"]
    here = areas[areas["subdistrict"] == PLACE]
    expected = under_served(here, analyze_areas(sample).loc[here.index], result)
    rows = report.tables["under_served"]
    assert rows["name"].tolist() == expected["name"].tolist()
    assert rows["access"].tolist() == expected["access"].tolist()
    _, text, _ = pdf_text
    assert "E2SFCA" in text and "已覆盖但供不足" in text
    for name in rows["name"].head(3):
        assert name in text
