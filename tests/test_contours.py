"""Tracing, thinning and checking polygons on a lattice (geo.network.contours)."""

from __future__ import annotations

import itertools

import contourpy
import numpy as np
import shapely
from test_reach import WUJIAOCHANG, network

import geo.network.contours as contours
import geo.network.reach as reach
from geo.analysis.isochrones import STREET_REACH_M, isochrones
from geo.analysis.study import Study
from geo.network.reach import Spans, gap_area, reach_area


def test_the_quick_validity_check_never_passes_an_invalid_polygon():
    box = shapely.box
    shell = [(0, 0), (10, 0), (10, 10), (0, 10)]
    valid = [
        box(0, 0, 10, 10),
        shapely.Polygon(shell, [[(2, 2), (4, 2), (4, 4), (2, 4)], [(6, 6), (8, 6), (8, 8)]]),
        shapely.Polygon(shell, [[(1, 1), (9, 1), (9, 9), (1, 9)]]),  # a thin frame
    ]
    invalid = [
        shapely.Polygon(shell, [[(12, 2), (14, 2), (14, 4)]]),  # the hole outside the shell
        shapely.Polygon(shell, [[(1, 1), (9, 1), (9, 9), (1, 9)], [(2, 2), (3, 2), (3, 3)]]),
        shapely.Polygon(shell, [[(2, 2), (6, 2), (6, 6), (2, 6)], [(4, 4), (8, 4), (8, 8)]]),
        shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]),  # a bow tie
        shapely.Polygon(shell, [[(5, 0), (7, 3), (3, 3)]]),  # a hole touching the shell
        shapely.Polygon([(0, 0), (10, 0), (5, 0), (5, 5)]),  # a spike back along itself
        shapely.Polygon([(1, 1)] * 4),  # a ring of one point
        shapely.Polygon(shell, [[(5, 5)] * 4]),  # a hole of one point
    ]
    quick = contours.surely_valid(np.array(valid + invalid, dtype=object))
    assert quick.tolist() == [True] * len(valid) + [False] * len(invalid)
    assert not any(shapely.is_valid(invalid[:4] + invalid[5:]))
    # empty polygons among them get their own answer (left to GEOS), not a neighbour's
    mixed = np.array([shapely.Polygon(), valid[0], shapely.Polygon(), invalid[0]], dtype=object)
    assert contours.surely_valid(mixed).tolist() == [False, True, False, False]
    # the one GEOS accepts (rings touching at a point) is left to it: False is not "invalid"
    assert shapely.is_valid(invalid[4])
    # and on real polygons (the 五角场 study's isochrones of clinics, their vertices moved
    # by up to 1-8 m, so that many break): never True where GEOS says invalid
    study = Study.load(WUJIAOCHANG)
    areas = isochrones(study, "clinics", [5.0, 10.0, 15.0]).to_crs(study.network.crs).geometry
    parts = shapely.get_parts(areas.to_numpy())
    rng = np.random.default_rng(15)
    kind, xy, (rings, polygons) = shapely.to_ragged_array(parts)
    moved = []
    for shift in (1.0, 2.0, 4.0, 8.0):
        nudged = xy + rng.uniform(-shift, shift, xy.shape)
        nudged[rings[1:] - 1] = nudged[rings[:-1]]  # rings stay closed
        moved += list(shapely.from_ragged_array(kind, nudged, (rings, polygons)))
    coarse = np.array(moved, dtype=object)
    exact = shapely.is_valid(coarse)
    assert not exact.all() and exact.any()
    assert not (contours.surely_valid(coarse) & ~exact).any()


def test_thinning_keeps_the_same_polygons_whichever_check_decides(monkeypatch):
    # the quick check decides polygons with many holes, GEOS alone those with few: on the
    # 五角场 study's 15-minute isochrones of clinics both must keep the same polygons
    study = Study.load(WUJIAOCHANG)
    by_geos = isochrones(study, "clinics", [15.0]).geometry.iloc[0]
    monkeypatch.setattr(contours, "QUICK_CHECK_HOLES", 0)
    by_quick_check = isochrones(study, "clinics", [15.0]).geometry.iloc[0]
    assert shapely.get_num_interior_rings(shapely.get_parts(by_geos)).sum() > 0
    assert shapely.equals_exact(by_geos, by_quick_check, 0)


def test_nodes_exactly_at_the_level_are_moved_just_outside():
    # a street along y = 2 m: the lattice (4 m, from the padded box) has whole rows of nodes
    # exactly 50 m from it, and a node exactly 50 m beyond its end (30² + 40² = 50²)
    net = network([[(0.0, 2.0), (400.0, 2.0)]])
    spans = Spans(np.arange(1), np.zeros(1), net.edge_length)
    arrays = reach.street_arrays(net)
    tile = next(reach._tiles(arrays, spans.edge, STREET_REACH_M, reach.CELL_M))
    field = reach._field(arrays, spans, tile, STREET_REACH_M, reach.CELL_M)
    level = STREET_REACH_M**2
    assert not (field == level).any()
    assert (field == np.nextafter(level, np.inf)).sum() >= 2 * 100  # two rows of 100 nodes
    assert shapely.is_valid(reach_area(net, spans, STREET_REACH_M))


def test_gap_zones_of_streets_on_a_grid_of_whole_metres_are_valid():
    # streets drawn on a 5 m grid meet the level at lattice nodes and saddles: every gap
    # zone and reached area must still be valid polygons (once, a tenth of them were not)
    rng = np.random.default_rng(7)
    for _ in range(40):
        points = rng.integers(0, 60, size=(9, 2)) * 5.0
        lines = [[tuple(a), tuple(b)] for a, b in itertools.pairwise(points) if (a != b).any()]
        net = network(lines)
        cut = rng.uniform(0.2, 0.8) * net.edge_length
        reached = Spans(np.arange(net.n_edges), np.zeros(net.n_edges), cut)
        beyond = Spans(np.arange(net.n_edges), cut, net.edge_length)
        for area in (gap_area(net, beyond, reached, STREET_REACH_M),
                     reach_area(net, reached, STREET_REACH_M)):  # fmt: skip
            assert shapely.is_valid(area), shapely.is_valid_reason(area)


def test_vertices_on_a_tiles_outer_lines_are_placed_alike_from_either_tile():
    # a 4 x 5 field; the level 3 crossed on the first row between columns 2 and 3, on the
    # last column between rows 1 and 2, and inside; contourpy may place the outer ones from
    # either end (in the last bits), the neighbouring tile from the other: one formula here
    field = np.full((4, 5), 10.0)
    field[0, 2], field[0, 3] = 2.0, 4.0
    field[1, 4], field[2, 4] = 1.0, 5.0
    xy = np.array([[2.4999999999, 0.0], [4.0, 1.5000000001], [1.3, 1.7], [3.0, 3.0]])
    contours._on_the_border_alike(xy, field, 3.0)
    assert xy.tolist() == [[2.5, 0.0], [4.0, 1.5], [1.3, 1.7], [3.0, 3.0]]


def _traced(field: np.ndarray, level: float) -> np.ndarray:
    """The polygons ``trace`` makes of ``field <= level`` (lattice units)."""
    traced = contours.trace(field, np.zeros(2), np.zeros(2), 1.0, level)
    if traced is None:
        return np.array([], dtype=object)
    xy, rings, parts = traced
    return shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, (rings, parts))


def test_a_field_inside_its_border_is_traced_by_hand_computed_rings():
    # one node inside: a diamond through the midpoints of its four lattice edges
    field = np.full((5, 5), 2.0)
    field[2, 2] = 0.0
    (diamond,) = _traced(field, 1.0)
    assert diamond.area == 0.5
    assert shapely.is_ccw(diamond.exterior)  # outer rings anticlockwise (RFC 7946)
    assert sorted(map(tuple, shapely.get_coordinates(diamond)[:-1])) == [
        (1.5, 2.0), (2.0, 1.5), (2.0, 2.5), (2.5, 2.0),
    ]  # fmt: skip
    # a ring of inside nodes around an outside one, and an island inside that hole's hole
    field = np.full((11, 11), 2.0)
    field[2:9, 2:9] = 0.0  # a 7 x 7 square of inside nodes ...
    field[3:8, 3:8] = 2.0  # ... with a 5 x 5 hole ...
    field[5, 5] = 0.0  # ... and one inside node in the hole's middle
    frame, island = sorted(_traced(field, 1.0), key=lambda p: -p.area)
    assert len(frame.interiors) == 1 and not shapely.is_ccw(frame.interiors[0])
    # 1.5 .. 8.5 square less a hole 2.5 .. 7.5; each corner cut by a diagonal of half cells
    assert frame.area == (7**2 - 4 * 0.125) - (5**2 - 4 * 0.125)
    assert island.area == 0.5 and island.within(shapely.Polygon(frame.interiors[0]))
    # the island widened, with a hole of its own: that hole is the island's (the smallest
    # outer ring around it), not the frame's, whose box holds it too
    field = np.full((15, 15), 2.0)
    field[2:13, 2:13] = 0.0
    field[4:11, 4:11] = 2.0
    field[6:9, 6:9] = 0.0
    field[7, 7] = 2.0
    frame, island = sorted(_traced(field, 1.0), key=lambda p: -p.area)
    assert len(frame.interiors) == len(island.interiors) == 1
    assert frame.is_valid and island.is_valid and island.area == (3**2 - 0.5) - 0.5


def test_a_field_inside_its_border_is_traced_as_contourpy_traces_it():
    rng = np.random.default_rng(15)
    for trial in range(200):
        ny, nx = rng.integers(3, 40, 2)
        field = rng.random((ny, nx))
        if trial % 2:  # smooth: long rings, holes and islands; else noise: many saddles
            field = (field + np.roll(field, 1, 0) + np.roll(field, 1, 1)) / 3
        level = float(np.quantile(field, rng.uniform(0.1, 0.9)))
        field[[0, -1], :] = field[:, [0, -1]] = level + 1  # the border outside
        ours = _traced(field, level)
        generator = contourpy.contour_generator(
            z=field, fill_type=contourpy.FillType.OuterOffset, corner_mask=True
        )
        points, offsets = generator.filled(-np.inf, level)
        theirs = np.array([
            shapely.Polygon(p[: o[1]], [p[o[h] : o[h + 1]] for h in range(1, len(o) - 1)])
            for p, o in zip(points, offsets, strict=True)
        ], dtype=object)  # fmt: skip
        assert len(ours) == len(theirs)
        assert (
            shapely.get_num_interior_rings(ours).sum()
            == shapely.get_num_interior_rings(theirs).sum()
        )
        assert shapely.get_num_coordinates(ours).sum() == shapely.get_num_coordinates(theirs).sum()
        assert shapely.is_valid(ours).all()
        apart = shapely.symmetric_difference(shapely.union_all(ours), shapely.union_all(theirs))
        assert apart.area < 1e-9


def _ragged(polygons: list[list[list[tuple[float, float]]]]) -> contours.Ragged:
    """Polygons (rings of points, shell first) as the flat arrays a tracing gives."""
    xy: list[tuple[float, float]] = []
    rings, parts = [0], [0]
    for polygon in polygons:
        for ring in polygon:
            xy += [*ring, ring[0]]
            rings.append(len(xy))
        parts.append(len(rings) - 1)
    return np.array(xy, dtype=float), np.array(rings), np.array(parts)


def test_pieces_thinned_together_keep_their_own_polygons_when_one_is_repaired():
    # a shell with a spike (traced invalid, repaired to one polygon) beside a square, and
    # another piece's square: each piece gets back its own polygons, as thinned alone
    spike = [[(0, 0), (20, 0), (20, 10), (30, 10), (20, 10), (20, 20), (0, 20)]]
    first = _ragged([spike, [[(100, 0), (120, 0), (120, 20), (100, 20)]]])
    second = _ragged([[[(200, 0), (220, 0), (220, 20), (200, 20)]]])
    together = contours.thin_each([first, None, second], 4.0)
    alone = [contours.thin(first, 4.0), np.array([]), contours.thin(second, 4.0)]
    assert [len(parts) for parts in together] == [2, 0, 1]
    for mine, theirs in zip(together, alone, strict=True):
        assert shapely.equals(mine, theirs).all() and shapely.is_valid(mine).all()
    assert shapely.bounds(together[0][0]).tolist() == [0, 0, 20, 20]  # the spike cut off
