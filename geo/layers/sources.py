"""Reading source files into WGS-84 frames: the formats, encodings and CRSs planners have.

:func:`read_source` reads GeoJSON, GeoPackage, Shapefile (often GBK without a ``.cpg``),
CSV (GBK or UTF-8 with BOM, from Excel/WPS) and XLSX in WGS-84, GCJ-02 (Gaode, Tencent),
BD-09 (Baidu) or an EPSG system, finding coordinate columns and text encodings on its own.
:func:`geo.layers.imports.import_layer` builds on :func:`open_source`.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.crs import convert_geometries, crs_label, parse_crs
from geo.errors import Problem, SourceReadError
from geo.layers.columns import CoordinateColumns, choose_columns
from geo.layers.geojson import load_json, parse_feature_collection
from geo.layers.limits import (
    check_file_size,
    check_line_length,
    check_workbook_extent,
    wkt_too_deep,
)
from geo.settings import Settings, current

__all__ = [
    "SOURCE_FORMATS",
    "Source",
    "blank",
    "id_text",
    "open_source",
    "read_source",
]

#: Source formats by file extension.
SOURCE_FORMATS = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".shp": "shp"}
SOURCE_FORMATS |= {".csv": "csv", ".xlsx": "xlsx"}

#: GeoJSON geometry types: a file whose top level is one of them is one feature (RFC 7946).
_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon"}
_GEOMETRY_TYPES |= {"MultiPolygon", "GeometryCollection"}
# UTF-8 first: GBK "decodes" much UTF-8 into mojibake, but GBK text is rarely valid UTF-8.
_TEXT_ENCODINGS = ("utf-8", "gbk", "gb18030")


@dataclass
class Source:
    """A source file read into WGS-84, with what import needs to report on it.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The rows in WGS-84 with their raw properties, positional index.
    labels : list of str
        One unique name per row for messages: ``row 5`` in a CSV/XLSX (the header is row
        1), else the feature's id or ``#3``, with ``(#n)`` added to a repeated id.
    problems : list of Problem
        Rows whose position cannot be read; their geometry is None.
    notes : list of Problem
        File-level warnings: ``crs`` overriding the file's own CRS, a CRS assumed, the
        first of several GeoPackage layers taken.
    crs : str or pyproj.CRS
        The source CRS, as :func:`geo.crs.parse_crs` gives it.
    crs_label : str
        Its short name for reports: ``gcj02``, ``EPSG:32651``.
    encoding : str or None
        The text encoding of a CSV or a shapefile's attributes; None for other files.
    kind : str
        ``geojson``, ``gpkg``, ``shp``, ``csv`` or ``xlsx``.
    coordinate_columns : list of str
        The CSV/XLSX coordinate columns: those the positions were read from, then those
        ignored (another pair, in another CRS); empty for other files.
    """

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
        is noted. Without either, WGS-84. A CSV/XLSX header that names a CRS
        (``经度(BD09)``, ``lng_gcj02``) decides instead; ``crs`` contradicting it is an error.
    lon_col, lat_col : str, optional
        CSV/XLSX coordinate columns; found by name when not given (lon/lng/x/经度,
        lat/y/纬度, Gaode's ``location`` "lon,lat", or ``wkt``; of several pairs, one
        whose header says WGS-84 first: see :mod:`geo.layers.columns`).
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
        The file is missing, of an unknown kind, or cannot be parsed at all; a CSV/XLSX
        header names a CRS that ``crs`` contradicts.
    CRSError
        ``crs`` is not a CRS lifecircle knows.
    """
    src = open_source(Path(path), encoding, crs, lon_col, lat_col, sheet)
    attrs = {k: v for k, v in vars(src).items() if k not in ("frame", "crs", "kind")}
    src.frame.attrs.update(attrs, crs=attrs.pop("crs_label"))
    return src.frame


def open_source(
    path: Path,
    encoding: str | None,
    crs: str | None,
    *columns: str | None,
    settings: Settings | None = None,
) -> Source:
    """:func:`read_source` with everything import reports on: labels, problems, notes.

    Parameters
    ----------
    path : pathlib.Path
        The source file.
    encoding, crs : str or None
        As in :func:`read_source`.
    *columns : str or None
        Exactly three: ``lon_col``, ``lat_col`` and ``sheet``, as in :func:`read_source`.
    settings : Settings, optional
        The reading limits (``max_file_bytes``, ``max_line_bytes``, ``max_table_cells``,
        ``max_json_depth``);
        default :func:`geo.settings.current`.

    Returns
    -------
    Source
        The WGS-84 frame and what was found on the way.

    Raises
    ------
    SourceReadError
        As :func:`read_source`; also for a folder, a file without features, and a file
        over the limits: larger than ``max_file_bytes`` (a workbook: unpacked), a CSV
        line longer than ``max_line_bytes``, a table of more than ``max_table_cells``,
        JSON nested deeper than ``max_json_depth``.
        Each is found before the file is read whole.
    CRSError
        ``crs`` is not a CRS lifecircle knows.
    """
    lon_col, lat_col, sheet = columns
    name = str(path)
    if path.is_dir():
        raise SourceReadError(
            f"{name}: 这是文件夹 / this is a folder; 请给出其中的文件 / name a file in it, "
            "e.g. 小区.shp"
        )
    kind = SOURCE_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise SourceReadError(
            f"{name}: 不支持的文件类型 '{path.suffix}' / unsupported file type; 支持 / supported: "
            f"{', '.join(SOURCE_FORMATS)} (.xls: 请另存为 .xlsx / save it as .xlsx)"
        )
    if not path.is_file():
        raise SourceReadError(f"{name}: 文件不存在 / file not found; 检查路径 / check the path.")
    settings = settings or current()
    check_file_size(path, kind, settings.max_file_bytes)
    problems: list[Problem] = []
    file_notes: list[Problem] = []
    used_columns: list[str] = []
    used_encoding = declared = None
    if kind == "geojson":
        frame, problems, declared = _read_geojson(path, encoding, settings.max_json_depth)
    elif kind == "shp":
        ogr_encoding, used_encoding = _shapefile_encoding(path, encoding)
        frame = _read_ogr(path, encoding=ogr_encoding)
        declared = frame.crs
    elif kind == "gpkg":
        layer, layers = _gpkg_layer(path, sheet)
        frame = _read_ogr(path, layer=layer)
        declared = frame.crs
        if sheet is None and len(layers) > 1:
            file_notes.append(Problem(
                name, None, None,
                f"文件有 {len(layers)} 个图层，已取第一个 '{layer}' / the file has {len(layers)} "
                f"layers; took the first, '{layer}'",
                f"用 --sheet 选择 / choose with --sheet: {', '.join(layers)}",
                "warning",
            ))  # fmt: skip
    else:
        if kind == "csv":
            check_line_length(path, settings.max_line_bytes, settings.max_table_cells)
            table, used_encoding = _read_csv(path, encoding)
        else:
            check_workbook_extent(path, settings.max_table_cells)
            table = _read_xlsx(path, sheet)
        labels = [f"row {index + 2}" for index in table.index]  # header is row 1
        table = table.reset_index(drop=True)
        geoms, problems, chosen = _table_geometries(table, labels, name, lon_col, lat_col)
        frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms))
        used_columns, declared = chosen.used + chosen.ignored, chosen.crs
        file_notes += chosen.notes
        if declared and crs is not None and crs_label(parse_crs(crs)) != declared:
            raise SourceReadError(
                f"{name}: 坐标列 {'/'.join(chosen.used)} 的表头写明是 {declared}，与 --crs {crs} "
                f"矛盾 / the headers of {'/'.join(chosen.used)} say {declared} but --crs says "
                f"{crs}; 去掉 --crs（按表头转换），或用 --lon-col/--lat-col 选另一组列 / drop "
                "--crs (the header decides), or choose other columns with --lon-col/--lat-col"
            )
    if kind not in ("csv", "xlsx"):
        labels = _feature_labels(frame)
    if len(frame) == 0:
        raise SourceReadError(f"{name}: 文件中没有要素 / no features in the file.")
    parsed, notes = _resolve_crs(crs, declared, name, kind)
    notes = [*file_notes, *notes]
    in_wgs84 = convert_geometries(np.asarray(frame.geometry.values, dtype=object), parsed, True)
    props = frame.drop(columns=frame.geometry.name).reset_index(drop=True).astype(object)
    props = props.where(props.notna(), None)
    out = gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(in_wgs84), crs="EPSG:4326")
    label = crs_label(parsed)
    return Source(out, labels, problems, notes, parsed, label, used_encoding, kind, used_columns)


def _read_geojson(
    path: Path, encoding: str | None, max_depth: int
) -> tuple[gpd.GeoDataFrame, list, CRS | str | None]:
    text: str | bytes = path.read_bytes()
    if encoding:
        text = _decode(path.read_bytes(), encoding, str(path))
    doc = load_json(text, str(path), max_depth)
    member = json.dumps(doc.get("crs") if isinstance(doc, dict) else None)
    if member != "null" and "4326" not in member and "CRS84" not in member:
        # Old-style GeoJSON in another CRS (it has a crs member): GDAL reads that member,
        # the store's RFC 7946 parser deliberately refuses it.
        frame = _read_ogr(path)
        return frame, [], frame.crs
    if isinstance(doc, dict) and doc.get("type") in _GEOMETRY_TYPES:
        # RFC 7946 allows a bare geometry as the whole document: one feature, no properties.
        doc = {"type": "Feature", "geometry": doc, "properties": {}}
        text = json.dumps(doc)
    frame, problems = parse_feature_collection(text, str(path))
    shifted = doc.get("coordinate_system") if isinstance(doc, dict) else None
    if shifted in ("gcj02", "bd09"):  # what `lifecircle export --crs gcj02` writes
        return frame, problems, shifted
    return frame, problems, None  # RFC 7946: WGS-84 by definition, nothing declared


def _read_ogr(path: Path, **options: Any) -> gpd.GeoDataFrame:
    options = {key: value for key, value in options.items() if value}
    try:
        return gpd.read_file(path, engine="pyogrio", **options)
    except (RuntimeError, OSError, ValueError, UnicodeDecodeError) as exc:
        hint = "用 QGIS 打开检查 / open it in QGIS to check"
        if path.suffix.lower() == ".shp":
            hint = "确认 .shp/.shx/.dbf/.prj 齐全 / keep .shp, .shx, .dbf and .prj together"
            if isinstance(exc, UnicodeDecodeError) or "decode" in str(exc):
                hint = ("属性表编码不对：试 --encoding gbk 或 gb18030 / the attribute table is in "
                        "another encoding: try --encoding gbk or gb18030")  # fmt: skip
        # GDAL may quote the content: cut, so a hostile file cannot flood the message
        raise SourceReadError(
            f"{path}: 无法读取 / cannot read ({str(exc)[:300]}); {hint}."
        ) from None


def _gpkg_layer(path: Path, wanted: str | None) -> tuple[str | None, list[str]]:
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except (RuntimeError, OSError) as exc:
        raise SourceReadError(f"{path}: 无法读取 / cannot read ({exc}).") from None
    if wanted is not None and wanted not in layers:
        raise SourceReadError(
            f"{path}: 没有图层 '{wanted}' / no layer '{wanted}'; 可用 / available: {', '.join(layers)}"
        )
    # explicit, so pyogrio does not warn
    return wanted or (layers[0] if layers else None), layers


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
        raise SourceReadError(
            f"{path}: CSV 无法解析 / cannot parse the CSV: {str(exc)[:300]}"
        ) from None
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
            f"{path}: 无法读取 Excel / cannot read the workbook ({str(exc)[:300]})."
        ) from None
    return _tidy_table(table)


def _tidy_table(table: pd.DataFrame) -> pd.DataFrame:
    table = table.astype(object)
    table.columns = [str(c).strip() for c in table.columns]
    table = table.map(lambda v: None if blank(v) else v)
    return table[table.notna().any(axis=1)]  # keeps the index: the spreadsheet row number


def blank(value: Any) -> bool:
    """True for None, NaN, NaT and blank text: an empty spreadsheet cell.

    Parameters
    ----------
    value : Any
        A cell or property value.

    Returns
    -------
    bool

    Examples
    --------
    >>> [blank(v) for v in (None, float("nan"), "  ", 0, "a")]
    [True, True, True, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _number(value: Any) -> float:
    if isinstance(value, str):
        value = value.strip().rstrip("°").replace(" ", "")
    number = float(value)  # a bool or None raises TypeError/ValueError, as they should
    if isinstance(value, bool) or not math.isfinite(number):
        raise ValueError(value)
    return number


def _table_geometries(
    table: pd.DataFrame, labels: list[str], source: str, lon_col: str | None, lat_col: str | None
) -> tuple[list[Any], list[Problem], CoordinateColumns]:
    """Points (or WKT shapes) of a CSV/XLSX; one problem per row without a position."""
    chosen = choose_columns(list(table.columns), lon_col, lat_col, source)
    lon, lat, pair, wkt = chosen.lon, chosen.lat, chosen.pair, chosen.wkt
    geoms: list[Any] = []
    problems: list[Problem] = []
    hint = "填十进制度 / use decimal degrees, e.g. 121.5"
    for label, row in zip(labels, table.to_dict(orient="records"), strict=True):
        try:
            geoms.append(_row_geometry(row, lon, lat, pair, wkt))
        except _CoordinateError as exc:
            column, value = exc.args
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:60] + "…"
            message = f"无法识别的坐标 / unreadable coordinate {shown}"
            if blank(value):
                message = "缺少坐标 / coordinate missing"
            problems.append(Problem(source, label, column, message, hint))
            geoms.append(None)
    return geoms, problems, chosen


class _CoordinateError(ValueError):
    """(column, value) of a row whose position cannot be read."""


def _row_geometry(row: dict[str, Any], lon: Any, lat: Any, pair: Any, wkt: Any) -> Any:
    if wkt is not None and not blank(row[wkt]):
        if wkt_too_deep(str(row[wkt])):  # GEOS would recurse until the process crashes
            raise _CoordinateError(wkt, row[wkt])
        try:
            return shapely.from_wkt(str(row[wkt]))
        except shapely.errors.GEOSException:
            raise _CoordinateError(wkt, row[wkt]) from None
    if lon is not None and not (blank(row[lon]) and blank(row[lat])):
        cells = [(lon, row[lon]), (lat, row[lat])]
    elif pair is not None and not blank(row[pair]):
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
    base = [_short(id_text(v)) or f"#{i + 1}" for i, v in enumerate(ids)]
    counts = pd.Series(base, dtype=object).value_counts()
    return [f"{b} (#{i + 1})" if counts[b] > 1 else b for i, b in enumerate(base)]


def _short(text: str | None) -> str | None:
    """A label for messages, cut: an id from a hostile file may be a megabyte long."""
    return text if text is None or len(text) <= 80 else text[:80] + "…"


def id_text(value: Any) -> str | None:
    """An id or name as text: ``12.0`` from Excel becomes ``"12"``; blanks become None.

    Parameters
    ----------
    value : Any
        A cell or property value.

    Returns
    -------
    str or None
        The value as stripped text; whole floats lose their ``.0``.

    Examples
    --------
    >>> id_text(12.0), id_text(np.int64(7)), id_text(" A1 "), id_text("")
    ('12', '7', 'A1', None)
    """
    if blank(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _resolve_crs(
    explicit: str | None, declared: CRS | str | None, source: str, kind: str
) -> tuple[Any, list[Problem]]:
    """The source CRS: --crs wins over the file's own, which wins over WGS-84."""
    own = parse_crs(declared) if declared is not None else None
    parsed = parse_crs(explicit) if explicit is not None else own or "wgs84"
    if explicit is not None and own is not None and crs_label(own) != crs_label(parsed):
        message = (
            f"以 --crs {crs_label(parsed)} 为准，忽略文件自带的 {crs_label(own)} / --crs "
            f"{crs_label(parsed)} overrides the file's own CRS {crs_label(own)}"
        )
        hint = "若文件坐标系正确，去掉 --crs / drop --crs if the file's CRS is right"
        return parsed, [Problem(source, None, "crs", message, hint, "warning")]
    if explicit is None and own is None and kind in ("shp", "gpkg"):
        message = "文件未声明坐标系，按 WGS-84 处理 / the file declares no CRS; assumed WGS-84"
        hint = "缺少 .prj？用 --crs 指定 / missing .prj? pass --crs"
        return parsed, [Problem(source, None, "crs", message, hint, "warning")]
    return parsed, []
