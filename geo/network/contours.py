"""Polygons traced from a field on a lattice, thinned, checked and joined across tiles: the
tracing half of :mod:`geo.network.reach`, which documents what the fields hold.

:func:`trace` traces the filled level of a field (marching squares, interpolated between
nodes) into flat arrays: our own compiled tracer where the field's border lies outside the
level, contourpy on a tile whose polygons reach its border. :func:`thin` drops the vertices
the lattice leaves along straight runs and makes them shapely polygons once, keeping a
polygon as traced where thinning would break it (:func:`surely_valid` decides most of them,
GEOS's ``is_valid`` the rest); :func:`join_tiles` merges the parts of neighbouring tiles. A
worker that only traces keeps the memory one field frees for the next
(:func:`tracing_process`).
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
from collections.abc import Callable
from typing import Any

import contourpy
import numpy as np
import shapely
from shapely import GeometryType

from geo.network._lattice import band_trace_kernel, keep_vertices_kernel

__all__ = [
    "QUICK_CHECK_HOLES",
    "REPAIR_VERTICES",
    "Grids",
    "Ragged",
    "forked_map",
    "join_tiles",
    "lattice_grids",
    "surely_valid",
    "thin",
    "thin_each",
    "trace",
    "tracing_process",
]

#: Holes (in all the polygons of one :func:`thin`) from which :func:`surely_valid` checks
#: them before GEOS's ``is_valid``: below, ``is_valid`` alone is quicker (a facility's
#: isochrone, ~50 holes: 0.23 ms against 0.33); above, it is the slower (a city's, 18,000
#: holes: four times).
QUICK_CHECK_HOLES = 500
#: Vertices up to which a traced polygon that is itself invalid is repaired with GEOS's
#: ``make_valid`` (a city's merged gap zone of 4M vertices took 200 s: left as it is).
REPAIR_VERTICES = 100_000
#: Polygons as flat arrays (shapely's ragged layout, as contourpy traces them): vertices,
#: where each ring starts (and the end), where each polygon's rings start (and the end).
Ragged = tuple[np.ndarray, np.ndarray, np.ndarray]

#: A grid's lattice coordinates, by its shape (:func:`trace`).
Grids = dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]
#: The grids kept from one call to the next in a process that only traces
#: (:func:`tracing_process`); elsewhere each call keeps its own, freed when it returns.
_KEPT_GRIDS: Grids | None = None
#: glibc's ``mallopt`` parameters (malloc.h): how many blocks may be mapped on their own, and
#: how much free memory at the top of the heap is kept rather than handed back.
_M_MMAP_MAX, _M_TRIM_THRESHOLD = -4, -1


def lattice_grids() -> Grids:
    """The grids kept between calls in a tracing process, or a new dict (a call's own).

    Returns
    -------
    dict
        Lattice shape to its column and row coordinates.
    """
    return _KEPT_GRIDS if _KEPT_GRIDS is not None else {}


def tracing_process() -> None:
    """Make this process keep, for its next field, the memory a field frees.

    For a worker that only traces and then exits (the forked workers of
    :mod:`geo.analysis.isochrones`). A city's tile is a 300 MB field, a copy for the gap
    zone and contourpy's own 150 MB; glibc maps each such block anew and hands it back when
    freed, and the kernel zeroes every page again on first touch: 0.2–0.4 s a field here,
    a quarter of a 1M-node city's gap zone. With blocks taken from the heap and the heap
    not trimmed, the next field reuses those pages (0.05 s). The lattice coordinates of the
    last grid are kept between calls too. Not for a long-lived process: what it frees stays
    its own until it exits. Where ``mallopt`` is missing (not glibc), only the grids are kept.

    Returns
    -------
    None
    """
    global _KEPT_GRIDS
    _KEPT_GRIDS = {}
    try:
        libc = ctypes.CDLL(None)  # the C library this process already runs on
        libc.mallopt(_M_MMAP_MAX, 0)
        libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    except (OSError, AttributeError, TypeError):  # no C library by that name, or no mallopt
        pass


def trace(
    field: np.ndarray,
    origin: np.ndarray,
    first: np.ndarray,
    cell: float,
    level: float,
    grids: Grids | None = None,
) -> Ragged | None:
    """The area where ``field <= level``, traced (outer rings anticlockwise, holes
    clockwise).

    A field whose outer rows and columns all lie above the level (a lattice padded beyond
    the reach: a single tile's) is traced by our own marching squares
    (:func:`~geo.network._lattice.band_trace_kernel`): one pass over the nodes, then only
    the cells the level crosses. contourpy's generator passes over every node twice and
    needs two coordinate grids as large as the field: 3.1–3.2 ms with the grids for a 1 km
    isochrone's field (308,000 nodes), where ours takes 0.55–0.64 ms. The polygons are the
    same: the same
    crossings, interpolated the same way, and contourpy's rule at a saddle (a test compares
    them on 200 fields). A tile of a larger lattice, whose polygons reach its border, is
    traced by contourpy, which closes them along it.

    Parameters
    ----------
    field : numpy.ndarray
        (rows, columns) values on a lattice.
    origin, first : numpy.ndarray
        The lattice's origin (x, y, metres) and the field's first column and row on it.
    cell : float
        The lattice step, metres.
    level : float
        The level.
    grids : dict, optional
        Lattice coordinates kept between calls (:func:`lattice_grids`), for contourpy.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray) or None
        Flat arrays (:data:`Ragged`), in metres; None when nothing is within the level.
    """
    sides = (field[0], field[-1], field[:, 0], field[:, -1])
    if min(float(side.min()) for side in sides) > level:  # nothing reaches the border
        traced = _polygons(*band_trace_kernel(field, level))
        if traced is None:
            return None
        xy, ring_offsets, outer_offsets = traced
        return origin + (xy + first) * cell, ring_offsets, outer_offsets
    # contoured in lattice units, then placed (contourpy need not copy coordinate arrays);
    # a tile's border nodes land where its neighbour's do, to the last bit
    # the class itself, not contour_generator(): that one first copies the field into a
    # masked array to look for NaN, which a distance field never holds (a tenth of a second
    # for a city's 18M nodes); the lattice coordinates are its column and row numbers, the
    # same for every tile of a lattice (its tiles are of one size): ``grids`` keeps the last
    # ones (two 300 MB arrays per tile of a city, made again for each of its 32 tracings,
    # were 6 of a gap zone's 45 s)
    ny, nx = field.shape
    if grids is not None and (ny, nx) in grids:
        x, y = grids[ny, nx]
    else:
        x, y = np.meshgrid(np.arange(nx, dtype=float), np.arange(ny, dtype=float))
        if grids is not None:
            grids.clear()
            grids[ny, nx] = (x, y)
    generator = contourpy.SerialContourGenerator(
        x, y, field, None,  # type: ignore[arg-type]  # no mask: contour_generator's own call
        corner_mask=True, line_type=contourpy.LineType.Separate,
        fill_type=contourpy.FillType.ChunkCombinedOffsetOffset, quad_as_tri=False,
        z_interp=contourpy.ZInterp.Linear, x_chunk_size=nx - 1, y_chunk_size=ny - 1,
    )  # fmt: skip
    filled: Any = generator.filled(-np.inf, level)  # (points, ring offsets, outer offsets)
    if filled[0][0] is None:
        return None
    xy, ring_offsets, outer_offsets = filled[0][0], filled[1][0], filled[2][0]
    _on_the_border_alike(xy, field, level)
    return origin + (xy + first) * cell, ring_offsets, outer_offsets


def _polygons(xy: np.ndarray, offsets: np.ndarray, areas: np.ndarray) -> Ragged | None:
    """Rings (outer ones of positive area, holes of negative) as polygons: each outer ring
    followed by its holes; None when there are none. A hole belongs to the smallest outer
    ring around it (rings of one level never cross, so its first vertex tells). A ring of no
    area (through nodes exactly at the level, which the distance fields never hold) is
    dropped."""
    if (areas == 0).any():
        sizes = np.diff(offsets)
        kept = areas != 0
        xy = xy[np.repeat(kept, sizes)]
        offsets, areas = np.concatenate([[0], np.cumsum(sizes[kept])]), areas[kept]
    if not (areas > 0).any():
        return None
    outer = areas > 0
    shells = np.flatnonzero(outer)
    if len(shells) == 1 and shells[0] == 0:  # the usual: one part, traced first
        return xy, offsets, np.array([0, len(areas)], dtype=np.int64)
    polygon = np.zeros(len(areas), dtype=np.int64)
    polygon[shells] = np.arange(len(shells))
    holes = np.flatnonzero(~outer)
    if len(holes) and len(shells) > 1:
        vertex_ring = np.repeat(np.arange(len(areas)), np.diff(offsets))
        mine = outer[vertex_ring]
        rings = shapely.linearrings(xy[mine], indices=polygon[vertex_ring[mine]])
        shell_polygons = shapely.polygons(rings)
        x, y = xy[offsets[holes]].T
        # shells whose box holds the hole's vertex; where more than one, those that hold it
        # (prepared: a city's one shell of a million vertices around 18,000 holes)
        hole, shell = shapely.STRtree(shell_polygons).query(shapely.points(x, y))
        several = np.bincount(hole, minlength=len(holes))[hole] > 1
        if several.any():
            shapely.prepare(shell_polygons)
            inside = shapely.contains_xy(shell_polygons[shell[several]], x[hole[several]],
                                         y[hole[several]])  # fmt: skip
            keep = ~several
            keep[np.flatnonzero(several)[inside]] = True
            hole, shell = hole[keep], shell[keep]
        # the smallest shell around each hole: the first of its pairs by area
        by = np.lexsort((areas[shells][shell], hole))
        first = np.unique(hole[by], return_index=True)[1]
        polygon[holes[hole[by][first]]] = shell[by][first]
    order = np.lexsort((~outer, polygon))  # by polygon, its outer ring first
    sizes = np.diff(offsets)[order]
    ring_offsets = np.concatenate([[0], np.cumsum(sizes)])
    take = np.repeat(offsets[order] - ring_offsets[:-1], sizes) + np.arange(ring_offsets[-1])
    counts = np.bincount(polygon, minlength=len(shells))
    return xy[take], ring_offsets, np.concatenate([[0], np.cumsum(counts)])


def _on_the_border_alike(xy: np.ndarray, field: np.ndarray, level: float) -> None:
    """Where a ring crosses the field's outer rows and columns, its vertex placed by one
    formula, from the node before it: contourpy interpolates an edge from either end, as
    its walk meets it, and the two tiles that share the edge then disagreed in the last
    bits (a 1M-node city's gap zone did not merge there). In place, lattice units."""
    ny, nx = field.shape
    for axis, lines in ((1, (0, ny - 1)), (0, (0, nx - 1))):  # rows (y fixed), columns
        along = 1 - axis
        at = np.flatnonzero(np.isin(xy[:, axis], lines) & (xy[:, along] % 1 != 0))
        if not len(at):
            continue
        line = xy[at, axis].astype(np.int64)
        start = np.floor(xy[at, along]).astype(np.int64)
        if axis == 1:
            z0, z1 = field[line, start], field[line, start + 1]
        else:
            z0, z1 = field[start, line], field[start + 1, line]
        crossing = (z0 - level) * (z1 - level) < 0  # the level between its two nodes
        xy[at[crossing], along] = start[crossing] + (level - z0[crossing]) / (
            z1[crossing] - z0[crossing]
        )


def thin(
    polygons: Ragged, cell: float, border: tuple[float, float, float, float] | None = None
) -> np.ndarray:
    """The ``polygons`` (flat arrays, as traced) as Polygons, without the vertices the
    lattice leaves every cell along straight runs (those within 0.1 cell of the line that
    replaces them); a polygon that this would make invalid is kept as traced, and one
    traced invalid (rare: a ring touching itself) is repaired up to :data:`REPAIR_VERTICES`.
    Vertices on the lines of ``border`` (left, bottom, right, top) are all kept.

    Built from the flat arrays once, thinned: the traced polygons are made into shapely
    geometries only where thinning broke one (a city's isochrone made twice was a tenth of
    its tracing).

    Parameters
    ----------
    polygons : (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        :data:`Ragged`, as :func:`trace` gives them.
    cell : float
        The lattice step, metres (the tolerance is a tenth of it).
    border : (float, float, float, float), optional
        A tile's edges.

    Returns
    -------
    numpy.ndarray
        Polygons, in the order of the polygons they were traced from.
    """
    return _thinned(polygons, cell, border)[0]


def _thinned(
    polygons: Ragged, cell: float, border: tuple[float, float, float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`thin`, and for each polygon the traced one it comes from (a repaired polygon
    may come out as several, or none)."""
    xy, ring_offsets, polygon_offsets = polygons
    forced = np.zeros(len(xy), dtype=bool)
    if border is not None:
        left, bottom, right, top = border
        eps = 1e-6 * cell
        forced = (np.abs(xy[:, 0] - left) < eps) | (np.abs(xy[:, 0] - right) < eps)
        forced |= (np.abs(xy[:, 1] - bottom) < eps) | (np.abs(xy[:, 1] - top) < eps)
    keep = keep_vertices_kernel(xy[:, 0], xy[:, 1], ring_offsets, 0.1 * cell, forced)
    kept = np.concatenate([[0], np.cumsum(keep)])
    ring_of = np.repeat(np.arange(len(ring_offsets) - 1), np.diff(kept[ring_offsets]))
    polygon_of = np.repeat(np.arange(len(polygon_offsets) - 1), np.diff(polygon_offsets))
    rings = shapely.linearrings(xy[keep], indices=ring_of)
    parts = shapely.polygons(rings, indices=polygon_of)
    # a polygon that thinning made invalid (rings within 0.4 m of each other) stays as it was
    if len(rings) - len(parts) < QUICK_CHECK_HOLES:  # few holes: GEOS alone is quicker
        valid = shapely.is_valid(parts)
    else:
        valid = surely_valid(parts, rings, polygon_of)
        valid[~valid] = shapely.is_valid(parts[~valid])
    origin = np.arange(len(parts))
    if valid.all():
        return parts, origin
    traced = shapely.from_ragged_array(GeometryType.POLYGON, xy, (ring_offsets, polygon_offsets))
    parts[~valid] = traced[~valid]
    # rarely the tracing itself is invalid (a ring touching itself at a saddle of the
    # field): such a polygon is repaired, unless it is so large that GEOS would take minutes
    broken = np.flatnonzero(~valid)
    broken = broken[~shapely.is_valid(parts[broken])]
    small = broken[shapely.get_num_coordinates(parts[broken]) <= REPAIR_VERTICES]
    if len(small):  # each repaired polygon's parts where it stood
        made, index = shapely.get_parts(shapely.make_valid(parts[small]), return_index=True)
        made, inner = shapely.get_parts(made, return_index=True)  # inside collections
        polygonal = shapely.get_type_id(made) == GeometryType.POLYGON
        polygonal[polygonal] = shapely.area(made[polygonal]) > 0  # not lines, not a point
        rest = np.setdiff1d(origin, small)
        source = np.concatenate([rest, small[index[inner]][polygonal]])
        order = np.argsort(source, kind="stable")
        parts, origin = np.concatenate([parts[rest], made[polygonal]])[order], source[order]
    return parts, origin


def thin_each(pieces: list[Ragged | None], cell: float) -> list[np.ndarray]:
    """:func:`thin` of each of ``pieces`` (None: nothing traced), in one call: one
    facility's three isochrones cost one round of GEOS calls, not three.

    Parameters
    ----------
    pieces : list of Ragged or None
        Polygons as traced.
    cell : float
        The lattice step, metres.

    Returns
    -------
    list of numpy.ndarray
        Polygons, one array per piece.
    """
    traced = [piece for piece in pieces if piece is not None]
    if not traced:
        return [np.array([], dtype=object) for _ in pieces]
    points = np.concatenate([xy for xy, _, _ in traced])
    shift = np.cumsum([0] + [len(xy) for xy, _, _ in traced[:-1]])  # where each one starts
    ring_shift = np.cumsum([0] + [len(rings) - 1 for _, rings, _ in traced[:-1]])
    rings = np.concatenate(
        [[0]] + [r[1:] + at for (_, r, _), at in zip(traced, shift, strict=True)]
    )
    parts = np.concatenate(
        [[0]] + [p[1:] + at for (_, _, p), at in zip(traced, ring_shift, strict=True)]
    )
    counts = [len(p) - 1 for _, _, p in traced]
    polygons, origin = _thinned((points, rings, parts), cell)
    piece = np.repeat(np.arange(len(traced)), counts)[origin]  # in order: by piece
    split = iter(np.split(polygons, np.searchsorted(piece, np.arange(1, len(traced)))))
    return [next(split) if p is not None else np.array([], dtype=object) for p in pieces]


def surely_valid(
    parts: np.ndarray, rings: np.ndarray | None = None, part: np.ndarray | None = None
) -> np.ndarray:
    """True for each polygon whose rings meet nowhere (none crosses or touches another or
    itself: GEOS's ``is_simple`` of them together), each still a ring of four points or
    more, whose holes lie in its shell and not in each other: then it is valid. False may
    still be valid (rings touching at a point), for ``is_valid`` to decide.

    Four times faster than ``is_valid`` on a city's polygons (0.46 s against 1.84 s for the
    isochrones and gap zones of 20,000 compounds): ``is_valid`` spends most of its time
    placing every hole.

    Parameters
    ----------
    parts : numpy.ndarray
        Polygons.
    rings, part : numpy.ndarray, optional
        Their rings, shell first, and the polygon of each, when at hand.

    Returns
    -------
    numpy.ndarray
        bool, one per polygon.
    """
    if rings is None or part is None:  # else: the polygons' rings, and the polygon of each
        rings, part = shapely.get_rings(parts, return_index=True)
    ok = np.ones(len(parts), dtype=bool)
    if not len(rings):
        return ok
    ok[part[shapely.get_num_coordinates(rings) < 4]] = False
    # one MultiLineString per polygon; an empty polygon's is None, never simple
    together = shapely.multilinestrings(
        rings, indices=part, out=np.full(len(parts), None, dtype=object)
    )
    ok &= shapely.is_simple(together)
    ring_polygons = shapely.polygons(rings)
    ok[part[shapely.area(ring_polygons) == 0]] = False  # a ring of no area: one point, a spike
    first = np.r_[True, part[1:] != part[:-1]]  # the shell comes first in each part
    holes, hole_part = rings[~first], part[~first]
    if len(holes):
        shells = np.full(len(parts), None, dtype=object)  # by polygon (some may be empty)
        shells[part[first]] = ring_polygons[first]
        shapely.prepare(shells)
        xy, ring = shapely.get_coordinates(holes, return_index=True)
        x, y = xy[np.r_[True, ring[1:] != ring[:-1]]].T  # each hole's first vertex
        ok[hole_part[~shapely.contains_xy(shells[hole_part], x, y)]] = False
        # a hole inside another hole of its polygon (rings that do not meet are nested or
        # apart): boxes first, then the few holes whose box meets another's
        hole_polygons = ring_polygons[~first]
        hole, other = shapely.STRtree(hole_polygons).query(hole_polygons)
        maybe = (hole != other) & (hole_part[hole] == hole_part[other])
        hole, other = hole[maybe], other[maybe]
        inside = shapely.contains_xy(hole_polygons[other], x[hole], y[hole])
        ok[hole_part[hole[inside]]] = False
    return ok


def join_tiles(parts: np.ndarray) -> np.ndarray:
    """The union of polygons that meet along tile borders, as polygons.

    Their outlines are merged (a coverage union: they share border vertices exactly), then
    each part's holes are put back into the polygon that now holds it: a hole never reaches
    a tile's border, and GEOS placing 100,000 holes of a city's gap zone itself took 17 s
    of the 18.

    Parameters
    ----------
    parts : numpy.ndarray
        Polygons of neighbouring tiles of one lattice.

    Returns
    -------
    numpy.ndarray
        Polygons.
    """
    shells = shapely.polygons(shapely.get_exterior_ring(parts))
    try:
        merged = shapely.get_parts(shapely.coverage_union_all(shells))
    except shapely.errors.GEOSException:  # should they not share their borders: overlay
        merged = shapely.get_parts(shapely.union_all(shells))
    holder = np.zeros(len(parts), dtype=np.int64)
    part, hit = shapely.STRtree(merged).query(shapely.point_on_surface(shells), "intersects")
    holder[part[::-1]] = hit[::-1]  # the first hit of each part
    holes: list[list[shapely.Geometry]] = [[] for _ in merged]
    for i in np.flatnonzero(shapely.get_num_interior_rings(parts)):
        count = shapely.get_num_interior_rings(parts[i])
        holes[holder[i]] += list(shapely.get_interior_ring(parts[i], np.arange(count)))
    out = []
    for polygon, extra in zip(merged, holes, strict=True):
        if extra:
            own = shapely.get_interior_ring(
                polygon, np.arange(shapely.get_num_interior_rings(polygon))
            )
            polygon = shapely.Polygon(shapely.get_exterior_ring(polygon), [*own, *extra])
        out.append(polygon)
    return np.array(out, dtype=object)


#: What forked workers read: the call and its shared arguments (set just before the fork,
#: so nothing is pickled to them).
_FORKED: tuple[Callable[..., Any], tuple[Any, ...]] | None = None


def _run_forked(numbered: tuple[int, Any]) -> tuple[int, Any]:
    assert _FORKED is not None
    call, shared = _FORKED
    return numbered[0], call(*shared, numbered[1])


def forked_map(
    call: Callable[..., Any],
    shared: tuple[Any, ...],
    items: list[Any],
    workers: int,
    meanwhile: Callable[[], object] | None = None,
    each: Callable[[int, Any], object] | None = None,
) -> list[Any]:
    """``[call(*shared, item) for item in items]`` on ``workers`` forked processes (a
    tile's tracing by contourpy, the thinning and the merging hold the GIL; fork shares
    ``shared`` unpickled),
    while this process runs ``meanwhile()``. The workers keep the memory one field frees
    for the next (:func:`tracing_process`).

    Parameters
    ----------
    call : callable
        ``call(*shared, item)``, run in a worker.
    shared : tuple
        Its first arguments, the same for every item (inherited by the fork, not pickled).
    items : list
        One task each (pickled to a worker).
    workers : int
        Processes, at most one per item; below 2 (or for one item), everything runs in
        this process, ``meanwhile`` first.
    meanwhile : callable, optional
        Work for this process while the workers run.
    each : callable, optional
        ``each(i, result)`` in this process as each item's result comes in (after
        ``meanwhile``), while the workers go on with the others.

    Returns
    -------
    list
        The results, in the order of ``items``.
    """
    global _FORKED
    if workers < 2 or len(items) < 2:  # all here, one after the other
        if meanwhile is not None:
            meanwhile()
        results = []
        for i, item in enumerate(items):
            results.append(call(*shared, item))
            if each is not None:
                each(i, results[-1])
        return results
    _FORKED = (call, shared)
    try:
        with mp.get_context("fork").Pool(min(workers, len(items)), tracing_process) as pool:
            coming = pool.imap_unordered(_run_forked, list(enumerate(items)), chunksize=1)
            if meanwhile is not None:
                meanwhile()
            results = [None] * len(items)
            for i, result in coming:
                results[i] = result
                if each is not None:
                    each(i, result)
            return results
    finally:
        _FORKED = None
