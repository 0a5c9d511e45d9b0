"""QGIS itself (Debian's 3.22, headless, its OAPIF provider) opens every collection.

``tools/qgis_check.py`` runs in the Python that has QGIS's bindings (/usr/bin/python3), not in
this environment; the service runs here. Without QGIS the test is skipped, except in CI, where
``.ci/run`` installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import catalogue_facilities
from served import serving

from api.main import create_app
from api.routes.collections import COLLECTIONS, VIEWS
from geo.layers.store import read_layer, write_layer
from geo.schema import get_layer
from geo.settings import DEFAULT_DATA_DIR, Settings

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"


def _has_qgis() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True)
    return found.returncode == 0


pytestmark = pytest.mark.skipif(
    not _has_qgis() and os.environ.get("CI") != "true",
    reason="QGIS is not installed (Debian: apt-get install python3-qgis qgis-providers)",
)


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict, Path]]:
    folder = tmp_path_factory.mktemp("qgis") / "data"
    shutil.copytree(DEFAULT_DATA_DIR, folder)
    write_layer(catalogue_facilities(), "facilities", folder)  # the sample has none
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(folder.parent)}
    env.pop("PYTHONPATH", None)
    with serving(create_app(Settings(data=folder, warm=False))) as url:
        done = subprocess.run(
            [SYSTEM_PYTHON, str(ROOT / "tools" / "qgis_check.py"), url, *COLLECTIONS],
            capture_output=True, text=True, timeout=600, env=env,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    yield {row["collection"]: row for row in rows}, folder


def test_qgis_opens_every_collection_with_every_column_and_feature(opened) -> None:
    rows, folder = opened
    assert set(rows) == set(COLLECTIONS)
    for name, row in rows.items():
        assert row["valid"], name
        base = VIEWS[name][0] if name in VIEWS else name
        layer = "residential_areas" if name == "coverage" else base
        stored = read_layer(layer, folder)
        if name in VIEWS:
            stored = stored[stored.geometry.geom_type.isin(VIEWS[name][1])]
        assert row["features"] == row["drawn"] == len(stored), name
        assert {f.name for f in get_layer(layer).fields} <= set(row["fields"]), name
    assert rows["coverage"]["fields"][-1] == "all_covered"


def test_qgis_draws_points_and_areas_of_renovation_projects_through_the_views(opened) -> None:
    rows, _ = opened
    # QGIS 3.22 types a collection by its features: the mixed layer comes out as polygons, so
    # its 19 points would not be drawn; the two views have one type each and draw all 24
    assert rows["renovation_projects"]["geometry"] in ("Polygon", "MultiPolygon")
    assert rows["renovation_projects_points"]["geometry"] == "Point"
    assert rows["renovation_projects_areas"]["geometry"] in ("Polygon", "MultiPolygon")
    total = rows["renovation_projects_points"]["drawn"] + rows["renovation_projects_areas"]["drawn"]
    assert total == rows["renovation_projects"]["features"] == 24


def test_the_debian_qgis_provider_is_read_only(opened) -> None:
    # QGIS 3.22's OAPIF provider cannot write (editing came with 3.32); the newer provider's
    # request sequence is replayed in tests/test_ogc_clients.py
    rows, _ = opened
    assert not any(row["editable"] for row in rows.values())
