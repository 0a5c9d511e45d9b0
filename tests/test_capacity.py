"""Capacity (E2SFCA): a case computed by hand, the supply law, and the bundled studies."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.analysis.capacity import (
    SPECS,
    capacity,
    decay_weights,
    e2sfca,
    under_served,
    walk_pairs,
)
from geo.analysis.coverage import analyze_areas, area_origins
from geo.analysis.params import WalkParams
from geo.analysis.study import Study
from geo.network.lines import from_lines
from geo.network.routing import nearest_source, seeds_from_snap
from geo.testing import X0, Y0, facility_frame, lonlat, square

WUJIAOCHANG = Path(__file__).resolve().parents[1] / "data" / "studies" / "wujiaochang"


def gauss(share: float) -> float:
    """The documented Gaussian, written out again: (e^(−½s²) − e^(−½)) / (1 − e^(−½))."""
    return (math.exp(-0.5 * share**2) - math.exp(-0.5)) / (1 - math.exp(-0.5))


W1, W2, W3 = gauss(1 / 6), gauss(1 / 2), gauss(5 / 6)  # the bands' middles


def three_compounds() -> Study:
    """One 2 km street; gates 10 m off it at 300, 700 and 1500 m; clinics 20 m off it at
    100 m (10 beds) and 1100 m (20 beds)."""
    street = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(X0, Y0), (X0 + 2000, Y0)])], crs="EPSG:32651"
    )
    ids = ["a", "b", "c"]
    areas = gpd.GeoDataFrame(
        {
            "id": ids,
            "name": ["甲小区", "乙小区", "丙小区"],
            "subdistrict": ["街道"] * 3,
            "households": [40, 80, 120],
            "population": [250, 500, 750],
            "elderly": [100, 200, 300],
            "entrances": [[lonlat(300, 10)], [lonlat(700, 10)], [lonlat(1500, 10)]],
        },
        geometry=[square(280, 10, 320, 60), square(680, 10, 720, 60), square(1480, 10, 1520, 60)],
        crs="EPSG:4326",
        index=ids,
    )
    clinics = facility_frame([("f0", "一号", 100, 20), ("f1", "二号", 1100, 20)]).assign(
        beds=[10, 20], level="community_health_centre"
    )
    empty = facility_frame([])
    layers = {
        "residential_areas": areas,
        "clinics": clinics,
        "neighbor_centers": empty.assign(floor_area_m2=[]),
        "charging_points": empty.assign(ports=[]),
        "renovation_projects": gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
    }
    return Study(layers, from_lines(street))


def test_walks_are_the_drawn_metres() -> None:
    pairs = walk_pairs(three_compounds(), "clinics", 1000.0)
    # a: 10 + 200 + 20 to f0, 10 + 800 + 20 to f1; b: 630, 430; c: f0 is 1430 m away
    assert pairs.values.tolist() == [
        [0, 0, 230.0],
        [0, 1, 830.0],
        [1, 0, 630.0],
        [1, 1, 430.0],
        [2, 1, 430.0],
    ]


def test_hand_computed_case_standard_walker() -> None:
    # 15 minutes at 4 km/h = 1000 m in bands of 333⅓ m: a–f0 band 1, a–f1 band 3,
    # b–f0 and b–f1 band 2, c–f1 band 2
    d0 = W1 * 100 + W2 * 200
    d1 = W3 * 100 + W2 * 200 + W2 * 300
    r0, r1 = 10 / d0, 20 / d1
    expected = [W1 * r0 + W3 * r1, W2 * r0 + W2 * r1, W2 * r1]
    result = capacity(three_compounds(), WalkParams())
    got = result.areas["clinics_access_standard"].to_numpy()
    assert got == pytest.approx(np.round(np.array(expected) * 1000, 3), abs=1e-3)
    facilities = result.facilities.set_index("id")
    assert facilities.loc["f0", "demand_standard"] == pytest.approx(round(d0, 1))
    assert facilities.loc["f1", "load_standard"] == pytest.approx(round(d1 / 20, 2))
    # every bed is someone's: Σ A_i P_i = 30 beds
    elderly = np.array([100, 200, 300])
    assert float((got / 1000 * elderly).sum()) == pytest.approx(30, abs=1e-3)


def test_hand_computed_case_elderly_walker() -> None:
    # 15 minutes at 3 km/h = 750 m in bands of 250 m: a reaches f0 only (230, band 1);
    # b reaches f0 at 630 (band 3) and f1 at 430 (band 2); c f1 at 430 (band 2)
    d0 = W1 * 100 + W3 * 200
    d1 = W2 * 200 + W2 * 300
    expected = [W1 * 10 / d0, W3 * 10 / d0 + W2 * 20 / d1, W2 * 20 / d1]
    result = capacity(three_compounds(), WalkParams.parse("elderly"))
    got = result.areas["clinics_access_elderly"].to_numpy()
    assert got == pytest.approx(np.round(np.array(expected) * 1000, 3), abs=1e-3)
    # relative flags: the study's ratio is 30 beds / 600 elderly = 50 per 1,000
    summary = result.summary.set_index("type")
    assert summary.at["clinics", "study_ratio"] == pytest.approx(50.0)
    assert result.areas["clinics_under_served"].tolist() == [g < 25 for g in got]


def test_a_given_standard_gives_the_shortfall_in_beds() -> None:
    result = capacity(three_compounds(), WalkParams(), standards={"clinics": 60.0})
    access = result.areas["clinics_access_standard"].to_numpy() / 1000
    expected = np.maximum(0.06 - access, 0) * np.array([100, 200, 300])
    assert result.areas["clinics_shortfall"].to_numpy() == pytest.approx(expected, abs=0.01)
    assert result.summary.set_index("type").at["clinics", "standard_note"].startswith("使用者给定")


def test_no_standard_is_invented() -> None:
    result = capacity(three_compounds(), WalkParams())
    assert result.summary["standard"].isna().all()
    assert "clinics_shortfall" not in result.areas
    assert result.summary["standard_note"].str.contains("no verified").all()


def test_step_weights_are_the_gaussian_at_the_band_middles() -> None:
    metres = np.array([0, 333, 334, 666, 667, 1000, 1000.5])
    assert decay_weights(metres, 1000.0).tolist() == pytest.approx([W1, W1, W2, W2, W3, W3, 0])
    assert decay_weights(np.array([500.0]), 1000.0, "gaussian")[0] == pytest.approx(gauss(0.5))


@settings(max_examples=60, deadline=None)
@given(
    demand=st.lists(st.integers(1, 5000), min_size=1, max_size=6),
    supply=st.lists(st.floats(0.5, 500), min_size=1, max_size=5),
    seed=st.integers(0, 10_000),
)
def test_every_unit_of_supply_is_shared_out(demand: list[int], supply: list[float], seed: int):
    # every compound reaches every facility, at any weight: Σ A_i P_i = Σ S_j
    rng = np.random.default_rng(seed)
    area, facility = np.meshgrid(np.arange(len(demand)), np.arange(len(supply)), indexing="ij")
    weight = rng.uniform(0.05, 1.0, area.size)
    access, _ = e2sfca(area.ravel(), facility.ravel(), weight, np.array(demand, float),
                       np.array(supply))  # fmt: skip
    assert float((access * np.array(demand)).sum()) == pytest.approx(sum(supply), rel=1e-9)


@pytest.fixture(scope="module")
def sample() -> Study:
    return Study.load()


@pytest.fixture(scope="module")
def wujiaochang() -> Study:
    return Study.load(WUJIAOCHANG)


@pytest.mark.parametrize("which", ["sample", "wujiaochang"])
def test_real_studies_share_out_what_is_reached(which: str, request: pytest.FixtureRequest):
    study = request.getfixturevalue(which)
    params = WalkParams()
    result = capacity(study, params)
    areas = study.layers["residential_areas"]
    coverage = analyze_areas(study, params)
    summary = result.summary.set_index("type")
    for kind, spec in SPECS.items():
        demand = areas[spec.demand].fillna(0).to_numpy(float)
        per_person = result.areas[f"{kind}_access_standard"].to_numpy() / spec.per
        assert float((per_person * demand).sum()) == pytest.approx(
            summary.at[kind, "supply_reached"], rel=1e-3, abs=0.05
        )
        # the nearest of the pairs is coverage's nearest walk, where it is within reach
        pairs = walk_pairs(study, kind, params.limit_m(kind))
        nearest = pairs.groupby("area")["walk_m"].min()
        walk = coverage[f"{kind}_walk_m"].to_numpy()[nearest.index]
        assert nearest.to_numpy() == pytest.approx(walk, abs=0.11)
        within = coverage[f"{kind}_walk_m"] <= params.limit_m(kind)
        assert within.sum() == len(nearest)


def test_sample_facilities_without_supply_say_why(sample: Study) -> None:
    facilities = capacity(sample).facilities.set_index("id")
    clinics = sample.layers["clinics"]
    no_beds = clinics.index[clinics["beds"].isna()]
    assert facilities.loc[no_beds, "supply"].isna().all()
    assert facilities.loc[no_beds, "reason"].notna().all()
    car = sample.layers["charging_points"].query("vehicle == 'car'").index
    assert facilities.loc[car, "reason"].str.contains("e-bikes").all()
    loaded = facilities.dropna(subset=["load_standard"])
    ratio = loaded["demand_standard"] / loaded["supply"]
    assert loaded["load_standard"].to_numpy() == pytest.approx(ratio.to_numpy(), abs=0.01)


def test_wujiaochang_centres_without_floor_area_give_no_ratio(wujiaochang: Study) -> None:
    result = capacity(wujiaochang)
    centres = result.facilities.query("type == 'neighbor_centers'")
    assert centres["reason"].str.contains("floor_area_m2").all()
    assert (result.areas["neighbor_centers_access_standard"] == 0).all()
    assert not result.areas["neighbor_centers_under_served"].any()
    # one clinic has beds (五角场社区卫生服务中心, 110): everyone within reach shares them
    assert result.summary.set_index("type").at["clinics", "supply"] == 110


def test_covered_but_under_served_are_covered(wujiaochang: Study) -> None:
    coverage = analyze_areas(wujiaochang)
    result = capacity(wujiaochang)
    table = under_served(wujiaochang.layers["residential_areas"], coverage, result)
    for row in table.itertuples():
        assert bool(coverage.at[row.id, f"{row.type}_covered"])
        assert bool(result.areas.at[row.id, f"{row.type}_under_served"])


def test_analyze_writes_capacity(sample_store: Path, tmp_path: Path, capsys) -> None:
    import json

    import pandas as pd

    from geo.cli import main

    out = tmp_path / "out"
    assert main(["analyze", "--data", str(sample_store), "--out", str(out), "--quiet"]) == 0
    assert "E2SFCA" in capsys.readouterr().out
    loads = pd.read_csv(out / "capacity.csv", encoding="utf-8-sig")
    assert loads.columns[0] == "编号 / ID"
    assert all(" / " in c for c in loads.columns)  # Chinese first, then English
    assert any("负荷" in c and "一般步行 4 km/h" in c for c in loads.columns)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    by_type = {row["type"]: row for row in summary["capacity"]}
    assert by_type["clinics"]["unit_zh"] == "床位 / 千名老人"
    assert by_type["clinics"]["standard"] is None
    coverage = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert {"clinics_access_standard", "clinics_access_elderly"} <= set(coverage.columns)
    short = pd.read_csv(out / "under_served.csv", encoding="utf-8-sig")
    flagged = coverage[coverage["clinics_covered"] & coverage["clinics_under_served"]]
    assert set(short.loc[short["设施类型 / facility type"] == "clinics", "编号 / ID"]) == set(
        flagged["id"]
    )


def test_straight_line_capacity_shares_out_too(sample: Study) -> None:
    plain = sample.with_layers(sample.layers)
    plain.network = None
    result = capacity(plain)
    summary = result.summary.set_index("type")
    demand = plain.layers["residential_areas"]["elderly"].to_numpy(float)
    shared = float((result.areas["clinics_access_standard"].to_numpy() / 1000 * demand).sum())
    assert shared == pytest.approx(summary.at["clinics", "supply_reached"], rel=1e-3)


def test_a_clinic_without_beds_within_reach_makes_the_ratio_a_lower_bound() -> None:
    study = three_compounds()
    clinics = study.layers["clinics"]
    extra = facility_frame([("f2", "三号", 1900, 30), ("h", "医院", 700, 30)]).assign(
        beds=[None, None], level=["community_health_centre", "hospital"]
    )
    import pandas as pd

    layers = {**study.layers, "clinics": pd.concat([clinics, extra])}
    result = capacity(study.with_layers(layers), WalkParams())
    areas = result.areas
    # c walks to f2 (no beds recorded): not judged; b walks to the hospital, whose beds are
    # not the community's by rule: judged as before
    assert areas["clinics_supply_unknown"].tolist() == [False, False, True]
    assert not areas.at["c", "clinics_under_served"]
    assert areas["clinics_access_share"].isna().tolist() == [False, False, True]
    before = capacity(three_compounds(), WalkParams()).areas
    assert areas["clinics_access_standard"].tolist() == before["clinics_access_standard"].tolist()
    reasons = result.facilities.set_index("id")["reason"]
    assert "no beds recorded" in reasons["f2"] and "not the community's" in reasons["h"]


@pytest.mark.parametrize("which", ["sample", "wujiaochang"])
def test_walk_pairs_are_every_facility_s_whole_network_search(
    which: str, request: pytest.FixtureRequest
) -> None:
    """The bounded walks (touching only what they reach) give the pairs that one full
    Dijkstra per facility over the whole network gives, metre for metre."""
    study = request.getfixturevalue(which)
    net = study.network
    areas = study.layers["residential_areas"]
    for kind in SPECS:
        cutoff = 1000.0
        pairs = walk_pairs(study, kind, cutoff)
        origins = area_origins(study, areas, kind)
        o, snap = origins.snap, study.facility_snap(kind)
        seeds = seeds_from_snap(net, snap, np.arange(len(snap)))
        expected = {}
        for j in np.flatnonzero(snap.ok):
            mine = seeds[2] == j
            dist, _ = nearest_source(net.indptr, net.indices, net.weights, seeds[0][mine],
                                     seeds[1][mine], seeds[2][mine], cutoff=cutoff)  # fmt: skip
            for i in np.flatnonzero(o.ok):
                e, off = o.edge[i], o.offset[i]
                walk = min(
                    dist[net.edge_u[e]] + off, dist[net.edge_v[e]] + net.edge_length[e] - off
                )
                if e == snap.edge[j]:
                    walk = min(walk, abs(off - snap.offset[j]) + snap.distance[j])
                walk += o.distance[i]
                key = (int(origins.owner[i]), int(j))
                if walk <= cutoff + 1e-9 and walk < expected.get(key, np.inf):
                    expected[key] = walk
        found = {(a, f): w for a, f, w in pairs.itertuples(index=False)}
        inside = {key for key, w in found.items() if w == 0}  # a facility in its compound
        assert expected, kind
        assert set(found) - inside == set(expected) - inside, kind
        for key in set(expected) - inside:
            assert found[key] == pytest.approx(round(expected[key], 1), abs=1e-9), (kind, key)
