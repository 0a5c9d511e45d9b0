"""Line layers as walking networks: noding, bridges and tunnels, metres along the lines.

Examples
--------
A cross of two streets drawn without a vertex where they cross (in UTM zone 51N, Shanghai):

>>> import geopandas as gpd
>>> from shapely import LineString
>>> streets = gpd.GeoDataFrame(
...     {"name": ["长阳路", "双阳路"]},
...     geometry=[
...         LineString([(355_000, 3_460_000), (355_200, 3_460_000)]),
...         LineString([(355_100, 3_459_950), (355_100, 3_460_050)]),
...     ],
...     crs="EPSG:32651",
... )
>>> net = from_lines(streets)
>>> net.n_nodes, net.n_edges, sorted(net.edge_length.tolist())
(5, 4, [50.0, 50.0, 100.0, 100.0])
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import NetworkError
from geo.network.graph import WalkNetwork, metric_crs
from geo.network.noding import CLUSTER_TOLERANCE_M, merge_close, node_lines
from geo.network.quality import join_near_misses
from geo.network.tags import edge_level, elevated_mask, unknown_tag_values

__all__ = ["NODE_PRECISION_M", "from_lines"]

#: Line ends closer than this are one node, and a line end this close to another line joins
#: it: the cluster tolerance, `geo.network.noding.CLUSTER_TOLERANCE_M` (1 cm; see there why).
NODE_PRECISION_M = CLUSTER_TOLERANCE_M


def from_lines(
    lines: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    crs: Any = None,
    name_column: str = "name",
    source: str = "lines",
    tolerance: float = NODE_PRECISION_M,
    join_within: float | None = None,
) -> WalkNetwork:
    """Build a network from a line layer: node it, project it, measure it.

    Lines are projected to ``crs`` (default: the UTM zone of the data) and noded as a GIS
    does with a cluster tolerance (`geo.network.noding.node_lines`): nodes sit at line ends,
    at every crossing, also where two lines cross without a shared vertex, and wherever a
    line end lands on another line within ``tolerance`` (a T-junction drawn a hair short).
    Lines tagged ``bridge`` or ``tunnel``, or with a ``layer`` other than 0 (read as
    `geo.network.tags.TAG_VALUES` says: yes/no, T/F, 1/0, 是/否 …), pass over or under the
    others: they keep their own shape and join the rest only at shared vertices and where a
    line end lands on them. Ends closer than ``tolerance`` are one node. Each edge keeps
    its level (`geo.network.tags.edge_level`), so that near misses are looked for on one
    level only; the tag values the table does not know are kept in ``unknown_tags``.

    Parameters
    ----------
    lines : geopandas.GeoDataFrame or geopandas.GeoSeries
        LineStrings and MultiLineStrings with a CRS; the caller's frame is not changed.
        Missing and empty geometries are dropped.
    crs : Any, optional
        Metric CRS to build in; default ``lines.estimate_utm_crs()``.
    name_column : str
        Column of street names kept on each edge, if present.
    source : str
        Description stored on the network.
    tolerance : float
        The cluster tolerance in metres (default `NODE_PRECISION_M`, 1 cm).
    join_within : float, optional
        Also join every dead end that stops this many metres or less short of another
        street it does not reach on foot nearby (a near miss,
        `geo.network.quality.near_misses`) with a short connector; default: join none.

    Returns
    -------
    WalkNetwork
        Edges of positive length only, each with its shape and, where known, its name.

    Raises
    ------
    NetworkError
        No CRS, no lines, or geometries that are not lines (naming the rows); a ``crs``
        not in metres.
    """
    frame = _line_frame(lines)
    metric = metric_crs(crs if crs is not None else frame.estimate_utm_crs())
    frame = frame.to_crs(metric)
    geoms = shapely.force_2d(frame.geometry.to_numpy())
    names = (
        frame[name_column].to_numpy(dtype=object)
        if name_column in frame
        else np.full(len(frame), None, dtype=object)
    )
    edges, origin = node_lines(geoms, elevated_mask(frame), tolerance)
    length = shapely.length(edges)
    kept = length > 0
    edges, edge_names, length = edges[kept], names[origin[kept]], length[kept]
    levels = edge_level(frame)[origin[kept]]
    m = len(edges)
    ends_xy = np.concatenate(
        [
            shapely.get_coordinates(shapely.get_point(edges, 0)),
            shapely.get_coordinates(shapely.get_point(edges, -1)),
        ]
    )
    node, first = merge_close(ends_xy, tolerance)
    # a sliver between two landings closer than the tolerance collapses to a point
    sliver = (node[:m] == node[m:]) & (length <= tolerance)
    used, node = np.unique(
        np.concatenate([node[:m][~sliver], node[m:][~sliver]]), return_inverse=True
    )
    first, m = first[used], int((~sliver).sum())
    net = WalkNetwork.from_edges(
        node[:m],
        node[m:],
        length[~sliver],
        ends_xy[first, 0],
        ends_xy[first, 1],
        metric,
        edge_geometry=edges[~sliver],
        source=source,
        name=edge_names[~sliver],
        edge_level=levels[~sliver],
        unknown_tags=unknown_tag_values(frame),
    )
    if join_within is not None:
        net, _ = join_near_misses(net, join_within, tolerance=tolerance)
    return net


def _line_frame(lines: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame:
    """The layer as single LineStrings, empty rows dropped, after checking CRS and types."""
    frame = lines.to_frame() if isinstance(lines, gpd.GeoSeries) else lines
    if frame.crs is None:
        raise NetworkError(
            "路网图层没有坐标系 / the street layer has no CRS: set one (GeoJSON is WGS-84)"
        )
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    kinds = frame.geometry.geom_type
    wrong = kinds[~kinds.isin(["LineString", "MultiLineString"])]
    if len(wrong):
        listed = ", ".join(f"{idx} ({kind})" for idx, kind in wrong.head(10).items())
        raise NetworkError(
            f"路网图层只能包含线 / a street layer holds lines only; {len(wrong)} feature(s) "
            f"are not: {listed}. Drop them or convert areas to their outlines first."
        )
    if frame.empty:
        raise NetworkError("路网图层没有线 / the street layer has no lines")
    return frame.explode(index_parts=False)
