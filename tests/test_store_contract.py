"""The LayerStore contract, the same test functions for every backend: the GeoJSON folder and
PostGIS (skipped without a database, except in CI; see tests/postgres.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import LAT, LON, clinic, residential_area
from postgres import fresh_schema

from geo.errors import StoreError, ValidationError
from geo.layers.edit import create_feature, get_feature, patch_feature
from geo.layers.geojson import parse_feature_collection
from geo.layers.store import LayerStore, open_store, read_layer, validate_store, write_layer
from geo.layers.transfer import copy_store
from geo.layers.versions import StaleVersionError, feature_etag
from geo.settings import DEFAULT_DATA_DIR


@pytest.fixture(params=["folder", "postgis"])
def any_store(request: pytest.FixtureRequest, store: Path) -> Iterator[LayerStore]:
    """An empty store of each backend."""
    if request.param == "folder":
        yield open_store(store)
    else:
        with fresh_schema() as url:
            yield open_store(url)


def _frame(features: list[dict]) -> gpd.GeoDataFrame:
    doc = json.dumps({"type": "FeatureCollection", "features": features})
    frame, problems = parse_feature_collection(doc, "<test>")
    assert problems == []
    return frame


def test_round_trip_keeps_types_lists_and_rounds(any_store: LayerStore) -> None:
    area = residential_area("R1", "长白二村", built="1980s", custom_tag="保留")
    x, y = 121.123456789, 31.987654321  # clockwise with 9 decimals: rewound, rounded to 7
    area["geometry"]["coordinates"] = [
        [[x, y], [x, y + 0.001], [x + 0.001, y + 0.001], [x + 0.001, y], [x, y]]
    ]
    area["properties"]["entrances"] = [[x + 0.0005, y], [x, y + 0.0005]]
    write_layer(_frame([area]), "residential_areas", any_store, validate=False)
    row = read_layer("residential_areas", any_store).loc["R1"]
    assert row["entrances"] == [[121.1239568, 31.9876543], [121.1234568, 31.9881543]]
    assert isinstance(row["households"], int | np.integer) and row["households"] == 1200
    assert row["built"] == "1980s" and row["custom_tag"] == "保留"  # kept though untyped
    assert row["name"] == "长白二村" and row["tenure"] == "售后公房"
    ring = list(row.geometry.exterior.coords)
    assert ring[0] == (121.1234568, 31.9876543) and shapely.LinearRing(ring).is_ccw


def test_numeric_ids_become_strings_and_ints_stay_ints(any_store: LayerStore) -> None:
    feature = clinic(None, "站", beds=12)
    feature["id"] = 7
    other = clinic("C2", "另一站", LON + 0.01, LAT)
    write_layer(_frame([feature, other]), "clinics", any_store)
    back = read_layer("clinics", any_store)
    assert back.index.tolist() == ["7", "C2"]
    assert back.loc["7", "beds"] == 12 and float(back.loc["7", "beds"]).is_integer()


def test_empty_layer_and_versions_follow_the_content(any_store: LayerStore) -> None:
    empty = any_store.read("clinics")
    assert len(empty) == 0 and list(empty.columns)[:3] == ["id", "name", "level"]
    empty_version, stamp = any_store.version("clinics"), any_store.stamp("clinics")
    one = _frame([clinic("C1", "甲")])
    write_layer(one, "clinics", any_store)
    frame, version = any_store.read_versioned("clinics")
    assert version == any_store.version("clinics") != empty_version
    assert any_store.stamp("clinics") != stamp and frame.index.tolist() == ["C1"]
    write_layer(_frame([clinic("C1", "乙")]), "clinics", any_store)
    assert any_store.version("clinics") not in (version, empty_version)
    write_layer(one, "clinics", any_store)
    assert any_store.version("clinics") == version  # the same content, the same ETag


def test_invalid_frame_raises_and_changes_nothing(any_store: LayerStore) -> None:
    write_layer(_frame([clinic("C1", "甲")]), "clinics", any_store)
    before = any_store.version("clinics")
    with pytest.raises(ValidationError) as info:
        write_layer(_frame([clinic("C9", "坏数据", level="nonsense")]), "clinics", any_store)
    assert [(p.feature, p.field) for p in info.value.errors] == [("C9", "level")]
    assert str(any_store.location("clinics")) in info.value.summary
    assert any_store.version("clinics") == before


def test_a_held_lock_makes_another_writer_give_up(any_store: LayerStore) -> None:
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with any_store.transaction() as transaction:
            transaction.read("clinics")
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        with (
            pytest.raises(StoreError, match="locked by another writer"),
            any_store.transaction(timeout=0.3) as transaction,
        ):
            transaction.write("clinics", _frame([clinic("C1", "甲")]))
    finally:
        release.set()
        thread.join()
    assert len(any_store.read("clinics")) == 0


def test_stale_if_match_is_refused(any_store: LayerStore) -> None:
    create_feature("clinics", clinic("C1", "甲"), any_store)
    first = feature_etag(get_feature("clinics", "C1", any_store))
    patch_feature("clinics", "C1", {"properties": {"beds": 5}}, first, any_store)
    with pytest.raises(StaleVersionError):
        patch_feature("clinics", "C1", {"properties": {"beds": 6}}, first, any_store)
    assert get_feature("clinics", "C1", any_store)["properties"]["beds"] == 5


def test_the_sample_copies_in_whole_and_validates(any_store: LayerStore) -> None:
    counts = copy_store(DEFAULT_DATA_DIR, any_store)
    assert counts["clinics"] == 23 and counts["streets"] == 1
    assert [p for p in validate_store(any_store) if p.severity == "error"] == []
    sample = open_store(DEFAULT_DATA_DIR)
    for layer in sample.layers():
        ours, theirs = any_store.read(layer), sample.read(layer)
        assert ours.index.tolist() == theirs.index.tolist()
        assert ours.geometry.geom_equals_exact(theirs.geometry, 1e-9).all()
        for feature_id in theirs.index[:5]:
            mine = get_feature(layer, feature_id, any_store)
            assert mine == get_feature(layer, feature_id, sample)
    streets = any_store.streets()
    assert streets is not None and len(gpd.read_file(streets)) == len(
        gpd.read_file(sample.streets())
    )


_WRITER_SCRIPT = """
import sys
import geopandas as gpd, pandas as pd, shapely
from geo.layers.store import open_store
location, worker, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = open_store(location)
for r in range(rounds):
    with store.transaction() as transaction:
        frame = transaction.read("clinics")
        fid = f"W{worker}-{r}"
        new = gpd.GeoDataFrame(
            {"id": [fid], "name": [fid], "level": ["station"]},
            geometry=[shapely.Point(121.4 + int(worker) * 0.01, 31.2 + r * 0.001)],
            crs="EPSG:4326", index=[fid])
        merged = pd.concat([frame, new]) if len(frame) else new
        transaction.write("clinics", merged)
"""


def test_concurrent_processes_never_lose_updates(any_store: LayerStore) -> None:
    workers, rounds = 4, 6
    location = any_store.url.removeprefix("folder:")
    if "postgresql" in any_store.url:
        location = next(iter(_urls_of(any_store)))
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_WRITER_SCRIPT), location, str(w), str(rounds)]
        )
        for w in range(workers)
    ]
    assert [c.wait(timeout=120) for c in children] == [0] * workers
    expected = {f"W{w}-{r}" for w in range(workers) for r in range(rounds)}
    assert set(any_store.read("clinics").index) == expected


def _urls_of(store: LayerStore) -> list[str]:
    """The full URL (with password) of a PostGIS store, for a child process."""
    from postgres import POSTGRES

    schema = getattr(store, "schema", "")
    return [f"{POSTGRES}{'&' if '?' in (POSTGRES or '') else '?'}schema={schema}"]
