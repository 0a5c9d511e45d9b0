import json

import geopandas as gpd
import shapely

from geo.maps import overview_map
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
    return overview_map(layers, **kwargs).get_root().render()


def switcher(label: str) -> str:
    """How folium writes a layer name into the layer switcher's JavaScript."""
    return json.dumps(label)


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
