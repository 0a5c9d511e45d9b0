import geopandas as gpd
import shapely
from pages import shown

from geo.maps.base import overview_map
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
    assert len(LAYER_NAMES) == 5 and "L.control.layers" in page


def test_english_first_on_request():
    page = render(frames(), lang="en")
    assert switcher("Residential areas 小区") in page and "<th>Population</th>" in page
    assert "<th>人口</th>" in render(frames())


def test_names_from_data_are_escaped():
    page = render(frames("<img src=x onerror=alert(1)>"))
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x onerror" not in page


def test_stage_colours_and_no_tiles_offline():
    page = render(frames(), tiles="none")
    assert "#009E73" in page and "#E69F00" in page  # completed and signed
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
    page = dashboard.renovation_map(projects, statuses=["completed"]).get_root().render()
    assert "lc-slider" in page and '"status": "completed"' in page
    assert '"status": "signed"' not in page


def test_standalone_file_works_offline(tmp_path, capsys):
    out = tmp_path / "map.html"
    assert main(["map", "--type", "clinics", "--tiles", "none", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert 'src="http' not in html and 'href="http' not in html  # scripts inlined
    assert "data:text/javascript;base64," in html
    assert out.stat().st_size < 2_000_000
