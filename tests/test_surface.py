"""The accessibility surface (geo.analysis.surface): against per-cell brute force, the residents'
allocation, the GeoTIFF read back by GDAL's own tools and rasterio, /surface and the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import httpx
import networkx as nx
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from served import serving

from api.deps import LayerCache, StudyCache
from api.main import create_app
from geo.analysis.params import PROFILES
from geo.analysis.study import Study
from geo.analysis.surface import NODATA, allocate_by_area, surface, surface_bytes, surface_frame
from geo.cli import main
from geo.crs import from_wgs84
from geo.layers.store import write_layer
from geo.settings import DEFAULT_DATA_DIR, Settings
from geo.testing import X0, Y0, facility_frame, square

# --- a hand-drawn town: a 4 x 4 block grid (200 m), a diagonal, a cut-off street ---------


def _town() -> Study:
    lines = []
    for i in range(5):  # streets every 200 m, west-east and south-north, 0..800 m
        lines.append(shapely.LineString([(X0, Y0 + 200 * i), (X0 + 800, Y0 + 200 * i)]))
        lines.append(shapely.LineString([(X0 + 200 * i, Y0), (X0 + 200 * i, Y0 + 800)]))
    lines.append(shapely.LineString([(X0 + 800, Y0 + 800), (X0 + 1100, Y0 + 1150)]))  # diagonal
    lines.append(shapely.LineString([(X0 + 1500, Y0), (X0 + 1700, Y0 + 100)]))  # cut off
    from geo.network.lines import from_lines

    net = from_lines(gpd.GeoDataFrame(geometry=lines, crs="EPSG:32651"))
    rng = np.random.default_rng(7)
    spots = rng.uniform(-40, 1150, size=(9, 2))
    areas = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "name": ["甲", "乙", "丙", "丁"], "subdistrict": "甲街道",
         "households": [100, 40, 300, 7], "population": [250, 90, 800, 13],
         "elderly": [60, 30, 200, 5]},
        geometry=[square(30, 30, 170, 170), square(250, 420, 560, 470), square(610, 610, 990, 990),
                  square(1520, 10, 1530, 20)],
        crs="EPSG:4326", index=["a", "b", "c", "d"],
    )  # fmt: skip
    layers = {
        "residential_areas": areas,
        "clinics": facility_frame([(f"c{i}", f"诊所{i}", *spots[i]) for i in range(3)]),
        "neighbor_centers": facility_frame([("n0", "中心", 410, 590), ("n1", "远", 1600, 60)]),
        "charging_points": facility_frame([(f"p{i}", f"桩{i}", *spots[3 + i]) for i in range(6)]),
        "renovation_projects": gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"),
    }
    return Study(layers, net)


def _brute_metres(study: Study, kind: str, x: float, y: float, own_snap: bool = False) -> float:
    """One cell by hand: snap its centre as a point query does, then a plain networkx Dijkstra
    from it to every facility (each attached to its edge's two ends, or walked along the same
    edge, or straight across when nearer than the street); the minimum."""
    net = study.network
    assert net is not None
    if own_snap:  # the nearest street of a piece that leads to this type, by looking at all
        point = shapely.Point(x, y)
        usable = np.isin(net.component[net.edge_u], study.pieces(kind))
        gap = np.where(usable, shapely.distance(net.edge_geometry, point), np.inf)
        if gap.min() > 250.0:
            return np.nan
        edge = int(np.argmin(gap))
        offset = float(shapely.line_locate_point(net.edge_geometry[edge], point))
        reach = float(gap[edge])
    else:
        snap = study.snap(np.array([x]), np.array([y]), kind=kind)
        if not snap.ok[0]:
            return np.nan
        edge, offset, reach = int(snap.edge[0]), float(snap.offset[0]), float(snap.distance[0])
    graph = nx.Graph()
    for u, v, length in zip(net.edge_u, net.edge_v, net.edge_length, strict=True):
        if not graph.has_edge(u, v) or graph[u][v]["weight"] > length:
            graph.add_edge(int(u), int(v), weight=float(length))
    graph.add_edge("cell", int(net.edge_u[edge]), weight=offset + reach)
    graph.add_edge(
        "cell", int(net.edge_v[edge]), weight=float(net.edge_length[edge]) - offset + reach
    )
    far = nx.single_source_dijkstra_path_length(graph, "cell", weight="weight")
    fsnap = study.facility_snap(kind)
    fx, fy = study.facility_xy(kind)
    best = np.inf
    for j in range(len(fx)):
        straight = float(np.hypot(fx[j] - x, fy[j] - y))
        if straight <= reach:
            best = min(best, straight)
        if not fsnap.ok[j]:
            continue
        e, off, gap = int(fsnap.edge[j]), float(fsnap.offset[j]), float(fsnap.distance[j])
        ends = [far.get(int(net.edge_u[e]), np.inf) + off,
                far.get(int(net.edge_v[e]), np.inf) + float(net.edge_length[e]) - off]  # fmt: skip
        if e == edge:
            ends.append(abs(off - offset) + reach)
        best = min(best, min(ends) + gap)
    return best


@pytest.fixture(scope="module")
def town() -> Study:
    return _town()


@pytest.mark.parametrize("cell_m", [100.0, 70.0])
def test_every_cell_is_its_brute_force_walk(town: Study, cell_m: float) -> None:
    grid = surface(town, cell_m)
    x, y = grid.centres()
    checked = 0
    for kind in ("clinics", "neighbor_centers", "charging_points"):
        for i in range(len(grid)):
            expected = _brute_metres(town, kind, x[i], y[i])
            got = grid.metres[kind][i]
            if np.isnan(expected):
                assert np.isnan(got), (kind, i)
                continue
            assert got == pytest.approx(expected, abs=1e-6), (kind, i)
            for name, walker in PROFILES.items():  # minutes at each walker's speed, 0.1 min
                want = (
                    round(expected / walker.metres_per_minute, 1)
                    if np.isfinite(expected)
                    else np.nan
                )
                assert grid.minutes(kind, walker.speed_kmh)[i] == pytest.approx(
                    want, nan_ok=True
                ), name
            checked += np.isfinite(expected)
    assert checked > 300  # most cells reach something; the far corners are unreachable
    # a cell whose centre is > 250 m from every street: unreachable, not far
    off = grid.cells_in((X0 + 1250, Y0 + 500, X0 + 1250, Y0 + 500))[0]
    assert np.isnan(grid.snap_m[off]) and np.isnan(grid.metres["clinics"][off])


def test_cells_with_one_nearest_street_by_measuring_every_street(town: Study) -> None:
    grid = surface(town, 70.0)
    x, y = grid.centres()
    plain = np.flatnonzero(_one_nearest_street(town, x, y))
    for kind in ("clinics", "neighbor_centers", "charging_points"):
        for i in plain:
            expected = _brute_metres(town, kind, x[i], y[i], own_snap=True)
            assert grid.metres[kind][i] == pytest.approx(expected, abs=1e-6, nan_ok=True), (kind, i)


def _one_nearest_street(study: Study, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cells whose centre has one nearest point on the streets: a centre as far from two
    streets may join either, and a point query's lon/lat round trip can break the tie the
    other way."""
    net = study.network
    assert net is not None
    edges = net.edge_geometry
    out = np.zeros(len(x), dtype=bool)
    for i in range(len(x)):
        point = shapely.Point(x[i], y[i])
        gap = shapely.distance(edges, point)
        near = edges[gap <= gap.min() + 1e-6]
        feet = shapely.line_interpolate_point(near, shapely.line_locate_point(near, point))
        out[i] = shapely.distance(feet, feet[0]).max() < 1e-6
    return out


def test_cells_agree_with_point_queries(town: Study) -> None:
    grid = surface(town, 70.0)
    x, y = grid.centres()
    lon, lat = town._to_metric.transform(x, y, direction="INVERSE")
    plain = _one_nearest_street(town, x, y)
    assert plain.sum() > 0.9 * len(plain)
    for kind in ("clinics", "charging_points"):
        near = town.nearest(np.column_stack([lon, lat]), kind)
        walk = near["walk_m"].to_numpy(dtype=float)
        ours = np.where(np.isfinite(grid.metres[kind]), grid.metres[kind], np.nan)
        assert np.allclose(walk[plain], ours[plain], equal_nan=True, atol=1e-6)
        found = (grid.facility[kind] >= 0) & plain
        ids = town.facilities(kind).index.to_numpy()
        assert (near["facility_id"].to_numpy()[found] == ids[grid.facility[kind][found]]).all()


def test_a_cut_off_street_leads_only_to_what_is_on_it(town: Study) -> None:
    grid = surface(town)
    i = grid.cells_in((X0 + 1650, Y0 + 50, X0 + 1650, Y0 + 50))[0]  # by the cut-off street
    assert np.isfinite(grid.snap_m[i])  # it joins that street (centre n1 is on it) ...
    assert grid.metres["neighbor_centers"][i] == pytest.approx(_brute_metres(
        town, "neighbor_centers", *grid.centres()[0][[i]], *grid.centres()[1][[i]]))  # fmt: skip
    # ... but a walk to a clinic would start on a fragment leading to none: refused, as a
    # point query refuses it (NaN), not "far"
    assert np.isnan(grid.metres["clinics"][i])


# --- residents ------------------------------------------------------------------------


def test_each_compound_adds_up_to_its_population(town: Study) -> None:
    grid = surface(town, 70.0)
    areas = town.layers["residential_areas"]
    metric = areas.geometry.to_crs(town.crs).to_numpy()
    population = areas["population"].to_numpy(float)
    per_compound = allocate_by_area(grid, metric, np.diag(population))
    assert np.allclose(per_compound.sum(axis=0), population, rtol=0, atol=1e-9)
    # compound a (30..170 m square) lies in four 70 m cells and more: no cell gets more than
    # its share of area, and the totals are the compounds'
    assert (per_compound[:, 0] > 0).sum() >= 4
    assert grid.counts["population"].sum() == pytest.approx(population.sum())
    assert grid.counts["elderly"].sum() == pytest.approx(areas["elderly"].sum())


def test_area_shares_by_hand_and_a_compound_without_area() -> None:
    grid = surface(_town(), 100.0)
    # a 100 x 100 m compound from (50, 50): a quarter in each of four cells
    box = shapely.box(X0 + 50, Y0 + 50, X0 + 150, Y0 + 150)
    line = shapely.LineString([(X0 + 420, Y0 + 430), (X0 + 440, Y0 + 430)])  # no area
    got = allocate_by_area(grid, np.array([box, line, None]), np.array([[400.0], [9.0], [5.0]]))
    cells = [grid.cells_in((X0 + cx, Y0 + cy, X0 + cx, Y0 + cy))[0]
             for cx, cy in ((75, 75), (125, 75), (75, 125), (125, 125))]  # fmt: skip
    assert got[cells, 0].tolist() == [100.0, 100.0, 100.0, 100.0]
    assert got[grid.cells_in((X0 + 430, Y0 + 430, X0 + 430, Y0 + 430))[0], 0] == 9.0
    assert got.sum() == 409.0  # the missing shape gives nothing


# --- files ----------------------------------------------------------------------------


def test_geotiff_read_by_gdal_and_rasterio(town: Study, tmp_path: Path) -> None:
    grid = surface(town)
    path = tmp_path / "surface.tif"
    path.write_bytes(surface_bytes(grid, "tif", ("clinics",)))
    info = json.loads(subprocess.run(["gdalinfo", "-json", str(path)], capture_output=True,
                                     text=True, check=True).stdout)  # fmt: skip
    assert 'ID["EPSG",32651]' in info["coordinateSystem"]["wkt"]
    assert info["geoTransform"] == [grid.x0, 100.0, 0.0, grid.y0, 0.0, -100.0]
    assert info["size"] == [grid.ncols, grid.nrows]
    assert [b["description"] for b in info["bands"]] == [
        "clinics_minutes_standard",
        "clinics_minutes_elderly",
        "population",
        "elderly",
    ]
    # a value at a place: 50 m north of street A's 450 m mark, as gdallocationinfo reads it
    x, y = X0 + 450, Y0 + 50
    i = grid.cells_in((x, y, x, y))[0]
    for band, speed in ((1, 4.0), (2, 3.0)):
        value = subprocess.run(["gdallocationinfo", "-valonly", "-geoloc", "-b", str(band),
                                str(path), str(x), str(y)], capture_output=True, text=True,
                               check=True).stdout  # fmt: skip
        assert float(value) == pytest.approx(grid.minutes("clinics", speed)[i], abs=1e-4)
    with rasterio.open(path) as raster:
        assert raster.crs.to_epsg() == 32651 and raster.nodata == NODATA
        minutes = raster.read(1)
        population = raster.read(3)
    expected = np.nan_to_num(grid.minutes("clinics", 4.0), nan=NODATA).reshape(grid.nrows, -1)
    assert np.allclose(minutes, expected, atol=1e-4)
    assert (minutes == NODATA).any() and population.sum() == pytest.approx(1153.0)
    # a box: the rows and columns meeting it, placed where they are
    lon0, lat0 = town._to_metric.transform(X0 + 120, Y0 + 120, direction="INVERSE")
    lon1, lat1 = town._to_metric.transform(X0 + 380, Y0 + 280, direction="INVERSE")
    path.write_bytes(
        surface_bytes(grid, "tif", ("clinics",), ("elderly",), (lon0, lat0, lon1, lat1))
    )
    with rasterio.open(path) as raster:
        assert (raster.width, raster.height, raster.count) == (3, 2, 3)
        assert raster.transform.c == X0 + 100 and raster.transform.f == Y0 + 300
        part = raster.read(1)
    want = [grid.minutes("clinics", 3.0)[grid.cells_in((X0 + cx, Y0 + cy, X0 + cx, Y0 + cy))[0]]
            for cy in (250, 150) for cx in (150, 250, 350)]  # fmt: skip
    assert np.allclose(part.ravel(), np.nan_to_num(want, nan=NODATA), atol=1e-4)


def test_geojson_and_geopackage(town: Study, tmp_path: Path) -> None:
    grid = surface(town)
    body = json.loads(surface_bytes(grid, "geojson", ("clinics",), ("elderly",)))
    kept = grid.kept()
    assert body["numberMatched"] == kept.sum() == len(body["features"])
    feature = next(f for f in body["features"] if "clinics_minutes_elderly" in f["properties"])
    i = feature["id"]
    assert feature["properties"]["clinics_minutes_elderly"] == grid.minutes("clinics", 3.0)[i]
    assert "clinics_minutes_standard" not in feature["properties"]
    path = tmp_path / "s.gpkg"
    path.write_bytes(surface_bytes(grid, "gpkg"))
    frame = pyogrio.read_dataframe(path, layer="surface")
    assert frame.crs.to_epsg() == 32651 and len(frame) == kept.sum()
    assert np.allclose(frame.geometry.area, 100.0 * 100.0)
    assert frame["population"].sum() == pytest.approx(1153.0)


def test_bbox_keeps_the_cells_in_view(town: Study) -> None:
    grid = surface(town)
    lon0, lat0 = town._to_metric.transform(X0 + 120, Y0 + 120, direction="INVERSE")
    lon1, lat1 = town._to_metric.transform(X0 + 380, Y0 + 280, direction="INVERSE")
    frame = surface_frame(grid, bbox=(lon0, lat0, lon1, lat1))
    # the view spans the cells from 100 to 400 m east and 100 to 300 m north: 3 x 2
    want = grid.cells_in((X0 + 101, Y0 + 101, X0 + 399, Y0 + 299))
    assert len(want) == 6 and sorted(frame.index) == sorted(want)


# --- the service and the command line --------------------------------------------------


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder, ignore=shutil.ignore_patterns(".*"))
    return folder


def test_surface_route_is_computed_once_per_data_version(sample: Path) -> None:
    studies = StudyCache(LayerCache(sample), "auto")
    first = studies.surface()
    assert studies.surface() is first  # kept
    clinics = gpd.read_file(sample / "clinics.geojson").set_index("id", drop=False)
    write_layer(clinics.iloc[:2], "clinics", sample, validate=False)
    again = studies.surface()
    assert again is not first and not np.array_equal(
        again.metres["clinics"], first.metres["clinics"], equal_nan=True)  # fmt: skip
    app = create_app(Settings(data=sample, warm=False))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        body = client.get("/surface", params={"type": "clinics", "profile": "elderly"}).json()
        grid = surface(Study.load(sample))
        by_id = {f["id"]: f["properties"] for f in body["features"]}
        assert len(by_id) == grid.kept().sum()
        minutes = grid.minutes("clinics", 3.0)
        for i, props in list(by_id.items())[::50]:
            assert props.get("clinics_minutes_elderly", np.nan) == pytest.approx(
                minutes[i], nan_ok=True)  # fmt: skip
        small = client.get("/surface", params={"limit": 3, "crs": "gcj02"}).json()
        assert small["numberReturned"] == 3 and small["numberMatched"] == len(by_id)
        plain = client.get("/surface", params={"limit": 3}).json()
        lon, lat = np.array(plain["features"][0]["geometry"]["coordinates"][0]).T
        shifted = np.column_stack(from_wgs84(lon, lat, "gcj02"))
        assert np.allclose(small["features"][0]["geometry"]["coordinates"][0], shifted, atol=2e-7)
        tif = client.get("/surface", params={"f": "tif"})
        assert tif.headers["content-type"].startswith("image/tiff")
        assert tif.content[:4] in (b"II*\x00", b"MM\x00*")
        bad = client.get("/surface", params={"bbox": "1,2,3"})
        assert bad.status_code == 400 and " / " in bad.json()["detail"]


def test_cli_writes_each_format(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "c.tif"
    assert main(["surface", "--data", str(sample), "--type", "clinics", "--out", str(out)]) == 0
    with rasterio.open(out) as raster:
        assert raster.count == 4 and raster.crs.to_epsg() == 32651
    out = tmp_path / "c.geojson"
    assert main(["surface", "--data", str(sample), "--profile", "elderly", "--out", str(out)]) == 0
    props = json.loads(out.read_text())["features"][0]["properties"]
    assert "neighbor_centers_walk_m" in props or "snap_m" in props
    assert not any(key.endswith("_standard") for key in props)
    assert main(["surface", "--data", str(sample), "--format", "gpkg", "--out", str(out)]) == 1
    assert "不符" in capsys.readouterr().err
    assert main(["surface", "--data", str(sample), "--cell", "5", "--out", str(out)]) == 1
    assert "10–1000" in capsys.readouterr().err


def test_without_a_network_cells_are_straight_lines_times_the_circuity() -> None:
    from geo.testing import drawn_study

    drawn = drawn_study()
    grid = surface(Study(drawn.layers, None))
    i = grid.cells_in((X0 + 450, Y0 + 50, X0 + 450, Y0 + 50))[0]
    # clinic c1 at (400, 20): 50 m west, 30 m south of the centre, x 1.25
    assert grid.method == "straight_line"
    assert grid.metres["clinics"][i] == pytest.approx(np.hypot(50, 30) * 1.25)
    assert grid.kept().all() and (grid.snap_m == 0).all()


def test_a_bow_tie_compound_still_adds_up() -> None:
    grid = surface(_town(), 100.0)
    bow = shapely.Polygon([(X0 + 20, Y0 + 20), (X0 + 180, Y0 + 180), (X0 + 180, Y0 + 20),
                           (X0 + 20, Y0 + 180)])  # fmt: skip
    assert not shapely.is_valid(bow)
    got = allocate_by_area(grid, np.array([bow]), np.array([[120.0]]))
    assert got.sum() == pytest.approx(120.0) and (got > 0).sum() == 4
