"""The layers as OGC API – Features collections (Part 1 Core, GeoJSON)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import geopandas as gpd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from api.deps import FeatureId, LayerCache, LayerName, StudyCache, get_cache, get_studies
from geo.errors import NotFoundError
from geo.layers.edit import feature_etag
from geo.layers.query import FeatureIndex, layer_extent, parse_bbox, to_geojson_dict
from geo.maps.base import LABELS
from geo.schema import ENUM_LABELS, LAYER_NAMES, Field, get_layer

router = APIRouter(tags=["collections"])

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# Query parameters that are not property filters.
_RESERVED = {"limit", "offset", "bbox", "f", "crs", "bbox-crs", "datetime", "properties"}
#: The coverage of every residential area (standard walker, default thresholds) is served
#: as a read-only collection too, so a GIS can load it like any layer.
COVERAGE = "coverage"
COLLECTIONS = (*LAYER_NAMES, COVERAGE)


def _frame(layer: str, cache: LayerCache, studies: StudyCache) -> tuple[gpd.GeoDataFrame, str, str]:
    """The frame, ETag and schema layer behind a collection id (checked against the set)."""
    index, etag = _index(layer, cache, studies)
    return index.frame, etag, index.layer


def _index(layer: str, cache: LayerCache, studies: StudyCache) -> tuple[FeatureIndex, str]:
    if layer == COVERAGE:
        return studies.coverage_index()
    get_layer(layer)
    return cache.index(layer)


def _collection(request: Request, layer: str, cache: LayerCache, studies: StudyCache) -> dict:
    frame, _, schema_layer = _frame(layer, cache, studies)
    spec = get_layer(schema_layer)
    base = str(request.base_url).rstrip("/")
    if layer == COVERAGE:
        zh, en = "15分钟覆盖结果", "15-minute coverage of residential areas"
        description = "每个小区到各类设施的步行时间与覆盖情况 / walking time to each type, covered"
    else:
        zh, en = LABELS[layer]
        description = f"{spec.zh} / {spec.en}: {', '.join(spec.geometry_types)}"
    extent = layer_extent(frame)
    return {
        "id": layer,
        "title": f"{zh} {en}",
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [extent] if extent else [], "crs": CRS84}},
        "links": [
            {"href": f"{base}/collections/{layer}", "rel": "self", "type": "application/json"},
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
    summary="图层列表 / the five layers",
    responses={200: {"content": {"application/json": {"example": {
        "collections": [_CLINICS_EXAMPLE],
        "links": [{"href": "http://127.0.0.1:8000/collections", "rel": "self",
                   "type": "application/json"}],
    }}}}},
)  # fmt: skip
def collections(
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
) -> dict:
    """Every layer as an OGC API – Features collection, and the coverage results."""
    base = str(request.base_url).rstrip("/")
    return {
        "collections": [_collection(request, name, cache, studies) for name in COLLECTIONS],
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}],
    }


@router.get(
    "/collections/{layer}",
    summary="一个图层 / one layer",
    responses={200: {"content": {"application/json": {"example": _CLINICS_EXAMPLE}}}},
)
def collection(
    layer: LayerName,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
) -> dict:
    """A layer's description, extent and links; 404 for a name outside the set."""
    return _collection(request, layer, cache, studies)


@router.get(
    "/collections/{layer}/items",
    summary="图层要素 / features of a layer",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
async def items(
    layer: LayerName,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
    limit: Annotated[int, Query(ge=1, le=10_000, description="每页条数 / page size")] = 100,
    offset: Annotated[int, Query(ge=0, description="跳过条数 / features to skip")] = 0,
    bbox: Annotated[
        str | None,
        Query(
            description="minlon,minlat,maxlon,maxlat (WGS-84)",
            examples=["121.53,31.29,121.56,31.31"],
        ),
    ] = None,
) -> Response:
    """A page of features as GeoJSON, with ``numberMatched``, ``numberReturned`` and paging
    links. Other query parameters filter by property equality (``?status=completed``)."""
    index, etag = _index(layer, cache, studies)
    box = parse_bbox(bbox)
    filters = {k: v for k, v in request.query_params.items() if k not in _RESERVED}
    positions, matched = index.select(box, filters, limit, offset)
    content = index.collection_bytes(
        positions,
        numberMatched=matched,
        numberReturned=len(positions),
        timeStamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        links=_paging_links(request, matched, limit, offset),
    )
    return Response(content, media_type=GEOJSON, headers={"ETag": f'"{etag}"'})


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
    responses={200: {"content": {GEOJSON: {}}}},
)
def item(
    layer: LayerName,
    feature_id: FeatureId,
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
) -> Response:
    """One feature by id; 404 problem when there is none."""
    frame, _, schema_layer = _frame(layer, cache, studies)
    if feature_id not in frame.index:
        raise NotFoundError(
            f"图层 {layer} 中没有要素 {feature_id} / no feature '{feature_id}' in {layer}"
        )
    feature = to_geojson_dict(frame.loc[[feature_id]], schema_layer)["features"][0]
    base = str(request.base_url).rstrip("/")
    feature["links"] = [
        {"href": f"{base}/collections/{layer}/items/{feature_id}", "rel": "self", "type": GEOJSON},
        {"href": f"{base}/collections/{layer}", "rel": "collection", "type": "application/json"},
    ]
    return JSONResponse(feature, media_type=GEOJSON, headers={"ETag": f'"{feature_etag(feature)}"'})


_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def _property_schema(spec: Field) -> dict[str, Any]:
    """One field as a JSON Schema property, with its Chinese and English titles."""
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


@router.get(
    "/collections/{layer}/schema",
    summary="图层字段 / the fields of a layer (JSON Schema)",
    response_class=JSONResponse,
    responses={200: {"content": {"application/schema+json": {}}}},
)
def collection_schema(layer: LayerName, request: Request) -> Response:
    """The layer's properties as JSON Schema (OGC API – Features Part 5 style): type, Chinese
    and English titles, allowed values with their names, unit, minimum, which are required."""
    spec = get_layer(layer)  # 404 for coverage and any name outside the set
    base = str(request.base_url).rstrip("/")
    properties: dict[str, Any] = {
        "geometry": {
            "x-ogc-role": "primary-geometry",
            "format": "geometry-" + ("point" if spec.geometry_types == ("Point",) else "any"),
        },
        **{f.name: _property_schema(f) for f in spec.fields},
    }
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{layer}/schema",
        "type": "object",
        "title": f"{spec.zh} / {spec.en}",
        "x-lc-title": {"zh": spec.zh, "en": spec.en},
        "x-lc-geometry-types": list(spec.geometry_types),
        "properties": properties,
        "required": list(spec.required),
        "additionalProperties": spec.extra_fields_allowed,
    }
    return JSONResponse(body, media_type="application/schema+json")
