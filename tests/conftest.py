"""Shared fixtures: empty and sample stores in tmp_path, small GeoJSON/CSV writers.

Tests never touch the bundled ``data/layers``: every store is a folder under tmp_path.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from geo.settings import DEFAULT_DATA_DIR

# the workbench's page fixtures (browser, page at two sizes, the served sample)
pytest_plugins = ["workbench_fixtures"]

# Points in Yangpu (长白新村街道), well inside Shanghai.
LON, LAT = 121.5512345, 31.2923456


@pytest.fixture(scope="session", autouse=True)
def _network_cache(tmp_path_factory: pytest.TempPathFactory):
    """Networks the tests build are cached for the session only: every test store is a new
    folder, and each would leave an entry in the user's ~/.cache/lifecircle."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIFECIRCLE_CACHE", str(tmp_path_factory.mktemp("network-cache")))
        yield


@pytest.fixture(autouse=True)
def _no_default_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep $LIFECIRCLE_DATA from leaking in and keep default outputs in tmp_path."""
    monkeypatch.delenv("LIFECIRCLE_DATA", raising=False)
    monkeypatch.delenv("LIFECIRCLE_STORE", raising=False)
    monkeypatch.delenv("LIFECIRCLE_SERVE_SETTINGS", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An empty store folder (every layer is empty until written)."""
    folder = tmp_path / "layers"
    folder.mkdir()
    return folder


@pytest.fixture
def sample_store(tmp_path: Path) -> Path:
    """A copy of the bundled sample store; skipped while the sample does not exist."""
    if not any(DEFAULT_DATA_DIR.glob("*.geojson")):
        pytest.skip("bundled sample data/layers not present yet")
    folder = tmp_path / "sample"
    shutil.copytree(DEFAULT_DATA_DIR, folder, ignore=shutil.ignore_patterns(".*"))
    return folder


def point_feature(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def polygon_feature(ring: list[list[float]], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": props,
    }


def clinic(id_: str | None, name: str, lon: float = LON, lat: float = LAT, **extra: Any) -> dict:
    props = {"name": name, "level": "station", **extra}
    if id_ is not None:
        props = {"id": id_, **props}
    return point_feature(lon, lat, **props)


def catalogue_facilities() -> Any:
    """Two facilities of the catalogue's ``facilities`` layer (the sample has none): a
    kindergarten with its places and a park with its area, every field filled once."""
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {"id": ["f1", "f2"], "name": ["长白幼儿园", "长白公园"], "category": ["kindergarten", "park"],
         "capacity": [180, None], "floor_area_m2": [None, 12000.5],
         "subdistrict": ["长白新村街道", None], "address": ["长白路1号", None],
         "district": ["杨浦区", "杨浦区"], "note": ["示例 / example", None]},
        geometry=gpd.points_from_xy([LON, LON + 0.004], [LAT, LAT + 0.002]), crs=4326,
        index=["f1", "f2"],
    )  # fmt: skip


def residential_area(id_: str, name: str, dx: float = 0.0, **extra: Any) -> dict[str, Any]:
    """A ~100 m square compound with one gate on its southern edge."""
    x, y = LON + dx, LAT
    ring = [[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y + 0.001], [x, y]]
    props = {
        "id": id_,
        "name": name,
        "subdistrict": "长白新村街道",
        "district": "杨浦区",
        "households": 1200,
        "population": 3000,
        "elderly": 1100,
        "built": 1986,
        "tenure": "售后公房",
        "entrances": [[x + 0.0005, y]],
        **extra,
    }
    return polygon_feature(ring, **props)


@pytest.fixture
def write_geojson() -> Callable[..., Path]:
    """``write_geojson(path, features, **members)`` → path of a FeatureCollection file."""

    def write(path: Path, features: list[dict[str, Any]], **members: Any) -> Path:
        doc = {"type": "FeatureCollection", **members, "features": features}
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def write_csv() -> Callable[..., Path]:
    """``write_csv(path, rows, encoding)``: rows of cells, the first is the header."""

    def write(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
        text = "\r\n".join(",".join(str(cell) for cell in row) for row in rows) + "\r\n"
        path.write_bytes(text.encode(encoding))
        return path

    return write


@pytest.fixture
def clinics_store(store: Path, write_geojson: Callable[..., Path]) -> Path:
    """A store whose clinics layer holds two valid clinics (C1, C2)."""
    write_geojson(
        store / "clinics.geojson",
        [clinic("C1", "长白社区卫生服务中心"), clinic("C2", "延吉卫生站", LON + 0.01, LAT)],
    )
    return store
