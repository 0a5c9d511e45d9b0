"""Compiled shortest-path kernels: nearest and k-nearest sources over a whole walking network.

How a walk is measured: a point (a gate, a clinic) is attached to the nearest point of the
nearest street (:func:`geo.network.snapping.snap_points`); its walk is the straight connector to the
street (``snap.distance``), then along the street to either end of that edge, then along the
network. Streets are undirected for pedestrians. A facility in the middle of an edge seeds
both ends of that edge with its partial distances, so one multi-source Dijkstra gives every
node its nearest facility; an origin on the *same* edge as a facility may also walk straight
along it, which :func:`nearest_facilities` checks separately.

The kernels (:mod:`geo.network._kernels`) are numba-compiled heap Dijkstras with lazy
deletion, on the CSR arrays of :class:`~geo.network.graph.WalkNetwork`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from geo.network._kernels import (
    bounded_kernel,
    combine_kernel,
    k_nearest_kernel,
    nearest_kernel,
)
from geo.network.graph import WalkNetwork
from geo.network.snapping import Snap

__all__ = [
    "BoundedSearch",
    "FacilityTable",
    "facility_table",
    "k_nearest_sources",
    "nearest_facilities",
    "nearest_source",
    "query_table",
    "seeds_from_snap",
]

_INF = np.inf


def _seed_arrays(
    seed_node: ArrayLike, seed_dist: ArrayLike, seed_label: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.ascontiguousarray(seed_node, dtype=np.int64),
        np.ascontiguousarray(seed_dist, dtype=np.float64),
        np.ascontiguousarray(seed_label, dtype=np.int64),
    )


class BoundedSearch:
    """Many short walks on one network, each costing what it reaches, not the network's size.

    :func:`nearest_source` allocates and fills arrays the size of the network on every
    call: a thousand facilities' catchments on a 1M-node city spent 8 ms each on that alone.
    This keeps the scratch arrays and resets only the nodes a walk touched. Not thread-safe:
    one per thread.

    Parameters
    ----------
    indptr, indices, weights : numpy.ndarray
        The network's CSR arrays (`WalkNetwork.indptr`, ``indices``, ``weights``).

    Examples
    --------
    A path 0 –10– 1 –10– 2, from node 2 with 4 m already walked, no farther than 20 m:

    >>> search = BoundedSearch(np.array([0, 1, 3, 4]), np.array([1, 0, 2, 1]), np.full(4, 10.0))
    >>> nodes, metres = search.walk([2], [4.0], 20.0)
    >>> sorted(zip(nodes.tolist(), metres.tolist()))
    [(1, 14.0), (2, 4.0)]
    """

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray) -> None:
        self._graph = (indptr, indices, weights)
        n = indptr.shape[0] - 1
        self._dist = np.full(n, np.inf)
        self._touched = np.empty(n, dtype=np.int64)
        self._heap_d = np.empty(indices.shape[0] + n + 1)
        self._heap_n = np.empty(indices.shape[0] + n + 1, dtype=np.int64)

    def walk(
        self, seed_node: ArrayLike, seed_dist: ArrayLike, cutoff: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """The nodes within ``cutoff`` metres of the seeds, and their metres.

        Parameters
        ----------
        seed_node, seed_dist : array-like
            Where the walk starts, and the metres already walked there.
        cutoff : float
            Metres.

        Returns
        -------
        nodes : numpy.ndarray
            int64, in the order they were first reached.
        metres : numpy.ndarray
            float64, each node's shortest walk.
        """
        seeds = _seed_arrays(seed_node, seed_dist, np.zeros(len(np.atleast_1d(seed_node))))
        kernel: Any = bounded_kernel
        count = kernel(*self._graph, seeds[0], seeds[1], float(cutoff), self._dist,
                       self._heap_d, self._heap_n, self._touched)  # fmt: skip
        nodes = self._touched[:count].copy()
        metres = self._dist[nodes]
        self._dist[nodes] = np.inf
        return nodes, metres


def nearest_source(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    seed_node: np.ndarray,
    seed_dist: np.ndarray,
    seed_label: np.ndarray,
    cutoff: float = _INF,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance to, and label of, the nearest seed for every node (multi-source Dijkstra).

    Unreached nodes (another component, or beyond ``cutoff``) get ``inf`` and ``-1``.

    Parameters
    ----------
    indptr, indices : numpy.ndarray
        int64 CSR adjacency with both directions of every edge (`WalkNetwork.indptr`,
        `WalkNetwork.indices`).
    weights : numpy.ndarray
        float64 metres of each arc (`WalkNetwork.weights`).
    seed_node : array-like of int
        The node of each seed.
    seed_dist : array-like of float
        Metres already walked when the seed's source reaches that node (a facility in the
        middle of an edge seeds both ends, see `seeds_from_snap`).
    seed_label : array-like of int
        The source of each seed (a facility number); several seeds may share one.
    cutoff : float
        Metres; nodes farther from every seed are left unreached. Default: no limit.

    Returns
    -------
    dist : numpy.ndarray
        float64 (n,) metres to the nearest seed.
    label : numpy.ndarray
        int64 (n,) the label of that seed.

    Examples
    --------
    A path 0 –10– 1 –10– 2 with a source sitting 4 m from node 2:

    >>> indptr = np.array([0, 1, 3, 4]); indices = np.array([1, 0, 2, 1])
    >>> weights = np.array([10.0, 10.0, 10.0, 10.0])
    >>> dist, label = nearest_source(indptr, indices, weights, [2], [4.0], [7])
    >>> dist.tolist(), label.tolist()
    ([24.0, 14.0, 4.0], [7, 7, 7])
    """
    kernel: Any = nearest_kernel  # a numba dispatcher: its signature is the Python function's
    return kernel(
        indptr, indices, weights, *_seed_arrays(seed_node, seed_dist, seed_label), float(cutoff)
    )


def k_nearest_sources(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    seed_node: np.ndarray,
    seed_dist: np.ndarray,
    seed_label: np.ndarray,
    k: int,
    cutoff: float = _INF,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest *distinct* labels for every node, ascending; ``(n, k)`` arrays.

    A label may seed several nodes (a facility on an edge seeds both its ends): it still
    counts once per node. Missing entries are ``inf`` / ``-1``.

    Parameters
    ----------
    indptr, indices : numpy.ndarray
        int64 CSR adjacency with both directions of every edge (`WalkNetwork.indptr`,
        `WalkNetwork.indices`).
    weights : numpy.ndarray
        float64 metres of each arc (`WalkNetwork.weights`).
    seed_node : array-like of int
        The node of each seed.
    seed_dist : array-like of float
        Metres already walked when the seed's source reaches that node (a facility in the
        middle of an edge seeds both ends, see `seeds_from_snap`).
    seed_label : array-like of int
        The source of each seed (a facility number); several seeds may share one.
    k : int
        How many distinct labels to keep per node, at least 1.
    cutoff : float
        Metres; labels farther than this are not kept. Default: no limit.

    Returns
    -------
    dist : numpy.ndarray
        float64 (n, k) metres, ascending along each row.
    label : numpy.ndarray
        int64 (n, k) the labels at those distances.

    Raises
    ------
    ValueError
        ``k`` is less than 1.

    Examples
    --------
    A path 0 –10– 1 –10– 2 with source 1 at node 0 and source 2 sitting 4 m from node 2:

    >>> indptr = np.array([0, 1, 3, 4]); indices = np.array([1, 0, 2, 1])
    >>> weights = np.array([10.0, 10.0, 10.0, 10.0])
    >>> dist, label = k_nearest_sources(
    ...     indptr, indices, weights, [0, 2], [0.0, 4.0], [1, 2], k=2
    ... )
    >>> dist.tolist(), label.tolist()
    ([[0.0, 24.0], [10.0, 14.0], [4.0, 20.0]], [[1, 2], [1, 2], [2, 1]])
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    kernel: Any = k_nearest_kernel  # a numba dispatcher (see nearest_source)
    return kernel(
        indptr,
        indices,
        weights,
        *_seed_arrays(seed_node, seed_dist, seed_label),
        int(k),
        float(cutoff),
    )


def seeds_from_snap(
    net: WalkNetwork, snap: Snap, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeds (node, distance, label) for points attached to edges: both ends of each edge.

    Two seeds per joined point, first every ``edge_u`` seed, then every ``edge_v`` one: the
    walk to ``edge_u`` is ``offset + distance`` metres, to ``edge_v`` ``length - offset +
    distance``.

    Parameters
    ----------
    net : WalkNetwork
        The network the points were snapped to.
    snap : Snap
        Where the points join it; points that did not join give no seeds.
    labels : numpy.ndarray
        One int label per point (all points, joined or not).

    Returns
    -------
    seed_node : numpy.ndarray
        int64 node of each seed.
    seed_dist : numpy.ndarray
        float64 metres walked from the point to that node.
    seed_label : numpy.ndarray
        int64 label of the point.
    """
    ok = np.flatnonzero(snap.ok)
    edge = snap.edge[ok]
    to_u = snap.offset[ok] + snap.distance[ok]
    to_v = net.edge_length[edge] - snap.offset[ok] + snap.distance[ok]
    nodes = np.concatenate([net.edge_u[edge], net.edge_v[edge]])
    dists = np.concatenate([to_u, to_v])
    lab = np.asarray(labels, dtype=np.int64)[ok]
    return nodes, dists, np.concatenate([lab, lab])


@dataclass(frozen=True)
class FacilityTable:
    """The k nearest facilities of every node, computed once and reused for any points.

    Answering a point then costs only its snap and a merge over its edge's two ends,
    which is what lets the API answer single points in well under a millisecond.

    Parameters
    ----------
    k : int
        Facilities kept per node.
    cutoff : float
        Metres; farther facilities are not kept.
    node_dist, node_label : numpy.ndarray
        (n, k) metres to, and labels of, each node's nearest facilities
        (`k_nearest_sources`).
    edge_sorted : numpy.ndarray
        int64, the edge of each snapped facility, ascending.
    offset, distance, label : numpy.ndarray
        Those facilities' metres along their edge, metres to it, and labels, in the
        same order.
    """

    k: int
    cutoff: float
    node_dist: np.ndarray
    node_label: np.ndarray
    edge_sorted: np.ndarray
    offset: np.ndarray
    distance: np.ndarray
    label: np.ndarray


def facility_table(
    net: WalkNetwork,
    facility_snap: Snap,
    facility_labels: np.ndarray,
    k: int = 1,
    cutoff: float = _INF,
) -> FacilityTable:
    """Run the k-best Dijkstra from all facilities once; see :func:`query_table`.

    Parameters
    ----------
    net : WalkNetwork
        The network.
    facility_snap : Snap
        Where the facilities join it; those that do not are left out.
    facility_labels : numpy.ndarray
        One int label per facility (all facilities, joined or not), e.g. its row number.
    k : int
        Facilities to keep per node, at least 1.
    cutoff : float
        Metres; farther facilities are not kept. Default: no limit.

    Returns
    -------
    FacilityTable

    Raises
    ------
    ValueError
        ``k`` is less than 1.
    """
    labels = np.asarray(facility_labels, dtype=np.int64)
    seeds = seeds_from_snap(net, facility_snap, labels)
    node_dist, node_label = k_nearest_sources(
        net.indptr, net.indices, net.weights, *seeds, k=k, cutoff=cutoff
    )
    ok = np.flatnonzero(facility_snap.ok)
    order = ok[np.argsort(facility_snap.edge[ok], kind="stable")]
    return FacilityTable(
        int(k),
        float(cutoff),
        node_dist,
        node_label,
        np.ascontiguousarray(facility_snap.edge[order], dtype=np.int64),
        np.ascontiguousarray(facility_snap.offset[order], dtype=np.float64),
        np.ascontiguousarray(facility_snap.distance[order], dtype=np.float64),
        labels[order],
    )


def query_table(
    net: WalkNetwork, table: FacilityTable, origin_snap: Snap
) -> tuple[np.ndarray, np.ndarray]:
    """Walking metres to, and labels of, the table's ``k`` nearest facilities of every origin.

    Parameters
    ----------
    net : WalkNetwork
        The network the table was built on.
    table : FacilityTable
        From `facility_table`.
    origin_snap : Snap
        Where the origins join the network.

    Returns
    -------
    dist : numpy.ndarray
        float64 ``(p, k)`` metres, ascending along each row.
    label : numpy.ndarray
        int64 ``(p, k)`` facility labels. ``inf`` / ``-1`` where an origin is off the
        network or has fewer than ``k`` facilities within the cutoff.
    """
    o_edge = np.where(origin_snap.ok, origin_snap.edge, -1).astype(np.int64)
    return combine_kernel(
        o_edge,
        np.ascontiguousarray(origin_snap.offset, dtype=np.float64),
        np.ascontiguousarray(origin_snap.distance, dtype=np.float64),
        net.edge_u,
        net.edge_v,
        net.edge_length,
        table.node_dist,
        table.node_label,
        table.edge_sorted,
        table.offset,
        table.distance,
        table.label,
        table.k,
        table.cutoff,
    )


def nearest_facilities(
    net: WalkNetwork,
    facility_snap: Snap,
    facility_labels: np.ndarray,
    origin_snap: Snap,
    k: int = 1,
    cutoff: float = _INF,
) -> tuple[np.ndarray, np.ndarray]:
    """Walking metres to, and labels of, the ``k`` nearest facilities of every origin.

    Returns ``(p, k)`` arrays; an origin that could not be attached to a street, or with
    fewer than ``k`` facilities within ``cutoff``, has ``inf`` / ``-1`` in the missing slots.

    Parameters
    ----------
    net : WalkNetwork
        The network.
    facility_snap : Snap
        Where the facilities join the network.
    facility_labels : numpy.ndarray
        One int label per facility, e.g. its row number.
    origin_snap : Snap
        Where the origins join the network.
    k : int
        Facilities per origin, at least 1.
    cutoff : float
        Metres; farther facilities are not reported. Default: no limit.

    Returns
    -------
    dist : numpy.ndarray
        float64 ``(p, k)`` walking metres, ascending along each row.
    label : numpy.ndarray
        int64 ``(p, k)`` the facilities' labels.

    Raises
    ------
    ValueError
        ``k`` is less than 1.

    Examples
    --------
    One 200 m street (UTM zone 51N), clinics at its 10 m and 190 m marks, a gate 30 m
    north of its 50 m mark:

    >>> import geopandas as gpd, shapely
    >>> from geo.network.lines import from_lines
    >>> from geo.network.snapping import snap_points
    >>> street = shapely.LineString([(355_000, 3_460_000), (355_200, 3_460_000)])
    >>> net = from_lines(gpd.GeoDataFrame(geometry=[street], crs=32651))
    >>> clinics = snap_points(net, [355_010.0, 355_190.0], [3_460_000.0, 3_460_000.0])
    >>> gate = snap_points(net, [355_050.0], [3_460_030.0])
    >>> dist, label = nearest_facilities(net, clinics, np.array([0, 1]), gate, k=2)
    >>> dist.tolist(), label.tolist()
    ([[70.0, 170.0]], [[0, 1]])
    """
    table = facility_table(net, facility_snap, facility_labels, k, cutoff)
    return query_table(net, table, origin_snap)
