"""``/``: the landing page — the map for a browser, the OGC landing document for a client.

OGC API – Features wants the landing page at the root, and planners want the map there:
``Accept: application/json`` or ``?f=json`` gets JSON, everything else the map.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

import geo
from api.deps import LayerCache, StudyCache, get_cache, get_studies
from geo.dashboard import INLINE_LIMIT, ISOCHRONE_MINUTES, coverage_map

router = APIRouter(tags=["pages"])

FacilityType = Literal["clinics", "neighbor_centers", "charging_points"]
Basemap = Literal["openstreetmap", "cartodb", "gaode", "none"]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
]


def _wants_json(request: Request, f: str | None) -> bool:
    if f is not None:
        return f == "json"
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


@router.get(
    "/",
    summary="首页：地图或 OGC 着陆页 / landing page: the map, or OGC JSON",
    responses={200: {"content": {"text/html": {}, "application/json": {}}}},
)
def index(
    request: Request,
    cache: Annotated[LayerCache, Depends(get_cache)],
    studies: Annotated[StudyCache, Depends(get_studies)],
    f: Annotated[Literal["json", "html"] | None, Query(description="格式 / format")] = None,
    type: Annotated[
        FacilityType, Query(description="设施类型 / facility type", examples=["charging_points"])
    ] = "clinics",
    profile: Annotated[Literal["standard", "elderly"], Query()] = "standard",
    lang: Annotated[
        Literal["zh", "en"], Query(description="界面语言 / language", examples=["en"])
    ] = "zh",
    tiles: Annotated[Basemap, Query(description="底图 / basemap; none = offline")] = (
        "openstreetmap"
    ),
    subdistrict: Annotated[str | None, Query(description="街道 / subdistrict")] = None,
) -> Response:
    """A browser gets the dashboard (``?type=``, ``?profile=elderly``, ``?lang=en``,
    ``?tiles=gaode|cartodb|none``, ``?subdistrict=``); ``?f=json`` or
    ``Accept: application/json`` gets the OGC API landing page."""
    if _wants_json(request, f):
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "title": "lifecircle · 15分钟社区生活圈",
                "description": "上海社区设施步行覆盖 / walking coverage of community services",
                "links": [
                    {"href": f"{base}/?f=json", "rel": "self", "type": "application/json"},
                    {"href": f"{base}/?f=html", "rel": "alternate", "type": "text/html"},
                    {
                        "href": f"{base}/openapi.json",
                        "rel": "service-desc",
                        "type": "application/vnd.oai.openapi+json;version=3.0",
                    },
                    {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html"},
                    {
                        "href": f"{base}/conformance",
                        "rel": "conformance",
                        "type": "application/json",
                    },
                    {"href": f"{base}/collections", "rel": "data", "type": "application/json"},
                ],
                "version": geo.__version__,
            }
        )
    return dashboard_page(studies, type, profile, lang, tiles, subdistrict)


def dashboard_page(studies, kind, profile, lang, tiles, subdistrict) -> HTMLResponse:
    """The coverage dashboard for one facility type (shared by ``/`` and ``/maps/coverage``).

    Gap zones and isochrones are drawn into the page for a small study; a large one
    (more than :data:`~geo.dashboard.INLINE_LIMIT` areas) fetches them when switched on."""
    study, result = studies.coverage(profile)
    zones = isochrone_layer = None
    small = len(study.layers["residential_areas"]) <= INLINE_LIMIT
    if study.network is not None and small:
        zones = studies.gap_zones(profile)
        isochrone_layer = studies.isochrones(kind, ISOCHRONE_MINUTES, profile)
    fmap = coverage_map(
        study.layers, result, kind, profile, lang, tiles, "service", subdistrict,
        zones, isochrone_layer, served=True,
    )  # fmt: skip
    return HTMLResponse(fmap.get_root().render())


@router.get(
    "/conformance",
    summary="符合的标准 / conformance classes",
    responses={200: {"content": {"application/json": {"example": {"conformsTo": CONFORMANCE}}}}},
)
def conformance() -> dict:
    """The OGC API – Features conformance classes this service implements."""
    return {"conformsTo": CONFORMANCE}
