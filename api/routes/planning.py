"""What-if scenarios and recommended sites over HTTP (the numbers come from geo.analysis.planning)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import Studies, StudyCache, WalkerMinutes
from api.routes.pages import Basemap
from geo.analysis.planning import Scenario, apply_scenario, compare, recommend_sites
from geo.crs import to_wgs84
from geo.errors import QueryError
from geo.layers.geojson import to_feature_collection
from geo.layers.scenarios import ScenarioShelf, scenario_record
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
    tiles: Annotated[Basemap, Query(description="f=html 的底图 / basemap; none = offline")] = (
        "openstreetmap"
    ),
    # not "Literal | None": a union here makes pydantic warn about the alias FastAPI gives it
    facilities: Annotated[
        Literal["", "clinics", "neighbor_centers", "charging_points"],
        Query(
            description="同时返回方案后的该类设施 / also answer this type's facilities after "
            "the scenario (GeoJSON points: id, name); empty: none"
        ),
    ] = "",
) -> Response:
    """Add, move or remove facilities, or open one at a renovation project, without
    changing the stored layers: people and elderly newly covered or lost per subdistrict,
    and the residential areas that changed (GeoJSON). ``f=html`` returns the map of the
    scenario, new sites starred (as ``GET /maps/scenario``, a link's form of it);
    ``facilities=TYPE`` adds that type's facilities as the scenario leaves them."""
    study = studies.study()
    scenario = Scenario.from_dict(body)
    if f == "html":
        return _scenario_page(studies, scenario, lang, tiles)
    result = compare(study, scenario, params)
    changed = result.changes.filter(like="_gained").any(axis=1) | result.changes.filter(
        like="_lost"
    ).any(axis=1)
    areas = study.layers["residential_areas"][["id", "name", "subdistrict", "geometry"]]
    frame = areas.join(result.changes)[changed.to_numpy()]
    answer = {
        "scenario": body.get("name") or "scenario",
        "profile": params.profile.name,
        "by_subdistrict": result.by_subdistrict.to_dict(orient="records"),
        "changed_areas": json.loads(to_feature_collection(frame)),
    }
    if facilities:
        after = result.study.layers[facilities][["id", "name", "geometry"]]
        points = after.set_geometry(after.geometry.representative_point())
        answer["facilities"] = json.loads(to_feature_collection(points))
    return JSONResponse(answer)


_MAP_EXAMPLE = (
    "/maps/scenario?name=plan&add=charging_points:121.5525,31.3030:新车棚"
    "&sites=rp-020:neighbor_centers&tiles=none"
)


@router.get(
    "/maps/scenario",
    response_class=HTMLResponse,
    summary="方案地图 / a what-if scenario's map, from a link",
    description=f"""The map of `POST /scenarios?f=html` for a scenario written in the query
string, so it can be linked, bookmarked and opened offline (Leaflet and every script come
from this service). 方案写在网址里：可以链接、收藏，离线也能打开。

Entries are separated by `;` (or the parameter repeated); positions are WGS-84 lon,lat:

- `add=type:lon,lat[:name]` — a new facility (type: clinics, neighbor_centers,
  charging_points)
- `remove=type:id` — close a facility
- `move=type:id:lon,lat` — move a facility
- `sites=project_id:type[:name]` — open a facility at a renovation project

New sites are starred. A malformed entry is a 400 problem naming the parameter.

Example / 例: [`{_MAP_EXAMPLE}`]({_MAP_EXAMPLE})""",
)
def scenario_page(
    studies: Studies,
    add: Annotated[
        list[str] | None,
        Query(
            description="新增 / type:lon,lat[:name];…",
            examples=["charging_points:121.5525,31.3030;clinics:121.5410,31.2960"],
        ),
    ] = None,
    remove: Annotated[
        list[str] | None, Query(description="关闭 / type:id;…", examples=["clinics:clinic-001"])
    ] = None,
    move: Annotated[
        list[str] | None,
        Query(
            description="迁址 / type:id:lon,lat;…", examples=["clinics:clinic-001:121.5470,31.3050"]
        ),
    ] = None,
    sites: Annotated[
        list[str] | None,
        Query(
            description="在改造项目处新设 / project_id:type[:name];…",
            examples=["rp-020:neighbor_centers"],
        ),
    ] = None,
    name: Annotated[
        str, Query(max_length=80, description="方案名，新设施 id 的前缀 / the new ids' prefix")
    ] = "scenario",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    tiles: Annotated[Basemap, Query(description="底图 / basemap; none = offline")] = (
        "openstreetmap"
    ),
) -> HTMLResponse:
    """The scenario's map, the same page as ``POST /scenarios?f=html``."""
    scenario = scenario_from_query(add, remove, move, sites, name)
    return _scenario_page(studies, scenario, lang, tiles)


def _scenario_page(studies: StudyCache, scenario: Scenario, lang: str, tiles: str) -> HTMLResponse:
    """The scenario map with Leaflet and the pages' files served here, not from a CDN."""
    fmap = scenario_map(studies.study(), scenario, lang=lang, tiles=tiles, assets="service")
    return HTMLResponse(fmap.get_root().render())


@router.get(
    "/recommendations",
    summary="推荐选址 / recommended sites for new facilities",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}}},
)
def recommendations(
    studies: Studies,
    params: WalkerMinutes,
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
    covering), in order, with the population and elderly each one adds, for the walker and
    thresholds given (``minutes``, as ``POST /scenarios`` takes them)."""
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


ScenarioName = Annotated[str, Path(description="方案名 / name", examples=["228街坊睦邻中心"])]


_LISTED = {
    "persistent": True,
    "scenarios": [{"name": "228街坊睦邻中心", "saved": "2026-12-01T08:30:00+00:00", "add": 1,
                   "move": 0, "remove": 0, "sites": 1}],
}  # fmt: skip


@router.get(
    "/scenarios",
    summary="已保存的方案 / the saved what-if plans",
    responses={200: {"content": {"application/json": {"example": _LISTED}}}},
)
def saved_scenarios(request: Request) -> JSONResponse:
    """Every saved plan: its name, when it was saved (UTC) and how many facilities it adds,
    moves and closes and renovation sites it opens. 已保存方案列表。
    \f

    Parameters
    ----------
    request : Request
        Its app holds the shelf of saved scenarios.

    Returns
    -------
    JSONResponse
        ``{"persistent": bool, "scenarios": [{"name", "saved", "add", "move", "remove",
        "sites"}, …]}`` (counts), by name; ``persistent`` is false when the store keeps
        them in memory only.
    """
    shelf = _shelf(request)
    return JSONResponse({"persistent": shelf.persistent, "scenarios": shelf.list()})


@router.put("/scenarios/{name}", summary="保存方案 / save a what-if plan by name")
def keep_scenario(
    request: Request,
    studies: Studies,
    name: ScenarioName,
    body: Annotated[dict[str, Any], Body(examples=[_EXAMPLE])],
) -> JSONResponse:
    """Save a what-if plan's JSON under ``name``, replacing one of that name: beside the
    layers (``scenarios/<name>.json`` in the data folder), so it outlives a restart; in
    memory for a store that is not a folder. A name is letters, digits, spaces and
    ``- _ . ( ) （ ） · + # &``, at most 80 characters; a bad name is a 400. 保存方案。
    \f

    Parameters
    ----------
    request : Request
        Its app holds the shelf of saved scenarios.
    studies : StudyCache
        The layers every entry is checked against (types, ids, projects, positions).
    name : str
        The scenario's name.
    body : dict
        The scenario as ``POST /scenarios`` takes it; checked before it is saved.

    Returns
    -------
    JSONResponse
        The scenario as saved, with ``name`` and ``saved`` (UTC, ISO 8601).
    """
    scenario = Scenario.from_dict({**body, "name": name})
    entries = {"add": scenario.add, "move": scenario.move, "remove": scenario.remove,
               "sites": scenario.sites}  # fmt: skip
    scenario_record(name, entries)  # the name and the size first: cheap
    apply_scenario(studies.study(), scenario)  # every entry, as POST /scenarios would
    return JSONResponse(_shelf(request).save(name, entries))


@router.get("/scenarios/{name}", summary="读取方案 / a saved what-if plan")
def kept_scenario(request: Request, name: ScenarioName) -> JSONResponse:
    """The what-if plan saved under ``name`` by the PUT of this path; 404 when none is.
    \f

    Parameters
    ----------
    request : Request
        Its app holds the shelf of saved scenarios.
    name : str
        The scenario's name.

    Returns
    -------
    JSONResponse
        The scenario's JSON, as ``POST /scenarios`` takes it, with ``saved``.
    """
    return JSONResponse(_shelf(request).get(name))


@router.delete("/scenarios/{name}", status_code=204, summary="删除方案 / delete a saved plan")
def forget_scenario(request: Request, name: ScenarioName) -> Response:
    """Delete the plan saved under ``name``; 404 when none is. 删除方案。
    \f

    Parameters
    ----------
    request : Request
        Its app holds the shelf of saved scenarios.
    name : str
        The scenario's name.

    Returns
    -------
    Response
        204, no body.
    """
    _shelf(request).delete(name)
    return Response(status_code=204)


def _shelf(request: Request) -> ScenarioShelf:
    """The app's saved scenarios (beside a folder store's layers, else in memory)."""
    shelf: ScenarioShelf = request.app.state.scenarios
    return shelf


#: Each query parameter of ``GET /maps/scenario``: its entries' form and an example.
_FORMS = {
    "add": ("type:lon,lat[:name]", "charging_points:121.5525,31.3030"),
    "remove": ("type:id", "clinics:clinic-001"),
    "move": ("type:id:lon,lat", "clinics:clinic-001:121.5470,31.3050"),
    "sites": ("project_id:type[:name]", "rp-020:neighbor_centers"),
}
_MAX_ENTRIES = 200


def scenario_from_query(
    add: list[str] | None,
    remove: list[str] | None,
    move: list[str] | None,
    sites: list[str] | None,
    name: str = "scenario",
) -> Scenario:
    """The scenario a ``GET /maps/scenario`` query string writes, parsed once at the edge.

    Parameters
    ----------
    add, remove, move, sites : list of str or None
        The values of each parameter (it may be repeated); a value holds entries separated
        by ``;``: ``type:lon,lat[:name]``, ``type:id``, ``type:id:lon,lat`` and
        ``project_id:type[:name]``, positions WGS-84.
    name : str
        The scenario's name, the prefix of the new facilities' ids; empty means
        ``scenario``.

    Returns
    -------
    Scenario
        Its entries as :meth:`Scenario.from_dict` takes them; types, ids and projects are
        checked when it is applied (:func:`geo.analysis.planning.apply_scenario`).

    Raises
    ------
    QueryError
        An entry not of its parameter's form, or a position that is not a coordinate, naming
        the parameter, the entry and the form.
    """
    parsed: dict[str, list[dict[str, Any]]] = {}
    for param, values in (("add", add), ("remove", remove), ("move", move), ("sites", sites)):
        entries = [part.strip() for value in values or [] for part in value.split(";")]
        entries = [entry for entry in entries if entry]
        if len(entries) > _MAX_ENTRIES:
            raise QueryError(
                f"{param} 最多 {_MAX_ENTRIES} 项 / {param} takes at most {_MAX_ENTRIES} entries"
            )
        parsed[param] = [_entry(param, n, entry) for n, entry in enumerate(entries, 1)]
    return Scenario(**parsed, name=name.strip() or "scenario")


def _entry(param: str, n: int, text: str) -> dict[str, Any]:
    """One entry of ``param`` as a dict of :class:`Scenario`, or a QueryError naming it."""
    parts = [p.strip() for p in text.split(":")]
    entry: dict[str, Any] | None = None
    if param == "add" and len(parts) >= 2 and parts[0]:
        position = _lonlat(parts[1])
        label = ":".join(parts[2:])
        if position is not None:
            entry = {"type": parts[0], "lon": position[0], "lat": position[1]}
            entry.update({"name": label} if label else {})
    elif param == "remove" and len(parts) >= 2 and parts[0] and all(parts[1:]):
        entry = {"type": parts[0], "id": ":".join(parts[1:])}
    elif param == "move" and len(parts) >= 3 and parts[0] and all(parts[1:-1]):
        position = _lonlat(parts[-1])
        if position is not None:
            entry = {"type": parts[0], "id": ":".join(parts[1:-1]),
                     "lon": position[0], "lat": position[1]}  # fmt: skip
    elif param == "sites" and len(parts) >= 2 and parts[0] and parts[1]:
        label = ":".join(parts[2:])
        entry = {"project_id": parts[0], "type": parts[1]}
        entry.update({"name": label} if label else {})
    if entry is None:
        form, example = _FORMS[param]
        wgs84 = ("（经度,纬度为 WGS-84）", " (lon,lat in WGS-84)") if "lon" in form else ("", "")
        raise QueryError(
            f"{param} 第 {n} 项 '{text}' 应为 {form}{wgs84[0]} / {param} entry {n} "
            f"'{text}' must be {form}{wgs84[1]}, e.g. {param}={example}"
        )
    return entry


def _lonlat(text: str) -> tuple[float, float] | None:
    """``"lon,lat"`` → floats, or None when it is not a WGS-84 position."""
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        return None
    if not (np.isfinite(lon) and np.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
        return None
    return lon, lat
