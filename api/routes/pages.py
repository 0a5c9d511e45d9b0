"""``/``: the landing page — the map for a browser, the OGC landing document for a client.

OGC API – Features wants the landing page at the root, and planners want the map there:
``Accept: application/json`` or ``?f=json`` gets JSON, everything else the map.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

import geo
from api.deps import LayerCache, get_cache
from geo.maps import overview_map

router = APIRouter(tags=["pages"])

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
    f: Annotated[Literal["json", "html"] | None, Query(description="格式 / format")] = None,
    lang: Annotated[Literal["zh", "en"], Query(description="界面语言 / language")] = "zh",
    tiles: Annotated[
        Literal["openstreetmap", "none"], Query(description="底图 / basemap; none = offline")
    ] = "openstreetmap",
) -> Response:
    """A browser gets the map of all layers (``?lang=en`` for English); ``?f=json`` or
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
    fmap = overview_map(cache.all(), lang=lang, tiles=tiles)
    return HTMLResponse(fmap.get_root().render())


@router.get("/conformance", summary="符合的标准 / conformance classes")
def conformance() -> dict:
    """The OGC API – Features conformance classes this service implements."""
    return {"conformsTo": CONFORMANCE}
