"""The bundled 五角场 study (data/studies/wujiaochang): real OSM streets and outlines.

Built by ``tools/build_wujiaochang.py``; the numbers asserted here are the ones that script
measured and wrote into the study's README.md (a rebuild that changes them must update both).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pages import shown

from geo.analysis.coverage import analyze_areas, area_origins
from geo.analysis.params import WalkParams
from geo.analysis.study import Study
from geo.layers.store import read_layer, validate_store
from geo.maps.dashboard import Computed, dashboard_map
from geo.network.graph import components_report

STUDY = Path(__file__).resolve().parent.parent / "data" / "studies" / "wujiaochang"
LAYER_FILES = (
    "residential_areas",
    "neighbor_centers",
    "clinics",
    "charging_points",
    "renovation_projects",
)

# measured by tools/build_wujiaochang.py (see the study's README.md)
NODES, EDGES, KM, PIECES = 2956, 3295, 119.6, 4
COMPOUNDS, POPULATION = 78, 144_700
#: compounds covered per type: standard walker (4.0 km/h) and elderly walker (3.0 km/h);
#: clinics and neighbour centres 15 minutes, charging points 5.
COVERED = {
    "standard": {"clinics": 27, "neighbor_centers": 41, "charging_points": 37},
    "elderly": {"clinics": 15, "neighbor_centers": 31, "charging_points": 30},
}


@pytest.fixture(scope="module")
def study() -> Study:
    return Study.load(STUDY)


def test_the_study_is_a_complete_valid_store():
    for name in LAYER_FILES:
        assert (STUDY / f"{name}.geojson").is_file(), name
    assert (STUDY / "streets.osm").is_file()  # the OSM export, read with its own topology
    errors = [p for p in validate_store(STUDY) if p.severity == "error"]
    assert errors == []


def test_what_is_real_estimated_and_drawn_is_said_on_every_feature():
    areas = read_layer("residential_areas", STUDY)
    assert len(areas) == COMPOUNDS and int(areas["population"].sum()) == POPULATION
    assert areas["note"].str.contains("OpenStreetMap").all()
    assert areas["note"].str.contains("ESTIMATES").all() and (areas["tenure"] == "其他").all()
    assert set(areas["subdistrict"]) >= {"五角场街道", "曲阳路街道"}
    assert areas.index.str.fullmatch(r"wjc-ra-\d{3}").all()
    for layer in ("charging_points", "renovation_projects"):
        frame = read_layer(layer, STUDY)
        assert len(frame) and frame["note"].str.contains("DRAWN").all(), layer
    clinics = read_layer("clinics", STUDY)
    assert "杨浦区五角场社区卫生服务中心" in set(clinics["name"])


def test_the_walking_network_is_what_the_readme_reports(study: Study):
    assert study.network is not None
    report = components_report(study.network)
    assert (report["nodes"], report["edges"], report["n_components"]) == (NODES, EDGES, PIECES)
    assert report["km"] == pytest.approx(KM, abs=0.05)
    assert report["largest_share"] > 0.99
    readme = (STUDY / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"([\d,]+) nodes, ([\d,]+) edges, ([\d.]+) km, (\d+) pieces", readme)
    assert stated is not None
    assert [float(g.replace(",", "")) for g in stated.groups()] == [NODES, EDGES, KM, PIECES]
    assert "© OpenStreetMap contributors" in readme and "ODbL" in readme
    assert "杨浦区第七次全国人口普查公报" in readme


def test_every_compound_is_reached_from_the_streets(study: Study):
    areas = study.layers["residential_areas"]
    reached = area_origins(study, areas).reached(len(areas))
    assert int((~reached).sum()) == 0


@pytest.mark.parametrize("profile", ["standard", "elderly"])
def test_coverage_per_type_is_what_was_measured(study: Study, profile: str):
    result = analyze_areas(study, WalkParams.parse(profile))
    assert (result["clinics_method"] == "network").all()
    for kind, count in COVERED[profile].items():
        covered = int(result[f"{kind}_covered"].sum())
        # a rebuilt network may move a compound or two across a threshold, not more
        assert abs(covered - count) <= 2, (kind, covered)
    # with a single real neighbour-centre cluster and few clinics, hardly any compound
    # has all three types near
    assert int(result["all_covered"].sum()) <= 3


def test_the_dashboard_shows_the_streets_and_credits_openstreetmap(study: Study):
    page = shown(
        dashboard_map(Computed(study), "clinics", WalkParams(), tiles="none").get_root().render()
    )
    assert '"步行路网 Walking network"' in page  # the toggle in the layer switcher
    assert "Data © OpenStreetMap contributors (ODbL)" in page
    assert 'class="lc-credit"' in page
    # the hand-drawn sample has streets too, but nothing from OpenStreetMap to credit
    sample = shown(
        dashboard_map(Computed(Study.load()), "clinics", WalkParams(), tiles="none")
        .get_root()
        .render()
    )
    assert '"步行路网 Walking network"' in sample and 'class="lc-credit"' not in sample
