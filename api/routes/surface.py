"""The accessibility surface over HTTP: ``GET /surface`` as GeoJSON, GeoPackage or GeoTIFF.

The surface (:mod:`geo.analysis.surface`, 100 m cells) is computed once per data version by
the :class:`~api.deps.StudyCache`; this route only cuts it to a box and a type and writes it.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from api.deps import Studies
from geo.analysis.surface import surface_bytes
from geo.crs import to_wgs84
from geo.layers.query import BBOX_PATTERN, parse_bbox

__all__ = ["router"]

router = APIRouter(tags=["analysis"])

GEOJSON = "application/geo+json"
MEDIA = {"geojson": GEOJSON, "gpkg": "application/geopackage+sqlite3",
         "tif": "image/tiff; application=geotiff"}  # fmt: skip
#: The most cells one GeoJSON or GeoPackage answer carries (a map asks one view at a time).
MAX_CELLS = 100_000


@router.get(
    "/surface",
    summary="可达性格网 / accessibility surface: walking minutes per 100 m cell",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}, MEDIA["gpkg"]: {}, MEDIA["tif"]: {}}}},
)
def surface_cells(
    studies: Studies,
    type: Annotated[
        Literal["clinics", "neighbor_centers", "charging_points"] | None,
        Query(description="只要一类设施 / one facility type (default all)", examples=["clinics"]),
    ] = None,
    profile: Annotated[
        Literal["standard", "elderly"] | None,
        Query(
            description="只要一种步行者 / one walker: standard 4 km/h, elderly 3 km/h "
            "(default both)",
            examples=["elderly"],
        ),
    ] = None,
    bbox: Annotated[
        str | None,
        Query(
            description="只要此范围内的格网（坐标系同 crs）/ only cells meeting this box, "
            "minlon,minlat,maxlon,maxlat in the crs given",
            examples=["121.53,31.29,121.55,31.31"],
            json_schema_extra={"pattern": BBOX_PATTERN},  # checked by parse_bbox
        ),
    ] = None,
    crs: Annotated[
        Literal["wgs84", "gcj02", "bd09"],
        Query(description="bbox 与输出坐标系 / CRS of the bbox and of the GeoJSON output"),
    ] = "wgs84",
    f: Annotated[
        Literal["geojson", "gpkg", "tif"],
        Query(description="格式 / format: geojson; gpkg and tif (GeoTIFF) in the grid's UTM CRS"),
    ] = "geojson",
    limit: Annotated[
        int, Query(ge=1, le=MAX_CELLS, description="最多返回格网数 / at most")
    ] = MAX_CELLS,
) -> Response:
    """Per cell of a 100 m grid over the study: walking metres and minutes (standard 4 km/h,
    elderly 3 km/h) from the cell's centre, via its nearest street, to the nearest facility
    of each type, and the residents and elderly allocated to it from the compounds by area.
    A centre more than 250 m from every street is unreachable (minutes null). Cells that are
    unreachable and home to nobody are left out; ``numberMatched`` tells when ``limit`` cut
    the answer."""
    grid = studies.surface()
    box = parse_bbox(bbox)
    if box is not None and crs != "wgs84":
        (minx, maxx), (miny, maxy) = to_wgs84([box[0], box[2]], [box[1], box[3]], crs)
        box = (minx, miny, maxx, maxy)
    kinds = (type,) if type else None
    walkers = (profile,) if profile else None
    content = surface_bytes(grid, f, kinds, walkers, box, crs if f == "geojson" else "wgs84",
                            limit=limit)  # fmt: skip
    headers = {}
    if f != "geojson":
        name = f"surface-{type or 'all'}-{profile or 'both'}.{f}"
        headers["Content-Disposition"] = (
            f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
        )
    return Response(content, media_type=MEDIA[f], headers=headers)
