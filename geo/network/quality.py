"""Quality checks of a walking network: near misses, joining them, the summary `network info` prints.

A *near miss* is a dead end (a node with one edge) that stops within `NEAR_MISS_M` of
another street it cannot reach on foot within `NEAR_MISS_DETOUR_M`: almost always a street
drawn a little short, or an OpenStreetMap way that ends on another without sharing its node.
Noding (`geo.network.noding`) joins ends within the 1 cm cluster tolerance and no farther:
a gap of metres may be real (a fence, a wall, a canal edge), so near misses are reported,
and only joined when asked (`join_near_misses`; ``--join-within METRES``). A dead end and a
street on different levels (``WalkNetwork.edge_level``: a pedestrian underpass ending beside
a road tunnel, a footbridge above a street) are never a near miss: they are a floor apart.

Examples
--------
A footway stopping 2 m short of a street (UTM 51N metres):

>>> import geopandas as gpd
>>> from shapely import LineString
>>> from geo.network.lines import from_lines
>>> net = from_lines(gpd.GeoSeries([LineString([(355_000, 3_460_000), (355_100, 3_460_000)]),
...                                 LineString([(355_040, 3_460_030), (355_040, 3_460_002)])],
...                                crs=32651))
>>> misses = near_misses(net)
>>> len(misses), misses["gap_m"].round(2).tolist()
(1, [2.0])
>>> joined, done = join_near_misses(net, 3.0)
>>> network_report(joined)["pieces"], len(done)
(1, 1)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.network.graph import WalkNetwork, components_report
from geo.network.noding import CLUSTER_TOLERANCE_M, merge_close, split_lines_at
from geo.network.routing import k_nearest_sources

__all__ = [
    "NEAR_MISS_DETOUR_M",
    "NEAR_MISS_M",
    "format_report",
    "join_near_misses",
    "near_misses",
    "network_report",
]

#: A dead end this close to another street is reported as a near miss. 5 m is wider than the
#: 1–3 m error of digitised or GPS-traced centre lines and narrower than the ~7 m between the
#: centre lines of the narrowest two-lane street and its pavement: a gap this small is much
#: more often a missed join than a real barrier, yet not so wide that parallel streets count.
NEAR_MISS_M = 5.0

#: A street within `NEAR_MISS_M` of a dead end that can be walked to in this many metres is
#: already joined in effect (the dead end's own street bending back, a short stub beside a
#: junction): not a near miss. 25 m is about 20 seconds on foot, 2.5 % of the 1 km radius of
#: a 15-minute walk.
NEAR_MISS_DETOUR_M = 25.0

#: Dead ends a node's reach is tracked for at once (k of `k_nearest_sources`): more than this
#: many dead ends within `NEAR_MISS_DETOUR_M` of one node may leave a pair looking unjoined.
_TRACKED = 8

_COLUMNS = ["node", "edge", "gap_m", "x", "y", "to_x", "to_y", "lon", "lat"]


def near_misses(
    net: WalkNetwork, within: float = NEAR_MISS_M, *, detour: float = NEAR_MISS_DETOUR_M
) -> pd.DataFrame:
    """Dead ends that stop within ``within`` metres of a street they do not reach on foot.

    Only streets on the dead end's own level count (``net.edge_level``; all on one level
    when it is None).

    Parameters
    ----------
    net : WalkNetwork
        Any network (line layer, OpenStreetMap, GraphML).
    within : float
        Metres between the dead end and the other street (default `NEAR_MISS_M`).
    detour : float
        A street reachable on foot in this many metres is not a near miss (default
        `NEAR_MISS_DETOUR_M`).

    Returns
    -------
    pandas.DataFrame
        One row per near miss, the nearest street of each dead end, ordered by gap:
        ``node`` (the dead end), ``edge`` (the street it misses), ``gap_m``, ``x``, ``y``
        (the dead end in ``net.crs``), ``to_x``, ``to_y`` (the nearest point of that
        street), ``lon``, ``lat`` (the dead end in WGS-84).
    """
    degree = np.bincount(np.concatenate([net.edge_u, net.edge_v]), minlength=net.n_nodes)
    dead = np.flatnonzero(degree == 1)
    if not len(dead) or within <= 0:
        return pd.DataFrame({c: [] for c in _COLUMNS})
    points = shapely.points(net.node_x[dead], net.node_y[dead])
    at, edge = net.edge_tree.query(points, predicate="dwithin", distance=within)
    own = (net.edge_u[edge] == dead[at]) | (net.edge_v[edge] == dead[at])
    if net.edge_level is not None:  # a dead end's one edge is its first (and only) arc
        level = net.edge_level
        own |= level[net.arc_edge[net.indptr[dead[at]]]] != level[edge]
    at, edge = at[~own], edge[~own]
    lines = net.edge_geometry[edge]
    gap = shapely.distance(points[at], lines)
    offset = shapely.line_locate_point(lines, points[at])

    seeds = np.unique(at)  # how far each dead end walks, up to the detour
    node_dist, node_label = k_nearest_sources(
        net.indptr, net.indices, net.weights, dead[seeds], np.zeros(len(seeds)), seeds,
        k=_TRACKED, cutoff=detour,
    )  # fmt: skip
    u, v = net.edge_u[edge], net.edge_v[edge]
    via_u = np.where(node_label[u] == at[:, None], node_dist[u], np.inf).min(axis=1) + offset
    via_v = np.where(node_label[v] == at[:, None], node_dist[v], np.inf).min(axis=1)
    walk = np.minimum(via_u, via_v + net.edge_length[edge] - offset)
    far = walk > detour
    at, edge, gap, offset = at[far], edge[far], gap[far], offset[far]

    order = np.lexsort((edge, gap, at))
    _, first = np.unique(at[order], return_index=True)
    pick = order[first]
    at, edge, gap = at[pick], edge[pick], gap[pick]
    to = shapely.line_interpolate_point(net.edge_geometry[edge], offset[pick])
    x, y = net.node_x[dead[at]], net.node_y[dead[at]]
    lon, lat = pyproj.Transformer.from_crs(net.crs, "EPSG:4326", always_xy=True).transform(x, y)
    found = pd.DataFrame(
        {"node": dead[at], "edge": edge, "gap_m": gap, "x": x, "y": y,
         "to_x": shapely.get_x(to), "to_y": shapely.get_y(to), "lon": lon, "lat": lat}
    )  # fmt: skip
    return found.sort_values(["gap_m", "node"], kind="stable").reset_index(drop=True)


def join_near_misses(
    net: WalkNetwork,
    within: float,
    *,
    tolerance: float = CLUSTER_TOLERANCE_M,
    detour: float = NEAR_MISS_DETOUR_M,
) -> tuple[WalkNetwork, pd.DataFrame]:
    """Join every near miss within ``within`` metres with a straight connector.

    The street missed is split at its point nearest the dead end and a connector edge
    (no name, as long as the gap, on the level of both) added; nodes are then rebuilt from the edges' ends,
    merging ends closer than ``tolerance`` (two OpenStreetMap nodes that close are
    duplicates).

    Parameters
    ----------
    net : WalkNetwork
        Any network.
    within : float
        Metres: the largest gap joined.
    tolerance : float
        Cluster tolerance in metres (default `geo.network.noding.CLUSTER_TOLERANCE_M`).
    detour : float
        As in `near_misses`.

    Returns
    -------
    network : WalkNetwork
        ``net`` itself when nothing was joined.
    joined : pandas.DataFrame
        The near misses joined, as `near_misses` lists them.
    """
    misses = near_misses(net, within, detour=detour)
    if misses.empty:
        return net, misses
    lines = net.edge_geometry
    names = net.name if net.name is not None else np.full(net.n_edges, None, dtype=object)
    levels = net.edge_level if net.edge_level is not None else np.zeros(net.n_edges, np.int64)
    targets = np.unique(misses["edge"].to_numpy())
    landing = shapely.points(misses["to_x"].to_numpy(), misses["to_y"].to_numpy())
    pieces, owner = split_lines_at(lines[targets], landing, tolerance)
    wide = misses["gap_m"].to_numpy() > tolerance
    connectors = shapely.linestrings(
        np.stack(
            [misses[["x", "y"]].to_numpy()[wide], misses[["to_x", "to_y"]].to_numpy()[wide]],
            axis=1,
        )
    ) if wide.any() else np.empty(0, dtype=object)  # fmt: skip
    kept = np.setdiff1d(np.arange(net.n_edges), targets)
    edges = np.concatenate([lines[kept], pieces, connectors])
    edge_names = np.concatenate(
        [names[kept], names[targets][owner], np.full(len(connectors), None, dtype=object)]
    )
    edge_levels = np.concatenate(
        [levels[kept], levels[targets][owner], levels[misses["edge"].to_numpy()][wide]]
    )
    length = shapely.length(edges)
    positive = length > 0
    edges, edge_names, edge_levels = edges[positive], edge_names[positive], edge_levels[positive]
    length = length[positive]
    m = len(edges)
    ends = shapely.get_coordinates(
        np.concatenate([shapely.get_point(edges, 0), shapely.get_point(edges, -1)])
    )
    node, first = merge_close(ends, tolerance)
    joined = WalkNetwork.from_edges(
        node[:m], node[m:], length, ends[first, 0], ends[first, 1], net.crs,
        edge_geometry=edges, source=f"{net.source} (+{len(misses)} near misses joined)",
        name=edge_names, edge_level=None if net.edge_level is None else edge_levels,
        unknown_tags=net.unknown_tags,
    )  # fmt: skip
    return joined, misses


def network_report(
    net: WalkNetwork, within: float = NEAR_MISS_M, *, joined: pd.DataFrame | None = None
) -> dict[str, Any]:
    """What ``lifecircle network info`` prints: size, pieces and near misses.

    Parameters
    ----------
    net : WalkNetwork
        The network.
    within : float
        Metres for `near_misses` (default `NEAR_MISS_M`).
    joined : pandas.DataFrame, optional
        The near misses `join_near_misses` joined to make ``net``.

    Returns
    -------
    dict
        ``nodes``, ``edges``, ``km``, ``pieces`` (connected pieces), ``largest_share`` (of
        the length, in the largest piece), ``near_misses`` (how many), ``near_miss_within_m``,
        ``near_miss_positions`` (``lon``, ``lat``, ``gap_m`` of each, nearest first) and,
        when ``joined`` is given, ``joined`` (how many) and ``joined_positions``; and
        ``unknown_tags``: the ``bridge``/``tunnel``/``layer`` values the reader guessed at
        (``tag``, ``value``, ``streets``; `geo.network.tags.unknown_tag_values`).
    """
    report = components_report(net)
    misses = near_misses(net, within)

    def positions(frame: pd.DataFrame) -> list[dict[str, float]]:
        return [
            {"lon": round(float(lon), 7), "lat": round(float(lat), 7), "gap_m": round(float(g), 3)}
            for lon, lat, g in zip(frame["lon"], frame["lat"], frame["gap_m"], strict=True)
        ]

    out: dict[str, Any] = {
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "km": round(float(report["km"]), 3),
        "pieces": int(report["n_components"]),
        "largest_share": round(float(report["largest_share"]), 4),
        "near_misses": len(misses),
        "near_miss_within_m": within,
        "near_miss_positions": positions(misses),
        "unknown_tags": [
            {"tag": tag, "value": value, "streets": count} for tag, value, count in net.unknown_tags
        ],
    }
    if joined is not None:
        out |= {"joined": len(joined), "joined_positions": positions(joined)}
    return out


def format_report(report: dict[str, Any], limit: int = 10) -> str:
    """`network_report` as bilingual lines for the terminal.

    Parameters
    ----------
    report : dict
        As `network_report` returns it.
    limit : int
        How many positions to list; the rest are counted.

    Returns
    -------
    str
        Several lines, without a trailing newline.
    """
    lines = [
        f"节点 / nodes: {report['nodes']:,}",
        f"路段 / edges: {report['edges']:,}",
        f"长度 / km: {report['km']:.2f}",
        f"连通片 / pieces: {report['pieces']:,} (最大片占 / largest holds "
        f"{report['largest_share']:.1%})",
    ]
    for key, head in (
        ("joined", "已连接 / joined"),
        ("near_misses", f"近失连接 / near misses (≤ {report['near_miss_within_m']:g} m)"),
    ):
        if key not in report:
            continue
        listed = report["near_miss_positions" if key == "near_misses" else "joined_positions"]
        lines.append(f"{head}: {report[key]:,}")
        lines += [f"  {p['lon']:.6f}, {p['lat']:.6f}  {p['gap_m']:.2f} m" for p in listed[:limit]]
        if len(listed) > limit:
            lines.append(f"  … +{len(listed) - limit}")
    unknown = report.get("unknown_tags", [])
    if unknown:
        lines.append(
            "未识别的标签值（桥梁/隧道按“是”、layer 按 0 处理）/ tag values not understood "
            "(bridge/tunnel read as yes, layer as 0):"
        )
        lines += [f"  {u['tag']}={u['value']!r} ×{u['streets']:,}" for u in unknown[:limit]]
        if len(unknown) > limit:
            lines.append(f"  … +{len(unknown) - limit}")
    return "\n".join(lines)
