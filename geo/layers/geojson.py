"""GeoJSON as the store keeps it: text to frames and frames to text, nothing else.

On disk every layer is an RFC 7946 FeatureCollection: UTF-8, WGS-84, coordinates rounded
to 7 decimals (about 1 cm), polygon rings wound counter-clockwise, one feature per line so
that a change shows as a small diff. :func:`parse_feature_collection` reads such text (and
names every feature it cannot use); :func:`to_feature_collection` writes it. Pure functions:
where the text comes from is :mod:`geo.layers.store`'s business.
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from geo.errors import Problem, SourceReadError
from geo.schema import get_layer

__all__ = [
    "COORD_DECIMALS",
    "empty_layer",
    "geometry_texts",
    "json_too_deep",
    "json_value",
    "layer_frame",
    "load_json",
    "parse_feature_collection",
    "to_feature_collection",
]

#: Decimals kept of every WGS-84 coordinate on disk: 1e-7 degree is about 1 cm.
COORD_DECIMALS = 7


def json_too_deep(text: str | bytes, limit: int) -> bool:
    """Whether JSON ``text`` nests arrays and objects more than ``limit`` levels deep.

    Measured without parsing (a parser recurses, and a nesting bomb of a million ``[``
    would exhaust it): brackets outside strings (quotes not escaped by an odd run of
    backslashes) are counted up and down, in numpy. Time grows with the text, not with
    its depth: about 0.2 s for 30 MB.

    Parameters
    ----------
    text : str or bytes
        JSON text (UTF-8 when bytes).
    limit : int
        The deepest nesting allowed; the outermost object or array is level 1.

    Returns
    -------
    bool
        True when some array or object lies deeper than ``limit``.

    Examples
    --------
    >>> json_too_deep('{"a": [[1, "]]]]"], {}]}', 3), json_too_deep("[" * 40 + "]" * 40, 32)
    (False, True)
    """
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    chars = np.frombuffer(raw, np.uint8)
    opens = (chars == ord("[")) | (chars == ord("{"))
    brackets = np.flatnonzero(opens | (chars == ord("]")) | (chars == ord("}")))
    if len(brackets) == 0:
        return False
    # a quote ends or starts a string unless an odd run of backslashes escapes it
    quote = chars == ord('"')
    backslashes = np.flatnonzero(chars == ord("\\"))
    if len(backslashes):  # rare: text with quotes or backslashes in it
        runs = np.flatnonzero(np.diff(backslashes, prepend=-2) != 1)  # where each run starts
        lengths = np.diff(runs, append=len(backslashes))
        after = backslashes[runs] + lengths  # the character after each run
        escaped = after[(lengths % 2 == 1) & (after < len(chars))]
        quote[escaped] = False
    quotes = np.flatnonzero(quote)
    outside = np.searchsorted(quotes, brackets) % 2 == 0  # an even number of quotes before it
    steps = np.where(opens[brackets[outside]], 1, -1)  # +1 for [ {, -1 for ] }
    return bool(np.cumsum(steps, dtype=np.int64).max(initial=0) > limit)


def load_json(text: str | bytes, source: str, max_depth: int | None = None) -> Any:
    """Parse JSON text, or raise a bilingual :class:`SourceReadError` saying where and why.

    Never a traceback: invalid JSON gives line and column, nesting deeper than
    ``max_depth`` (or too deep for the parser) and numbers with thousands of digits are
    refused by name.

    Parameters
    ----------
    text : str or bytes
        The JSON text (UTF-8 when bytes).
    source : str
        What the text is, for the message: a file path, ``<request>``.
    max_depth : int, optional
        The deepest nesting allowed (:func:`json_too_deep`); None checks only what the
        parser can take.

    Returns
    -------
    object
        The parsed document.

    Raises
    ------
    SourceReadError
        Not JSON, not UTF-8, nested too deep, or a number too long to read.

    Examples
    --------
    >>> load_json('{"a": [1, 2]}', "<doc>")
    {'a': [1, 2]}
    """
    too_deep = (
        f"{source}: JSON 嵌套过深（超过 {max_depth or '解析器允许的'} 层）/ the JSON is nested "
        f"deeper than {max_depth or 'the parser allows'} levels; GeoJSON needs about 8: "
        "检查文件是否损坏或被篡改 / check the file is what it should be"
    )
    if max_depth is not None and json_too_deep(text, max_depth):
        raise SourceReadError(too_deep)
    try:  # orjson reads three times faster; what it refuses, json reads or explains
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
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
    except RecursionError:
        raise SourceReadError(too_deep) from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise SourceReadError(
            f"{source}: JSON 中的数字无法读取 / a number cannot be read: {str(exc)[:80]}"
        ) from None


def parse_feature_collection(
    text: str | bytes, source: str, geometry_required: bool = True, max_depth: int | None = None
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Parse GeoJSON text into a WGS-84 frame, collecting per-feature problems.

    Features whose geometry cannot be read are kept with a missing geometry and a problem,
    so that one report can name all of them. Property values are kept as JSON gave them
    (lists stay lists), which is why this does not go through a GDAL driver.

    Parameters
    ----------
    text : str or bytes
        A GeoJSON FeatureCollection, or a single Feature (read as a collection of one).
    source : str
        What the text is, for messages and problems: a file path, ``<request>``.
    geometry_required : bool
        A feature without a geometry is a problem (default); False lets it through with
        a missing geometry.
    max_depth : int, optional
        Refuse JSON nested deeper than this (:func:`load_json`); None: only what the
        parser can take (the store's own files).

    Returns
    -------
    frame : geopandas.GeoDataFrame
        One row per feature object, positional index, EPSG:4326. Ids come from
        ``properties.id``, else the Feature's ``id``, as text.
    problems : list of Problem
        One per feature that is not an object, has properties that are not an object,
        or has no (or an unreadable) geometry; each names the feature by its id or
        ``#n``.

    Raises
    ------
    SourceReadError
        The text is not JSON (the message gives line and column), not UTF-8, nested too
        deep, not a FeatureCollection or Feature, or declares a CRS other than WGS-84.

    Examples
    --------
    >>> text = (
    ...     '{"type": "FeatureCollection", "features": [{"type": "Feature", "id": 7,'
    ...     ' "geometry": null, "properties": {"name": "a"}}]}'
    ... )
    >>> frame, problems = parse_feature_collection(text, "<doc>")
    >>> frame["id"].tolist(), problems[0].feature, problems[0].field
    (['7'], '7', 'geometry')
    """
    doc = load_json(text, source, max_depth)
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
            geoms.append(shapely.from_geojson(_json_bytes(geometry)))
        except (shapely.errors.GEOSException, ValueError, TypeError, RecursionError) as exc:
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


def empty_layer(layer: str) -> gpd.GeoDataFrame:
    """A layer with no features: every schema field as a column, WGS-84.

    Parameters
    ----------
    layer : str
        One of the layers.

    Returns
    -------
    geopandas.GeoDataFrame
        No rows; the columns in schema order, then the geometry, EPSG:4326.

    Raises
    ------
    UnknownLayerError
        ``layer`` is not one of the layers.

    Examples
    --------
    >>> empty = empty_layer("clinics")
    >>> len(empty), list(empty.columns)[:3], empty.crs.to_epsg()
    (0, ['id', 'name', 'level'], 4326)
    """
    columns = [f.name for f in get_layer(layer).fields]
    frame = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in columns},
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    return frame


def layer_frame(frame: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """A copy of ``frame`` as a layer is served: every schema field a column, indexed by id.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Parsed features with an ``id`` column.
    layer : str
        The layer whose fields are added where missing.

    Returns
    -------
    geopandas.GeoDataFrame
        Added fields hold None; unless the frame is empty, the index is the ``id`` column.
        An empty frame is :func:`empty_layer`'s, whatever file it was read from (a layer
        with no features reads the same from every store).

    Raises
    ------
    UnknownLayerError
        ``layer`` is not one of the layers.
    """
    if not len(frame):
        return empty_layer(layer)
    frame = frame.copy()
    for name in (f.name for f in get_layer(layer).fields):
        if name not in frame.columns:
            frame[name] = None
    if len(frame):
        frame.index = pd.Index(frame["id"].astype(object), name=None)
    return frame


def json_value(value: Any) -> Any:
    """A property value as plain JSON: numpy scalars unwrapped, NaN as missing.

    Parameters
    ----------
    value : Any
        One cell of a frame.

    Returns
    -------
    Any
        numpy integers, floats and booleans as Python ones; NaN, None and ``pd.NA`` as
        None; arrays, lists and tuples as lists (each item converted); dates and
        timestamps as ISO ``YYYY-MM-DD`` text; anything else unchanged.

    Examples
    --------
    >>> json_value(np.int64(3)), json_value(float("nan")), json_value((np.float64(1.5), None))
    (3, None, [1.5, None])
    """
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return [json_value(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _round_geometries(geoms: gpd.GeoSeries | np.ndarray) -> np.ndarray:
    values = np.asarray(geoms.values if isinstance(geoms, gpd.GeoSeries) else geoms, dtype=object)
    rounded = shapely.transform(values, lambda xy: np.round(xy, COORD_DECIMALS))
    # RFC 7946 §3.1.6: exterior rings counter-clockwise, holes clockwise.
    return shapely.orient_polygons(rounded, exterior_cw=False)


def _json_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON (what ``json.dumps(ensure_ascii=False)`` writes);
    what orjson cannot hold (an integer beyond 64 bits, a key that is not text) by json."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_TYPE_NAMES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon"}  # fmt: skip


def _ranges_text(dump: bytes, starts: np.ndarray, ends: np.ndarray, a: int, b: int) -> bytes:
    """The text of positions ``a``..``b-1`` of a dumped array of pairs, comma-separated."""
    return dump[starts[a] : ends[b - 1]] if b > a else b""


def _geometry_texts(geometries: np.ndarray) -> list[bytes | None]:
    """Each geometry's GeoJSON text, None where missing or empty.

    One ``to_ragged_array`` per geometry type and one ``orjson`` dump of all its coordinates
    (floats written in C as the shortest text that reads back the same; GEOS's own writer
    sometimes gives 17 digits), cut into rings and parts by the offsets: no per-feature
    parse and re-encode, no Python float per coordinate (three times faster than a
    ``tolist`` and ``json.dumps``, measured on the 20,000-compound city's outputs).
    """
    texts: list[bytes | None] = [None] * len(geometries)
    kinds = shapely.get_type_id(geometries)
    kinds[shapely.is_empty(geometries)] = -1
    for kind in np.unique(kinds).tolist():
        rows = np.flatnonzero(kinds == kind)
        if kind not in _TYPE_NAMES:  # missing, empty, or a collection: the plain way
            for row in rows.tolist() if kind >= 0 else []:
                geometry = json.loads(shapely.to_geojson(geometries[row]))
                texts[row] = orjson.dumps(geometry)
            continue
        _, coords, offsets = shapely.to_ragged_array(geometries[rows])
        dump = orjson.dumps(np.ascontiguousarray(coords), option=orjson.OPT_SERIALIZE_NUMPY)
        # "[[x,y],[x,y],…]": pair k starts at the (k+1)-th "[" and ends before its comma
        brackets = np.flatnonzero(np.frombuffer(dump, dtype=np.uint8) == ord("["))
        starts = brackets[1:]
        ends = np.append(starts[1:] - 1, len(dump) - 1)
        head = b'{"type":"' + _TYPE_NAMES[kind].encode() + b'","coordinates":'
        if not offsets:  # points: one pair each
            for row, a, b in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True):
                texts[row] = head + dump[a:b] + b"}"
            continue
        bounds = offsets[0].tolist()
        nested: list[bytes] = [
            _ranges_text(dump, starts, ends, a, b) for a, b in itertools.pairwise(bounds)
        ]
        for level in offsets[1:]:
            nested = [
                b",".join([b"[" + item + b"]" for item in nested[a:b]])
                for a, b in itertools.pairwise(level.tolist())
            ]
        for row, value in zip(rows.tolist(), nested, strict=True):
            texts[row] = head + b"[" + value + b"]}"
    return texts


#: Cell types :func:`json_value` would give back unchanged (but a float NaN).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _column_values(column: pd.Series, whole_number: bool, positions: bool) -> list[Any]:
    """A column's values as JSON-ready Python values (see :func:`json_value`), converted a
    column at a time where the dtype allows it rather than a value at a time."""
    kind = column.dtype.kind
    if kind == "f" and isinstance(column.dtype, np.dtype):
        numbers = column.to_numpy()
        out: list[Any] = numbers.tolist()
        if whole_number:
            out = [int(v) if v.is_integer() else v for v in out]
        for i in np.flatnonzero(np.isnan(numbers)).tolist():
            out[i] = None
        return out
    if kind in "iub" and isinstance(column.dtype, np.dtype):
        return column.to_numpy().tolist()
    values = column.tolist()
    kinds = set(map(type, values))
    if kinds <= _PLAIN:  # text and numbers as Python has them: only NaN needs a look
        out = [None if type(v) is float and math.isnan(v) else v for v in values]
    else:
        out = [json_value(v) for v in values]
    if whole_number:
        out = [int(v) if isinstance(v, float) and v.is_integer() else v for v in out]
    elif positions:
        out = [
            [
                [round(c, COORD_DECIMALS) if isinstance(c, float) else c for c in pair]
                if isinstance(pair, list)
                else pair
                for pair in value
            ]
            if isinstance(value, list)
            else value
            for value in out
        ]
    return out


def geometry_texts(geometries: np.ndarray) -> list[bytes | None]:
    """Each WGS-84 geometry's GeoJSON text as :func:`to_feature_collection` writes it
    (coordinates rounded, rings oriented), for a caller that encodes the geometries of a
    frame before the frame exists (``analyze`` does, as the shapes come in).

    Parameters
    ----------
    geometries : numpy.ndarray
        Shapely geometries in WGS-84.

    Returns
    -------
    list of bytes or None
        None where a geometry is missing or empty.
    """
    if not len(geometries):
        return []
    return _geometry_texts(np.asarray(_round_geometries(geometries), dtype=object))


def to_feature_collection(
    frame: gpd.GeoDataFrame,
    layer: str | None = None,
    geometries: list[bytes | None] | None = None,
) -> bytes:
    """Serialise a WGS-84 frame as the store's GeoJSON bytes (one feature per line).

    Property order follows the layer schema, then any extra properties; missing values
    are left out rather than written as ``null``.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The features; a frame in another CRS is converted to WGS-84 first, one without a
        CRS is written as it is.
    layer : str, optional
        Orders the properties by this layer's schema and writes its whole-number fields
        as integers (pandas holds an int column with gaps as floats). None keeps the
        frame's column order.
    geometries : list of bytes or None, optional
        The rows' geometries already encoded by :func:`geometry_texts` (of this frame's
        geometries, in WGS-84, in its order); None encodes them here.

    Returns
    -------
    bytes
        A UTF-8 GeoJSON FeatureCollection: coordinates rounded to :data:`COORD_DECIMALS`,
        polygon exteriors counter-clockwise, each Feature's ``id`` its ``id`` property.

    Examples
    --------
    >>> from shapely import Point
    >>> frame = gpd.GeoDataFrame(
    ...     {"id": ["a"], "beds": [12.0]}, geometry=[Point(121.123456789, 31.2)], crs=4326
    ... )
    >>> text = to_feature_collection(frame, "clinics")
    >>> feature = json.loads(text)["features"][0]
    >>> feature["geometry"]["coordinates"], feature["properties"], len(text.splitlines())
    ([121.1234568, 31.2], {'id': 'a', 'beds': 12}, 3)
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
    if geometries is not None and len(geometries) != len(frame):
        raise ValueError(f"{len(geometries)} geometries for {len(frame)} rows")
    texts = geometries if geometries is not None else geometry_texts(frame.geometry.values)
    values = [_column_values(frame[c], c in whole_numbers, c in positions) for c in columns]
    lines = []
    for row, text in zip(zip(*values, strict=True) if columns else [()] * len(frame), texts,
                         strict=True):  # fmt: skip
        props = {key: value for key, value in zip(columns, row, strict=True) if value is not None}
        lines.append(
            b'{"type":"Feature","id":' + _json_bytes(props.get("id")) + b',"geometry":'
            + (text or b"null") + b',"properties":' + _json_bytes(props) + b"}"
        )  # fmt: skip
    body = b",\n".join(lines)
    return (
        b'{"type":"FeatureCollection","features":[\n' + body + (b"\n" if lines else b"") + b"]}\n"
    )
