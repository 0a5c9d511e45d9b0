"""Writes to the layers (OGC API – Features Part 4 style): POST, PUT, PATCH, DELETE of items.

Thin: parse the request, call :mod:`geo.layers.edit`, answer. Every write needs
``Authorization: Bearer <LIFECIRCLE_API_TOKEN>`` (:func:`api.deps.require_writer`). A change
or deletion with ``If-Match`` is made only if the feature is still that version (else 412);
without it the last writer wins, as OGC API – Features Part 4 allows, unless the operator sets
``LIFECIRCLE_REQUIRE_IF_MATCH=1`` (then 428).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from jsonschema import Draft202012Validator
from starlette.concurrency import run_in_threadpool

from api.deps import FeatureId, LayerCache, LayerName, get_cache, require_writer, settings_of
from api.errors import PROBLEM_JSON, RETRY_AFTER_S, RuleConflictError
from api.routes.collections import COVERAGE, GEOJSON, READ_ONLY
from api.schemas import feature_schema
from geo.errors import LifecircleError, Problem, SourceReadError, ValidationError
from geo.layers import edit
from geo.layers.query import with_every_property
from geo.schema import get_layer


def _not_read_only(request: Request) -> None:
    """405 for a write to a read-only collection, before the token or the query is looked
    at: the method is not one the collection has (its paths in the document list none)."""
    layer = request.path_params.get("layer", "")
    if layer in READ_ONLY:
        _writable(layer)


router = APIRouter(
    tags=["collections"], dependencies=[Depends(_not_read_only), Depends(require_writer)]
)

MERGE_PATCH = "application/merge-patch+json"
_FEATURE_TYPES = (GEOJSON, "application/json")
_PATCH_TYPES = (MERGE_PATCH, "application/json", GEOJSON)
#: Larger integers cannot become floats (coerce_layer would overflow); no real value is that long.
_MAX_INT_DIGITS = 300

Crs = Annotated[
    Literal["wgs84", "gcj02", "bd09"],
    Query(
        description=(
            "请求体坐标系 / CRS of the geometry and entrances in the body: wgs84 (GPS), "
            "gcj02 (高德/腾讯 Gaode/Tencent), bd09 (百度 Baidu); stored as WGS-84"
        ),
    ),
]
_TAG = r'(?:W/)?(?:"[\x21\x23-\x7e\x80-\xff]*"|[\x21\x23-\x2b\x2d-\x7e]+)'
#: ``If-Match``: ``*``, or entity tags (quoted, or bare as some clients send them; ``W/``
#: allowed), comma-separated; blank is none.
IF_MATCH_PATTERN = f"^ *(?:\\*|{_TAG}(?: *, *{_TAG})*)? *$"
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description=(
            '要素的 ETag / the ETag of the version you read, e.g. "3f2a…" (W/ accepted); '
            "* for any version. Optional: without it the last writer wins (412 when stale; "
            "required only when the server sets LIFECIRCLE_REQUIRE_IF_MATCH=1)"
        ),
        json_schema_extra={"pattern": IF_MATCH_PATTERN},
    ),
]


def _if_match(if_match: IfMatchHeader = None) -> str | None:
    """``If-Match`` as sent, or a 400 when it is not entity tags (nothing could match it)."""
    if if_match is not None and not re.fullmatch(IF_MATCH_PATTERN, if_match):
        raise HTTPException(
            400,
            f'If-Match 应为 ETag（带引号）或 * / If-Match must be entity tags ("…", W/ allowed, '
            f"comma-separated) or *, as the ETag header gave them: '{if_match[:80]}'",
        )
    return if_match


IfMatch = Annotated[str | None, Depends(_if_match)]

#: A feature each layer accepts (the document's example for POST; PUT sends it without the id).
FEATURE_EXAMPLES: dict[str, dict[str, Any]] = {
    "clinics": {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [121.5405, 31.2990]},
        "properties": {"id": "clinic-101", "name": "长白新村街道卫生服务站", "level": "station",
                       "beds": 0, "subdistrict": "长白新村街道", "district": "杨浦区"},
    },
    "neighbor_centers": {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [121.5430, 31.2985]},
        "properties": {"name": "228街坊睦邻点", "subdistrict": "长白新村街道", "kind": "point",
                       "health_station": False},
    },
    "charging_points": {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [121.5525, 31.3030]},
        "properties": {"name": "长白二村非机动车充电棚", "vehicle": "ebike", "ports": 20,
                       "status": "planned"},
    },
    "residential_areas": {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[
            [121.5410, 31.3000], [121.5420, 31.3000], [121.5420, 31.3008],
            [121.5410, 31.3008], [121.5410, 31.3000]]]},
        "properties": {"name": "长白二村（示例）", "subdistrict": "长白新村街道",
                       "district": "杨浦区", "households": 800, "population": 2000,
                       "elderly": 700, "built": 1956, "tenure": "售后公房"},
    },
    "facilities": {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [121.5435, 31.2995]},
        "properties": {"name": "长白新村街道老年助餐点", "category": "elderly_canteen"},
    },
    "renovation_projects": {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [121.5415, 31.3004]},
        "properties": {"name": "长白二村3号加装电梯", "kind": "elevator_retrofit",
                       "status": "planned"},
    },
}  # fmt: skip


_PATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            t: {
                "schema": {
                    "type": "object",
                    "description": "JSON Merge Patch (RFC 7396) of the feature, or of its "
                    "properties alone; the merged feature must keep the layer rules (else 409)",
                },
                "examples": {
                    "properties": {
                        "summary": "只改属性 / properties only (null removes one)",
                        "value": {"note": "2026年复核 / checked in 2026"},
                    },
                    "feature": {
                        "summary": "属性和位置 / properties and position",
                        "value": {
                            "properties": {"name": "长白社区卫生服务站"},
                            "geometry": {"type": "Point", "coordinates": [121.5407, 31.2991]},
                        },
                    },
                },
            }
            for t in _PATCH_TYPES
        },
    }
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    meaning = {
        400: "请求体不是有效的 JSON 或 Feature / the body is not valid JSON or not a Feature",
        401: "缺少或错误的令牌 / missing or wrong token",
        403: "服务器未开启写入 / writes are disabled (no LIFECIRCLE_API_TOKEN)",
        404: "没有该图层或要素 / no such layer or feature",
        409: "编号已存在，或要素符合文档中的结构却违反图层规则（见 errors）/ the id exists "
        "already, or the body matches the document's schema but breaks a layer rule the schema "
        "cannot state (see errors)",
        412: "要素已被他人修改 / the feature changed since you read it: GET it again",
        415: "不支持的 Content-Type / unsupported Content-Type",
        422: "不符合文档中的要素结构（见 errors）/ does not match the document's Feature "
        "schema (see errors)",
        428: "缺少 If-Match（仅当服务器要求时）/ If-Match required (only when the server sets "
        "LIFECIRCLE_REQUIRE_IF_MATCH=1)",
        503: "写入繁忙或数据被占用，稍后重试 / busy: too many writes, or another writer holds "
        "the store; retry after Retry-After seconds",
    }
    return {s: {"description": meaning[s], "content": {PROBLEM_JSON: {}}} for s in statuses}


def _writable(layer: str) -> None:
    if layer in READ_ONLY:
        what = ("覆盖结果由图层计算得出，只读 / coverage is computed from the layers and read-only; "
                "edit residential_areas or a facility layer instead") if layer == COVERAGE else (
                f"{layer} 是只读视图 / {layer} is a read-only view; edit renovation_projects")  # fmt: skip
        raise HTTPException(405, what, headers={"Allow": "GET, HEAD, OPTIONS"})
    get_layer(layer)  # 404 for a name outside the fixed set


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} 不是 JSON 数字 / {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"数字过大 / number too large: {text[:40]}")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValueError(f"数字过大 / number too large: {text[:40]}…")
    return int(text)


async def _json_body(request: Request, accepted: tuple[str, ...]) -> Any:
    """The request body as JSON; 415 for another media type, 400 for anything unreadable."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in accepted:
        raise HTTPException(
            415,
            f"不支持的 Content-Type / unsupported Content-Type '{media_type}'; "
            f"use {' or '.join(accepted)}",
        )
    raw = await request.body()
    if not raw.strip():
        raise SourceReadError("请求体为空 / the request body is empty; send a JSON object")
    try:
        return json.loads(
            raw,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as exc:
        raise SourceReadError(
            f"请求体不是有效的 JSON / the body is not valid JSON at line {exc.lineno}, "
            f"column {exc.colno}: {exc.msg}"
        ) from None
    except UnicodeDecodeError:
        raise SourceReadError("请求体不是 UTF-8 / the body is not UTF-8 (RFC 8259)") from None
    except ValueError as exc:
        raise SourceReadError(f"请求体无法读取 / the body cannot be read: {exc}") from None


_VALIDATORS: dict[tuple[int, str], Draft202012Validator] = {}


def _validator(request: Request, layer: str) -> Draft202012Validator:
    """The layer's Feature schema under this service's settings, as its document gives it."""
    settings = settings_of(request)
    key = (id(settings), layer)
    if key not in _VALIDATORS:
        _VALIDATORS[key] = Draft202012Validator(feature_schema(layer, settings))
    return _VALIDATORS[key]


def _as_documented(request: Request, layer: str, feature: Any, feature_id: str | None,
                   crs: str) -> None:  # fmt: skip
    """Refuse a body that does not match the layer's Feature schema in the document (422):
    with the layer rules' own bilingual problems when they refuse it too, else with where
    it departs from the schema."""
    departures = list(_validator(request, layer).iter_errors(feature))
    if not departures:
        return
    edit.check_feature(layer, feature, feature_id, crs, settings=settings_of(request))
    where = f"GET /collections/{layer}/schema"
    raise ValidationError(
        [Problem(edit.REQUEST, feature_id, _field(list(d.absolute_path)),
                 f"不符合文档中的要素结构 / not as the document's Feature schema says: "
                 f"{d.message[:300]}", f"字段见 / the fields: {where}")
         for d in departures[:20]],
        f"要素不符合 {layer} 的结构，未写入 / the feature does not match the {layer} schema "
        "of /openapi.json; nothing written",
    )  # fmt: skip


def _field(path: list[Any]) -> str:
    """Where in the body: a property's name (as the layer rules name it), else the path."""
    if len(path) >= 2 and path[0] == "properties":
        return str(path[1])
    return "/".join(map(str, path)) or "(body)"


async def _ruled(write: Any) -> Any:
    """Await a write of a documented body: a layer rule it breaks is a 409 (the document
    called it valid), with the same problems."""
    try:
        return await write
    except RuleConflictError:
        raise
    except ValidationError as broken:
        raise RuleConflictError(broken.problems, broken.summary) from None


def _feature_response(
    request: Request, layer: str, feature: dict[str, Any], status: int
) -> JSONResponse:
    """The stored feature with its links, ``ETag`` and (for 201) ``Location``."""
    base = str(request.base_url).rstrip("/")
    href = f"{base}/collections/{layer}/items/{quote(str(feature['id']), safe='')}"
    body = {
        **feature,
        "links": [
            {"href": href, "rel": "self", "type": GEOJSON},
            {
                "href": f"{base}/collections/{layer}",
                "rel": "collection",
                "type": "application/json",
            },
        ],
    }
    headers = {"ETag": f'"{edit.feature_etag(feature)}"'}
    with_every_property(body, [f.name for f in get_layer(layer).fields])
    if status == 201:
        headers["Location"] = href
    return JSONResponse(body, status_code=status, media_type=GEOJSON, headers=headers)


def _gate(request: Request) -> asyncio.Semaphore:
    """The service's write gate: at most ``settings.max_writes`` writes at once."""
    state = request.app.state
    if getattr(state, "write_gate", None) is None:
        state.write_gate = asyncio.Semaphore(max(1, settings_of(request).max_writes))
    return state.write_gate


async def _write(
    request: Request,
    cache: LayerCache,
    layer: str,
    change: Callable[..., Any],
    *args: Any,
    versioned: bool = True,
    **kwargs: Any,
) -> Any:
    """Run a blocking :mod:`geo.layers.edit` call off the event loop; then drop the cached
    layer.

    Writes are gated (``LIFECIRCLE_MAX_WRITES`` at once, the rest 503 at once) and wait for
    the store's lock ``LIFECIRCLE_WRITE_WAIT_S`` at most (then 503): a held lock occupies
    few worker threads for a short time, and reads go on."""
    settings = settings_of(request)
    gate = _gate(request)
    if gate.locked():
        raise HTTPException(
            503,
            "写入繁忙，请稍后重试 / too many writes at once: try again in a moment",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    if versioned:
        kwargs["require_if_match"] = settings.require_if_match
    async with gate:
        try:
            result = await run_in_threadpool(
                change,
                *args,
                folder=cache.store,
                wait_s=settings.write_wait_s,
                settings=settings,
                **kwargs,
            )
        except LifecircleError:
            raise  # refused (bad data, stale, busy): nothing was written, the cache holds
        except BaseException:
            cache.forget(layer)  # unknown: read the store again
            raise
        cache.forget(layer)
        return result


@router.post(
    "/collections/{layer}/items",
    summary="新增要素 / add a feature",
    status_code=201,
    response_class=JSONResponse,
    responses={
        201: {
            "description": "已保存的要素 / the feature as stored (ETag, Location headers)",
            "content": {GEOJSON: {}},
        },
        **_problems(400, 401, 403, 404, 409, 415, 422, 503),
    },
)
async def create_item(
    layer: LayerName,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    crs: Crs = "wgs84",
) -> Response:
    """Add one GeoJSON Feature, checked like ``lifecircle import``. Without an id one is made
    from layer, name and position; an id already in the layer is a 409."""
    _writable(layer)
    feature = await _json_body(request, _FEATURE_TYPES)
    _as_documented(request, layer, feature, None, crs)
    stored = await _ruled(
        _write(request, cache, layer, edit.create_feature, layer, feature, crs=crs,
               versioned=False)
    )  # fmt: skip
    return _feature_response(request, layer, stored, 201)


@router.put(
    "/collections/{layer}/items/{feature_id}",
    summary="替换要素 / replace a feature",
    response_class=JSONResponse,
    responses={
        200: {"description": "已保存的要素 / the feature as stored", "content": {GEOJSON: {}}},
        **_problems(400, 401, 403, 404, 409, 412, 415, 422, 428, 503),
    },
)
async def replace_item(
    layer: LayerName,
    feature_id: FeatureId,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    if_match: IfMatch,
    crs: Crs = "wgs84",
) -> Response:
    """Replace the whole feature (its id stays). ``If-Match`` with the ETag you read guards
    against overwriting someone else's change (412 when stale)."""
    _writable(layer)
    feature = await _json_body(request, _FEATURE_TYPES)
    _as_documented(request, layer, feature, feature_id, crs)
    stored = await _ruled(
        _write(request, cache, layer, edit.replace_feature, layer, feature_id, feature,
               if_match, crs=crs)
    )  # fmt: skip
    return _feature_response(request, layer, stored, 200)


@router.patch(
    "/collections/{layer}/items/{feature_id}",
    summary="修改部分属性 / change some properties",
    response_class=JSONResponse,
    responses={
        200: {"description": "已保存的要素 / the feature as stored", "content": {GEOJSON: {}}},
        **_problems(400, 401, 403, 404, 409, 412, 415, 422, 428, 503),
    },
    openapi_extra=_PATCH_BODY,
)
async def patch_item(
    layer: LayerName,
    feature_id: FeatureId,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    if_match: IfMatch,
    crs: Crs = "wgs84",
) -> Response:
    """JSON Merge Patch (RFC 7396): ``{"properties": {...}, "geometry": ...}`` or the
    properties alone; ``null`` removes an optional property. ``If-Match`` as for PUT."""
    _writable(layer)
    patch = await _json_body(request, _PATCH_TYPES)
    stored = await _ruled(
        _write(request, cache, layer, edit.patch_feature, layer, feature_id, patch, if_match,
               crs=crs)
    )  # fmt: skip
    return _feature_response(request, layer, stored, 200)


@router.delete(
    "/collections/{layer}/items/{feature_id}",
    summary="删除要素 / delete a feature",
    status_code=204,
    response_class=Response,
    responses=_problems(401, 403, 404, 412, 428, 503),
)
async def delete_item(
    layer: LayerName,
    feature_id: FeatureId,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    if_match: IfMatch,
) -> Response:
    """Delete the feature; with ``If-Match`` only if it is still the version you read."""
    _writable(layer)
    await _write(request, cache, layer, edit.delete_feature, layer, feature_id, if_match)
    return Response(status_code=204)
