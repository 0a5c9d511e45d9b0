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
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geo.errors import NetworkError
from geo.network.graph import WalkNetwork, metric_crs

__all__ = ["NODE_PRECISION_M", "from_lines"]

#: Line ends closer than this are one node. 1 cm is far below the ~1 m accuracy of surveyed
#: street centre lines, and far above the float noise of projected coordinates (~1e-9 m), so
#: ends a GIS drew "on" each other meet while two distinct crossings never merge.
NODE_PRECISION_M = 0.01


def from_lines(
    lines: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    crs: Any = None,
    name_column: str = "name",
    source: str = "lines",
) -> WalkNetwork:
    """Build a network from a line layer: node it, project it, measure it.

    Lines are projected to ``crs`` (default: the UTM zone of the data). Nodes sit at line ends
    and at every crossing, also where two lines cross without a shared vertex. Lines tagged
    ``bridge`` or ``tunnel`` (not "no"), or with a ``layer`` other than 0, pass over or under
    the others: they keep their own shape and join the rest only at their two ends. Ends
    closer than `NODE_PRECISION_M` are one node.

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
    elevated = _is_elevated(frame)

    ground = geoms[~elevated]
    pieces = shapely.get_parts(shapely.union_all(ground)) if len(ground) else ground
    pieces = _split_at_points(pieces, _ends(geoms[elevated]))
    # Union loses attributes: each piece takes the name of the ground line under its middle.
    piece_names = names[:0]
    if len(pieces):
        middles = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
        _, under = shapely.STRtree(ground).query_nearest(middles, all_matches=False)
        piece_names = names[~elevated][under]

    edges = np.concatenate([pieces, geoms[elevated]])
    edge_names = np.concatenate([piece_names, names[elevated]])
    length = shapely.length(edges)
    kept = length > 0
    edges, edge_names, length = edges[kept], edge_names[kept], length[kept]
    m = len(edges)
    ends_xy = np.concatenate(
        [
            shapely.get_coordinates(shapely.get_point(edges, 0)),
            shapely.get_coordinates(shapely.get_point(edges, -1)),
        ]
    )
    node, first = _merge_close(ends_xy)
    return WalkNetwork.from_edges(
        node[:m],
        node[m:],
        length,
        ends_xy[first, 0],
        ends_xy[first, 1],
        metric,
        edge_geometry=edges,
        source=source,
        name=edge_names,
    )


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


def _is_elevated(frame: pd.DataFrame) -> np.ndarray:
    """True where OSM-style tags put a line on a bridge, in a tunnel or on another layer."""
    elevated = np.zeros(len(frame), dtype=bool)
    for tag in ("bridge", "tunnel"):
        if tag in frame:
            value = frame[tag].astype("string").str.strip().str.lower()
            elevated |= (value.notna() & ~value.isin(["", "no", "false", "0"])).to_numpy()
    if "layer" in frame:
        layer = pd.to_numeric(frame["layer"], errors="coerce").fillna(0)
        elevated |= (layer != 0).to_numpy()
    return elevated


def _ends(lines: np.ndarray) -> np.ndarray:
    return np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])


def _merge_close(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group points closer than `NODE_PRECISION_M` (transitively): (group of each, first of each).

    Rounding to a 1 cm grid would split two ends 2 mm apart that straddle a cell edge.
    """
    points = shapely.points(xy)
    near_a, near_b = shapely.STRtree(points).query(
        points, predicate="dwithin", distance=NODE_PRECISION_M
    )
    pairs = csr_matrix(
        (np.ones(len(near_a), dtype=np.int8), (near_a, near_b)), shape=(len(xy),) * 2
    )
    _, group = connected_components(pairs, directed=False)
    return group.astype(np.int64), np.unique(group, return_index=True)[1]


def _grid_keys(xy: np.ndarray) -> np.ndarray:
    """One hashable key per coordinate pair, equal for points in the same 1 cm cell."""
    cells = np.ascontiguousarray(np.round(xy / NODE_PRECISION_M).astype(np.int64))
    return cells.view(np.dtype((np.void, 16))).ravel()


def _split_at_points(lines: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Split ``lines`` where one of ``points`` lies on them.

    Bridge ends meet a street wherever they land on it, with or without a vertex there:
    `shapely.snap` first inserts the missing vertex, then lines are cut at those vertices.
    """
    hit_point, hit_line = (
        shapely.STRtree(lines).query(points, predicate="dwithin", distance=NODE_PRECISION_M)
        if len(lines) and len(points)
        else (np.empty(0, np.int64), np.empty(0, np.int64))
    )
    if not len(hit_line):
        return lines
    order = np.argsort(hit_line, kind="stable")
    touched, slot = np.unique(hit_line[order], return_inverse=True)
    landing = shapely.multipoints(points[hit_point[order]], indices=slot)
    lines = lines.copy()
    lines[touched] = shapely.snap(lines[touched], landing, NODE_PRECISION_M)

    xy, owner = shapely.get_coordinates(lines, return_index=True)
    first = np.r_[True, owner[1:] != owner[:-1]]
    last = np.r_[owner[1:] != owner[:-1], True]
    cut = np.isin(_grid_keys(xy), _grid_keys(shapely.get_coordinates(points))) & ~first & ~last
    copies = np.where(cut, 2, 1)  # a cut vertex ends one piece and starts the next
    at = np.cumsum(copies) - copies
    starts = np.zeros(copies.sum(), dtype=bool)
    starts[at[first]] = True
    starts[at[cut] + 1] = True
    return shapely.linestrings(np.repeat(xy, copies, axis=0), indices=np.cumsum(starts) - 1)
