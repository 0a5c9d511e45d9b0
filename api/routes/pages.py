"""``/``: the landing page — the map for a browser, the OGC landing document for a client.

OGC API – Features wants the landing page at the root, and planners want the map there:
a browser (``text/html`` first in ``Accept``) or ``?f=html`` gets the map, every other client
(``*/*``, no ``Accept``, JSON, ``?f=json``) the landing document.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import Studies, StudyCache, Walker, walker
from api.ogc import wants_html
from geo.analysis.params import WalkParams
from geo.maps.dashboard import dashboard_map
from geo.version import __version__

router = APIRouter(tags=["pages"])

FacilityType = Literal["clinics", "neighbor_centers", "charging_points"]
Basemap = Literal["openstreetmap", "cartodb", "gaode", "none"]

#: What ``/`` shows when the URL asks for nothing: the first visitor's page.
DEFAULT_TYPE: Final = "clinics"
DEFAULT_LANG: Final = "zh"
DEFAULT_TILES: Final = "openstreetmap"
#: The basemaps the start-up warm-up renders the default page with: the default, and none
#: (the offline office, ``?tiles=none``).
WARM_TILES = (DEFAULT_TILES, "none")

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
]
# The OpenAPI document is 3.1 (FastAPI's); Part 1's oas30 class is not claimed for it.


def _wants_json(request: Request, f: str | None) -> bool:
    return not wants_html(request.headers.get("accept"), f)


@router.get(
    "/",
    summary="首页：地图或 OGC 着陆页 / landing page: the map, or OGC JSON",
    responses={200: {"content": {"text/html": {}, "application/json": {}}}},
)
def index(
    request: Request,
    studies: Studies,
    params: Walker,
    f: Annotated[Literal["json", "html"] | None, Query(description="格式 / format")] = None,
    type: Annotated[
        FacilityType, Query(description="设施类型 / facility type", examples=["charging_points"])
    ] = DEFAULT_TYPE,
    lang: Annotated[
        Literal["zh", "en"], Query(description="界面语言 / language", examples=["en"])
    ] = DEFAULT_LANG,
    tiles: Annotated[Basemap, Query(description="底图 / basemap; none = offline")] = (
        DEFAULT_TILES
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
                        "type": "application/vnd.oai.openapi+json;version=3.1",
                    },
                    {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html"},
                    {
                        "href": f"{base}/conformance",
                        "rel": "conformance",
                        "type": "application/json",
                    },
                    {"href": f"{base}/collections", "rel": "data", "type": "application/json"},
                ],
                "version": __version__,
            }
        )
    return dashboard_page(studies, type, params, lang, tiles, subdistrict)


def dashboard_page(
    studies: StudyCache,
    kind: str,
    params: WalkParams,
    lang: str,
    tiles: str,
    subdistrict: str | None,
) -> HTMLResponse:
    """The coverage dashboard for one facility type (shared by ``/`` and ``/maps/coverage``):
    :func:`geo.maps.dashboard.dashboard_map` over the service's cached results. The page is
    rendered once per data version and choice of controls (about half a second for the
    五角场 study), then served from memory until a layer changes."""

    def render(_study: object) -> str:
        fmap = dashboard_map(studies, kind, params, lang=lang, tiles=tiles, assets="service",
                             subdistrict=subdistrict, served=True, workbench=True)  # fmt: skip
        return str(fmap.get_root().render())

    key = ("page", kind, params.key(), lang, tiles, subdistrict)
    return HTMLResponse(studies.cached(key, render))


def warm_pages(studies: StudyCache) -> None:
    """Render the page ``/`` serves when the URL asks for nothing (and the same page without
    a basemap, :data:`WARM_TILES`) into the cache that :func:`dashboard_page` serves from, so
    the first visitor after start-up does not wait for it (about a second for a city of 20,000
    compounds). Kept, like every cached result, until a layer changes.

    Parameters
    ----------
    studies : StudyCache
        The service's study cache; the coverage the page shows is computed if it is not yet.
    """
    for tiles in WARM_TILES:
        dashboard_page(studies, DEFAULT_TYPE, walker(), DEFAULT_LANG, tiles, None)


@router.get(
    "/conformance",
    summary="符合的标准 / conformance classes",
    responses={200: {"content": {"application/json": {"example": {"conformsTo": CONFORMANCE}}}}},
)
def conformance() -> dict[str, list[str]]:
    """The OGC API – Features conformance classes this service implements."""
    return {"conformsTo": CONFORMANCE}
