"""Selecting features for a page of results: bbox, property filters, limit and offset.

Pure functions over frames; the HTTP layer only parses the request and calls these.
"""

from __future__ import annotations

import json
import re
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import QueryError
from geo.layers.geojson import to_feature_collection
from geo.schema import get_layer

__all__ = [
    "BBOX_PATTERN",
    "FeatureIndex",
    "box_shapes",
    "clamp_box",
    "in_bbox",
    "layer_extent",
    "parse_bbox",
    "property_names",
    "to_geojson_dict",
    "with_every_property",
    "with_members",
]


_NUMBER = "-?[0-9]{1,9}(?:\\.[0-9]+)?"
_N = f" *{_NUMBER} *"
#: An OGC API ``bbox``: four numbers, or six with heights, comma-separated (plain decimals,
#: nine digits before the point at most); empty is no box. The OpenAPI document gives the
#: same pattern.
BBOX_PATTERN = f"^(?:{_N},{_N},{_N},{_N}(?:,{_N},{_N})?)?$"


def parse_bbox(
    text: str | None, check_range: bool = True
) -> tuple[float, float, float, float] | None:
    """``"minlon,minlat,maxlon,maxlat"`` → a tuple, or a :class:`QueryError` saying what is wrong.

    Six numbers (``minlon,minlat,minheight,maxlon,maxlat,maxheight``, OGC API's 3D box) are
    read as the 2D box: these layers have no heights. Latitudes may come in either order.
    A longitude box whose west edge is east of its east edge crosses the antimeridian, as
    OGC API – Features reads it (:func:`box_shapes`); a box beyond the world's edges is cut
    at them.

    Parameters
    ----------
    text : str or None
        An OGC API ``bbox`` (:data:`BBOX_PATTERN`): WGS-84 degrees, lower-left corner first.
    check_range : bool
        The numbers are longitudes and latitudes (off for a box in another CRS, converted
        afterwards: then both axes are put in order and nothing is cut).

    Returns
    -------
    tuple of float or None
        ``(minlon, minlat, maxlon, maxlat)``; None when ``text`` is None or empty.

    Raises
    ------
    QueryError
        Not four or six numbers written as :data:`BBOX_PATTERN` says.

    Examples
    --------
    >>> parse_bbox("121.5,31.2,121.6,31.3")
    (121.5, 31.2, 121.6, 31.3)
    >>> parse_bbox("121.5,31.2,0,121.6,31.3,100")
    (121.5, 31.2, 121.6, 31.3)
    >>> parse_bbox("121.5,31.3,200,31.2")
    (121.5, 31.2, 180.0, 31.3)
    """
    if text is None or text == "":
        return None
    if not re.fullmatch(BBOX_PATTERN, text):
        raise QueryError(
            "bbox 应为 4 个（或 6 个）数字 / bbox must be 4 numbers minlon,minlat,maxlon,maxlat "
            f"(or 6 with heights), plain decimals; got '{text[:80]}'"
        )
    values = [float(p) for p in text.split(",")]
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    minx, miny, maxx, maxy = values
    miny, maxy = min(miny, maxy), max(miny, maxy)
    if not check_range:
        return min(minx, maxx), miny, max(minx, maxx), maxy
    return clamp_box((minx, miny, maxx, maxy))


def clamp_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A WGS-84 box cut at the world's edges (an infinite or missing number: the edge).

    Parameters
    ----------
    box : tuple of float
        ``(minlon, minlat, maxlon, maxlat)``, maybe beyond ±180 / ±90.

    Returns
    -------
    tuple of float
        The same box within −180–180 and −90–90.

    Examples
    --------
    >>> clamp_box((-999.0, 31.0, 121.6, float("inf")))
    (-180.0, 31.0, 121.6, 90.0)
    """
    minx, miny, maxx, maxy = (float(np.nan_to_num(v, nan=edge)) for v, edge in
                              zip(box, (-180.0, -90.0, 180.0, 90.0), strict=True))  # fmt: skip
    return (min(max(minx, -180.0), 180.0), min(max(miny, -90.0), 90.0),
            min(max(maxx, -180.0), 180.0), min(max(maxy, -90.0), 90.0))  # fmt: skip


def box_shapes(box: tuple[float, float, float, float]) -> list[shapely.Polygon]:
    """The box as rectangles: two when it crosses the antimeridian (west edge east of the
    east edge), else one.

    Parameters
    ----------
    box : tuple of float
        ``(minlon, minlat, maxlon, maxlat)``.

    Returns
    -------
    list of shapely.Polygon

    Examples
    --------
    >>> [r.bounds for r in box_shapes((170.0, -10.0, -170.0, 10.0))]
    [(170.0, -10.0, 180.0, 10.0), (-180.0, -10.0, -170.0, 10.0)]
    """
    minx, miny, maxx, maxy = box
    if minx <= maxx:
        return [shapely.box(minx, miny, maxx, maxy)]
    return [shapely.box(minx, miny, 180.0, maxy), shapely.box(-180.0, miny, maxx, maxy)]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip().lower()


def to_geojson_dict(frame: gpd.GeoDataFrame, layer: str) -> dict[str, Any]:
    """The frame as a GeoJSON FeatureCollection dict, serialised exactly as the store does.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        WGS-84 features.
    layer : str
        The layer whose schema orders the properties.

    Returns
    -------
    dict
        The parsed :func:`~geo.layers.geojson.to_feature_collection` text.
    """
    return json.loads(to_feature_collection(frame, layer))


def property_names(frame: gpd.GeoDataFrame, layer: str) -> list[str]:
    """Every property a served feature of ``layer`` carries: the schema's fields in order,
    then the frame's other columns.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer (or the coverage results, whose extra columns follow the schema's).
    layer : str
        The layer whose schema comes first.

    Returns
    -------
    list of str
    """
    names = [f.name for f in get_layer(layer).fields]
    return names + [c for c in frame.columns if c not in names and c != frame.geometry.name]


def with_every_property(feature: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """``feature`` with each of ``keys`` among its properties, ``None`` where it had none.

    OGC clients (QGIS, GDAL) build a layer's columns from the first features they read, so a
    property that first appears in feature 30 would be lost; with ``null`` it never is.

    Parameters
    ----------
    feature : dict
        A GeoJSON Feature.
    keys : list of str
        The properties, in order (:func:`property_names`); others the feature has follow.

    Returns
    -------
    dict
        The same feature object, its ``properties`` replaced.

    Examples
    --------
    >>> with_every_property({"type": "Feature", "properties": {"b": 1}}, ["a", "b"])
    {'type': 'Feature', 'properties': {'a': None, 'b': 1}}
    """
    props = feature.get("properties") or {}
    complete = {key: props.get(key) for key in keys}
    complete.update({k: v for k, v in props.items() if k not in complete})
    feature["properties"] = complete
    return feature


def layer_extent(frame: gpd.GeoDataFrame) -> list[float] | None:
    """``[minlon, minlat, maxlon, maxlat]`` of the layer, or None when it is empty.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer, WGS-84.

    Returns
    -------
    list of float or None
        Rounded to 7 decimals (about 1 cm), as the store keeps coordinates.

    Examples
    --------
    >>> points = shapely.points([[121.5, 31.2], [121.6, 31.3]])
    >>> layer_extent(gpd.GeoDataFrame(geometry=points, crs=4326))
    [121.5, 31.2, 121.6, 31.3]
    """
    if len(frame) == 0:
        return None
    return [round(float(v), 7) for v in frame.total_bounds]


class FeatureIndex:
    """A layer ready to serve: every feature serialised once, bounds and ids in arrays.

    A page of items is then a selection over arrays and a join of ready-made JSON, with no
    frame built per request — the service's items endpoint answers in a fraction of a
    millisecond. Build a new index when the layer changes (the service keys it by ETag).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The layer as :func:`~geo.layers.store.read_layer` gives it: WGS-84, indexed by id.
    layer : str
        Its name, for the schema (property order, the fields filters may name).

    Attributes
    ----------
    features : list of bytes
        Each feature serialised as the store does, in frame order, with every property of
        :attr:`keys` (``null`` when absent: a GIS builds its columns from what it sees).
    keys : list of str
        The properties every feature carries: the schema's fields, then the frame's others.
    ids : numpy.ndarray
        The feature ids, in frame order.
    position : dict
        Feature id to its position.
    bounds : numpy.ndarray
        ``(n, 4)`` bounding boxes, ``minlon, minlat, maxlon, maxlat``.

    Examples
    --------
    >>> from geo.layers.store import read_layer
    >>> index = FeatureIndex(read_layer("clinics"), "clinics")
    >>> positions, matched = index.select(bbox=(121.539, 31.299, 121.541, 31.300))
    >>> matched, index.ids[positions[0]]
    (1, 'clinic-007')
    """

    def __init__(self, frame: gpd.GeoDataFrame, layer: str) -> None:
        self.frame = frame
        self.layer = layer
        text = to_feature_collection(frame, layer).decode("utf-8")
        lines = text.split("\n")[1:-2]  # one feature per line between the header and "]}"
        self.keys = property_names(frame, layer)
        self.features = [
            json.dumps(
                with_every_property(json.loads(line.rstrip(",")), self.keys),
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode("utf-8")
            for line in lines
        ]
        self.ids = frame.index.to_numpy(dtype=object)
        self.position = {key: i for i, key in enumerate(self.ids)}
        self.bounds = (
            shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
            if len(frame)
            else np.empty((0, 4))
        )
        self._text: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.features)

    def select(
        self,
        bbox: tuple[float, float, float, float] | None = None,
        filters: dict[str, str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[np.ndarray, int]:
        """Positions of the features on the page, and how many matched in all.

        Parameters
        ----------
        bbox : tuple of float, optional
            ``(minlon, minlat, maxlon, maxlat)`` in WGS-84 (:func:`parse_bbox`): features
            whose shape meets the box, not merely its bounding box.
        filters : dict of str to str, optional
            ``{field: value}``, all to hold: the property as text equals ``value``,
            ignoring case and surrounding blanks (booleans as ``true``/``false``).
        limit : int
            At most this many positions.
        offset : int
            Matching features skipped before the page.

        Returns
        -------
        positions : numpy.ndarray
            Positions (ascending) of the features on the page.
        matched : int
            How many features matched in all (OGC API ``numberMatched``).

        Raises
        ------
        QueryError
            A filter names a field that is neither in the schema nor in the frame.
        """
        keep = np.ones(len(self), dtype=bool)
        if bbox is not None and len(self):
            b = self.bounds
            meets = np.zeros(len(self), dtype=bool)
            for shape in box_shapes(bbox):  # two across the antimeridian
                minx, miny, maxx, maxy = shape.bounds
                near = (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
                candidates = np.flatnonzero(near & ~meets)
                if len(candidates):  # bounding boxes overlap: confirm with the real shapes
                    geoms = np.asarray(self.frame.geometry.values, dtype=object)[candidates]
                    meets[candidates] = shapely.intersects(geoms, shape)
            keep &= meets
        spec = get_layer(self.layer)
        for field, wanted in (filters or {}).items():
            if spec.field(field) is None and field not in self.frame.columns:
                raise QueryError(
                    f"图层 {self.layer} 没有字段 '{field}' / layer {self.layer} has no field "
                    f"'{field}'. 可用 / fields: {', '.join(f.name for f in spec.fields)}"
                )
            if field not in self._text:
                column = self.frame[field] if field in self.frame.columns else None
                self._text[field] = (
                    np.array([_as_text(v) for v in column], dtype=object)
                    if column is not None
                    else np.full(len(self), None, dtype=object)
                )
            keep &= self._text[field] == wanted.strip().lower()
        matched = np.flatnonzero(keep)
        return matched[offset : offset + limit], len(matched)

    def collection_bytes(self, positions: np.ndarray, **members: Any) -> bytes:
        """A FeatureCollection of the features at ``positions``, with extra top-level members.

        Parameters
        ----------
        positions : numpy.ndarray
            Feature positions, as :meth:`select` returns them.
        **members
            Extra top-level members (``numberMatched``, ``links`` …), each value as JSON.

        Returns
        -------
        bytes
            The collection as UTF-8 JSON, features in the order of ``positions``.
        """
        body = b",".join(self.features[i] for i in positions)
        return with_members(b'{"type":"FeatureCollection","features":[' + body + b"]}", **members)


def with_members(collection: bytes, **members: Any) -> bytes:
    """A serialised GeoJSON object with extra top-level members appended, without parsing it.

    Parameters
    ----------
    collection : bytes
        A serialised JSON object (trailing blanks allowed).
    **members
        Members to append in order, each value as JSON with non-ASCII text kept.

    Returns
    -------
    bytes
        ``collection`` itself when there are no members.

    Examples
    --------
    >>> with_members(b'{"type":"FeatureCollection","features":[]}', numberMatched=0)
    b'{"type":"FeatureCollection","features":[],"numberMatched":0}'
    """
    if not members:
        return collection
    tail = b"".join(
        b"," + json.dumps(key).encode() + b":" + json.dumps(value, ensure_ascii=False).encode()
        for key, value in members.items()
    )
    return collection.rstrip()[:-1] + tail + b"}"


def in_bbox(frame: gpd.GeoDataFrame, bbox: tuple[float, float, float, float]) -> np.ndarray:
    """Positions (ascending) of the features of ``frame`` meeting ``bbox`` (in its CRS).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The features, in any CRS.
    bbox : tuple of float
        ``(minx, miny, maxx, maxy)`` in the frame's CRS.

    Returns
    -------
    numpy.ndarray
        Integer positions of the features whose shape intersects the box.

    Examples
    --------
    >>> frame = gpd.GeoDataFrame(geometry=shapely.points([[0, 0], [5, 5], [2, 2]]))
    >>> in_bbox(frame, (1, 1, 6, 6)).tolist()
    [1, 2]
    """
    found = [frame.sindex.query(shape, "intersects") for shape in box_shapes(bbox)]
    return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=int)
