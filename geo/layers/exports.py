"""Export layers to GeoJSON, GeoPackage, Shapefile or CSV files, in the CRS another tool wants.

:func:`export_layer` writes atomically, converts ``entrances`` with the geometries and
keeps within a shapefile's limits: field names of at most 10 bytes (which
:func:`geo.layers.imports.import_layer` maps back) and texts of at most 254 bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.atomic import atomic_write_bytes
from geo.crs import convert_geometries, convert_pairs, parse_crs
from geo.errors import Problem, ValidationError
from geo.layers.cells import safe_table
from geo.layers.geojson import to_feature_collection
from geo.layers.imports import SHP_FIELD_NAMES, OptionError
from geo.layers.sources import blank
from geo.layers.store import Location, open_store
from geo.schema import get_layer

__all__ = [
    "EXPORT_FORMATS",
    "export_layer",
]

#: Export formats and their file extensions.
EXPORT_FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".shp", "csv": ".csv"}
_DBF_TEXT_LIMIT = 254  # bytes in a DBF character field


#: The shifted Chinese systems: no EPSG code, easily mistaken for WGS-84.
SHIFTED = ("gcj02", "bd09")


def export_layer(
    layer: str,
    out: str | os.PathLike[str] | None = None,
    *,
    folder: Location = None,
    fmt: str | None = None,
    crs: str = "wgs84",
) -> Path:
    """Write ``layer`` to a GeoJSON, GeoPackage, Shapefile or CSV file, atomically.

    Parameters
    ----------
    layer : str
        Layer to export.
    out : path-like, optional
        Output file, replaced if it exists; default ``./<layer>.<ext>``.
    folder : LayerStore, path or URL, optional
        The store (default: the settings' store).
    fmt : {"geojson", "gpkg", "shp", "csv"}, optional
        Default: from ``out``'s extension, else ``geojson``.
    crs : str
        ``wgs84`` (default), ``gcj02`` (Gaode/Tencent), ``bd09`` (Baidu), ``cgcs2000`` or
        ``EPSG:xxxx``. ``entrances`` are converted too.

    Returns
    -------
    pathlib.Path
        The file written (the ``.shp`` of a shapefile).

    Raises
    ------
    OptionError
        Unknown ``fmt``, a format that cannot be told from ``out``, a missing output
        folder, or a shapefile of a layer that mixes geometry types.
    CRSError
        ``crs`` is not a CRS lifecircle knows.
    UnknownLayerError
        ``layer`` is not one of the layers.
    StoreError
        The store cannot be opened.
    SourceReadError, ValidationError
        The stored layer cannot be parsed.

    Warns
    -----
    UserWarning
        Shapefile texts over 254 bytes were cut.

    Notes
    -----
    RFC 7946 requires WGS-84, so a GeoJSON in GCJ-02/BD-09 is only for tools that want
    those coordinates (Gaode/Baidu maps): it says so in a ``"coordinate_system"`` member,
    which ``lifecircle import`` reads back; one in an EPSG system gets an old-style ``crs``
    member that GDAL and QGIS read. GCJ-02 and BD-09 have no EPSG code: GeoPackages and
    shapefiles in them are *labelled* EPSG:4326 although their coordinates are shifted.
    Shapefiles are UTF-8 with a ``.cpg`` (so QGIS reads Chinese), field names at most 10
    bytes (see :data:`SHP_FIELD_NAMES`), texts over 254 bytes cut with a warning. CSV is
    UTF-8 with BOM (for Excel/WPS), with ``lon``/``lat`` (``x``/``y`` when projected) for
    points and ``wkt`` for other shapes. Lists become JSON text except in GeoJSON.
    """
    if fmt is None:
        suffix = Path(out).suffix.lower() if out is not None else ".geojson"
        fmt = {".json": "geojson", **{v: k for k, v in EXPORT_FORMATS.items()}}.get(suffix)
        if fmt is None:
            raise OptionError(
                f"无法从扩展名 '{suffix}' 判断格式 / cannot tell the format from '{suffix}'; "
                f"用 --format 指定 / pass --format ({', '.join(EXPORT_FORMATS)})"
            )
    if fmt not in EXPORT_FORMATS:
        raise OptionError(
            f"未知格式 '{fmt}' / unknown format; 可选 / use {', '.join(EXPORT_FORMATS)}"
        )
    target = Path(out) if out is not None else Path.cwd() / f"{layer}{EXPORT_FORMATS[fmt]}"
    if not target.parent.is_dir():
        raise OptionError(f"输出目录不存在 / output folder not found: {target.parent}")
    parsed = parse_crs(crs)
    frame = open_store(folder).read(layer)
    geographic = isinstance(parsed, str) or parsed.is_geographic
    geoms = convert_geometries(np.asarray(frame.geometry.values, dtype=object), parsed, False)
    decimals = 7 if geographic else 3  # ~1 cm either way, as in the store
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, decimals)) if len(geoms) else geoms
    props = frame.drop(columns=frame.geometry.name).reset_index(drop=True)
    if "entrances" in props.columns:
        gates = [convert_pairs(v, parsed, False) for v in props["entrances"]]
        props["entrances"] = pd.Series(gates, index=props.index, dtype=object)
    if fmt == "geojson":
        content = to_feature_collection(  # crs=None: keep the converted coordinates
            gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms), crs=None), layer
        )
        head = b'{"type":"FeatureCollection",'
        if isinstance(parsed, CRS):
            urn = f"urn:ogc:def:crs:{parsed.to_string().replace(':', '::')}"
            member = json.dumps({"type": "name", "properties": {"name": urn}}).encode()
            content = head + b'"crs":' + member + b"," + content[len(head) :]
        elif parsed in SHIFTED:
            # no standard way to say so: a foreign member, which `lifecircle import` honours
            member = json.dumps(parsed).encode()
            content = head + b'"coordinate_system":' + member + b"," + content[len(head) :]
        atomic_write_bytes(target, content)
    elif fmt == "csv":
        _write_csv(target, props, geoms, geographic, layer)
    else:
        table = _ogr_table(props, layer, shapefile=fmt == "shp")
        label = parsed if isinstance(parsed, CRS) else "EPSG:4326"
        out_frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms), crs=label)
        _write_ogr(target, out_frame, layer, fmt)
    return target


def _json_text(value: Any) -> Any:
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return None if blank(value) else value


def _write_csv(target: Path, props: pd.DataFrame, geoms: Any, geographic: bool, layer: str) -> None:
    table = props.astype(object).map(_json_text)
    points = [g is not None and g.geom_type == "Point" for g in geoms]
    allowed = get_layer(layer).geometry_types
    x, y = ("lon", "lat") if geographic else ("x", "y")
    if any(points) or (not len(geoms) and "Point" in allowed):
        table[x] = [g.x if p else None for g, p in zip(geoms, points, strict=True)]
        table[y] = [g.y if p else None for g, p in zip(geoms, points, strict=True)]
    if not all(points) or (not len(geoms) and allowed != ("Point",)):
        table["wkt"] = [
            None if p or g is None else shapely.to_wkt(g, rounding_precision=7)
            for g, p in zip(geoms, points, strict=True)
        ]
    # no cell a spreadsheet could run (geo.layers.cells); CRLF, as Excel writes
    text = safe_table(table).to_csv(index=False, lineterminator="\r\n")
    atomic_write_bytes(target, text.encode("utf-8-sig"))


def _ogr_table(props: pd.DataFrame, layer: str, shapefile: bool) -> pd.DataFrame:
    """Properties typed by the schema (not by the values), lists as JSON text."""
    kinds = {f.name: f.kind for f in get_layer(layer).fields}
    dtypes = {"int": "Int64", "float": "Float64", "bool": "boolean"}
    table = pd.DataFrame(index=props.index)
    for column in props.columns:
        values = [_json_text(v) for v in props[column].tolist()]
        if kinds.get(column) in dtypes:
            try:
                table[column] = pd.array(values, dtype=dtypes[kinds[column]])
            except (OverflowError, TypeError, ValueError):
                _refuse_values(props, column, values, dtypes[kinds[column]])
        else:
            texts = [None if v is None else str(v) for v in values]
            table[column] = pd.Series(texts, index=props.index, dtype=object)
    return _shapefile_columns(table) if shapefile else table


def _refuse_values(props: pd.DataFrame, column: str, values: list[Any], dtype: str) -> None:
    """A stored value no GeoPackage or shapefile column can hold (an integer beyond 64 bits
    or a text in a number field, from a file edited by hand): say which, never overflow."""
    ids = props["id"].tolist() if "id" in props.columns else list(range(1, len(props) + 1))
    problems = []
    for feature, value in zip(ids, values, strict=True):
        try:
            pd.array([value], dtype=dtype)
            fits = True
        except (OverflowError, TypeError, ValueError):
            fits = False
        if not fits:
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "…"
            problems.append(Problem(
                "<store>", str(feature), column,
                f"值 {shown} 无法写入数字列 / {shown} does not fit a number column",
                "先运行 lifecircle validate 并修正 / run lifecircle validate and fix it",
            ))  # fmt: skip
    raise ValidationError(
        problems, f"导出失败：{column} 中有无法写出的值 / export failed: values of {column} "
        "cannot be written; nothing written",
    )  # fmt: skip


def _cut_bytes(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")  # whole characters


def _shapefile_columns(table: pd.DataFrame) -> pd.DataFrame:
    """DBF limits: names of at most 10 bytes, unique ignoring case; texts of 254 bytes."""
    renames: dict[str, str] = {}
    for column in table.columns:
        short, suffix = SHP_FIELD_NAMES.get(column) or _cut_bytes(column, 10), 1
        while short.lower() in {v.lower() for v in renames.values()}:
            short = _cut_bytes(column, 10 - len(f"_{suffix}")) + f"_{suffix}"
            suffix += 1
        renames[column] = short
    table = table.rename(columns=renames)
    cut = []
    for column in [c for c in table.columns if table[c].dtype == object]:
        before = table[column].tolist()
        after = [v if v is None else _cut_bytes(v, _DBF_TEXT_LIMIT) for v in before]
        if after != before:
            cut.append(column)
            table[column] = pd.Series(after, index=table.index, dtype=object)
    if cut:
        warnings.warn(
            f"shapefile 文本超过 {_DBF_TEXT_LIMIT} 字节已截断 / texts longer than "
            f"{_DBF_TEXT_LIMIT} bytes were cut in {', '.join(cut)}; 导出 gpkg 可保留全文 / "
            "export gpkg to keep them whole",
            UserWarning,
            stacklevel=4,
        )
    return table


def _write_ogr(target: Path, frame: gpd.GeoDataFrame, layer: str, fmt: str) -> None:
    """Write into a scratch folder beside ``target``, then rename each file into place.

    The same filesystem makes each ``os.replace`` atomic; the scratch name keeps the real
    extension so GDAL does not complain. A shapefile's ``.shp`` moves last, so a reader
    that finds it also finds the new sidecars.
    """
    kinds = {g.geom_type.removeprefix("Multi") for g in frame.geometry if g is not None}
    if fmt == "shp" and len(kinds) > 1:
        mixed = ", ".join(sorted(kinds))
        raise OptionError(
            f"shapefile 只能存一种几何类型，{layer} 含 {mixed} / a shapefile holds one geometry "
            f"type but {layer} mixes {mixed}; 请导出 gpkg 或 geojson / export gpkg or geojson"
        )
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.stem}.", suffix=".tmp", dir=target.parent))
    try:
        temp = scratch / target.name
        if fmt == "gpkg":
            pyogrio.write_dataframe(frame, temp, driver="GPKG", layer=layer)
        else:
            pyogrio.write_dataframe(frame, temp, driver="ESRI Shapefile", encoding="UTF-8")
            temp.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
        for part in sorted(scratch.iterdir(), key=lambda p: p.suffix.lower() == ".shp"):
            with open(part, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(part, target.parent / part.name)
        if fmt == "shp":
            for stale in (".qix", ".sbn", ".sbx"):  # an old spatial index would misdirect
                target.with_suffix(stale).unlink(missing_ok=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
