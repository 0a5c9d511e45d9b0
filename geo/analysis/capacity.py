"""Capacity: each facility's supply shared among the people who can walk to it (E2SFCA).

Coverage says whether a compound *reaches* a facility; capacity says how much of it is left
for its residents once everyone else who reaches it takes a share. The method is the
enhanced two-step floating catchment area (E2SFCA) of Luo, W. and Qi, Y. (2009), "An
enhanced two-step floating catchment area (E2SFCA) method for measuring spatial
accessibility to primary care physicians", *Health & Place* 15(4): 1100–1107,
doi:10.1016/j.healthplace.2009.06.002:

1. each facility ``j`` divides its supply ``S_j`` by the demand within its catchment,
   weighted by distance decay: ``R_j = S_j / Σ_k W(d_kj) · P_k``;
2. each compound ``i`` adds up the ratios of the facilities it reaches, weighted the same
   way: ``A_i = Σ_j W(d_ij) · R_j``.

Distances are walks along the network from the compounds' gates (the origins coverage uses,
:func:`geo.analysis.coverage.area_origins`) to each facility, one bounded search per
facility; a facility inside a compound is 0 m from it. The catchment is the type's coverage
threshold for the walker (15 minutes for clinics and centres, 5 for chargers), split into
three equal bands — for 15 minutes GB 50180-2018's 5/10/15-minute life-circle levels. The
weight of a band is the Gaussian ``G(t) = (exp(−½(t/T)²) − exp(−½)) / (1 − exp(−½))``
(``T`` the catchment) at the band's middle; ``decay="gaussian"`` applies ``G`` to every
walk itself. A weight scale cancels out of ``A_i``, so only the shape matters.

What is supplied and who asks for it (:data:`SPECS`): clinics' licensed ``beds`` (of
community health centres and hospital branches; a hospital's beds serve the district)
for the residents aged 60+; neighbour centres' ``floor_area_m2`` for all residents;
e-bike chargers' ``ports`` (operating, or status unknown) for households. A facility
without its supply field is left out of both steps and its ``reason`` says so — nothing is
guessed. ``T_access_<walker>`` is in the units people read (床位 / 千名老人, m² / 千人,
充电端口 / 百户); each facility's ``load_<walker>`` is people per unit of supply
(``1 / R_j``).

Judging the numbers: no per-capita provision for these three could be verified from a
primary text (GB 50180-2018, the Shanghai 15-minute life-circle guideline), so
:data:`STANDARDS` holds none and says so. A planner may pass one (``standards=``), and a
compound's ``T_shortfall`` is then what it lacks of it, in supply units. Without one the
flags are relative to the study itself: a compound is *under-served* when its ratio is
below half the study's (supply someone reaches ÷ all demand), a facility *overloaded* when
its load is above 1.5 times the study's. A compound within the catchment of a facility
whose supply is not recorded is never called under-served (``T_supply_unknown``): its
ratio is only a lower bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo.analysis.coverage import Origins, area_origins
from geo.analysis.params import PROFILES, Profile, Thresholds, WalkParams
from geo.analysis.study import Study
from geo.errors import QueryError
from geo.network.routing import BoundedSearch, seeds_from_snap
from geo.schema import FACILITY_LAYERS

__all__ = [
    "BANDS",
    "DECAYS",
    "OVERLOAD_FACTOR",
    "SPECS",
    "STANDARDS",
    "UNDER_SERVED_FACTOR",
    "Capacity",
    "SupplySpec",
    "capacity",
    "decay_weights",
    "e2sfca",
    "under_served",
    "walk_pairs",
]

#: The catchment in three equal bands (fractions of it): GB 50180's 5/10/15 minutes of 15.
BANDS = (1 / 3, 2 / 3, 1.0)
DECAYS = ("step", "gaussian")
#: A facility whose load is this many times the study's is marked overloaded.
OVERLOAD_FACTOR = 1.5
#: A compound whose ratio is below this share of the study's is under-served.
UNDER_SERVED_FACTOR = 0.5


@dataclass(frozen=True)
class SupplySpec:
    """What a facility type supplies, who asks for it, and the units a ratio is read in."""

    kind: str
    supply: str  # the facility layer's field
    demand: str  # the residential layer's field
    per: float  # the ratio is shown per this many of the demand
    unit: tuple[str, str]  # the ratio's unit (Chinese, English)
    load: tuple[str, str]  # a facility's load: people per unit of supply
    counted: str  # which facilities count, in words (the docs and the reasons)


SPECS: dict[str, SupplySpec] = {
    "clinics": SupplySpec(
        "clinics", "beds", "elderly", 1000.0, ("床位 / 千名老人", "beds per 1,000 aged 60+"),
        ("老人 / 床", "aged 60+ per bed"),
        "社区卫生服务中心与医院分院的核定床位 / licensed beds of community health centres "
        "and hospital branches",
    ),
    "neighbor_centers": SupplySpec(
        "neighbor_centers", "floor_area_m2", "population", 1000.0,
        ("睦邻中心面积 m² / 千人", "centre floor area m² per 1,000 residents"),
        ("居民 / m²", "residents per m²"),
        "填有建筑面积的睦邻中心与睦邻点 / centres and points with a floor area",
    ),
    "charging_points": SupplySpec(
        "charging_points", "ports", "households", 100.0,
        ("充电端口 / 百户", "charging ports per 100 households"),
        ("户 / 端口", "households per port"),
        "运营中（或未填状态）的电动自行车充电口 / e-bike ports operating or of unknown status",
    ),
}  # fmt: skip

#: Per-capita provisions to judge the ratios by, in the ratio's units. None: no value could
#: be verified from a primary text (GB 50180-2018 and the Shanghai 15-minute life-circle
#: guideline were searched for 社区卫生服务中心床位, 睦邻中心建筑面积 per 千人 and e-bike ports per
#: household; none was found in a text that could be checked), so nothing is compared.
STANDARDS: dict[str, float | None] = {kind: None for kind in SPECS}
NO_STANDARD = "无经核实的人均配置标准 / no verified per-capita standard"

_BED_LEVELS = ("community_health_centre", "hospital_branch")


@dataclass
class Capacity:
    """The E2SFCA of every facility type: per compound and per facility.

    Attributes
    ----------
    areas : pandas.DataFrame
        Indexed like the residential areas. Per type ``T``: ``T_access_<walker>`` (the
        ratio in :data:`SPECS` units) for the standard and elderly walkers and the
        analysis's own, ``T_access`` (the analysis's walker's) and ``T_access_share`` (that
        ÷ the study's ratio: 1 is the study's average; NaN where nothing is supplied, or
        where ``T_supply_unknown``: a facility within the catchment has no supply recorded,
        so the ratio is only a lower bound); ``T_under_served`` (for the analysis's walker; False where the
        type has no supply at all) and, when a standard is given, ``T_shortfall``
        (supply units missing).
    facilities : pandas.DataFrame
        One row per facility of every type: ``id``, ``type``, ``name``, ``supply``,
        ``demand_<walker>`` (weighted demand in reach), ``load_<walker>``, ``overloaded``,
        ``reason`` (why it has no load: no supply recorded, not counted, or nobody in reach).
    summary : pandas.DataFrame
        One row per type: ``supply`` (all), ``supply_reached`` (of facilities some compound
        reaches), ``demand``, ``study_ratio`` (supply reached ÷ demand, in the ratio's
        units), compounds under-served and with a supply unknown, facilities overloaded
        and with supply, and the standard (or why there is none).
    """

    areas: pd.DataFrame
    facilities: pd.DataFrame
    summary: pd.DataFrame


def decay_weights(metres: np.ndarray, limit_m: float, decay: str = "step") -> np.ndarray:
    """The distance-decay weight of walks within a catchment of ``limit_m`` metres.

    Parameters
    ----------
    metres : numpy.ndarray
        Walking metres.
    limit_m : float
        The catchment; walks beyond it weigh 0.
    decay : {"step", "gaussian"}
        ``step``: the Gaussian at the middle of the band (:data:`BANDS`) a walk falls in;
        ``gaussian``: the Gaussian of the walk itself.

    Returns
    -------
    numpy.ndarray
        Weights in [0, 1], shaped like ``metres``.

    Examples
    --------
    >>> decay_weights(np.array([0.0, 400.0, 900.0, 1000.0, 1001.0]), 1000.0).round(4).tolist()
    [0.9649, 0.7014, 0.2544, 0.2544, 0.0]
    """
    if decay not in DECAYS:
        raise QueryError(f"未知衰减 / unknown decay '{decay}'; 可选 / choose from: step, gaussian")
    share = np.asarray(metres, dtype=float) / limit_m
    if decay == "step":
        edges = np.asarray(BANDS)
        band = np.minimum(np.searchsorted(edges, share - 1e-9), len(edges) - 1)
        lower = np.concatenate([[0.0], edges[:-1]])
        share = np.where(share <= 1.0 + 1e-9, (lower[band] + edges[band]) / 2, np.inf)
    floor = np.exp(-0.5)
    weight = (np.exp(-0.5 * np.minimum(share, 1.0) ** 2) - floor) / (1 - floor)
    return np.where(share <= 1.0 + 1e-9, weight, 0.0)


def e2sfca(
    area: np.ndarray,
    facility: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The two steps over (area, facility, weight) pairs: ratios per area, demand per facility.

    Parameters
    ----------
    area, facility : numpy.ndarray
        Positions of each pair's area (in ``demand``) and facility (in ``supply``).
    weight : numpy.ndarray
        Each pair's decay weight (0 beyond the catchment).
    demand : numpy.ndarray
        People (or households) per area.
    supply : numpy.ndarray
        Supply per facility; NaN for a facility left out.

    Returns
    -------
    access : numpy.ndarray
        Supply per person of every area, ``Σ_j W_ij S_j / D_j`` (0 where none reached).
    weighted_demand : numpy.ndarray
        ``D_j = Σ_k W_kj P_k`` per facility (its load is ``D_j / S_j``).

    Examples
    --------
    Three compounds of 100, 200 and 300 people, two clinics of 10 and 20 beds; the first
    reaches clinic 0, the second both, the third clinic 1 (weights 1):

    >>> access, wanted = e2sfca(np.array([0, 1, 1, 2]), np.array([0, 0, 1, 1]),
    ...                         np.ones(4), np.array([100.0, 200, 300]), np.array([10.0, 20]))
    >>> wanted.tolist(), (access * 1000).round(2).tolist()
    ([300.0, 500.0], [33.33, 73.33, 40.0])
    """
    supply = np.asarray(supply, dtype=float)
    usable = np.isfinite(supply[facility]) & (weight > 0)
    area, facility, weight = area[usable], facility[usable], weight[usable]
    wanted = np.bincount(facility, weight * demand[area], minlength=len(supply))
    ratio = np.divide(supply, wanted, out=np.zeros(len(supply)), where=wanted > 0)
    access = np.bincount(area, weight * ratio[facility], minlength=len(demand))
    return access, wanted


def walk_pairs(study: Study, kind: str, cutoff_m: float) -> pd.DataFrame:
    """Every (compound, facility) pair within ``cutoff_m`` of a walk, with its metres.

    One search bounded by ``cutoff_m`` from each facility's point on the network, read at
    every compound's origins (its gates, or the streets it starts from, each with its
    connector); a compound's walk is its best origin's. A facility inside a compound is 0 m
    from it. In straight-line mode: straight metres × ``study.circuity``.

    Parameters
    ----------
    study : Study
    kind : str
        A facility type.
    cutoff_m : float
        Metres; farther pairs are left out.

    Returns
    -------
    pandas.DataFrame
        ``area`` and ``facility`` (positions in their layers) and ``walk_m``, one row per
        pair, sorted by area then facility.

    Examples
    --------
    The gated compound's gate is 30 m off street A at 150 m, clinic c1 20 m off A at 400 m:

    >>> from geo.testing import drawn_study
    >>> walk_pairs(drawn_study(), "clinics", 1000.0).values.tolist()
    [[0.0, 0.0, 300.0]]
    """
    areas = study.layers["residential_areas"]
    frame = study.facilities(kind)
    origins = area_origins(study, areas, kind)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if len(frame) and len(origins.owner):
        fx, fy = study.facility_xy(kind)
        if study.network is None:
            tree = cKDTree(np.column_stack([origins.x, origins.y]))
            near = tree.sparse_distance_matrix(
                cKDTree(np.column_stack([fx, fy])), cutoff_m / study.circuity, output_type="ndarray"
            )
            found.append((origins.owner[near["i"]], near["j"], near["v"] * study.circuity))
        else:
            found += _network_walks(study, kind, origins, cutoff_m)
        metric = areas.geometry.to_crs(study.crs).to_numpy()
        inside_area, inside_fac = shapely.STRtree(shapely.points(fx, fy)).query(
            metric, predicate="intersects"
        )
        found.append((inside_area, inside_fac, np.zeros(len(inside_area))))
    if not found:
        return pd.DataFrame({"area": np.empty(0, np.int64), "facility": np.empty(0, np.int64),
                             "walk_m": np.empty(0)})  # fmt: skip
    area, facility, metres = (np.concatenate(column) for column in zip(*found, strict=True))
    # a pair's walk is its best origin's: sorted by area, facility, then metres, keep the first
    order = np.lexsort((metres, facility, area))
    area, facility, metres = area[order], facility[order], metres[order]
    first = np.r_[True, (area[1:] != area[:-1]) | (facility[1:] != facility[:-1])][: len(area)]
    return pd.DataFrame({"area": area[first].astype(np.int64),
                         "facility": facility[first].astype(np.int64),
                         "walk_m": np.round(metres[first], 1)})  # fmt: skip


def _network_walks(
    study: Study, kind: str, origins: Origins, cutoff_m: float
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(area, facility, metres) of every origin within ``cutoff_m`` of each facility."""
    net, o = study.network, origins.snap
    if net is None or o is None:
        return []
    snap = study.facility_snap(kind)
    ok = np.flatnonzero(o.ok)
    owner = origins.owner[ok]
    edge, offset, connector = o.edge[ok], o.offset[ok], o.distance[ok]
    seeds = seeds_from_snap(net, snap, np.arange(len(snap)))
    # which origins sit on an edge at each node, and on each edge: a walk looks only at those
    ends = np.concatenate([net.edge_u[edge], net.edge_v[edge]])
    at_node = np.tile(np.arange(len(edge)), 2)[np.argsort(ends, kind="stable")]
    node_ptr = np.searchsorted(np.sort(ends), np.arange(net.n_nodes + 1))
    on_edge = np.argsort(edge, kind="stable")
    edge_sorted = edge[on_edge]
    metres_at = np.full(net.n_nodes, np.inf)  # a walk's metres, reset after each facility
    search = BoundedSearch(net.indptr, net.indices, net.weights)
    found = []
    for j in np.flatnonzero(snap.ok):
        mine = seeds[2] == j
        nodes, walked = search.walk(seeds[0][mine], seeds[1][mine], cutoff_m)
        counts = node_ptr[nodes + 1] - node_ptr[nodes]
        starts = np.repeat(node_ptr[nodes] - np.cumsum(counts) + counts, counts)
        near = at_node[starts + np.arange(counts.sum())]
        lo, hi = np.searchsorted(edge_sorted, [snap.edge[j], snap.edge[j] + 1])
        near = np.unique(np.concatenate([near, on_edge[lo:hi]]))
        metres_at[nodes] = walked
        e, off = edge[near], offset[near]
        via_u = metres_at[net.edge_u[e]] + off
        via_v = metres_at[net.edge_v[e]] + net.edge_length[e] - off
        metres_at[nodes] = np.inf
        metres = np.minimum(via_u, via_v)
        same = e == snap.edge[j]  # on the facility's own edge: straight along it
        along = np.abs(off - snap.offset[j]) + float(snap.distance[j])
        metres = np.where(same, np.minimum(metres, along), metres) + connector[near]
        keep = metres <= cutoff_m + 1e-9
        found.append((owner[near[keep]], np.full(int(keep.sum()), j), metres[keep]))
    return found


def _supply(kind: str, frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Supply per facility (NaN where left out) and why a facility is left out."""
    spec = SPECS[kind]
    count = len(frame)
    raw = frame[spec.supply] if spec.supply in frame else pd.Series([None] * count)
    supply = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    zh = {"beds": "床位", "floor_area_m2": "建筑面积", "ports": "充电口数"}[spec.supply]
    reason = np.full(count, f"未填{zh}或为 0 / no {spec.supply} recorded, or 0", dtype=object)
    reason[np.isfinite(supply) & (supply > 0)] = None
    counted = np.ones(count, dtype=bool)
    why = ""
    if kind == "clinics" and "level" in frame:
        counted = frame["level"].isin(_BED_LEVELS).to_numpy()
        why = "此级别床位不计入社区 / beds of this level are not the community's"
    elif kind == "charging_points":
        status = frame["status"] if "status" in frame else pd.Series([None] * count)
        vehicle = frame["vehicle"] if "vehicle" in frame else pd.Series([None] * count)
        counted = (status.isna() | (status == "operating")).to_numpy() & (
            vehicle.isna() | (vehicle == "ebike")
        ).to_numpy()
        why = "未运营或非电动自行车 / not operating, or not for e-bikes"
    reason = np.where(counted, reason, np.asarray(why, dtype=object))
    supply = np.where(pd.isna(reason), supply, np.nan)
    return supply, reason


def _walkers(params: WalkParams) -> dict[str, Profile]:
    return {**PROFILES, params.profile.name: params.profile}


def capacity(
    study: Study,
    params: WalkParams | None = None,
    *,
    decay: str = "step",
    standards: Mapping[str, float | None] | None = None,
    types: tuple[str, ...] = FACILITY_LAYERS,
    profile: str | Profile | None = None,
    minutes: Thresholds = None,
) -> Capacity:
    """E2SFCA of every facility type, for the standard and elderly walkers (and ``params``').

    Parameters
    ----------
    study : Study
    params : WalkParams, optional
        The walker whose flags are set, and the thresholds that are the catchments;
        ``profile`` and ``minutes`` are shorthands for a notebook.
    decay : {"step", "gaussian"}
        See :func:`decay_weights`.
    standards : mapping of str to float, optional
        A provision per type in the ratio's units (e.g. ``{"clinics": 5}`` beds per 1,000
        aged 60+) to judge by; default :data:`STANDARDS` (none verified).
    types : tuple of str
        Facility types.
    profile : str or Profile, optional
        Shorthand: the walker.
    minutes : str or mapping, optional
        Shorthand: thresholds per type.

    Returns
    -------
    Capacity

    Examples
    --------
    >>> result = capacity(Study.load())
    >>> round(float(result.summary.set_index("type").at["clinics", "supply"]))
    755
    """
    params = WalkParams.of(params, profile=profile, minutes=minutes)
    given = {**STANDARDS, **(standards or {})}
    areas = study.layers["residential_areas"]
    out = pd.DataFrame(index=areas.index)
    facility_rows, summary_rows = [], []
    walker = params.profile.name
    for kind in types:
        spec, frame = SPECS[kind], study.facilities(kind)
        demand = pd.to_numeric(areas.get(spec.demand), errors="coerce")
        demand = (
            demand.fillna(0).to_numpy(dtype=float) if demand is not None else np.zeros(len(areas))
        )
        supply, reason = _supply(kind, frame)
        limits = {
            name: replace(params, profile=p).limit_m(kind) for name, p in _walkers(params).items()
        }
        reach = max(limits.values())
        key = f"walk_pairs:{kind}:{reach:.3f}"  # the same for every walker and decay
        if key not in study.memo:
            study.memo[key] = walk_pairs(study, kind, reach)
        pairs = study.memo[key]
        table = pd.DataFrame({"id": frame.index.astype(str), "type": kind,
                              "name": frame["name"].to_numpy() if len(frame) else [],
                              "supply": supply})  # fmt: skip
        # the supply someone can walk to, shared by everyone: the demand-weighted mean of
        # the compounds' ratios (Σ A_i P_i = Σ S_j over the facilities reached)
        reached = np.zeros(len(frame), dtype=bool)
        reached[pairs["facility"].to_numpy()] = True
        total_supply, total_demand = float(np.nansum(supply)), float(demand.sum())
        supply_reached = float(np.nansum(np.where(reached, supply, np.nan)))
        study_ratio = supply_reached / total_demand if total_demand else 0.0
        for name, limit in limits.items():
            weight = decay_weights(pairs["walk_m"].to_numpy(), limit, decay)
            access, wanted = e2sfca(pairs["area"].to_numpy(), pairs["facility"].to_numpy(),
                                    weight, demand, supply)  # fmt: skip
            out[f"{kind}_access_{name}"] = np.round(access * spec.per, 3)
            load = np.divide(wanted, supply, out=np.full(len(supply), np.nan),
                             where=np.isfinite(supply) & (wanted > 0))  # fmt: skip
            table[f"demand_{name}"] = np.round(wanted, 1)
            table[f"load_{name}"] = np.round(load, 2)
            if name == walker:
                mine_access, mine_load, mine_weight = access, load, weight
        # a compound that walks to a facility whose supply is not recorded: its ratio is a
        # lower bound, so it is not called under-served
        missing = pd.Series(reason).astype(str).str.startswith("未填").to_numpy()
        near = pairs["area"].to_numpy()[(mine_weight > 0) & missing[pairs["facility"].to_numpy()]]
        unknown = np.zeros(len(areas), dtype=bool)
        unknown[near] = True
        out[f"{kind}_access"] = np.round(mine_access * spec.per, 3)
        share = mine_access / study_ratio if study_ratio else np.full(len(areas), np.nan)
        out[f"{kind}_access_share"] = np.where(unknown, np.nan, np.round(share, 3))
        out[f"{kind}_supply_unknown"] = unknown
        standard = given.get(kind)
        if standard is not None:
            per_person = standard / spec.per
            out[f"{kind}_shortfall"] = np.round(np.maximum(per_person - mine_access, 0) * demand, 2)
            bar = per_person
            load_bar = 1 / per_person
        else:
            bar = UNDER_SERVED_FACTOR * study_ratio
            load_bar = OVERLOAD_FACTOR / study_ratio if study_ratio else np.inf
        out[f"{kind}_under_served"] = (
            (mine_access < bar) & (total_supply > 0) & (demand > 0) & ~unknown
        )
        overloaded = np.nan_to_num(mine_load, nan=0.0) > load_bar
        table["overloaded"] = overloaded
        table["reason"] = np.where(pd.isna(reason) & ~np.isfinite(mine_load),
                                   "步行范围内无人 / nobody within the catchment", reason)  # fmt: skip
        facility_rows.append(table)
        summary_rows.append({
            "type": kind, "supply_field": spec.supply, "demand_field": spec.demand,
            "unit_zh": spec.unit[0], "unit_en": spec.unit[1],
            "supply": round(total_supply, 1), "supply_reached": round(supply_reached, 1),
            "demand": int(total_demand),
            "study_ratio": round(study_ratio * spec.per, 3),
            "facilities_with_supply": int(np.isfinite(supply).sum()),
            "facilities": len(frame), "facilities_overloaded": int(overloaded.sum()),
            "areas_under_served": int(out[f"{kind}_under_served"].sum()),
            "areas_supply_unknown": int(unknown.sum()),
            "standard": standard, "standard_note": NO_STANDARD if standard is None else
            "使用者给定 / given by the user", "profile": walker, "decay": decay,
        })  # fmt: skip
    facilities = pd.concat(facility_rows, ignore_index=True) if facility_rows else pd.DataFrame()
    out.attrs.update(profile=walker, decay=decay)
    return Capacity(out, facilities, pd.DataFrame(summary_rows))


def under_served(
    areas: gpd.GeoDataFrame,
    coverage: pd.DataFrame,
    result: Capacity,
    types: tuple[str, ...] = FACILITY_LAYERS,
) -> pd.DataFrame:
    """Compounds that are covered (a facility within the threshold) but under-served.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Residential areas with ``name``, ``subdistrict`` and the demand fields.
    coverage : pandas.DataFrame
        :func:`geo.analysis.coverage.analyze_areas` of them.
    result : Capacity
        :func:`capacity` of the same study and walker.
    types : tuple of str
        Facility types.

    Returns
    -------
    pandas.DataFrame
        One row per compound and type: ``id``, ``name``, ``subdistrict``, ``type``,
        ``demand`` (the type's demand field's count), ``walk_m`` (nearest), ``access``
        (the ratio for the walker, :data:`SPECS` units) and ``unit``; lowest access first.
    """
    walker = result.areas.attrs.get("profile", "standard")
    rows = []
    for kind in types:
        column = f"{kind}_under_served"
        if column not in result.areas:
            continue
        flag = result.areas.loc[coverage.index, column].astype(bool)
        hit = flag & coverage[f"{kind}_covered"].astype(bool)
        index = hit[hit].index
        spec = SPECS[kind]
        rows.append(pd.DataFrame({
            "id": index.astype(str), "name": areas.loc[index, "name"].to_numpy(),
            "subdistrict": areas.loc[index, "subdistrict"].to_numpy(), "type": kind,
            "demand": pd.to_numeric(areas.loc[index, spec.demand], errors="coerce").to_numpy(),
            "walk_m": coverage.loc[index, f"{kind}_walk_m"].to_numpy(),
            "access": result.areas.loc[index, f"{kind}_access_{walker}"].to_numpy(),
            "unit": f"{spec.unit[0]} / {spec.unit[1]}",
        }))  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=["id", "name", "subdistrict", "type", "demand", "walk_m",
                                     "access", "unit"])  # fmt: skip
    table = pd.concat(rows, ignore_index=True)
    return table.sort_values(["type", "access", "name"], kind="stable").reset_index(drop=True)
