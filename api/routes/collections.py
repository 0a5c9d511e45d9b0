"""The layers as OGC API – Features collections (Part 1 Core, GeoJSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

import geopandas as gpd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import (
    FeatureId,
    LayerCache,
    LayerName,
    StudyCache,
    get_cache,
    get_studies,
    settings_of,
)
from api.ogc import (
    CRS84,
    SUPPORTED_CRS,
    bbox_to_crs84,
    frame_in_crs,
    html_page,
    parse_ogc_crs,
    wants_html,
)
from api.schemas import property_schema
from geo.errors import NotFoundError
from geo.layers.edit import feature_etag
from geo.layers.query import (
    BBOX_PATTERN,
    FeatureIndex,
    clamp_box,
    layer_extent,
    parse_bbox,
    to_geojson_dict,
    with_every_property,
    with_members,
)
from geo.maps.base import LABELS
from geo.schema import LAYER_NAMES, get_layer

router = APIRouter(tags=["collections"])

GEOJSON = "application/geo+json"
#: The most features one page gives; a larger ``limit`` is capped to it (OGC API allows that).
MAX_LIMIT = 10_000
Format = Annotated[
    Literal["json", "html"] | None,
    Query(description="格式 / format: json, html (默认按 Accept / default from Accept)"),
]
# Query parameters that are not property filters.
_RESERVED = {"limit", "offset", "bbox", "f", "crs", "bbox-crs", "datetime", "properties"}
#: The coverage of every residential area (standard walker, default thresholds) is served
#: as a read-only collection too, so a GIS can load it like any layer.
COVERAGE = "coverage"
#: One geometry type each, read-only, for GIS clients that type a layer by its first features
#: (QGIS drew 5 of 24 mixed renovation projects): the renovation projects that are points,
#: and those that are areas. Edits go to ``renovation_projects`` itself.
VIEWS = {
    "renovation_projects_points": ("renovation_projects", ("Point",), ("改造项目（点）", "Renovation projects (points)")),
    "renovation_projects_areas": ("renovation_projects", ("Polygon", "MultiPolygon"), ("改造项目（范围）", "Renovation projects (areas)")),
}  # fmt: skip
#: Collections that are computed or views: GET only.
READ_ONLY = frozenset({COVERAGE, *VIEWS})
COLLECTIONS = (*LAYER_NAMES, *VIEWS, COVERAGE)
_VIEW_INDEXES: dict[tuple[int, str], tuple[str, FeatureIndex]] = {}


def _frame(layer: str, cache: LayerCache, studies: StudyCache) -> tuple[gpd.GeoDataFrame, str, str]:
    """The frame, ETag and schema layer behind a collection id (checked against the set)."""
    index, etag = _index(layer, cache, studies)
    return index.frame, etag, index.layer


def _index(layer: str, cache: LayerCache, studies: StudyCache) -> tuple[FeatureIndex, str]:
    if layer == COVERAGE:
        return studies.coverage_index()
    if layer in VIEWS:
        base, types, _ = VIEWS[layer]
        frame, etag = cache.get(base)
        key = (id(cache), layer)
        cached = _VIEW_INDEXES.get(key)
        if cached is None or cached[0] != etag:
            subset = frame[frame.geometry.geom_type.isin(types)]
            cached = _VIEW_INDEXES[key] = (etag, FeatureIndex(subset, base))
        return cached[1], etag
    get_layer(layer)
    return cache.index(layer)


def _collection(request: Request, layer: str, cache: LayerCache, studies: StudyCache) -> dict:
    frame, _, schema_layer = _frame(layer, cache, studies)
    spec = get_layer(schema_layer)
    base = str(request.base_url).rstrip("/")
    if layer == COVERAGE:
        zh, en = "15分钟覆盖结果", "15-minute coverage of residential areas"
        description = "每个小区到各类设施的步行时间与覆盖情况 / walking time to each type, covered"
    elif layer in VIEWS:
        zh, en = VIEWS[layer][2]
        description = (f"只读视图，编辑请用 renovation_projects / read-only view, one geometry type "
                       f"({', '.join(VIEWS[layer][1])}); edit renovation_projects")  # fmt: skip
    else:
        zh, en = LABELS[layer]
        description = f"{spec.zh} / {spec.en}: {', '.join(spec.geometry_types)}"
    extent = layer_extent(frame)
    return {
        "id": layer,
        "title": f"{zh} {en}",
        "description": description,
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [extent] if extent else [], "crs": CRS84}},
        "links": [
            {"href": f"{base}/collections/{layer}", "rel": "self", "type": "application/json"},
            {"href": f"{base}/collections/{layer}?f=html", "rel": "alternate", "type": "text/html"},
            {
                "href": f"{base}/collections/{layer}/queryables",
                "type": "application/schema+json",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            },
            {
                "href": f"{base}/collections/{layer}/schema",
                "type": "application/schema+json",
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/schema",
            },
            {
                "href": f"{base}/collections/{layer}/items",
                "rel": "items",
                "type": GEOJSON,
                "title": "要素 / features",
            },
        ],
    }


#: One collection as ``/collections`` lists it (the documentation's example).
_CLINICS_EXAMPLE = {
    "id": "clinics",
    "title": "社区卫生服务中心/站 Clinics",
    "itemType": "feature",
    "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
    "extent": {"spatial": {"bbox": [[121.469, 31.204, 121.5538, 31.330259]]}},
    "links": [
        {"href": "http://127.0.0.1:8000/collections/clinics/items", "rel": "items",
         "type": "application/geo+json"},
    ],
}  # fmt: skip


@router.get(
    "/collections",
    summary="图层列表 / the layers",
    responses={200: {"content": {"application/json": {"example": {
        "collections": [_CLINICS_EXAMPLE],
        "links": [{"href": "http://127.0.0.1:8000/collections", "rel": "self",
                   "type": "application/json"}],
    }}, "text/html": {}}}},
)  # fmt: skip
def collections(
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
    f: Format = None,
) -> Response:
    """Every layer as an OGC API – Features collection, and the coverage results."""
    base = str(request.base_url).rstrip("/")
    body = {
        "collections": [_collection(request, name, cache, studies) for name in COLLECTIONS],
        "links": [
            {"href": f"{base}/collections", "rel": "self", "type": "application/json"},
            {"href": f"{base}/collections?f=html", "rel": "alternate", "type": "text/html"},
        ],
    }
    return _answer(request, f, body, "图层 / collections")


def _answer(request: Request, f: str | None, body: dict, title: str,
            media_type: str = "application/json", headers: dict | None = None) -> Response:  # fmt: skip
    """JSON, or the same as a page when the client asks for HTML first."""
    if wants_html(request.headers.get("accept"), f):
        json_href = str(request.url.include_query_params(f="json"))
        return HTMLResponse(html_page(title, body, json_href), headers=headers)
    return JSONResponse(body, media_type=media_type, headers=headers)


@router.get(
    "/collections/{layer}",
    summary="一个图层 / one layer",
    responses={200: {"content": {"application/json": {"example": _CLINICS_EXAMPLE},
                                 "text/html": {}}}},
)  # fmt: skip
def collection(
    layer: LayerName,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
    f: Format = None,
) -> Response:
    """A layer's description, extent, coordinate systems and links; 404 for a name outside
    the set."""
    body = _collection(request, layer, cache, studies)
    return _answer(request, f, body, body["title"])


def _allowed(request: Request, layer: str, one: bool) -> str:
    reads = "GET, HEAD, OPTIONS"
    if layer in READ_ONLY or not settings_of(request).api_token:
        return reads
    return reads + (", PUT, PATCH, DELETE" if one else ", POST")


@router.options("/collections/{layer}/items", summary="允许的方法 / allowed methods",
                status_code=204, response_class=Response)  # fmt: skip
def items_options(layer: LayerName, request: Request) -> Response:
    """``Allow`` lists the methods (POST only when the server has a write token), as OGC API –
    Features Part 4 asks: QGIS offers editing when it sees POST here."""
    if layer not in READ_ONLY:
        get_layer(layer)
    return Response(status_code=204, headers={"Allow": _allowed(request, layer, one=False)})


@router.options("/collections/{layer}/items/{feature_id}", summary="允许的方法 / allowed methods",
                status_code=204, response_class=Response)  # fmt: skip
def item_options(layer: LayerName, feature_id: FeatureId, request: Request) -> Response:
    """``Allow`` for one feature: PUT, PATCH and DELETE when the server has a write token."""
    if layer not in READ_ONLY:
        get_layer(layer)
    return Response(status_code=204, headers={"Allow": _allowed(request, layer, one=True)})


CrsURI = Literal[
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/4490",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
    "[EPSG:4326]",
    "[EPSG:4490]",
    "[EPSG:3857]",
    "EPSG:4326",
    "EPSG:4490",
    "EPSG:3857",
]
_CRS_QUERY = Query(
    description="输出坐标系 / CRS of the answer (OGC API – Features Part 2): "
    + ", ".join(SUPPORTED_CRS) + "; EPSG:4326 and 4490 are latitude first",
)  # fmt: skip
_BBOX_CRS_QUERY = Query(
    alias="bbox-crs",
    description="bbox 的坐标系 / CRS of bbox, in its axis order: " + ", ".join(SUPPORTED_CRS),
)


@router.get(
    "/collections/{layer}/items",
    summary="图层要素 / features of a layer",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}, "text/html": {}}}},
    openapi_extra={
        "parameters": [
            {
                "name": "filters",
                "in": "query",
                "required": False,
                "style": "form",
                "explode": True,
                "description": "按属性筛选 / property filters, OGC API – Features Part 3 query parameters: "
                "any field of the layer's /queryables as name=value (equal as text, ignoring case), "
                "e.g. ?status=completed&kind=bike_shed; an unknown field is a 400",
                "schema": {"type": "object", "additionalProperties": {"type": "string"}},
                "example": {"status": "completed"},
            }
        ]
    },
)
async def items(
    layer: LayerName,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
    limit: Annotated[
        int,
        Query(ge=1, description=f"每页条数（最多 {MAX_LIMIT}）/ page size, capped at {MAX_LIMIT}"),
    ] = 100,
    offset: Annotated[int, Query(ge=0, description="跳过条数 / features to skip")] = 0,
    bbox: Annotated[
        str | None,
        Query(
            description="minlon,minlat,maxlon,maxlat (WGS-84, or bbox-crs; 6 numbers with "
            "heights accepted; west above east crosses the antimeridian)",
            examples=["121.53,31.29,121.56,31.31"],
            json_schema_extra={"pattern": BBOX_PATTERN},  # checked by parse_bbox
        ),
    ] = None,
    crs: Annotated[CrsURI | None, _CRS_QUERY] = None,
    bbox_crs: Annotated[CrsURI | None, _BBOX_CRS_QUERY] = None,
    f: Format = None,
) -> Response:
    """A page of features as GeoJSON, with ``numberMatched``, ``numberReturned`` and paging
    links; every feature carries every property (``null`` when it has no value). Other query
    parameters filter by property equality (``?status=completed``)."""
    index, etag = _index(layer, cache, studies)
    limit = min(limit, MAX_LIMIT)
    target = parse_ogc_crs(crs, "crs")
    box_crs = parse_ogc_crs(bbox_crs, "bbox-crs")
    box = parse_bbox(bbox, check_range=box_crs == CRS84)
    if box is not None and box_crs != CRS84:
        box = clamp_box(bbox_to_crs84(box, box_crs))
    filters = {k: v for k, v in request.query_params.items() if k not in _RESERVED}
    positions, matched = index.select(box, filters, limit, offset)
    members = {
        "numberMatched": matched,
        "numberReturned": len(positions),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": _paging_links(request, matched, limit, offset),
    }
    headers = {"ETag": f'"{etag}"', "Content-Crs": f"<{target}>"}
    if wants_html(request.headers.get("accept"), f):
        body = json.loads(index.collection_bytes(positions, **members))
        return _answer(request, "html", body, f"{layer}: {len(positions)} / {matched}")
    if target == CRS84:
        content = index.collection_bytes(positions, **members)
    else:
        page = frame_in_crs(index.frame.iloc[positions], target)
        parsed = to_geojson_dict(page, index.layer)
        for feature in parsed["features"]:
            with_every_property(feature, index.keys)
        content = with_members(
            json.dumps(parsed, ensure_ascii=False, separators=(",", ":")).encode(), **members
        )
    return Response(content, media_type=GEOJSON, headers=headers)


def _paging_links(request: Request, matched: int, limit: int, offset: int) -> list[dict]:
    def link(rel: str, new_offset: int) -> dict:
        url = request.url.include_query_params(offset=new_offset, limit=limit)
        return {"href": str(url), "rel": rel, "type": GEOJSON}

    links = [link("self", offset)]
    if offset + limit < matched:
        links.append(link("next", offset + limit))
    if offset > 0:
        links.append(link("prev", max(0, offset - limit)))
    return links


@router.get(
    "/collections/{layer}/items/{feature_id}",
    summary="一个要素 / one feature",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}, "text/html": {}}}},
)
def item(
    layer: LayerName,
    feature_id: FeatureId,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
    crs: Annotated[CrsURI | None, _CRS_QUERY] = None,
    f: Format = None,
) -> Response:
    """One feature by id, with every property and its ``ETag``; 404 problem when there is
    none."""
    index, _ = _index(layer, cache, studies)
    frame, schema_layer = index.frame, index.layer
    target = parse_ogc_crs(crs, "crs")
    if feature_id not in frame.index:
        raise NotFoundError(
            f"图层 {layer} 中没有要素 {feature_id} / no feature '{feature_id}' in {layer}"
        )
    feature = to_geojson_dict(frame.loc[[feature_id]], schema_layer)["features"][0]
    etag = feature_etag(feature)  # of the stored feature, as the write routes compare it
    if target != CRS84:
        moved = frame_in_crs(frame.loc[[feature_id]], target)
        feature["geometry"] = to_geojson_dict(moved, schema_layer)["features"][0]["geometry"]
    with_every_property(feature, index.keys)
    base = str(request.base_url).rstrip("/")
    href = f"{base}/collections/{layer}/items/{quote(str(feature_id), safe='')}"
    feature["links"] = [
        {"href": href, "rel": "self", "type": GEOJSON},
        {"href": f"{base}/collections/{layer}", "rel": "collection", "type": "application/json"},
    ]
    headers = {"ETag": f'"{etag}"', "Content-Crs": f"<{target}>"}
    return _answer(request, f, feature, f"{layer} / {feature_id}", GEOJSON, headers)


def _dtype_schema(column: Any) -> dict[str, Any]:
    """A computed column (the coverage results) as a JSON Schema property, from its values."""
    kind = column.dtype.kind
    if kind == "b":
        return {"type": "boolean"}
    if kind in "iu":
        return {"type": "integer"}
    if kind == "f":
        return {"type": "number"}
    return {"type": "string"}


def _schema(
    layer: str, request: Request, cache: LayerCache, studies: StudyCache, what: str
) -> dict:
    """The JSON Schema of a collection's features (``what``: ``schema`` or ``queryables``)."""
    index, _ = _index(layer, cache, studies)
    spec = get_layer(index.layer)
    base = str(request.base_url).rstrip("/")
    types = VIEWS[layer][1] if layer in VIEWS else spec.geometry_types
    geometry = "point" if types == ("Point",) else "any"
    if types == ("Polygon", "MultiPolygon"):
        geometry = "multipolygon"
    properties: dict[str, Any] = {
        "geometry": {"x-ogc-role": "primary-geometry", "format": f"geometry-{geometry}"},
        **{f.name: property_schema(f) for f in spec.fields},
    }
    for name in index.keys:
        if name not in properties:
            properties[name] = {"title": name, **_dtype_schema(index.frame[name])}
    title = f"{spec.zh} / {spec.en}"
    if layer == COVERAGE:
        title = "15分钟覆盖结果 / 15-minute coverage of residential areas"
    body: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{layer}/{what}",
        "type": "object",
        "title": title,
        "x-lc-title": {"zh": spec.zh, "en": spec.en},
        "x-lc-geometry-types": list(spec.geometry_types),
        "properties": properties,
    }
    if what == "schema":
        body["required"] = list(spec.required)
        body["additionalProperties"] = spec.extra_fields_allowed and layer not in READ_ONLY
    else:
        body["additionalProperties"] = False
    return body


@router.get(
    "/collections/{layer}/schema",
    summary="图层字段 / the fields of a layer (JSON Schema)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/schema+json": {}}}},
)
def collection_schema(
    layer: LayerName,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
) -> Response:
    """The layer's properties as JSON Schema (OGC API – Features Part 5): type, Chinese
    and English titles, allowed values with their names, unit, minimum, which are required.
    For ``coverage``: the compounds' fields and the computed ones."""
    body = _schema(layer, request, cache, studies, "schema")
    return JSONResponse(body, media_type="application/schema+json")


@router.get(
    "/collections/{layer}/queryables",
    summary="可筛选字段 / queryable properties (JSON Schema)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/schema+json": {}}}},
)
def collection_queryables(
    layer: LayerName,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
) -> Response:
    """The properties ``/items`` filters by (``?name=value``, OGC API – Features Part 3
    query parameters), as JSON Schema."""
    body = _schema(layer, request, cache, studies, "queryables")
    return JSONResponse(body, media_type="application/schema+json")
