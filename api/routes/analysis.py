"""Walking questions over HTTP: nearest facilities, coverage, gaps, isochrones, opportunities.

Routes only parse the request and shape the answer; every number comes from ``geo`` (the
same code as ``lifecircle analyze`` and the notebooks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from api.deps import (
    FeatureId,
    LayerName,
    Studies,
    Walker,
    WalkerCRS,
    WalkerMinutes,
    WalkerMinutesCRS,
    has_writer_token,
)
from geo.analysis.coverage import gaps
from geo.analysis.isochrones import isochrones_at
from geo.analysis.opportunities import opportunities
from geo.analysis.params import MINUTES_LIST_PATTERN, WalkParams, parse_minutes_list
from geo.analysis.routes import walking_paths
from geo.analysis.study import Study
from geo.crs import from_wgs84, geometries_from_wgs84, to_wgs84
from geo.errors import NotFoundError, QueryError, UnreachableError
from geo.layers.geojson import json_value, to_feature_collection
from geo.layers.query import BBOX_PATTERN, in_bbox, parse_bbox, with_members
from geo.schema import FACILITY_LAYERS, get_layer

router = APIRouter(tags=["analysis"])

GEOJSON = "application/geo+json"
FacilityType = Literal["clinics", "neighbor_centers", "charging_points"]
Profile = Literal["standard", "elderly"]
OutputCRS = Literal["wgs84", "gcj02", "bd09"]
MAX_POINTS = 10_000
#: Most residential areas one ``/coverage`` answer carries (the map asks one view at a time).
MAX_AREAS = 100_000

_TYPE = Query(description="设施类型 / facility type", examples=["clinics"])
_MINUTES_LIST = Query(
    description="分钟，以逗号分隔 / minutes, comma-separated: 1–12 numbers in (0, 120]",
    examples=["5,10,15"],
    json_schema_extra={"pattern": MINUTES_LIST_PATTERN},  # checked by parse_minutes_list
)
#: What each facility type adds to a compound: its coverage (``clinics_walk_m`` …) and its
#: capacity (E2SFCA, ``clinics_access_elderly`` …).
_COVERAGE_COLUMNS = ("id", "name", "walk_m", "minutes_standard", "minutes_elderly",
                     "minutes_custom", "covered", "within", "method", "reason")  # fmt: skip
_CAPACITY_COLUMNS = ("access_standard", "access_elderly", "access_custom", "access",
                     "access_share", "supply_unknown", "under_served")  # fmt: skip
_AREA_FIELDS = tuple(field.name for field in get_layer("residential_areas").fields)


def _per_type(columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{kind}_{column}" for kind in FACILITY_LAYERS for column in columns)


#: Every property ``/coverage`` can answer: the compounds' fields and the computed ones.
COVERAGE_PROPERTIES = (*_AREA_FIELDS, *_per_type(_COVERAGE_COLUMNS),
                       *_per_type(_CAPACITY_COLUMNS), "all_covered")  # fmt: skip
#: The properties of the ``coverage`` collection (the default walker's coverage).
COVERAGE_COLLECTION = (*_AREA_FIELDS, *_per_type(_COVERAGE_COLUMNS[:5] + _COVERAGE_COLUMNS[6:]),
                       "all_covered")  # fmt: skip
_PROPERTY = "(?:" + "|".join(sorted(COVERAGE_PROPERTIES, key=len, reverse=True)) + ")"
#: ``name,population,clinics_walk_m``: names of :data:`COVERAGE_PROPERTIES`, comma-separated.
PROPERTIES_PATTERN = f"^{_PROPERTY}(?: *, *{_PROPERTY})*$"


def _geojson(frame: gpd.GeoDataFrame, crs: str = "wgs84", **members: Any) -> Response:
    if crs != "wgs84" and len(frame):
        frame = frame.set_geometry(geometries_from_wgs84(frame.geometry, crs), crs="EPSG:4326")
    # members appended to the collection's bytes: parsing them back would double the cost
    return Response(with_members(to_feature_collection(frame), **members), media_type=GEOJSON)


def _rounded(value: float) -> float | None:
    return None if value != value else round(float(value), 1)  # NaN → null


def _nearest_features(
    study: Study, point: tuple[float, float], kind: str, k: int, params: WalkParams, route: bool
) -> dict[str, Any]:
    """GeoJSON of the k nearest facilities, built straight from arrays: this is the hot
    path of the API, so no frames are made for one point."""
    crs, profile = params.crs, params.profile.name
    columns = study.nearest_columns(point, kind, k, params)
    found = np.flatnonzero(pd.notna(columns["facility_id"]))
    lon, lat = columns["lon"][found], columns["lat"][found]
    if crs != "wgs84" and len(found):
        lon, lat = from_wgs84(lon, lat, crs)
    features = [
        {
            "type": "Feature",
            "id": columns["facility_id"][i],
            "geometry": {"type": "Point", "coordinates": [round(float(x), 7), round(float(y), 7)]},
            "properties": {
                "rank": int(columns["rank"][i]),
                "facility_id": columns["facility_id"][i],
                "name": columns["name"][i],
                "type": kind,
                "walk_m": _rounded(columns["walk_m"][i]),
                "walk_minutes": _rounded(columns["walk_minutes"][i]),
                "straight_m": _rounded(columns["straight_m"][i]),
                "profile": profile,
                "method": study.method,
            },
        }
        for i, x, y in zip(found, lon, lat, strict=True)
    ]
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": features,
        "method": study.method,
    }
    if not len(found):
        body["reason"] = columns["reason"][0]
    if route and len(found):
        table = pd.DataFrame(
            {key: columns[key] for key in ("point", "rank", "facility_id", "walk_m")}
        )
        paths = walking_paths(study, point, kind, table, params)
        if crs != "wgs84" and len(paths):
            paths = paths.set_geometry(geometries_from_wgs84(paths.geometry, crs), crs=4326)
        if "walk_m" in paths:  # the same rounding, and minutes, as the facility it leads to
            minutes = paths["walk_m"] / params.profile.metres_per_minute
            paths = paths.assign(walk_m=paths["walk_m"].round(1), walk_minutes=minutes.round(1))
        body["features"] += json.loads(to_feature_collection(paths))["features"]
    return body


@router.get(
    "/nearest",
    summary="最近设施 / nearest facilities on foot",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
async def nearest_get(
    studies: Studies,
    params: WalkerCRS,
    lon: Annotated[float, Query(ge=-180, le=180, examples=[121.5405])],
    lat: Annotated[float, Query(ge=-90, le=90, examples=[31.299])],
    type: Annotated[FacilityType, _TYPE] = "clinics",
    k: Annotated[int, Query(ge=1, le=50, description="个数 / how many")] = 1,
    route: Annotated[bool, Query(description="返回步行路线 / include the walking path")] = False,
) -> Response:
    """The ``k`` nearest facilities of a type with walk metres, walk minutes and
    straight-line metres; ``route=true`` adds the walking path of each as a LineString."""
    # async on purpose: the answer takes ~0.2 ms from precomputed tables, less than a hop
    # to the thread pool would cost.
    body = _nearest_features(studies.study(), (lon, lat), type, k, params, route)
    return JSONResponse(body, media_type=GEOJSON)


# strict: false is not a latitude, "1" not a k (the document says numbers)
Lon = Annotated[float, Field(ge=-180, le=180, strict=True)]
Lat = Annotated[float, Field(ge=-90, le=90, strict=True)]


class NearestBatch(BaseModel):
    """Up to 10,000 points in one request."""

    points: list[tuple[Lon, Lat]] = Field(
        ..., min_length=1, max_length=MAX_POINTS, examples=[[[121.5405, 31.299], [121.546, 31.294]]]
    )
    type: FacilityType = "clinics"
    k: int = Field(1, ge=1, le=50)
    profile: Profile = "standard"
    crs: OutputCRS = "wgs84"

    @field_validator("k", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        # a JSON integer (12 or 12.0, as JSON Schema counts them), not true or "12"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("k 应为整数 / k must be a whole number")
        return value


#: Work of a batch: points × k results. Up to this many for anyone; above it (up to
#: MAX_POINTS × 50) only with the service's token — a 10,000 × 50 batch costs half a minute of
#: CPU and a 100 MB answer, which an anonymous client should not be able to ask for in a loop.
MAX_FREE_RESULTS = 50_000
#: Points computed and sent per chunk of the streamed answer.
CHUNK_POINTS = 1_000


@router.post(
    "/nearest",
    summary="批量最近设施 / nearest facilities for many points",
    responses={413: {"description": "点数 × k 超过不带令牌的上限 / points × k above the free "
                     f"limit ({MAX_FREE_RESULTS:,}) without the token"}},
)  # fmt: skip
def nearest_post(body: NearestBatch, studies: Studies, request: Request) -> Response:
    """One result list per input point, in input order: ``{"results": [[...], ...]}``;
    each facility with its ``lon``/``lat`` in ``crs``, like the points sent. Points × k up to
    50,000 for anyone, up to 10,000 × 50 with ``Authorization: Bearer <token>``; the answer
    is computed and streamed 1,000 points at a time."""
    cost = len(body.points) * body.k
    if cost > MAX_FREE_RESULTS and not has_writer_token(request):
        raise HTTPException(
            413,
            f"请求过大 / too much work: points × k = {cost:,} > {MAX_FREE_RESULTS:,}; send "
            "fewer points or a smaller k, several requests, or the service's token "
            "(Authorization: Bearer …)",
        )
    study = studies.study()
    params = WalkParams.parse(body.profile, crs=body.crs)  # the body is this route's edge

    def chunks() -> Iterator[bytes]:
        yield json.dumps({"type": body.type, "profile": body.profile})[:-1].encode()
        yield b',"results":['
        for start in range(0, len(body.points), CHUNK_POINTS):
            part = body.points[start : start + CHUNK_POINTS]
            lists = _nearest_lists(study, part, body.type, body.k, params, body.crs)
            text = ",".join(json.dumps(x, ensure_ascii=False) for x in lists)
            yield ("," if start else "").encode() + text.encode()
        yield b"]}"

    return StreamingResponse(chunks(), media_type="application/json")


def _nearest_lists(
    study: Study, points: list, kind: str, k: int, params: WalkParams, crs: str
) -> list[list[dict[str, Any]]]:
    """The result lists of some points, in their order."""
    table = pd.DataFrame(study.nearest_columns(points, kind, k, params))
    for column in ("walk_m", "walk_minutes", "straight_m"):
        table[column] = table[column].round(1)
    lon, lat = from_wgs84(table["lon"].to_numpy(), table["lat"].to_numpy(), crs)
    table["lon"], table["lat"] = np.round(lon, 7), np.round(lat, 7)
    # object columns with None for missing: JSON has no NaN (pandas keeps NaN in str columns)
    table = table.astype(object).where(table.notna(), None)
    results: list[list[dict[str, Any]]] = [[] for _ in points]
    for row in table.to_dict(orient="records"):
        point = int(row.pop("point"))
        results[point].append(row)
    return results


@router.get(
    "/coverage",
    summary="小区覆盖情况 / coverage of every residential area",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def coverage(
    studies: Studies,
    params: WalkerMinutesCRS,
    type: Annotated[FacilityType | None, Query(description="只看一类 / one type only")] = None,
    bbox: Annotated[
        str | None,
        Query(
            description="只要此范围内的小区（坐标系同 crs）/ only areas meeting this box, "
            "minlon,minlat,maxlon,maxlat in the crs given",
            examples=["121.53,31.29,121.55,31.31"],
            json_schema_extra={"pattern": BBOX_PATTERN},  # checked by parse_bbox
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_AREAS, description="最多返回 / at most")] = MAX_AREAS,
    properties: Annotated[
        str | None,
        Query(
            description="只返回这些属性 / only these properties, comma-separated "
            "(OGC API – Features Part 6); one of another type than `type` is left out",
            examples=["name,population,clinics_minutes_standard"],
            json_schema_extra={"pattern": PROPERTIES_PATTERN},
        ),
    ] = None,
    skip_geometry: Annotated[
        bool,
        Query(
            alias="skipGeometry",
            description="不返回几何 / leave the geometry out (OGC API – Features Part 6): a page "
            "that has the shapes already asks only for the numbers",
        ),
    ] = False,
) -> Response:
    """Residential areas with, per facility type, the nearest facility, walk metres and
    minutes, covered yes/no and facilities within the threshold; and the type's capacity
    (E2SFCA, Luo & Qi 2009: each facility's supply shared among the compounds that walk to
    it, docs/capacity.md): ``T_access_standard`` and ``T_access_elderly`` (clinics: beds
    per 1,000 aged 60+; neighbour centres: floor area m² per 1,000 residents; charging
    points: ports per 100 households; 0 where nothing with a recorded supply is in reach)
    and ``T_under_served`` (for the walker asked: below half the study's ratio). Facility
    loads are at ``/capacity``. ``bbox`` and ``limit``
    serve a map one view at a time (``numberMatched`` tells when more areas exist);
    ``crs`` applies to the bbox and to the geometry returned; ``properties`` keeps only
    the named properties (what a map needs is a third of the bytes)."""
    crs = params.crs
    study, result = studies.coverage(params)
    result = result.join(studies.capacity(params).areas)
    if type is not None:
        keep = [c for c in result.columns if c.startswith(f"{type}_")] + ["all_covered"]
        result = result[keep]
    areas = study.layers["residential_areas"]
    if properties is not None:
        wanted = [name.strip() for name in properties.split(",")]
        unknown = [name for name in wanted if name not in COVERAGE_PROPERTIES]
        if unknown or not re.fullmatch(PROPERTIES_PATTERN, properties):
            raise QueryError(
                f"未知属性 / unknown properties: {', '.join(unknown) or repr(properties)}; "
                f"可用 / available: {', '.join(COVERAGE_PROPERTIES)}"
            )
        # a property this answer has not (another type's, a field no compound fills) is
        # left out, as a feature leaves out a property without a value
        kept = ("id", areas.geometry.name)  # a feature's identity is not a property to drop
        areas = areas[[c for c in areas.columns if c in wanted or c in kept]]
        result = result[[c for c in result.columns if c in wanted]]
    box = parse_bbox(bbox)  # None when absent or empty, as for /collections/…/items
    if box is not None:
        minx, miny, maxx, maxy = box
        if crs != "wgs84":
            (minx, maxx), (miny, maxy) = to_wgs84([minx, maxx], [miny, maxy], crs)
        areas = areas.iloc[in_bbox(areas, (minx, miny, maxx, maxy))]
    matched = len(areas)
    areas = areas.iloc[:limit]
    if skip_geometry:
        table = areas.drop(columns=areas.geometry.name).join(result)
        table = table.astype(object).where(table.notna(), None)
        # as the features with geometry: a property without a value is left out
        features = [{"type": "Feature", "id": key, "geometry": None,
                     "properties": {k: v for k, v in props.items() if v is not None}}
                    for key, props in zip(table.index, table.to_dict("records"), strict=True)]  # fmt: skip
        body = {"type": "FeatureCollection", "features": features, "profile": params.profile.name,
                "minutes": result.attrs.get("minutes"), "numberMatched": matched,
                "numberReturned": len(areas)}  # fmt: skip
        return Response(json.dumps(body, ensure_ascii=False, default=json_value).encode(),
                        media_type=GEOJSON)  # fmt: skip
    return _geojson(
        areas.join(result), crs, profile=params.profile.name, minutes=result.attrs.get("minutes"),
        numberMatched=matched, numberReturned=len(areas),
    )  # fmt: skip


@router.get(
    "/capacity",
    summary="设施负荷与可达供给 / facility loads and supply within reach (E2SFCA)",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def capacity_facilities(
    studies: Studies,
    params: WalkerMinutesCRS,
    type: Annotated[FacilityType | None, Query(description="只看一类 / one type only")] = None,
) -> Response:
    """Every facility as a point with its ``supply`` (clinics' beds, neighbour centres'
    floor area m², e-bike chargers' ports), ``demand_<walker>`` (residents aged 60+,
    residents or households within its catchment, weighted by walking distance),
    ``load_<walker>`` (that demand per unit of supply), ``overloaded`` (for the walker asked:
    above 1.5 times the study's load) and ``reason`` (why a facility has no load: no supply
    recorded, not counted, nobody in reach); and a ``summary`` per type (supply, demand,
    the study's ratio in its units, and ``standard``: null with ``standard_note`` saying no
    per-capita standard could be verified). Method: docs/capacity.md."""
    study = studies.study()
    result = studies.capacity(params)
    kinds = [type] if type is not None else list(FACILITY_LAYERS)
    parts = []
    for kind in kinds:  # a type's rows are in its layer's order
        rows = result.facilities[result.facilities["type"] == kind].reset_index(drop=True)
        points = study.facilities(kind).geometry.representative_point().to_numpy()
        parts.append(gpd.GeoDataFrame(rows, geometry=points, crs="EPSG:4326"))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.set_index(frame["id"].to_numpy()) if len(frame) else frame
    summary = result.summary[result.summary["type"].isin(kinds)]
    summary = summary.astype(object).where(summary.notna(), None).to_dict(orient="records")
    return _geojson(frame, params.crs, profile=params.profile.name, summary=summary)


@router.get("/coverage/summary", summary="覆盖率汇总 / shares covered, per subdistrict")
def coverage_summary(studies: Studies, params: WalkerMinutes) -> Response:
    """Shares of areas, households, population and elderly covered, overall and per
    subdistrict, per type and for all types at once."""
    study, _ = studies.coverage(params)
    table = studies.summary(params).replace({np.nan: None})
    return JSONResponse(
        {
            "profile": params.profile.name,
            "method": study.method,
            "summary": table.to_dict(orient="records"),
        }
    )


@router.get(
    "/gaps",
    summary="盲区小区（按受影响人数排序）/ uncovered areas ranked by people affected",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def gap_areas(
    studies: Studies,
    params: WalkerMinutesCRS,
    elderly_weight: Annotated[float, Query(ge=0, le=10, description="老人权重")] = 1.0,
    zones: Annotated[bool, Query(description="返回盲区范围 / gap zones instead")] = False,
) -> Response:
    """Residential areas missing a facility type within its threshold, most people
    affected first; ``zones=true`` gives the gap zones (streets beyond reach) instead."""
    crs = params.crs
    study, result = studies.coverage(params)
    if zones:
        return _geojson(studies.gap_zones(params), crs)
    areas = study.layers["residential_areas"]
    ranked = gaps(areas, result, elderly_weight)
    frame = gpd.GeoDataFrame(ranked, geometry=areas.geometry.loc[ranked.index], crs="EPSG:4326")
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return _geojson(frame.assign(id=frame.index), crs)


#: The isochrones of a point no walk starts from: none (its ``reason`` goes beside them).
_NO_RINGS = gpd.GeoDataFrame({"minutes": [], "profile": []}, geometry=[], crs="EPSG:4326")


def _minutes(text: str) -> list[float]:
    return list(parse_minutes_list(text))  # the rule of geo.analysis.isochrones, once


@router.get(
    "/isochrones",
    summary="某点的等时圈 / isochrones around a point",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def isochrones_point(
    studies: Studies,
    params: WalkerCRS,
    lon: Annotated[float | None, Query(ge=-180, le=180, examples=[121.5405])] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, examples=[31.299])] = None,
    type: Annotated[
        FacilityType,
        Query(description="不给点时：某类全部设施的等时圈 / without a point: all of one type"),
    ] = "clinics",
    minutes: Annotated[str, _MINUTES_LIST] = "5,10,15",
) -> Response:
    """Areas within the given minutes' walk of a point (``lon`` and ``lat``, together), or
    of every facility of one ``type`` (default clinics) without a point, along the
    streets. ``crs`` applies to the point given and to the polygons returned. A point too
    far from every street has no isochrones: an empty collection with the ``reason``."""
    values = _minutes(minutes)
    study, crs = studies.study(), params.crs
    if (lon is None) != (lat is None):
        raise QueryError(
            "请同时给出 lon 和 lat，或都不给 / give lon and lat together, or neither (then "
            "type's isochrones): /isochrones?lon=121.54&lat=31.30 or /isochrones?type=clinics"
        )
    if lon is not None and lat is not None:
        if crs != "wgs84":
            lon, lat = to_wgs84(lon, lat, crs)
        try:
            rings = isochrones_at(study, lon, lat, values, params)
        except UnreachableError as unreachable:  # as /nearest: no walk starts there
            return _geojson(_NO_RINGS, crs, reason=str(unreachable))
        return _geojson(rings, crs)
    return _geojson(studies.isochrones(type, tuple(values), params), crs)


@router.get(
    "/collections/{layer}/items/{feature_id}/isochrones",
    summary="设施的等时圈 / isochrones of one facility",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def isochrones_facility(
    layer: LayerName,
    feature_id: FeatureId,
    studies: Studies,
    params: Walker,
    minutes: Annotated[str, _MINUTES_LIST] = "5,10,15",
) -> Response:
    """Areas within the given minutes' walk of one facility (clinics, neighbour centres,
    charging points; another layer has no such resource: 404)."""
    study = studies.study()
    if layer not in FACILITY_LAYERS:
        raise NotFoundError(
            f"只有设施有等时圈 / only facilities have isochrones: {layer} is not one of "
            f"{', '.join(FACILITY_LAYERS)}"
        )
    frame = study.facilities(layer)
    if feature_id not in frame.index:
        raise NotFoundError(f"图层 {layer} 中没有要素 {feature_id} / no feature '{feature_id}'")
    point = frame.geometry.loc[feature_id].representative_point()
    values = _minutes(minutes)
    try:
        rings = isochrones_at(study, point.x, point.y, values, params)
    except UnreachableError as unreachable:
        return _geojson(_NO_RINGS, reason=str(unreachable))
    return _geojson(rings.assign(facility_id=feature_id, type=layer))


@router.get(
    "/opportunities",
    summary="盲区中的改造项目 / renovation projects in gaps",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def renovation_opportunities(studies: Studies, params: WalkerMinutes) -> Response:
    """Renovation projects in compounds that lack a facility type: where to add one."""
    study, result = studies.coverage(params)
    return _geojson(opportunities(study, result))
