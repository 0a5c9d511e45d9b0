"""Compiled shortest-path kernels: nearest and k-nearest sources over a whole walking network.

How a walk is measured: a point (a gate, a clinic) is attached to the nearest point of the
nearest street (:func:`geo.snapping.snap_points`); its walk is the straight connector to the
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

import numpy as np

from geo.network._kernels import combine_kernel, k_nearest_kernel, nearest_kernel
from geo.network.graph import WalkNetwork
from geo.network.snapping import Snap

__all__ = [
    "FacilityTable",
    "facility_table",
    "k_nearest_sources",
    "nearest_facilities",
    "nearest_source",
    "query_table",
    "seeds_from_snap",
]

_INF = np.inf


def _seed_arrays(seed_node, seed_dist, seed_label):
    return (
        np.ascontiguousarray(seed_node, dtype=np.int64),
        np.ascontiguousarray(seed_dist, dtype=np.float64),
        np.ascontiguousarray(seed_label, dtype=np.int64),
    )


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

    Examples
    --------
    A path 0 –10– 1 –10– 2 with a source sitting 4 m from node 2:

    >>> indptr = np.array([0, 1, 3, 4]); indices = np.array([1, 0, 2, 1])
    >>> weights = np.array([10.0, 10.0, 10.0, 10.0])
    >>> dist, label = nearest_source(indptr, indices, weights, [2], [4.0], [7])
    >>> dist.tolist(), label.tolist()
    ([24.0, 14.0, 4.0], [7, 7, 7])
    """
    return nearest_kernel(
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
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    return k_nearest_kernel(
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
    """Seeds (node, distance, label) for points attached to edges: both ends of each edge."""
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
    """Run the k-best Dijkstra from all facilities once; see :func:`query_table`."""
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
    """Walking metres to, and labels of, the table's ``k`` nearest facilities of every
    origin: ``(p, k)`` arrays, ``inf`` / ``-1`` where an origin is off the network or has
    fewer than ``k`` facilities within the cutoff."""
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
    """
    table = facility_table(net, facility_snap, facility_labels, k, cutoff)
    return query_table(net, table, origin_snap)
