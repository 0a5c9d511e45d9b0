"""The layer store: ``data/layers/<layer>.geojson`` read into frames, written back atomically.

On disk every layer is an RFC 7946 FeatureCollection: UTF-8, WGS-84, coordinates rounded
to 7 decimals (about 1 cm), polygon rings wound counter-clockwise, one feature per line so
that a change shows as a small diff. Writes go to a temporary file in the same folder,
are fsynced and then renamed over the old file, all under a lock file, so that a crash or
two writers never leave a torn or half-merged layer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from filelock import FileLock, Timeout

from geo.errors import Problem, SourceReadError, StoreError, ValidationError
from geo.schema import LAYER_NAMES, get_layer

__all__ = [
    "COORD_DECIMALS",
    "DEFAULT_DATA_DIR",
    "atomic_write_bytes",
    "data_dir",
    "layer_etag",
    "layer_path",
    "locked",
    "parse_feature_collection",
    "read_layer",
    "read_layers",
    "to_feature_collection",
    "write_layer",
]

COORD_DECIMALS = 7
LOCK_NAME = ".lifecircle.lock"
LOCK_TIMEOUT_S = 30

#: The bundled sample, next to the package in a source checkout (``pip install -e .``).
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "layers"


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the store folder: ``path``, else ``$LIFECIRCLE_DATA``, else the bundled sample."""
    chosen = path or os.environ.get("LIFECIRCLE_DATA") or DEFAULT_DATA_DIR
    folder = Path(chosen).expanduser()
    if not folder.is_dir():
        raise StoreError(
            f"数据目录不存在 / data folder not found: {folder}. "
            "用 --data 指定 / pass --data DIR (or set LIFECIRCLE_DATA)."
        )
    return folder


def layer_path(folder: str | os.PathLike[str], layer: str) -> Path:
    """Path of ``layer``'s file in ``folder``; the name is checked against the fixed set."""
    return Path(folder) / get_layer(layer).filename


@contextlib.contextmanager
def locked(folder: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the store's write lock (a lock file in the folder) for a read-modify-write."""
    lock = FileLock(str(Path(folder) / LOCK_NAME), timeout=LOCK_TIMEOUT_S)
    try:
        with lock:
            yield
    except Timeout:
        raise StoreError(
            f"数据目录被占用 / the store at {folder} is locked by another writer for more "
            f"than {LOCK_TIMEOUT_S} s; try again when it has finished."
        ) from None


def parse_feature_collection(
    text: str | bytes, source: str, geometry_required: bool = True
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Parse GeoJSON text into a WGS-84 frame, collecting per-feature problems.

    Features whose geometry cannot be read are kept with a missing geometry and a problem,
    so that one report can name all of them. Property values are kept as JSON gave them
    (lists stay lists), which is why this does not go through a GDAL driver.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceReadError(
            f"{source}: 不是有效的 JSON / not valid JSON at line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg}. 请用文本编辑器或 geojson.io 修正 / fix the file."
        ) from None
    except UnicodeDecodeError:
        raise SourceReadError(
            f"{source}: 不是 UTF-8 编码 / not UTF-8. GeoJSON must be UTF-8 (RFC 7946); "
            "re-save it as UTF-8."
        ) from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise SourceReadError(
            f"{source}: 不是 GeoJSON FeatureCollection / not a GeoJSON FeatureCollection "
            f"(top-level type is {doc.get('type') if isinstance(doc, dict) else type(doc).__name__})."
        )
    crs_member = doc.get("crs")
    problems: list[Problem] = []
    if crs_member:
        name = json.dumps(crs_member, ensure_ascii=False)
        if "4326" not in name and "CRS84" not in name:
            raise SourceReadError(
                f"{source}: 文件声明了坐标系 {name} / declares a CRS other than WGS-84; "
                "import it with `lifecircle import` and --crs instead of copying it in."
            )
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for index, feature in enumerate(doc.get("features") or []):
        label = _feature_label(feature, index)
        if not isinstance(feature, dict):
            problems.append(Problem(source, label, None, "不是 Feature 对象 / not a Feature"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            problems.append(
                Problem(source, label, "properties", "properties 不是对象 / not an object")
            )
            props = {}
        row = dict(props)
        if "id" not in row and feature.get("id") is not None:
            row["id"] = feature["id"]
        if row.get("id") is not None and not isinstance(row["id"], str):
            row["id"] = str(row["id"])
        rows.append(row)
        geometry = feature.get("geometry")
        if geometry is None:
            geoms.append(None)
            if geometry_required:
                problems.append(Problem(source, label, "geometry", "缺少几何 / no geometry"))
            continue
        try:
            geoms.append(shapely.from_geojson(json.dumps(geometry)))
        except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
            geoms.append(None)
            problems.append(
                Problem(
                    source,
                    label,
                    "geometry",
                    f"几何无法读取 / unreadable geometry: {exc}",
                    "检查坐标数组 / check the coordinate arrays",
                )
            )
    frame = gpd.GeoDataFrame(
        pd.DataFrame.from_records(rows) if rows else pd.DataFrame(),
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    return frame, problems


def _feature_label(feature: Any, index: int) -> str:
    if isinstance(feature, dict):
        props = feature.get("properties")
        if isinstance(props, dict) and props.get("id") not in (None, ""):
            return str(props["id"])
        if feature.get("id") not in (None, ""):
            return str(feature["id"])
    return f"#{index + 1}"


def read_layer(layer: str, folder: str | os.PathLike[str] | None = None) -> gpd.GeoDataFrame:
    """Read one layer as a GeoDataFrame indexed by feature id.

    A layer whose file does not exist yet is empty. A file that cannot be parsed raises
    :class:`~geo.errors.SourceReadError` or :class:`~geo.errors.ValidationError` naming the
    file and feature; schema rules are checked by :func:`geo.validate.validate_layer`.

    Examples
    --------
    >>> clinics = read_layer("clinics")
    >>> clinics.crs.to_epsg(), "level" in clinics.columns
    (4326, True)
    """
    spec = get_layer(layer)
    path = Path(data_dir(folder)) / spec.filename
    if not path.exists():
        return _empty_frame(layer)
    frame, problems = parse_feature_collection(path.read_bytes(), str(path))
    if any(p.severity == "error" for p in problems):
        raise ValidationError(problems, f"{path}: 图层无法读取 / layer cannot be read")
    return _index_by_id(frame, layer)


def read_layers(folder: str | os.PathLike[str] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Read all five layers into a dict keyed by layer name."""
    return {name: read_layer(name, folder) for name in LAYER_NAMES}


def layer_etag(layer: str, folder: str | os.PathLike[str] | None = None) -> str:
    """A strong validator of the layer file's bytes (changes with every write)."""
    path = Path(data_dir(folder)) / get_layer(layer).filename
    content = path.read_bytes() if path.exists() else b""
    return hashlib.sha256(content).hexdigest()[:32]


def _empty_frame(layer: str) -> gpd.GeoDataFrame:
    columns = [f.name for f in get_layer(layer).fields]
    frame = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in columns},
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    return frame


def _index_by_id(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    frame = frame.copy()
    for name in (f.name for f in get_layer(layer).fields):
        if name not in frame.columns:
            frame[name] = None
    if len(frame):
        frame.index = pd.Index(frame["id"].astype(object), name=None)
    return frame


def _json_value(value: Any) -> Any:
    """A property value as plain JSON: numpy scalars unwrapped, NaN as missing."""
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _round_geometries(geoms: gpd.GeoSeries) -> np.ndarray:
    values = np.asarray(geoms.values, dtype=object)
    rounded = shapely.transform(values, lambda xy: np.round(xy, COORD_DECIMALS))
    # RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise.
    return shapely.orient_polygons(rounded, exterior_cw=False)


def to_feature_collection(frame: gpd.GeoDataFrame, layer: str | None = None) -> bytes:
    """Serialise a WGS-84 frame as the store's GeoJSON bytes (one feature per line).

    Property order follows the layer schema, then any extra properties; missing values
    are left out rather than written as ``null``.
    """
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    fields = get_layer(layer).fields if layer else ()
    order = [f.name for f in fields]
    # pandas turns an int column with gaps into floats; the schema says what it really is.
    whole_numbers = {f.name for f in fields if f.kind == "int"}
    positions = {f.name for f in fields if f.kind == "lonlat_list"}
    columns = [c for c in order if c in frame.columns]
    columns += [c for c in frame.columns if c not in columns and c != frame.geometry.name]
    geometries = _round_geometries(frame.geometry) if len(frame) else []
    lines = []
    records = frame[columns].to_dict(orient="records") if len(frame) else []
    for record, geometry in zip(records, geometries, strict=True):
        props = {}
        for key, value in record.items():
            value = _json_value(value)
            if key in whole_numbers and isinstance(value, float) and value.is_integer():
                value = int(value)
            elif key in positions and isinstance(value, list):
                value = [
                    [round(c, COORD_DECIMALS) if isinstance(c, float) else c for c in pair]
                    if isinstance(pair, list)
                    else pair
                    for pair in value
                ]
            if value is not None:
                props[key] = value
        feature = {
            "type": "Feature",
            "id": props.get("id"),
            "geometry": json.loads(shapely.to_geojson(geometry)) if geometry else None,
            "properties": props,
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    body = ",\n".join(lines)
    text = '{"type":"FeatureCollection","features":[\n' + body + ("\n" if lines else "") + "]}\n"
    return text.encode("utf-8")


def atomic_write_bytes(path: str | os.PathLike[str], content: bytes) -> None:
    """Write ``content`` to ``path`` so that readers see the old file or the new, never half.

    The bytes go to a temporary file in the same folder (same filesystem, so the rename is
    atomic), which is fsynced before ``os.replace``; the folder is fsynced after so that
    the rename itself survives a power cut.
    """
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            os.chmod(tmp_name, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_layer(
    frame: gpd.GeoDataFrame,
    layer: str,
    folder: str | os.PathLike[str] | None = None,
    *,
    validate: bool = True,
    lock: bool = True,
) -> Path:
    """Validate ``frame`` against the layer rules and replace the layer file atomically.

    Raises :class:`~geo.errors.ValidationError` (and writes nothing) when any error is
    found. Pass ``lock=False`` only when the caller already holds :func:`locked`.
    """
    from geo.validate import validate_layer

    path = layer_path(data_dir(folder), layer)
    if validate:
        problems = validate_layer(frame, layer, source=str(path))
        if any(p.severity == "error" for p in problems):
            raise ValidationError(problems, f"{path}: 数据校验失败 / validation failed")
    content = to_feature_collection(frame, layer)
    if lock:
        with locked(path.parent):
            atomic_write_bytes(path, content)
    else:
        atomic_write_bytes(path, content)
    return path
