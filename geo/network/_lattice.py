"""Compiled kernels on a lattice: exact distances from lattice nodes to street spans, and
the thinning of the rings traced from them. Used by :mod:`geo.network.reach`, which documents
what they compute; kept apart from the graph kernels of :mod:`geo.network._kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["distance_field_kernel", "keep_vertices_kernel"]


@njit(cache=True, nogil=True)
def distance_field_kernel(
    ptr, px, py, cum, span_edge, span_start, span_end, x0, y0, cell, i0, j0, nx, ny, reach,
    above,
):  # fmt: skip
    """Squared metres from each node of a grid to the nearest of some street spans.

    Unchecked. Edge ``e`` is the polyline ``px, py[ptr[e]:ptr[e+1]]`` with ``cum`` metres
    from its start at each vertex; a span is ``span_start..span_end`` metres of it. The grid's
    node ``(j, i)`` is at ``(x0 + (i0 + i) * cell, y0 + (j0 + j) * cell)``: tiles of one
    lattice compute their shared nodes exactly alike. Nodes up to one cell beyond ``reach``
    get their exact distance too (every lattice edge that crosses the level ``reach`` then
    has exact values at both ends); farther ones get ``(reach + 2 * cell) ** 2``.

    Parameters
    ----------
    ptr, px, py, cum : numpy.ndarray
        The edges' polylines (`geo.network.reach.StreetArrays`).
    span_edge, span_start, span_end : numpy.ndarray
        The spans.
    x0, y0, cell : float
        The lattice's origin and step, metres.
    i0, j0, nx, ny : int
        The tile: its first column and row on the lattice, and its size.
    reach : float
        Metres.
    above : float
        What a node exactly at the level ``reach * reach`` gets instead: the next float
        above it (a node exactly at the level makes contourpy trace a ring that touches
        itself there, or one of no area).

    Returns
    -------
    numpy.ndarray
        float64 (ny, nx) squared metres.
    """
    cap = (reach + 2 * cell) ** 2
    level = reach * reach
    field = np.full((ny, nx), cap)
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
            c_lo = max(0, int(np.ceil((min(ax, bx) - near - x0) / cell)) - i0)
            c_hi = min(nx - 1, int(np.floor((max(ax, bx) + near - x0) / cell)) - i0)
            r_lo = max(0, int(np.ceil((min(ay, by) - near - y0) / cell)) - j0)
            r_hi = min(ny - 1, int(np.floor((max(ay, by) + near - y0) / cell)) - j0)
            for j in range(r_lo, r_hi + 1):
                y = y0 + (j0 + j) * cell
                for i in range(c_lo, c_hi + 1):
                    x = x0 + (i0 + i) * cell
                    t = ((x - ax) * dx + (y - ay) * dy) / dd if dd > 0 else 0.0
                    t = min(1.0, max(0.0, t))
                    qx, qy = ax + t * dx - x, ay + t * dy - y
                    d2 = qx * qx + qy * qy
                    if d2 < field[j, i]:
                        field[j, i] = d2 if d2 != level else above
    return field


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
