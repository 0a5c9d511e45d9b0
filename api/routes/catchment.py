"""A point's catchment over HTTP, and where a compound's walk starts.

Thin: the numbers come from :mod:`geo.analysis.catchment`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import Studies, WalkerCRS
from geo.analysis.catchment import catchment, start_point
from geo.analysis.params import MINUTES_LIST_PATTERN, parse_minutes_list
from geo.crs import from_wgs84, to_wgs84

__all__ = ["router"]

router = APIRouter(tags=["analysis"])

FacilityType = Literal["clinics", "neighbor_centers", "charging_points"]
_MINUTES_LIST = Query(
    description="分钟，以逗号分隔 / minutes, comma-separated: 1–12 numbers in (0, 120]",
    examples=["7.5,15"],
    json_schema_extra={"pattern": MINUTES_LIST_PATTERN},  # checked by parse_minutes_list
)


@router.get("/catchment", summary="某点的集水区（可步行到达的小区与人口）/ catchment of a point")
def catchment_point(
    studies: Studies,
    params: WalkerCRS,
    lon: Annotated[float, Query(ge=-180, le=180, examples=[121.5405])],
    lat: Annotated[float, Query(ge=-90, le=90, examples=[31.299])],
    minutes: Annotated[str, _MINUTES_LIST] = "7.5,15",
) -> JSONResponse:
    """The compounds within each minutes' walk of a point, with their households,
    population and elderly summed. ``crs`` applies to the point given.

    Parameters
    ----------
    studies : StudyCache
        The service's study.
    params : WalkParams
        The walker and the point's CRS.
    lon, lat : float
        The point.
    minutes : str
        Comma-separated minutes, e.g. ``7.5,15``.

    Returns
    -------
    fastapi.responses.JSONResponse
        ``{"profile", "speed_kmh", "method", "catchments": [{"minutes", "limit_m",
        "compounds", "households", "population", "elderly", "ids"}, ...]}``, and
        ``reason`` (bilingual) when the point is too far from every street to walk from:
        then every catchment is empty.
    """
    values = list(parse_minutes_list(minutes))  # a bilingual 400 when bad
    if params.crs != "wgs84":
        x, y = to_wgs84(lon, lat, params.crs)
        lon, lat = float(x), float(y)
    study = studies.study()
    table = catchment(study, lon, lat, values, params)
    body = {
        "profile": params.profile.name,
        "speed_kmh": params.profile.speed_kmh,
        "method": study.method,
        "catchments": table.to_dict(orient="records"),
    }
    if "reason" in table.attrs:  # a point no walk starts from: empty, and why (as /nearest)
        body["reason"] = table.attrs["reason"]
    return JSONResponse(body)


@router.get("/catchment/start", summary="小区步行起点 / where a compound's walk starts")
def compound_start(
    studies: Studies,
    params: WalkerCRS,
    id: Annotated[
        str, Query(description="小区编号 / compound id", min_length=1, examples=["ra-cb-001"])
    ],
    type: Annotated[
        FacilityType, Query(description="设施类型 / facility type", examples=["clinics"])
    ] = "clinics",
) -> JSONResponse:
    """The gate, or the point of the street, a compound's walk to its nearest facility of
    ``type`` starts from (as coverage measures it), in ``crs``: ask ``/nearest`` from there.

    Parameters
    ----------
    studies : StudyCache
        The service's study.
    params : WalkParams
        The CRS of the point returned.
    id : str
        The compound.
    type : str
        The facility type.

    Returns
    -------
    fastapi.responses.JSONResponse
        ``{"id", "type", "lon", "lat"}``.
    """
    lon, lat = start_point(studies.study(), id, type)
    if params.crs != "wgs84":
        x, y = from_wgs84([lon], [lat], params.crs)
        lon, lat = float(x[0]), float(y[0])
    return JSONResponse({"id": id, "type": type, "lon": round(lon, 7), "lat": round(lat, 7)})
