"""The layer store: round trips, atomic replacement under SIGKILL, concurrent writers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import LAT, LON, clinic, residential_area
from test_store_contract import _WRITER_SCRIPT  # the same writers, here watched for torn files

from geo.errors import SourceReadError, ValidationError
from geo.layers.geojson import parse_feature_collection, to_feature_collection
from geo.layers.store import read_layer, validate_store, write_layer

pytestmark = pytest.mark.skipif(
    os.name != "posix", reason="uses SIGKILL and fork-free subprocesses"
)


def _frame(features: list[dict]) -> gpd.GeoDataFrame:
    doc = json.dumps({"type": "FeatureCollection", "features": features})
    frame, problems = parse_feature_collection(doc, "<test>")
    assert problems == []
    return frame


def test_round_trip_keeps_types_lists_and_rounds(store: Path) -> None:
    area = residential_area("R1", "长白二村")
    # Clockwise ring with 9 decimals: the store must rewind it and round to 7.
    x, y = 121.123456789, 31.987654321
    area["geometry"]["coordinates"] = [
        [[x, y], [x, y + 0.001], [x + 0.001, y + 0.001], [x + 0.001, y], [x, y]]
    ]
    area["properties"]["entrances"] = [[x + 0.0005, y], [x, y + 0.0005]]
    write_layer(_frame([area]), "residential_areas", store, validate=False)

    raw = json.loads((store / "residential_areas.geojson").read_text(encoding="utf-8"))
    ring = raw["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == [121.1234568, 31.9876543]
    assert shapely.LinearRing(ring).is_ccw
    assert raw["features"][0]["id"] == "R1"

    back = read_layer("residential_areas", store)
    row = back.loc["R1"]
    # a list of lists again, rounded like the geometry
    assert row["entrances"] == [[121.1239568, 31.9876543], [121.1234568, 31.9881543]]
    assert isinstance(row["households"], int | np.integer) and row["households"] == 1200
    assert isinstance(row["id"], str)
    assert row["name"] == "长白二村"
    assert shapely.LinearRing(row.geometry.exterior.coords).is_ccw


def test_numeric_ids_become_strings_and_ints_stay_ints(store: Path) -> None:
    feature = clinic(None, "站", beds=12)
    feature["id"] = 7
    # A gap makes pandas hold the column as floats; the file must still say 12, not 12.0.
    other = clinic("C2", "另一站", LON + 0.01, LAT)
    write_layer(_frame([feature, other]), "clinics", store)
    assert b'"beds":12}' in (store / "clinics.geojson").read_bytes()
    back = read_layer("clinics", store)
    assert back.index.tolist() == ["7", "C2"]
    assert back.loc["7", "beds"] == 12 and float(back.loc["7", "beds"]).is_integer()


def test_missing_layer_reads_empty_and_broken_file_raises(store: Path) -> None:
    assert len(read_layer("clinics", store)) == 0
    (store / "clinics.geojson").write_text('{"type": "FeatureCollection", "features": [', "utf-8")
    with pytest.raises(SourceReadError, match=r"clinics\.geojson.*line 1, column"):
        read_layer("clinics", store)


def test_invalid_frame_raises_and_leaves_file_unchanged(clinics_store: Path) -> None:
    path = clinics_store / "clinics.geojson"
    before = path.read_bytes()
    bad = _frame([clinic("C9", "坏数据", level="nonsense")])
    with pytest.raises(ValidationError) as info:
        write_layer(bad, "clinics", clinics_store)
    assert [(p.feature, p.field) for p in info.value.errors] == [("C9", "level")]
    assert str(path) in info.value.summary
    assert path.read_bytes() == before
    assert [p.name for p in clinics_store.iterdir() if p.suffix == ".tmp"] == []


_KILL_SCRIPT = """
import os, sys, time
import geopandas as gpd, shapely
from geo.layers.store import write_layer
folder, marker = sys.argv[1], sys.argv[2]
n = 20000
frame = gpd.GeoDataFrame(
    {"id": [f"N{i}" for i in range(n)], "name": [f"新站{i}" for i in range(n)],
     "level": ["station"] * n},
    geometry=[shapely.Point(121.4 + i * 1e-5, 31.2) for i in range(n)], crs="EPSG:4326")
real_fsync = os.fsync
def stalled_fsync(fd):
    # The new bytes are in the temporary file but not yet renamed over the layer:
    # the exact moment a crash must not hurt the old file.
    open(marker, "w").close()
    time.sleep(120)
os.fsync = stalled_fsync
write_layer(frame, "clinics", folder)
"""


def test_sigkill_during_write_keeps_old_file(clinics_store: Path, tmp_path: Path) -> None:
    path = clinics_store / "clinics.geojson"
    before = path.read_bytes()
    marker = tmp_path / "stalled"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_KILL_SCRIPT), str(clinics_store), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "writer never reached fsync"
            time.sleep(0.05)
        leftovers = [p for p in clinics_store.iterdir() if p.name.endswith(".tmp")]
        assert len(leftovers) == 1 and leftovers[0].stat().st_size > len(before)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    assert path.read_bytes() == before
    assert read_layer("clinics", clinics_store).index.tolist() == ["C1", "C2"]
    # The leftover temporary file is no layer: neither reading nor validation sees it.
    leftovers = [p.name for p in clinics_store.iterdir() if p.name.endswith(".tmp")]
    assert all(name.startswith(".clinics.geojson.") for name in leftovers)
    assert not [p for p in validate_store(clinics_store) if p.severity == "error"]


def test_concurrent_writers_never_tear_or_lose_updates(store: Path) -> None:
    """The contract test's writers on a folder, its file read all the while: never torn."""
    workers, rounds = 4, 6
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_WRITER_SCRIPT), str(store), str(w), str(rounds)]
        )
        for w in range(workers)
    ]
    path = store / "clinics.geojson"
    reads = 0
    while any(c.poll() is None for c in children):
        if path.exists():
            _, problems = parse_feature_collection(path.read_bytes(), str(path))
            assert problems == []  # a torn file would not even parse
            reads += 1
    assert [c.wait() for c in children] == [0] * workers
    final = read_layer("clinics", store)
    expected = {f"W{w}-{r}" for w in range(workers) for r in range(rounds)}
    assert set(final.index) == expected  # no writer overwrote another's update
    assert reads > 0


def test_to_feature_collection_is_one_feature_per_line_without_nulls() -> None:
    frame = _frame([clinic("C1", "甲", beds=None), clinic("C2", "乙", LON + 0.01, LAT)])
    text = to_feature_collection(frame, "clinics").decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == '{"type":"FeatureCollection","features":['
    assert len(lines) == 4 and "null" not in text and "甲" in text
    assert json.loads(text)["features"][1]["geometry"]["coordinates"] == [round(LON + 0.01, 7), LAT]
