"""Street spans a walk reaches, and the area within a distance of them, fast.

The area within ``reach`` metres of a set of street spans (an isochrone, a gap zone) is the
union of the spans' buffers. Unioning thousands of buffers with GEOS is what made a city's
isochrones take a minute (16–30 ms a facility on a 120 m grid, 48 s for a 20,000-compound
city), and buffering one MultiLineString instead is slower still (GEOS nodes every offset
curve against every other). So the area is computed on a raster instead, without the
raster's usual loss:

1. every edge's polyline is flattened once per network into coordinate arrays with the
   metres from its start at each vertex (:func:`street_arrays`, kept with the network);
2. a span (edge, start, end in metres from ``edge_u``) is cut from those arrays inside the
   compiled kernel, no ``substring``;
3. the kernel writes the *exact* squared distance from each node of a :data:`CELL_M` lattice
   to the nearest span (only nodes within ``reach`` plus one cell of a segment are visited,
   so every lattice edge the level crosses has exact values at both ends);
4. the level ``reach`` of that field is traced (marching squares, interpolated between
   nodes) into polygons with holes, outer rings anticlockwise as RFC 7946 wants;
5. the vertices the lattice leaves along straight runs are dropped (a greedy one-pass
   thinning in compiled code, 0.1 cell; GEOS's simplify took minutes on a whole city's
   polygon), each tile's before the tiles are merged; a polygon that thinning would make
   invalid is kept as traced. Steps 4 and 5 are :mod:`geo.network.contours`.

The boundary is the true distance level interpolated on a 4 m lattice: where it differs from
GEOS's buffer union (whose arcs are themselves 16-gons, up to 1 m inside the circle) it is by
a band no wider than one cell plus that 1 m, and by well under 1 % in area
(tests/test_reach.py and tests/test_isochrones.py check both on hand-drawn graphs, the
bundled sample and the 五角场 study). A crescent that tapers to nothing (a gap zone beside
the end of a reached span) is traced only where it is about a cell wide. Large extents are
cut into tiles of one size on one lattice that share their border nodes, so the tiles'
polygons meet exactly and are merged as a coverage (``coverage_union_all``).

A facility's spans for every minutes value come from one Dijkstra bounded by the largest
(:class:`SourceWalker`), which touches only the nodes it reaches: no per-facility pass over
the whole network. The walk, the field and the tracing release the GIL (contourpy, for a
tile whose polygons reach its border, does not), so many facilities are shared among
threads (:mod:`geo.analysis.isochrones`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from geo.network._kernels import fresh_spans_kernel, reach_kernel
from geo.network._lattice import distance_field_kernel
from geo.network.contours import (
    Grids,
    Ragged,
    join_tiles,
    lattice_grids,
    thin,
    thin_each,
    trace,
)
from geo.network.graph import WalkNetwork

__all__ = [
    "CELL_M",
    "SourceWalker",
    "Spans",
    "StreetArrays",
    "gap_area",
    "reach_area",
    "reach_area_and_gap",
    "reach_areas",
    "shared_walker",
    "street_arrays",
]

#: Lattice step of the distance field, metres: area within 1 % of the exact buffer union,
#: boundary within one cell (measured on a 120 m grid city: 0.6 % and 2.5 m at 4 m; 1.1 %
#: and 3.5 m at 5 m; 0.3 % and 1.6 m at 2 m but three times slower).
CELL_M = 4.0
#: Lattice nodes per tile side (6144² float64 = 300 MB a field): a 24 km square in one
#: piece; larger extents are tiled, which costs a coverage union of the tiles' polygons.
TILE_NODES = 6144
#: A tile: lattice origin, first column and row, size, and the box whose spans matter to it.
_Tile = tuple[float, float, int, int, int, int, float, float, float, float]


@dataclass(frozen=True)
class Spans:
    """Pieces of street: ``start``..``end`` metres from ``edge_u`` along ``edge``."""

    edge: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)


@dataclass(frozen=True)
class StreetArrays:
    """Every edge's polyline as flat arrays: vertices ``ptr[e]:ptr[e+1]`` at ``x, y`` with
    ``cum`` metres from the edge's start; and each edge's bounding box."""

    ptr: np.ndarray
    x: np.ndarray
    y: np.ndarray
    cum: np.ndarray
    box: np.ndarray  # (m, 4) xmin, ymin, xmax, ymax


_ARRAYS: weakref.WeakKeyDictionary[WalkNetwork, StreetArrays] = weakref.WeakKeyDictionary()


def street_arrays(net: WalkNetwork) -> StreetArrays:
    """The network's edge polylines as flat arrays, built once per network and kept.

    Parameters
    ----------
    net : WalkNetwork

    Returns
    -------
    StreetArrays
    """
    arrays = _ARRAYS.get(net)
    if arrays is None:
        coords, index = shapely.get_coordinates(net.edge_geometry, return_index=True)
        ptr = np.zeros(net.n_edges + 1, dtype=np.int64)
        np.add.at(ptr, index + 1, 1)
        ptr = np.cumsum(ptr)
        step = np.hypot(*np.diff(coords, axis=0).T)
        step[index[1:] != index[:-1]] = 0.0
        cum = np.concatenate([[0.0], np.cumsum(step)])
        cum -= cum[ptr[index]]
        box = shapely.bounds(net.edge_geometry)
        arrays = StreetArrays(ptr, coords[:, 0].copy(), coords[:, 1].copy(), cum, box)
        _ARRAYS[net] = arrays
    return arrays


class SourceWalker:
    """Walks from one source at a time and returns the spans it reaches within each limit.

    Holds the scratch arrays of the bounded Dijkstra, so that a thousand facilities cost a
    thousand small walks, not a thousand passes over the whole network. Not thread-safe:
    one walker per thread.

    Parameters
    ----------
    net : WalkNetwork
    """

    def __init__(self, net: WalkNetwork) -> None:
        self.net = net
        self._dist = np.full(net.n_nodes, np.inf)
        self._stamp = np.full(net.n_edges, -1, dtype=np.int64)
        self._token = 0
        room = len(net.indices) + 2 * net.n_nodes + 16
        self._heap_d = np.empty(room)
        self._heap_n = np.empty(room, dtype=np.int64)

    def spans(
        self,
        seed_node: np.ndarray,
        seed_dist: np.ndarray,
        edge: np.ndarray,
        offset: np.ndarray,
        gap: np.ndarray,
        limits: np.ndarray,
    ) -> list[Spans]:
        """The spans reached within each of ``limits`` metres (ascending).

        Parameters
        ----------
        seed_node, seed_dist : numpy.ndarray
            The source's seeds (`geo.network.routing.seeds_from_snap`).
        edge, offset, gap : numpy.ndarray
            Where the source joins the network: its edge, metres from ``edge_u``, metres
            off the street (empty when it does not join).
        limits : numpy.ndarray
            Ascending metres.

        Returns
        -------
        list of Spans
            One per limit.
        """
        net = self.net
        self._token += 1
        span_edge, start, end, which = reach_kernel(
            net.indptr, net.indices, net.weights, net.arc_edge, net.edge_u, net.edge_v,
            net.edge_length, np.asarray(seed_node, np.int64), np.asarray(seed_dist, float),
            np.asarray(edge, np.int64), np.asarray(offset, float), np.asarray(gap, float),
            np.asarray(limits, float), self._dist, self._stamp, self._token, self._heap_d,
            self._heap_n,
        )  # fmt: skip
        return [
            Spans(span_edge[which == i], start[which == i], end[which == i])
            for i in range(len(limits))
        ]


_WALKERS: weakref.WeakKeyDictionary[WalkNetwork, tuple[threading.Lock, SourceWalker]] = (
    weakref.WeakKeyDictionary()
)
_WALKERS_LOCK = threading.Lock()


@contextmanager
def shared_walker(net: WalkNetwork) -> Iterator[SourceWalker]:
    """The network's own :class:`SourceWalker`, held by one thread at a time: a service
    answering one facility's isochrones does not allocate the scratch arrays each time.

    Parameters
    ----------
    net : WalkNetwork

    Yields
    ------
    SourceWalker
    """
    with _WALKERS_LOCK:
        entry = _WALKERS.get(net)
        if entry is None:
            entry = _WALKERS[net] = (threading.Lock(), SourceWalker(net))
    with entry[0]:
        yield entry[1]


def _lattice(
    arrays: StreetArrays, edges: np.ndarray, pad: float, cell: float
) -> tuple[float, float, int, int]:
    box = arrays.box[edges]
    x0 = np.floor((box[:, 0].min() - pad) / cell) * cell
    y0 = np.floor((box[:, 1].min() - pad) / cell) * cell
    nx = int(np.ceil((box[:, 2].max() + pad - x0) / cell)) + 1
    ny = int(np.ceil((box[:, 3].max() + pad - y0) / cell)) + 1
    return float(x0), float(y0), nx, ny


def _tiles(arrays: StreetArrays, every: np.ndarray, reach: float, cell: float) -> Iterator[_Tile]:
    """The tiles of one lattice over the spans' edges ``every``: origin, first column and
    row, size, and the box (padded by the reach) whose spans matter to the tile.

    The lattice is cut into tiles of one size (it is widened by a few nodes if need be), so
    that one grid of coordinates serves every tile of it (:func:`~geo.network.contours.trace`)."""
    pad = reach + 2 * cell
    x0, y0, nx, ny = _lattice(arrays, every, pad, cell)
    # neighbouring tiles share a row / column of nodes: a side of n tiles has n * step + 1
    across, up = -(-max(nx - 1, 1) // (TILE_NODES - 1)), -(-max(ny - 1, 1) // (TILE_NODES - 1))
    step_x, step_y = -(-max(nx - 1, 1) // across), -(-max(ny - 1, 1) // up)
    tx, ty = step_x + 1, step_y + 1  # one tile: the whole lattice (nx, ny >= 2, padded)
    for j0 in range(0, up * step_y, step_y):
        for i0 in range(0, across * step_x, step_x):
            left, bottom = x0 + i0 * cell - pad, y0 + j0 * cell - pad
            right, top = x0 + (i0 + tx - 1) * cell + pad, y0 + (j0 + ty - 1) * cell + pad
            yield x0, y0, i0, j0, tx, ty, left, bottom, right, top


def _field(
    arrays: StreetArrays,
    spans: Spans,
    tile: _Tile,
    reach: float,
    cell: float,
    field: np.ndarray | None = None,
) -> np.ndarray:
    """The squared distances from the tile's nodes to the ``spans`` near it (a new field, or
    ``field`` lowered where they are nearer)."""
    x0, y0, i0, j0, tx, ty, left, bottom, right, top = tile
    if field is None:
        field = np.full((ty, tx), (reach + 2 * cell) ** 2)  # what a node that far reads as
    box = arrays.box[spans.edge]
    near = (box[:, 0] <= right) & (box[:, 2] >= left)
    near &= (box[:, 1] <= top) & (box[:, 3] >= bottom)
    chosen = (spans.edge[near], spans.start[near], spans.end[near])
    # nodes exactly at the level are moved just outside it, alike in every field and tile
    # (grids of whole metres meet it): the tracing would pass a ring through such a node
    # that touches itself, or has no area, and tiles sharing it would not merge
    above = float(np.nextafter(reach * reach, np.inf))
    lattice = (x0, y0, cell, i0, j0, reach, above, field)
    distance_field_kernel(arrays.ptr, arrays.x, arrays.y, arrays.cum, *chosen, *lattice)
    return field


def _traced(
    field: np.ndarray,
    tile: _Tile,
    cell: float,
    level: float,
    grids: Grids | None = None,
) -> Ragged | None:
    x0, y0, i0, j0 = tile[:4]
    first = np.array([i0, j0], dtype=float)
    return trace(field, np.array([x0, y0]), first, cell, level, grids)


def _merged(pieces: list[tuple[Ragged, _Tile]], cell: float) -> shapely.Geometry:
    """The tiles' polygons as one area, thinned; one part reads as a Polygon.

    Each tile's polygons are thinned first, keeping every vertex on the tile's border; then
    only the parts that reach the border are merged (a coverage union: tiles of one lattice
    share their border vertices exactly), the others are kept as they are. On a 1M-node city
    the union of whole, unthinned tiles took half the time of a gap zone.
    """
    if not pieces:
        return shapely.MultiPolygon()
    if len(pieces) == 1:
        return _one_area(thin(pieces[0][0], cell))
    inner, border = [], []
    for piece, (x0, y0, i0, j0, tx, ty, *_) in pieces:
        left, bottom = x0 + i0 * cell, y0 + j0 * cell
        right, top = x0 + (i0 + tx - 1) * cell, y0 + (j0 + ty - 1) * cell
        # thinned first (far fewer vertices to merge), its border kept vertex for vertex
        parts = thin(piece, cell, (left, bottom, right, top))
        box = shapely.bounds(parts)
        edge = (box[:, 0] <= left + cell / 2) | (box[:, 2] >= right - cell / 2)
        edge |= (box[:, 1] <= bottom + cell / 2) | (box[:, 3] >= top - cell / 2)
        inner.append(parts[~edge])
        border.append(parts[edge])
    # every part is thinned already, but for the vertices kept on the borders; the
    # joined ones keep those too: thinning them again made a city's gap zone one
    # polygon of 3.7M vertices that only GEOS's is_valid could check (a minute), and
    # the union of a valid coverage of valid parts is valid as it is
    joined = join_tiles(np.concatenate(border))
    return _one_area(np.concatenate([*inner, joined]))


def _fields(
    arrays: StreetArrays,
    groups: list[Spans],
    combine: object,
    reach: float,
    cell: float,
    level: float,
) -> shapely.Geometry:
    """Trace ``combine(field of each group) <= level`` over tiles of one lattice, merged."""
    every = np.concatenate([g.edge for g in groups])
    if len(every) == 0:
        return shapely.MultiPolygon()
    pieces: list[tuple[Ragged, _Tile]] = []
    grids = lattice_grids()
    for tile in _tiles(arrays, every, reach, cell):
        field = combine(*[_field(arrays, g, tile, reach, cell) for g in groups])  # type: ignore[operator]
        piece = _traced(field, tile, cell, level, grids)
        if piece is not None:
            pieces.append((piece, tile))
    return _merged(pieces, cell)


def _gap_combine(level: float) -> Any:
    def combine(far: np.ndarray, near: np.ndarray) -> np.ndarray:
        # inside both conditions where <= 0: near "beyond", and not near "reached"
        far -= level  # in place: these are the size of the whole lattice
        np.subtract(level, near, out=near)
        return np.maximum(far, near, out=far)

    return combine


def reach_area_and_gap(
    net: WalkNetwork, reached: Spans, beyond: Spans, reach: float, cell: float = CELL_M
) -> tuple[shapely.Geometry, shapely.Geometry]:
    """:func:`reach_area` of ``reached`` and :func:`gap_area` of ``beyond`` and ``reached``,
    with the distance field of ``reached`` computed once for both (a type's isochrone at its
    threshold and its gap zone share it).

    Both are traced on the gap zone's lattice: the gap zone is the separate call's to the
    last bit; the area, on a lattice that may reach farther, has the same exact node values
    and differs from the separate call's by rounding at most (and by where tiles split it).

    Parameters
    ----------
    net : WalkNetwork
    reached, beyond : Spans
    reach : float
        Metres either side.
    cell : float
        Lattice step, metres.

    Returns
    -------
    (shapely.Geometry, shapely.Geometry)
        The area near ``reached``, and the gap zone (each a (Multi)Polygon, maybe empty).
    """
    if len(beyond) == 0:
        return reach_area(net, reached, reach, cell), shapely.MultiPolygon()
    arrays = street_arrays(net)
    level = reach * reach
    pieces: list[tuple[Ragged, _Tile]] = []
    gap_pieces: list[tuple[Ragged, _Tile]] = []
    grids = lattice_grids()
    every = np.concatenate([beyond.edge, reached.edge])
    for tile in _tiles(arrays, every, reach, cell):
        far = _field(arrays, beyond, tile, reach, cell)
        near = _field(arrays, reached, tile, reach, cell)
        piece = _traced(near, tile, cell, level, grids) if len(reached) else None
        if piece is not None:
            pieces.append((piece, tile))
        gap = _gap_combine(level)(far, near)
        piece = _traced(gap, tile, cell, 0.0, grids)
        if piece is not None:
            gap_pieces.append((piece, tile))
    return _merged(pieces, cell), _merged(gap_pieces, cell)


def reach_area(
    net: WalkNetwork, spans: Spans, reach: float, cell: float = CELL_M
) -> shapely.Geometry:
    """The area within ``reach`` metres of the ``spans`` (in ``net.crs``).

    Parameters
    ----------
    net : WalkNetwork
    spans : Spans
        The street pieces.
    reach : float
        Metres either side.
    cell : float
        Lattice step, metres.

    Returns
    -------
    shapely.Geometry
        A (Multi)Polygon; empty when there are no spans of positive length.
    """
    arrays = street_arrays(net)
    return _fields(arrays, [spans], lambda f: f, reach, cell, reach * reach)


def reach_areas(
    net: WalkNetwork, nested: list[Spans], reach: float, cell: float = CELL_M
) -> list[shapely.Geometry]:
    """:func:`reach_area` of each of ``nested``, where each holds the one before it (one
    walk's spans within ascending limits, as :meth:`SourceWalker.spans` gives them).

    On one lattice and one field: the first spans' distances are computed, the area traced
    from the part of the lattice they need, then the next spans' fresh pieces lower the
    same field, and so on. Every street piece is visited once, where separate calls visited
    the first limit's three times (the grid city's clinics at 5, 10 and 15 minutes: 486,000
    lattice nodes visited a facility instead of 688,000). Each area is the separate call's,
    up to rounding: the same nodes of one lattice, a span's pieces measured from where the
    previous limit ended (5e-10 m apart on 五角场).

    Parameters
    ----------
    net : WalkNetwork
    nested : list of Spans
        Each holding the one before.
    reach : float
        Metres either side.
    cell : float
        Lattice step, metres.

    Returns
    -------
    list of shapely.Geometry
        One (Multi)Polygon per spans, maybe empty.
    """
    arrays = street_arrays(net)
    if not nested or not len(nested[-1]):
        return [reach_area(net, spans, reach, cell) for spans in nested]
    tiles = list(_tiles(arrays, nested[-1].edge, reach, cell))
    if len(tiles) > 1:  # a walk wider than a tile: each area on its own
        return [reach_area(net, spans, reach, cell) for spans in nested]
    (tile,) = tiles
    x0, y0, i0, j0, tx, ty = tile[:6]
    limit = np.repeat(np.arange(len(nested)), [len(spans) for spans in nested])
    edge, start, end, fresh = fresh_spans_kernel(
        np.concatenate([spans.edge for spans in nested]),
        np.concatenate([spans.start for spans in nested]),
        np.concatenate([spans.end for spans in nested]),
        limit,
    )
    field = np.full((ty, tx), (reach + 2 * cell) ** 2)
    level = reach * reach
    traced: list[Ragged | None] = []
    for k, spans in enumerate(nested):
        piece = Spans(edge[fresh == k], start[fresh == k], end[fresh == k])
        _field(arrays, piece, tile, reach, cell, field)
        if not len(spans):
            traced.append(None)
            continue
        # the part of the lattice these spans need: their own lattice's, on this one
        sx0, sy0, sx, sy = _lattice(arrays, spans.edge, reach + 2 * cell, cell)
        col, row = round((sx0 - x0) / cell) - i0, round((sy0 - y0) / cell) - j0
        if row < 0 or col < 0 or row + sy > ty or col + sx > tx:
            raise ValueError(
                "每组路段须包含前一组 / reach_areas: each spans must hold the ones before it"
            )
        part = field[row : row + sy, col : col + sx]
        first = np.array([i0 + col, j0 + row], dtype=float)
        traced.append(trace(part, np.array([x0, y0]), first, cell, level))
    return [_one_area(parts) for parts in thin_each(traced, cell)]


def _one_area(parts: np.ndarray) -> shapely.Geometry:
    """Polygons as one area: one part reads as a Polygon, as a buffer union gives it."""
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(list(parts))


def gap_area(
    net: WalkNetwork, beyond: Spans, reached: Spans, reach: float, cell: float = CELL_M
) -> shapely.Geometry:
    """The area within ``reach`` of the ``beyond`` spans but not within ``reach`` of the
    ``reached`` ones (in ``net.crs``).

    Parameters
    ----------
    net : WalkNetwork
    beyond, reached : Spans
    reach : float
        Metres either side.
    cell : float
        Lattice step, metres.

    Returns
    -------
    shapely.Geometry
        A (Multi)Polygon; empty when nothing is beyond.
    """
    if len(beyond) == 0:
        return shapely.MultiPolygon()
    arrays = street_arrays(net)
    level = reach * reach
    return _fields(arrays, [beyond, reached], _gap_combine(level), reach, cell, 0.0)
