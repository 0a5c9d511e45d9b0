"""Shortest-path kernels: hand-computed answers, agreement with networkx, and laws."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.network.graph import WalkNetwork
from geo.network.routing import k_nearest_sources, nearest_facilities, nearest_source
from geo.network.snapping import Snap

UTM = pyproj.CRS.from_epsg(32651)


def network(edges: list[tuple[int, int, float]], n: int) -> WalkNetwork:
    u, v, length = (np.array(c) for c in zip(*edges, strict=True))
    return WalkNetwork.from_edges(
        u, v, length.astype(float), np.arange(n, dtype=float), np.zeros(n), UTM
    )


def snap(edge, offset, distance=None) -> Snap:
    edge = np.asarray(edge, dtype=np.int64)
    distance = np.zeros(len(edge)) if distance is None else np.asarray(distance, float)
    ok = edge >= 0
    return Snap(edge, np.asarray(offset, float), distance, ok, np.array([None] * len(edge)))


# A small drawn graph (metres):
#
#   0 --100-- 1 --50-- 2
#   |         |
#  80        200
#   |         |
#   3 --60--- 4        5 --30-- 6   (an island)
DRAWN = [(0, 1, 100.0), (1, 2, 50.0), (0, 3, 80.0), (1, 4, 200.0), (3, 4, 60.0), (5, 6, 30.0)]


def test_hand_computed_nearest_with_a_facility_mid_edge():
    net = network(DRAWN, 7)
    # facility A 30 m along 0→1 (edge 0), 10 m off the street; facility B at node 4 (edge 4 end)
    facilities = snap([0, 4], [30.0, 60.0], [10.0, 0.0])
    origins = snap([1, 2, 4, 5, -1], [50.0, 80.0, 0.0, 15.0, np.nan], [5.0, 0.0, 0.0, 0.0, np.nan])
    metres, labels = nearest_facilities(net, facilities, np.array([0, 1]), origins, k=2)
    # origin on edge 1 (1→2) 50 m from node 1, i.e. at node 2, 5 m off the street.
    # A: 10 + 70 (A→1) + 50 + 5 = 135
    # B: 2→1→4 is 50+200 = 250 (the way round by 0 and 3 is 290), + 5 to the street
    assert metres[0].tolist() == [135.0, 255.0]
    assert labels[0].tolist() == [0, 1]
    # origin 80 m along 0→3 (edge 2), at node 3: B 60 m away; A: 30+10+80 = 120
    assert metres[1].tolist() == [60.0, 120.0] and labels[1].tolist() == [1, 0]
    # origin at node 3 on edge 4 (3→4) offset 0: same as above
    assert metres[2].tolist() == [60.0, 120.0]
    # the island and the unattached origin reach nothing
    assert np.isinf(metres[3]).all() and labels[3].tolist() == [-1, -1]
    assert np.isinf(metres[4]).all()


def test_same_edge_walks_straight_along_it():
    net = network([(0, 1, 1000.0)], 2)
    facilities = snap([0], [400.0], [3.0])
    origins = snap([0, 0], [450.0, 100.0], [2.0, 0.0])
    metres, _ = nearest_facilities(net, facilities, np.array([7]), origins)
    assert metres[:, 0].tolist() == [55.0, 303.0]


def test_cutoff_drops_what_is_farther():
    net = network(DRAWN, 7)
    dist, label = nearest_source(net.indptr, net.indices, net.weights, [0], [0.0], [9], cutoff=150)
    assert dist[:5].tolist() == [0.0, 100.0, 150.0, 80.0, 140.0]
    dist, label = nearest_source(net.indptr, net.indices, net.weights, [0], [0.0], [9], cutoff=120)
    assert np.isinf(dist[2]) and label[2] == -1 and label[4] == -1


def random_graph(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    graph = nx.connected_watts_strogatz_graph(n, 4, 0.2, seed=seed)
    edges = [(a, b, float(rng.integers(5, 200))) for a, b in graph.edges]
    for a, b, w in edges:
        graph[a][b]["weight"] = w
    return graph, network(edges, n)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_networkx(seed):
    graph, net = random_graph(seed)
    sources = [3, 77, 150, 222]
    expected = nx.multi_source_dijkstra_path_length(graph, sources)
    dist, label = nearest_source(
        net.indptr, net.indices, net.weights, sources, [0.0] * 4, [0, 1, 2, 3]
    )
    assert np.allclose(dist, [expected[i] for i in range(net.n_nodes)])
    per_source = [nx.single_source_dijkstra_path_length(graph, s) for s in sources]
    assert all(per_source[label[i]][i] == pytest.approx(dist[i]) for i in range(net.n_nodes))
    k_dist, k_label = k_nearest_sources(
        net.indptr, net.indices, net.weights, sources, [0.0] * 4, [0, 1, 2, 3], k=3
    )
    for node in range(net.n_nodes):
        want = sorted(d[node] for d in per_source)[:3]
        assert np.allclose(k_dist[node], want)
        assert all(
            per_source[lab][node] == pytest.approx(d)
            for lab, d in zip(k_label[node], k_dist[node], strict=True)
        )
    assert np.allclose(k_dist[:, 0], dist)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10_000),
    st.lists(st.integers(0, 199), min_size=1, max_size=6, unique=True),
    st.integers(0, 199),
)
def test_laws(seed, sources, extra):
    _, net = random_graph(seed % 50, n=200)
    args = (net.indptr, net.indices, net.weights)
    labels = list(range(len(sources)))
    dist, _ = nearest_source(*args, sources, [0.0] * len(sources), labels)
    more, _ = nearest_source(
        *args, [*sources, extra], [0.0] * (len(sources) + 1), [*labels, len(sources)]
    )
    assert np.all(more <= dist)  # adding a facility never lengthens a walk
    k_dist, k_label = k_nearest_sources(*args, sources, [0.0] * len(sources), labels, k=3)
    assert np.all(k_dist[:, :-1] <= k_dist[:, 1:])  # 1st ≤ 2nd ≤ 3rd
    for row in k_label:
        found = row[row >= 0]
        assert len(set(found)) == len(found)  # distinct facilities
    near, _ = nearest_source(*args, sources, [0.0] * len(sources), labels, cutoff=300)
    far, _ = nearest_source(*args, sources, [0.0] * len(sources), labels, cutoff=600)
    assert np.isfinite(far).sum() >= np.isfinite(near).sum()  # more minutes never cover less
