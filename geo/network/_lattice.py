"""Compiled kernels on a lattice: exact distances from lattice nodes to street spans, the
rings of a level of such a field, and their thinning. Used by :mod:`geo.network.reach`,
which documents what they compute; kept apart from the graph kernels of
:mod:`geo.network._kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["band_trace_kernel", "distance_field_kernel", "keep_vertices_kernel"]


@njit(cache=True, nogil=True)
def distance_field_kernel(
    ptr, px, py, cum, span_edge, span_start, span_end, x0, y0, cell, i0, j0, reach, above,
    field,
):  # fmt: skip
    """Squared metres from each node of a grid to the nearest of some street spans, where
    nearer than the grid holds already (in place).

    Unchecked. Edge ``e`` is the polyline ``px, py[ptr[e]:ptr[e+1]]`` with ``cum`` metres
    from its start at each vertex; a span is ``span_start..span_end`` metres of it. The grid's
    node ``(j, i)`` is at ``(x0 + (i0 + i) * cell, y0 + (j0 + j) * cell)``: tiles of one
    lattice compute their shared nodes exactly alike. Nodes up to one cell beyond ``reach``
    get their exact distance too (every lattice edge that crosses the level ``reach`` then
    has exact values at both ends); farther ones keep what they hold (a new grid: filled
    with ``(reach + 2 * cell) ** 2``, what a node that far reads as).

    Parameters
    ----------
    ptr, px, py, cum : numpy.ndarray
        The edges' polylines (`geo.network.reach.StreetArrays`).
    span_edge, span_start, span_end : numpy.ndarray
        The spans.
    x0, y0, cell : float
        The lattice's origin and step, metres.
    i0, j0 : int
        The grid's first column and row on the lattice.
    reach : float
        Metres.
    above : float
        What a node exactly at the level ``reach * reach`` gets instead: the next float
        above it (a node exactly at the level makes the tracing pass a ring that touches
        itself there, or one of no area).
    field : numpy.ndarray
        float64 (rows, columns) squared metres: lowered where a span is nearer.

    Returns
    -------
    None
    """
    ny, nx = field.shape
    level = reach * reach
    near = reach + cell
    for k in range(span_edge.shape[0]):
        e, a, b = span_edge[k], span_start[k], span_end[k]
        if not b > a:
            continue
        for s in range(ptr[e], ptr[e + 1] - 1):
            c0, c1 = cum[s], cum[s + 1]
            lo, hi = max(a, c0), min(b, c1)
            if hi < lo or c1 <= c0:
                continue
            t0, t1 = (lo - c0) / (c1 - c0), (hi - c0) / (c1 - c0)
            dx, dy = px[s + 1] - px[s], py[s + 1] - py[s]
            ax, ay = px[s] + t0 * dx, py[s] + t0 * dy
            bx, by = px[s] + t1 * dx, py[s] + t1 * dy
            dx, dy = bx - ax, by - ay
            dd = dx * dx + dy * dy
            inverse = 1.0 / dd if dd > 0 else 0.0
            c_lo = max(0, int(np.ceil((min(ax, bx) - near - x0) / cell)) - i0)
            c_hi = min(nx - 1, int(np.floor((max(ax, bx) + near - x0) / cell)) - i0)
            r_lo = max(0, int(np.ceil((min(ay, by) - near - y0) / cell)) - j0)
            r_hi = min(ny - 1, int(np.floor((max(ay, by) + near - y0) / cell)) - j0)
            for j in range(r_lo, r_hi + 1):
                ry = y0 + (j0 + j) * cell - ay
                row = field[j]
                for i in range(c_lo, c_hi + 1):  # no branch in here
                    rx = x0 + (i0 + i) * cell - ax
                    t = min(1.0, max(0.0, (rx * dx + ry * dy) * inverse))
                    qx, qy = rx - t * dx, ry - t * dy
                    d2 = qx * qx + qy * qy
                    row[i] = min(row[i], above if d2 == level else d2)


@njit(cache=True, nogil=True)
def keep_vertices_kernel(x, y, ring_offsets, tolerance, forced):
    """Which vertices of closed rings to keep so that every dropped one lies within
    ``tolerance`` of the segment that replaces it (a greedy one-pass thinning, linear time
    for the straight runs a lattice leaves; each ring keeps at least four points).

    Parameters
    ----------
    x, y : numpy.ndarray
        float64 vertices of every ring, one after the other.
    ring_offsets : numpy.ndarray
        Where each ring starts in ``x, y``, and the end.
    tolerance : float
        Metres.
    forced : numpy.ndarray
        bool, one per vertex: kept whatever the run (a tile's border, which its neighbour's
        polygons must meet vertex for vertex).

    Returns
    -------
    numpy.ndarray
        bool, one per vertex.
    """
    keep = np.zeros(x.shape[0], dtype=np.bool_)
    tol2 = tolerance * tolerance
    for r in range(ring_offsets.shape[0] - 1):
        first, last = ring_offsets[r], ring_offsets[r + 1] - 1
        keep[first] = True
        keep[last] = True
        if last - first < 4:
            for i in range(first, last + 1):
                keep[i] = True
            continue
        anchor = first
        i = first + 1
        kept = 2
        while i < last:
            # can the run anchor .. i+1 be one segment?
            ex, ey = x[i + 1] - x[anchor], y[i + 1] - y[anchor]
            ll = ex * ex + ey * ey
            ok = True
            for k in range(anchor + 1, i + 1):
                cx, cy = x[k] - x[anchor], y[k] - y[anchor]
                cross = cx * ey - cy * ex
                if ll == 0.0 or cross * cross > tol2 * ll:
                    ok = False
                    break
            if not ok or i - anchor > 64 or forced[i]:
                keep[i] = True
                kept += 1
                anchor = i
            i += 1
        if kept < 4:
            for i in range(first, last + 1):
                keep[i] = True
    return keep


@njit(cache=True, nogil=True)
def band_trace_kernel(z, level):
    """The rings of the level ``level`` of a field whose outer rows and columns all lie
    above it: marching squares over the cells the level crosses, each ring with the area
    ``z <= level`` on its left (outer rings anticlockwise, holes clockwise).

    Unchecked. A crossing is interpolated linearly along its lattice edge from the edge's
    lower node, so the two cells that share an edge place it alike. A saddle cell joins its
    two inside corners when the mean of its four corners is inside (contourpy's rule). A
    node exactly at the level counts as inside, and rings through it may touch or have no
    area: the distance fields move such nodes just outside.

    Parameters
    ----------
    z : numpy.ndarray
        float64 (rows, columns).
    level : float

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        Vertices (column, row; float64 (n, 2)), each ring closed; where each ring starts
        (and the end); and each ring's signed area, lattice units (positive: outer).
    """
    ny, nx = z.shape
    # a cell's corners anticlockwise: bottom-left, bottom-right, top-right, top-left (bits
    # 0-3 of its case when inside); its edge k runs from corner k to corner k + 1, and
    # "leaves" the inside when corner k is in and k + 1 out: a ring's segment starts there
    # (bits 0-3 of ``leaving``, cleared once traced; the case is kept in bits 4-7)
    leaving = np.zeros((ny - 1, nx - 1), dtype=np.uint8)
    starts = 0
    for j in range(ny - 1):
        bottom_left = z[j, 0] <= level
        top_left = z[j + 1, 0] <= level
        for i in range(nx - 1):
            bottom_right = z[j, i + 1] <= level
            top_right = z[j + 1, i + 1] <= level
            if bottom_left != bottom_right or top_left != top_right or bottom_left != top_left:
                case = bottom_left | (bottom_right << 1) | (top_right << 2) | (top_left << 3)
                out = case & ~((case >> 1) | ((case & 1) << 3))  # corner k in, k + 1 out
                leaving[j, i] = out | (case << 4)  # and the case itself, above
                starts += 1 + (case == 5 or case == 10)
            bottom_left, top_left = bottom_right, top_right
    rings = starts // 4 + 1
    xy = np.empty((starts + rings, 2))  # every start's vertex, and each ring's closing one
    offsets = np.zeros(rings + 1, dtype=np.int64)
    areas = np.zeros(rings)
    n = 0
    ring = 0
    dj = np.array([-1, 0, 1, 0])  # the neighbour across edge k, entered by its edge k + 2
    di = np.array([0, 1, 0, -1])
    # the edge a segment leaves a cell by, from the cell's case (no saddle): the one edge
    # that enters the inside, corner k out and k + 1 in
    exit_edge = np.zeros(16, dtype=np.int64)
    for case in range(16):
        for k in range(4):
            if not (case >> k) & 1 and (case >> ((k + 1) % 4)) & 1:
                exit_edge[case] = k
    for j0 in range(ny - 1):
        for i0 in range(nx - 1):
            if leaving[j0, i0] & 15 == 0:
                continue
            for k0 in range(4):
                if not (leaving[j0, i0] >> k0) & 1:
                    continue
                j, i, k = j0, i0, k0  # a ring starts here: followed back to this edge
                first = n
                area = 0.0
                px = py = 0.0
                while True:
                    cell = leaving[j, i]
                    leaving[j, i] = cell & ~np.uint8(1 << k)
                    # the vertex on edge k, interpolated from the edge's lower node
                    if k == 0 or k == 2:
                        r = j + (k == 2)
                        z0, z1 = z[r, i], z[r, i + 1]
                        frac = (z1 - level) / (z1 - z0)
                        x, y = i * frac + (i + 1) * (1.0 - frac), float(r)
                    else:
                        c = i + (k == 1)
                        z0, z1 = z[j, c], z[j + 1, c]
                        frac = (z1 - level) / (z1 - z0)
                        x, y = float(c), j * frac + (j + 1) * (1.0 - frac)
                    xy[n, 0] = x
                    xy[n, 1] = y
                    if n > first:
                        area += px * y - x * py
                    px, py = x, y
                    n += 1
                    corners = cell >> 4
                    # it leaves the cell by an edge that enters the inside: at a saddle the
                    # next one anticlockwise when the middle is inside, else the one before
                    if corners == 5 or corners == 10:
                        middle = 0.25 * (z[j, i] + z[j, i + 1] + z[j + 1, i + 1] + z[j + 1, i])
                        out = (k + 1) % 4 if middle <= level else (k + 3) % 4
                    else:
                        out = exit_edge[corners]
                    j, i, k = j + dj[out], i + di[out], (out + 2) % 4
                    if j == j0 and i == i0 and k == k0:
                        break
                xy[n] = xy[first]
                area += xy[n - 1, 0] * xy[n, 1] - xy[n, 0] * xy[n - 1, 1]
                n += 1
                areas[ring] = 0.5 * area
                ring += 1
                offsets[ring] = n
    return xy[:n], offsets[: ring + 1], areas[:ring]
