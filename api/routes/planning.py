"""What-if scenarios and recommended sites over HTTP (the numbers come from geo.analysis.planning)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Body, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import Studies, Walker, WalkerMinutes
from geo.analysis.planning import Scenario, compare, recommend_sites
from geo.crs import to_wgs84
from geo.errors import QueryError
from geo.layers.geojson import to_feature_collection
from geo.maps.scenario import scenario_map

router = APIRouter(tags=["planning"])

GEOJSON = "application/geo+json"
_EXAMPLE = {
    "name": "228街坊睦邻中心",
    "sites": [{"project_id": "rp-020", "type": "neighbor_centers"}],
    "add": [{"type": "charging_points", "lon": 121.5525, "lat": 31.303, "name": "新车棚"}],
    "remove": [],
    "move": [],
}


@router.post("/scenarios", summary="方案比较 / what-if scenario against today")
def scenarios(
    studies: Studies,
    params: WalkerMinutes,
    body: Annotated[dict[str, Any], Body(examples=[_EXAMPLE])],
    f: Annotated[Literal["json", "html"], Query(description="html: the scenario's map")] = "json",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
) -> Response:
    """Add, move or remove facilities, or open one at a renovation project, without
    changing the stored layers: people and elderly newly covered or lost per subdistrict,
    and the residential areas that changed (GeoJSON). ``f=html`` returns the map of the
    scenario, new sites starred."""
    study = studies.study()
    scenario = Scenario.from_dict(body)
    if f == "html":
        page = scenario_map(study, scenario, lang=lang).get_root().render()
        return HTMLResponse(page)
    result = compare(study, scenario, params)
    changed = result.changes.filter(like="_gained").any(axis=1) | result.changes.filter(
        like="_lost"
    ).any(axis=1)
    areas = study.layers["residential_areas"][["id", "name", "subdistrict", "geometry"]]
    frame = areas.join(result.changes)[changed.to_numpy()]
    return JSONResponse(
        {
            "scenario": body.get("name") or "scenario",
            "profile": params.profile.name,
            "by_subdistrict": result.by_subdistrict.to_dict(orient="records"),
            "changed_areas": json.loads(to_feature_collection(frame)),
        }
    )


@router.get(
    "/recommendations",
    summary="推荐选址 / recommended sites for new facilities",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def recommendations(
    studies: Studies,
    params: Walker,
    type: Annotated[Literal["clinics", "neighbor_centers", "charging_points"], Query()] = (
        "charging_points"
    ),
    k: Annotated[int, Query(ge=1, le=50, description="新设施个数 / how many sites")] = 3,
    candidates: Annotated[
        Literal["renovation_projects", "neighbor_centers", "street_nodes", "points"],
        Query(description="候选点 / where sites may go; points: the ones given in `points`"),
    ] = "renovation_projects",
    points: Annotated[
        str | None,
        Query(
            description="候选坐标 / candidate sites for candidates=points: lon,lat;lon,lat;… "
            "(in crs)",
            examples=["121.5525,31.3030;121.5410,31.2960;121.5470,31.3050"],
        ),
    ] = None,
    crs: Annotated[
        Literal["wgs84", "gcj02", "bd09"], Query(description="points 的坐标系 / CRS of points")
    ] = "wgs84",
    method: Annotated[Literal["greedy", "exact"], Query()] = "greedy",
    elderly_weight: Annotated[
        float,
        Query(ge=0, le=10, description="老人权重 / weight of residents 60+", examples=[2.0]),
    ] = 1.0,
) -> JSONResponse:
    """The ``k`` sites that newly cover the most people not covered today (maximal
    covering), in order, with the population and elderly each one adds."""
    given = None
    if candidates == "points":
        given = _points(points)
        if crs != "wgs84":
            lon, lat = to_wgs84(given[:, 0], given[:, 1], crs)
            given = np.column_stack([lon, lat])
    elif points is not None:
        raise QueryError("points 只用于 candidates=points / points go with candidates=points")
    rec = recommend_sites(
        studies.study(), type, k, candidates, given, method=method,
        elderly_weight=elderly_weight, params=params,
    )  # fmt: skip
    body = json.loads(to_feature_collection(rec.sites))
    body.update(
        method=rec.method,
        covered_population=rec.covered_population,
        covered_elderly=rec.covered_elderly,
    )
    return JSONResponse(body, media_type=GEOJSON)


def _points(text: str | None) -> np.ndarray:
    """``"lon,lat;lon,lat"`` → an (n, 2) array, or a QueryError saying what is wrong."""
    try:
        pairs = [[float(v) for v in part.split(",")] for part in (text or "").split(";")
                 if part.strip()]  # fmt: skip
        xy = np.asarray(pairs, dtype=float).reshape(-1, 2)
    except ValueError:
        xy = np.empty((0, 2))
    if not len(xy) or len(xy) > 1000 or not np.isfinite(xy).all() or (
            np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():  # fmt: skip
        raise QueryError(
            "points 应为 1–1000 个 经度,纬度，以 ; 分隔 / points must be 1–1000 lon,lat pairs "
            f"separated by ';', e.g. 121.5525,31.3030;121.5410,31.2960 — got '{text}'"
        )
    return xy
