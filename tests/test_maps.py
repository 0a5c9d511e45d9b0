from datetime import date

import geopandas as gpd
import shapely
from pages import shown

from geo.maps.overview import overview_map
from geo.schema import LAYER_NAMES


def frames(name: str = "长白新城") -> dict[str, gpd.GeoDataFrame]:
    areas = gpd.GeoDataFrame(
        {"id": ["a"], "name": [name], "population": [3000], "elderly": [1100]},
        geometry=[shapely.box(121.54, 31.29, 121.541, 31.291)],
        crs="EPSG:4326",
    )
    clinics = gpd.GeoDataFrame(
        {"id": ["c"], "name": ["长白社区卫生服务中心"], "level": ["community_health_centre"]},
        geometry=[shapely.Point(121.540039, 31.299711)],
        crs="EPSG:4326",
    )
    projects = gpd.GeoDataFrame(
        {"id": ["p", "q"], "name": ["加装电梯", "美丽家园"], "status": ["completed", "signed"]},
        geometry=[shapely.Point(121.545, 31.295), shapely.box(121.55, 31.29, 121.551, 31.291)],
        crs="EPSG:4326",
    )
    return {"residential_areas": areas, "clinics": clinics, "renovation_projects": projects}


def render(layers, **kwargs) -> str:
    return shown(overview_map(layers, **kwargs).get_root().render())


def switcher(label: str) -> str:
    """A layer name as the layer switcher's JavaScript holds it."""
    return f'"{label}"'


def test_every_layer_is_in_the_switcher_chinese_first():
    page = render(frames())
    for zh_en in (
        "小区 Residential areas",
        "睦邻中心 Neighbour centres",
        "充电桩 Charging points",
        "社区卫生服务中心/站 Clinics",
        "改造项目 Renovation projects",
    ):
        assert switcher(zh_en) in page
    assert len(LAYER_NAMES) == 6 and "L.control.layers" in page


def test_english_first_on_request():
    page = render(frames(), lang="en")
    assert switcher("Residential areas 小区") in page and "<th>Population</th>" in page
    assert "<th>人口</th>" in render(frames())


def test_popups_name_allowed_values_in_the_page_language():
    layers = frames()
    layers["renovation_projects"] = layers["renovation_projects"].assign(
        kind=["bike_shed", "beautiful_homes"]
    )
    page = render(layers)
    assert "<th>类型</th><td>非机动车棚</td>" in page and "<td>完工</td>" in page
    assert "<td>社区卫生服务中心</td>" in page and "bike_shed" not in page.split("<body>")[-1]
    english = render(layers, lang="en")
    assert "<th>Kind</th><td>bike shed</td>" in english and "<td>completed</td>" in english


def test_names_from_data_are_escaped():
    page = render(frames("<img src=x onerror=alert(1)>"))
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x onerror" not in page


def test_stage_colours_and_no_tiles_offline():
    page = render(frames(), tiles="none")
    assert "#49006A" in page and "#F768A1" in page  # completed and signed
    assert "tile.openstreetmap.org" not in page
    assert "tile.openstreetmap.org" in render(frames())


def test_empty_layers_still_make_a_map():
    assert switcher("小区 Residential areas") in render({})


# --- the dashboard and the renovation map ---------------------------------------------------

import geo.maps.dashboard as dashboard  # noqa: E402
from geo.analysis.coverage import analyze_areas  # noqa: E402
from geo.analysis.study import Study  # noqa: E402
from geo.cli import main  # noqa: E402
from geo.crs import wgs84_to_gcj02  # noqa: E402
from geo.maps.renovation import renovation_map  # noqa: E402


def sample():
    study = Study.load()
    return study, analyze_areas(study)


def test_areas_are_coloured_by_walking_minutes():
    assert [dashboard._bin_colour(m) for m in (0, 5, 5.1, 10, 14.9, 15, 15.1, float("nan"))] == [
        "#009E73",
        "#009E73",
        "#56B4E9",
        "#56B4E9",
        "#F0E442",
        "#F0E442",
        "#D55E00",
        "#999999",
    ]
    study, result = sample()
    page = dashboard.coverage_map(study.layers, result, "charging_points").get_root().render()
    worst = result["charging_points_minutes_standard"].max()
    assert worst > 15 and "#D55E00" in page  # some compound is more than 15 minutes away
    assert "lc-summary" in page and "64%" in page  # share of residents with a charger nearby


def test_gaode_basemap_shifts_geometry_to_gcj02():
    study, result = sample()
    clinic = study.layers["clinics"].geometry.loc["clinic-007"]
    glon, glat = wgs84_to_gcj02(clinic.x, clinic.y)
    wgs = dashboard.coverage_map(study.layers, result, tiles="openstreetmap").get_root().render()
    gcj = dashboard.coverage_map(study.layers, result, tiles="gaode").get_root().render()
    assert f"[{clinic.x}, {clinic.y}]" in wgs  # GeoJSON order: lon, lat
    assert f"[{round(glon, 6)}, {round(glat, 6)}]" in gcj and "autonavi" in gcj


def test_large_layers_load_by_bbox_when_served_and_inline_when_standalone(monkeypatch):
    study, result = sample()
    monkeypatch.setattr(dashboard, "INLINE_LIMIT", 10)
    served = dashboard.coverage_map(study.layers, result, tiles="gaode", served=True)
    page = shown(served.get_root().render())
    assert '"/coverage?" + query' in page and "profile=standard&crs=gcj02" in page
    assert "/gaps?zones=true&" in page and "/isochrones?type=clinics&" in page
    assert "周家嘴路3800弄" not in page  # areas are fetched, not inlined
    standalone = shown(dashboard.coverage_map(study.layers, result).get_root().render())
    assert "周家嘴路3800弄" in standalone and "/coverage?" not in standalone


def test_renovation_map_by_stage():
    projects = Study.load().layers["renovation_projects"]
    page = renovation_map(projects, statuses=["completed"]).get_root().render()
    settings = config(page, "lc-renovation-config")
    assert "lc-slider" in page and settings["ticked"] == ["completed"]  # drawn at first
    # every project is still counted: the other stages are a tick away
    assert len(settings["projects"]["name"]) == len(projects)


def test_standalone_file_works_offline(tmp_path, capsys):
    out = tmp_path / "map.html"
    assert main(["map", "--type", "clinics", "--tiles", "none", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert 'src="http' not in html and 'href="http' not in html  # scripts inlined
    assert "data:text/javascript;base64," in html
    assert out.stat().st_size < 2_000_000


# --- the pages' own scripts and styles (geo/maps/static) -----------------------------------

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402

import geo.maps.base as base  # noqa: E402

VENDORED = {"leaflet.js", "leaflet.markercluster.js", "jquery.min.js", "leaflet-geoman.js"}


def config(page: str, element_id: str) -> dict:
    """The JSON settings a page gives its script, as the script reads them."""
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page)
    assert found, f"no #{element_id} in the page"
    return json.loads(found.group(1))


def large_dashboard(monkeypatch, **kwargs) -> str:
    study, result = sample()
    monkeypatch.setattr(dashboard, "INLINE_LIMIT", 10)
    fmap = dashboard.coverage_map(study.layers, result, tiles="none", served=True, **kwargs)
    return fmap.get_root().render()


def test_our_scripts_parse():
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail(
                "node is required in CI to check geo/maps/static/*.js: apt-get install nodejs"
            )
        pytest.skip("node not installed (apt-get install nodejs)")
    ours = sorted(p for p in base.STATIC.glob("*.js") if p.name not in VENDORED)
    assert {"dashboard.js", "renovation.js"} <= {p.name for p in ours}
    for path in ours:
        checked = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{path.name}: {checked.stderr}"


def test_a_served_dashboard_links_our_files(monkeypatch):
    page = large_dashboard(monkeypatch, assets="service")
    assert '<script src="/static/dashboard.js?v=' in page
    assert '<link rel="stylesheet" href="/static/lifecircle.css?v=' in page
    assert '"/coverage?" + query' not in page  # the script is linked, not copied in
    settings = config(page, "lc-dashboard-config")
    # the names the script looks up are the globals folium declares
    assert f"var {settings['map']} = L.map(" in page
    for name in (
        *settings["layers"].values(),
        *(o["layer"] for o in settings["overlays"].values()),
    ):
        assert f"var {name} = L.featureGroup(" in page
    assert settings["query"] == "profile=standard&crs=wgs84"
    assert settings["overlays"]["isochrones"]["url"] == (
        "/isochrones?type=clinics&profile=standard&crs=wgs84"
    )
    assert settings["colours"] == list(dashboard.BIN_COLOURS) and settings["bins"] == [5, 10, 15]


def test_standalone_pages_carry_our_files(monkeypatch):
    projects = Study.load().layers["renovation_projects"]
    pages = {
        "dashboard.js": large_dashboard(monkeypatch, assets="inline"),
        "renovation.js": renovation_map(projects, tiles="none", assets="inline")
        .get_root()
        .render(),
    }
    for script, page in pages.items():
        assert "/static/" not in page
        assert 'src="http' not in page and 'href="http' not in page
        assert (base.STATIC / script).read_text(encoding="utf-8") in page
        assert (base.STATIC / "lifecircle.css").read_text(encoding="utf-8") in page
    # folium's CDN has Leaflet but not our files: they are copied in there too
    cdn = renovation_map(projects, tiles="none").get_root().render()
    linked = re.findall(r'(?:src|href)="([^"]*)"', cdn)
    assert any(url.startswith("https://") for url in linked)
    assert not [url for url in linked if "renovation.js" in url or "lifecircle.css" in url]
    assert (base.STATIC / "renovation.js").read_text(encoding="utf-8") in cdn


def test_data_in_settings_stays_data():
    name = "</script><script>alert(1)</script>{{ 7*7 }}"
    projects = gpd.GeoDataFrame(
        {"name": [name], "status": ["completed"], "start": ["2020-03-01"]},
        geometry=[shapely.Point(121.545, 31.295)],
        crs="EPSG:4326",
    )
    page = renovation_map(projects, tiles="none", today=date(2020, 3, 31)).get_root().render()
    assert "<script>alert(1)" not in page and "{{ 7*7 }}" in page  # not run as a template
    settings = config(page, "lc-renovation-config")
    assert settings["projects"]["name"] == [name]
    assert settings["steps"] == ["2020-03"] and settings["as_of"] == ["2020-03-31"]
    assert settings["stages"][-1] == ["completed", base.STATUS_COLOURS["completed"], "完工"]


def test_a_file_that_would_end_its_element_is_not_inlined(tmp_path, monkeypatch):
    fmap = base.base_map([], tiles="none", assets="service")
    monkeypatch.setattr(base, "STATIC", tmp_path)
    (tmp_path / "bad.js").write_text('var s = "</script>";\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.js"):
        base.add_static(fmap, "bad.js", "inline")


def test_a_district_of_projects_makes_a_small_page_that_replays_their_stages():
    from renovation_city import synthetic_projects

    from geo.analysis.progress import stages_as_of
    from geo.schema import PROJECT_STATUSES

    today = date(2026, 6, 30)
    projects = synthetic_projects(10_000, today=today)
    page = renovation_map(projects, tiles="none", assets="service", today=today)
    html = page.get_root().render()
    assert len(html.encode()) < 1_600_000  # 1.36 MB measured: ~135 bytes a project
    settings = config(html, "lc-renovation-config")
    assert settings["steps"][-1] == "2026-06" and settings["as_of"][-1] == "2026-06-30"
    code = {s: i for i, s in enumerate(PROJECT_STATUSES)} | {"not_begun": -1, "undated": -2}

    def stage_at(path: list[int], step: int) -> int:
        stage = path[0]
        for at, then in zip(path[1::2], path[2::2], strict=True):
            if at <= step:
                stage = then
        return stage

    paths = settings["projects"]["path"]
    for step in (0, 40, 97, len(settings["steps"]) - 2, len(settings["steps"]) - 1):
        as_of = date.fromisoformat(settings["as_of"][step])
        replayed = stages_as_of(projects, as_of, today).map(code).tolist()
        assert [stage_at(p, step) for p in paths] == replayed
        assert -2 in replayed or step == len(settings["steps"]) - 1  # the undated, said
