"""JSON Schemas of the layers' features: a field as OGC API – Features Part 5 gives it, and the
Feature a write sends, which the OpenAPI document shows and the write routes check.

The write schema follows the service's settings — the longest text, the study region — so
what the document of this service calls valid is what this service accepts; a rule no schema
can state (a ring crossing itself, values that disagree) is the layer rules' to say
(:mod:`api.openapi` lists what each answers).
"""

from __future__ import annotations

from typing import Any

from geo.schema import ENUM_LABELS, Field, get_layer
from geo.settings import Settings

__all__ = ["ID_PATTERN", "feature_schema", "property_schema"]

_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
#: Besides its JSON type, what a write may send for a field of a kind (coerced by the rules,
#: as ``lifecircle import`` reads a spreadsheet's cells).
_AS_TEXT = {"int": ("string",), "float": ("string",), "bool": ("string", "integer"),
            "str": ("number",), "lonlat_list": ("string",)}  # fmt: skip
#: A feature id: part of its web address, so no ``/ \ ?``, control characters, surrounding
#: spaces, ``.`` or ``..``, at most 128 characters (:mod:`geo.layers.validate`'s rule).
ID_PATTERN = (
    r"^(?!\.\.?$)[^/\\?\x00-\x1f\x7f ](?:[^/\\?\x00-\x1f\x7f]{0,126}[^/\\?\x00-\x1f\x7f ])?$"
)
_INT64 = 2**63 - 1


def property_schema(spec: Field) -> dict[str, Any]:
    """One field as a JSON Schema property, with its Chinese and English titles.

    Parameters
    ----------
    spec : geo.schema.Field
        The field.

    Returns
    -------
    dict
        ``type``, ``title``, allowed values and their names, ``minimum``, unit, and the
        ``x-lc-*`` names the pages build their forms from.
    """
    prop: dict[str, Any] = {
        "title": f"{spec.zh} / {spec.en}" if spec.zh else spec.en,
        "x-lc-title": {"zh": spec.zh or spec.en, "en": spec.en or spec.zh},
        "x-lc-kind": spec.kind,
    }
    if spec.kind == "date":
        prop.update(type="string", format="date")
    elif spec.kind == "year":
        prop.update(type=["integer", "string"], pattern="^[0-9]{4}s?$")
    elif spec.kind == "lonlat_list":
        pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
        prop.update(type="array", items=pair)
    else:
        prop["type"] = _JSON_TYPES[spec.kind]
    if spec.enum:
        prop["enum"] = list(spec.enum)
        prop["x-lc-enum-titles"] = {
            v: dict(zip(("zh", "en"), ENUM_LABELS.get(v, (v, v)), strict=True)) for v in spec.enum
        }
    if spec.minimum is not None:
        prop["minimum"] = int(spec.minimum) if spec.kind == "int" else spec.minimum
    if spec.unit:
        prop["x-ogc-unit"] = spec.unit
    if spec.name == "id":
        prop["x-ogc-role"] = "id"
    return prop


def _written(field: Field, text: int) -> dict[str, Any]:
    """A field as a write may send it: text for numbers, null when optional, bounded."""
    prop = {k: v for k, v in property_schema(field).items() if not k.startswith("x-")}
    kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    if "enum" not in prop:
        kinds = [*kinds, *(k for k in _AS_TEXT.get(field.kind, ()) if k not in kinds)]
    if not field.required or field.name == "id":
        kinds = [*kinds, "null"]
        if "enum" in prop:
            prop["enum"] = [*prop["enum"], None]
    prop["type"] = kinds if len(kinds) > 1 else kinds[0]
    if "string" in kinds and field.kind != "lonlat_list":
        prop["maxLength"] = text
    if field.kind == "int":  # a 64-bit integer, as the store keeps it
        prop.setdefault("minimum", -_INT64)
        prop["maximum"] = _INT64
    if field.name == "id":
        prop["pattern"] = ID_PATTERN
    return prop


def _geometry(types: tuple[str, ...], box: tuple[float, float, float, float]) -> dict[str, Any]:
    """One geometry of ``types`` with every position inside ``box`` (lon, lat[, height])."""
    lon_min, lat_min, lon_max, lat_max = box
    position = {
        "type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"},
        "prefixItems": [{"type": "number", "minimum": lon_min, "maximum": lon_max},
                        {"type": "number", "minimum": lat_min, "maximum": lat_max}],
    }  # fmt: skip
    polygon = {"type": "array", "minItems": 1,
               "items": {"type": "array", "minItems": 4, "items": position}}  # fmt: skip
    coordinates = {
        "Point": position,
        "Polygon": polygon,
        "MultiPolygon": {"type": "array", "minItems": 1, "items": polygon},
    }
    return {"anyOf": [{"type": "object", "required": ["type", "coordinates"],
                       "properties": {"type": {"const": kind}, "coordinates": coordinates[kind]}}
                      for kind in types]}  # fmt: skip


def feature_schema(layer: str, settings: Settings) -> dict[str, Any]:
    """The JSON Schema of a Feature a write to ``layer`` sends (POST, PUT).

    Parameters
    ----------
    layer : str
        One of the layers.
    settings : Settings
        The service's: texts at most ``max_text_chars`` long, positions within the study
        region and its margin (:meth:`~geo.settings.Settings.study_box`).

    Returns
    -------
    dict
        ``type`` ``Feature``; a ``geometry`` of one of the layer's types, every position in
        the study region; ``properties`` with the layer's fields (types, allowed values,
        bounds; text for a number as an import reads it; ``null`` for an optional one), the
        required ones but ``id`` (made when absent, the URL's for PUT). Whether a ring
        crosses itself or values agree with each other is the layer rules' to say.
    """
    spec = get_layer(layer)
    text = settings.max_text_chars
    fields = {field.name: _written(field, text) for field in spec.fields}
    extra = {"type": ["string", "number", "boolean", "null"], "maxLength": text}
    return {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": ["string", "integer", "null"]},
            "geometry": _geometry(spec.geometry_types, settings.study_box()),
            "properties": {
                "type": "object",
                "required": [name for name in spec.required if name != "id"],
                "properties": fields,
                "additionalProperties": extra if spec.extra_fields_allowed else False,
            },
        },
    }
