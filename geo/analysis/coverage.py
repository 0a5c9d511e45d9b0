"""15-minute coverage of residential areas: who reaches what, on foot, in how many minutes.

Where a walk starts: a gated compound is left through its gates, so when an area has
``entrances`` every gate is an origin; otherwise every street touching or crossing the
compound (within 15 m of its outline) is an origin, at the point of that street nearest to
the compound's centre; a compound no street touches starts from its centre, attached to the
nearest street within the snapping limit. An area's walk is its best origin's. A facility
inside an area is 0 m away.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.params import PROFILES, Profile, Thresholds, WalkParams
from geo.analysis.study import NO_PATH, Study
from geo.crs import geometries_from_wgs84
from geo.errors import NotFoundError
from geo.network.snapping import Snap
from geo.schema import FACILITY_LAYERS

__all__ = [
    "ALL_TYPES",
    "COUNT_CAP",
    "Origins",
    "analyze_areas",
    "area_origins",
    "gap_list",
    "gaps",
    "in_subdistrict",
    "summarize",
]

#: ``np.where(mask, values, _NONE)``: None where the mask is false, in an object array.
_NONE = np.array(None, dtype=object)

#: "Facilities within the threshold" counts up to this many (more is reported as this many).
COUNT_CAP = 25
#: A street within this distance of a compound's outline counts as touching it: street
#: centre lines are drawn a few metres from the walls that line them.
TOUCH_M = 15.0
ALL_TYPES = "all_types"


@dataclass(frozen=True)
class Origins:
    """Where the walks of every area start: one row per origin (a gate, a street, a centre).

    Attributes
    ----------
    owner : numpy.ndarray
        Position of the area each origin belongs to.
    x, y : numpy.ndarray
        Metric coordinates of each origin (the study's CRS).
    snap : Snap or None
        Where each origin joins the network; None in straight-line mode.
    """

    owner: np.ndarray
    x: np.ndarray
    y: np.ndarray
    snap: Snap | None

    def __iter__(self) -> Iterator[Any]:  # (owner, x, y, snap), as a tuple unpacks
        return iter((self.owner, self.x, self.y, self.snap))

    def reached(self, count: int) -> np.ndarray:
        """Which of ``count`` areas have an origin on the network (all in straight-line mode).

        Parameters
        ----------
        count : int
            Number of areas (the length of the frame the origins were made from).

        Returns
        -------
        numpy.ndarray
            Boolean, one per area: True where at least one of its origins was snapped to
            the network (every area with an origin when there is no network).
        """
        reached = np.zeros(count, dtype=bool)
        if self.snap is None:
            reached[self.owner] = True
        else:
            reached[self.owner[self.snap.ok]] = True
        return reached


def area_origins(study: Study, areas: gpd.GeoDataFrame, kind: str | None = None) -> Origins:
    """Origins of every area, snapped once: compute this once per analysis and pass it on.

    The snap of street origins is exact (they lie on the street, 0 m away); gates and
    centres are attached with :func:`geo.network.snapping.snap_points`. In straight-line
    mode the snap is None and origins are gates, else centres.

    Parameters
    ----------
    study : Study
    areas : geopandas.GeoDataFrame
        Residential areas (WGS-84), with ``entrances`` where gates are known.
    kind : str, optional
        The facility type the walks go to: a gate is not left on a fragment that holds
        none of them (:meth:`Study.pieces`); None: any type.

    Returns
    -------
    Origins
    """
    pieces = study.pieces(kind) if study.network is not None else ()
    if areas is study.layers["residential_areas"]:  # the study's own: snap its gates once
        key = f"area_origins:{pieces}"  # the same for every type unless fragments differ
        if key not in study.memo:
            study.memo[key] = _area_origins(study, areas, kind)
        return study.memo[key]
    return _area_origins(study, areas, kind)


def _area_origins(study: Study, areas: gpd.GeoDataFrame, kind: str | None) -> Origins:
    count = len(areas)
    gates = areas["entrances"] if "entrances" in areas.columns else pd.Series([None] * count)
    gate_owner: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    for position, value in enumerate(gates.tolist()):
        if isinstance(value, list) and value:
            for pair in value:
                gate_owner.append(position)
                lon.append(float(pair[0]))
                lat.append(float(pair[1]))
    owner = np.asarray(gate_owner, dtype=np.int64)
    gx, gy = (
        study.project(np.asarray(lon), np.asarray(lat))
        if len(owner)
        else (np.empty(0), np.empty(0))
    )
    metric = areas.geometry.to_crs(study.crs).to_numpy()
    centre = shapely.centroid(metric)
    no_gate = np.setdiff1d(np.arange(count), owner)
    if study.network is None:
        cx, cy = shapely.get_x(centre[no_gate]), shapely.get_y(centre[no_gate])
        return Origins(
            np.concatenate([owner, no_gate]),
            np.concatenate([gx, cx]),
            np.concatenate([gy, cy]),
            None,
        )

    net = study.network
    gate_snap = study.snap(gx, gy, kind=kind)
    # Streets touching or crossing compounds without gates.
    which, edges = net.edge_tree.query(metric[no_gate], predicate="dwithin", distance=TOUCH_M)
    street_owner = no_gate[which]
    lines = net.edge_geometry[edges]
    fraction = shapely.line_locate_point(lines, centre[street_owner], normalized=True)
    at = shapely.line_interpolate_point(lines, fraction, normalized=True)
    street_snap = Snap(
        edge=edges.astype(np.int64),
        offset=fraction * net.edge_length[edges],
        distance=np.zeros(len(edges)),
        ok=np.ones(len(edges), dtype=bool),
        reason=np.full(len(edges), None, dtype=object),
    )
    lonely = np.setdiff1d(no_gate, street_owner)
    cx, cy = shapely.get_x(centre[lonely]), shapely.get_y(centre[lonely])
    centre_snap = study.snap(cx, cy, kind=kind)
    snap = Snap(
        *(np.concatenate([getattr(s, f) for s in (gate_snap, street_snap, centre_snap)])
          for f in ("edge", "offset", "distance", "ok", "reason"))
    )  # fmt: skip
    return Origins(
        np.concatenate([owner, street_owner, lonely]),
        np.concatenate([gx, shapely.get_x(at), cx]),
        np.concatenate([gy, shapely.get_y(at), cy]),
        snap,
    )


def analyze_areas(
    study: Study,
    params: WalkParams | None = None,
    *,
    types: tuple[str, ...] = FACILITY_LAYERS,
    origins: Origins | None = None,
    minutes: Thresholds = None,
    profile: str | Profile | None = None,
    metres: Thresholds = None,
) -> pd.DataFrame:
    """Per residential area and facility type: the nearest facility and whether it is near.

    Parameters
    ----------
    study : Study
    params : WalkParams, optional
        Walker and thresholds; ``minutes``, ``profile`` and ``metres`` are shorthands
        for a notebook (parsed once, here).
    types : tuple of str
        Facility types to analyse.
    origins : Origins, optional
        The areas' origins for every type, when already computed (:func:`area_origins`);
        by default each type's own, snapped once per study.

    Returns
    -------
    pandas.DataFrame
        Columns for each type ``T``: ``T_id``, ``T_name`` (nearest facility), ``T_walk_m``,
        ``T_minutes_standard``, ``T_minutes_elderly`` (and ``T_minutes_custom`` for a
        :func:`~geo.analysis.params.custom_profile`), ``T_covered`` (within the threshold
        for the walker, or within ``metres[T]`` in distance mode), ``T_within``
        (facilities within the threshold, capped at :data:`COUNT_CAP`), ``T_method``
        (``network`` / ``straight_line``), ``T_reason`` (why an area could not be
        reached). Then ``all_covered``. Indexed like the areas, so
        ``areas.join(result)`` works.

    Examples
    --------
    >>> study = Study.load()
    >>> result = analyze_areas(study)
    >>> bool(result["clinics_covered"].mean() > 0.5), result.index.equals(study.layers["residential_areas"].index)
    (True, True)

    On the drawn neighbourhood (:mod:`geo.testing`) the walks can be checked by hand: the
    gated compound's gate is 30 m off street A at its 150 m mark, clinic c1 20 m off A at
    400 m, so 30 + 250 + 20 = 300 m, 4.5 minutes at 4 km/h and 6.0 at 3 km/h.

    >>> from geo.testing import drawn_study
    >>> drawn = analyze_areas(drawn_study())
    >>> drawn.loc["gated", ["clinics_walk_m", "clinics_minutes_standard", "clinics_minutes_elderly"]].tolist()
    [300.0, 4.5, 6.0]
    """
    params = WalkParams.of(params, minutes=minutes, profile=profile, metres=metres)
    walker = params.profile
    areas = study.layers["residential_areas"]
    out = pd.DataFrame(index=areas.index)
    metric = areas.geometry.to_crs(study.crs).to_numpy()
    covered_all = np.ones(len(areas), dtype=bool)
    for kind in types:
        chosen = origins if origins is not None else area_origins(study, areas, kind)
        owner, x, y, snap = chosen
        limit_m = params.limit_m(kind)
        frame = study.facilities(kind)
        nearest_m, nearest_label, reason = study.walk_metres(x, y, kind, 1, origin_snap=snap)
        _, within_label, _ = study.walk_metres(
            x, y, kind, min(COUNT_CAP, max(len(frame), 1)), cutoff=limit_m, origin_snap=snap
        )
        best_m, best_label, why = _best_per_area(
            len(areas), owner, nearest_m[:, 0], nearest_label[:, 0], reason
        )
        found_pairs = [
            np.column_stack([np.repeat(owner, within_label.shape[1]), within_label.ravel()])
        ]
        # Facilities inside a compound are 0 m from it.
        if len(frame):
            fx, fy = study.facility_xy(kind)
            inside_area, inside_fac = shapely.STRtree(shapely.points(fx, fy)).query(
                metric, predicate="intersects"
            )
            better = best_m[inside_area] > 0
            best_m[inside_area[better]] = 0.0
            best_label[inside_area[better]] = inside_fac[better]
            why[inside_area] = None
            found_pairs.append(np.column_stack([inside_area, inside_fac]))
        pairs = np.vstack(found_pairs).astype(np.int64)
        pairs = pairs[pairs[:, 1] >= 0]
        # distinct (area, facility) pairs: one int64 key each sorts far faster than rows
        width = int(pairs[:, 1].max()) + 1 if len(pairs) else 1
        keys = np.unique(pairs[:, 0] * width + pairs[:, 1])
        within = np.minimum(np.bincount(keys // width, minlength=len(areas)), COUNT_CAP)
        found = best_label >= 0
        safe = np.where(found, best_label, 0)
        ids = frame.index.to_numpy() if len(frame) else np.array([None])
        names = frame["name"].to_numpy() if len(frame) else np.array([None])
        covered = found & (best_m <= limit_m)
        out[f"{kind}_id"] = np.where(found, ids[safe], _NONE)
        out[f"{kind}_name"] = np.where(found, names[safe], _NONE)
        out[f"{kind}_walk_m"] = np.where(found, np.round(best_m, 1), np.nan)
        walkers = {**PROFILES, walker.name: walker}  # a custom walker gets its own column
        for name, walking in walkers.items():
            out[f"{kind}_minutes_{name}"] = np.where(
                found, np.round(best_m / walking.metres_per_minute, 1), np.nan
            )
        out[f"{kind}_covered"] = covered
        out[f"{kind}_within"] = within
        out[f"{kind}_method"] = study.method
        out[f"{kind}_reason"] = np.where(found, _NONE, np.where(pd.isna(why), NO_PATH, why))
        covered_all &= covered
    out["all_covered"] = covered_all
    out.attrs.update(profile=walker.name, minutes=dict(params.minutes), metres=dict(params.metres))
    return out


def _best_per_area(
    count: int, owner: np.ndarray, metres: np.ndarray, label: np.ndarray, reason: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    best_m = np.full(count, np.inf)
    best_label = np.full(count, -1, dtype=np.int64)
    why = np.full(count, "没有可达的出入口或道路 / no gate or street could be reached", object)
    if len(owner):
        order = np.lexsort((metres, owner))  # by area, then nearest first
        first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
        best_m[owner[first]] = metres[first]
        best_label[owner[first]] = label[first]
        why[owner[first]] = reason[first]
    return best_m, best_label, why


def summarize(
    areas: gpd.GeoDataFrame, result: pd.DataFrame, types: tuple[str, ...] = FACILITY_LAYERS
) -> pd.DataFrame:
    """Shares of areas, households, population and elderly covered, per subdistrict and
    overall (subdistrict ``全部 / all``), per type and for all types at once.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Residential areas with ``subdistrict``, ``households``, ``population`` and
        ``elderly`` (missing or non-numeric counts count as 0).
    result : pandas.DataFrame
        :func:`analyze_areas` of those areas, indexed like them.
    types : tuple of str
        Facility types to report; :data:`ALL_TYPES` is always added.

    Returns
    -------
    pandas.DataFrame
        One row per group and type: ``subdistrict``, ``type``, ``areas``,
        ``areas_covered``, ``share_areas``, and for each of households, population and
        elderly ``*_covered`` (a count) and ``share_*`` (0–1, rounded to 4 places; None
        where the group has none).
    """
    weights = (
        areas[["households", "population", "elderly"]]
        .apply(pd.to_numeric, errors="coerce")
        .fillna(0)
    )
    rows = []
    groups = [("全部 / all", areas.index)] + [
        (name, index) for name, index in areas.groupby("subdistrict", sort=True).groups.items()
    ]
    for group, index in groups:
        for kind in (*types, ALL_TYPES):
            column = "all_covered" if kind == ALL_TYPES else f"{kind}_covered"
            covered = result.loc[index, column].astype(bool)
            row = {
                "subdistrict": group,
                "type": kind,
                "areas": len(index),
                "areas_covered": int(covered.sum()),
                "share_areas": round(float(covered.mean()), 4) if len(index) else None,
            }
            for measure in ("households", "population", "elderly"):
                total = float(weights.loc[index, measure].sum())
                got = float(weights.loc[index, measure][covered].sum())
                row[f"{measure}_covered"] = int(got)
                row[f"share_{measure}"] = round(got / total, 4) if total else None
            rows.append(row)
    return pd.DataFrame(rows)


def gaps(
    areas: gpd.GeoDataFrame,
    result: pd.DataFrame,
    elderly_weight: float = 1.0,
    types: tuple[str, ...] = FACILITY_LAYERS,
) -> pd.DataFrame:
    """Areas missing at least one type, ranked by people affected.

    ``people_affected`` = population + (``elderly_weight`` − 1) × elderly, so a weight of 2
    counts every resident over 60 twice. ``missing`` lists the uncovered types.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Residential areas with ``name``, ``subdistrict``, ``population`` and ``elderly``.
    result : pandas.DataFrame
        :func:`analyze_areas` of those areas, indexed like them.
    elderly_weight : float
        How many times each elderly resident counts (1 = like anyone else).
    types : tuple of str
        Facility types whose ``T_covered`` is checked.

    Returns
    -------
    pandas.DataFrame
        Only the areas missing a type: ``name``, ``subdistrict``, ``population``,
        ``elderly``, ``missing``, ``people_affected`` and ``T_walk_m`` per type, most
        people affected first (then by name).
    """
    missing = pd.Series([[] for _ in range(len(result))], index=result.index, dtype=object)
    for kind in types:
        lacking = ~result[f"{kind}_covered"].astype(bool)
        missing[lacking] = missing[lacking].map(lambda m, kind=kind: [*m, kind])
    population = pd.to_numeric(areas["population"], errors="coerce").fillna(0)
    elderly = pd.to_numeric(areas["elderly"], errors="coerce").fillna(0)
    table = pd.DataFrame(
        {
            "name": areas["name"],
            "subdistrict": areas["subdistrict"],
            "population": population.astype(int),
            "elderly": elderly.astype(int),
            "missing": missing,
            "people_affected": (population + (elderly_weight - 1.0) * elderly).round(1),
        }
    )
    for kind in types:
        table[f"{kind}_walk_m"] = result[f"{kind}_walk_m"]
    table = table[table["missing"].map(len) > 0]
    return table.sort_values(["people_affected", "name"], ascending=[False, True])


def in_subdistrict(areas: gpd.GeoDataFrame, subdistrict: str | None) -> gpd.GeoDataFrame:
    """The compounds of ``subdistrict`` (all of them for None), or a bilingual error listing
    the subdistricts there are.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Residential areas with ``subdistrict``.
    subdistrict : str, optional
        A 街道 name as the data spells it.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    NotFoundError
        No compound is in ``subdistrict``.

    Examples
    --------
    >>> from geo.testing import drawn_study
    >>> areas = drawn_study().layers["residential_areas"]
    >>> in_subdistrict(areas, "甲街道").index.tolist()
    ['gated', 'touching']
    >>> in_subdistrict(areas, "丙街道")
    Traceback (most recent call last):
    ...
    geo.errors.NotFoundError: 本研究中没有街道 '丙街道' / no subdistrict '丙街道' in this study; 可选 / choose from: 乙街道, 甲街道
    """
    if not subdistrict:
        return areas
    known = sorted(areas["subdistrict"].dropna().unique()) if "subdistrict" in areas else []
    if subdistrict not in known:
        raise NotFoundError(
            f"本研究中没有街道 '{subdistrict}' / no subdistrict '{subdistrict}' in this study; "
            f"可选 / choose from: {', '.join(known) or '—'}"
        )
    return areas[areas["subdistrict"] == subdistrict]


def gap_list(
    study: Study,
    result: pd.DataFrame,
    kind: str,
    params: WalkParams,
    subdistrict: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The compounds ``kind`` does not cover, as a planner's list, and their extents.

    Parameters
    ----------
    study : Study
    result : pandas.DataFrame
        :func:`analyze_areas` of the study for ``params``.
    kind : str
        A facility type.
    params : WalkParams
        The walker (for minutes) and the CRS of the extents.
    subdistrict : str, optional
        Only this 街道's compounds (:func:`in_subdistrict`).

    Returns
    -------
    tuple of (pandas.DataFrame, pandas.DataFrame)
        ``id``, ``name``, ``subdistrict``, ``households``, ``population``, ``elderly``,
        ``walk_m``, ``minutes`` (at the walker's speed, rounded *up* to 0.1: 5.02 minutes
        is past a 5-minute threshold) and ``facility`` (the nearest), most people affected
        first; and the extents ``minx``, ``miny``, ``maxx``, ``maxy`` in ``params.crs``.
    """
    areas = in_subdistrict(study.layers["residential_areas"], subdistrict)
    ranked = gaps(areas, result.loc[areas.index], types=(kind,))
    index = ranked.index
    walk = ranked[f"{kind}_walk_m"]
    households = pd.to_numeric(areas.loc[index, "households"], errors="coerce").fillna(0)
    table = pd.DataFrame(
        {
            "id": index.astype(str),
            "name": ranked["name"],
            "subdistrict": ranked["subdistrict"],
            "households": households.astype(int),
            "population": ranked["population"],
            "elderly": ranked["elderly"],
            "walk_m": walk.round(1),
            "minutes": np.ceil(walk / params.profile.metres_per_minute * 10 - 1e-6) / 10,
            "facility": result.loc[index, f"{kind}_name"],
        },
        index=index,
    )
    shapes = np.asarray(areas.geometry.loc[index].values, dtype=object)
    if params.crs != "wgs84" and len(shapes):
        shapes = geometries_from_wgs84(shapes, params.crs)
    bounds = pd.DataFrame(
        shapely.bounds(shapes).reshape(-1, 4),
        index=index,
        columns=["minx", "miny", "maxx", "maxy"],
    )
    return table, bounds
