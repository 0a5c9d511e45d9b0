"""Selecting features for a page of results: bbox, property filters, limit and offset.

Pure functions over frames; the HTTP layer only parses the request and calls these.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import shapely

from geo.errors import QueryError
from geo.schema import get_layer
from geo.store import to_feature_collection

__all__ = ["features_page", "layer_extent", "parse_bbox", "to_geojson_dict"]


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``"minlon,minlat,maxlon,maxlat"`` → a tuple, or a :class:`QueryError` saying what is wrong.

    Examples
    --------
    >>> parse_bbox("121.5,31.2,121.6,31.3")
    (121.5, 31.2, 121.6, 31.3)
    """
    if text is None or text == "":
        return None
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4:
        raise QueryError(
            f"bbox 应为 4 个数字 / bbox must be 4 numbers minlon,minlat,maxlon,maxlat; got '{text}'"
        )
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise QueryError(
            f"bbox 超出范围或顺序颠倒 / bbox out of range or min > max: '{text}' "
            "(WGS-84 lon/lat, lower-left corner first)"
        )
    return minx, miny, maxx, maxy


def features_page(
    frame: gpd.GeoDataFrame,
    layer: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    filters: dict[str, str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[gpd.GeoDataFrame, int]:
    """The features on one page and how many matched in all.

    ``filters`` compare a property's text form for equality (``status=completed``,
    ``health_station=true``); a field not in the layer's schema is a :class:`QueryError`.
    """
    selected = frame
    if bbox is not None and len(selected):
        hits = selected.sindex.query(shapely.box(*bbox), predicate="intersects")
        selected = selected.iloc[sorted(hits)]
    spec = get_layer(layer)
    for field, wanted in (filters or {}).items():
        if spec.field(field) is None and field not in selected.columns:
            raise QueryError(
                f"图层 {layer} 没有字段 '{field}' / layer {layer} has no field '{field}'. "
                f"可用 / fields: {', '.join(f.name for f in spec.fields)}"
            )
        if field not in selected.columns:
            selected = selected.iloc[0:0]
            continue
        text = selected[field].map(_as_text)
        selected = selected[text == wanted.strip().lower()]
    return selected.iloc[offset : offset + limit], len(selected)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip().lower()


def to_geojson_dict(frame: gpd.GeoDataFrame, layer: str) -> dict[str, Any]:
    """The frame as a GeoJSON FeatureCollection dict, serialised exactly as the store does."""
    return json.loads(to_feature_collection(frame, layer))


def layer_extent(frame: gpd.GeoDataFrame) -> list[float] | None:
    """``[minlon, minlat, maxlon, maxlat]`` of the layer, or None when it is empty."""
    if len(frame) == 0:
        return None
    return [round(float(v), 7) for v in frame.total_bounds]
