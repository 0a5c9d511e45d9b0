"""Isochrones and gap zones, built from reachable street segments.

An isochrone is the part of the street network reachable within a time, widened by
:data:`STREET_REACH_M` on each side (the buildings and gates that line a street are reached
from it) — not a circle and not a convex hull, so a river or a wall without a crossing
shows. A gap zone is the opposite: the streets of the study area (widened the same way)
from which no facility of a type is reachable within its threshold.

How the polygons are built (see :mod:`geo.network.reach` for the measurements): the reached
spans come from the network distances (one multi-source Dijkstra for a whole type, one
bounded Dijkstra per facility for all its minutes values at once), and "within
:data:`STREET_REACH_M` of a span" is traced on a 4 m lattice of exact distances to the spans
(:func:`geo.network.reach.reach_areas`) instead of unioning one GEOS buffer per span: a
facility's three isochrones take 4.5 ms where the osmnx gallery's recipe takes 70 ms
(20,000-compound grid city, benchmarks/analyze.py). A gap zone is the level set "near an
unreached span and not near a reached one" of the same two distance fields
(:func:`geo.network.reach.gap_area`). Both stay within one lattice cell of the buffer union
and within 1 % of its area; :func:`reachable_segments` and :func:`unreachable_segments`
keep the pieces as lines for anyone who wants the exact GEOS buffers.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import substring

from geo.analysis.params import Profile, Thresholds, WalkParams, parse_minutes_list
from geo.analysis.study import Study
from geo.errors import QueryError, UnreachableError
from geo.network.contours import forked_map
from geo.network.graph import WalkNetwork
from geo.network.reach import (
    SourceWalker,
    Spans,
    gap_area,
    reach_area,
    reach_area_and_gap,
    reach_areas,
    shared_walker,
    street_arrays,
)
from geo.network.routing import nearest_source, seeds_from_snap
from geo.network.snapping import Snap
from geo.schema import FACILITY_LAYERS

__all__ = [
    "ISOCHRONE_MINUTES",
    "STREET_REACH_M",
    "assemble_shapes",
    "gap_zones",
    "isochrones",
    "isochrones_at",
    "reachable_segments",
    "shape_task",
    "shape_tasks_of",
    "type_shapes",
    "unreachable_segments",
]

#: How far either side of a reachable street counts as reached: half the depth of a typical
#: Shanghai residential block (~100 m between streets), so two reached streets close a block.
STREET_REACH_M = 50.0
#: The isochrones drawn unless asked otherwise: GB 50180-2018's 5-, 10- and 15-minute circles.
ISOCHRONE_MINUTES = (5.0, 10.0, 15.0)


def _reached_spans(
    net: WalkNetwork, node_dist: np.ndarray, snap: Snap, limit_m: float
) -> tuple[np.ndarray, dict[int, list[tuple[float, float]]]]:
    """Which street is reached within ``limit_m``: a mask of edges reached whole, and for
    edges reached in part, their reached spans (metres from ``edge_u``)."""
    length = net.edge_length
    from_u = np.nan_to_num(np.clip(limit_m - node_dist[net.edge_u], 0, None), nan=0.0, posinf=0.0)
    from_v = np.nan_to_num(np.clip(limit_m - node_dist[net.edge_v], 0, None), nan=0.0, posinf=0.0)
    whole = from_u + from_v >= length
    spans: dict[int, list[tuple[float, float]]] = {}
    for e in np.flatnonzero(~whole & ((from_u > 0) | (from_v > 0))).tolist():
        if from_u[e] > 0:
            spans.setdefault(e, []).append((0.0, float(from_u[e])))
        if from_v[e] > 0:
            spans.setdefault(e, []).append((float(length[e] - from_v[e]), float(length[e])))
    # a source's own edge is walked from its snapped position, both ways
    for e, offset, gap in zip(
        snap.edge[snap.ok].tolist(), snap.offset[snap.ok].tolist(),
        snap.distance[snap.ok].tolist(), strict=True,
    ):  # fmt: skip
        left = limit_m - gap
        if left > 0 and not whole[e]:
            spans.setdefault(e, []).append(
                (max(0.0, offset - left), min(float(length[e]), offset + left))
            )
    return whole, spans


def _pieces(geoms: np.ndarray, whole: np.ndarray, spans: dict) -> np.ndarray:
    """Edges ``whole`` entirely, and the ``spans`` of others, as non-empty LineStrings."""
    parts = [substring(geoms[e], a, b) for e, pairs in spans.items() for a, b in pairs]
    pieces = [*geoms[whole], *parts]
    return np.asarray([p for p in pieces if not p.is_empty and p.length > 0], dtype=object)


def _complement(net: WalkNetwork, whole: np.ndarray, spans: dict) -> tuple[np.ndarray, dict]:
    """The edges untouched and the spans left over: what ``whole`` and ``spans`` miss."""
    untouched = ~whole
    untouched[list(spans)] = False
    rest: dict[int, list[tuple[float, float]]] = {}
    for e, parts in spans.items():
        end = 0.0
        for a, b in sorted(parts):
            if a > end:
                rest.setdefault(e, []).append((end, a))
            end = max(end, b)
        if end < net.edge_length[e]:
            rest.setdefault(e, []).append((end, float(net.edge_length[e])))
    return untouched, rest


def reachable_segments(
    net: WalkNetwork, node_dist: np.ndarray, snap: Snap, limit_m: float
) -> np.ndarray:
    """Pieces of street (LineStrings in ``net.crs``) within ``limit_m`` of the sources.

    ``node_dist`` holds the walking distance of every node from the nearest source (from
    :func:`geo.network.routing.nearest_source` seeded by ``snap``); the sources' own edges are
    walked from their snapped positions in both directions.

    Parameters
    ----------
    net : WalkNetwork
    node_dist : numpy.ndarray
        Walking metres of every node from the nearest source (inf where unreached).
    snap : Snap
        Where the sources join the network; those not ``ok`` are left out.
    limit_m : float
        How far to walk, metres.

    Returns
    -------
    numpy.ndarray
        Object array of non-empty shapely LineStrings in ``net.crs``: whole edges and the
        reached parts of others.
    """
    return _pieces(net.edge_geometry, *_reached_spans(net, node_dist, snap, limit_m))


def unreachable_segments(
    net: WalkNetwork, node_dist: np.ndarray, snap: Snap, limit_m: float
) -> np.ndarray:
    """The rest of the streets: the pieces NOT within ``limit_m`` of any source.

    Parameters
    ----------
    net, node_dist, snap, limit_m
        As in :func:`reachable_segments`.

    Returns
    -------
    numpy.ndarray
        Object array of non-empty shapely LineStrings in ``net.crs``: the complement of
        :func:`reachable_segments` on the same edges.
    """
    reached = _reached_spans(net, node_dist, snap, limit_m)
    return _pieces(net.edge_geometry, *_complement(net, *reached))


def _as_spans(net: WalkNetwork, whole: np.ndarray, spans: dict) -> Spans:
    """``whole`` edges and the ``spans`` of others as one :class:`Spans`."""
    edges = np.flatnonzero(whole)
    parts = [(e, a, b) for e, pairs in spans.items() for a, b in pairs]
    part_edge = np.array([p[0] for p in parts], dtype=np.int64)
    part_start = np.array([p[1] for p in parts], dtype=float)
    part_end = np.array([p[2] for p in parts], dtype=float)
    return Spans(
        np.concatenate([edges, part_edge]),
        np.concatenate([np.zeros(len(edges)), part_start]),
        np.concatenate([net.edge_length[edges], part_end]),
    )


def _reached_area(
    net: WalkNetwork, node_dist: np.ndarray, snap: Snap, limit: float
) -> shapely.Geometry:
    spans = _as_spans(net, *_reached_spans(net, node_dist, snap, limit))
    return reach_area(net, spans, STREET_REACH_M)


def _walk_areas(
    net: WalkNetwork,
    snap: Snap,
    limits: np.ndarray,
    rows: Iterable[int],
    walker: SourceWalker | None = None,
) -> list[list[shapely.Geometry]]:
    """Each point ``rows`` of ``snap``'s area within each of ``limits`` (``walker``'s walk)."""
    walker = walker or SourceWalker(net)
    out = []
    for i in rows:
        if not snap.ok[i]:
            out.append([shapely.MultiPolygon() for _ in limits])
            continue
        e = snap.edge[i : i + 1]
        to_u = snap.offset[i] + snap.distance[i]
        to_v = net.edge_length[e[0]] - snap.offset[i] + snap.distance[i]
        reached = walker.spans(
            np.array([net.edge_u[e[0]], net.edge_v[e[0]]]), np.array([to_u, to_v]),
            e, snap.offset[i : i + 1], snap.distance[i : i + 1], limits,
        )  # fmt: skip
        out.append(reach_areas(net, reached, STREET_REACH_M))
    return out


def _facility_areas(
    net: WalkNetwork, snap: Snap, limits: list[float], workers: int = 1
) -> list[list[shapely.Geometry]]:
    """Per facility, its area within each of ``limits``: one bounded walk per facility,
    shared among ``workers`` threads (the walk, the field, the tracing and GEOS release the
    GIL; on the grid city's 667 charging points two threads took 2.14 s against 3.72 s on
    one, and two forked processes 2.20 s, which cost more than they save below ~100)."""
    ordered = np.asarray(limits, dtype=float)
    rows = np.arange(len(snap))
    if workers < 2 or len(rows) < 2:
        return _walk_areas(net, snap, ordered, rows.tolist())
    # interleaved: facilities listed by district get an even share of dense ones; one walker
    # (its scratch arrays as large as the network) per thread
    chunks = [rows[k::workers].tolist() for k in range(min(workers, len(rows)))]
    street_arrays(net)  # made once, before the threads share it
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(partial(_walk_areas, net, snap, ordered), chunks))
    out: list[list[shapely.Geometry]] = [[] for _ in rows]
    for chunk, part in zip(chunks, parts, strict=True):
        for row, areas in zip(chunk, part, strict=True):
            out[row] = areas
    return out


def _distances(net: WalkNetwork, snap: Snap, labels: np.ndarray, cutoff: float) -> np.ndarray:
    seeds = seeds_from_snap(net, snap, labels)
    dist, _ = nearest_source(net.indptr, net.indices, net.weights, *seeds, cutoff=cutoff)
    return dist


def _require_network(study: Study) -> WalkNetwork:
    if study.network is None:
        raise QueryError(
            "等时圈需要步行路网 / isochrones need a walking network: pass --network, or give "
            "the store its streets (a folder store: streets.geojson beside the layers)"
        )
    return study.network


def _frame(records: list[dict], crs: Any = "EPSG:4326") -> gpd.GeoDataFrame:
    """The records as a WGS-84 frame, their geometries given in ``crs``."""
    geometry = [r.pop("geometry") for r in records]
    frame = gpd.GeoDataFrame(records, geometry=geometry, crs=crs)
    return frame if crs == "EPSG:4326" else frame.to_crs("EPSG:4326")


def _minutes_list(minutes: Iterable[float]) -> list[float]:
    return list(parse_minutes_list(minutes))


def isochrones(
    study: Study,
    kind: str,
    minutes: Iterable[float] = ISOCHRONE_MINUTES,
    params: WalkParams | None = None,
    *,
    per_facility: bool = False,
    profile: str | Profile | None = None,
    workers: int = 1,
) -> gpd.GeoDataFrame:
    """Areas within 5/10/15 minutes' walk of the facilities of ``kind`` (WGS-84).

    Parameters
    ----------
    study : Study
    kind : str
        A facility layer.
    minutes : iterable of float
        The isochrones wanted, minutes at the walker's speed.
    params : WalkParams, optional
        The walker (``profile`` is a shorthand).
    per_facility : bool
        One polygon per facility and minutes value, with ``facility_id`` and ``name``,
        instead of one per minutes value for the whole type.
    workers : int
        Threads sharing the per-facility walks (1 computes them in this one).

    Returns
    -------
    geopandas.GeoDataFrame
        ``type``, ``minutes``, ``profile`` and the polygon, WGS-84.

    Examples
    --------
    >>> iso = isochrones(Study.load(), "clinics", minutes=(5, 15))
    >>> km2 = iso.to_crs(32651).area / 1e6
    >>> iso["minutes"].tolist(), bool(km2.iloc[0] < km2.iloc[1])
    ([5.0, 15.0], True)
    """
    net = _require_network(study)
    walker = WalkParams.of(params, profile=profile).profile
    values = _minutes_list(minutes)
    snap = study.facility_snap(kind)
    frame = study.facilities(kind)
    limits = [value * walker.metres_per_minute for value in values]
    records = []
    if per_facility:
        for facility, areas in enumerate(_facility_areas(net, snap, limits, workers)):
            for value, area in zip(values, areas, strict=True):
                records.append({
                    "type": kind, "minutes": value, "profile": walker.name, "geometry": area,
                    "facility_id": frame.index[facility], "name": frame["name"].iloc[facility],
                })  # fmt: skip
        return _frame(records, study.crs)
    dist = _distances(net, snap, np.arange(len(frame)), limits[-1])
    for value, limit in zip(values, limits, strict=True):
        records.append({"type": kind, "minutes": value, "profile": walker.name,
                        "geometry": _reached_area(net, dist, snap, limit)})  # fmt: skip
    return _frame(records, study.crs)


def isochrones_at(
    study: Study,
    lon: float,
    lat: float,
    minutes: Iterable[float] = ISOCHRONE_MINUTES,
    params: WalkParams | None = None,
    *,
    profile: str | Profile | None = None,
) -> gpd.GeoDataFrame:
    """Areas within the given minutes' walk of one point (WGS-84 lon/lat).

    Parameters
    ----------
    study : Study
    lon, lat : float
        The point, WGS-84.
    minutes : iterable of float
    params : WalkParams, optional
        The walker (``profile`` is a shorthand).

    Returns
    -------
    geopandas.GeoDataFrame
        ``minutes``, ``profile`` and the polygon, WGS-84.

    Raises
    ------
    QueryError
        Without a network, or when the point is too far from every street.
    """
    net = _require_network(study)
    walker = WalkParams.of(params, profile=profile).profile
    values = _minutes_list(minutes)
    x, y = study.project([lon], [lat])
    snap = study.snap(x, y)
    if not snap.ok[0]:
        raise UnreachableError(f"该点无法到达 / the point cannot be reached: {snap.reason[0]}")
    limits = np.array([value * walker.metres_per_minute for value in values])
    with shared_walker(net) as source_walker:
        (areas,) = _walk_areas(net, snap, limits, [0], source_walker)
    records = [
        {"minutes": value, "profile": walker.name, "geometry": area}
        for value, area in zip(values, areas, strict=True)
    ]
    return _frame(records, study.crs)


def gap_zones(
    study: Study,
    params: WalkParams | None = None,
    *,
    types: tuple[str, ...] | None = None,
    minutes: Thresholds = None,
    profile: str | Profile | None = None,
    metres: Thresholds = None,
) -> gpd.GeoDataFrame:
    """Per facility type, the part of the walkable study area beyond its threshold
    (minutes at the walker's speed, or ``params.metres[type]`` in distance mode).

    That is every street widened by :data:`STREET_REACH_M` minus the reached streets
    widened the same way: the points near an unreached piece of street and not near a
    reached one, traced from the two distance fields (:func:`geo.network.reach.gap_area`).

    Parameters
    ----------
    study : Study
    params : WalkParams, optional
        Walker and thresholds; ``minutes``, ``profile``, ``metres`` are shorthands.
    types : tuple of str, optional
        Default: every facility type.

    Returns
    -------
    geopandas.GeoDataFrame
        Per type: ``minutes``, ``metres``, ``profile``, ``area_km2`` and the polygon.
    """
    net = _require_network(study)
    params = WalkParams.of(params, minutes=minutes, profile=profile, metres=metres)
    records = []
    for kind in types or tuple(params.minutes):
        limit = params.limit_m(kind)
        snap = study.facility_snap(kind)
        dist = _distances(net, snap, np.arange(len(snap)), limit)
        whole, spans = _reached_spans(net, dist, snap, limit)
        beyond = _as_spans(net, *_complement(net, whole, spans))
        gap = gap_area(net, beyond, _as_spans(net, whole, spans), STREET_REACH_M)
        records.append(_gap_record(params, kind, gap))
    return _frame(records, study.crs)


def _gap_record(
    params: WalkParams, kind: str, gap: shapely.Geometry, area_m2: float | None = None
) -> dict:
    return {
        "type": kind,
        "minutes": None if kind in params.metres else params.minutes[kind],
        "metres": round(params.limit_m(kind), 1),
        "profile": params.profile.name,
        "area_km2": round((gap.area if area_m2 is None else area_m2) / 1e6, 3),
        "geometry": gap,
    }


#: Streets below which :func:`type_shapes` does not fork: on 五角场 (2,956 nodes) the
#: whole tracing takes 0.7 s on one core, less than starting and feeding the workers.
FORK_NODES = 10_000


def shape_tasks_of(params: WalkParams) -> list[tuple[str, str]]:
    """The tasks of :func:`type_shapes`, in its order: ``("gap", T)`` for every type of
    ``params``, then ``("isochrones", T)`` for every facility layer.

    Parameters
    ----------
    params : WalkParams

    Returns
    -------
    list of (str, str)
    """
    return [("gap", kind) for kind in params.minutes] + [
        ("isochrones", kind) for kind in FACILITY_LAYERS
    ]


def shape_task(
    study: Study, params: WalkParams, minutes: tuple[float, ...], task: tuple[str, str]
) -> dict:
    """One task of :func:`type_shapes`, to run anywhere (a forked process, a dask worker).

    Parameters
    ----------
    study : Study
        With a network.
    params : WalkParams
    minutes : tuple of float
        The isochrones' minutes.
    task : (str, str)
        ``("gap", T)``: the gap zone of type T and its isochrone at the threshold, when one
        is wanted (the two share a distance field); ``("isochrones", T)``: its other
        isochrones.

    Returns
    -------
    dict
        ``"gap"`` and the minutes values, to their polygons (WGS-84), and ``"gap_m2"``
        the gap zone's area.
    """
    what, kind = task
    net = _require_network(study)
    snap = study.facility_snap(kind)
    metres_per_minute = params.profile.metres_per_minute
    limits = {m: m * metres_per_minute for m in minutes}
    if what == "gap":
        limit = params.limit_m(kind)
        shared = [m for m, v in limits.items() if v == limit and kind in FACILITY_LAYERS][:1]
        dist = _distances(net, snap, np.arange(len(snap)), limit)
        whole, spans = _reached_spans(net, dist, snap, limit)
        beyond = _as_spans(net, *_complement(net, whole, spans))
        reached = _as_spans(net, whole, spans)
        if not shared:
            return _in_wgs84(study, {"gap": gap_area(net, beyond, reached, STREET_REACH_M)})
        area, gap = reach_area_and_gap(net, reached, beyond, STREET_REACH_M)
        return _in_wgs84(study, {"gap": gap, shared[0]: area})
    if kind in params.minutes:  # the one at the threshold comes with the gap zone
        limits = {m: v for m, v in limits.items() if v != params.limit_m(kind)}
    if not limits:
        return {}
    dist = _distances(net, snap, np.arange(len(snap)), max(limits.values()))
    return _in_wgs84(
        study, {m: _reached_area(net, dist, snap, limit) for m, limit in limits.items()}
    )


def _in_wgs84(study: Study, made: dict) -> dict:
    """A task's polygons in WGS-84, reprojected where the task ran (not all at the end by
    the process that waits for them), with the gap zone's area in m² (``"gap_m2"``)."""
    keys = list(made)
    out: dict[Any, Any] = {"gap_m2": float(made["gap"].area)} if "gap" in made else {}
    wgs84 = gpd.GeoSeries([made[k] for k in keys], crs=study.crs).to_crs("EPSG:4326")
    out.update(zip(keys, wgs84.to_numpy(), strict=True))
    return out


def type_shapes(
    study: Study,
    params: WalkParams,
    minutes: Iterable[float] = ISOCHRONE_MINUTES,
    *,
    workers: int = 1,
    meanwhile: Callable[[], object] | None = None,
    each: Callable[[int, dict], object] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The gap zones of every type and the isochrones of every facility layer, as
    :func:`gap_zones` and :func:`isochrones` give them (the same rows in the same order),
    two tasks per type shared among ``workers`` forked processes (a city's tiles are traced
    by contourpy, which holds the GIL, and the thinning and merging hold it too; fork shares
    the study unpickled).

    A type's isochrone at its own threshold (15 minutes for clinics by default) is traced
    with its gap zone, from the one distance field both need: a fifth less tracing. That
    isochrone is traced on the gap zone's lattice, so its vertices may differ from
    :func:`isochrones`'s by rounding; the gap zones are :func:`gap_zones`'s to the last bit.

    Parameters
    ----------
    study : Study
        With a network.
    params : WalkParams
    minutes : iterable of float
        The isochrones' minutes.
    workers : int
        Processes; 1 computes everything here.
    meanwhile : callable, optional
        Other work for this process, called while the workers trace (first, when there
        are none): ``analyze`` computes coverage and encodes its tables there.
    each : callable, optional
        ``each(i, result)`` as task ``i`` is done: ``analyze`` encodes the shapes there.

    Returns
    -------
    (geopandas.GeoDataFrame, geopandas.GeoDataFrame)
        The gap zones (one row per type of ``params``) and the isochrones (per facility
        layer, then minutes).
    """
    values = tuple(_minutes_list(minutes))
    tasks = shape_tasks_of(params)
    net = _require_network(study)
    if net.n_nodes < FORK_NODES or "fork" not in mp.get_all_start_methods():
        workers = 1  # all here: meanwhile first, then the tasks
    made = forked_map(shape_task, (study, params, values), tasks, workers, meanwhile, each)
    return assemble_shapes(study, params, values, tasks, made)


def assemble_shapes(
    study: Study,
    params: WalkParams,
    minutes: tuple[float, ...],
    tasks: list[tuple[str, str]],
    made: list[dict],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The frames of :func:`type_shapes` from its tasks' results.

    Parameters
    ----------
    study : Study
    params : WalkParams
    minutes : tuple of float
        As given to :func:`shape_task`.
    tasks : list of (str, str)
        :func:`shape_tasks_of`.
    made : list of dict
        :func:`shape_task` of each.

    Returns
    -------
    (geopandas.GeoDataFrame, geopandas.GeoDataFrame)
        The gap zones and the isochrones, WGS-84.
    """
    areas: dict[tuple[str, float], shapely.Geometry] = {}
    gaps = []
    for (what, kind), done in zip(tasks, made, strict=True):
        done = dict(done)
        if what == "gap":
            gap, gap_m2 = done.pop("gap"), done.pop("gap_m2")
            gaps.append(_gap_record(params, kind, gap, gap_m2))
        areas.update({(kind, m): area for m, area in done.items()})
    iso = [{"type": kind, "minutes": m, "profile": params.profile.name,
            "geometry": areas[kind, m]} for kind in FACILITY_LAYERS for m in minutes]  # fmt: skip
    return _frame(gaps), _frame(iso)  # reprojected by the tasks (_in_wgs84)
