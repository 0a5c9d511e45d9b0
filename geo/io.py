"""Import files into layers and export layers to files.

Sources arrive as GeoJSON, GeoPackage, Shapefile (often GBK without a ``.cpg``), CSV (GBK
or UTF-8 with BOM, from Excel/WPS) and XLSX, in WGS-84, GCJ-02 (Gaode, Tencent), BD-09
(Baidu) or an EPSG system. :func:`read_source` turns any of them into one WGS-84 frame;
:func:`import_layer` renames, types, validates and writes it into the store, all or nothing;
:func:`export_layer` writes a layer out in the format and CRS another tool wants.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from geo import crs as gcrs
from geo import store as gstore
from geo.errors import ImportFailedError, LifecircleError, Problem, SourceReadError
from geo.schema import get_layer
from geo.validate import coerce_layer, validate_layer

__all__ = [
    "EXPORT_FORMATS",
    "SHP_FIELD_NAMES",
    "SOURCE_FORMATS",
    "ImportReport",
    "OptionError",
    "export_layer",
    "import_layer",
    "read_source",
]

#: Source formats by file extension.
SOURCE_FORMATS = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".shp": "shp"}
SOURCE_FORMATS |= {".csv": "csv", ".xlsx": "xlsx"}
#: Export formats and their file extensions.
EXPORT_FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".shp", "csv": ".csv"}
#: Schema fields longer than a DBF field name (10 bytes) and their shapefile names; import
#: maps them back, so an exported shapefile imports unchanged.
SHP_FIELD_NAMES = {
    "subdistrict": "subdistrct",
    "floor_area_m2": "floor_m2",
    "health_station": "health_stn",
    "residential_area_id": "res_areaid",
}

# Compared lower-cased without a bracketed suffix, so "经度（GCJ02）" is found too.
_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经")
_LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬")
_PAIR_NAMES = ("location", "lnglat", "lonlat", "经纬度")  # Gaode: "121.5,31.2"
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
# UTF-8 first: GBK "decodes" much UTF-8 into mojibake, but GBK text is rarely valid UTF-8.
_TEXT_ENCODINGS = ("utf-8", "gbk", "gb18030")
_DBF_TEXT_LIMIT = 254  # bytes in a DBF character field
_ID_DECIMALS = 6  # ~0.1 m: the same file gives the same ids, float noise does not matter
_FIX_HINT = "修正后重试，或用 --skip-invalid 跳过 / fix them, or pass --skip-invalid"


class OptionError(LifecircleError, ValueError):
    """An import or export option that cannot be used (unknown format, mode or folder)."""


@dataclass
class ImportReport:
    """What :func:`import_layer` did: how many features went where, what was left out."""

    layer: str
    source: str
    path: Path
    imported: int
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    mode: str = "append"
    crs: str = "wgs84"
    encoding: str | None = None
    skipped_features: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A short bilingual summary, then one line per skipped problem and per warning."""
        n, skipped = self.imported, len(self.skipped_features)
        encoding = f" · 编码 / encoding: {self.encoding}" if self.encoding else ""
        lines = [
            f"导入 {n} 条到 {self.layer}（跳过 {skipped} 条）/ imported {n} features into "
            f"{self.layer} ({skipped} skipped, mode {self.mode})",
            f"  来源 / source: {self.source} · 坐标系 / CRS: {self.crs}{encoding}",
            f"  写入 / written: {self.path}",
        ]
        lines += [f"  ✗ 跳过 / skipped: {p}" for p in self.skipped]
        lines += [f"  ! {p}" for p in self.warnings]
        return "\n".join(lines)


@dataclass
class _Source:
    frame: gpd.GeoDataFrame  # WGS-84, raw properties, positional index
    labels: list[str]  # one unique name per row for messages: "row 5", an id or "#3"
    problems: list[Problem]  # per-row read problems; those rows have no geometry
    notes: list[Problem]  # file-level warnings (CRS override, CRS assumed)
    crs: Any  # geo.crs.parse_crs of the source CRS
    crs_label: str
    encoding: str | None
    kind: str
    coordinate_columns: list[str]


# --------------------------------------------------------------------------- reading


def read_source(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    crs: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    sheet: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a source file into a WGS-84 GeoDataFrame with its raw properties.

    Parameters
    ----------
    path : path-like
        ``.geojson``/``.json``, ``.gpkg``, ``.shp``, ``.csv`` or ``.xlsx``.
    encoding : str, optional
        Force the text encoding of a shapefile's attributes or a CSV. By default a
        ``.cpg`` is obeyed, else UTF-8 (with or without BOM), GBK, GB18030 are tried.
    crs : str, optional
        Source CRS (``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``, ``EPSG:xxxx``). It wins
        over the file's own CRS (``.prj``, GeoPackage, GeoJSON ``crs``); a disagreement
        is noted. Without either, WGS-84.
    lon_col, lat_col : str, optional
        CSV/XLSX coordinate columns; found by name when not given (lon/lng/x/经度,
        lat/y/纬度, Gaode's ``location`` "lon,lat", or ``wkt``).
    sheet : str, optional
        XLSX worksheet, or GeoPackage layer (default: the first).

    Returns
    -------
    geopandas.GeoDataFrame
        Rows in file order. ``attrs`` holds ``crs``, ``encoding``, ``labels`` (row names
        as used in problems), ``problems`` (rows whose position cannot be read; their
        geometry is None), ``notes`` and ``coordinate_columns``.

    Raises
    ------
    SourceReadError
        The file is missing, of an unknown kind, or cannot be parsed at all.
    """
    src = _read(Path(path), encoding, crs, lon_col, lat_col, sheet)
    attrs = {k: v for k, v in vars(src).items() if k not in ("frame", "crs", "kind")}
    src.frame.attrs.update(attrs, crs=attrs.pop("crs_label"))
    return src.frame


def _read(path: Path, encoding: str | None, crs: str | None, *columns: str | None) -> _Source:
    lon_col, lat_col, sheet = columns
    name = str(path)
    kind = SOURCE_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise SourceReadError(
            f"{name}: 不支持的文件类型 '{path.suffix}' / unsupported file type; 支持 / supported: "
            f"{', '.join(SOURCE_FORMATS)} (.xls: 请另存为 .xlsx / save it as .xlsx)"
        )
    if not path.is_file():
        raise SourceReadError(f"{name}: 文件不存在 / file not found; 检查路径 / check the path.")
    problems: list[Problem] = []
    used_columns: list[str] = []
    used_encoding = declared = None
    if kind == "geojson":
        frame, problems, declared = _read_geojson(path, encoding)
    elif kind == "shp":
        ogr_encoding, used_encoding = _shapefile_encoding(path, encoding)
        frame = _read_ogr(path, encoding=ogr_encoding)
        declared = frame.crs
    elif kind == "gpkg":
        frame = _read_ogr(path, layer=_gpkg_layer(path, sheet))
        declared = frame.crs
    else:
        if kind == "csv":
            table, used_encoding = _read_csv(path, encoding)
        else:
            table = _read_xlsx(path, sheet)
        labels = [f"row {index + 2}" for index in table.index]  # header is row 1
        table = table.reset_index(drop=True)
        geoms, problems, used_columns = _table_geometries(table, labels, name, lon_col, lat_col)
        frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms))
    if kind not in ("csv", "xlsx"):
        labels = _feature_labels(frame)
    if len(frame) == 0:
        raise SourceReadError(f"{name}: 文件中没有要素 / no features in the file.")
    parsed, notes = _resolve_crs(crs, declared, name, kind)
    geoms = _convert_geoms(np.asarray(frame.geometry.values, dtype=object), parsed, True)
    props = frame.drop(columns=frame.geometry.name).reset_index(drop=True).astype(object)
    props = props.where(props.notna(), None)
    out = gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms), crs="EPSG:4326")
    label = _crs_label(parsed)
    return _Source(out, labels, problems, notes, parsed, label, used_encoding, kind, used_columns)


def _read_geojson(path: Path, encoding: str | None) -> tuple[gpd.GeoDataFrame, list, CRS | None]:
    text: str | bytes = path.read_bytes()
    if encoding:
        text = _decode(path.read_bytes(), encoding, str(path))
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        gstore.parse_feature_collection(text, str(path))  # raises with line and column
        raise
    member = json.dumps(doc.get("crs") if isinstance(doc, dict) else None)
    if member != "null" and "4326" not in member and "CRS84" not in member:
        # Old-style GeoJSON in another CRS (it has a crs member): GDAL reads that member,
        # the store's RFC 7946 parser deliberately refuses it.
        frame = _read_ogr(path)
        return frame, [], frame.crs
    frame, problems = gstore.parse_feature_collection(text, str(path))
    return frame, problems, None  # RFC 7946: WGS-84 by definition, nothing declared


def _read_ogr(path: Path, **options: Any) -> gpd.GeoDataFrame:
    options = {key: value for key, value in options.items() if value}
    try:
        return gpd.read_file(path, engine="pyogrio", **options)
    except (RuntimeError, OSError, ValueError, UnicodeDecodeError) as exc:
        hint = "用 QGIS 打开检查 / open it in QGIS to check"
        if path.suffix.lower() == ".shp":
            hint = "确认 .shp/.shx/.dbf/.prj 齐全 / keep .shp, .shx, .dbf and .prj together"
        raise SourceReadError(f"{path}: 无法读取 / cannot read ({exc}); {hint}.") from None


def _gpkg_layer(path: Path, wanted: str | None) -> str | None:
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except (RuntimeError, OSError) as exc:
        raise SourceReadError(f"{path}: 无法读取 / cannot read ({exc}).") from None
    if wanted is not None and wanted not in layers:
        raise SourceReadError(
            f"{path}: 没有图层 '{wanted}' / no layer '{wanted}'; 可用 / available: {', '.join(layers)}"
        )
    return wanted or (layers[0] if layers else None)  # explicit, so pyogrio does not warn


def _sidecar(path: Path, suffix: str) -> Path | None:
    found = [p for p in (path.with_suffix(suffix), path.with_suffix(suffix.upper())) if p.is_file()]
    return found[0] if found else None


def _shapefile_encoding(path: Path, forced: str | None) -> tuple[str | None, str]:
    """(encoding for pyogrio, encoding to report): --encoding, else .cpg, else detected."""
    if forced:
        return forced, forced
    cpg = _sidecar(path, ".cpg")
    if cpg is not None:  # GDAL obeys the .cpg itself
        return None, cpg.read_text(encoding="ascii", errors="replace").strip() or "cpg"
    dbf = _sidecar(path, ".dbf")
    if dbf is None:
        raise SourceReadError(
            f"{path}: 缺少 .dbf 属性表 / the .dbf attribute table is missing; 复制同名的全部文件 / "
            "copy every file of the shapefile."
        )
    text = _dbf_text(dbf.read_bytes())
    for encoding in _TEXT_ENCODINGS:
        try:
            text.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding, encoding
    return None, "GDAL default"


def _dbf_text(raw: bytes) -> bytes:
    """The text bytes of a DBF (field names and records), without its binary header."""
    if len(raw) < 32:
        return b""
    records, header, width = (
        int.from_bytes(raw[a:b], "little") for a, b in ((4, 8), (8, 10), (10, 12))
    )
    names = []
    for offset in range(32, min(header, len(raw)) - 1, 32):
        if raw[offset] == 0x0D:  # end of the field descriptors
            break
        names.append(raw[offset : offset + 11].split(b"\0", 1)[0])
    return b"\n".join(names) + b"\n" + raw[header : header + records * width]


def _decode(raw: bytes, encoding: str, name: str) -> str:
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except LookupError:
        raise SourceReadError(f"{name}: 未知编码 / unknown encoding '{encoding}'.") from None
    except UnicodeDecodeError as exc:
        raise SourceReadError(
            f"{name}: 不是 {encoding} 编码 / cannot decode as {encoding} (byte {exc.start}); "
            "去掉 --encoding 自动识别 / drop --encoding to detect it."
        ) from None


def _read_csv(path: Path, forced: str | None) -> tuple[pd.DataFrame, str]:
    raw = path.read_bytes()
    if forced:
        text, used = _decode(raw, forced, str(path)), forced
    else:
        for used in _TEXT_ENCODINGS:
            try:
                text = raw.decode(used)
            except UnicodeDecodeError:
                continue
            if text.startswith("\ufeff"):  # Excel's "CSV UTF-8" starts with a BOM
                text, used = text[1:], "utf-8-sig"
            break
        else:
            raise SourceReadError(
                f"{path}: 无法识别编码 / not UTF-8, GBK or GB18030; 用 --encoding 指定 / pass --encoding."
            )
    header = text.split("\n", 1)[0]
    sep = next((s for s in (",", "\t", ";") if s in header), ",")
    try:  # all text: ids keep leading zeros, coerce_layer types the schema fields
        table = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=False
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceReadError(f"{path}: CSV 无法解析 / cannot parse the CSV: {exc}") from None
    return _tidy_table(table), used


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # Workbooks from WPS and some exporters lack a default style; harmless.
            warnings.filterwarnings("ignore", message=".*default style", category=UserWarning)
            with pd.ExcelFile(path, engine="openpyxl") as book:
                names = [str(n) for n in book.sheet_names]
                if sheet is not None and sheet not in names:
                    raise SourceReadError(
                        f"{path}: 没有工作表 '{sheet}' / no worksheet '{sheet}'; 可用 / "
                        f"available: {', '.join(names)}"
                    )
                table = pd.read_excel(book, sheet_name=sheet or 0, dtype=object)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        raise SourceReadError(
            f"{path}: 无法读取 Excel / cannot read the workbook ({exc})."
        ) from None
    return _tidy_table(table)


def _tidy_table(table: pd.DataFrame) -> pd.DataFrame:
    table = table.astype(object)
    table.columns = [str(c).strip() for c in table.columns]
    table = table.map(lambda v: None if _blank(v) else v)
    return table[table.notna().any(axis=1)]  # keeps the index: the spreadsheet row number


def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _find_column(columns: list[str], forced: str | None, names: tuple, source: str) -> str | None:
    if forced is not None:
        found = [c for c in columns if c.lower() == forced.lower()]
        if not found:
            raise SourceReadError(
                f"{source}: 没有列 '{forced}' / no column '{forced}'; 现有列 / columns: "
                f"{', '.join(columns)}"
            )
        return found[0]
    normal = {c: re.sub(r"[(（\[【].*?[)）\]】]", "", c).strip().lower() for c in columns}
    return next((c for n in names for c in columns if normal[c] == n), None)


def _number(value: Any) -> float:
    if isinstance(value, str):
        value = value.strip().rstrip("°").replace(" ", "")
    number = float(value)  # a bool or None raises TypeError/ValueError, as they should
    if isinstance(value, bool) or not math.isfinite(number):
        raise ValueError(value)
    return number


def _table_geometries(
    table: pd.DataFrame, labels: list[str], source: str, lon_col: str | None, lat_col: str | None
) -> tuple[list[Any], list[Problem], list[str]]:
    """Points (or WKT shapes) of a CSV/XLSX; one problem per row without a position."""
    columns = list(table.columns)
    lon = _find_column(columns, lon_col, _LON_NAMES, source)
    lat = _find_column(columns, lat_col, _LAT_NAMES, source)
    forced = lon_col is not None or lat_col is not None
    pair = None if forced else _find_column(columns, None, _PAIR_NAMES, source)
    wkt = None if forced else _find_column(columns, None, _WKT_NAMES, source)
    if lon is None or lat is None:
        lon = lat = None
        if pair is None and wkt is None:
            raise SourceReadError(
                f"{source}: 找不到坐标列 / no coordinate columns (lon/lng/x/经度 + lat/y/纬度, "
                "location or wkt); 用 --lon-col/--lat-col 指定 / pass --lon-col and --lat-col. "
                f"现有列 / columns: {', '.join(columns)}"
            )
    geoms: list[Any] = []
    problems: list[Problem] = []
    hint = "填十进制度 / use decimal degrees, e.g. 121.5"
    for label, row in zip(labels, table.to_dict(orient="records"), strict=True):
        try:
            geoms.append(_row_geometry(row, lon, lat, pair, wkt))
        except _CoordinateError as exc:
            column, value = exc.args
            message = f"无法识别的坐标 / unreadable coordinate {value!r}"
            if _blank(value):
                message = "缺少坐标 / coordinate missing"
            problems.append(Problem(source, label, column, message, hint))
            geoms.append(None)
    return geoms, problems, [c for c in (lon, lat, pair, wkt) if c is not None]


class _CoordinateError(ValueError):
    """(column, value) of a row whose position cannot be read."""


def _row_geometry(row: dict[str, Any], lon: Any, lat: Any, pair: Any, wkt: Any) -> Any:
    if wkt is not None and not _blank(row[wkt]):
        try:
            return shapely.from_wkt(str(row[wkt]))
        except shapely.errors.GEOSException:
            raise _CoordinateError(wkt, row[wkt]) from None
    if lon is not None and not (_blank(row[lon]) and _blank(row[lat])):
        cells = [(lon, row[lon]), (lat, row[lat])]
    elif pair is not None and not _blank(row[pair]):
        parts = re.split(r"[,，;\s]+", str(row[pair]).strip())
        if len(parts) != 2:
            raise _CoordinateError(pair, row[pair])
        cells = [(pair, part) for part in parts]
    else:
        raise _CoordinateError(lon or pair or wkt, None)
    try:
        return shapely.Point([_number(value) for _, value in cells])
    except (ValueError, TypeError):
        column = next(c for c, v in cells if not _is_number(v))
        raise _CoordinateError(column, row[column]) from None


def _is_number(value: Any) -> bool:
    try:
        _number(value)
    except (ValueError, TypeError):
        return False
    return True


def _feature_labels(frame: pd.DataFrame) -> list[str]:
    ids = frame["id"].tolist() if "id" in frame.columns else [None] * len(frame)
    base = [_id_text(v) or f"#{i + 1}" for i, v in enumerate(ids)]
    counts = pd.Series(base, dtype=object).value_counts()
    return [f"{b} (#{i + 1})" if counts[b] > 1 else b for i, b in enumerate(base)]


# ----------------------------------------------------------------------------- CRS


def _crs_label(parsed: Any) -> str:
    if isinstance(parsed, str):
        return parsed
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.name


def _normalise_crs(value: Any) -> Any:
    parsed = gcrs.parse_crs(value)
    if isinstance(parsed, CRS) and parsed.to_epsg() == 4326:
        return "wgs84"
    return parsed


def _resolve_crs(
    explicit: str | None, declared: CRS | None, source: str, kind: str
) -> tuple[Any, list[Problem]]:
    """The source CRS: --crs wins over the file's own, which wins over WGS-84."""
    own = _normalise_crs(declared) if declared is not None else None
    parsed = _normalise_crs(explicit) if explicit is not None else own or "wgs84"
    if explicit is not None and own is not None and _crs_label(own) != _crs_label(parsed):
        message = (
            f"以 --crs {_crs_label(parsed)} 为准，忽略文件自带的 {_crs_label(own)} / --crs "
            f"{_crs_label(parsed)} overrides the file's own CRS {_crs_label(own)}"
        )
        hint = "若文件坐标系正确，去掉 --crs / drop --crs if the file's CRS is right"
        return parsed, [Problem(source, None, "crs", message, hint, "warning")]
    if explicit is None and own is None and kind in ("shp", "gpkg"):
        message = "文件未声明坐标系，按 WGS-84 处理 / the file declares no CRS; assumed WGS-84"
        hint = "缺少 .prj？用 --crs 指定 / missing .prj? pass --crs"
        return parsed, [Problem(source, None, "crs", message, hint, "warning")]
    return parsed, []


def _convert_geoms(geoms: np.ndarray, parsed: Any, to_wgs84: bool) -> np.ndarray:
    """Geometries from ``parsed`` to WGS-84 (or back); missing geometries stay missing."""
    if parsed == "wgs84":
        return geoms
    out = np.array(geoms, dtype=object)
    present = ~(shapely.is_missing(out) | shapely.is_empty(out))
    if not present.any():
        return out
    if isinstance(parsed, str):  # GCJ-02/BD-09: geo.crs's exact inverses, not pyproj
        convert = gcrs.geometries_to_wgs84 if to_wgs84 else gcrs.geometries_from_wgs84
        converted = convert(out[present], parsed)
    else:
        source, target = (parsed, "EPSG:4326") if to_wgs84 else ("EPSG:4326", parsed)
        converted = gpd.GeoSeries(out[present], crs=source).to_crs(target).values
    out[present] = np.asarray(converted, dtype=object)
    return out


def _convert_pairs(value: Any, parsed: Any, to_wgs84: bool) -> Any:
    """``entrances`` ([[lon, lat], ...]) into the same CRS as the geometries."""
    if not isinstance(value, list) or not value or parsed == "wgs84":
        return value
    try:
        xy = np.asarray(value, dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        return value  # validation reports the malformed list
    if isinstance(parsed, str):
        x, y = (gcrs.to_wgs84 if to_wgs84 else gcrs.from_wgs84)(xy[:, 0], xy[:, 1], parsed)
    else:
        source, target = (parsed, "EPSG:4326") if to_wgs84 else ("EPSG:4326", parsed)
        x, y = Transformer.from_crs(source, target, always_xy=True).transform(xy[:, 0], xy[:, 1])
    return [[float(a), float(b)] for a, b in zip(np.atleast_1d(x), np.atleast_1d(y), strict=True)]


# ---------------------------------------------------------------------------- import


def _id_text(value: Any) -> str | None:
    """An id or name as text: ``12.0`` from Excel becomes ``"12"``; blanks become None."""
    if _blank(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _assign_ids(layer: str, props: pd.DataFrame, geoms: np.ndarray) -> list[str]:
    """Source ids where given, else ``<layer>-`` + 10 hex of sha1(layer, name, position).

    The same row of the same file gets the same id on every import, so appending a file
    twice is caught as duplicate ids. Same name at the same spot: ``-2``, ``-3`` in order.
    """
    given = [_id_text(v) for v in props["id"]] if "id" in props.columns else [None] * len(props)
    names = props["name"].tolist() if "name" in props.columns else [None] * len(props)
    used = {i for i in given if i}
    ids = []
    for value, name, geom in zip(given, names, geoms, strict=True):
        if not value:
            where = "-"
            if geom is not None and not geom.is_empty:
                point = geom if geom.geom_type == "Point" else geom.centroid
                where = f"{point.x:.{_ID_DECIMALS}f},{point.y:.{_ID_DECIMALS}f}"
            key = f"{layer}|{_id_text(name) or ''}|{where}".encode()
            value = base = f"{layer}-{hashlib.sha1(key).hexdigest()[:10]}"
            suffix = 2
            while value in used:
                value, suffix = f"{base}-{suffix}", suffix + 1
        used.add(value)
        ids.append(value)
    return ids


def _prepare(
    src: _Source, layer: str, mapping: dict[str, str], set_values: dict[str, Any], source: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Shapefile names back to schema names, then --map, --set; coordinate columns out."""
    props = src.frame.drop(columns=src.frame.geometry.name)
    spec = get_layer(layer)
    if src.kind == "shp":
        back = {a: f for f, a in SHP_FIELD_NAMES.items() if spec.field(f) and f not in props}
        props = props.rename(columns={a: f for a, f in back.items() if a not in mapping})
    unknown = [column for column in mapping if column not in props.columns]
    if unknown:
        hint = f"可用列 / available columns: {', '.join(map(str, props.columns))}"
        problems = [
            Problem(source, None, c, f"源文件没有列 '{c}' / the source has no column '{c}'", hint)
            for c in unknown
        ]
        raise ImportFailedError(problems, f"{source}: --map 列名错误 / unknown --map column")
    notes = []
    for old, new in mapping.items():
        if new in props.columns and new not in mapping and new != old:
            props = props.drop(columns=new)
            message = f"原有列 '{new}' 被 '{old}' 替换 / column '{new}' replaced by '{old}'"
            notes.append(Problem(source, None, new, message, severity="warning"))
    dropped = [c for c in src.coordinate_columns if c not in mapping]
    props = props.drop(columns=dropped).rename(columns=mapping)
    for key, value in set_values.items():
        props[key] = pd.Series([value] * len(props), index=props.index, dtype=object)
    for name in (f.name for f in spec.fields if f.kind == "bool" and f.name in props.columns):
        # GeoPackage/shapefile booleans with gaps come back as 1.0/0.0.
        values = [_numeric_bool(v) for v in props[name]]
        props[name] = pd.Series(values, index=props.index, dtype=object)
    return props, notes


def _numeric_bool(value: Any) -> Any:
    numeric = isinstance(value, int | float | np.integer | np.floating)
    return bool(value) if numeric and not isinstance(value, bool) and value in (0, 1) else value


def import_layer(
    layer: str,
    path: str | os.PathLike[str],
    *,
    folder: str | os.PathLike[str] | None = None,
    mode: str = "append",
    crs: str | None = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    set_values: dict[str, Any] | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import a source file into ``layer``: every row, or with any error none at all.

    Parameters
    ----------
    layer : str
        Target layer.
    path : path-like
        Source file; ``crs``, ``encoding``, ``lon_col``, ``lat_col`` and ``sheet`` as in
        :func:`read_source`.
    folder : path-like, optional
        Store folder (default: :func:`geo.store.data_dir`).
    mode : {"append", "replace"}
        Add to the layer (ids must be new) or replace the layer.
    mapping : dict, optional
        ``{source column: field}`` renames (``--map 名称=name``).
    set_values : dict, optional
        ``{field: value}`` set on every feature (``--set level=station``).
    skip_invalid : bool
        Import the valid rows; the report lists the others and why.

    Returns
    -------
    ImportReport

    Raises
    ------
    ImportFailedError
        A row has an error and not ``skip_invalid``: every problem names file, row and
        field, and nothing is written. Warnings never block.
    SourceReadError
        The file cannot be read at all.

    Notes
    -----
    Ids: see :func:`_assign_ids`; in append mode a second import of the same file fails as
    duplicate ids ("already imported? use --mode replace"). ``entrances`` are converted
    from the source CRS like the geometries. The store lock is held from reading the
    layer to writing it, so concurrent imports cannot lose each other's rows.
    """
    if mode not in ("append", "replace"):
        raise OptionError(f"未知模式 '{mode}' / unknown mode; 用 / use append or replace.")
    folder = gstore.data_dir(folder)
    target, source = gstore.layer_path(folder, layer), str(path)
    src = _read(Path(path), encoding, crs, lon_col, lat_col, sheet)
    props, notes = _prepare(src, layer, dict(mapping or {}), dict(set_values or {}), source)
    geoms, labels = np.asarray(src.frame.geometry.values, dtype=object), src.labels
    ids = _assign_ids(layer, props, geoms)

    # Check rows under their labels ("row 5"), not generated ids, so that every message
    # points at a line the user can find in the source file.
    probe = gpd.GeoDataFrame(props.assign(id=labels), geometry=geoms, crs="EPSG:4326")
    frame, coerce_problems = coerce_layer(probe, layer, source=source)
    if "entrances" in frame.columns:
        gates = [_convert_pairs(v, src.crs, True) for v in frame["entrances"]]
        frame["entrances"] = pd.Series(gates, index=frame.index, dtype=object)
    seen = {(p.feature, p.field) for p in coerce_problems}
    seen |= {(p.feature, "geometry") for p in src.problems}  # said once, by the reader
    problems = src.problems + coerce_problems + notes + src.notes
    problems += [
        p for p in validate_layer(frame, layer, source) if (p.feature, p.field) not in seen
    ]
    first: dict[str, str] = {}
    for label, value in zip(labels, ids, strict=True):
        if value in first:
            message = f"编号 {value} 与 {first[value]} 重复 / id {value} duplicates {first[value]}"
            problems.append(
                Problem(source, label, "id", message, "每个要素需唯一编号 / unique ids")
            )
        first.setdefault(value, label)
    frame["id"] = pd.Series(ids, index=frame.index, dtype=object)

    with gstore.locked(folder):
        existing = gstore.read_layer(layer, folder) if mode == "append" else frame.iloc[:0]
        hint = "已经导入过？用 --mode replace 替换 / already imported? use --mode replace"
        known = set(existing["id"].astype(str))
        for label, value in zip(labels, ids, strict=True):
            if value in known:
                message = f"编号 {value} 已在 {layer} 中 / duplicate id: {value} already in {layer}"
                problems.append(Problem(source, label, "id", message, hint))
        errors = [p for p in problems if p.severity == "error"]
        if errors and (not skip_invalid or any(p.feature is None for p in errors)):
            summary = (
                f"{source}: 导入失败，未写入任何数据 / import failed, nothing written; {_FIX_HINT}"
            )
            raise ImportFailedError(
                errors + [p for p in problems if p.severity != "error"], summary
            )
        bad = {p.feature for p in errors}
        keep = np.array([label not in bad for label in labels], dtype=bool)
        if not keep.any():
            summary = f"{source}: 没有有效行，未写入 / no valid rows, nothing written"
            raise ImportFailedError(errors, summary)
        new = frame[keep].set_axis(pd.Index(np.array(ids, dtype=object)[keep]), axis=0)
        kept = {label for label, k in zip(labels, keep, strict=True) if k}
        warns = [p for p in problems if p.severity != "error" and p.feature in kept | {None}]
        merged = new
        if len(existing):
            merged = pd.concat([existing, new])
            warns += _merged_warnings(
                merged, layer, target, dict(zip(ids, labels, strict=True)), warns
            )
        written = gstore.write_layer(merged, layer, folder, lock=False)
    return ImportReport(
        layer, source, written, int(keep.sum()), errors, warns, mode, src.crs_label,
        src.encoding, [label for label in labels if label in bad],
    )  # fmt: skip


def _merged_warnings(
    merged: gpd.GeoDataFrame, layer: str, target: Path, label_of: dict, already: list[Problem]
) -> list[Problem]:
    """Check the layer as it will be (existing + new); an error there stops the import."""
    problems = validate_layer(merged, layer, source=str(target))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        summary = (
            f"{target}: 合并后的图层有错误，未写入 / the merged layer has errors, nothing "
            "written; 先运行 / run `lifecircle validate`"
        )
        raise ImportFailedError(errors, summary)
    # News are warnings about a new row next to an old one (the same clinic under another
    # id); the others were reported for the source rows already.
    seen = {(p.feature, p.field) for p in already}
    return [
        Problem(p.file, label_of[p.feature], p.field, p.message, p.hint, p.severity)
        for p in problems
        if p.feature in label_of and (label_of[p.feature], p.field) not in seen
    ]


# ---------------------------------------------------------------------------- export


def export_layer(
    layer: str,
    out: str | os.PathLike[str] | None = None,
    *,
    folder: str | os.PathLike[str] | None = None,
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
    folder : path-like, optional
        Store folder (default: :func:`geo.store.data_dir`).
    fmt : {"geojson", "gpkg", "shp", "csv"}, optional
        Default: from ``out``'s extension, else ``geojson``.
    crs : str
        ``wgs84`` (default), ``gcj02`` (Gaode/Tencent), ``bd09`` (Baidu), ``cgcs2000`` or
        ``EPSG:xxxx``. ``entrances`` are converted too.

    Returns
    -------
    pathlib.Path
        The file written (the ``.shp`` of a shapefile).

    Notes
    -----
    RFC 7946 requires WGS-84, so a GeoJSON in GCJ-02/BD-09 is only for tools that want
    those coordinates (Gaode/Baidu maps); one in an EPSG system gets an old-style ``crs``
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
    parsed = _normalise_crs(crs)
    frame = gstore.read_layer(layer, folder)
    geographic = isinstance(parsed, str) or parsed.is_geographic
    geoms = _convert_geoms(np.asarray(frame.geometry.values, dtype=object), parsed, False)
    decimals = 7 if geographic else 3  # ~1 cm either way, as in the store
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, decimals)) if len(geoms) else geoms
    props = frame.drop(columns=frame.geometry.name).reset_index(drop=True)
    if "entrances" in props.columns:
        gates = [_convert_pairs(v, parsed, False) for v in props["entrances"]]
        props["entrances"] = pd.Series(gates, index=props.index, dtype=object)
    if fmt == "geojson":
        content = gstore.to_feature_collection(  # crs=None: keep the converted coordinates
            gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms), crs=None), layer
        )
        if isinstance(parsed, CRS):
            urn = f"urn:ogc:def:crs:{parsed.to_string().replace(':', '::')}"
            member = json.dumps({"type": "name", "properties": {"name": urn}}).encode()
            head = b'{"type":"FeatureCollection",'
            content = head + b'"crs":' + member + b"," + content[len(head) :]
        gstore.atomic_write_bytes(target, content)
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
    return None if _blank(value) else value


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
    text = table.to_csv(index=False, lineterminator="\r\n")  # CRLF, as Excel writes
    gstore.atomic_write_bytes(target, text.encode("utf-8-sig"))


def _ogr_table(props: pd.DataFrame, layer: str, shapefile: bool) -> pd.DataFrame:
    """Properties typed by the schema (not by the values), lists as JSON text."""
    kinds = {f.name: f.kind for f in get_layer(layer).fields}
    dtypes = {"int": "Int64", "float": "Float64", "bool": "boolean"}
    table = pd.DataFrame(index=props.index)
    for column in props.columns:
        values = [_json_text(v) for v in props[column].tolist()]
        if kinds.get(column) in dtypes:
            table[column] = pd.array(values, dtype=dtypes[kinds[column]])
        else:
            texts = [None if v is None else str(v) for v in values]
            table[column] = pd.Series(texts, index=props.index, dtype=object)
    return _shapefile_columns(table) if shapefile else table


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
