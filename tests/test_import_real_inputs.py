"""Issue 12, the layers wing: real planners' files give the right answer or say why not.

Coordinate columns read in the CRS their header names; GCJ-02/BD-09 data labelled WGS-84
found against the streets; Chinese headers mapped; a column with a field's name but
another meaning named once; a bare GeoJSON geometry accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import LAT, LON
from pyproj import Geod

from geo import crs as gcrs
from geo.errors import ImportFailedError, SourceReadError
from geo.layers.imports import OptionError, import_layer
from geo.layers.store import read_layer, validate_store

GEOD = Geod(ellps="WGS84")
# Three true WGS-84 positions in Yangpu.
TRUE = [(LON, LAT), (LON + 0.004, LAT + 0.002), (LON - 0.003, LAT + 0.005)]


def _metres(a: shapely.Point, x: float, y: float) -> float:
    return float(GEOD.inv(a.x, a.y, x, y)[2])


def _offset_warnings(report_or_problems: object) -> list:
    problems = getattr(report_or_problems, "warnings", report_or_problems)
    return [p for p in problems if "--crs" in p.hint and p.field == "geometry"]


# ------------------------------------------------------------ 4. coordinate columns


def test_bd09_headed_columns_land_on_the_true_wgs84_point(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["name", "level", "经度(BD09)", "纬度(BD09)"]]
    for i, (x, y) in enumerate(TRUE):
        bx, by = gcrs.wgs84_to_bd09(x, y)
        rows.append([f"站{i}", "station", f"{bx:.9f}", f"{by:.9f}"])
    report = import_layer("clinics", write_csv(tmp_path / "baidu.csv", rows), folder=store)
    assert report.crs == "bd09"
    back = read_layer("clinics", store).sort_values("name")
    for point, (x, y) in zip(back.geometry, TRUE, strict=True):
        assert _metres(point, x, y) < 0.5
    assert not {"经度(BD09)", "纬度(BD09)"} & set(back.columns)


def test_explicit_wgs84_pair_wins_and_the_report_names_both_pairs(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["name", "level", "lng", "lat", "wgs84_lon", "wgs84_lat"]]
    for i, (x, y) in enumerate(TRUE):
        bx, by = gcrs.wgs84_to_bd09(x, y)
        rows.append([f"站{i}", "station", bx, by, x, y])
    report = import_layer("clinics", write_csv(tmp_path / "both.csv", rows), folder=store)
    assert report.crs == "wgs84"
    back = read_layer("clinics", store).sort_values("name")
    for point, (x, y) in zip(back.geometry, TRUE, strict=True):
        assert _metres(point, x, y) < 0.05
    (note,) = [w for w in report.warnings if w.field == "crs"]
    assert "used wgs84_lon/wgs84_lat" in note.message and "ignored lng/lat" in note.message
    assert "--lon-col" in note.hint
    text = report.describe()
    assert "wgs84_lon/wgs84_lat" in text and "lng/lat" in text
    assert not {"lng", "lat", "wgs84_lon", "wgs84_lat"} & set(back.columns)


def test_gaode_headed_columns_are_gcj02(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["name", "level", "高德经度", "高德纬度"]]
    gx, gy = gcrs.wgs84_to_gcj02(*TRUE[0])
    rows.append(["站", "station", f"{gx:.9f}", f"{gy:.9f}"])
    report = import_layer("clinics", write_csv(tmp_path / "amap.csv", rows), folder=store)
    assert report.crs == "gcj02"
    assert _metres(read_layer("clinics", store).geometry.iloc[0], *TRUE[0]) < 0.5


def test_header_crs_contradicting_crs_option_is_an_error_naming_both(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["name", "level", "经度(BD09)", "纬度(BD09)"], ["站", "station", LON, LAT]]
    source = write_csv(tmp_path / "baidu.csv", rows)
    with pytest.raises(SourceReadError) as info:
        import_layer("clinics", source, folder=store, crs="gcj02")
    text = str(info.value)
    assert "bd09" in text and "--crs gcj02" in text and "经度(BD09)" in text
    assert not (store / "clinics.geojson").exists()
    # The same CRS said twice is no conflict.
    assert import_layer("clinics", source, folder=store, crs="baidu").crs == "bd09"


# ------------------------------------------------------------ 5. offset detection


def _sample_areas(shift: str | None, tmp_path: Path) -> Path:
    """The sample's compounds as a file, optionally moved into GCJ-02 or BD-09."""
    doc = json.loads((Path(__file__).parent.parent / "data/layers/residential_areas.geojson")
                     .read_text(encoding="utf-8"))  # fmt: skip
    if shift is not None:
        for feature in doc["features"]:
            shape = shapely.geometry.shape(feature["geometry"])
            moved = gcrs.convert_geometries(np.array([shape], dtype=object), shift, False)[0]
            feature["geometry"] = json.loads(shapely.to_geojson(moved))
            gates = feature["properties"].get("entrances")
            if gates:
                feature["properties"]["entrances"] = gcrs.convert_pairs(gates, shift, False)
    path = tmp_path / f"areas-{shift or 'wgs84'}.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_gcj02_compounds_labelled_wgs84_are_found_against_the_streets(
    sample_store: Path, tmp_path: Path
) -> None:
    shifted = _sample_areas("gcj02", tmp_path)
    report = import_layer("residential_areas", shifted, folder=sample_store, mode="replace")
    (warning,) = _offset_warnings(report)
    assert warning.severity == "warning" and warning.file == str(shifted)
    assert "GCJ-02" in warning.message and "--crs gcj02" in warning.hint
    # validate reports the same for the stored layer, until it is imported right.
    (stored,) = _offset_warnings(validate_store(sample_store))
    assert "--crs gcj02" in stored.hint and stored.file.endswith("residential_areas.geojson")
    right = import_layer(
        "residential_areas", shifted, folder=sample_store, mode="replace", crs="gcj02"
    )
    assert _offset_warnings(right) == [] and _offset_warnings(validate_store(sample_store)) == []


def test_bd09_compounds_get_the_bd09_advice(sample_store: Path, tmp_path: Path) -> None:
    shifted = _sample_areas("bd09", tmp_path)
    report = import_layer("residential_areas", shifted, folder=sample_store, mode="replace")
    (warning,) = _offset_warnings(report)
    assert "--crs bd09" in warning.hint and "BD-09" in warning.message


def test_true_compounds_raise_no_offset_warning(sample_store: Path, tmp_path: Path) -> None:
    report = import_layer(
        "residential_areas", _sample_areas(None, tmp_path), folder=sample_store, mode="replace"
    )
    assert _offset_warnings(report) == []
    assert _offset_warnings(validate_store(sample_store)) == []


@pytest.mark.parametrize(("shift", "advice"), [(None, None), ("gcj02", "--crs gcj02")])
def test_points_are_measured_against_other_layers_without_streets(
    sample_store: Path, tmp_path: Path, shift: str | None, advice: str | None
) -> None:
    (sample_store / "streets.geojson").unlink()
    # Charging points stand inside their compounds: GCJ-02 moves them out.
    points = read_layer("charging_points", sample_store)
    geoms = np.asarray(points.geometry.values, dtype=object)
    if shift is not None:
        geoms = gcrs.convert_geometries(geoms, shift, False)
    frame = gpd.GeoDataFrame(
        points.drop(columns="geometry").reset_index(drop=True), geometry=list(geoms), crs=4326
    )
    source = tmp_path / "amap_chargers.gpkg"
    frame.to_file(source, layer="charging_points", engine="pyogrio")
    report = import_layer("charging_points", source, folder=sample_store, mode="replace")
    warnings = _offset_warnings(report)
    if advice is None:
        assert warnings == []
    else:
        (warning,) = warnings
        assert advice in warning.hint and "the other layers" in warning.message


# ------------------------------------------------------------ 6. headers


def test_chinese_headers_map_to_fields_and_the_report_says_so(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["名称", "地址", "核定床位", "所属区", "lng", "lat"]]
    rows += [
        [f"卫生站{i}", f"控江路{i}号", 10 + i, "杨浦区", x, y] for i, (x, y) in enumerate(TRUE)
    ]
    source = write_csv(tmp_path / "gaode.csv", rows)
    report = import_layer("clinics", source, folder=store, set_values={"level": "station"})
    assert report.mapped == {
        "名称": "name",
        "核定床位": "beds",
        "地址": "address",
        "所属区": "district",
    }
    assert "名称→name" in report.describe() and "renamed automatically" in report.describe()
    back = read_layer("clinics", store).sort_values("name")
    assert back["name"].tolist() == ["卫生站0", "卫生站1", "卫生站2"]
    assert back["beds"].tolist() == [10, 11, 12] and set(back["district"]) == {"杨浦区"}
    assert not {"名称", "地址", "核定床位", "所属区"} & set(back.columns)


def test_explicit_map_wins_over_the_chinese_header(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["名称", "机构全称", "lng", "lat"], ["长白站", "长白社区卫生服务站", LON, LAT]]
    source = write_csv(tmp_path / "c.csv", rows)
    report = import_layer(
        "clinics", source, folder=store, mapping={"机构全称": "name"},
        set_values={"level": "station"},
    )  # fmt: skip
    assert report.mapped == {}
    row = read_layer("clinics", store).iloc[0]
    assert row["name"] == "长白社区卫生服务站" and row["名称"] == "长白站"


def test_a_column_meaning_something_else_is_named_once_with_drop_and_map(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    # Baidu geocoding results: `level` is how precise the position is, not a clinic level.
    rows = [["name", "level", "confidence", "lng", "lat"]]
    rows += [[f"站{i}", p, 80, x, y] for i, ((x, y), p) in enumerate(
        zip(TRUE, ["门址", "道路", "门址"], strict=True))]  # fmt: skip
    source = write_csv(tmp_path / "baidu_geocoded.csv", rows)
    with pytest.raises(ImportFailedError) as info:
        import_layer("clinics", source, folder=store)
    (error,) = info.value.errors
    assert (error.file, error.feature, error.field) == (str(source), None, "level")
    assert "'level'" in error.message and "门址" in error.message
    assert "--drop level" in error.hint and "--map level=" in error.hint
    report = import_layer(
        "clinics", source, folder=store, drop=["level"], set_values={"level": "station"}
    )
    assert report.imported == 3 and report.dropped == ["level"]
    assert "--drop" in report.describe()
    assert set(read_layer("clinics", store)["level"]) == {"station"}


def test_drop_checks_its_columns(store: Path, tmp_path: Path, write_csv) -> None:
    source = write_csv(
        tmp_path / "c.csv", [["name", "level", "lng", "lat"], ["a", "station", LON, LAT]]
    )
    with pytest.raises(ImportFailedError) as info:
        import_layer("clinics", source, folder=store, drop=["levle"])
    assert info.value.problems[0].field == "levle" and "--drop" in info.value.summary
    with pytest.raises(OptionError):
        import_layer("clinics", source, folder=store, drop=["level"], mapping={"level": "x"})


def test_a_required_field_no_column_holds_is_one_error_listing_the_columns(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["title", "lng", "lat"]] + [[f"站{i}", x, y] for i, (x, y) in enumerate(TRUE)]
    source = write_csv(tmp_path / "c.csv", rows)
    with pytest.raises(ImportFailedError) as info:
        import_layer("clinics", source, folder=store, set_values={"level": "station"})
    (error,) = info.value.errors
    assert (error.feature, error.field) == (None, "name")
    assert "--map COLUMN=name" in error.hint and "title" in error.hint


def test_bare_geometry_geojson_is_one_feature(store: Path, tmp_path: Path) -> None:
    source = tmp_path / "point.geojson"
    source.write_text(json.dumps({"type": "Point", "coordinates": [LON, LAT]}), encoding="utf-8")
    report = import_layer(
        "clinics", source, folder=store, set_values={"name": "长白站", "level": "station"}
    )
    assert report.imported == 1
    back = read_layer("clinics", store)
    assert back.geometry.iloc[0].equals_exact(shapely.Point(LON, LAT), 1e-9)


def test_a_column_of_typos_is_still_reported_row_by_row(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["name", "level", "lng", "lat"]]
    rows += [[f"站{i}", "statoin", x, y] for i, (x, y) in enumerate(TRUE)]
    with pytest.raises(ImportFailedError) as info:
        import_layer("clinics", write_csv(tmp_path / "t.csv", rows), folder=store)
    assert [(p.feature, p.field) for p in info.value.errors] == [
        ("row 2", "level"), ("row 3", "level"), ("row 4", "level"),
    ]  # fmt: skip
    assert all("did you mean 'station'" in p.hint for p in info.value.errors)


@pytest.mark.parametrize(("shift", "advice"), [(None, None), ("gcj02", "--crs gcj02")])
def test_real_osm_outlines_beside_the_wujiaochang_streets(
    shift: str | None, advice: str | None, tmp_path: Path
) -> None:
    """The real case: 五角场's OpenStreetMap compound outlines, as a file labelled WGS-84,
    imported into a store holding only the real OpenStreetMap streets. Moved into GCJ-02
    (what an Amap download is) they must raise the advice; true, they must not."""
    study = Path(__file__).parent.parent / "data" / "studies" / "wujiaochang"
    store = tmp_path / "streets-only"
    store.mkdir()
    (store / "streets.osm").write_bytes((study / "streets.osm").read_bytes())
    doc = json.loads((study / "residential_areas.geojson").read_text(encoding="utf-8"))
    if shift is not None:
        for feature in doc["features"]:
            shape = shapely.geometry.shape(feature["geometry"])
            moved = gcrs.convert_geometries(np.array([shape], dtype=object), shift, False)[0]
            feature["geometry"] = json.loads(shapely.to_geojson(moved))
    source = tmp_path / "小区.geojson"
    source.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    report = import_layer("residential_areas", source, folder=store)
    warnings = _offset_warnings(report)
    if advice is None:
        assert warnings == [] and report.imported == len(doc["features"])
    else:
        (warning,) = warnings
        assert advice in warning.hint and "GCJ-02" in warning.message


# ------------------------------------------------------------ review: points, headers, advice

STUDY = Path(__file__).parent.parent / "data" / "studies" / "wujiaochang"


def _study_store(tmp_path: Path, *layers: str) -> Path:
    """A store holding copies of the real study's streets and the given layers."""
    folder = tmp_path / "study-store"
    folder.mkdir(exist_ok=True)
    (folder / "streets.osm").write_bytes((STUDY / "streets.osm").read_bytes())
    for name in layers:
        (folder / f"{name}.geojson").write_bytes((STUDY / f"{name}.geojson").read_bytes())
    return folder


def _study_file(layer: str, shift: str | None, tmp_path: Path, keep: slice = slice(None)) -> Path:
    """One of the study's layers as a file labelled WGS-84, optionally moved into GCJ-02 or
    BD-09 (what an Amap or Baidu download is)."""
    doc = json.loads((STUDY / f"{layer}.geojson").read_text(encoding="utf-8"))
    doc["features"] = doc["features"][keep]
    for feature in doc["features"]:
        if shift is not None:
            shape = shapely.geometry.shape(feature["geometry"])
            moved = gcrs.convert_geometries(np.array([shape], dtype=object), shift, False)[0]
            feature["geometry"] = json.loads(shapely.to_geojson(moved))
    path = tmp_path / f"{layer}-{shift or 'wgs84'}.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("shift", [None, "gcj02", "bd09"])
@pytest.mark.parametrize("layer", ["clinics", "charging_points"])
def test_real_points_against_the_real_streets_never_get_wrong_advice(
    layer: str, shift: str | None, tmp_path: Path
) -> None:
    """Few points against a street network say little (the true charging points' best
    conversion was 0.53 of as-is; BD-09 ones got `--crs gcj02`): no advice, never wrong."""
    store = _study_store(tmp_path)
    report = import_layer(layer, _study_file(layer, shift, tmp_path), folder=store)
    warnings = _offset_warnings(report)
    if shift is None:
        assert warnings == []
    for warning in warnings:
        assert f"--crs {shift}" in warning.hint
    wrong = {"gcj02": "--crs bd09", "bd09": "--crs gcj02"}.get(shift or "", "--crs")
    assert not any(wrong in w.hint for w in warnings)


@pytest.mark.parametrize(("shift", "advice"), [(None, None), ("bd09", "--crs bd09")])
def test_charging_points_are_judged_in_the_real_compounds(
    shift: str | None, advice: str | None, tmp_path: Path
) -> None:
    """Charging points stand inside compounds: with the compounds in the store they are
    measured against them (true 0 m; as BD-09 229 m, 0 m converted, 310 m from GCJ-02)."""
    store = _study_store(tmp_path, "residential_areas")
    report = import_layer(
        "charging_points", _study_file("charging_points", shift, tmp_path), folder=store
    )
    warnings = _offset_warnings(report)
    if advice is None:
        assert warnings == []
    else:
        (warning,) = warnings
        assert advice in warning.hint and "BD-09" in warning.message
        assert "residential_areas" in warning.message and "--crs gcj02" not in warning.hint


def test_gcj02_charging_points_in_the_real_compounds_get_no_bd09_advice(tmp_path: Path) -> None:
    store = _study_store(tmp_path, "residential_areas")
    shifted = _study_file("charging_points", "gcj02", tmp_path)
    report = import_layer("charging_points", shifted, folder=store)
    assert not any("--crs bd09" in w.hint for w in _offset_warnings(report))


def test_bd09_compounds_beside_the_real_streets_get_the_bd09_advice(tmp_path: Path) -> None:
    """As BD-09 the outlines are 55 m from a street, 47 m from GCJ-02, 10 m from BD-09."""
    store = _study_store(tmp_path)
    report = import_layer(
        "residential_areas", _study_file("residential_areas", "bd09", tmp_path), folder=store
    )
    (warning,) = _offset_warnings(report)
    assert "--crs bd09" in warning.hint and "--crs gcj02" not in warning.hint


def test_the_real_study_validates_without_offset_warnings(tmp_path: Path) -> None:
    layers = ["clinics", "charging_points", "residential_areas", "neighbor_centers"]
    store = _study_store(tmp_path, *layers, "renovation_projects")
    assert _offset_warnings(validate_store(store)) == []


@pytest.mark.parametrize(
    ("lon", "lat", "crs"),
    [
        ("经度(GCJ02)", "纬度", "gcj02"),
        ("经度", "纬度(BD09)", "bd09"),
        ("lng_gcj02", "lat", "gcj02"),
    ],
)
def test_one_column_naming_the_crs_names_it_for_the_pair(
    lon: str, lat: str, crs: str, store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    to = gcrs.wgs84_to_gcj02 if crs == "gcj02" else gcrs.wgs84_to_bd09
    rows = [["name", "level", lon, lat]]
    for i, (x, y) in enumerate(TRUE):
        sx, sy = to(x, y)
        rows.append([f"站{i}", "station", f"{sx:.9f}", f"{sy:.9f}"])
    report = import_layer("clinics", write_csv(tmp_path / "half.csv", rows), folder=store)
    assert report.crs == crs
    back = read_layer("clinics", store).sort_values("name")
    for point, (x, y) in zip(back.geometry, TRUE, strict=True):
        assert _metres(point, x, y) < 0.5
    assert not {lon, lat} & set(back.columns)


def test_lon_and_lat_naming_different_crs_are_still_no_pair(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["name", "level", "lng_gcj02", "lat_bd09"], ["站", "station", LON, LAT]]
    with pytest.raises(SourceReadError):
        import_layer("clinics", write_csv(tmp_path / "mixed.csv", rows), folder=store)


def test_a_named_half_does_not_steal_from_an_unnamed_pair(
    store: Path, tmp_path: Path, write_csv: Callable[..., Path]
) -> None:
    rows = [["name", "level", "lng", "lat", "lng_gcj02"], ["站", "station", LON, LAT, LON + 0.1]]
    report = import_layer("clinics", write_csv(tmp_path / "t.csv", rows), folder=store)
    assert report.crs == "wgs84"
    assert _metres(read_layer("clinics", store).geometry.iloc[0], LON, LAT) < 0.05


def test_offset_advice_after_an_append_to_a_filled_layer_does_not_say_replace(
    tmp_path: Path,
) -> None:
    """`--mode replace` would delete the rows the layer held before the append."""
    store = _study_store(tmp_path)
    first = _study_file("residential_areas", None, tmp_path, slice(0, 3))
    import_layer("residential_areas", first, folder=store)
    shifted = _study_file("residential_areas", "gcj02", tmp_path, slice(3, None))
    report = import_layer("residential_areas", shifted, folder=store)
    (warning,) = _offset_warnings(report)
    assert "--crs gcj02" in warning.hint and "--mode replace" in warning.hint
    assert "不要用 --mode replace" in warning.hint and "do not use --mode replace" in warning.hint
    assert "删除刚导入的 75 条" in warning.hint and "delete the 75 features" in warning.hint
    assert warning.hint.index("删除") < warning.hint.index("delete")  # Chinese first
    assert not warning.hint.rstrip().endswith("--mode replace")


@pytest.mark.parametrize("mode", ["append", "replace"])
def test_offset_advice_says_replace_when_nothing_else_is_lost(mode: str, tmp_path: Path) -> None:
    store = _study_store(tmp_path)
    if mode == "replace":  # the layer held rows; replace drops them anyway
        import_layer(
            "residential_areas", _study_file("residential_areas", None, tmp_path), folder=store
        )
    shifted = _study_file("residential_areas", "gcj02", tmp_path)
    report = import_layer("residential_areas", shifted, folder=store, mode=mode)
    (warning,) = _offset_warnings(report)
    assert warning.hint.endswith("--crs gcj02 --mode replace")
    assert "do not use" not in warning.hint
