"""Map pages: the coverage dashboard per type and profile, and the renovation map."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import Layers, Studies, Walker
from api.routes.pages import Basemap, FacilityType, dashboard_page
from geo.maps.renovation import renovation_map

router = APIRouter(tags=["pages"])

#: A renovation stage (``planned`` … ``completed``), as the layer's schema lists them.
Stage = Literal["planned", "survey", "consultation", "signed", "tendering", "awaiting_start",
                "under_construction", "completed"]  # fmt: skip


@router.get("/maps/coverage", response_class=HTMLResponse, summary="覆盖地图 / coverage map")
def coverage(
    studies: Studies,
    params: Walker,
    type: Annotated[FacilityType, Query(examples=["clinics"])] = "clinics",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    tiles: Annotated[Basemap, Query()] = "openstreetmap",
    subdistrict: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    """Residential areas coloured by walking minutes to the nearest facility of ``type``."""
    return dashboard_page(studies, type, params, lang, tiles, subdistrict)


@router.get(
    "/maps/renovation", response_class=HTMLResponse, summary="加装电梯地图 / renovation map"
)
def renovation(
    cache: Layers,
    studies: Studies,
    status: Annotated[
        list[Stage] | None,
        Query(description="只看这些阶段 / stages", examples=[["under_construction", "completed"]]),
    ] = None,
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    tiles: Annotated[Basemap, Query()] = "openstreetmap",
) -> HTMLResponse:
    """The 加装电梯地图: every renovation project at its stage on the slider's month, counts
    per stage (current and cumulative, projects and 台/个/户), filters by kind and 街道 (kept in
    the page's URL: ``kind``, ``subdistrict``, ``month``, ``view=compounds``), the compounds
    and the walking network for context, and the compound view of lift retrofit candidates."""
    projects, _ = cache.get("renovation_projects")
    areas, _ = cache.get("residential_areas")
    stages: list[str] | None = list(status) if status else None
    page = renovation_map(projects, lang, tiles, "service", stages, areas=areas,
                          network=studies.network())  # fmt: skip
    return HTMLResponse(page.get_root().render())
