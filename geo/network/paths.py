"""Walking paths: the route of a walk as a line, from a point to a facility.

The route is recovered from the distances the kernels already compute: from the origin's
street end, step to the neighbour whose distance plus the street between them equals this
node's distance, until a node where the facility's own street begins. No second graph
library, and the path's length equals the reported walk.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.ops import substring

from geo.network.graph import WalkNetwork
from geo.network.routing import nearest_source, seeds_from_snap
from geo.network.snapping import Snap

__all__ = ["walking_path"]

_EPS = 1e-6


def _piece(net: WalkNetwork, edge: int, start: float, end: float) -> np.ndarray:
    """Coordinates along ``edge`` from offset ``start`` to ``end`` (either direction)."""
    line = net.edge_geometry[edge]
    lo, hi = sorted((start, end))
    part = substring(line, lo, hi)
    coords = np.asarray(part.coords) if not part.is_empty else np.empty((0, 2))
    if part.geom_type == "Point":
        coords = np.asarray([part.coords[0]])
    return coords[::-1] if start > end else coords


def _row(snap: Snap, i: int) -> tuple[int, float, float]:
    return int(snap.edge[i]), float(snap.offset[i]), float(snap.distance[i])


def walking_path(
    net: WalkNetwork,
    origin_xy: tuple[float, float],
    origin: Snap,
    facility_xy: tuple[float, float],
    facility: Snap,
) -> shapely.LineString | None:
    """The walking route (in ``net.crs``) from an origin to one facility, both snapped.

    Parameters
    ----------
    net : WalkNetwork
        The network both were snapped to.
    origin_xy : tuple of float
        The origin's position in ``net.crs`` metres, where the route starts.
    origin : Snap
        The origin's single-row snap (`geo.network.snapping.snap_points`).
    facility_xy : tuple of float
        The facility's position in ``net.crs`` metres, where the route ends.
    facility : Snap
        The facility's single-row snap.

    Returns
    -------
    shapely.LineString or None
        From the origin straight to its street, along the streets, then straight to the
        facility; None when one of them is not on the network or they are apart.

    Examples
    --------
    One 200 m street (UTM zone 51N); a gate 30 m north of its 40 m mark, a clinic 20 m
    south of its 150 m mark:

    >>> import geopandas as gpd
    >>> from geo.network.lines import from_lines
    >>> from geo.network.snapping import snap_points
    >>> street = shapely.LineString([(355_000, 3_460_000), (355_200, 3_460_000)])
    >>> net = from_lines(gpd.GeoDataFrame(geometry=[street], crs=32651))
    >>> gate, clinic = (355_040.0, 3_460_030.0), (355_150.0, 3_459_980.0)
    >>> route = walking_path(net, gate, snap_points(net, *gate), clinic, snap_points(net, *clinic))
    >>> route.length, len(route.coords)
    (160.0, 4)
    """
    if not (origin.ok[0] and facility.ok[0]):
        return None
    eo, oo, _ = _row(origin, 0)
    ef, of, _ = _row(facility, 0)
    length = net.edge_length
    start = [origin_xy]
    end = [facility_xy]
    seeds = seeds_from_snap(net, facility, np.array([0]))
    dist, _ = nearest_source(net.indptr, net.indices, net.weights, *seeds)
    via_u = dist[net.edge_u[eo]] + oo
    via_v = dist[net.edge_v[eo]] + length[eo] - oo
    direct = abs(of - oo) + facility.distance[0] if eo == ef else np.inf
    best = min(via_u, via_v, direct)
    if not np.isfinite(best):
        return None
    if best == direct:
        middle = _piece(net, eo, oo, of)
        return shapely.LineString(np.vstack([start, middle, end]))
    node = int(net.edge_u[eo] if via_u <= via_v else net.edge_v[eo])
    first = _piece(net, eo, oo, 0.0 if node == net.edge_u[eo] else length[eo])
    parts = [np.asarray(start), first]
    seed_dist = {int(n): d for n, d in zip(seeds[0], seeds[1], strict=True)}
    guard = net.n_nodes
    while not (node in seed_dist and abs(dist[node] - seed_dist[node]) < _EPS):
        arcs = np.arange(net.indptr[node], net.indptr[node + 1])
        step = arcs[np.abs(dist[net.indices[arcs]] + net.weights[arcs] - dist[node]) < 1e-6]
        if not len(step) or guard == 0:
            return None
        arc = step[0]
        edge = int(net.arc_edge[arc])
        forward = net.edge_u[edge] == node
        parts.append(
            _piece(net, edge, 0.0 if forward else length[edge], length[edge] if forward else 0.0)
        )
        node = int(net.indices[arc])
        guard -= 1
    # at the facility's street: walk along it to the facility's point
    from_end = 0.0 if node == net.edge_u[ef] else length[ef]
    parts += [_piece(net, ef, from_end, of), np.asarray(end)]
    coords = np.vstack([p for p in parts if len(p)])
    keep = np.r_[True, np.hypot(*np.diff(coords, axis=0).T) > 1e-3]  # drop repeats (< 1 mm)
    return shapely.LineString(coords[keep])
