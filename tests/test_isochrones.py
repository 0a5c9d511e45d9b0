"""Isochrones, gap zones and opportunities: built from reachable street segments."""

from __future__ import annotations

import threading
from functools import partial

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.analysis import isochrones as isochrones_module
from geo.analysis.coverage import analyze_areas
from geo.analysis.isochrones import (
    STREET_REACH_M,
    gap_zones,
    isochrones,
    isochrones_at,
    reachable_segments,
    type_shapes,
    unreachable_segments,
)
from geo.analysis.opportunities import opportunities
from geo.analysis.params import PROFILES, WalkParams
from geo.analysis.run import analyze, encode_outputs
from geo.analysis.study import Study
from geo.errors import QueryError
from geo.network.reach import CELL_M
from geo.network.routing import nearest_source, seeds_from_snap
from geo.schema import FACILITY_LAYERS
from geo.testing import X0, Y0, drawn_study, lonlat, square


def metric(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return frame.geometry.to_crs(32651)


def buffer_union(lines: np.ndarray, quad_segs: int) -> shapely.Geometry:
    return shapely.union_all(shapely.buffer(lines, STREET_REACH_M, quad_segs=quad_segs))


def same_area(traced: shapely.Geometry, union: shapely.Geometry, quad_segs: int = 32) -> bool:
    """Traced on the lattice (geo.network.reach) vs a GEOS buffer union with ``quad_segs``
    segments a quarter circle: the same area within 1 %, and where they differ, by a band no
    wider than one lattice cell plus how far the union's arcs fall inside the circle (a
    Hausdorff distance would be ruled by crescents tapering to nothing, which no lattice
    traces)."""
    difference = shapely.get_parts(shapely.symmetric_difference(traced, union))
    difference = difference[shapely.get_type_id(difference) == 3]  # polygons only
    widest = max(shapely.length(shapely.maximum_inscribed_circle(difference, 0.05)), default=0)
    sagitta = STREET_REACH_M * (1 - np.cos(np.pi / (4 * quad_segs)))
    return bool(
        shapely.symmetric_difference(traced, union).area <= 0.01 * union.area
        and widest <= CELL_M / 2 + sagitta
    )


def test_reachable_segments_by_hand():
    study = drawn_study()
    net = study.network
    snap = study.facility_snap("clinics")  # 400 m along A, 20 m off it
    dist, _ = nearest_source(
        net.indptr, net.indices, net.weights, *seeds_from_snap(net, snap, np.array([0]))
    )
    pieces = reachable_segments(net, dist, snap, 220.0)
    total = sum(p.length for p in pieces)
    # 200 m either side of the clinic's point on A (220 − 20 to the street)
    assert total == pytest.approx(400.0)
    xs = shapely.get_coordinates(shapely.union_all(pieces))[:, 0] - X0
    assert xs.min() == pytest.approx(200.0) and xs.max() == pytest.approx(600.0)
    # 700 m: all of A (680 m either way from the clinic's point) and 80 m up B
    pieces = reachable_segments(net, dist, snap, 700.0)
    assert shapely.union_all(pieces).length == pytest.approx(1000 + 80.0)


def test_unreachable_segments_are_the_rest_of_the_streets():
    study = drawn_study()
    net = study.network
    snap = study.facility_snap("clinics")
    dist, _ = nearest_source(
        net.indptr, net.indices, net.weights, *seeds_from_snap(net, snap, np.array([0]))
    )
    for limit in (220.0, 700.0, 5000.0):
        reached = shapely.union_all(reachable_segments(net, dist, snap, limit))
        rest = shapely.union_all(unreachable_segments(net, dist, snap, limit))
        # together they are every street, and they share no length
        assert reached.length + rest.length == pytest.approx(net.edge_length.sum())
        assert shapely.intersection(reached, rest).length == pytest.approx(0.0, abs=1e-6)
    # 220 m: A but its 400 m around the clinic, all of B and the island street
    rest = unreachable_segments(net, dist, snap, 220.0)
    assert sum(p.length for p in rest) == pytest.approx(net.edge_length.sum() - 400.0)


def test_isochrones_grow_with_minutes_and_follow_streets():
    study = drawn_study()
    iso = isochrones(study, "clinics", minutes=(5, 10, 15))
    assert iso["minutes"].tolist() == [5.0, 10.0, 15.0]
    areas = metric(iso).area.to_numpy()
    assert np.all(np.diff(areas) > 0)
    # 5 min at 4 km/h = 333.3 m: 313.3 m either side of the clinic along A, widened 50 m
    five = metric(iso).iloc[0]
    expected = 2 * 313.33 * 2 * STREET_REACH_M + np.pi * STREET_REACH_M**2
    assert five.area == pytest.approx(expected, rel=0.01)
    # not a circle: the island street 2.6 km away is never inside
    island = shapely.LineString([(X0 + 3000, Y0), (X0 + 3200, Y0)])
    assert not metric(iso).iloc[2].intersects(island)


def test_isochrones_per_facility_and_at_a_point():
    study = drawn_study()
    per = isochrones(study, "clinics", minutes=(10,), per_facility=True)
    assert per["facility_id"].tolist() == ["c1"] and per["name"].tolist() == ["卫生站"]
    at = isochrones_at(study, *lonlat(400, 20), minutes=(5,))
    assert metric(at).iloc[0].area == pytest.approx(metric(per).iloc[0].area / 2, rel=0.6)
    with pytest.raises(QueryError, match="250 m"):
        isochrones_at(study, *lonlat(500, -400))


def test_type_shapes_on_two_processes_are_the_serial_gap_zones_and_isochrones(monkeypatch):
    study = Study.load()  # the bundled sample: three types with facilities
    monkeypatch.setattr(isochrones_module, "FORK_NODES", 0)  # forked, small as it is
    params = WalkParams(profile=PROFILES["elderly"])  # clinics: 15 minutes, chargers: 5
    zones, iso = type_shapes(study, params, (5, 10, 15), workers=2)
    assert zones["type"].tolist() == list(params.minutes)
    assert iso[["type", "minutes"]].values.tolist() == [
        [kind, m] for kind in FACILITY_LAYERS for m in (5.0, 10.0, 15.0)
    ]
    serial_zones = gap_zones(study, params)
    assert zones.drop(columns="geometry").equals(serial_zones.drop(columns="geometry"))
    assert shapely.equals_exact(zones.geometry.values, serial_zones.geometry.values, 0).all()
    for kind in FACILITY_LAYERS:
        mine = iso[iso["type"] == kind].set_index("minutes")
        alone = isochrones(study, kind, (5, 10, 15), params).set_index("minutes")
        assert (mine["profile"] == "elderly").all()
        for m in (5.0, 10.0, 15.0):
            a, b = metric(mine.loc[[m]]).iloc[0], metric(alone.loc[[m]]).iloc[0]
            if m != params.minutes[kind]:  # traced alone: the same to the last bit
                assert shapely.equals_exact(mine.geometry[m], alone.geometry[m], 0)
            # at the threshold, traced with the gap zone: the same polygon up to rounding
            assert shapely.symmetric_difference(a, b).area <= 1e-6 * b.area
            assert shapely.hausdorff_distance(a, b) < 1e-3
    assert type_shapes(study, params, (5, 10, 15), workers=1)[1].geometry.equals(iso.geometry)


def test_per_facility_areas_on_two_threads_are_the_serial_ones(monkeypatch):
    study = Study.load()
    threads = set()
    walk = isochrones_module._walk_areas
    monkeypatch.setattr(isochrones_module, "_walk_areas",
                        lambda *a: threads.add(threading.get_ident()) or walk(*a))  # fmt: skip
    for kind in ("clinics", "neighbor_centers"):
        threaded = isochrones(study, kind, (5, 10, 15), per_facility=True, workers=2)
        serial = isochrones(study, kind, (5, 10, 15), per_facility=True, workers=1)
        assert len(threaded) == 3 * len(study.facilities(kind)) > 3
        assert threaded.drop(columns="geometry").equals(serial.drop(columns="geometry"))
        assert shapely.equals_exact(threaded.geometry.values, serial.geometry.values, 0).all()
    assert len(threads - {threading.get_ident()}) >= 2  # two workers beside this thread


def test_gap_zones_are_streets_beyond_the_threshold():
    study = drawn_study()
    zones = gap_zones(study, minutes={"clinics": 15}, types=("clinics",))
    gap = metric(zones).iloc[0]
    # 15 min = 1000 m: from the clinic (20 m off A at 400 m) 980 m reach: all of A, 380 m of B;
    # the last 420 m of B and the island street are gaps
    assert gap.contains(shapely.Point(X0 + 1000, Y0 + 700))
    assert gap.contains(shapely.Point(X0 + 3100, Y0))
    assert not gap.contains(shapely.Point(X0 + 1000, Y0 + 300))
    assert zones["area_km2"].iloc[0] == pytest.approx(gap.area / 1e6, abs=1e-3)


@pytest.mark.parametrize("minutes", [3, 8, 15])
def test_gap_zones_equal_every_street_widened_minus_the_reached_ones(minutes):
    """The definition, one GEOS buffer per street piece unioned, on the bundled sample."""
    study = Study.load()
    net = study.network
    limit = minutes * 4000 / 60
    zones = metric(gap_zones(study, minutes={k: minutes for k in ("clinics", "charging_points")},
                             types=("clinics", "charging_points")))  # fmt: skip
    for kind, zone in zip(("clinics", "charging_points"), zones, strict=True):
        snap = study.facility_snap(kind)
        labels = np.arange(len(snap))
        dist, _ = nearest_source(net.indptr, net.indices, net.weights,
                                 *seeds_from_snap(net, snap, labels), cutoff=limit)  # fmt: skip
        reached = reachable_segments(net, dist, snap, limit)
        for quad_segs in (4, 32):  # today's 16-gon arcs, and arcs within 2 cm of the circle
            widened = partial(buffer_union, quad_segs=quad_segs)
            slow = shapely.difference(widened(net.edge_geometry), widened(reached))
            slow = gpd.GeoSeries([slow], crs=study.crs).to_crs(32651).iloc[0]
            assert same_area(zone, slow, quad_segs)


def test_opportunities_name_the_missing_types():
    study = drawn_study()
    projects = gpd.GeoDataFrame(
        {
            "id": ["rp1", "rp2"],
            "name": ["加装电梯", "美丽家园"],
            "kind": ["elevator_retrofit", "beautiful_homes"],
            "status": ["signed", "completed"],
            "residential_area_id": ["touching", None],
        },
        geometry=[shapely.Point(lonlat(970, 550)), square(110, 40, 190, 120)],
        crs="EPSG:4326",
        index=["rp1", "rp2"],
    )
    layers = {**study.layers, "renovation_projects": projects}
    study = Study(layers, study.network)
    found = opportunities(study, analyze_areas(study))
    assert found.index.tolist() == ["rp1", "rp2"]
    assert found.loc["rp1", "missing"] == ["neighbor_centers", "clinics", "charging_points"]
    # rp2 has no compound id but lies inside the gated compound, which lacks only a centre
    assert found.loc["rp2", "missing"] == ["neighbor_centers"]
    assert found.loc["rp2", "area_id"] == "gated"
    assert found.loc["rp1", "area_name"] == "临街小区"


def test_opportunities_of_projects_without_a_compound_id_column():
    # a study built in memory whose projects have no residential_area_id column at all: each
    # project belongs to the compound it lies in
    study = drawn_study()
    projects = gpd.GeoDataFrame(
        {"id": ["rp2"], "name": ["美丽家园"], "kind": ["beautiful_homes"], "status": ["completed"]},
        geometry=[square(110, 40, 190, 120)],
        crs="EPSG:4326",
        index=["rp2"],
    )
    study = Study({**study.layers, "renovation_projects": projects}, study.network)
    found = opportunities(study, analyze_areas(study))
    assert found.loc["rp2", "area_id"] == "gated"
    assert found.loc["rp2", "missing"] == ["neighbor_centers"]


def test_tables_encoded_while_the_shapes_are_traced_are_the_files_written_after(monkeypatch):
    study = Study.load()
    monkeypatch.setattr(isochrones_module, "FORK_NODES", 0)  # forked, small as it is
    timings: dict[str, float] = {}
    early = analyze(study, workers=2, encode_tables=True, timings=timings)
    # the tables while the shapes were traced, the shapes' files as they came in
    assert set(early.encoded) == {"coverage.geojson", "coverage.csv", "gap_areas.csv",
                                  "capacity.csv", "under_served.csv", "completeness.csv",
                                  "gaps.geojson", "isochrones.geojson"}  # fmt: skip
    # the shapes traced from the start, coverage and the tables meanwhile: all timed
    assert {"coverage", "completeness", "tables", "gap zones + isochrones"} <= set(timings)
    assert timings["gap zones + isochrones, from the start"] >= timings["gap zones + isochrones"]
    late = analyze(study, workers=1)
    assert late.encoded == {}
    files = encode_outputs(early)
    assert list(files) == list(encode_outputs(late))  # the same files in the same order
    assert files == encode_outputs(late)  # and the same bytes
