"""What-if scenarios and recommended sites over HTTP (the numbers come from geo.analysis.planning)."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.deps import Studies, StudyCache, WalkerMinutes
from api.routes.pages import Basemap
from geo.analysis.planning import Scenario, apply_scenario, compare, recommend_sites
from geo.crs import to_wgs84
from geo.errors import ConflictError, NotFoundError, QueryError
from geo.layers.geojson import to_feature_collection
from geo.layers.scenarios import NAME_PATTERN, ScenarioShelf, check_name, scenario_record
from geo.maps.scenario import scenario_map
from geo.schema import FACILITY_LAYERS

router = APIRouter(tags=["planning"])

_KIND = "(?:" + "|".join(FACILITY_LAYERS) + ")"
_LON = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\.[0-9]+)?)"
_LAT = r"-?(?:90(?:\.0+)?|[1-8]?[0-9](?:\.[0-9]+)?)"
#: ``lon,lat`` in degrees (WGS-84 or the CRS asked), as a query string writes a position.
POSITION = f"{_LON} *, *{_LAT}"
_PART = "[^;:]*[^;: ][^;:]*"  # an id or project between colons: not empty
_ENTRY_FORMS = {
    "add": f" *{_KIND} *: *{POSITION} *(?::[^;]*)?",
    "remove": f" *{_KIND} *(?::{_PART})+",
    "move": f" *{_KIND} *(?::{_PART})+: *{POSITION} *",
    "sites": f"{_PART}: *{_KIND} *(?::[^;]*)?",
}
_MAX_ENTRIES = 200
#: One value of ``add``, ``remove``, ``move`` or ``sites``: entries of the form separated by
#: ``;`` (empty ones are skipped), at most 200.
ENTRY_PATTERNS = {
    param: f"^(?:{form}| *)(?:;(?:{form}| *)){{0,{_MAX_ENTRIES - 1}}}$"
    for param, form in _ENTRY_FORMS.items()
}
#: ``lon,lat;lon,lat;…``: 1–1000 candidate positions.
POINTS_PATTERN = f"^ *{POSITION} *(?:; *{POSITION} *){{0,999}}$"

GEOJSON = "application/geo+json"
_EXAMPLE = {
    "name": "228街坊睦邻中心",
    "sites": [{"project_id": "rp-020", "type": "neighbor_centers"}],
    "add": [{"type": "charging_points", "lon": 121.5525, "lat": 31.303, "name": "新车棚"}],
    "remove": [],
    "move": [],
}


Kind = Literal["clinics", "neighbor_centers", "charging_points"]
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Id = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    # what the document says is what is accepted: no other keys, no "1" for 1 or 1 for "1"
    model_config = ConfigDict(extra="forbid", strict=True)


class Added(_Strict):
    """A new facility at a position (WGS-84)."""

    type: Kind
    lon: Lon
    lat: Lat
    name: str | None = None


class Moved(_Strict):
    """A facility moved to a position (WGS-84)."""

    type: Kind
    id: Id
    lon: Lon
    lat: Lat


class Removed(_Strict):
    """A facility closed."""

    type: Kind
    id: Id


class Site(_Strict):
    """A facility opened at a renovation project."""

    project_id: Id
    type: Kind
    name: str | None = None


class ScenarioBody(_Strict):
    """A what-if plan: ``add``, ``move``, ``remove``, ``sites`` (each may be left out);
    ``name`` and ``saved`` as ``GET /scenarios/{name}`` answers them."""

    name: Annotated[str | None, Field(json_schema_extra={"pattern": NAME_PATTERN})] = None
    saved: str | None = None
    add: list[Added] | None = None
    move: list[Moved] | None = None
    remove: list[Removed] | None = None
    sites: list[Site] | None = None

    @field_validator("name")
    @classmethod
    def _a_plan_name(cls, value: str | None) -> str | None:
        # the name a saved plan would have (PUT /scenarios/{name}), not any text
        return None if value is None else check_name(value) and value


def _plan(body: ScenarioBody, name: str | None = None) -> Scenario:
    """The plan of a body (its entries' form checked by the model already)."""
    data = body.model_dump(exclude_none=True)
    return Scenario.from_dict({**data, "name": name} if name is not None else data)


def _applied(studies: StudyCache, scenario: Scenario) -> None:
    """Check a plan against the layers: naming a facility or project they have not is a
    409, a conflict with the data as it is now (the document cannot list their ids)."""
    try:
        apply_scenario(studies.study(), scenario)
    except NotFoundError as missing:
        raise ConflictError(str(missing)) from None


_CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "方案中的设施或改造项目不在图层中 / the plan names facilities "
                  "or renovation projects the layers do not have"}}  # fmt: skip


@router.post("/scenarios", summary="方案比较 / what-if scenario against today",
             responses=_CONFLICT)  # fmt: skip
def scenarios(
    studies: Studies,
    params: WalkerMinutes,
    body: Annotated[ScenarioBody, Body(examples=[_EXAMPLE])],
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
    scenario = _plan(body)
    _applied(studies, scenario)
    if f == "html":
        return _scenario_page(studies, scenario, lang, tiles)
    result = compare(study, scenario, params)
    changed = result.changes.filter(like="_gained").any(axis=1) | result.changes.filter(
        like="_lost"
    ).any(axis=1)
    areas = study.layers["residential_areas"][["id", "name", "subdistrict", "geometry"]]
    frame = areas.join(result.changes)[changed.to_numpy()]
    answer = {
        "scenario": body.name or "scenario",
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
            max_length=_MAX_ENTRIES,
            json_schema_extra={"items": {"type": "string", "pattern": ENTRY_PATTERNS["add"]}},
        ),
    ] = None,
    remove: Annotated[
        list[str] | None,
        Query(
            description="关闭 / type:id;…",
            examples=["clinics:clinic-001"],
            max_length=_MAX_ENTRIES,
            json_schema_extra={"items": {"type": "string", "pattern": ENTRY_PATTERNS["remove"]}},
        ),
    ] = None,
    move: Annotated[
        list[str] | None,
        Query(
            description="迁址 / type:id:lon,lat;…",
            examples=["clinics:clinic-001:121.5470,31.3050"],
            max_length=_MAX_ENTRIES,
            json_schema_extra={"items": {"type": "string", "pattern": ENTRY_PATTERNS["move"]}},
        ),
    ] = None,
    sites: Annotated[
        list[str] | None,
        Query(
            description="在改造项目处新设 / project_id:type[:name];…",
            examples=["rp-020:neighbor_centers"],
            max_length=_MAX_ENTRIES,
            json_schema_extra={"items": {"type": "string", "pattern": ENTRY_PATTERNS["sites"]}},
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
            "(in crs), 1–1000 of them; left aside for another source of candidates",
            examples=["121.5525,31.3030;121.5410,31.2960;121.5470,31.3050"],
            json_schema_extra={"pattern": POINTS_PATTERN},
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
    given, reason = None, None
    if points is not None:
        parsed = _points(points)  # checked whatever the source, so a typo is never silent
        if candidates == "points":
            given = parsed
    if candidates == "points" and given is None:
        given = np.empty((0, 2))  # no candidate: no site
        reason = ("没有给出候选坐标 / no candidate points given: add points=lon,lat;… "
                  "for candidates=points")  # fmt: skip
    if candidates == "points" and given is not None and crs != "wgs84" and len(given):
        lon, lat = to_wgs84(given[:, 0], given[:, 1], crs)
        given = np.column_stack([lon, lat])
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
    if reason is not None:
        body["reason"] = reason
    return JSONResponse(body, media_type=GEOJSON)


def _points(text: str | None) -> np.ndarray:
    """``"lon,lat;lon,lat"`` → an (n, 2) array, or a QueryError saying what is wrong."""
    if not re.fullmatch(POINTS_PATTERN, text or ""):
        raise QueryError(
            "points 应为 1–1000 个 经度,纬度，以 ; 分隔 / points must be 1–1000 lon,lat pairs "
            f"separated by ';', e.g. 121.5525,31.3030;121.5410,31.2960 — got '{text}'"
        )
    pairs = [[float(v) for v in part.split(",")] for part in (text or "").split(";")]
    return np.asarray(pairs, dtype=float).reshape(-1, 2)


ScenarioName = Annotated[
    str,
    Path(
        description="方案名 / name: letters, digits, spaces and - _ . ( ) （ ） · + # &, not "
        "starting with '.', at most 80 characters",
        examples=["228街坊睦邻中心"],
        json_schema_extra={"pattern": NAME_PATTERN},  # checked by check_name
    ),
]


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


@router.put("/scenarios/{name}", summary="保存方案 / save a what-if plan by name",
            responses=_CONFLICT)  # fmt: skip
def keep_scenario(
    request: Request,
    studies: Studies,
    name: ScenarioName,
    body: Annotated[ScenarioBody, Body(examples=[_EXAMPLE])],
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
    body : ScenarioBody
        The scenario as ``POST /scenarios`` takes it; checked before it is saved.

    Returns
    -------
    JSONResponse
        The scenario as saved, with ``name`` and ``saved`` (UTC, ISO 8601).
    """
    scenario = _plan(body, name)
    entries = {"add": scenario.add, "move": scenario.move, "remove": scenario.remove,
               "sites": scenario.sites}  # fmt: skip
    scenario_record(name, entries)  # the name and the size first: cheap
    _applied(studies, scenario)  # every entry, as POST /scenarios would
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
        entries = [part.strip(" ") for value in values or [] for part in value.split(";")]
        entries = [entry for entry in entries if entry]
        for n, entry in enumerate(entries, 1):
            if not re.fullmatch(_ENTRY_FORMS[param], entry):
                _entry(param, n, "", shown=entry)  # a QueryError naming the entry and form
        if len(entries) > _MAX_ENTRIES or any(
            not re.fullmatch(ENTRY_PATTERNS[param], value) for value in values or []
        ):
            raise QueryError(
                f"{param} 最多 {_MAX_ENTRIES} 项 / {param} takes at most {_MAX_ENTRIES} entries"
            )
        parsed[param] = [_entry(param, n, entry) for n, entry in enumerate(entries, 1)]
    return Scenario(**parsed, name=name.strip() or "scenario")


def _entry(param: str, n: int, text: str, shown: str | None = None) -> dict[str, Any]:
    """One entry of ``param`` as a dict of :class:`Scenario`, or a QueryError naming it."""
    parts = [p.strip(" ") for p in text.split(":")]
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
        text = shown if shown is not None else text
        raise QueryError(
            f"{param} 第 {n} 项 '{text}' 应为 {form}{wgs84[0]} / {param} entry {n} "
            f"'{text}' must be {form}{wgs84[1]}, e.g. {param}={example}"
        )
    return entry


def _lonlat(text: str) -> tuple[float, float] | None:
    """``"lon,lat"`` → floats, or None when it is not a position (:data:`POSITION`)."""
    if not re.fullmatch(POSITION, text):
        return None
    lon, lat = (float(v) for v in text.split(","))
    return lon, lat
