"""Hostile input meets a wall: a gallery of files and requests that must be refused.

For each hostile file: the command's exit status, a bilingual message naming the field,
no traceback, and the store byte for byte as it was. Then what is let through but made
harmless: spreadsheet formulas (kept on import, neutralised on export, a property test),
a file outside the study region with ``--allow-outside``, leftovers of killed writes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import openpyxl
import pytest
import shapely
from conftest import LAT, LON, clinic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from served import serving

from api.main import create_app
from geo.cli import main
from geo.layers.cells import FORMULA_TRIGGERS, safe_cell
from geo.layers.exports import export_layer
from geo.layers.folder import FolderStore
from geo.layers.store import read_layer, validate_store, write_layer
from geo.network.readers import read_network
from geo.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "hostile-input-token"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of the store and its hash (the lock file aside: it only exists)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != ".lifecircle.lock"
    }


@pytest.fixture
def clinics_folder(store: Path, write_geojson: Callable[..., Path]) -> Path:
    write_geojson(
        store / "clinics.geojson", [clinic("C1", "长白站"), clinic("C2", "延吉站", LON + 0.01)]
    )
    return store


def _feature_file(path: Path, props: dict[str, Any], lon: float = LON, lat: float = LAT) -> Path:
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": "站", "level": "station", **props},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8")
    return path


def _text_file(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def _deep_json(path: Path) -> Path:
    path.write_text(
        '{"type": "FeatureCollection", "features": ' + "[" * 200_000 + "]" * 200_000 + "}"
    )
    return path


def _wide_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "lon", "lat", "level", "note"])
    for _ in range(400):  # the same long note compresses to almost nothing
        sheet.append(["站", LON, LAT, "station", "长" * 1000])
    book.save(path)
    return path


def _far_cell_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "lon", "lat", "level"])
    sheet.append(["站", LON, LAT, "station"])
    sheet["XFD1048576"] = "x"  # 5 KB on disk; 17 billion cells once a reader pads the rows
    book.save(path)
    return path


def _huge_line_csv(path: Path) -> Path:
    with open(path, "wb") as handle:
        handle.write(b"name,lon,lat,level\n")
        handle.truncate(handle.tell() + 64 * 1024 * 1024)  # 64 MiB of NUL: sparse, no newline
    return path


#: (case, file maker, layer, extra CLI options, environment, words the message must hold)
GALLERY: list[tuple[str, Callable[[Path], Path], str, list[str], dict[str, str], list[str]]] = [
    ("sparse 64 MiB line", lambda d: _huge_line_csv(d / "sparse.csv"), "clinics", [], {},
     ["line 2", "超过", "LIFECIRCLE_MAX_LINE_BYTES"]),
    ("file over the size limit", lambda d: _text_file(d / "big.csv", "name,lon,lat\n" + "a,1,2\n" * 40_000),
     "clinics", [], {"LIFECIRCLE_MAX_FILE_BYTES": "100000"}, ["file too large", "文件过大", "MAX_FILE_BYTES"]),
    ("workbook unpacking past the limit", lambda d: _wide_workbook(d / "wide.xlsx"), "clinics", [],
     {"LIFECIRCLE_MAX_FILE_BYTES": "300000"}, ["unpacked, the workbook is", "文件过大（解压后"]),
    ("workbook with a cell at XFD1048576", lambda d: _far_cell_workbook(d / "far.xlsx"), "clinics", [], {},
     ["1048576 rows × 16384 columns", "XFD1048576", "表格过大"]),
    ("CSV of 100,000 columns", lambda d: _text_file(d / "wide.csv", "name,lon,lat" + ",x" * 100_000 + "\n" + "站,1,2\n" * 200),
     "clinics", [], {}, ["100003 columns", "LIFECIRCLE_MAX_TABLE_CELLS"]),
    ("WKT nesting bomb (GEOS would crash)", lambda d: _text_file(d / "wkt.csv", 'name,wkt,level\n站,"' + "GEOMETRYCOLLECTION (" * 40_000 + "POINT (121.5 31.2)" + ")" * 40_000 + '",station\n'),
     "clinics", [], {}, ["row 2", "'wkt'", "unreadable coordinate", "GEOMETRYCOLLECTION (GEOMETRY"]),
    ("JSON nesting bomb", lambda d: _deep_json(d / "bomb.geojson"), "clinics", [], {},
     ["nested deeper than 32", "嵌套过深"]),
    ("beds 1e308", lambda d: _feature_file(d / "beds.geojson", {"beds": 1e308}), "clinics", [], {},
     ["'beds'", "64-bit", "超出"]),
    ("beds 1e308 in a CSV", lambda d: _text_file(d / "beds.csv", f"name,lon,lat,level,beds\n站,{LON},{LAT},station,1e308\n"),
     "clinics", [], {}, ["'beds'", "row 2", "64-bit"]),
    ("beds beyond plausible", lambda d: _feature_file(d / "plausible.geojson", {"beds": 50_000}), "clinics", [], {},
     ["'beds'", "plausible", "合理范围"]),
    ("a 5000-digit number", lambda d: _text_file(d / "digits.geojson", '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[121.5,31.2]},"properties":{"beds":1' + "0" * 5000 + "}}]}"),
     "clinics", [], {}, ["number cannot be read", "数字"]),
    ("floor area 1e400 (infinite)", lambda d: _text_file(d / "inf.geojson", '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[121.55,31.29]},"properties":{"name":"中心","subdistrict":"长白新村街道","kind":"centre","health_station":true,"floor_area_m2":1e400}}]}'),
     "neighbor_centers", [], {}, ["'floor_area_m2'", "finite"]),
    ("infinite extra property", lambda d: _text_file(d / "inf_extra.geojson", '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[121.55,31.29]},"properties":{"name":"站","level":"station","score":-1e400}}]}'),
     "clinics", [], {}, ["'score'", "not finite"]),
    ("id '.'", lambda d: _feature_file(d / "dot.geojson", {"id": "."}), "clinics", [], {},
     ["'id'", "must not be . or .."]),
    ("id '..'", lambda d: _feature_file(d / "dotdot.geojson", {"id": ".."}), "clinics", [], {},
     ["'id'", "编号不可为 . 或 .."]),
    ("id with a query mark", lambda d: _feature_file(d / "query.geojson", {"id": "a?b=1"}), "clinics", [], {},
     ["'id'", "web address"]),
    ("object in a text field", lambda d: _feature_file(d / "nested.geojson", {"name": {"zh": "站"}}), "clinics", [], {},
     ["'name'", "nested object", "嵌套"]),
    ("list in a text field", lambda d: _feature_file(d / "listed.geojson", {"address": ["a", "b"]}), "clinics", [], {},
     ["'address'", "nested object"]),
    ("object in an extra property", lambda d: _feature_file(d / "extra.geojson", {"meta": {"a": {"b": 1}}}), "clinics", [], {},
     ["'meta'", "nested object"]),
    ("text over the limit", lambda d: _feature_file(d / "long.geojson", {"note": "备" * 5000}), "clinics", [], {},
     ["'note'", "5000", "more than 2000"]),
    ("point in the East China Sea", lambda d: _text_file(d / "sea.csv", "name,lon,lat,level\n海上站,123.6,30.2,station\n"),
     "clinics", [], {}, ["'geometry'", "outside the study region", "--allow-outside"]),
    ("study region set elsewhere", lambda d: _text_file(d / "here.csv", f"name,lon,lat,level\n站,{LON},{LAT},station\n"),
     "clinics", [], {"LIFECIRCLE_STUDY_REGION": "[116.0, 39.5, 117.0, 40.5]", "LIFECIRCLE_STUDY_MARGIN_KM": "0"},
     ["outside the study region", "116.00"]),
    ("binary garbage as GeoJSON", lambda d: (d / "garbage.geojson").write_bytes(bytes(range(256)) * 64) and d / "garbage.geojson",
     "clinics", [], {}, ["not valid JSON", "不是有效的 JSON"]),
    ("control character in an id", lambda d: _feature_file(d / "ctl.geojson", {"id": "a\u0000b"}), "clinics", [], {},
     ["'id'", "control characters"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "layer", "options", "env", "words"),
    [case[1:] for case in GALLERY],
    ids=[case[0] for case in GALLERY],
)
def test_gallery_file_is_refused_and_the_store_is_unchanged(
    clinics_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path], Path],
    layer: str,
    options: list[str],
    env: dict[str, str],
    words: list[str],
) -> None:
    source = make(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    before = snapshot(clinics_folder)
    status = main(["import", layer, str(source), "--data", str(clinics_folder), *options])
    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback" not in err and "Error:" not in err.split("lifecircle:", 1)[0]
    for word in words:
        assert word in err, (word, err[:2000])
    assert any("\u4e00" <= c <= "\u9fff" for c in err)  # Chinese first, English too
    assert len(err) < 20_000  # never the hostile content echoed back
    assert snapshot(clinics_folder) == before


def _stored_huge_beds(folder: Path) -> None:
    doc = json.loads((folder / "clinics.geojson").read_text("utf-8"))
    doc["features"][0]["properties"]["beds"] = 10**310  # 311 digits, as a hand edit leaves it
    (folder / "clinics.geojson").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")


def _stored_bomb(folder: Path) -> None:
    (folder / "clinics.geojson").write_text(
        '{"type": "FeatureCollection", "features": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )


#: Data edited by hand into the store, then read by a command: (case, damage, command, words)
STORED: list[tuple[str, Callable[[Path], None], list[str], list[str]]] = [
    ("export gpkg of a 311-digit integer", _stored_huge_beds, ["export", "clinics", "--format", "gpkg"],
     ["beds", "C1", "does not fit"]),
    ("export shp of a 311-digit integer", _stored_huge_beds, ["export", "clinics", "--format", "shp"],
     ["beds", "C1", "does not fit"]),
    ("validate a 311-digit integer", _stored_huge_beds, ["validate"], ["'beds'", "64-bit range", "超出范围"]),
    ("validate a stored nesting bomb", _stored_bomb, ["validate"], ["嵌套过深", "nested deeper"]),
    ("export a stored nesting bomb", _stored_bomb, ["export", "clinics", "--format", "csv"], ["nested deeper"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("damage", "command", "words"), [c[1:] for c in STORED], ids=[c[0] for c in STORED]
)
def test_gallery_stored_damage_is_a_message_not_a_crash(
    clinics_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], None], command: list[str], words: list[str],
) -> None:  # fmt: skip
    damage(clinics_folder)
    before = snapshot(clinics_folder)
    out = ["--out", str(tmp_path / f"out.{command[3]}")] if command[0] == "export" else []
    status = main([*command, "--data", str(clinics_folder), *out])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert status == 1
    assert "Traceback" not in text and "OverflowError" not in text and "RecursionError" not in text
    for word in words:
        assert word in text, (word, text[:2000])
    assert len(text) < 20_000
    assert snapshot(clinics_folder) == before
    assert not list(tmp_path.glob("out.*"))  # nothing half-written either


def test_a_file_of_thousands_of_bad_rows_gives_a_report_a_person_can_read(
    clinics_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "".join(f"站{i},{LON + i * 1e-4},{LAT},station,很多\n" for i in range(3000))
    source = _text_file(tmp_path / "bad_rows.csv", "name,lon,lat,level,beds\n" + rows)
    before = snapshot(clinics_folder)
    assert main(["import", "clinics", str(source), "--data", str(clinics_folder)]) == 1
    err = capsys.readouterr().err
    assert "row 2 · field 'beds'" in err and "row 201 · field 'beds'" in err
    assert "row 202 · field 'beds'" not in err
    assert "2800 more not shown" in err and "另有 2800 条未列出" in err
    assert len(err.splitlines()) < 220
    assert snapshot(clinics_folder) == before


def test_a_sparse_1_gb_file_fails_in_seconds_in_little_memory(
    clinics_folder: Path, tmp_path: Path
) -> None:
    source = tmp_path / "sparse.csv"
    with open(source, "wb") as handle:
        handle.truncate(1 << 30)
    before = snapshot(clinics_folder)
    # VmHWM is this process's own peak (ru_maxrss would carry over the forking parent's). The
    # imports alone are 210-290 MB of it, depending on how much of numba's 180 MB shared
    # library the kernel maps in (a freshly installed one: more), so the file's own cost is
    # the peak above what the process held once its modules were loaded.
    script = (
        "import sys\n"
        "from geo.cli import main\n"
        "import geo.layers.imports, geo.layers.sources\n"
        "def mem(key):\n"
        "    return int([l for l in open('/proc/self/status') if l.startswith(key)][0].split()[1])\n"
        "base = mem('VmRSS')\n"
        "status = main(sys.argv[1:])\n"
        "print('maxrss_kb', mem('VmHWM'), 'base_kb', base, file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", script, "import", "clinics", str(source), "--data", str(clinics_folder)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "文件过大" in run.stderr and "file too large: the file is 1024.0 MiB" in run.stderr
    numbers = run.stderr.rsplit("maxrss_kb", 1)[1].split()
    maxrss_mb, base_mb = int(numbers[0]) / 1024, int(numbers[2]) / 1024
    # the 1 GB file costs next to nothing: refused by its size, never read
    assert seconds < 30 and maxrss_mb - base_mb < 50, (seconds, maxrss_mb, base_mb)
    assert len(run.stderr) < 5000
    assert snapshot(clinics_folder) == before


def _graphml(geometry: str, name: str = "国定路") -> str:
    """One edge between two nodes, as osmnx.save_graphml writes it (strings throughout)."""
    keys = "".join(
        f'<key id="{k}" for="{on}" attr.name="{k}" attr.type="string"/>'
        for k, on in [("x", "node"), ("y", "node"), ("geometry", "edge"), ("name", "edge")]
    )
    nodes = "".join(
        f'<node id="{i}"><data key="x">{x}</data><data key="y">31.3</data></node>'
        for i, x in [(1, 121.5), (2, 121.501)]
    )
    edge = f'<edge source="1" target="2"><data key="geometry">{geometry}</data><data key="name">{name}</data></edge>'
    return f'<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">{keys}<graph edgedefault="directed">{nodes}{edge}</graph></graphml>'


GRAPHML_GALLERY: list[tuple[str, str, list[str]]] = [
    # GEOS parses nested WKT recursively: this one ended the process before it was refused
    ("WKT nested 100,000 deep", _graphml("GEOMETRYCOLLECTION (" * 100_000 + "POINT (1 2)" + ")" * 100_000), ["边 1→2", "GEOMETRYCOLLECTION"]),
    ("WKT that is not WKT", _graphml("LINESTRING (121.5 31.3, banana)"), ["边 1→2", "banana"]),
    ("a point for a street", _graphml("POINT (121.5 31.3)"), ["edge 1→2", "must be a LineString"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "words"), [c[1:] for c in GRAPHML_GALLERY], ids=[c[0] for c in GRAPHML_GALLERY]
)
def test_hostile_graphml_is_refused_with_the_edge_named(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    source = tmp_path / "streets.graphml"
    source.write_text(text, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "geo.cli", "network", "info", "--file", str(source)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 1, (run.returncode, run.stderr[-500:])
    assert "Traceback" not in run.stderr
    assert "streets.graphml" in run.stderr and all(w in run.stderr for w in words), run.stderr
    assert len(run.stderr) < 5000


def test_a_deeply_nested_name_in_graphml_is_kept_as_text(tmp_path: Path) -> None:
    """osmnx writes merged names as a list's repr; one nested past Python's parser is text."""
    source = tmp_path / "streets.graphml"
    source.write_text(_graphml("LINESTRING (121.5 31.3, 121.501 31.3)", "[" * 5000 + "]" * 5000))
    network = read_network(source)
    assert network.n_edges == 1


# ------------------------------------------------------------------- let through, harmless

FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1", "-2+3", "\r=1"]  # fmt: skip


def test_formulas_are_kept_on_import_and_neutralised_on_export(store: Path, tmp_path: Path) -> None:
    rows = [["name", "lon", "lat", "level", "note", "beds"]]
    rows += [
        [f"站{i}", LON + i * 0.001, LAT, "station", text, -0 if i else 3]
        for i, text in enumerate(FORMULAS)
    ]
    source = tmp_path / "formulas.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    assert main(["import", "clinics", str(source), "--data", str(store)]) == 0
    stored = read_layer("clinics", store)
    assert sorted(stored["note"]) == sorted(FORMULAS)  # the leading TAB and CR are kept

    out = export_layer("clinics", tmp_path / "out.csv", folder=store, fmt="csv")
    table = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    notes = [row[table[0].index("note")] for row in table[1:]]
    assert sorted(notes) == sorted("'" + text for text in FORMULAS)
    assert all(not cell.startswith(FORMULA_TRIGGERS) for row in table for cell in row)


def test_served_gap_tables_neutralise_formulas(sample_store: Path) -> None:
    path = sample_store / "residential_areas.geojson"
    doc = json.loads(path.read_text("utf-8"))
    for feature in doc["features"]:
        feature["properties"]["name"] = '=HYPERLINK("http://evil.example")'
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    app = create_app(Settings(data=sample_store, network="none", warm=False))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        text = http.get("/gaps.csv?type=clinics&minutes=clinics=1").content.decode("utf-8-sig")
        book = openpyxl.load_workbook(
            io.BytesIO(http.get("/gaps.xlsx?type=clinics&minutes=clinics=1").content)
        )
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 1
    assert all(not cell.startswith(FORMULA_TRIGGERS) for row in rows for cell in row)
    assert any(cell == '\'=HYPERLINK("http://evil.example")' for row in rows for cell in row)
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert not [c for c in cells if c.data_type == "f"]
    assert not [
        c for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_TRIGGERS)
    ]


_TEXT = st.one_of(
    st.text(max_size=12),
    st.builds(lambda t, s: t + s, st.sampled_from(FORMULA_TRIGGERS), st.text(max_size=8)),
)
_CELL = st.one_of(
    _TEXT, st.integers(-(2**40), 2**40), st.floats(-1e9, 1e9), st.none(), st.booleans()
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(_TEXT.filter(lambda t: t.strip(" \u3000") != ""), min_size=1, max_size=5),
    extra=st.lists(_CELL, min_size=5, max_size=5),
    column=_TEXT.filter(lambda t: t.strip() != "" and t not in ("lon", "lat", "wkt")),
)
def test_exported_csv_and_xlsx_never_begin_a_cell_with_a_trigger(
    tmp_path_factory: pytest.TempPathFactory, names: list[str], extra: list[Any], column: str
) -> None:
    folder = tmp_path_factory.mktemp("cells")
    frame = gpd.GeoDataFrame(
        {"id": [f"c{i}" for i in range(len(names))], "name": names, "level": "station",
         "beds": [-(i + 1) for i in range(len(names))], column: extra[: len(names)]},
        geometry=[shapely.Point(LON + i * 0.01, LAT) for i in range(len(names))], crs="EPSG:4326",
    )  # fmt: skip
    write_layer(frame, "clinics", folder, validate=False)
    out = export_layer("clinics", folder / "out.csv", folder=folder, fmt="csv")
    table = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    for row in table:
        for cell in row:
            if cell.startswith(FORMULA_TRIGGERS):
                float(cell)  # only a number may start with "-": it is a number, not a formula
    book = openpyxl.Workbook()
    for row in table:  # as the report workbook and /gaps.xlsx write their rows
        book.active.append([safe_cell(_number_or_text(cell)) for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    for row in openpyxl.load_workbook(buffer).active.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(FORMULA_TRIGGERS), cell.value


def _number_or_text(cell: str) -> Any:
    try:
        return float(cell)
    except ValueError:
        return cell


def test_outside_points_import_with_allow_outside(store: Path, tmp_path: Path, capsys) -> None:
    source = _text_file(tmp_path / "sea.csv", "name,lon,lat,level\n海上站,123.6,30.2,station\n")
    assert main(["import", "clinics", str(source), "--data", str(store), "--allow-outside"]) == 0
    assert "outside the study region" in capsys.readouterr().out  # still said, as a warning
    assert len(read_layer("clinics", store)) == 1


# --------------------------------------------------------------------- leftovers of writes


def test_leftover_temp_files_are_removed_on_opening_and_reported(clinics_folder: Path) -> None:
    for n in range(3):
        (clinics_folder / f".clinics.geojson.killed{n}.tmp").write_bytes(b'{"type": "Featu')
    keep = clinics_folder / ".notes.tmp"  # not ours: left alone
    keep.write_text("x")
    store = FolderStore(clinics_folder)
    assert sorted(p.name for p in clinics_folder.glob(".clinics*.tmp")) == []
    assert keep.exists()
    said = store.leftovers()
    assert len(said) == 1 and said[0].severity == "warning"
    assert "removed 3 temporary files" in said[0].message and "已删除 3 个" in said[0].message


def test_leftovers_of_a_live_writer_are_not_touched(clinics_folder: Path) -> None:
    from filelock import FileLock

    leftover = clinics_folder / ".clinics.geojson.live0001.tmp"
    leftover.write_bytes(b"half")
    with FileLock(str(clinics_folder / ".lifecircle.lock")):
        store = FolderStore(clinics_folder)  # a writer holds the lock: its file must stay
        assert leftover.exists()
        problems = [p for p in validate_store(store) if "temporary files" in p.message]
    assert len(problems) == 1 and "1 temporary files of writes in progress" in problems[0].message


def test_the_service_removes_leftovers_when_it_starts(clinics_folder: Path) -> None:
    leftover = clinics_folder / ".clinics.geojson.k1ll3d.tmp"
    leftover.write_bytes(b'{"type": "FeatureCollection", "features": [')
    before = (clinics_folder / "clinics.geojson").read_bytes()
    create_app(Settings(data=clinics_folder, network="none", warm=False))
    assert not leftover.exists()
    assert (clinics_folder / "clinics.geojson").read_bytes() == before


def test_validate_reports_leftovers(clinics_folder: Path, capsys) -> None:
    (clinics_folder / ".clinics.geojson.abc.tmp").write_bytes(b"x")
    assert main(["validate", "--data", str(clinics_folder)]) == 0
    assert "removed 1 temporary files left by interrupted writes" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the service


@pytest.fixture
def served(clinics_folder: Path) -> Iterator[tuple[httpx.Client, str]]:
    app = create_app(Settings(data=clinics_folder, api_token=TOKEN, network="none", warm=False,
                              body_timeout_s=1.0))  # fmt: skip
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/geo+json"}
    with serving(app) as url, httpx.Client(base_url=url, timeout=20, headers=headers) as http:
        yield http, url


def _body(**props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [LON, LAT]},
            "properties": {"name": "新站", "level": "station", **props}}  # fmt: skip


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


API_GALLERY: list[tuple[str, bytes, int, list[str]]] = [
    ("nesting bomb", b"[" * 100_000 + b"]" * 100_000, 400, ["nested deeper than 32"]),
    ("deep properties", json.dumps(_body(note=_nested(40))).encode(), 400, ["nested deeper"]),
    ("beds 1e308", json.dumps(_body(beds=1e308)).encode(), 422, ["beds"]),
    ("id '.'", json.dumps(_body(id=".")).encode(), 422, ["id"]),
    ("id '..'", json.dumps(_body(id="..")).encode(), 422, ["id"]),
    ("object in name", json.dumps(_body(name={"a": 1})).encode(), 422, ["name"]),
    ("text over the limit", json.dumps(_body(note="长" * 3000)).encode(), 422, ["note"]),
    ("East China Sea", json.dumps({**_body(), "geometry": {"type": "Point", "coordinates": [123.6, 30.2]}}).encode(), 422, ["geometry"]),
]  # fmt: skip


@pytest.mark.parametrize("gates", [[[{}, 0]], [["a", "b"]], [[[1], [2]]], [[None, 31.3]]])
def test_gates_that_are_not_pairs_of_numbers_are_a_422_not_a_500(
    served: tuple[httpx.Client, str], gates: Any
) -> None:
    http, _ = served
    ring = [[LON, LAT], [LON + 0.001, LAT], [LON + 0.001, LAT + 0.001], [LON, LAT]]
    area = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"name": "小区", "subdistrict": "长白新村街道", "district": "杨浦区",
                           "households": 10, "population": 20, "elderly": 5, "built": 1990,
                           "tenure": "商品房", "entrances": gates}}  # fmt: skip
    answer = http.post("/collections/residential_areas/items", json=area)
    assert answer.status_code == 422, answer.text[:300]
    assert any(e["field"] == "entrances" for e in answer.json()["errors"])


def test_a_ring_whose_heights_differ_at_its_ends_is_no_500(
    served: tuple[httpx.Client, str],
) -> None:
    # closed in plan, not in 3D: transformed for the plausibility checks it used to break
    http, _ = served
    ring = [[LON, LAT, 0], [LON + 0.001, LAT, 1], [LON + 0.001, LAT + 0.001, 2], [LON, LAT, 9]]
    degenerate = [[LON, LAT], [LON, LAT], [LON, LAT, 3], [LON, LAT, 4]]
    for rings in ([ring], [degenerate]):
        area = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": rings},
                "properties": {"name": "小区", "subdistrict": "长白新村街道", "district": "杨浦区",
                               "households": 10, "population": 20, "elderly": 5, "built": 1990,
                               "tenure": "商品房"}}  # fmt: skip
        answer = http.post("/collections/residential_areas/items", json=area)
        assert answer.status_code in (201, 409, 422), answer.text[:300]


@pytest.mark.parametrize(
    ("body", "status", "words"), [c[1:] for c in API_GALLERY], ids=[c[0] for c in API_GALLERY]
)
def test_api_refuses_hostile_bodies_without_a_500(
    served: tuple[httpx.Client, str],
    clinics_folder: Path,
    body: bytes,
    status: int,
    words: list[str],
) -> None:
    http, _ = served
    before = snapshot(clinics_folder)
    answer = http.post("/collections/clinics/items", content=body)
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"].startswith("application/problem+json")
    text = answer.text
    for word in words:
        assert word in text
    assert len(text) < 20_000
    assert snapshot(clinics_folder) == before
    assert http.get("/health").status_code == 200  # the connection and the service live on


def test_edits_follow_the_services_own_limits_not_the_environment(clinics_folder: Path) -> None:
    """A service built with its own Settings checks edits against them: a 50-character text
    limit and a study region around Beijing refuse what the environment's defaults allow."""
    own = Settings(data=clinics_folder, api_token=TOKEN, network="none", warm=False,
                   max_text_chars=50, study_region=(116.0, 39.6, 116.8, 40.2), study_margin_km=5)  # fmt: skip
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/geo+json"}
    before = snapshot(clinics_folder)
    with serving(create_app(own)) as url, httpx.Client(base_url=url, headers=headers) as http:
        long_note = http.post("/collections/clinics/items", json=_body(note="长" * 60))
        assert long_note.status_code == 422, long_note.text[:300]
        assert "note" in long_note.text and "50" in long_note.text
        shanghai = http.post("/collections/clinics/items", json=_body(id="SH1"))
        assert shanghai.status_code == 422, shanghai.text[:300]
        assert "outside the study region" in shanghai.text
        # any object is a merge patch: what the merged feature breaks is a 409, said the same way
        moved = http.patch("/collections/clinics/items/C1", json={"note": "长" * 60})
        assert moved.status_code == 409 and "note" in moved.text and "50" in moved.text
        assert snapshot(clinics_folder) == before
        beijing = {**_body(id="BJ1", note="长" * 40),
                   "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}}  # fmt: skip
        assert http.post("/collections/clinics/items", json=beijing).status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/collections/clinics/items/C1"), ("PUT", "/collections/clinics/items/C1"),
     ("POST", "/nearest")],
)  # fmt: skip
def test_every_json_route_refuses_a_nesting_bomb(
    served: tuple[httpx.Client, str], clinics_folder: Path, method: str, path: str
) -> None:
    http, _ = served
    before = snapshot(clinics_folder)
    bomb = b'{"points": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    answer = http.request(method, path, content=bomb, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text[:300]
    assert "nested deeper than 32" in answer.json()["detail"]
    assert snapshot(clinics_folder) == before


def test_a_stalled_body_is_answered_408_and_frees_the_connection(
    served, clinics_folder: Path
) -> None:
    http, url = served
    host, port = url.removeprefix("http://").split(":")
    before = snapshot(clinics_folder)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            b"POST /collections/clinics/items HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
            b'Content-Type: application/geo+json\r\nContent-Length: 1000\r\n\r\n{"type": '
        )
        started = time.monotonic()
        answer = raw.recv(65536).decode("utf-8", "replace")
        waited = time.monotonic() - started
    assert answer.startswith("HTTP/1.1 408"), answer[:200]
    assert "stalled for 1 s" in answer and "请求体停顿" in answer
    assert 0.5 < waited < 5
    assert snapshot(clinics_folder) == before
    assert http.get("/health").status_code == 200


def test_a_dribbling_body_is_answered_408_when_the_whole_takes_too_long(served) -> None:
    http, url = served
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(
            b"POST /collections/clinics/items HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/geo+json\r\nContent-Length: 1000\r\n\r\n"
        )
        started = time.monotonic()
        raw.settimeout(0.4)
        answer = b""
        while not answer and time.monotonic() - started < 10:
            raw.sendall(b" ")  # a byte every 0.4 s: never idle for the 1 s timeout
            try:
                answer = raw.recv(65536)
            except TimeoutError:
                continue
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 3.5 < waited < 6  # four body timeouts for the whole body
    assert http.get("/health").status_code == 200


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n', max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(value=_JSON, limit=st.integers(0, 6), ascii_only=st.booleans())
def test_json_depth_is_measured_as_a_parser_would(value: Any, limit: int, ascii_only: bool) -> None:
    from geo.layers.geojson import json_too_deep

    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json_too_deep(text, limit) == (_depth(value) > limit)
