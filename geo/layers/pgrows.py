"""Features to table rows and back, for the PostGIS store (:mod:`geo.layers.postgis`): pure.

A feature's properties go into the typed columns of its layer's table (one per schema
field); a value its column cannot hold unchanged (a decade such as ``"1980s"`` for an
integer ``built``, text in a number field of an unchecked write) and every property outside
the schema go into ``extra_properties``, so a row gives back the feature that was written.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any, NamedTuple

import geopandas as gpd

from geo.errors import StoreError
from geo.layers.geojson import to_feature_collection
from geo.layers.versions import feature_etag
from geo.schema import Field, get_layer

__all__ = ["EMPTY_VERSION", "TableRow", "fits", "layer_version", "properties_of", "table_rows"]

#: The ETag of a layer with no features (sha256 of nothing), as the folder store's.
EMPTY_VERSION = hashlib.sha256(b"").hexdigest()[:32]


class TableRow(NamedTuple):
    """One feature as its table row holds it."""

    #: The feature id (the table's ``id``, unique).
    ident: str
    #: One value per schema field, None where the column stays empty.
    values: list[Any]
    #: ``extra_properties``: what no typed column holds.
    extra: dict[str, Any]
    #: ``feature_version``: :func:`geo.layers.versions.feature_etag` of the stored feature.
    version: str
    #: The geometry as GeoJSON text, or None.
    geometry: str | None
    #: The feature as reading the row gives it back (for the change log).
    feature: dict[str, Any]


def fits(field: Field, value: Any) -> bool:
    """Whether ``value`` (as JSON gave it) goes into ``field``'s typed column unchanged.

    Parameters
    ----------
    field : Field
        The schema field (its ``kind`` names the column type).
    value : object
        The property value.

    Returns
    -------
    bool

    Examples
    --------
    >>> from geo.schema import get_layer
    >>> built = get_layer("residential_areas").field("built")
    >>> fits(built, 1986), fits(built, "1980s"), fits(built, True)
    (True, False, False)
    """
    kind = field.kind
    if isinstance(value, bool):
        return kind == "bool"
    if kind in ("int", "year"):
        limit = 2**63 if kind == "int" else 2**31
        return isinstance(value, int) and -limit <= value < limit
    if kind == "float":
        return isinstance(value, int | float) and abs(value) < 1e308
    if kind == "date":
        if not isinstance(value, str):
            return False
        try:
            return date.fromisoformat(value).isoformat() == value
        except ValueError:
            return False
    if kind == "lonlat_list":
        return isinstance(value, list)
    return kind == "str" and isinstance(value, str)


def properties_of(
    fields: tuple[Field, ...], values: list[Any], extra: dict[str, Any] | None
) -> dict[str, Any]:
    """A feature's properties from its row: schema order, then the extra ones, no nulls.

    Parameters
    ----------
    fields : tuple of Field
        The layer's fields, in the order of ``values``.
    values : list
        The typed columns' values as the database gives them (dates as dates).
    extra : dict or None
        ``extra_properties``.

    Returns
    -------
    dict
    """
    extra = dict(extra or {})
    props: dict[str, Any] = {}
    for field, value in zip(fields, values, strict=True):
        if isinstance(value, date):
            value = value.isoformat()
        elif field.kind == "float" and value is not None:
            value = float(value)
        if value is None:
            value = extra.pop(field.name, None)
        if value is not None:
            props[field.name] = value
    props.update((k, v) for k, v in extra.items() if v is not None)
    return props


def layer_version(pairs: list[tuple[str, str]]) -> str:
    """A layer's ETag: sha256 over its features' ids and versions, in order (32 hex).

    Parameters
    ----------
    pairs : list of (str, str)
        (id, feature version) of every feature, in the layer's order.

    Returns
    -------
    str
        :data:`EMPTY_VERSION` for no features.
    """
    text = "\n".join(f"{ident} {version}" for ident, version in pairs)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def table_rows(frame: gpd.GeoDataFrame, layer: str, where: str) -> list[TableRow]:
    """The rows of ``layer``'s table that hold ``frame`` (serialised as the store's GeoJSON
    first: rounded to 1 cm, rings wound counter-clockwise, as in the folder store).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The whole layer, WGS-84.
    layer : str
        One of the layers.
    where : str
        The table, for messages.

    Returns
    -------
    list of TableRow
        In the frame's order.

    Raises
    ------
    StoreError
        A feature has no id, or two share one (a table row needs a unique id).
    """
    spec = get_layer(layer)
    names = [f.name for f in spec.fields]
    rows = []
    for feature in json.loads(to_feature_collection(frame, layer))["features"]:
        props = feature["properties"]
        ident = props.get("id")
        if not isinstance(ident, str) or not ident:
            raise StoreError(f"{where}: 要素缺少编号 / a feature has no id")
        values = [props.get(f.name) if fits(f, props.get(f.name)) else None for f in spec.fields]
        extra = {
            key: value
            for key, value in props.items()
            if key not in names or not fits(spec.fields[names.index(key)], value)
        }
        geometry = feature["geometry"]
        stored = {
            "type": "Feature",
            "id": ident,
            "geometry": geometry,
            "properties": properties_of(spec.fields, values, extra),
        }
        text = json.dumps(geometry) if geometry else None
        rows.append(TableRow(ident, values, extra, feature_etag(stored), text, stored))
    ids = [row.ident for row in rows]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise StoreError(f"{where}: 编号重复 / duplicate ids: {twice}")
    return rows
