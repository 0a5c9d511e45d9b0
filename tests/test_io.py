"""Import and export with real files: encodings, coordinate columns, CRSs, ids, formats."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import LAT, LON, catalogue_facilities, clinic, residential_area
from pyproj import Geod

from geo import crs as gcrs
from geo.errors import ImportFailedError, SourceReadError
from geo.layers.exports import export_layer
from geo.layers.imports import OptionError, import_layer
from geo.layers.sources import read_source
from geo.layers.store import read_layer, write_layer
from geo.schema import LAYER_NAMES

GEOD = Geod(ellps="WGS84")
NAMES = ["长白社区卫生服务中心", "延吉东路卫生站", "控江路健康小屋"]


def _metres(a: shapely.Point, b: shapely.Point) -> float:
    return float(GEOD.inv(a.x, a.y, b.x, b.y)[2])


def _clinic_frame(n: int = 3, **props: list) -> gpd.GeoDataFrame:
    data = {"名称": NAMES[:n], **props}
    lons = [LON + 0.01 * i for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(lons, [LAT] * n), crs=4326)


def _csv_bytes(rows: list[list], encoding: str) -> bytes:
    text = "\r\n".join(",".join(map(str, r)) for r in rows) + "\r\n"
    return text.encode(encoding)


@pytest.fixture
def areas_store(store: Path, write_geojson: Callable[..., Path]) -> Path:
    areas = [residential_area("R1", "长白二村"), residential_area("R2", "控江一村", dx=0.01)]
    areas[1]["properties"].update(note="含“引号”与逗号,的备注", storeys=6)
    write_geojson(store / "residential_areas.geojson", areas)
    return store


def test_geojson_import_then_read_back(store: Path, tmp_path: Path, write_geojson) -> None:
    source = write_geojson(
        tmp_path / "in.geojson",
        [clinic("C1", NAMES[0], beds=20), clinic("C2", NAMES[1], LON + 0.01)],
    )
    report = import_layer("clinics", source, folder=store)
    assert (report.imported, report.mode, report.crs, report.skipped) == (2, "append", "wgs84", [])
    assert report.path == store / "clinics.geojson"
    text = report.describe()
    assert text.startswith("导入 2 条到 clinics（跳过 0 条）/ imported 2 features into clinics")
    back = read_layer("clinics", store)
    assert back.index.tolist() == ["C1", "C2"]
    assert back.loc["C1", "name"] == NAMES[0] and back.loc["C1", "beds"] == 20
    assert back.loc["C2"].geometry.equals_exact(shapely.Point(LON + 0.01, LAT), 1e-9)


def test_geojson_lists_survive_import(store: Path, tmp_path: Path, write_geojson) -> None:
    source = write_geojson(tmp_path / "a.geojson", [residential_area("R1", "长白二村")])
    import_layer("residential_areas", source, folder=store)
    # lists survive, rounded to the store's 7 decimals like the geometry
    assert read_layer("residential_areas", store).loc["R1", "entrances"] == [
        [round(LON + 0.0005, 7), round(LAT, 7)]
    ]


def test_gbk_shapefile_without_cpg_is_detected(store: Path, tmp_path: Path) -> None:
    shp = tmp_path / "诊所.shp"
    frame = _clinic_frame(3, 级别=["community_health_centre", "station", "health_hut"])
    pyogrio.write_dataframe(frame, shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()  # as ArcGIS/SuperMap exports often arrive
    assert "长白社区".encode("gbk") in shp.with_suffix(".dbf").read_bytes()
    report = import_layer("clinics", shp, folder=store, mapping={"名称": "name", "级别": "level"})
    assert report.encoding == "gbk"
    assert read_layer("clinics", store)["name"].tolist() == NAMES
    # Forcing the wrong encoding fails cleanly instead of importing mojibake.
    with pytest.raises(SourceReadError, match=r"诊所\.shp"):
        import_layer("clinics", shp, folder=store, encoding="utf-8", mode="replace")
    forced = import_layer(
        "clinics", shp, folder=store, encoding="gb18030", mode="replace",
        mapping={"名称": "name", "级别": "level"},
    )  # fmt: skip
    assert forced.encoding == "gb18030" and read_layer("clinics", store)["name"].tolist() == NAMES


def test_projected_shapefile_is_converted_by_its_prj(store: Path, tmp_path: Path) -> None:
    shp = tmp_path / "utm.shp"
    frame = _clinic_frame(2, level=["station", "station"]).to_crs("EPSG:32651")
    pyogrio.write_dataframe(frame.rename(columns={"名称": "name"}), shp)
    report = import_layer("clinics", shp, folder=store)
    assert report.crs == "EPSG:32651"
    back = read_layer("clinics", store)
    assert _metres(back.geometry.iloc[1], shapely.Point(LON + 0.01, LAT)) < 0.01


@pytest.mark.parametrize(("encoding", "reported"), [("utf-8-sig", "utf-8-sig"), ("gbk", "gbk")])
def test_csv_encodings(store: Path, tmp_path: Path, encoding: str, reported: str) -> None:
    rows = [["名称", "经度", "纬度", "级别"]]
    rows += [[n, LON + 0.01 * i, LAT, "station"] for i, n in enumerate(NAMES)]
    source = tmp_path / "clinics.csv"
    source.write_bytes(_csv_bytes(rows, encoding))
    # A BOM left in the header would make "名称" unknown to --map.
    report = import_layer(
        "clinics", source, folder=store, mapping={"名称": "name", "级别": "level"}
    )
    assert report.encoding == reported
    back = read_layer("clinics", store)
    assert back["name"].tolist() == NAMES
    assert not {"经度", "纬度"} & set(back.columns)  # coordinate columns are not properties


def test_xlsx_with_chinese_coordinate_columns(store: Path, tmp_path: Path) -> None:
    source = tmp_path / "站点.xlsx"
    table = pd.DataFrame(
        {"id": [101, 102], "name": NAMES[:2], "经度": [LON, LON + 0.01], "纬度": [LAT, LAT]}
    )
    with pd.ExcelWriter(source, engine="openpyxl") as book:
        pd.DataFrame({"说明": ["封面"]}).to_excel(book, sheet_name="封面", index=False)
        table.to_excel(book, sheet_name="卫生站", index=False)
    report = import_layer(
        "clinics", source, folder=store, sheet="卫生站", set_values={"level": "station"}
    )
    assert report.imported == 2
    back = read_layer("clinics", store)
    assert back.index.tolist() == ["101", "102"]  # Excel numbers become string ids
    assert back.loc["102"].geometry.equals_exact(shapely.Point(LON + 0.01, LAT), 1e-9)
    with pytest.raises(SourceReadError, match=r"卫生所.*封面, 卫生站"):
        read_source(source, sheet="卫生所")


def test_gaode_gcj02_csv_lands_on_wgs84(store: Path, tmp_path: Path) -> None:
    gcj = [(121.5560123, 31.2902345), (121.4801234, 31.2345678)]
    source = tmp_path / "gaode.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "location", "type"])
        writer.writerows([[f"站{i}", f"{x},{y}", "医疗"] for i, (x, y) in enumerate(gcj)])
    report = import_layer(
        "clinics", source, folder=store, crs="gcj02", set_values={"level": "station"}
    )
    assert report.crs == "gcj02"
    back = read_layer("clinics", store).sort_values("name")
    for (x, y), point in zip(gcj, back.geometry, strict=True):
        ex, ey = gcrs.gcj02_to_wgs84(x, y)
        assert point.x == pytest.approx(float(ex), abs=2e-7)
        assert point.y == pytest.approx(float(ey), abs=2e-7)
        assert 300 < _metres(point, shapely.Point(x, y)) < 800


def test_map_set_and_unknown_map_column(store: Path, tmp_path: Path, write_csv) -> None:
    source = write_csv(
        tmp_path / "c.csv", [["名称", "床位", "lng", "lat"], [NAMES[0], "15", LON, LAT]]
    )
    import_layer(
        "clinics", source, folder=store,
        mapping={"名称": "name", "床位": "beds"}, set_values={"level": "station", "district": "杨浦区"},
    )  # fmt: skip
    row = read_layer("clinics", store).iloc[0]
    assert (row["name"], row["beds"], row["level"], row["district"]) == (
        NAMES[0], 15, "station", "杨浦区",
    )  # fmt: skip
    with pytest.raises(ImportFailedError) as info:
        import_layer("clinics", source, folder=store, mapping={"名字": "name"})
    problem = info.value.problems[0]
    assert problem.field == "名字" and "名称, 床位, lng, lat" in problem.hint


def test_generated_ids_are_stable(store: Path, tmp_path: Path, write_csv) -> None:
    rows = [["name", "level", "x", "y"]] + [
        [n, "station", LON + 0.01 * i, LAT] for i, n in enumerate(NAMES)
    ]
    source = write_csv(tmp_path / "noid.csv", rows)
    first = import_layer("clinics", source, folder=store, mode="replace")
    ids = read_layer("clinics", store).index.tolist()
    assert all(re.fullmatch(r"clinics-[0-9a-f]{10}", i) for i in ids) and len(set(ids)) == 3
    second = import_layer("clinics", source, folder=store, mode="replace")
    assert read_layer("clinics", store).index.tolist() == ids
    assert first.imported == second.imported == 3

    before = (store / "clinics.geojson").read_bytes()
    with pytest.raises(ImportFailedError) as info:
        import_layer("clinics", source, folder=store)  # append the same rows again
    assert "already imported? use --mode replace" in str(info.value)
    assert {p.feature for p in info.value.errors} == {"row 2", "row 3", "row 4"}
    assert (store / "clinics.geojson").read_bytes() == before


def test_same_name_at_same_spot_gets_distinct_ids(store: Path, tmp_path: Path, write_csv) -> None:
    rows = [["name", "vehicle", "ports", "lon", "lat"]]
    rows += [["长白二村充电桩", v, 4, LON, LAT] for v in ("ebike", "car")]
    import_layer("charging_points", write_csv(tmp_path / "cp.csv", rows), folder=store)
    ids = read_layer("charging_points", store).index.tolist()
    assert ids[1] == ids[0] + "-2"


def test_failed_import_names_row_and_field_and_writes_nothing(
    clinics_store: Path, tmp_path: Path, write_csv
) -> None:
    path = clinics_store / "clinics.geojson"
    before = path.read_bytes()
    rows = [["id", "name", "level", "lon", "lat"], ["C3", "好", "station", LON, LAT + 0.01]]
    rows.append(["C4", "坏", "statoin", LON, LAT + 0.02])
    source = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportFailedError) as info:
        import_layer("clinics", source, folder=clinics_store)
    (problem,) = info.value.errors
    assert (problem.file, problem.feature, problem.field) == (str(source), "row 3", "level")
    assert "did you mean 'station'" in problem.hint
    assert "nothing written" in info.value.summary
    assert path.read_bytes() == before


def test_skip_invalid_imports_the_rest_and_lists_skipped(
    clinics_store: Path, tmp_path: Path, write_csv
) -> None:
    rows = [
        ["id", "name", "level", "lon", "lat"],
        ["C3", "好一", "station", LON, LAT + 0.01],
        ["C4", "坏级别", "nonsense", LON, LAT + 0.02],
        ["C5", "缺坐标", "station", "", ""],
        ["C6", "坏纬度", "station", LON, "北纬31"],
        ["C1", "已存在", "station", LON, LAT + 0.03],
        ["C7", "好二", "station", LON, LAT + 0.04],
    ]
    source = write_csv(tmp_path / "mixed.csv", rows)
    report = import_layer("clinics", source, folder=clinics_store, skip_invalid=True)
    assert report.imported == 2
    assert report.skipped_features == ["row 3", "row 4", "row 5", "row 6"]
    where = {(p.feature, p.field) for p in report.skipped}
    assert where == {("row 3", "level"), ("row 4", "lon"), ("row 5", "lat"), ("row 6", "id")}
    assert read_layer("clinics", clinics_store).index.tolist() == ["C1", "C2", "C3", "C7"]
    text = report.describe()
    assert "导入 2 条到 clinics（跳过 4 条）/ imported 2 features into clinics (4 skipped" in text
    assert "row 5 · field 'lat'" in text and "北纬31" in text


def test_append_warns_about_a_near_duplicate_of_an_existing_feature(
    clinics_store: Path, tmp_path: Path, write_geojson
) -> None:
    source = write_geojson(
        tmp_path / "n.geojson", [clinic("C9", "长白社区卫生服务中心", LON + 1e-5)]
    )
    report = import_layer("clinics", source, folder=clinics_store)
    (warning,) = report.warnings
    assert (warning.feature, warning.field) == ("C9", "name") and "C1" in warning.message


def test_explicit_crs_wins_and_is_reported(store: Path, tmp_path: Path) -> None:
    gpkg = tmp_path / "gaode.gpkg"
    frame = _clinic_frame(1, level=["station"]).rename(columns={"名称": "name"})
    pyogrio.write_dataframe(frame, gpkg, layer="clinics")  # labelled WGS-84, really GCJ-02
    report = import_layer("clinics", gpkg, folder=store, crs="gcj02")
    assert report.crs == "gcj02"
    (note,) = report.warnings
    assert note.field == "crs" and "--crs gcj02 overrides the file's own CRS wgs84" in note.message
    moved = _metres(read_layer("clinics", store).geometry.iloc[0], shapely.Point(LON, LAT))
    assert 300 < moved < 800


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "csv"])
@pytest.mark.parametrize("layer", ["clinics", "residential_areas"])
def test_export_round_trip(
    areas_store: Path, tmp_path: Path, write_geojson, fmt: str, layer: str
) -> None:
    write_geojson(
        areas_store / "clinics.geojson",
        [clinic("C1", NAMES[0], beds=8), clinic("C2", NAMES[1], LON + 0.01)],
    )
    out = export_layer(layer, tmp_path / f"out.{fmt}", folder=areas_store)
    assert out == tmp_path / f"out.{fmt}"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    import_layer(layer, out, folder=fresh, mode="replace")
    before, after = read_layer(layer, areas_store), read_layer(layer, fresh)
    assert after.index.tolist() == before.index.tolist()
    for column in ("name", "subdistrict", "households", "entrances", "beds", "note", "storeys"):
        if column in before.columns:
            expected = [None if v is None or v != v else v for v in before[column]]
            if column == "entrances":  # the store rounds gates to 7 decimals like geometry
                expected = [
                    v if v is None else [[round(c, 7) for c in pair] for pair in v]
                    for v in expected
                ]
            got = [None if v is None or v != v else v for v in after[column]]
            assert got == expected, column
    for a, b in zip(before.geometry, after.geometry, strict=True):
        assert a.equals_exact(b, tolerance=1e-7)
    if fmt == "shp":
        assert out.with_suffix(".cpg").read_text() == "UTF-8"
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    if fmt == "csv":
        raw = out.read_bytes()
        assert raw[:3] == b"\xef\xbb\xbf"
        header = raw[3:].decode("utf-8").splitlines()[0].split(",")
        assert header[-2:] == ["lon", "lat"] if layer == "clinics" else header[-1] == "wkt"


@pytest.mark.parametrize(("crs", "low", "high"), [("gcj02", 300, 800), ("bd09", 800, 1500)])
def test_export_in_chinese_crs_and_back_within_half_a_metre(
    areas_store: Path, tmp_path: Path, crs: str, low: float, high: float
) -> None:
    out = export_layer("residential_areas", tmp_path / "c.geojson", folder=areas_store, crs=crs)
    doc = json.loads(out.read_text(encoding="utf-8"))
    gate = doc["features"][0]["properties"]["entrances"][0]
    assert low < _metres(shapely.Point(gate), shapely.Point(LON + 0.0005, LAT)) < high
    assert doc["coordinate_system"] == crs  # so the file cannot pass for WGS-84 …
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    import_layer("residential_areas", out, folder=fresh)  # … and comes back without --crs
    before = read_layer("residential_areas", areas_store)
    after = read_layer("residential_areas", fresh)
    for a, b in zip(before.geometry, after.geometry, strict=True):
        for p, q in zip(a.exterior.coords, b.exterior.coords, strict=True):
            assert _metres(shapely.Point(p), shapely.Point(q)) < 0.5
    for a, b in zip(before["entrances"], after["entrances"], strict=True):
        assert _metres(shapely.Point(a[0]), shapely.Point(b[0])) < 0.5


def test_export_epsg_geojson_carries_crs_and_imports_back(
    areas_store: Path, tmp_path: Path
) -> None:
    out = export_layer(
        "residential_areas", tmp_path / "utm.geojson", folder=areas_store, crs="EPSG:32651"
    )
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32651"
    assert doc["features"][0]["geometry"]["coordinates"][0][0][0] > 300_000  # metres
    gpkg = export_layer(
        "residential_areas", tmp_path / "utm.gpkg", folder=areas_store, crs="EPSG:32651"
    )
    assert gpd.read_file(gpkg).crs.to_epsg() == 32651
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert import_layer("residential_areas", out, folder=fresh).crs == "EPSG:32651"
    a = read_layer("residential_areas", areas_store).geometry.iloc[0]
    b = read_layer("residential_areas", fresh).geometry.iloc[0]
    assert _metres(a.centroid, b.centroid) < 0.01


def test_export_defaults_and_option_errors(areas_store: Path, tmp_path: Path) -> None:
    assert (
        export_layer("residential_areas", folder=areas_store)
        == tmp_path / "residential_areas.geojson"
    )
    assert (
        export_layer("residential_areas", "x.csv", folder=areas_store).read_bytes()[:3]
        == b"\xef\xbb\xbf"
    )
    with pytest.raises(OptionError, match="--format"):
        export_layer("residential_areas", "x.txt", folder=areas_store)
    with pytest.raises(OptionError, match="output folder"):
        export_layer("residential_areas", tmp_path / "nope" / "x.gpkg", folder=areas_store)


def test_shapefile_export_cuts_long_text_with_a_warning(
    areas_store: Path, tmp_path: Path, write_geojson
) -> None:
    write_geojson(areas_store / "clinics.geojson", [clinic("C1", "甲", note="长" * 100)])
    with pytest.warns(UserWarning, match="254 bytes"):
        out = export_layer("clinics", tmp_path / "c.shp", folder=areas_store)
    note = gpd.read_file(out)["note"].iloc[0]
    assert note == "长" * 84 and len(note.encode("utf-8")) <= 254


def test_shapefile_export_refuses_mixed_geometry(
    store: Path, tmp_path: Path, write_geojson
) -> None:
    ring = [[LON, LAT], [LON + 0.001, LAT], [LON, LAT + 0.001], [LON, LAT]]
    props = {"kind": "bike_shed", "status": "planned"}
    write_geojson(
        store / "renovation_projects.geojson",
        [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [LON, LAT]}, "properties": {"id": "P1", "name": "棚", **props}},
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {"id": "P2", "name": "区", **props}},
        ],
    )  # fmt: skip
    with pytest.raises(OptionError, match="mixes Point, Polygon"):
        export_layer("renovation_projects", tmp_path / "p.shp", folder=store)
    out = export_layer("renovation_projects", tmp_path / "p.csv", folder=store)
    lines = out.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].endswith("lon,lat,wkt") and lines[2].endswith(
        ',,"POLYGON ((121.5512345 31.2923456, 121.5522345 31.2923456, 121.5512345 31.2933456, 121.5512345 31.2923456))"'
    )


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("gone.geojson", None, r"gone\.geojson: 文件不存在 / file not found"),
        ("data.kml", b"<kml/>", r"data\.kml: 不支持的文件类型 '\.kml'"),
        (
            "broken.geojson",
            b'{"type": "FeatureCollection",\n "features": [}',
            r"broken\.geojson.*line 2, column",
        ),
        ("broken.shp", b"not a shapefile at all", r"broken\.shp: 缺少 \.dbf"),
        (
            "nocoords.csv",
            "名称,地址\n甲,控江路\n".encode(),
            r"nocoords\.csv.*--lon-col.*名称, 地址",
        ),
        ("gbk.csv", "名称,x,y\n甲,1,2\n".encode("gbk"), r"gbk\.csv: 不是 utf-8 编码"),
    ],
)
def test_unreadable_sources(store: Path, tmp_path: Path, name: str, content, pattern: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    encoding = "utf-8" if name == "gbk.csv" else None
    with pytest.raises(SourceReadError, match=pattern):
        import_layer("clinics", path, folder=store, encoding=encoding)
    assert not (store / "clinics.geojson").exists()


def test_garbage_shapefile_is_a_source_error(store: Path, tmp_path: Path) -> None:
    for suffix in (".shp", ".shx", ".dbf"):
        (tmp_path / f"junk{suffix}").write_bytes(b"\x00garbage" * 5)
    with pytest.raises(SourceReadError, match=r"junk\.shp: 无法读取 / cannot read.*\.shx"):
        import_layer("clinics", tmp_path / "junk.shp", folder=store)


def test_read_source_forced_columns_and_attrs(tmp_path: Path, write_csv) -> None:
    source = write_csv(tmp_path / "e.csv", [["站名", "E", "N"], ["甲", LON, LAT], ["乙", "", LAT]])
    frame = read_source(source, lon_col="e", lat_col="N")
    assert frame.crs.to_epsg() == 4326 and frame.attrs["crs"] == "wgs84"
    assert (
        frame.geometry.iloc[0].equals_exact(shapely.Point(LON, LAT), 1e-9)
        and frame.geometry.iloc[1] is None
    )
    (problem,) = frame.attrs["problems"]
    assert (problem.feature, problem.field) == ("row 3", "E")
    assert frame.attrs["labels"] == ["row 2", "row 3"]
    with pytest.raises(SourceReadError, match="no column 'lon2'"):
        read_source(source, lon_col="lon2", lat_col="N")
    assert np.isclose(read_source(source, lon_col="E", lat_col="N").geometry.iloc[0].x, LON)


def _plain(value: object) -> object:
    return None if value is None or value != value else value  # NaN → None


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "csv"])
def test_bundled_sample_round_trips_through_every_format(
    sample_store: Path, tmp_path: Path, fmt: str
) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    write_layer(catalogue_facilities(), "facilities", sample_store)  # the sample has none
    for layer in LAYER_NAMES:
        before = read_layer(layer, sample_store)
        if fmt == "shp" and len(set(before.geom_type)) > 1:
            continue  # refused with OptionError, tested above
        out = export_layer(layer, tmp_path / f"{layer}.{fmt}", folder=sample_store)
        report = import_layer(layer, out, folder=fresh, mode="replace")
        assert report.imported == len(before), layer
        after = read_layer(layer, fresh)
        assert after.index.tolist() == before.index.tolist(), layer
        for column in [c for c in before.columns if c != "geometry"]:
            expected = [_plain(v) for v in before[column]]
            assert [_plain(v) for v in after[column]] == expected, (layer, column)
        assert all(
            a.equals_exact(b, tolerance=1e-7)
            for a, b in zip(before.geometry, after.geometry, strict=True)
        ), layer


def test_a_geopackage_of_several_layers_says_which_it_took(store: Path, tmp_path: Path) -> None:
    first = gpd.GeoDataFrame({"id": ["g1"], "name": ["一号站"], "level": ["station"]},
                             geometry=[shapely.Point(LON, LAT)], crs=4326)  # fmt: skip
    second = first.assign(id=["g2"], name=["二号站"])
    path = tmp_path / "两层.gpkg"
    first.to_file(path, layer="first", engine="pyogrio")
    second.to_file(path, layer="second", engine="pyogrio")
    report = import_layer("clinics", path, folder=store)
    assert any("took the first, 'first'" in str(w) and "second" in str(w) for w in report.warnings)
    assert read_layer("clinics", store)["name"].tolist() == ["一号站"]
    import_layer("clinics", path, folder=store, sheet="second", mode="replace")
    assert read_layer("clinics", store)["name"].tolist() == ["二号站"]


def test_a_folder_given_as_the_file_is_named_as_such(store: Path, tmp_path: Path) -> None:
    with pytest.raises(SourceReadError, match="this is a folder"):
        import_layer("clinics", tmp_path, folder=store)


def test_feature_collections_write_each_geometry_as_json_would():
    """Every geometry kind, missing and empty ones, a collection: the text is what
    json.dumps gives of GEOS's GeoJSON (shortest floats), without that round trip."""
    from geo.layers.geojson import to_feature_collection

    hole = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (1, 2), (2, 2), (2, 1)]])
    geometries = [
        shapely.Point(121.503228, 31.3054388), None, shapely.Polygon(),
        shapely.LineString([(121.1, 31.2), (121.2, 31.3000001)]), hole,
        shapely.MultiPolygon([hole, shapely.box(10, 10, 11, 11)]),
        shapely.MultiPoint([(1, 2), (3, 4)]), shapely.MultiLineString([[(0, 0), (1, 1)]]),
        shapely.GeometryCollection([shapely.Point(1, 1)]),
    ]  # fmt: skip
    frame = gpd.GeoDataFrame({"id": [f"f{i}" for i in range(len(geometries))]},
                             geometry=geometries, crs=4326)  # fmt: skip
    features = json.loads(to_feature_collection(frame))["features"]
    lines = to_feature_collection(frame).decode().splitlines()[1:-1]
    for feature, line, geometry in zip(features, lines, geometries, strict=True):
        if geometry is None or geometry.is_empty:
            assert feature["geometry"] is None
            continue
        oriented = shapely.orient_polygons(geometry, exterior_cw=False)
        expected = json.dumps(json.loads(shapely.to_geojson(oriented)), separators=(",", ":"))
        assert f'"geometry":{expected},' in line
