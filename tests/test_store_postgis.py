"""The PostGIS store beyond the shared contract (tests/test_store_contract.py): its tables
agree with the schema, the change log, copies that fail change nothing, OpenStreetMap
streets kept whole, the settings that choose it, and the drill: several service processes
on two ports writing through one database."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import clinic
from postgres import fresh_schema, require_postgres
from served import free_port

from geo.errors import NotFoundError, StoreError, ValidationError
from geo.layers.edit import create_feature, delete_feature, get_feature, patch_feature
from geo.layers.store import open_store
from geo.layers.transfer import copy_store, init_store
from geo.layers.versions import feature_etag
from geo.schema import LAYER_NAMES, get_layer
from geo.settings import DEFAULT_DATA_DIR, current

require_postgres()  # the whole module: skipped without a database, an error in CI
REPO = Path(__file__).resolve().parent.parent
SQL_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "bool": "boolean",
             "date": "date", "year": "integer", "lonlat_list": "jsonb"}  # fmt: skip


@pytest.fixture
def pg_url() -> str:
    with fresh_schema() as url:
        yield url


def _query(url: str, text: str, *params: object) -> list[tuple]:
    import psycopg

    base, _, schema = url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}", public')
        return conn.execute(text, params).fetchall()


def test_tables_have_a_typed_column_per_field_and_a_spatial_index(pg_url: str) -> None:
    for layer in LAYER_NAMES:
        columns = dict(_query(pg_url, "SELECT column_name, data_type FROM "
                              "information_schema.columns WHERE table_schema = current_schema() "
                              "AND table_name = %s", layer))  # fmt: skip
        for field in get_layer(layer).fields:
            assert columns.pop(field.name) == SQL_TYPES[field.kind], (layer, field.name)
        assert set(columns) == {"fid", "extra_properties", "geom", "feature_order",
                                "feature_version"}  # fmt: skip
        (srid,) = _query(
            pg_url, "SELECT Find_SRID(current_schema()::text, %s::text, 'geom')", layer
        )[0]
        assert srid == 4326
        indexes = _query(pg_url, "SELECT indexdef FROM pg_indexes WHERE schemaname = "
                         "current_schema() AND tablename = %s", layer)  # fmt: skip
        assert any("USING gist (geom)" in d for (d,) in indexes), layer
    assert init_store(pg_url) == []  # applied once: a second init does nothing


def test_every_change_is_logged_with_who_and_what(pg_url: str) -> None:
    store = open_store(pg_url)
    create_feature("clinics", clinic("C1", "甲", beds=3), store)
    etag = feature_etag(get_feature("clinics", "C1", store))
    patch_feature("clinics", "C1", {"properties": {"beds": 4}}, etag, store)
    delete_feature("clinics", "C1", feature_etag(get_feature("clinics", "C1", store)), store)
    log = _query(pg_url, "SELECT action, changed_by, application, feature->'properties'->>'beds', "
                 "old_version, new_version, revision FROM change_log ORDER BY change_id")  # fmt: skip
    assert [(a, who, app, beds) for a, who, app, beds, *_ in log] == [
        ("insert", "lifecircle", "lifecircle", "3"),
        ("update", "lifecircle", "lifecircle", "4"),
        ("delete", "lifecircle", "lifecircle", None),
    ]
    assert log[1][4] == log[0][5] == etag and [r[6] for r in log] == [1, 2, 3]


def test_a_copy_that_fails_changes_nothing(pg_url: str, store: Path, write_geojson) -> None:
    copy_store(DEFAULT_DATA_DIR, pg_url)
    target = open_store(pg_url)
    before = {layer: target.version(layer) for layer in LAYER_NAMES}
    streets_before = target.stamp("streets")
    write_geojson(store / "clinics.geojson", [clinic("C1", "甲"), clinic("C9", "坏", level="x")])
    with pytest.raises(ValidationError) as info:
        copy_store(store, pg_url)
    assert [(p.feature, p.field) for p in info.value.errors] == [("C9", "level")]
    assert {layer: target.version(layer) for layer in LAYER_NAMES} == before
    assert target.stamp("streets") == streets_before
    # and back into a folder: the same files' content
    out = store.parent / "back"
    out.mkdir()
    copy_store(pg_url, out)
    sample = open_store(DEFAULT_DATA_DIR)
    for layer in LAYER_NAMES:
        assert open_store(out).read(layer).equals(sample.read(layer)), layer


def test_openstreetmap_streets_are_kept_whole(pg_url: str, tmp_path: Path) -> None:
    study = REPO / "data" / "studies" / "wujiaochang"
    copy_store(study, pg_url)
    snapshot = open_store(pg_url).streets()
    assert snapshot is not None and snapshot.name.endswith(".osm")
    assert snapshot.read_bytes() == (study / "streets.osm").read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    copy_store(pg_url, out)
    assert (out / "streets.osm").read_bytes() == (study / "streets.osm").read_bytes()


def test_store_setting_wins_and_errors_are_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    url = require_postgres()
    monkeypatch.setenv("LIFECIRCLE_DATA", str(DEFAULT_DATA_DIR))
    monkeypatch.setenv("LIFECIRCLE_STORE", url)
    assert current().data == url and current(data="elsewhere").data == "elsewhere"
    with pytest.raises(StoreError, match="store init"):
        open_store(f"{url}?schema=never_initialised").read("clinics")
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://nobody:x@127.0.0.1:1/none").read("clinics")


def _serve(url: str, port: int, workers: int, token: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "LIFECIRCLE_API_TOKEN": token, "LIFECIRCLE_WARM": "0",
           "LIFECIRCLE_NETWORK": "none", "LIFECIRCLE_MAX_WRITES": "4", "PYTHONPATH": str(REPO)}  # fmt: skip
    for name in ("LIFECIRCLE_DATA", "LIFECIRCLE_STORE"):
        env.pop(name, None)
    # --store on the command line only: the workers must get it from the command
    command = [sys.executable, "-m", "geo.cli", "serve", "--store", url, "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    with log.open("w") as out:  # the child keeps its own copy of the file
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=out)


def _wait_up(base: str, process: subprocess.Popen, deadline: float) -> None:
    while True:
        assert process.poll() is None, "the service ended"
        try:
            if httpx.get(f"{base}/collections/clinics/items?limit=1", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.2)


def test_drill_four_workers_and_a_second_host_lose_no_write(pg_url: str, tmp_path: Path) -> None:
    """4 workers × 3 clients × N writes (N = $LIFECIRCLE_DRILL_WRITES; 50 by default, about a
    minute on two busy cores; 500 is the full drill, several minutes) through
    ``lifecircle serve --workers 4`` and a second server on another port, on one database:
    every acknowledged write is counted exactly once, no feature is ever half of two
    writes, and a stale If-Match is always 412."""
    writes = int(os.environ.get("LIFECIRCLE_DRILL_WRITES", "50"))
    features, clients_per_feature, token = 4, 3, "drill-token"
    store = open_store(pg_url)
    for f in range(features):
        create_feature("clinics", clinic(f"D{f}", "计数 0", 121.55 + f * 0.001, beds=0), store)
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"server-{n}.log" for n in range(2)]
    servers = [_serve(pg_url, ports[0], 4, token, logs[0]),
               _serve(pg_url, ports[1], 1, token, logs[1])]  # fmt: skip
    results: list[dict[str, int]] = []
    failures: list[str] = []
    try:
        deadline = time.monotonic() + 90
        for port, server in zip(ports, servers, strict=True):
            _wait_up(f"http://127.0.0.1:{port}", server, deadline)

        def client(number: int) -> None:
            feature = f"D{number % features}"
            port = ports[1] if number % 4 == 3 else ports[0]  # 3 of 12 on the second host
            count = dict(
                acked=0,
                conflicts=0,
                busy=0,
                stale=0,
                stale_412=0,
                torn=0,
                feature=number % features,
            )
            auth = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/merge-patch+json",
            }
            previous = None
            url = f"http://127.0.0.1:{port}/collections/clinics/items/{feature}"
            try:
                with httpx.Client(timeout=30) as http:
                    while count["acked"] < writes:
                        got = http.get(url)
                        got.raise_for_status()
                        etag, props = got.headers["ETag"], got.json()["properties"]
                        count["torn"] += props["name"] != f"计数 {props['beds']}"
                        if previous is not None and count["acked"] % 10 == 1:
                            stale = http.patch(url, json={"properties": {"note": "stale"}},
                                               headers={**auth, "If-Match": previous})  # fmt: skip
                            while stale.status_code == 503:  # busy: ask again until answered
                                time.sleep(0.05)
                                stale = http.patch(url, json={"properties": {"note": "stale"}},
                                                   headers={**auth, "If-Match": previous})  # fmt: skip
                            count["stale"] += 1
                            count["stale_412"] += stale.status_code == 412
                        beds = props["beds"] + 1
                        sent = http.patch(url, json={"properties": {"beds": beds, "name": f"计数 {beds}"}},
                                          headers={**auth, "If-Match": etag})  # fmt: skip
                        if sent.status_code == 200:
                            count["acked"] += 1
                            previous = etag
                        elif sent.status_code == 412:
                            count["conflicts"] += 1
                        elif sent.status_code == 503:
                            count["busy"] += 1
                            time.sleep(0.05)
                        else:
                            raise AssertionError(f"{sent.status_code}: {sent.text[:300]}")
            except Exception as exc:  # reported below, with the numbers
                failures.append(f"client {number}: {exc!r}")
            results.append(count)

        started = time.monotonic()
        threads = [
            threading.Thread(target=client, args=(n,))
            for n in range(features * clients_per_feature)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        elapsed = time.monotonic() - started
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    assert failures == [], "\n".join(log.read_text()[-3000:] for log in logs)
    acked = sum(r["acked"] for r in results)
    final = store.read("clinics")
    lost = torn = 0
    for f in range(features):
        mine = sum(r["acked"] for r in results if r["feature"] == f)
        beds = int(final.loc[f"D{f}", "beds"])
        lost += mine - beds
        torn += final.loc[f"D{f}", "name"] != f"计数 {beds}"
        logged = _query(pg_url, "SELECT count(*) FROM change_log WHERE feature_id = %s AND "
                        "action = 'update'", f"D{f}")[0][0]  # fmt: skip
        assert logged == beds
    torn += sum(r["torn"] for r in results)
    stale = sum(r["stale"] for r in results)
    stale_412 = sum(r["stale_412"] for r in results)
    print(f"\ndrill: {len(results)} clients, {acked} acknowledged writes in {elapsed:.1f} s "
          f"({acked / elapsed:.0f}/s); lost {lost}, torn {torn}; stale If-Match {stale} → 412 "
          f"{stale_412}; lost races (412) {sum(r['conflicts'] for r in results)}, busy (503) "
          f"{sum(r['busy'] for r in results)}")  # fmt: skip
    assert acked == features * clients_per_feature * writes
    assert (lost, torn) == (0, 0)
    assert stale > 0 and stale_412 == stale


def test_the_cli_sets_up_and_fills_a_database(capsys: pytest.CaptureFixture[str]) -> None:
    from geo.cli import main

    with fresh_schema(init=False) as url:
        assert main(["store", "init", "--store", url]) == 0
        assert "001_layers.sql" in capsys.readouterr().out
        assert main(["store", "init", "--store", url]) == 0
        assert "already up to date" in capsys.readouterr().out
        assert main(["store", "copy", str(DEFAULT_DATA_DIR), url]) == 0
        assert "clinics 23" in capsys.readouterr().out
        assert main(["validate", "--store", url]) == 0


def test_the_service_and_the_network_are_the_same_on_either_store(pg_url: str) -> None:
    from served import serving

    from api.main import create_app
    from geo.analysis.networks import resolve_network
    from geo.settings import Settings

    copy_store(DEFAULT_DATA_DIR, pg_url)
    answers = []
    for location in (str(DEFAULT_DATA_DIR), pg_url):
        app = create_app(Settings(data=location, warm=False, network="none"))
        with serving(app) as base:
            got = httpx.get(f"{base}/collections/residential_areas/items?limit=100", timeout=30)
            assert got.status_code == 200
            answers.append(
                [(f["id"], f["properties"], f["geometry"]) for f in got.json()["features"]]
            )
        network = resolve_network("auto", open_store(location))
        assert network is not None
        answers.append((network.node_x.size, network.edge_u.size))
    assert answers[0] == answers[2] and answers[1] == answers[3]


def test_edits_on_the_tables_themselves_are_seen_and_logged(pg_url: str) -> None:
    """What QGIS does on a direct PostgreSQL connection: plain UPDATE and INSERT."""
    import psycopg

    from api.deps import LayerCache

    store = open_store(pg_url)
    create_feature("clinics", clinic("C1", "甲", beds=3), store)
    cache = LayerCache(store)
    frame, version = cache.get("clinics")
    stamp = store.stamp("clinics")
    base, _, schema = pg_url.partition("?schema=")
    with psycopg.connect(base, autocommit=True, application_name="QGIS") as conn:
        conn.execute(f'SET search_path TO "{schema}", public')
        with conn.transaction():
            conn.execute("UPDATE clinics SET beds = 9 WHERE id = 'C1'")
            conn.execute("INSERT INTO clinics (id, name, level, geom) VALUES ('C2', '乙', "
                         "'station', ST_SetSRID(ST_MakePoint(121.55, 31.29), 4326))")  # fmt: skip
    assert store.stamp("clinics") != stamp
    frame, new_version = cache.get("clinics")
    assert new_version != version and frame.loc["C1", "beds"] == 9
    assert frame.index.tolist() == ["C1", "C2"]  # a row added outside comes last
    log = _query(pg_url, "SELECT action, feature_id, application, feature->'properties'->>'beds' "
                 "FROM change_log WHERE application = 'QGIS' ORDER BY change_id")  # fmt: skip
    assert log == [("update", "C1", "QGIS", "9"), ("insert", "C2", "QGIS", None)]
    # and lifecircle goes on from there
    etag = feature_etag(get_feature("clinics", "C2", store))
    patch_feature("clinics", "C2", {"properties": {"beds": 4}}, etag, store)
    assert store.read("clinics").loc["C2", "beds"] == 4


def test_saved_scenarios_are_shared_through_the_database(pg_url: str) -> None:
    from geo.layers.scenarios import TableShelf, scenario_shelf

    shelf = scenario_shelf(open_store(pg_url))
    assert isinstance(shelf, TableShelf) and shelf.persistent
    add = [{"type": "charging_points", "lon": 121.55, "lat": 31.3}]
    saved = shelf.save("新车棚", {"add": add})
    other = scenario_shelf(open_store(pg_url))  # another process, another host
    assert other.get("新车棚") == saved and other.get("新车棚")["add"] == add
    assert [(s["name"], s["add"]) for s in other.list()] == [("新车棚", 1)]
    other.delete("新车棚")
    assert shelf.list() == []
    with pytest.raises(NotFoundError):
        shelf.get("新车棚")


def test_an_osm_pbf_keeps_its_name_both_ways(pg_url: str, store: Path, tmp_path: Path) -> None:
    (store / "streets.osm.pbf").write_bytes(b"\x00\x00\x00\x0dOSMHeader pretend")
    copy_store(store, pg_url)
    assert open_store(pg_url).streets().name.endswith(".osm.pbf")
    out = tmp_path / "out"
    out.mkdir()
    copy_store(pg_url, out)
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("streets")) == [
        "streets.osm.pbf"
    ]
    assert (out / "streets.osm.pbf").read_bytes() == (store / "streets.osm.pbf").read_bytes()


def test_qgis_opens_the_tables_directly(pg_url: str, tmp_path: Path) -> None:
    """Debian's QGIS, headless, through its PostgreSQL provider (docs/postgis.md)."""
    import json
    from urllib.parse import urlsplit

    if (
        not Path("/usr/bin/python3").exists()
        or subprocess.run(
            ["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True
        ).returncode
    ):
        if os.environ.get("CI"):
            raise RuntimeError("QGIS is required in CI (.ci/run installs python3-qgis)")
        pytest.skip("QGIS is not installed (apt-get install python3-qgis qgis-providers)")
    copy_store(DEFAULT_DATA_DIR, pg_url)
    parts = urlsplit(pg_url)
    schema = parts.query.partition("schema=")[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        ["/usr/bin/python3", str(REPO / "tools" / "qgis_table_check.py"), parts.hostname or "",
         str(parts.port or 5432), parts.path.strip("/"), parts.username or "",
         parts.password or "", schema, *LAYER_NAMES],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {row["table"]: row for row in map(json.loads, done.stdout.splitlines())}
    sample = open_store(DEFAULT_DATA_DIR)
    for layer in LAYER_NAMES:
        row, frame = rows[layer], sample.read(layer)
        assert row["valid"] and row["crs"] == "EPSG:4326", layer
        assert row["ids"] == sorted(frame.index) and row["count"] == len(frame)
        assert {f.name for f in get_layer(layer).fields} <= set(row["fields"])


def test_a_write_through_one_worker_changes_the_analysis_of_another(pg_url: str) -> None:
    """Two services on one database (two workers, two hosts): the coverage one of them has
    cached is computed again after the other deleted every clinic."""
    from served import serving

    from api.main import create_app
    from geo.settings import Settings

    copy_store(DEFAULT_DATA_DIR, pg_url)

    def clinics_covered(base: str) -> int:
        summary = httpx.get(f"{base}/coverage/summary", timeout=60).json()["summary"]
        return next(row["areas_covered"] for row in summary
                    if row["type"] == "clinics" and row["subdistrict"] == "全部 / all")  # fmt: skip

    settings = {"data": pg_url, "warm": False, "network": "none", "api_token": "t"}
    with (
        serving(create_app(Settings(**settings))) as one,
        serving(create_app(Settings(**settings))) as other,
    ):
        assert clinics_covered(one) == 55
        ids = [f["id"] for f in httpx.get(f"{other}/collections/clinics/items?limit=100").json()[
            "features"]]  # fmt: skip
        assert len(ids) == 23
        for feature_id in ids:
            gone = httpx.delete(f"{other}/collections/clinics/items/{feature_id}",
                                headers={"Authorization": "Bearer t"})  # fmt: skip
            assert gone.status_code == 204
        assert clinics_covered(one) == 0
        assert httpx.get(f"{one}/collections/clinics/items").json()["features"] == []


def test_the_catalogue_facilities_layer_lives_in_its_table(pg_url: str) -> None:
    """The 五角场 study's facilities (migration 004) through the database: the same rows, the
    same completeness as from the folder, and a direct edit of the table is seen."""
    from geo.analysis.completeness import completeness
    from geo.analysis.study import Study

    study = REPO / "data" / "studies" / "wujiaochang"
    copy_store(study, pg_url)
    folder, database = open_store(study), open_store(pg_url)
    assert database.read("facilities").equals(folder.read("facilities"))
    assert len(database.read("facilities")) == 66
    on_folder = completeness(Study.load(study, network="none"))
    on_database = completeness(Study.load(pg_url, network="none"))
    assert on_database.equals(on_folder) and on_database["kindergarten_standard"].any()
    before = database.stamp("facilities")
    _query(
        pg_url,
        "UPDATE facilities SET category = 'pharmacy' WHERE category = 'library' RETURNING id",
    )
    assert database.stamp("facilities") != before
    assert (database.read("facilities")["category"] == "pharmacy").sum() == 1
