"""Snapping: attaching points to the nearest street edge of a `geo.network.graph.WalkNetwork`.

A point joins the nearest point of its nearest street edge (not merely a node), if that is
within `DEFAULT_SNAP_DISTANCE_M` and, when barriers are given, not across a river or a rail
line; a point that cannot join gets a bilingual reason instead. `project_lonlat` turns
WGS-84 longitude/latitude into the network's metres first.

Examples
--------
One 200 m street in UTM zone 51N (Shanghai); a gate 30 m north of its 40 m mark:

>>> import geopandas as gpd
>>> from shapely import LineString
>>> from geo.network.lines import from_lines
>>> street = LineString([(355_000, 3_460_000), (355_200, 3_460_000)])
>>> net = from_lines(gpd.GeoDataFrame({"name": ["长阳路"]}, geometry=[street], crs=32651))
>>> snap = snap_points(net, [355_040.0], [3_460_030.0])
>>> net.name[snap.edge[0]], snap.offset.round(1), snap.distance.round(1)
('长阳路', array([40.]), array([30.]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike

from geo.errors import NetworkError
from geo.network.graph import WalkNetwork

__all__ = [
    "DEFAULT_SNAP_DISTANCE_M",
    "FRAGMENT_M",
    "Snap",
    "pieces_to_prefer",
    "project_lonlat",
    "snap_points",
]

#: How far a point may lie from the nearest walkable way and still be attached to it.
#: 250 m is 3–4 minutes at 4 km/h, the speed behind the ~1 km, 15-minute radius of
#: 上海市15分钟社区生活圈规划导则 (2016): a point farther than that from every street is more
#: likely a data error, or across water, than a real doorstep. The Huangpu is ~400 m wide in
#: the centre, so a point on the Pudong bank is never snapped to a Puxi street.
DEFAULT_SNAP_DISTANCE_M = 250.0

#: A disconnected piece with less street than this is a *fragment*: a compound's inner
#: paths, a service road cut off by a gate, a plaza drawn on its own. A real neighbourhood
#: cut off by a river or a rail line (Dapuqiao in the bundled sample) has kilometres. A walk
#: that starts on a fragment reaches nothing, so `pieces_to_prefer` leaves fragments out
#: unless a facility is on one.
FRAGMENT_M = 500.0

_MISSING_XY = "坐标缺失 / missing coordinates"


@dataclass(frozen=True, eq=False)
class Snap:
    """Where each point joins the network, one row per input point.

    Made by `snap_points`. Every parameter is also an attribute of the same name.

    Parameters
    ----------
    edge : numpy.ndarray
        int64, the edge joined, -1 where the point is unreachable.
    offset : numpy.ndarray
        float64, metres along the edge from ``edge_u`` (NaN when unreachable).
    distance : numpy.ndarray
        float64, metres from the point to the street it joins; for an unreachable point,
        to the nearest street (NaN when the coordinates are missing).
    ok : numpy.ndarray
        bool, the point joined the network.
    reason : numpy.ndarray
        object, None, or a bilingual reason why the point is unreachable.
    """

    edge: np.ndarray
    offset: np.ndarray
    distance: np.ndarray
    ok: np.ndarray
    reason: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)


def snap_points(
    net: WalkNetwork,
    x: ArrayLike,
    y: ArrayLike,
    max_distance: float = DEFAULT_SNAP_DISTANCE_M,
    *,
    barriers: Any = None,
    prefer: ArrayLike | None = None,
) -> Snap:
    """Attach points to the nearest point on the nearest street edge (not merely a node).

    Parameters
    ----------
    net : WalkNetwork
        The network.
    x, y : array-like of float
        Point coordinates in ``net.crs`` metres (see `project_lonlat`); NaN for a point
        without a position.
    max_distance : float
        Metres: a point farther than this from every street is refused, with a reason,
        never silently snapped; default `DEFAULT_SNAP_DISTANCE_M`.
    barriers : geopandas.GeoSeries, geopandas.GeoDataFrame or array-like, optional
        Lines or polygons (a river, a rail line) the straight connector from a point to
        its street may not cross; a GeoSeries in another CRS is projected. When the
        nearest street lies across one, the nearest reachable street within
        ``max_distance`` is taken, else the point is refused.
    prefer : array-like of int, optional
        Connected pieces (``net.component`` labels) that lead somewhere, e.g. from
        `pieces_to_prefer`. A point whose nearest street is on another piece (a fragment)
        joins the nearest street of a preferred piece within ``max_distance`` instead;
        when there is none, it is refused and the reason says so. Default: any piece.

    Returns
    -------
    Snap
        One row per point, in input order.

    Raises
    ------
    NetworkError
        ``x`` and ``y`` differ in length, or the network has no edges.
    """
    px = np.atleast_1d(np.asarray(x, dtype=np.float64)).ravel()
    py = np.atleast_1d(np.asarray(y, dtype=np.float64)).ravel()
    if len(px) != len(py):
        raise NetworkError(f"x 与 y 数量不同 / x has {len(px)} values but y has {len(py)}")
    if net.n_edges == 0:
        raise NetworkError("路网没有路段 / the network has no edges")
    count = len(px)
    edge = np.full(count, -1, dtype=np.int64)
    offset = np.full(count, np.nan)
    distance = np.full(count, np.nan)
    reason = np.full(count, None, dtype=object)
    finite = np.isfinite(px) & np.isfinite(py)
    valid = np.flatnonzero(finite)
    reason[~finite] = _MISSING_XY  # (masks, not setdiff1d: numpy's set functions sort or hash)
    points = shapely.points(px[valid], py[valid])
    geoms = net.edge_geometry

    if barriers is None:
        at, chosen = net.edge_tree.query_nearest(
            points, max_distance=max_distance, all_matches=False
        )
        blocked = np.empty(0, dtype=np.int64)
    else:
        walls = _barrier_array(barriers, net.crs)
        at, chosen, blocked = _nearest_open_edges(net, points, max_distance, walls)

    stuck = np.empty(0, dtype=np.int64)
    if prefer is not None:
        fences = _barrier_array(barriers, net.crs) if barriers is not None else None
        at, chosen, stuck = _onto_preferred(net, points, at, chosen, max_distance, prefer, fences)

    joined = valid[at]
    fraction = shapely.line_locate_point(geoms[chosen], points[at], normalized=True)
    edge[joined] = chosen
    offset[joined] = np.nan_to_num(fraction) * net.edge_length[chosen]
    distance[joined] = shapely.distance(geoms[chosen], points[at])

    left_out = np.ones(len(points), dtype=bool)
    left_out[at] = False
    refused = np.flatnonzero(left_out)
    if len(refused):
        (which, _), gap = net.edge_tree.query_nearest(
            points[refused], return_distance=True, all_matches=False
        )
        refused = refused[which]
        distance[valid[refused]] = gap
        across = np.isin(refused, blocked)
        cut_off = np.isin(refused, stuck)
        limit = f"{max_distance:.0f}"
        reason[valid[refused]] = [
            f"最近道路（{metres:.0f} 米）属于与路网其余部分不相连的小片段，从那里到不了任何设施，"
            f"{limit} 米内也没有其他道路 / the nearest street ({metres:.0f} m) is on a small "
            f"piece cut off from the rest of the network, from which no facility can be "
            f"reached, and no other street is within {limit} m"
            if fragment
            else f"与最近道路之间隔着河流或其他障碍（{limit} 米内无可达道路） / a river or other "
            f"barrier lies between the point and the nearest street (none reachable within {limit} m)"
            if behind
            else f"距最近道路 {metres:.0f} 米，超过 {limit} 米上限 / {metres:.0f} m from the "
            f"nearest street, beyond the {limit} m limit"
            for metres, behind, fragment in zip(gap, across, cut_off, strict=True)
        ]
    return Snap(edge=edge, offset=offset, distance=distance, ok=edge >= 0, reason=reason)


def pieces_to_prefer(net: WalkNetwork, *snaps: Snap, min_length: float = FRAGMENT_M) -> np.ndarray:
    """The connected pieces a walk should start on: every piece but the fragments.

    Parameters
    ----------
    net : WalkNetwork
        The network.
    *snaps : Snap
        Where the facilities join it: a piece holding one is preferred, however small.
    min_length : float
        Metres of street below which a piece is a fragment (default `FRAGMENT_M`).

    Returns
    -------
    numpy.ndarray
        int64 component labels, ascending; always holds the largest piece (0).
    """
    count = int(net.component.max()) + 1 if net.n_nodes else 0
    metres = np.bincount(net.component[net.edge_u], weights=net.edge_length, minlength=count)
    held = [net.component[net.edge_u[snap.edge[snap.ok]]] for snap in snaps]
    return np.unique(np.concatenate([np.flatnonzero(metres >= min_length), [0], *held])).astype(
        np.int64
    )


def _onto_preferred(
    net: WalkNetwork,
    points: np.ndarray,
    at: np.ndarray,
    chosen: np.ndarray,
    max_distance: float,
    prefer: ArrayLike,
    walls: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move points whose chosen edge is on a fragment to the nearest preferred edge:
    (point, edge) of every joined point, and the points left stranded."""
    good = np.isin(net.component[net.edge_u], np.asarray(prefer, dtype=np.int64))
    off = ~good[chosen]
    if not off.any():
        return at, chosen, np.empty(0, dtype=np.int64)
    moved = at[off]
    at, chosen = at[~off], chosen[~off]
    near_point, near_edge = net.edge_tree.query(
        points[moved], predicate="dwithin", distance=max_distance
    )
    near_point = moved[near_point]
    keep = good[near_edge]
    near_point, near_edge = near_point[keep], near_edge[keep]
    gap = shapely.distance(points[near_point], net.edge_geometry[near_edge])
    order = np.lexsort((near_edge, gap, near_point))
    near_point, near_edge = near_point[order], near_edge[order]
    if walls is not None:
        open_ = _unobstructed(points[near_point], net.edge_geometry[near_edge], walls)
        near_point, near_edge = near_point[open_], near_edge[open_]
    found, first = np.unique(near_point, return_index=True)
    at = np.concatenate([at, found])
    chosen = np.concatenate([chosen, near_edge[first]])
    return at, chosen, np.setdiff1d(moved, found)


def _barrier_array(barriers: Any, crs: pyproj.CRS) -> np.ndarray:
    if isinstance(barriers, gpd.GeoDataFrame):
        barriers = barriers.geometry
    if isinstance(barriers, gpd.GeoSeries):
        if barriers.crs is not None and not barriers.crs.equals(crs):
            barriers = barriers.to_crs(crs)
        return barriers.dropna().to_numpy()
    return np.atleast_1d(np.asarray(barriers, dtype=object))


def _nearest_open_edges(
    net: WalkNetwork, points: np.ndarray, max_distance: float, walls: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge of each point whose connector crosses no wall: (point, edge, walled-off).

    Most points see their nearest street with nothing in between, so only the others pay
    for a look at every edge within ``max_distance``, nearest first.
    """
    geoms = net.edge_geometry
    at, chosen = net.edge_tree.query_nearest(points, max_distance=max_distance, all_matches=False)
    open_ = _unobstructed(points[at], geoms[chosen], walls)
    retry = at[~open_]
    at, chosen = at[open_], chosen[open_]
    if len(retry):
        near_point, near_edge = net.edge_tree.query(
            points[retry], predicate="dwithin", distance=max_distance
        )
        near_point = retry[near_point]
        gap = shapely.distance(points[near_point], geoms[near_edge])
        order = np.lexsort((near_edge, gap, near_point))
        near_point, near_edge = near_point[order], near_edge[order]
        open_ = _unobstructed(points[near_point], geoms[near_edge], walls)
        found, first = np.unique(near_point[open_], return_index=True)
        at = np.concatenate([at, found])
        chosen = np.concatenate([chosen, near_edge[open_][first]])
    return at, chosen, np.setdiff1d(retry, at)


def _unobstructed(points: np.ndarray, lines: np.ndarray, walls: np.ndarray) -> np.ndarray:
    """True where the shortest connector from each point to its line passes through no wall.

    Merely touching a wall is fine: a street along a river bank touches the river polygon.
    """
    clear = np.ones(len(points), dtype=bool)
    if not len(walls) or not len(points):
        return clear
    connectors = shapely.shortest_line(points, lines)
    hit, wall = shapely.STRtree(walls).query(connectors, predicate="intersects")
    through = ~shapely.touches(connectors[hit], walls[wall])
    clear[hit[through]] = False
    return clear | (shapely.distance(points, lines) == 0)


@overload
def project_lonlat(net: WalkNetwork, lon: float, lat: float) -> tuple[float, float]:
    """One point; see the implementation below.

    Parameters
    ----------
    net : WalkNetwork
    lon, lat : float

    Returns
    -------
    tuple of float
    """
    ...


@overload
def project_lonlat(
    net: WalkNetwork, lon: ArrayLike, lat: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Many points; see the implementation below.

    Parameters
    ----------
    net : WalkNetwork
    lon, lat : array-like of float

    Returns
    -------
    tuple
        ``x`` and ``y``, of the same kind as ``lon`` and ``lat``.
    """
    ...


def project_lonlat(net: WalkNetwork, lon: Any, lat: Any) -> Any:
    """WGS-84 longitude/latitude to ``net.crs`` metres, for `snap_points`.

    Parameters
    ----------
    net : WalkNetwork
        The network whose CRS to project to.
    lon, lat : float or array-like of float
        WGS-84 degrees.

    Returns
    -------
    x : float, list or numpy.ndarray
        Easting in ``net.crs`` metres, of the same kind as ``lon`` (pyproj keeps it).
    y : float, list or numpy.ndarray
        Northing in ``net.crs`` metres.

    Examples
    --------
    >>> net = WalkNetwork.from_edges([0], [1], [1.0], [0, 1], [0, 0], "EPSG:32651")
    >>> x, y = project_lonlat(net, 123.0, 31.0)
    >>> round(x)
    500000
    """
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    return to_metric.transform(lon, lat)
