"""HTML pages: the map of all layers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from api.deps import LayerCache, get_cache
from geo.maps import overview_map

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse, summary="地图 / the map of all layers")
def index(
    cache: Annotated[LayerCache, Depends(get_cache)],
    lang: Annotated[Literal["zh", "en"], Query(description="界面语言 / language")] = "zh",
    tiles: Annotated[
        Literal["openstreetmap", "none"], Query(description="底图 / basemap; none = offline")
    ] = "openstreetmap",
) -> HTMLResponse:
    """A folium map of the five layers with a layer switcher (``?lang=en`` for English)."""
    fmap = overview_map(cache.all(), lang=lang, tiles=tiles)
    return HTMLResponse(fmap.get_root().render())
