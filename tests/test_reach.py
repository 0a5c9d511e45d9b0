"""The traced areas of geo.network.reach against GEOS buffer unions, on hand-drawn graphs,
the bundled sample and the 五角场 study."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.ops import substring
from test_isochrones import same_area

import geo.network.reach as reach
from geo.analysis.isochrones import STREET_REACH_M, isochrones, reachable_segments
from geo.analysis.study import Study
from geo.network._kernels import fresh_spans_kernel
from geo.network.graph import WalkNetwork
from geo.network.reach import Spans, gap_area, reach_area, shared_walker
from geo.network.routing import nearest_source, seeds_from_snap

X0, Y0 = 355_000.0, 3_460_000.0
WUJIAOCHANG = Path(__file__).resolve().parent.parent / "data" / "studies" / "wujiaochang"


def network(lines: list[list[tuple[float, float]]]) -> WalkNetwork:
    """Edges drawn as polylines (metres from X0, Y0); nodes where their ends meet."""
    ends = {}
    u, v = [], []
    for line in lines:
        for end, out in ((line[0], u), (line[-1], v)):
            out.append(ends.setdefault(end, len(ends)))
    xy = np.array(list(ends), dtype=float)
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    return WalkNetwork.from_edges(u, v, shapely.length(geoms), X0 + xy[:, 0], Y0 + xy[:, 1],
                                  "EPSG:32651", edge_geometry=geoms)  # fmt: skip


def buffered(net: WalkNetwork, spans: Spans, quad_segs: int = 32) -> shapely.Geometry:
    pieces = [substring(net.edge_geometry[e], a, b)
              for e, a, b in zip(spans.edge, spans.start, spans.end, strict=True)]  # fmt: skip
    return shapely.union_all(shapely.buffer(pieces, STREET_REACH_M, quad_segs=quad_segs))


CROSS = [[(0, 0), (300, 0)], [(300, 0), (600, 0)], [(300, -300), (300, 0)], [(300, 0), (300, 300)]]
# an acute fork, a bent street and a short dead end: narrow wedges and many-vertex edges
FORK = [[(0, 0), (400, 60)], [(0, 0), (400, -20)], [(400, -20), (420, 80), (500, 200), (700, 210)],
        [(400, 60), (410, 75)]]  # fmt: skip


@pytest.mark.parametrize("lines", [CROSS, FORK], ids=["cross", "fork"])
def test_whole_and_partial_spans_match_the_buffer_union(lines):
    net = network(lines)
    whole = Spans(np.arange(net.n_edges), np.zeros(net.n_edges), net.edge_length)
    assert same_area(reach_area(net, whole, STREET_REACH_M), buffered(net, whole))
    # every edge cut to its middle third, and one edge in two pieces that overlap
    length = net.edge_length
    part = Spans(
        np.r_[np.arange(net.n_edges), 0], np.r_[length / 3, 10.0], np.r_[2 * length / 3, 150.0]
    )
    traced = reach_area(net, part, STREET_REACH_M)
    assert same_area(traced, buffered(net, part))
    assert same_area(
        traced, buffered(net, part, quad_segs=4), quad_segs=4
    )  # today's 16-gon arcs: 1 %
    assert reach_area(net, Spans(np.array([0]), np.array([5.0]), np.array([5.0])), 50).is_empty


def test_a_cross_by_hand():
    """A + of two 600 m streets widened 50 m: 2 × 700 × 100 − 100² (the middle counted once)."""
    net = network(CROSS)
    whole = Spans(np.arange(4), np.zeros(4), net.edge_length)
    area = reach_area(net, whole, STREET_REACH_M)
    exact = 2 * (600 * 100 + np.pi * 50**2) - 100 * 100 - 4 * (50**2 - np.pi * 50**2 / 4) * 0
    assert area.area == pytest.approx(exact, rel=0.005)
    assert area.geom_type == "Polygon" and len(area.interiors) == 0


def test_gap_is_near_the_beyond_and_not_near_the_reached():
    net = network(CROSS)
    reached = Spans(np.array([0]), np.array([0.0]), np.array([300.0]))
    beyond = Spans(np.array([1, 2, 3]), np.zeros(3), net.edge_length[1:])
    gap = gap_area(net, beyond, reached, STREET_REACH_M)
    exact = shapely.difference(buffered(net, beyond), buffered(net, reached))
    assert same_area(gap, exact)
    assert gap.contains(shapely.Point(X0 + 500, Y0)) and not gap.contains(
        shapely.Point(X0 + 200, Y0)
    )


def test_tiles_meet_as_one_polygon(monkeypatch):
    net = network(CROSS)
    whole = Spans(np.arange(4), np.zeros(4), net.edge_length)
    one = reach_area(net, whole, STREET_REACH_M)
    monkeypatch.setattr(reach, "TILE_NODES", 40)  # 160 m tiles: a dozen of them
    tiled = reach_area(net, whole, STREET_REACH_M)
    assert tiled.geom_type == "Polygon"  # merged across the seams, not cut along them
    # the same field; only the thinning of straight runs may start from other vertices
    assert shapely.symmetric_difference(one, tiled).area < 0.005 * one.area
    assert shapely.hausdorff_distance(one, tiled) < 0.1 * reach.CELL_M * 2


def test_tiled_gap_zone_and_shared_field_meet_the_whole_ones(monkeypatch):
    net = network(CROSS)
    # reached: the west arm and 100 m of the east one; beyond: the rest of the east arm and
    # the north and south arms
    reached = Spans(np.array([0, 1]), np.array([0.0, 0.0]), np.array([300.0, 100.0]))
    beyond = Spans(np.array([1, 2, 3]), np.array([100.0, 0.0, 0.0]),
                   np.array([300.0, 300.0, 300.0]))  # fmt: skip
    one = gap_area(net, beyond, reached, STREET_REACH_M)
    near, gap = reach.reach_area_and_gap(net, reached, beyond, STREET_REACH_M)
    assert shapely.equals_exact(gap, one, 0)  # the shared field: the same gap zone
    assert shapely.symmetric_difference(near, reach_area(net, reached, STREET_REACH_M)).area < 1e-6
    monkeypatch.setattr(reach, "TILE_NODES", 40)  # 160 m tiles
    tiled = gap_area(net, beyond, reached, STREET_REACH_M)
    near_tiled, gap_tiled = reach.reach_area_and_gap(net, reached, beyond, STREET_REACH_M)
    for a, b in ((tiled, one), (gap_tiled, one), (near_tiled, near)):
        # merged across the seams: as many parts as the whole one, the same area
        assert shapely.get_num_geometries(a) == shapely.get_num_geometries(b)
        assert shapely.symmetric_difference(a, b).area < 0.005 * b.area
        assert shapely.hausdorff_distance(a, b) < 0.1 * reach.CELL_M * 2


def test_tiles_keep_the_holes_of_blocks_inside_them_and_across_them(monkeypatch):
    # a street with three 120 m blocks on it: the middle of each block (20 m square) is more
    # than 50 m from every street, a hole. With 156 m tiles (borders at x = 96, 252, …, y = 96)
    # the first and last holes lie inside one tile, in parts that go on into the next tile;
    # the middle one lies across a border. On this grid of whole metres a tile's border node
    # lies exactly at the level (x = 360 m, 50 m east of the street at x = 310): contourpy's
    # ring touched itself there and the tiles did not merge until such nodes were moved
    blocks = ((0.0, 120.0), (190.0, 310.0), (600.0, 720.0))
    stops = [0.0, 120.0, 190.0, 310.0, 600.0, 720.0]
    lines = [[(a, 0.0), (b, 0.0)] for a, b in itertools.pairwise(stops)]
    lines += [[(left, 0.0), (left, 120.0), (right, 120.0), (right, 0.0)] for left, right in blocks]
    net = network(lines)
    whole = Spans(np.arange(net.n_edges), np.zeros(net.n_edges), net.edge_length)
    one = reach_area(net, whole, STREET_REACH_M)
    assert shapely.get_num_interior_rings(one) == 3
    monkeypatch.setattr(reach, "TILE_NODES", 40)
    tiled = reach_area(net, whole, STREET_REACH_M)
    assert tiled.geom_type == "Polygon" and shapely.is_valid(tiled)
    assert shapely.get_num_interior_rings(tiled) == 3
    assert shapely.symmetric_difference(one, tiled).area < 0.005 * one.area
    assert shapely.hausdorff_distance(one, tiled) < 0.1 * reach.CELL_M * 2


def test_tiles_are_of_one_size_and_share_their_borders(monkeypatch):
    # 700 m of street: 4 m cells and a 54 m pad make a lattice of 207 columns
    net = network([[(0.0, 0.0), (700.0, 0.0)], [(0.0, 0.0), (0.0, 300.0)]])
    arrays = reach.street_arrays(net)
    monkeypatch.setattr(reach, "TILE_NODES", 40)
    tiles = list(reach._tiles(arrays, np.arange(net.n_edges), STREET_REACH_M, reach.CELL_M))
    *_, nx, ny = reach._lattice(arrays, np.arange(net.n_edges), STREET_REACH_M + 8, 4.0)
    assert {t[4:6] for t in tiles} == {tiles[0][4:6]}  # one size: one grid of coordinates
    tx, ty = tiles[0][4:6]
    assert tx <= 40 and ty <= 40
    columns = sorted({t[2] for t in tiles})
    rows = sorted({t[3] for t in tiles})
    # each tile starts on its neighbour's last column / row; together they cover the lattice
    assert all(b - a == tx - 1 for a, b in itertools.pairwise(columns))
    assert all(b - a == ty - 1 for a, b in itertools.pairwise(rows))
    assert columns[0] == rows[0] == 0
    assert columns[-1] + tx >= nx and rows[-1] + ty >= ny
    assert len(tiles) == len(columns) * len(rows)
    # and within a few nodes of the lattice: no tile of padding only
    assert columns[-1] + tx - nx < len(columns) and rows[-1] + ty - ny < len(rows)


def test_one_walk_per_source_reaches_what_the_multi_source_walk_does():
    study = Study.load()
    net, snap = study.network, study.facility_snap("clinics")
    limits = np.array([200.0, 700.0, 1000.0])
    for i in np.flatnonzero(snap.ok)[:5]:
        one = type(snap)(*(getattr(snap, f)[[i]] for f in ("edge", "offset", "distance", "ok",
                                                            "reason")))  # fmt: skip
        seeds = seeds_from_snap(net, one, np.array([0]))
        dist, _ = nearest_source(net.indptr, net.indices, net.weights, *seeds)
        with shared_walker(net) as walker:
            spans = walker.spans(seeds[0], seeds[1], one.edge, one.offset, one.distance, limits)
        for limit, got in zip(limits, spans, strict=True):
            want = shapely.union_all(reachable_segments(net, dist, one, limit)).length
            pieces = [substring(net.edge_geometry[e], a, b)
                      for e, a, b in zip(got.edge, got.start, got.end, strict=True)]  # fmt: skip
            assert shapely.union_all(pieces).length == pytest.approx(want, rel=1e-9, abs=1e-6)


def test_a_walks_fresh_pieces_are_its_spans_less_the_limit_befores():
    # limit 0: edge 3 from 0 to 10 m and around a source on edge 5; limit 1 adds edge 3's
    # 10-30 m, edge 4 whole, and widens the source's piece on both sides (overlapping)
    edge, start, end, limit = fresh_spans_kernel(
        np.array([3, 5, 4, 3, 5, 5]), np.array([0.0, 40.0, 0.0, 0.0, 20.0, 45.0]),
        np.array([10.0, 60.0, 80.0, 30.0, 50.0, 70.0]), np.array([0, 0, 1, 1, 1, 1]),
    )  # fmt: skip
    got = sorted(zip(limit.tolist(), edge.tolist(), start.tolist(), end.tolist(), strict=True))
    assert got == [(0, 3, 0.0, 10.0), (0, 5, 40.0, 60.0), (1, 3, 10.0, 30.0),
                   (1, 4, 0.0, 80.0), (1, 5, 20.0, 40.0), (1, 5, 60.0, 70.0)]  # fmt: skip


@pytest.mark.parametrize("data", [None, WUJIAOCHANG], ids=["sample", "wujiaochang"])
def test_one_walks_areas_on_one_field_are_the_separate_ones(data):
    study = Study.load(data)
    net, snap = study.network, study.facility_snap("clinics")
    limits = np.array([200.0, 700.0, 1000.0])
    with shared_walker(net) as walker:
        for i in np.flatnonzero(snap.ok)[:6]:
            e = snap.edge[i : i + 1]
            to_u = snap.offset[i] + snap.distance[i]
            to_v = net.edge_length[e[0]] - snap.offset[i] + snap.distance[i]
            nested = walker.spans(np.array([net.edge_u[e[0]], net.edge_v[e[0]]]),
                                  np.array([to_u, to_v]), e, snap.offset[i : i + 1],
                                  snap.distance[i : i + 1], limits)  # fmt: skip
            together = reach.reach_areas(net, nested, STREET_REACH_M)
            for spans, area in zip(nested, together, strict=True):
                alone = reach_area(net, spans, STREET_REACH_M)
                assert area.geom_type == alone.geom_type and area.is_valid
                assert shapely.symmetric_difference(area, alone).area < 1e-6 * alone.area


@pytest.mark.parametrize("data", [None, WUJIAOCHANG], ids=["sample", "wujiaochang"])
def test_isochrones_equal_the_buffer_union(data):
    """Per type and per facility, the traced isochrones against today's definition."""
    study = Study.load(data)
    net = study.network
    kind = "clinics"
    snap = study.facility_snap(kind)
    per = isochrones(study, kind, (5, 15), per_facility=True).to_crs(study.crs)
    whole = isochrones(study, kind, (5, 15)).to_crs(study.crs)
    labels = np.arange(len(snap))
    dist, _ = nearest_source(
        net.indptr, net.indices, net.weights, *seeds_from_snap(net, snap, labels)
    )
    for row in whole.itertuples():
        limit = row.minutes * 4000 / 60
        union = shapely.union_all(shapely.buffer(reachable_segments(net, dist, snap, limit),
                                                 STREET_REACH_M, quad_segs=4))  # fmt: skip
        assert same_area(row.geometry, union, quad_segs=4)
    for i in range(min(4, len(snap))):
        one = type(snap)(*(getattr(snap, f)[[i]] for f in ("edge", "offset", "distance", "ok",
                                                            "reason")))  # fmt: skip
        d, _ = nearest_source(net.indptr, net.indices, net.weights,
                              *seeds_from_snap(net, one, np.array([0])))  # fmt: skip
        for j, minutes in enumerate((5, 15)):
            pieces = reachable_segments(net, d, one, minutes * 4000 / 60)
            union = shapely.union_all(shapely.buffer(pieces, STREET_REACH_M, quad_segs=4))
            assert same_area(per.geometry.iloc[2 * i + j], union, quad_segs=4)
