"""Planning: what-if scenarios and recommended sites for new facilities.

A :class:`Scenario` adds, moves or removes facilities, or opens one at a renovation project's
site, without touching the stored layers; :func:`compare` reports who gains and who loses
coverage, per area and per subdistrict. :func:`recommend_sites` chooses ``k`` new sites among
candidates to cover the most people not yet covered — the maximal covering location problem —
greedily (within 1 − 1/e ≈ 63 % of the optimum) or exactly (PuLP with its bundled CBC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.coverage import Origins, analyze_areas, area_origins
from geo.analysis.params import Profile, Thresholds, WalkParams
from geo.analysis.study import Study
from geo.errors import NotFoundError, QueryError
from geo.schema import FACILITY_LAYERS

__all__ = [
    "CANDIDATE_SOURCES",
    "Recommendation",
    "Scenario",
    "ScenarioResult",
    "apply_scenario",
    "candidate_sites",
    "compare",
    "coverage_sets",
    "greedy_sites",
    "greedy_vs_optimal",
    "optimal_sites",
    "recommend_sites",
]

CANDIDATE_SOURCES = ("renovation_projects", "neighbor_centers", "street_nodes", "points")
#: Candidates considered within reach of one area at most (the k of the k-nearest search).
MAX_CANDIDATES_PER_AREA = 64
# What a facility added in a scenario needs to be a valid feature of its layer.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "clinics": {"level": "station"},
    "neighbor_centers": {"kind": "centre", "health_station": False, "subdistrict": ""},
    "charging_points": {"vehicle": "ebike", "ports": 20, "status": "planned"},
}


@dataclass
class Scenario:
    """Changes to the facilities, applied to a copy of the layers.

    ``add``: ``{"type", "lon", "lat", "name"?}``; ``move``: ``{"type", "id", "lon", "lat"}``;
    ``remove``: ``{"type", "id"}``; ``sites``: ``{"project_id", "type", "name"?}`` opens a
    facility at a renovation project. Positions are WGS-84.
    """

    add: list[dict[str, Any]] = field(default_factory=list)
    move: list[dict[str, Any]] = field(default_factory=list)
    remove: list[dict[str, Any]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)
    name: str = "scenario"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """A scenario from its JSON form, its keys and lists checked (the entries are checked
        by :func:`apply_scenario`): an unknown key, or a value that is not a list of objects,
        is a QueryError.

        Parameters
        ----------
        data : dict
            ``add``, ``move``, ``remove``, ``sites`` (lists of objects; missing or None
            means none), ``name`` (default ``scenario``); ``saved`` (a time) is ignored.

        Returns
        -------
        Scenario
        """
        unknown = ", ".join(sorted(set(data) - {"add", "move", "remove", "sites", "name", "saved"}))
        if unknown:
            raise QueryError(
                f"方案中有未知项 / unknown scenario keys: {unknown}; use add, move, remove, sites"
            )
        lists = {key: data.get(key) or [] for key in ("add", "move", "remove", "sites")}
        for key, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise QueryError(f"'{key}' 应为对象列表 / '{key}' must be a list of objects")
        return cls(**lists, name=str(data.get("name") or "scenario"))


@dataclass
class ScenarioResult:
    """Coverage before and after, and the difference."""

    before: pd.DataFrame
    after: pd.DataFrame
    changes: pd.DataFrame  # per area and type: gained / lost
    by_subdistrict: pd.DataFrame  # people and elderly newly covered or lost
    study: Study


def _check(entry: dict, where: str, needs: tuple[str, ...], problems: list[str]) -> None:
    missing = [k for k in needs if entry.get(k) in (None, "")]
    if missing:
        problems.append(f"{where}: 缺少 / missing {', '.join(missing)}")
    kind = entry.get("type")
    if kind is not None and kind not in FACILITY_LAYERS:
        problems.append(
            f"{where}: 类型 '{kind}' 无效 / type must be one of {', '.join(FACILITY_LAYERS)}"
        )
    for axis, limit in (("lon", 180), ("lat", 90)):
        if axis in needs:
            try:
                ok = abs(float(entry[axis])) <= limit
            except (KeyError, TypeError, ValueError):
                ok = False
            if not ok and axis not in missing:
                problems.append(f"{where}: {axis} 无效 / {axis} is not a coordinate")


def apply_scenario(study: Study, scenario: Scenario) -> Study:
    """A new study whose facility layers carry the scenario's changes (same network).

    Parameters
    ----------
    study : Study
        Not changed: the new study holds copies of its layers.
    scenario : Scenario
        Removals, then moves, then additions and sites; an added facility gets the id
        ``{scenario.name}-{type}-{n}`` and the layer's defaults for required fields.

    Returns
    -------
    Study

    Raises
    ------
    QueryError
        An entry lacks a required key, names an unknown type, or has a lon/lat that is not
        a coordinate; NotFoundError: they name a facility or project the layers have not.
    """
    layers = {name: frame.copy() for name, frame in study.layers.items()}
    problems, missing = list[str](), list[str]()  # missing: well formed, not in the layers
    for n, entry in enumerate(scenario.remove, 1):
        _check(entry, f"remove #{n}", ("type", "id"), problems)
        kind, fid = entry.get("type"), str(entry.get("id"))
        if kind in FACILITY_LAYERS and fid not in layers[kind].index:
            missing.append(f"remove #{n}: {kind} 中没有 {fid} / no {fid} in {kind}")
        elif kind in FACILITY_LAYERS:
            layers[kind] = layers[kind].drop(index=fid)
    for n, entry in enumerate(scenario.move, 1):
        _check(entry, f"move #{n}", ("type", "id", "lon", "lat"), problems)
        kind, fid = entry.get("type"), str(entry.get("id"))
        if kind in FACILITY_LAYERS and fid not in layers[kind].index:
            missing.append(f"move #{n}: {kind} 中没有 {fid} / no {fid} in {kind}")
        elif kind in FACILITY_LAYERS and not problems:
            frame = layers[kind]
            geometry = frame.geometry.copy()
            geometry.loc[fid] = shapely.Point(float(entry["lon"]), float(entry["lat"]))
            layers[kind] = frame.set_geometry(geometry)
    added: list[tuple[str, dict, shapely.Point]] = []
    for n, entry in enumerate(scenario.add, 1):
        _check(entry, f"add #{n}", ("type", "lon", "lat"), problems)
        if not problems:
            point = shapely.Point(float(entry["lon"]), float(entry["lat"]))
            label = entry.get("name") or f"新增 {n} / new {n}"
            added.append((entry["type"], {"name": label}, point))
    projects = layers["renovation_projects"]
    for n, entry in enumerate(scenario.sites, 1):
        _check(entry, f"sites #{n}", ("project_id", "type"), problems)
        pid = str(entry.get("project_id"))
        if pid not in projects.index:
            missing.append(f"sites #{n}: 没有改造项目 {pid} / no renovation project {pid}")
        elif not problems:
            point = projects.geometry.loc[pid].representative_point()
            name = entry.get("name") or f"{projects.at[pid, 'name']}（新设施 / new site）"
            added.append((entry["type"], {"name": name, "note": f"site of {pid}"}, point))
    if problems or missing:
        error = QueryError if problems else NotFoundError
        raise error("方案无效 / invalid scenario: " + "; ".join(problems + missing))
    for n, (kind, props, point) in enumerate(added, 1):
        fid = f"{scenario.name}-{kind}-{n}"
        row = gpd.GeoDataFrame(
            [{"id": fid, **_DEFAULTS[kind], **props}],
            geometry=[point],
            crs="EPSG:4326",
            index=[fid],
        )
        layers[kind] = pd.concat([layers[kind], row])
    return study.with_layers(layers)


def compare(
    study: Study,
    scenario: Scenario,
    params: WalkParams | None = None,
    *,
    minutes: Thresholds = None,
    profile: str | Profile | None = None,
) -> ScenarioResult:
    """Coverage of the scenario against today's, per area and per subdistrict.

    Parameters
    ----------
    study : Study
        Today.
    scenario : Scenario
        The changes; the stored layers are not touched.
    params : WalkParams, optional
        Walker and thresholds (``minutes`` and ``profile`` are shorthands).

    Returns
    -------
    ScenarioResult

    Examples
    --------
    >>> study = Study.load()
    >>> plan = Scenario(add=[{"type": "charging_points", "lon": 121.5525, "lat": 31.3030}])
    >>> result = compare(study, plan)
    >>> int(result.changes["charging_points_gained"].sum()) > 0
    True
    """
    params = WalkParams.of(params, minutes=minutes, profile=profile)
    after_study = apply_scenario(study, scenario)
    areas = study.layers["residential_areas"]
    # each study snaps its gates once (Study.memo); not shared: which street a gate joins
    # depends on where facilities are (a fragment holding one is not skipped)
    before = analyze_areas(study, params)
    after = analyze_areas(after_study, params)
    changes = pd.DataFrame(index=areas.index)
    kinds = (*FACILITY_LAYERS, "all")
    for kind in kinds:
        column = "all_covered" if kind == "all" else f"{kind}_covered"
        was, now = before[column].astype(bool), after[column].astype(bool)
        changes[f"{kind}_gained"] = ~was & now
        changes[f"{kind}_lost"] = was & ~now
        if kind != "all":
            changes[f"{kind}_walk_m_before"] = before[f"{kind}_walk_m"]
            changes[f"{kind}_walk_m_after"] = after[f"{kind}_walk_m"]
    people = areas[["population", "elderly"]].apply(pd.to_numeric, errors="coerce").fillna(0)
    rows = []
    groups = [("全部 / all", areas.index), *areas.groupby("subdistrict").groups.items()]
    for group, index in groups:
        for kind in kinds:
            gained = changes.loc[index, f"{kind}_gained"]
            lost = changes.loc[index, f"{kind}_lost"]
            rows.append({
                "subdistrict": group, "type": "all_types" if kind == "all" else kind,
                "areas_gained": int(gained.sum()), "areas_lost": int(lost.sum()),
                "population_gained": int(people.loc[index, "population"][gained].sum()),
                "elderly_gained": int(people.loc[index, "elderly"][gained].sum()),
                "population_lost": int(people.loc[index, "population"][lost].sum()),
                "elderly_lost": int(people.loc[index, "elderly"][lost].sum()),
            })  # fmt: skip
    return ScenarioResult(before, after, changes, pd.DataFrame(rows), after_study)


# --- recommended sites -----------------------------------------------------------------------


def candidate_sites(study: Study, kind: str, source: str, points: Any = None) -> gpd.GeoDataFrame:
    """Where a new facility of ``kind`` could go, from one of :data:`CANDIDATE_SOURCES`; an
    unknown source, or street nodes without a network, is a QueryError.

    Parameters
    ----------
    study : Study
    kind : str
        The facility type (a neighbour centre that already hosts a health station is no
        candidate for a clinic).
    source : str
        ``renovation_projects``, ``neighbor_centers``, ``street_nodes`` or ``points``.
    points : array of (lon, lat), optional
        WGS-84 positions for ``source="points"``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``name`` (a person's: a street node by its streets, a project with its compound)
        and a point per candidate, WGS-84, indexed by candidate id.
    """
    if source == "renovation_projects":
        frame = study.layers["renovation_projects"]
        geometry = frame.geometry.representative_point()
        names = pd.Series(_project_names(study, frame), index=frame.index)
        return gpd.GeoDataFrame({"name": names}, geometry=geometry, crs="EPSG:4326")
    if source == "neighbor_centers":
        frame = study.layers["neighbor_centers"]
        if kind == "clinics" and "health_station" in frame.columns:
            frame = frame[~frame["health_station"].fillna(False).astype(bool)]  # could host one
        return gpd.GeoDataFrame({"name": frame["name"]}, geometry=frame.geometry, crs="EPSG:4326")
    if source == "street_nodes":
        if study.network is None:
            raise QueryError("街道节点候选需要路网 / street-node candidates need a network")
        net = study.network
        nodes = gpd.GeoSeries(shapely.points(net.node_x, net.node_y), crs=net.crs).to_crs(4326)
        ids = [f"node-{i}" for i in range(net.n_nodes)]
        names = _node_names(net)
        return gpd.GeoDataFrame({"name": names}, geometry=nodes.values, crs="EPSG:4326", index=ids)
    if source == "points":
        xy = np.asarray(points if points is not None else [], dtype=float).reshape(-1, 2)
        ids = [f"point-{i + 1}" for i in range(len(xy))]
        return gpd.GeoDataFrame(
            {"name": ids}, geometry=shapely.points(xy), crs="EPSG:4326", index=ids
        )
    raise QueryError(
        f"未知候选来源 '{source}' / candidates must be one of {', '.join(CANDIDATE_SOURCES)}"
    )


def _project_names(study: Study, frame: gpd.GeoDataFrame) -> list[str]:
    """A renovation project's name, with its compound's when the name does not hold it."""
    compound = frame.get("residential_area_id", pd.Series(None, index=frame.index)).map(
        study.layers["residential_areas"].get("name", {}))  # fmt: skip
    return [f"{n}（{c}）" if isinstance(c, str) and c and c not in str(n) else str(n)
            for n, c in zip(frame["name"], compound, strict=True)]  # fmt: skip


def _node_names(net: Any) -> list[str]:
    """A street node's name: "A · B 路口 / junction", its one street, or the nearest one."""
    names = np.array([None] * net.n_edges if net.name is None else net.name, dtype=object)
    named = np.flatnonzero([isinstance(n, str) and n.strip() != "" for n in names])
    at: list[set[str]] = [set() for _ in range(net.n_nodes)]
    for e in named:
        at[net.edge_u[e]].add(names[e])
        at[net.edge_v[e]].add(names[e])
    tree = shapely.STRtree(net.edge_geometry[named] if len(named) else [shapely.Point()])
    near = tree.query_nearest(shapely.points(net.node_x, net.node_y), all_matches=False)[1]
    return [" · ".join(sorted(s)[:3]) + " 路口 / junction" if len(s) > 1
            else f"{min(s)}（节点 {i}）/ on {min(s)}" if s
            else f"近 {names[named[near[i]]]} / near {names[named[near[i]]]}" if len(named)
            else f"路网节点 {i} / street node {i}" for i, s in enumerate(at)]  # fmt: skip


def coverage_sets(
    study: Study,
    candidates: gpd.GeoDataFrame,
    kind: str,
    limit_m: float,
    origins: Origins | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(area position, candidate position)`` where the candidate would be within
    ``limit_m`` walking metres of the area (from its gates or streets, as in coverage).

    Parameters
    ----------
    study : Study
    candidates : geopandas.GeoDataFrame
        Candidate sites (WGS-84), tried in place of the ``kind`` layer.
    kind : str
        The facility type the candidates would be.
    limit_m : float
        Walking metres within which a candidate covers an area.
    origins : Origins, optional
        The areas' origins when already computed for the study with the candidates as
        facilities (:func:`area_origins` of it); by default computed here.

    Returns
    -------
    area, candidate : numpy.ndarray
        Positions in the study's ``residential_areas`` and in ``candidates``, one pair
        per (area, candidate) once; a candidate inside an area always covers it. At most
        :data:`MAX_CANDIDATES_PER_AREA` candidates are found per origin by walking.
    """
    layers = dict(study.layers)
    layers[kind] = candidates
    trial = study.with_layers(layers)
    areas = study.layers["residential_areas"]
    owner, x, y, snap = origins if origins is not None else area_origins(trial, areas, kind)
    k = min(MAX_CANDIDATES_PER_AREA, max(len(candidates), 1))
    _, label, _ = trial.walk_metres(x, y, kind, k, cutoff=limit_m, origin_snap=snap)
    pairs = np.column_stack([np.repeat(owner, k), label.ravel()])
    # a candidate inside a compound covers it whatever the streets say
    metric = areas.geometry.to_crs(trial.crs).to_numpy()
    cx, cy = trial.facility_xy(kind)
    inside_area, inside_candidate = shapely.STRtree(shapely.points(cx, cy)).query(
        metric, predicate="intersects")  # fmt: skip
    pairs = np.vstack([pairs, np.column_stack([inside_area, inside_candidate])])
    pairs = np.unique(pairs[pairs[:, 1] >= 0], axis=0)
    return pairs[:, 0], pairs[:, 1]


def greedy_sites(
    weights: np.ndarray, area: np.ndarray, candidate: np.ndarray, n_candidates: int, k: int
) -> list[int]:
    """Greedy maximal covering: repeatedly take the candidate covering the most weight not
    yet covered. Guaranteed within 1 − 1/e of the optimum (Nemhauser et al., 1978).

    Parameters
    ----------
    weights : numpy.ndarray
        Weight (people) of each area; 0 for areas that need nothing.
    area, candidate : numpy.ndarray
        Pairs from :func:`coverage_sets`: candidate ``candidate[i]`` covers area ``area[i]``.
    n_candidates : int
    k : int
        At most this many sites; fewer when no candidate adds any weight.

    Returns
    -------
    list of int
        Candidate positions in the order chosen (ties go to the lower position).

    Examples
    --------
    Candidate 0 covers areas 0 and 1, candidate 1 areas 1 and 2, candidate 2 none:

    >>> weights = np.array([10.0, 5.0, 1.0])
    >>> area, candidate = np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1])
    >>> greedy_sites(weights, area, candidate, 3, k=3)
    [0, 1]
    """
    covered = np.zeros(len(weights), dtype=bool)
    chosen: list[int] = []
    for _ in range(min(k, n_candidates)):
        gain = np.bincount(candidate, weights=np.where(covered[area], 0.0, weights[area]),
                           minlength=n_candidates)  # fmt: skip
        gain[chosen] = -1.0
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        covered[area[candidate == best]] = True
    return chosen


def optimal_sites(
    weights: np.ndarray,
    area: np.ndarray,
    candidate: np.ndarray,
    n_candidates: int,
    k: int,
    time_limit_s: int = 60,
) -> list[int]:
    """The exact maximal covering solution: an integer program solved with CBC (PuLP); a
    QueryError when CBC is not installed (``pip install 'pulp[cbc]'``).

    Parameters
    ----------
    weights, area, candidate, n_candidates, k
        As in :func:`greedy_sites`.
    time_limit_s : int
        CBC's time limit, seconds; at the limit the best solution found is returned.

    Returns
    -------
    list of int
        The chosen candidate positions, ascending (at most ``k``).

    Examples
    --------
    >>> weights = np.array([10.0, 5.0, 1.0])
    >>> optimal_sites(weights, np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1]), 3, k=2)
    [0, 1]
    """
    import pulp

    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [problem.add_variable(f"x{c}", cat="Binary") for c in range(n_candidates)]
    reachable = np.unique(area)
    y = {a: problem.add_variable(f"y{a}", lowBound=0, upBound=1) for a in reachable}
    problem += pulp.lpSum(float(weights[a]) * y[a] for a in reachable)
    problem += pulp.lpSum(x) <= k
    for a in reachable:
        problem += y[a] <= pulp.lpSum(x[c] for c in candidate[area == a])
    problem.solve(pulp.COIN_CMD(msg=False, path=_cbc_path(), timeLimit=time_limit_s))
    return [c for c in range(n_candidates) if (x[c].value() or 0) > 0.5]


def _cbc_path() -> str:
    """The CBC binary that ``pulp[cbc]`` installs (package cbcbox)."""
    try:
        import cbcbox
    except ImportError as exc:
        raise QueryError(
            "精确求解需要 CBC / the exact method needs CBC: pip install 'pulp[cbc]'"
        ) from exc
    path = cbcbox.cbc_bin_path
    return str(path() if callable(path) else path)


@dataclass
class Recommendation:
    """Chosen sites in order, what each newly covers, and the totals."""

    sites: gpd.GeoDataFrame
    method: str
    covered_population: int
    covered_elderly: int


def recommend_sites(
    study: Study,
    kind: str,
    k: int = 3,
    candidates: str = "renovation_projects",
    points: Any = None,
    method: str = "greedy",
    elderly_weight: float = 1.0,
    params: WalkParams | None = None,
    *,
    minutes: Thresholds = None,
    profile: str | Profile | None = None,
) -> Recommendation:
    """Choose ``k`` new sites for ``kind`` that newly cover the most people.

    Only areas not covered today count; ``elderly_weight`` > 1 counts residents 60+ more.

    Parameters
    ----------
    study : Study
    kind : str
        The facility type to add.
    k : int
        How many sites.
    candidates : str
        One of :data:`CANDIDATE_SOURCES`; ``points``: the positions (WGS-84) for "points".
    method : {"greedy", "exact"}
    elderly_weight : float
    params : WalkParams, optional
        Walker and thresholds (``minutes`` and ``profile`` are shorthands).

    Returns
    -------
    Recommendation

    Examples
    --------
    >>> rec = recommend_sites(Study.load(), "charging_points", k=3)
    >>> len(rec.sites), rec.covered_population > 0
    (3, True)
    """
    if kind not in FACILITY_LAYERS:
        raise QueryError(
            f"'{kind}' 不是设施类型 / type must be one of {', '.join(FACILITY_LAYERS)}"
        )
    if method not in ("greedy", "exact"):
        raise QueryError("method 为 greedy 或 exact / method must be greedy or exact")
    if k < 1:
        raise QueryError("k 至少为 1 / k must be at least 1")
    params = WalkParams.of(params, minutes=minutes, profile=profile)
    limit_m = params.limit_m(kind)
    areas = study.layers["residential_areas"]
    today = analyze_areas(study, params, types=(kind,))
    pool = candidate_sites(study, kind, candidates, points)
    population = pd.to_numeric(areas["population"], errors="coerce").fillna(0).to_numpy()
    elderly = pd.to_numeric(areas["elderly"], errors="coerce").fillna(0).to_numpy()
    weights = np.where(today[f"{kind}_covered"].to_numpy(bool), 0.0,
                       population + (elderly_weight - 1.0) * elderly)  # fmt: skip
    area, candidate = coverage_sets(study, pool, kind, limit_m) if len(pool) else (
        np.empty(0, int), np.empty(0, int))  # fmt: skip
    solve = greedy_sites if method == "greedy" else optimal_sites
    chosen = solve(weights, area, candidate, len(pool), k) if len(pool) else []
    if method == "exact":  # list the optimal set in the order of what each adds
        among = np.isin(candidate, chosen)
        chosen = greedy_sites(weights, area[among], candidate[among], len(pool), len(chosen))
    covered = np.zeros(len(areas), dtype=bool)
    rows = []
    for rank, c in enumerate(chosen, 1):
        new = np.unique(area[candidate == c])
        new = new[~covered[new] & (weights[new] > 0)]
        covered[new] = True
        rows.append({"rank": rank, "candidate_id": pool.index[c], "name": pool["name"].iloc[c],
                     "type": kind, "areas_newly_covered": len(new),
                     "population_newly_covered": int(population[new].sum()),
                     "elderly_newly_covered": int(elderly[new].sum()),
                     "area_ids": [str(a) for a in areas.index[new]]})  # fmt: skip
    sites = gpd.GeoDataFrame(rows, geometry=list(pool.geometry.iloc[chosen]), crs="EPSG:4326")
    people, aged = int(population[covered].sum()), int(elderly[covered].sum())
    return Recommendation(sites, method, people, aged)


def greedy_vs_optimal(
    weights: np.ndarray, area: np.ndarray, candidate: np.ndarray, n_candidates: int, k: int
) -> dict[str, float]:
    """Covered weight of the greedy and the exact choice, and their ratio.

    Parameters
    ----------
    weights, area, candidate, n_candidates, k
        As in :func:`greedy_sites`; ``k`` sites for each method.

    Returns
    -------
    dict
        ``greedy`` and ``optimal`` covered weight, and ``ratio`` (1.0 when nothing can be
        covered).
    """
    value = {}
    for name, solve in (("greedy", greedy_sites), ("optimal", optimal_sites)):
        chosen = solve(weights, area, candidate, n_candidates, k)
        hit = np.unique(area[np.isin(candidate, chosen)])
        value[name] = float(weights[hit].sum())
    value["ratio"] = value["greedy"] / value["optimal"] if value["optimal"] else 1.0
    return value
