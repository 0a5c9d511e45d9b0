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

from geo.analysis.coverage import analyze_areas
from geo.analysis.study import Study
from geo.cli import main
from geo.network.readers import read_network


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


def test_own_speed_distance_mode_and_per_facility_isochrones(
    sample_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "own"
    args = ["analyze", "--data", str(sample_store), "--out", str(out), "--quiet",
            "--speed", "3.5", "--metres", "clinics=500"]  # fmt: skip
    assert main([*args, "--per-facility"]) == 0
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    # minutes at 3.5 km/h = metres / 58.33…, next to the two named walkers
    walked = table["neighbor_centers_walk_m"]
    expected = (walked / (3.5 * 1000 / 60)).round(1)
    assert np.allclose(
        table["neighbor_centers_minutes_custom"], expected, atol=0.051, equal_nan=True
    )
    # neighbour centres: 15 minutes at 3.5 km/h = 875 m; clinics: 500 m, whatever the speed
    assert (table["neighbor_centers_covered"] == (walked <= 875.0)).all()
    assert (table["clinics_covered"] == (table["clinics_walk_m"] <= 500.0)).all()
    zones = gpd.read_file(out / "gaps.geojson").set_index("type")
    assert zones.loc["clinics", "metres"] == 500.0
    assert zones.loc["neighbor_centers", "metres"] == pytest.approx(875.0)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))["settings"]
    assert summary["profile"] == "custom" and summary["speeds_kmh"]["custom"] == 3.5
    # one isochrone per facility and minutes value, each holding its facility
    per = gpd.read_file(out / "isochrones_per_facility.geojson")
    study = Study.load(sample_store)
    clinics = study.layers["clinics"]
    mine = per[per["type"] == "clinics"]
    assert len(mine) == 3 * len(clinics) and set(mine["facility_id"]) == set(clinics.index)
    # each reaches its own facility's street: no farther from the facility than its walk
    # to that street
    snap = study.facility_snap("clinics")
    gap = dict(zip(study.facilities("clinics").index, snap.distance, strict=True))
    five = mine[mine["minutes"] == 5.0].to_crs(32651).set_index("facility_id").geometry
    where = clinics.geometry.to_crs(32651)
    for facility, polygon in five.items():
        assert polygon.distance(where.loc[facility]) <= max(gap[facility] - 50.0, 0.0) + 0.5
    # without --per-facility (the default) the file is not made, and the earlier run's is
    # removed: the folder never mixes two runs
    assert main(args) == 0
    assert not (out / "isochrones_per_facility.geojson").exists()
    assert (out / "isochrones.geojson").exists()


def test_circuity_scales_straight_line_walks(sample_store: Path, tmp_path: Path) -> None:
    walks = {}
    for circuity in ("1.25", "1.5"):
        out = tmp_path / circuity
        args = ["analyze", "--data", str(sample_store), "--network", "none", "--out", str(out),
                "--quiet", "--circuity", circuity]  # fmt: skip
        assert main(args) == 0
        walks[circuity] = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")["clinics_walk_m"]
    ratio = (walks["1.5"] / walks["1.25"])[walks["1.25"] > 50]
    assert np.allclose(ratio, 1.5 / 1.25, atol=0.002)


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--speed", "0", "1–8 km/h"),
        ("--metres", "clinics=abc", "at most 8000 m"),
        ("--metres", "clinic=500", "no facility type 'clinic'"),
        ("--circuity", "0.5", "between 1 and 3"),
        ("--minutes", "clinics=abc", "not a number"),
        ("--elderly-weight", "-1", "cannot be negative"),
    ],
)
def test_bad_settings_are_messages_not_tracebacks(sample_store, tmp_path, capsys, option, value,
                                                  words) -> None:  # fmt: skip
    args = ["analyze", "--data", str(sample_store), "--out", str(tmp_path / "o"), "--quiet"]
    assert main([*args, option, value]) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_unwritable_output_and_empty_store_are_messages(sample_store, tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["analyze", "--data", str(sample_store), "--out", str(blocker), "--quiet"]) == 1
    assert "choose another --out" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["analyze", "--data", str(empty), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert "no residential areas" in capsys.readouterr().err


def test_a_file_that_is_not_osm_is_a_message(tmp_path, capsys) -> None:
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"not a protocol buffer at all")
    assert main(["network", "info", "--file", str(junk)]) == 1
    err = capsys.readouterr().err
    assert "cannot read the OSM extract" in err and "Traceback" not in err


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


def test_a_network_of_another_city_is_called_out(sample_store, tmp_path, capsys) -> None:
    pyrosm = pytest.importorskip("pyrosm")
    helsinki = pyrosm.get_data("test_pbf")
    args = ["analyze", "--data", str(sample_store), "--network", helsinki,
            "--out", str(tmp_path / "o"), "--quiet"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "55 of 55 compounds are more than 250 m from any street" in err
    assert main(["analyze", "--data", str(sample_store), "--out", str(tmp_path / "p"),
                 "--quiet"]) == 0  # fmt: skip
    assert "does the network cover them" not in capsys.readouterr().err
