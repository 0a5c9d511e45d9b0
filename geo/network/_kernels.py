"""The compiled kernels of the walking network: Dijkstra heaps, components, the nearest merge.

A leaf: numba and numpy only, nothing from ``geo``, so that anything may use it without an
import cycle. :mod:`geo.network.routing` wraps these in checked, documented functions;
:mod:`geo.network.graph` labels connected components with :func:`component_labels`.
Where numba caches the compiled code is set by :func:`geo.settings.use_numba_cache`, which
``geo.network`` calls before this module is imported.

scipy's ``dijkstra(min_only=True)`` cannot seed nodes with initial distances nor keep the k
best *distinct* sources, which is why these are ours.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "bounded_kernel",
    "combine_kernel",
    "component_labels",
    "fresh_spans_kernel",
    "k_nearest_kernel",
    "nearest_kernel",
    "reach_kernel",
]


# The heap is 4-ary and moves entries into a hole instead of swapping them: half the levels
# of a binary heap and a third of the writes. The nearest-source heap holds (distance, node)
# only, since a node's label is already in ``label``. (Measured at 1M nodes: 0.64 → 0.43 s.)


@njit(cache=True, inline="always")
def _sift_up(hd, hn, hl, i, d, node, lab):
    while i > 0:
        parent = (i - 1) >> 2
        if hd[parent] <= d:
            break
        hd[i] = hd[parent]
        hn[i] = hn[parent]
        hl[i] = hl[parent]
        i = parent
    hd[i] = d
    hn[i] = node
    hl[i] = lab


@njit(cache=True, inline="always")
def _sift_down_last(hd, hn, hl, size):
    """After taking the root: put the last entry (at ``size``) into the hole at the top."""
    last_d, last_n, last_l = hd[size], hn[size], hl[size]
    i = 0
    while True:
        child = 4 * i + 1
        if child >= size:
            break
        best, best_d = child, hd[child]
        for j in range(child + 1, min(child + 4, size)):
            if hd[j] < best_d:
                best, best_d = j, hd[j]
        if last_d <= best_d:
            break
        hd[i] = best_d
        hn[i] = hn[best]
        hl[i] = hl[best]
        i = best
    hd[i] = last_d
    hn[i] = last_n
    hl[i] = last_l


@njit(cache=True, nogil=True)
def bounded_kernel(indptr, indices, weights, seed_node, seed_dist, cutoff, dist, hd, hn, touched):
    """Dijkstra from some seeds up to ``cutoff``, touching only what it reaches: ``dist``
    (all ``inf``) is left holding the reached nodes' metres, ``touched[:count]`` names them;
    the caller resets them. Unchecked; see :class:`geo.network.routing.BoundedSearch`.

    Parameters
    ----------
    indptr, indices, weights : numpy.ndarray
        int64 CSR adjacency (both directions of every edge) and float64 metres per arc.
    seed_node, seed_dist : numpy.ndarray
        int64 nodes and float64 metres already walked there.
    cutoff : float
        Metres.
    dist, hd, hn, touched : numpy.ndarray
        Scratch: float64 (n,) all ``inf``; the heap's metres and nodes; int64 (n,).

    Returns
    -------
    int
        How many nodes were reached (``count``).
    """
    size = 0
    count = 0
    for s in range(seed_node.shape[0]):
        node, d = seed_node[s], seed_dist[s]
        if d <= cutoff and d < dist[node]:
            if dist[node] == np.inf:
                touched[count] = node
                count += 1
            dist[node] = d
            _sift_up(hd, hn, hn, size, d, node, node)
            size += 1
    while size > 0:
        d, node = hd[0], hn[0]
        size -= 1
        _sift_down_last(hd, hn, hn, size)
        if d > dist[node]:
            continue
        for arc in range(indptr[node], indptr[node + 1]):
            nb, nd = indices[arc], d + weights[arc]
            if nd < dist[nb] and nd <= cutoff:
                if dist[nb] == np.inf:
                    touched[count] = nb
                    count += 1
                dist[nb] = nd
                _sift_up(hd, hn, hn, size, nd, nb, nb)
                size += 1
    return count


@njit(cache=True)
def nearest_kernel(indptr, indices, weights, seed_node, seed_dist, seed_label, cutoff):
    """Multi-source Dijkstra: metres to, and label of, the nearest seed of every node.

    Unchecked: the dtypes must be as below. Call it through
    :func:`geo.network.routing.nearest_source`.

    Parameters
    ----------
    indptr, indices : numpy.ndarray
        int64 CSR adjacency, both directions of every edge.
    weights : numpy.ndarray
        float64 metres of each arc.
    seed_node, seed_dist, seed_label : numpy.ndarray
        int64 node, float64 metres already walked there, int64 label of each seed.
    cutoff : float
        Metres; seeds and nodes beyond it are left out.

    Returns
    -------
    dist : numpy.ndarray
        float64 (n,) metres, ``inf`` where unreached.
    label : numpy.ndarray
        int64 (n,) label of the nearest seed, ``-1`` where unreached.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    label = np.full(n, -1, dtype=np.int64)
    capacity = seed_node.shape[0] + indices.shape[0] + 1
    hd = np.empty(capacity)
    hn = np.empty(capacity, dtype=np.int64)
    size = 0
    for s in range(seed_node.shape[0]):
        node, d = seed_node[s], seed_dist[s]
        if d <= cutoff and d < dist[node]:
            dist[node] = d
            label[node] = seed_label[s]
            # labels live in ``label``: the heap's label slot is the node array itself
            _sift_up(hd, hn, hn, size, d, node, node)
            size += 1
    while size > 0:
        d, node = hd[0], hn[0]
        size -= 1
        _sift_down_last(hd, hn, hn, size)
        if d > dist[node]:
            continue  # a stale entry: the node was reached more cheaply since
        lab = label[node]
        for arc in range(indptr[node], indptr[node + 1]):
            nb = indices[arc]
            nd = d + weights[arc]
            if nd < dist[nb] and nd <= cutoff:
                dist[nb] = nd
                label[nb] = lab
                _sift_up(hd, hn, hn, size, nd, nb, nb)
                size += 1
    return dist, label


@njit(cache=True)
def k_nearest_kernel(indptr, indices, weights, seed_node, seed_dist, seed_label, k, cutoff):
    """Dijkstra keeping the ``k`` nearest *distinct* labels of every node.

    Unchecked: the dtypes must be as below and ``k`` at least 1. Call it through
    :func:`geo.network.routing.k_nearest_sources`.

    Parameters
    ----------
    indptr, indices : numpy.ndarray
        int64 CSR adjacency, both directions of every edge.
    weights : numpy.ndarray
        float64 metres of each arc.
    seed_node, seed_dist, seed_label : numpy.ndarray
        int64 node, float64 metres already walked there, int64 label of each seed.
    k : int
        Distinct labels kept per node.
    cutoff : float
        Metres; seeds and labels beyond it are left out.

    Returns
    -------
    dist : numpy.ndarray
        float64 (n, k) metres, ascending along each row; ``inf`` in empty slots.
    label : numpy.ndarray
        int64 (n, k) the labels at those distances; ``-1`` in empty slots.
    """
    n = indptr.shape[0] - 1
    dist = np.full((n, k), np.inf)
    label = np.full((n, k), -1, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    capacity = seed_node.shape[0] + indices.shape[0] * k + 1
    hd = np.empty(capacity)
    hn = np.empty(capacity, dtype=np.int64)
    hl = np.empty(capacity, dtype=np.int64)
    size = 0
    for s in range(seed_node.shape[0]):
        if seed_dist[s] <= cutoff:
            _sift_up(hd, hn, hl, size, seed_dist[s], seed_node[s], seed_label[s])
            size += 1
    while size > 0:
        d, node, lab = hd[0], hn[0], hl[0]
        size -= 1
        _sift_down_last(hd, hn, hl, size)
        c = count[node]
        if c == k:
            continue
        seen = False
        for j in range(c):
            if label[node, j] == lab:
                seen = True
                break
        if seen:
            continue
        dist[node, c] = d
        label[node, c] = lab
        count[node] = c + 1
        for arc in range(indptr[node], indptr[node + 1]):
            nb = indices[arc]
            nd = d + weights[arc]
            if nd > cutoff or count[nb] == k:
                continue
            # Do not queue a source the neighbour has already settled.
            dup = False
            for j in range(count[nb]):
                if label[nb, j] == lab:
                    dup = True
                    break
            if not dup:
                _sift_up(hd, hn, hl, size, nd, nb, lab)
                size += 1
    return dist, label


@njit(cache=True)
def component_labels(indptr, indices):
    """Connected components of a symmetric CSR graph, by depth-first search.

    scipy's ``connected_components`` gives the same labels but first builds, validates and
    transposes a sparse matrix: 0.67 of the 1.2 ms of building a 10k-node network, 107 ms
    at 1M nodes where this takes 58 ms.

    Parameters
    ----------
    indptr, indices : numpy.ndarray
        int64 CSR adjacency holding both directions of every edge.

    Returns
    -------
    count : int
        The number of components.
    labels : numpy.ndarray
        int64 (n,) component of each node, numbered in order of each component's lowest
        node.
    """
    n = len(indptr) - 1
    labels = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)  # every node is pushed at most once
    count = 0
    for start in range(n):
        if labels[start] >= 0:
            continue
        labels[start] = count
        stack[0] = start
        top = 1
        while top:
            top -= 1
            node = stack[top]
            for e in range(indptr[node], indptr[node + 1]):
                other = indices[e]
                if labels[other] < 0:
                    labels[other] = count
                    stack[top] = other
                    top += 1
        count += 1
    return count, labels


@njit(cache=True)
def combine_kernel(
    o_edge, o_offset, o_dist, edge_u, edge_v, edge_len, node_dist, node_label,
    f_edge_sorted, f_offset, f_dist, f_label, k, cutoff,
):  # fmt: skip
    """The ``k`` nearest distinct facilities of each origin, from a facility table.

    An origin's candidates are the table entries of its edge's two ends, plus every
    facility on its own edge reached straight along it. Unchecked: the dtypes must be as
    below. Call it through :func:`geo.network.routing.query_table`.

    Parameters
    ----------
    o_edge : numpy.ndarray
        int64 (p,) edge of each origin, -1 for an origin off the network.
    o_offset, o_dist : numpy.ndarray
        float64 (p,) metres along that edge from its ``edge_u``, and metres to it.
    edge_u, edge_v : numpy.ndarray
        int64 (m,) end nodes of each edge.
    edge_len : numpy.ndarray
        float64 (m,) metres.
    node_dist, node_label : numpy.ndarray
        (n, kk) float64 metres and int64 labels of each node's nearest facilities, as
        :func:`k_nearest_kernel` returns them.
    f_edge_sorted : numpy.ndarray
        int64 edge of each snapped facility, ascending.
    f_offset, f_dist, f_label : numpy.ndarray
        Those facilities' float64 metres along their edge, float64 metres to it and
        int64 labels, in the same order.
    k : int
        Facilities per origin.
    cutoff : float
        Metres; farther facilities are left out.

    Returns
    -------
    out_d : numpy.ndarray
        float64 (p, k) metres, ascending along each row; ``inf`` in empty slots.
    out_l : numpy.ndarray
        int64 (p, k) facility labels; ``-1`` in empty slots.
    """
    p = o_edge.shape[0]
    kk = node_dist.shape[1]
    out_d = np.full((p, k), np.inf)
    out_l = np.full((p, k), -1, dtype=np.int64)
    cand_d = np.empty(2 * kk + f_edge_sorted.shape[0] + 1)
    cand_l = np.empty(2 * kk + f_edge_sorted.shape[0] + 1, dtype=np.int64)
    for i in range(p):
        e = o_edge[i]
        if e < 0:
            continue
        m = 0
        u, v = edge_u[e], edge_v[e]
        for j in range(kk):
            if node_label[u, j] >= 0:
                cand_d[m] = node_dist[u, j] + o_offset[i] + o_dist[i]
                cand_l[m] = node_label[u, j]
                m += 1
            if node_label[v, j] >= 0:
                cand_d[m] = node_dist[v, j] + edge_len[e] - o_offset[i] + o_dist[i]
                cand_l[m] = node_label[v, j]
                m += 1
        lo = np.searchsorted(f_edge_sorted, e)
        hi = np.searchsorted(f_edge_sorted, e, side="right")
        for f in range(lo, hi):
            cand_d[m] = abs(f_offset[f] - o_offset[i]) + f_dist[f] + o_dist[i]
            cand_l[m] = f_label[f]
            m += 1
        order = np.argsort(cand_d[:m], kind="mergesort")
        filled = 0
        for idx in order:
            if filled == k or cand_d[idx] > cutoff:
                break
            lab = cand_l[idx]
            dup = False
            for j in range(filled):
                if out_l[i, j] == lab:
                    dup = True
                    break
            if not dup:
                out_d[i, filled] = cand_d[idx]
                out_l[i, filled] = lab
                filled += 1
    return out_d, out_l


@njit(cache=True, nogil=True)
def reach_kernel(
    indptr, indices, weights, arc_edge, edge_u, edge_v, edge_length, seed_node, seed_dist,
    own_edge, own_offset, own_gap, limits, dist, stamp, token, heap_d, heap_n,
):  # fmt: skip
    """The street spans one source reaches within each of ``limits`` (ascending), from one
    Dijkstra bounded by the largest.

    Unchecked. ``dist`` (n,) must be all ``inf`` and is left so; ``stamp`` (m,) holds no
    value equal to ``token`` (a number new to each call); ``heap_d``/``heap_n`` have room for
    every seed and arc. The source sits ``own_gap`` metres off its edges ``own_edge``,
    ``own_offset`` metres from ``edge_u``, and walks them both ways from there.

    Parameters
    ----------
    indptr, indices, weights, arc_edge : numpy.ndarray
        The CSR adjacency (`WalkNetwork`), arcs with their edges.
    edge_u, edge_v, edge_length : numpy.ndarray
        The edges' ends and metres.
    seed_node, seed_dist : numpy.ndarray
        int64 nodes and float64 metres already walked there.
    own_edge, own_offset, own_gap : numpy.ndarray
        Where the source joins its edge(s).
    limits : numpy.ndarray
        Ascending metres.
    dist, stamp, token, heap_d, heap_n
        Scratch, see above.

    Returns
    -------
    span_edge, span_start, span_end, span_limit : numpy.ndarray
        One row per reached span: its edge, metres from ``edge_u`` where it starts and ends,
        and the index of the limit it belongs to.
    """
    cutoff = limits[limits.shape[0] - 1]
    touched = np.empty(heap_n.shape[0], dtype=np.int64)
    n_touched = bounded_kernel(indptr, indices, weights, seed_node, seed_dist, cutoff, dist,
                               heap_d, heap_n, touched)  # fmt: skip
    # the edges at reached nodes, each once
    arcs = 0
    for t in range(n_touched):
        arcs += indptr[touched[t] + 1] - indptr[touched[t]]
    edges = np.empty(arcs + 1, dtype=np.int64)
    n_edges = 0
    for t in range(n_touched):
        node = touched[t]
        for arc in range(indptr[node], indptr[node + 1]):
            e = arc_edge[arc]
            if stamp[e] != token:
                stamp[e] = token
                edges[n_edges] = e
                n_edges += 1
    room = (2 * n_edges + 2 * own_edge.shape[0]) * limits.shape[0]
    span_edge = np.empty(room, dtype=np.int64)
    span_start = np.empty(room)
    span_end = np.empty(room)
    span_limit = np.empty(room, dtype=np.int64)
    k = 0
    for li in range(limits.shape[0]):
        limit = limits[li]
        for t in range(n_edges):
            e = edges[t]
            length = edge_length[e]
            from_u = max(limit - dist[edge_u[e]], 0.0)
            from_v = max(limit - dist[edge_v[e]], 0.0)
            if from_u + from_v >= length:
                span_edge[k], span_start[k], span_end[k], span_limit[k] = e, 0.0, length, li
                k += 1
                continue
            if from_u > 0:
                span_edge[k], span_start[k], span_end[k], span_limit[k] = e, 0.0, from_u, li
                k += 1
            if from_v > 0:
                span_edge[k], span_start[k], span_end[k] = e, length - from_v, length
                span_limit[k] = li
                k += 1
        for s in range(own_edge.shape[0]):
            e = own_edge[s]
            length = edge_length[e]
            left = limit - own_gap[s]
            from_u = max(limit - dist[edge_u[e]], 0.0)
            from_v = max(limit - dist[edge_v[e]], 0.0)
            if left > 0 and from_u + from_v < length:
                span_edge[k], span_limit[k] = e, li
                span_start[k] = max(0.0, own_offset[s] - left)
                span_end[k] = min(length, own_offset[s] + left)
                k += 1
    for t in range(n_touched):
        dist[touched[t]] = np.inf
    return span_edge[:k], span_start[:k], span_end[:k], span_limit[:k]


@njit(cache=True, nogil=True)
def fresh_spans_kernel(span_edge, span_start, span_end, span_limit):
    """Each limit's spans less those of the limit before it (the first limit's whole): the
    pieces of street a walk adds as its limit grows. Spans of one limit may overlap.

    Unchecked; the spans as :func:`reach_kernel` returns them (each limit's spans hold the
    previous limit's).

    Parameters
    ----------
    span_edge, span_start, span_end, span_limit : numpy.ndarray
        The spans: edge, metres from ``edge_u`` where each starts and ends, limit index.

    Returns
    -------
    span_edge, span_start, span_end, span_limit : numpy.ndarray
        The fresh pieces, by limit.
    """
    n = span_edge.shape[0]
    order = np.argsort(span_start, kind="mergesort")
    order = order[np.argsort(span_edge[order], kind="mergesort")]
    order = order[np.argsort(span_limit[order], kind="mergesort")]
    edge, start, end, limit = (
        span_edge[order],
        span_start[order],
        span_end[order],
        span_limit[order],
    )
    width = edge.max() + 1 if n else 1
    key = limit * width + edge  # ascending: by limit, then edge
    out_edge = np.empty(4 * n, dtype=np.int64)
    out_start = np.empty(4 * n)
    out_end = np.empty(4 * n)
    out_limit = np.empty(4 * n, dtype=np.int64)
    k = 0
    for s in range(n):
        e, a, b, li = edge[s], start[s], end[s], limit[s]
        lo = hi = 0
        if li > 0:  # the previous limit's spans on this edge, by start
            before = key[s] - width
            lo = np.searchsorted(key, before, side="left")
            hi = np.searchsorted(key, before, side="right")
        at = a
        for p in range(lo, hi):
            if end[p] <= at:
                continue
            if start[p] >= b:
                break
            if start[p] > at:
                out_edge[k], out_start[k], out_end[k], out_limit[k] = e, at, start[p], li
                k += 1
            at = max(at, end[p])
        if at < b:
            out_edge[k], out_start[k], out_end[k], out_limit[k] = e, at, b, li
            k += 1
    return out_edge[:k], out_start[:k], out_end[:k], out_limit[:k]
