"""The catchment of a point: which compounds, and how many people, live within a walk of it.

The reverse of coverage: the point (a site for a new facility, say) is snapped once and one
Dijkstra from it gives every street node its walking metres; each compound's walk is its
best origin's (its gates, or the streets it starts from: the origins coverage uses,
:func:`geo.analysis.coverage.area_origins`), the origin's connector included. A compound
that contains the point is 0 m away, as a facility inside an area is for coverage.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.analysis.coverage import area_origins
from geo.analysis.params import WalkParams, parse_minutes_list
from geo.analysis.study import Study
from geo.errors import NotFoundError, QueryError, UnreachableError
from geo.network.graph import WalkNetwork
from geo.network.routing import nearest_source, seeds_from_snap
from geo.network.snapping import Snap

__all__ = ["COUNTS", "area_walks", "catchment", "start_point"]

#: The compounds' counts a catchment sums.
COUNTS = ("households", "population", "elderly")


def _network_of(study: Study) -> WalkNetwork:
    if study.network is None:
        raise QueryError(
            "集水区需要步行路网 / a catchment needs a walking network: pass --network, or give "
            "the store its streets (a folder store: streets.geojson beside the layers)"
        )
    return study.network


def area_walks(study: Study, lon: float, lat: float, cutoff: float = np.inf) -> pd.Series:
    """Walking metres from a point to every compound (its best origin), along the streets.

    Parameters
    ----------
    study : Study
        With a walking network.
    lon, lat : float
        The point, WGS-84.
    cutoff : float
        Metres; compounds farther away get ``inf``. Default: no limit.

    Returns
    -------
    pandas.Series
        Metres per compound, indexed like ``study.layers["residential_areas"]``; ``inf``
        where out of reach.

    Raises
    ------
    QueryError
        Without a network, or when the point is too far from every street.

    Examples
    --------
    From street A's 100 m mark to the gated compound, whose gate is 30 m off A at 150 m:

    >>> from geo.testing import drawn_study, lonlat
    >>> walks = area_walks(drawn_study(), *lonlat(100, 0))
    >>> round(float(walks["gated"]), 1)
    80.0
    """
    net = _network_of(study)
    areas = study.layers["residential_areas"]
    x, y = study.project([lon], [lat])
    snap = study.snap(x, y)
    if not snap.ok[0]:
        raise UnreachableError(f"该点无法到达 / the point cannot be reached: {snap.reason[0]}")
    seeds = seeds_from_snap(net, snap, np.array([0]))
    dist, _ = nearest_source(net.indptr, net.indices, net.weights, *seeds, cutoff=cutoff)
    origins = area_origins(study, areas)
    best = np.full(len(areas), np.inf)
    if origins.snap is not None and len(origins.owner):
        o = origins.snap
        ok = np.flatnonzero(o.ok)
        edge = o.edge[ok]
        via_u = dist[net.edge_u[edge]] + o.offset[ok]
        via_v = dist[net.edge_v[edge]] + net.edge_length[edge] - o.offset[ok]
        metres = np.minimum(via_u, via_v)
        # on the point's own edge the walk may go straight along it
        same = edge == snap.edge[0]
        along = np.abs(o.offset[ok] - snap.offset[0]) + float(snap.distance[0])
        metres = np.where(same, np.minimum(metres, along), metres) + o.distance[ok]
        np.minimum.at(best, origins.owner[ok], metres)
    inside = areas.geometry.intersects(shapely.Point(lon, lat)).to_numpy()
    best[inside] = 0.0
    best[best > cutoff] = np.inf
    return pd.Series(best, index=areas.index, name="walk_m")


def catchment(
    study: Study,
    lon: float,
    lat: float,
    minutes: Iterable[float] = (7.5, 15),
    params: WalkParams | None = None,
) -> pd.DataFrame:
    """The compounds within each of ``minutes``' walk of a point, and their people.

    Parameters
    ----------
    study : Study
        With a walking network.
    lon, lat : float
        The point, WGS-84.
    minutes : iterable of float
        Minutes at the walker's speed, ascending after parsing (as for isochrones).
    params : WalkParams, optional
        The walker; default: the standard walker (4 km/h).

    Returns
    -------
    pandas.DataFrame
        One row per minutes value: ``minutes``, ``limit_m`` (the walk's metres),
        ``compounds``, ``households``, ``population``, ``elderly`` (sums, ints) and
        ``ids`` (the compounds' ids, nearest first). For a point too far from every
        street, no compound, and ``attrs["reason"]`` says why (bilingual).

    Raises
    ------
    QueryError
        Bad minutes, or no network.

    Examples
    --------
    From street A's 100 m mark: the gated compound is 80 m away (1.2 minutes at 4 km/h),
    the compound touching street B 900 + 550 = 1450 m away (21.75 minutes).

    >>> from geo.testing import drawn_study, lonlat
    >>> table = catchment(drawn_study(), *lonlat(100, 0), minutes=(5, 30))
    >>> table["compounds"].tolist(), table["population"].tolist(), table["ids"].iloc[1]
    ([1, 2], [250, 750], ['gated', 'touching'])
    """
    walker = WalkParams.of(params).profile
    values = list(parse_minutes_list(minutes))
    limits = [value * walker.metres_per_minute for value in values]
    areas = study.layers["residential_areas"]
    reason = None
    try:
        walks = area_walks(study, lon, lat, cutoff=max(limits))
    except UnreachableError as unreachable:  # no walk starts there: nothing is within reach
        walks, reason = pd.Series(np.inf, index=areas.index, name="walk_m"), str(unreachable)
    order = walks.sort_values(kind="stable")
    rows = []
    for value, limit in zip(values, limits, strict=True):
        within = order[order <= limit + 1e-9].index
        row: dict[str, object] = {
            "minutes": float(value),
            "limit_m": round(limit, 1),
            "compounds": len(within),
        }
        for column in COUNTS:
            total = areas[column].loc[within].sum() if column in areas else 0
            row[column] = int(total) if total == total else 0
        row["ids"] = [str(i) for i in within]
        rows.append(row)
    table = pd.DataFrame(rows)
    if reason is not None:
        table.attrs["reason"] = reason
    return table


def start_point(study: Study, area_id: str, kind: str) -> tuple[float, float]:
    """Where a compound's walk to its nearest facility of ``kind`` starts (WGS-84).

    The origin (gate, or point of a street it starts from) with the shortest walk, as
    coverage measures it; the compound's representative point when no origin reaches one.

    Parameters
    ----------
    study : Study
    area_id : str
        A compound's id.
    kind : str
        A facility type.

    Returns
    -------
    tuple of float
        ``(lon, lat)``.

    Raises
    ------
    NotFoundError
        No compound has that id.

    Examples
    --------
    >>> from geo.testing import drawn_study, lonlat
    >>> lon, lat = start_point(drawn_study(), "gated", "clinics")
    >>> [round(v, 6) for v in (lon, lat)] == [round(v, 6) for v in lonlat(150, 30)]
    True
    """
    areas = study.layers["residential_areas"]
    if area_id not in areas.index:
        raise NotFoundError(f"没有小区 {area_id} / no compound '{area_id}'")
    position = int(areas.index.get_loc(area_id))
    origins = area_origins(study, areas, kind)
    rows = np.flatnonzero(origins.owner == position)
    if len(rows) and (origins.snap is None or origins.snap.ok[rows].any()):
        sub = None
        if origins.snap is not None:
            s = origins.snap
            sub = Snap(s.edge[rows], s.offset[rows], s.distance[rows], s.ok[rows], s.reason[rows])
        metres, _, _ = study.walk_metres(origins.x[rows], origins.y[rows], kind, origin_snap=sub)
        best = rows[int(np.argmin(metres[:, 0]))]
        back = pyproj.Transformer.from_crs(study.crs, "EPSG:4326", always_xy=True)
        lon, lat = back.transform(float(origins.x[best]), float(origins.y[best]))
        return float(lon), float(lat)
    point = areas.geometry.loc[area_id].representative_point()
    return float(point.x), float(point.y)
