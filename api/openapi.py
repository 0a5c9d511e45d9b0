"""The OpenAPI document says what the service really answers.

FastAPI documents a 422 for every request it validates, while this service answers 400
problems (:mod:`api.errors`); it leaves out the 404 of a path with an unknown id and the 413
of a body over ``LIFECIRCLE_MAX_BODY_BYTES``. :func:`describe_errors` sets that right on the
generated document, once: every error as ``application/problem+json`` with a
:data:`PROBLEM_SCHEMA`.

The document also says which requests are valid, so that a request it calls valid is
accepted and one it calls invalid is refused (``schemathesis --checks all`` holds the
service to it, ``benchmarks/api_schema.py``). The query strings with a form of their own
(thresholds ``clinics=15,…``, isochrone minutes, ``properties``, dates, scenario names and
entries, candidate points) carry the same regular expression the server parses them with
(:data:`geo.analysis.params.THRESHOLDS_PATTERN` and the like). :func:`describe_collections`
documents each collection's items on a path of its own, as pygeoapi does: its property
filters, its Feature body (:func:`api.schemas.feature_schema`, which the write
routes check) and an example its rules accept; the isochrones of a feature only for the
facility layers. ``lon`` and ``lat`` of ``/isochrones`` come together or not at all: one
exploded object parameter with ``dependentRequired``.

What the data decides, the schema cannot state; those answers are chosen from what HTTP
allows for a request that is well formed:

- a 街道 the study does not have (``subdistrict=`` of the pages, ``/gaps*``, ``/reports``,
  ``/renovation/progress``): 404, naming the 街道 there are — a named area not found;
- a facility or renovation project a plan names that the layers do not have: 404 in the
  query of ``GET /maps/scenario``, 409 in the body of ``POST``/``PUT /scenarios`` (a
  conflict with the layers as they are now);
- a Feature that matches its layer's schema but breaks a rule the schema cannot state (a
  ring that crosses itself, a point outside the study region, a changed id, values that
  disagree; any refused merge patch): 409 with the rules' bilingual ``errors``; a body that
  does not match the schema stays a 422;
- a point too far from every street (``/catchment``, ``/isochrones``): 200 with nothing
  reached and the bilingual ``reason``, as ``/nearest`` answers;
- ``candidates=points`` without ``points``: 200 with no site and the ``reason``; ``points``
  with another source of candidates are checked and left aside;
- an ``If-Match`` of well-formed entity tags none of which is the feature's: 412, as RFC 9110
  §13.1.1 and OGC API – Features Part 4 ask (which tag is current is the data's to say; the
  long run expects 412 on those three operations, ``benchmarks/schemathesis.toml``); a
  malformed one is a 400.

The Feature bodies follow the service's settings (the longest text, the study region), so
each service's document says what that service accepts (:mod:`api.schemas`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.routes.analysis import COVERAGE_COLLECTION
from api.routes.collections import COLLECTIONS, COVERAGE, READ_ONLY, VIEWS
from api.routes.items import FEATURE_EXAMPLES
from api.schemas import feature_schema
from geo.schema import FACILITY_LAYERS, get_layer
from geo.settings import Settings

__all__ = ["PROBLEM_SCHEMA", "describe_collections", "describe_errors", "install"]

PROBLEM = "application/problem+json"
#: RFC 9457 problem details, as :func:`api.errors.problem` writes them.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "中文 / English"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "request_id": {"type": "string"},
    },
}
_MEANING = {
    "400": "请求参数或内容无效 / invalid parameters or body (bilingual detail)",
    "404": "没有该资源 / no such layer, feature or resource",
    "413": "请求体过大 / the body is larger than LIFECIRCLE_MAX_BODY_BYTES",
    "408": "请求体发送过慢 / the body stalled (LIFECIRCLE_BODY_TIMEOUT_S)",
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}  # fmt: skip


def describe_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's 422 by the 400 problem the service sends and add the 404 and 413
    every route can answer.

    Parameters
    ----------
    document : dict
        An OpenAPI document as FastAPI generates it.

    Returns
    -------
    dict
        The same document, changed in place.
    """
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    schemas = document["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, methods in document.get("paths", {}).items():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if "422" in responses and not _ours(responses["422"]):
                del responses["422"]  # FastAPI's; the service answers 400 (api.errors)
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("400", _problem(_MEANING["400"]))
            if "{" in path or operation.get("parameters"):  # ids, layers, compounds by id
                responses.setdefault("404", _problem(_MEANING["404"]))
            if operation.get("requestBody") or method in ("post", "put", "patch"):
                responses.setdefault("413", _problem(_MEANING["413"]))
                responses.setdefault("408", _problem(_MEANING["408"]))
            if _offers_html(operation) and "200" in responses:
                responses["200"].setdefault("content", {}).setdefault("text/html", {})
            for status, response in responses.items():
                if status[0] in "45" and not response.get("content"):
                    response["content"] = _problem("")["content"]
    return document


def _offers_html(operation: dict[str, Any]) -> bool:
    """Whether an operation has an ``f`` parameter that can ask for HTML."""
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "f" and "html" in json.dumps(parameter.get("schema", {})):
            return True
    return False


def _ours(response: dict[str, Any]) -> bool:
    """A 422 a route documents itself (data that breaks the layer rules), not FastAPI's."""
    return PROBLEM in response.get("content", {})


_ITEMS = "/collections/{layer}/items"
_ITEM = _ITEMS + "/{feature_id}"
_ISOCHRONES = _ITEM + "/isochrones"
_FILTER = "按属性筛选：等于（按文字，不分大小写）/ property filter: equal as text, ignoring case"
#: Query parameters of ``/items`` that are not property filters.
_NOT_FILTERS = {"limit", "offset", "bbox", "f", "crs", "bbox-crs", "datetime", "properties"}


def _filters(collection: str) -> list[str]:
    """The properties a collection's items can be filtered by (its queryables)."""
    if collection == COVERAGE:  # the default walker's coverage
        return list(COVERAGE_COLLECTION)
    layer = VIEWS[collection][0] if collection in VIEWS else collection
    return [field.name for field in get_layer(layer).fields]


def _feature_body(layer: str, replace: bool, settings: Settings) -> dict[str, Any]:
    example = copy.deepcopy(FEATURE_EXAMPLES[layer])
    if replace:  # the id comes from the URL
        example["properties"].pop("id", None)
    content = {"schema": feature_schema(layer, settings), "example": example}
    return {"required": True, "content": {t: content for t in
            ("application/geo+json", "application/json")}}  # fmt: skip


def _patch_body(layer: str, operation: dict[str, Any]) -> None:
    example = FEATURE_EXAMPLES[layer]
    for content in operation.get("requestBody", {}).get("content", {}).values():
        content.get("examples", {}).get("feature", {})["value"] = {
            "properties": {"name": example["properties"]["name"]},
            "geometry": example["geometry"],
        }


def _for(
    collection: str, path: str, operations: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    """The operations of a ``{layer}`` path for one collection: no ``layer`` parameter, its
    own filters and bodies, reads only for a read-only collection."""
    out: dict[str, Any] = {}
    for method, operation in operations.items():
        if collection in READ_ONLY and method not in ("get", "head", "options"):
            continue
        operation = copy.deepcopy(operation)
        params = [
            p for p in operation.get("parameters", []) if p.get("name") not in ("layer", "filters")
        ]
        if path == _ITEMS and method == "get":
            params += [{"name": name, "in": "query", "required": False, "description": _FILTER,
                        "schema": {"type": "string"}}
                       for name in _filters(collection) if name not in _NOT_FILTERS]  # fmt: skip
        operation["parameters"] = params
        if "operationId" in operation:
            operation["operationId"] += f"_{collection}"
        operation["summary"] = f"{operation.get('summary', '')} ({collection})"
        if method in ("post", "put"):
            operation["requestBody"] = _feature_body(collection, method == "put", settings)
        if method == "patch":
            _patch_body(collection, operation)
        if method == "options":
            writes = "" if collection in READ_ONLY else ", POST" if path == _ITEMS else (
                ", PUT, PATCH, DELETE")  # fmt: skip
            operation["responses"]["204"]["headers"] = {"Allow": {
                "description": "允许的方法（写入仅当服务器设有令牌）/ the methods allowed (writes "
                "only when the server has a token)",
                "schema": {"type": "string"}, "example": f"GET, HEAD, OPTIONS{writes}"}}  # fmt: skip
        out[method] = operation
    return out


def describe_collections(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Give each collection its own ``/collections/<id>/items`` paths (pygeoapi's way):
    its property filters, its Feature body with an example its rules accept, no write
    methods for a read-only one, isochrones for a facility layer only.

    Parameters
    ----------
    document : dict
        An OpenAPI document as FastAPI generates it.
    settings : Settings
        The service's (the Feature bodies follow its text limit and study region).

    Returns
    -------
    dict
        The same document, changed in place.
    """
    paths = document.get("paths", {})
    templates = {path: paths.pop(path) for path in (_ITEMS, _ITEM, _ISOCHRONES) if path in paths}
    for collection in COLLECTIONS:
        for path, operations in templates.items():
            if path == _ISOCHRONES and collection not in FACILITY_LAYERS:
                continue
            concrete = path.replace("{layer}", collection)
            paths[concrete] = _for(collection, path, operations, settings)
    _paired(paths.get("/isochrones", {}).get("get"), "lon", "lat", "point")
    return document


def _paired(operation: dict[str, Any] | None, first: str, second: str, name: str) -> None:
    """Two query parameters that come together or not at all, as one exploded object."""
    if operation is None:
        return
    params = {p["name"]: p for p in operation.get("parameters", [])}
    if first not in params or second not in params:
        return

    def plain(schema: dict[str, Any]) -> dict[str, Any]:
        branches = [b for b in schema.get("anyOf", [schema]) if b.get("type") != "null"]
        return {k: v for k, v in branches[0].items() if k != "title"}

    pair = {
        "name": name,
        "in": "query",
        "required": False,
        "style": "form",
        "explode": True,
        "description": f"{first} 与 {second} 同时给出或都不给 / {first} and {second} "
        "together, or neither",
        "schema": {
            "type": "object",
            "properties": {first: plain(params[first]["schema"]),
                           second: plain(params[second]["schema"])},
            "dependentRequired": {first: [second], second: [first]},
            "additionalProperties": False,
        },
    }  # fmt: skip
    kept = [p for p in operation["parameters"] if p["name"] not in (first, second)]
    operation["parameters"] = [pair, *kept]


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the corrected document (built once, then cached).

    Parameters
    ----------
    app : fastapi.FastAPI
        The service.

    Returns
    -------
    None
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version,
                                   description=app.description, routes=app.routes)  # fmt: skip
            settings = app.state.settings
            app.openapi_schema = describe_errors(describe_collections(document, settings))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
