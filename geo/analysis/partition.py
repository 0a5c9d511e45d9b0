"""One study too big for one machine's time, in parts: compounds by 街道 (or grid cell),
each part with the streets it can walk to plus a halo, computed apart and merged.

Why a part gives the whole study's answer. A walk of ``d`` metres never leaves the disc of
radius ``d`` around where it joins the street network, and that point is at most ``a``
metres from the compound's gate or outline (``a``: the farthest any walk start of the
study was attached to its street, 0 for the streets touching a compound) and a facility
at most ``f`` metres from where it joins (the farthest any facility was attached, within
the 250 m snapping limit). A part therefore holds every street within
``reach + a + 2 f`` of its compounds and gates, and every facility within
``reach + a + f``: each walk of up to ``reach`` metres, and the facility at its end, lies
wholly inside the part, and every walk inside the part is a walk of the whole network.
So a compound's answer is exact wherever its nearest facility of every type is at most
``reach`` away, and its ``within`` counts are exact because ``reach`` is at least every
threshold.

Where two streets are equally near a facility or a gate the whole study's choice must be
kept (a facility 10 m off a street corner is as near to both streets), so facilities and
the compounds' walk starts are attached once, on the whole network, and handed to the
parts with their edges renumbered. A compound whose nearest facility of some type is
farther than ``reach`` (or none is found) is computed again in a part with twice the
reach, until the part is the whole study; ``reach`` starts at the largest threshold.

What is shipped to a worker per part: its compounds, the facilities and the streets
(arrays and lines) within the halo, and the walk starts; ``benchmarks/batch.py`` prints
their sizes. The gap zones and isochrones are computed on the whole study, one task per
stage and type (:func:`shape_tasks`), because an area traced over the whole network is
not the union of areas traced over overlapping parts to the byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis.coverage import Origins, analyze_areas, area_origins
from geo.analysis.isochrones import ISOCHRONE_MINUTES, isochrones, shape_task, shape_tasks_of
from geo.analysis.params import WalkParams
from geo.analysis.study import Study
from geo.errors import QueryError
from geo.network.graph import WalkNetwork
from geo.network.snapping import Snap
from geo.schema import FACILITY_LAYERS

__all__ = [
    "OUTSIDE",
    "Part",
    "cut_part",
    "parse_partition",
    "part_coverage",
    "partition_areas",
    "partitioned_coverage",
    "shape_tasks",
]

#: Why a walk start of a part is not on its streets (not expected: the halo holds them).
OUTSIDE = "路段不在此分区 / street outside this part"

#: Added to every halo: centimetres of rounding in projected coordinates stay inside.
_SLACK_M = 1.0


@dataclass
class Part:
    """Some compounds of a study with the streets and facilities their walks can use.

    Attributes
    ----------
    study : Study
        The cut study: the part's compounds, the facilities and streets within the halo,
        the facilities attached where the whole study attached them.
    origins : dict of str to Origins
        Per facility type, the compounds' walk starts (attached on the whole network).
    positions : numpy.ndarray
        Positions of the part's compounds in the whole study's layer, ascending.
    reach_m : float
        Walks up to this many metres are exact.
    whole : bool
        The part holds every street and facility: every answer is exact.
    """

    study: Study
    origins: dict[str, Origins]
    positions: np.ndarray
    reach_m: float
    whole: bool


def parse_partition(text: str | float) -> str | float:
    """``subdistrict``, or a grid cell side in metres, checked.

    Parameters
    ----------
    text : str or float
        ``"subdistrict"`` or a positive number of metres (``"3000"``).

    Returns
    -------
    str or float
        ``"subdistrict"`` or the metres.

    Raises
    ------
    QueryError
        Anything else, named in the message.

    Examples
    --------
    >>> parse_partition("subdistrict"), parse_partition("2500")
    ('subdistrict', 2500.0)
    """
    if text == "subdistrict":
        return text
    try:
        side = float(text)
    except (TypeError, ValueError):
        side = float("nan")
    if not 0 < side < float("inf"):
        raise QueryError(
            f"分区须为 subdistrict 或网格边长（米）/ partition by 'subdistrict' or a grid "
            f"cell side in metres, not {text!r}"
        )
    return side


def partition_areas(areas: gpd.GeoDataFrame, by: str | float = "subdistrict") -> list[np.ndarray]:
    """Group compounds into parts: by 街道 or by square grid cells.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Residential areas (WGS-84).
    by : str or float
        ``"subdistrict"`` (a compound without one is in a part of its own kind), or the
        side of a grid cell in metres (by the compound's centre, in its UTM zone).

    Returns
    -------
    list of numpy.ndarray
        Positions in ``areas``, ascending within each part; parts in name (or cell) order.

    Raises
    ------
    QueryError
        ``by`` is neither ``subdistrict`` nor a positive number of metres.

    Examples
    --------
    >>> from geo.layers.store import read_layer
    >>> parts = partition_areas(read_layer("residential_areas"))
    >>> sum(len(p) for p in parts) == len(read_layer("residential_areas"))
    True
    """
    if by == "subdistrict":
        column = areas["subdistrict"] if "subdistrict" in areas.columns else None
        keys = (column.fillna("").astype(str) if column is not None
                else pd.Series("", index=areas.index)).to_numpy()  # fmt: skip
    else:
        side = float(parse_partition(by))
        centre = areas.geometry.to_crs(areas.estimate_utm_crs()).centroid if len(areas) else None
        if centre is None:
            return []
        cells = np.floor(np.column_stack([centre.x, centre.y]) / side).astype(np.int64)
        keys = np.array([f"{i}:{j}" for i, j in cells], dtype=object)
    labels, codes = np.unique(keys, return_inverse=True)
    return [np.flatnonzero(codes == k) for k in range(len(labels))]


def _attached_m(snap: Snap) -> float:
    """The farthest any point of ``snap`` was attached to its street (0 when none was)."""
    return float(snap.distance[snap.ok].max()) if snap.ok.any() else 0.0


def _subnetwork(net: WalkNetwork, keep: np.ndarray) -> tuple[WalkNetwork, np.ndarray]:
    """The edges ``keep`` (ascending) as a network of their own, and each whole-network
    edge's number in it (-1 where left out). Edges keep their order and direction."""
    nodes, ends = np.unique(np.concatenate([net.edge_u[keep], net.edge_v[keep]]),
                            return_inverse=True)  # fmt: skip
    count = len(keep)
    sub = WalkNetwork.from_edges(
        ends[:count], ends[count:], net.edge_length[keep], net.node_x[nodes], net.node_y[nodes],
        net.crs, net.edge_geometry[keep], net.source,
        name=None if net.name is None else net.name[keep],
        edge_level=None if net.edge_level is None else net.edge_level[keep],
    )  # fmt: skip
    renumber = np.full(net.n_edges + 1, -1, dtype=np.int64)  # the last: for "no edge" (-1)
    renumber[keep] = np.arange(count)
    return sub, renumber


def _moved(snap: Snap, rows: np.ndarray, renumber: np.ndarray) -> Snap:
    """Rows of a whole-network snap on a sub-network; an edge left out is not ``ok``."""
    edge = renumber[snap.edge[rows]]
    ok = snap.ok[rows] & (edge >= 0)
    reason = snap.reason[rows].copy()
    reason[snap.ok[rows] & ~ok] = OUTSIDE
    return Snap(edge, snap.offset[rows], snap.distance[rows], ok, reason)


def cut_part(
    study: Study,
    positions: np.ndarray,
    reach_m: float,
    origins: dict[str, Origins],
) -> Part:
    """The part of ``study`` that the compounds at ``positions`` walk in, up to ``reach_m``.

    Parameters
    ----------
    study : Study
        The whole study, with a network.
    positions : numpy.ndarray
        Positions of the part's compounds in ``study.layers["residential_areas"]``.
    reach_m : float
        Walks up to this many metres must be exact.
    origins : dict of str to Origins
        Per facility type, every compound's walk starts on the whole network
        (:func:`~geo.analysis.coverage.area_origins`).

    Returns
    -------
    Part
    """
    net = study.network
    if net is None:
        raise QueryError("分区需要步行路网 / parts need a walking network")
    positions = np.sort(np.asarray(positions, dtype=np.int64))
    areas = study.layers["residential_areas"]
    metric = areas.geometry.iloc[positions].to_crs(study.crs).to_numpy()
    starts, start_m = [], 0.0
    for chosen in origins.values():
        mine = np.isin(chosen.owner, positions)
        starts.append(shapely.points(chosen.x[mine], chosen.y[mine]))
        if chosen.snap is not None and chosen.snap.ok[mine].any():
            start_m = max(start_m, float(chosen.snap.distance[mine & chosen.snap.ok].max()))
    facility_m = max(_attached_m(study.facility_snap(kind)) for kind in FACILITY_LAYERS)
    corners = shapely.get_coordinates(np.concatenate([shapely.envelope(metric), *starts]))
    hull = shapely.convex_hull(shapely.multipoints(corners))
    street_halo = reach_m + start_m + 2 * facility_m + _SLACK_M
    keep = np.unique(net.edge_tree.query(hull, predicate="dwithin", distance=street_halo))
    whole = len(keep) == net.n_edges
    sub, renumber = _subnetwork(net, keep)
    layers = {name: frame.iloc[0:0] for name, frame in study.layers.items()}
    layers["residential_areas"] = areas.iloc[positions]
    snaps = {}
    for kind in FACILITY_LAYERS:
        frame = study.facilities(kind)
        x, y = study.facility_xy(kind)
        near = shapely.dwithin(
            hull, shapely.points(x, y), reach_m + start_m + facility_m + _SLACK_M
        )
        rows = np.flatnonzero(near)
        whole = whole and len(rows) == len(frame)
        layers[kind] = frame.iloc[rows]
        snaps[kind] = _moved(study.facility_snap(kind), rows, renumber)
    # the whole study's attachments, so that a tie between two streets falls the same way
    piece = Study(layers, sub, study.max_snap_m, study.circuity, _snaps=snaps)
    local = np.full(len(areas), -1, dtype=np.int64)
    local[positions] = np.arange(len(positions))
    moved = {}
    for kind, chosen in origins.items():
        rows = np.flatnonzero(local[chosen.owner] >= 0)
        snap = _moved(chosen.snap, rows, renumber) if chosen.snap is not None else None
        moved[kind] = Origins(local[chosen.owner[rows]], chosen.x[rows], chosen.y[rows], snap)
    return Part(piece, moved, positions, reach_m, whole)


def part_coverage(part: Part, params: WalkParams) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`~geo.analysis.coverage.analyze_areas` of a part (runs on a worker).

    Parameters
    ----------
    part : Part
    params : WalkParams
        The walker and thresholds of the whole run.

    Returns
    -------
    result : pandas.DataFrame
        The columns of ``analyze_areas``, one row per compound of the part.
    exact : numpy.ndarray
        Boolean per row: every type's nearest facility is within ``reach_m`` (or the
        compound has no walk start on the network, an answer no street changes).
    """
    columns = [analyze_areas(part.study, params, types=(kind,), origins=part.origins[kind])
               for kind in FACILITY_LAYERS]  # fmt: skip
    result = pd.concat([c.drop(columns="all_covered") for c in columns], axis=1)
    result["all_covered"] = np.logical_and.reduce([c["all_covered"].to_numpy() for c in columns])
    result.attrs.update(columns[0].attrs)
    if part.whole:
        return result, np.ones(len(result), dtype=bool)
    exact = np.ones(len(result), dtype=bool)
    for kind in FACILITY_LAYERS:
        chosen = part.origins[kind]
        started = np.zeros(len(result), dtype=bool)
        if chosen.snap is not None:
            # an attachment the halo lost (never expected) leaves its compound inexact
            started[chosen.owner[chosen.snap.ok | (chosen.snap.reason == OUTSIDE)]] = True
        walk = result[f"{kind}_walk_m"].to_numpy(dtype=float)
        exact &= (walk <= part.reach_m) | ~started
    return result, exact


def partitioned_coverage(
    study: Study,
    params: WalkParams | None = None,
    *,
    by: str | float = "subdistrict",
    run: Callable[[list[Part], WalkParams], list[tuple[pd.DataFrame, np.ndarray]]] | None = None,
    sizes: list[int] | None = None,
) -> pd.DataFrame:
    """:func:`~geo.analysis.coverage.analyze_areas` of the whole study, computed in parts.

    Parameters
    ----------
    study : Study
        With a network (in straight-line mode the whole is computed at once).
    params : WalkParams, optional
        Walker and thresholds; default the defaults.
    by : str or float
        How compounds are grouped (:func:`partition_areas`).
    run : callable, optional
        Computes :func:`part_coverage` of a list of parts (on a cluster: see
        :func:`geo.analysis.batch.cluster_runner`); default here, one after another.
    sizes : list of int, optional
        Filled with the compounds of each part computed, round after round.

    Returns
    -------
    pandas.DataFrame
        Equal to ``analyze_areas(study, params)``: same rows in the same order, same
        columns, same values.

    Examples
    --------
    >>> from geo.analysis.coverage import analyze_areas
    >>> study = Study.load()
    >>> partitioned_coverage(study).equals(analyze_areas(study))
    True
    """
    params = params if params is not None else WalkParams()
    areas = study.layers["residential_areas"]
    if study.network is None or not len(areas):
        return analyze_areas(study, params)
    compute = run if run is not None else (lambda parts, p: [part_coverage(x, p) for x in parts])
    origins = {kind: area_origins(study, areas, kind) for kind in FACILITY_LAYERS}
    reach = max(params.limit_m(kind) for kind in FACILITY_LAYERS)
    pending = [(rows, reach) for rows in partition_areas(areas, by) if len(rows)]
    found: list[pd.DataFrame] = []
    while pending:
        parts = [cut_part(study, rows, reach_m, origins) for rows, reach_m in pending]
        if sizes is not None:
            sizes.extend(len(p.positions) for p in parts)
        pending = []
        for part, (result, exact) in zip(parts, compute(parts, params), strict=True):
            found.append(result[exact])
            if not exact.all():
                pending.append((part.positions[~exact], part.reach_m * 2))
    merged = pd.concat(found).reindex(areas.index)
    for column in merged.columns:  # a part with only None is object, the whole str: infer
        if not pd.api.types.is_numeric_dtype(merged[column]) and merged[column].dtype != bool:
            merged[column] = merged[column].to_numpy(dtype=object)
    merged.attrs.update(found[0].attrs)
    return merged


def shape_tasks(
    study: Study,
    params: WalkParams,
    minutes: tuple[float, ...] = ISOCHRONE_MINUTES,
    *,
    per_facility: bool = False,
) -> dict[str, tuple[Callable[..., Any], tuple[Any, ...]]]:
    """The gap zones and isochrones of ``analyze`` as independent calls, to run side by
    side on workers: the tasks of :func:`~geo.analysis.isochrones.type_shapes` (two per
    type), whose results :func:`~geo.analysis.isochrones.assemble_shapes` puts together as
    ``analyze`` has them, to the last bit.

    Parameters
    ----------
    study : Study
        With a network.
    params : WalkParams
    minutes : tuple of float
        The isochrone minutes.
    per_facility : bool
        Also the per-facility isochrones.

    Returns
    -------
    dict of str to (callable, args)
        ``shapes:W:T`` for each task ``(W, T)`` of
        :func:`~geo.analysis.isochrones.shape_tasks_of`, in its order, and (with
        ``per_facility``) ``per facility:T`` for every type ``T``.
    """
    values = tuple(float(m) for m in minutes)
    tasks: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
        f"shapes:{what}:{kind}": (shape_task, (study, params, values, (what, kind)))
        for what, kind in shape_tasks_of(params)
    }
    for kind in FACILITY_LAYERS if per_facility else ():
        tasks[f"per facility:{kind}"] = (_per_facility, (study, kind, minutes, params))
    return tasks


def _per_facility(
    study: Study, kind: str, minutes: tuple[float, ...], params: WalkParams
) -> gpd.GeoDataFrame:
    return isochrones(study, kind, minutes, params, per_facility=True)
