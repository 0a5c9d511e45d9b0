"""OpenStreetMap and osmnx street networks: ``.osm.pbf`` extracts, GraphML files, Overpass.

Unlike a hand-drawn line layer, OSM says itself where ways connect: at shared nodes. These
readers keep that topology (a footway under a road without a shared node stays apart) rather
than noding lines geometrically as `geo.network.lines.from_lines` does. Lengths are recomputed in the
network's UTM CRS so that they agree with snapping offsets; they differ from the great-circle
lengths of osmnx/pyrosm by less than 0.1 %.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import ArrayLike

from geo.errors import NetworkError, SourceReadError
from geo.network.graph import WalkNetwork
from geo.network.tags import ELEVATION_TAGS, edge_level, tag_is_yes, unknown_tag_values

__all__ = [
    "CLOSED_ACCESS",
    "EDGE_TAGS",
    "EXCLUDED_HIGHWAYS",
    "FOOT_ALLOWED",
    "WALKABLE_HIGHWAYS",
    "fetch_graph",
    "fetch_place",
    "graph_edges",
    "network_from_graph",
    "network_from_topology",
    "read_graphml",
    "read_osm_pbf",
    "walkable_mask",
    "walkable_ways",
]

#: ``highway`` values a pedestrian may use (OSM wiki, Key:highway). Cycleways count unless
#: ``foot=no``: in Shanghai many are shared with pedestrians.
WALKABLE_HIGHWAYS = frozenset(
    {
        "footway", "path", "pedestrian", "living_street", "residential", "service",
        "unclassified", "tertiary", "tertiary_link", "secondary", "secondary_link",
        "primary", "primary_link", "steps", "track", "corridor", "cycleway",
    }
)  # fmt: skip

#: Never walkable, whatever their other tags say: 高速公路 and 快速路 (elevated expressways).
EXCLUDED_HIGHWAYS = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})

#: ``foot`` values that open a way to pedestrians even where ``access`` closes it.
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})

#: ``access`` values that close a way to the public (OSM wiki, Key:access).
CLOSED_ACCESS = frozenset({"private", "no"})

#: The tags a street keeps when it is saved as a line (``lifecircle network fetch``) and read
#: back: what walking needs (`walkable_mask`) and what says a street passes over or under
#: the others (`geo.network.tags.ELEVATION_TAGS`).
EDGE_TAGS = ("highway", "bridge", "tunnel", "layer", "foot", "access")

_OFFLINE = (
    "需要联网 / needs internet access to OpenStreetMap's Overpass API; offline, pass an "
    ".osm.pbf file with --network"
)


def walkable_mask(
    highway: ArrayLike, foot: ArrayLike | None = None, access: ArrayLike | None = None
) -> np.ndarray:
    """True for each way a pedestrian may walk, from its ``highway``, ``foot`` and ``access`` tags.

    Walkable: ``highway`` in `WALKABLE_HIGHWAYS` and not in `EXCLUDED_HIGHWAYS`, ``foot`` not
    ``no``, and ``access`` not in `CLOSED_ACCESS` unless ``foot`` is in `FOOT_ALLOWED`. Tags
    are compared in lower case; a missing ``foot`` or ``access`` tag counts as none.

    Parameters
    ----------
    highway : array-like of str
        Each way's ``highway`` tag.
    foot, access : array-like of str, optional
        Each way's ``foot`` and ``access`` tags; None when no way has that tag.

    Returns
    -------
    numpy.ndarray
        bool, one per way.

    Examples
    --------
    >>> walkable_mask(["footway", "motorway", "cycleway", "service"],
    ...               foot=[None, "yes", "no", None], access=[None, None, None, "private"]).tolist()
    [True, False, False, False]
    """
    kind = pd.Series(np.asarray(highway, dtype=object)).astype("string").str.lower()

    def tag(values: ArrayLike | None) -> pd.Series:
        if values is None:
            return pd.Series("", index=kind.index, dtype="string")
        column = pd.Series(np.asarray(values, dtype=object), index=kind.index)
        return column.astype("string").str.strip().str.lower().fillna("")

    foot_tag, access_tag = tag(foot), tag(access)
    walkable = (
        kind.isin(WALKABLE_HIGHWAYS).fillna(False)
        & ~kind.isin(EXCLUDED_HIGHWAYS).fillna(False)
        & (foot_tag != "no")
        & (~access_tag.isin(CLOSED_ACCESS) | foot_tag.isin(FOOT_ALLOWED))
    )
    return walkable.to_numpy(dtype=bool)


def walkable_ways(path: str | os.PathLike[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and walkable way segments of an ``.osm.pbf`` extract, in WGS-84, via pyrosm.

    Parameters
    ----------
    path : path-like
        The ``.osm.pbf`` extract.

    Returns
    -------
    nodes : geopandas.GeoDataFrame
        With ``id``, ``lon``, ``lat``.
    ways : geopandas.GeoDataFrame
        With ``u``, ``v`` (node ids), ``highway``, ``name``, ``foot``, ``access``,
        ``bridge``, ``tunnel``, ``layer`` and the geometry, split at every OSM node; walkable
        ways only (`walkable_mask`).

    Raises
    ------
    NetworkError
        pyrosm is not installed, or the extract holds no streets.
    SourceReadError
        pyrosm cannot read the file.
    """
    try:
        import pyrosm
    except ImportError as exc:
        raise NetworkError(
            "读取 .osm.pbf 需要 pyrosm / reading .osm.pbf needs pyrosm: pip install pyrosm"
        ) from exc
    from pyrosm.exceptions import InvalidOSMFileError

    try:
        found = pyrosm.OSM(str(path)).get_network(network_type="all", nodes=True)
    except (OSError, ValueError, RuntimeError, InvalidOSMFileError) as exc:
        raise SourceReadError(
            f"无法读取 OSM 文件 / cannot read the OSM extract {path}: {exc}"
        ) from exc
    if found is None or found[1] is None or found[1].empty:
        raise NetworkError(f"OSM 文件中没有道路 / no streets in the OSM extract {path}")
    nodes, ways = found
    for tag in ("name", "foot", "access", "bridge", "tunnel", "layer"):
        if tag not in ways:
            ways[tag] = None
    if "tags" in ways:  # pyrosm keeps the tags it has no column for as JSON text
        layer = ways["tags"].astype("string").str.extract(r'"layer"\s*:\s*"([^"]*)"')[0]
        ways["layer"] = ways["layer"].where(ways["layer"].notna(), layer.to_numpy(dtype=object))
    walkable = walkable_mask(ways["highway"], ways["foot"], ways["access"])
    columns = ["u", "v", "highway", "name", "foot", "access", *ELEVATION_TAGS, "geometry"]
    return nodes, ways.loc[walkable, columns].reset_index(drop=True)


def read_osm_pbf(path: str | os.PathLike[str]) -> WalkNetwork:
    """The walking network of an OpenStreetMap ``.osm.pbf`` extract (walkable ways only).

    See `walkable_mask` for which ways count. Ways connect where they share an OSM node.

    Parameters
    ----------
    path : path-like
        The ``.osm.pbf`` extract.

    Returns
    -------
    WalkNetwork
        In the UTM zone of the data, with street names where OSM has them.

    Raises
    ------
    NetworkError
        pyrosm is not installed, or the extract has no (walkable) streets.
    SourceReadError
        pyrosm cannot read the file.
    """
    nodes, ways = walkable_ways(path)
    if ways.empty:
        raise NetworkError(f"OSM 文件中没有可步行道路 / no walkable ways in {path}")
    return network_from_topology(
        nodes["id"].to_numpy(),
        nodes["lon"].to_numpy(),
        nodes["lat"].to_numpy(),
        ways["u"].to_numpy(),
        ways["v"].to_numpy(),
        ways.geometry.to_numpy(),
        ways["name"].to_numpy(dtype=object),
        crs="EPSG:4326",
        source=f"OpenStreetMap {Path(path).name}",
        level=edge_level(ways),
        unknown_tags=unknown_tag_values(ways),
    )


def network_from_topology(
    node_id: ArrayLike,
    node_x: ArrayLike,
    node_y: ArrayLike,
    edge_u_id: ArrayLike,
    edge_v_id: ArrayLike,
    edge_geometry: ArrayLike,
    name: ArrayLike | None,
    *,
    crs: Any,
    source: str,
    level: ArrayLike | None = None,
    unknown_tags: tuple[tuple[str, str, int], ...] = (),
) -> WalkNetwork:
    """A network from nodes with ids and edges naming their end nodes, in any CRS.

    Nodes no edge uses are dropped; missing edge geometries become straight lines; every
    geometry is turned to run from u to v; all is projected to the UTM zone of the data.

    Parameters
    ----------
    node_id : array-like
        Unique node ids.
    node_x, node_y : array-like of float
        Node coordinates in ``crs``.
    edge_u_id, edge_v_id : array-like
        The ids of each edge's end nodes.
    edge_geometry : array-like of LineString
        Each edge's shape in ``crs``, in either direction; None or NaN for a straight one.
    name : array-like of str, optional
        Each edge's street name, or None.
    crs : Any
        The CRS of the coordinates and shapes (anything pyproj takes).
    source : str
        Description stored on the network.
    level : array-like of int, optional
        Each edge's level (`geo.network.tags.edge_level`), or None: all on the ground.
    unknown_tags : tuple of (str, str, int)
        Tag values guessed at (`geo.network.tags.unknown_tag_values`), kept on the network.

    Returns
    -------
    WalkNetwork
        Lengths measured along the projected shapes, in metres.

    Raises
    ------
    NetworkError
        An edge names a node that is not in ``node_id``.
    """
    ids = pd.Index(np.asarray(node_id))
    u_at = ids.get_indexer(np.asarray(edge_u_id))
    v_at = ids.get_indexer(np.asarray(edge_v_id))
    if (u_at < 0).any() or (v_at < 0).any():
        raise NetworkError("路段引用了不存在的节点 / edges refer to nodes that are not in the file")
    used, ends = np.unique(np.concatenate([u_at, v_at]), return_inverse=True)
    m = len(u_at)
    u, v = ends[:m], ends[m:]
    points = shapely.points(
        np.asarray(node_x, dtype=float)[used], np.asarray(node_y, dtype=float)[used]
    )
    geometry = np.asarray(edge_geometry, dtype=object).copy()
    missing = np.flatnonzero(pd.isna(geometry))
    if len(missing):  # osmnx leaves out the geometry of straight edges
        geometry[missing] = shapely.shortest_line(points[u[missing]], points[v[missing]])

    source_crs = pyproj.CRS.from_user_input(crs)
    lines = gpd.GeoSeries(geometry, crs=source_crs)
    metric = lines.estimate_utm_crs()
    lines = shapely.force_2d(lines.to_crs(metric).to_numpy())
    nodes = gpd.GeoSeries(points, crs=source_crs).to_crs(metric)
    x, y = nodes.x.to_numpy(), nodes.y.to_numpy()
    start = shapely.get_point(lines, 0)
    backwards = shapely.distance(start, shapely.points(x[v], y[v])) < shapely.distance(
        start, shapely.points(x[u], y[u])
    )
    lines[backwards] = shapely.reverse(lines[backwards])
    return WalkNetwork.from_edges(
        u, v, shapely.length(lines), x, y, metric, edge_geometry=lines, source=source, name=name,
        edge_level=level, unknown_tags=unknown_tags,
    )  # fmt: skip


def graph_edges(graph: nx.Graph, *, source: str = "networkx graph") -> gpd.GeoDataFrame:
    """The edges of an osmnx-style graph as lines with their tags, one per street.

    A reverse twin (osmnx stores a two-way street as u→v and v→u) is dropped: an edge with
    the same two end nodes whose shape, oriented the same way and rounded to 1e-7 of the
    CRS unit, is the same and whose length (when both have one) agrees within 1 cm. Two
    different streets between the same nodes keep their different shapes and stay. A loop
    (u = v) is its own reverse's twin: its shape is compared in whichever direction sorts
    first, so its two directions are one street, not twice its length.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes carry ``x``, ``y`` in the graph's ``crs`` attribute (default WGS-84); edges may
        carry ``geometry`` (a LineString or its WKT), ``name`` and the tags in `EDGE_TAGS`
        (strings, or lists where osmnx merged ways; GraphML holds their repr).
    source : str
        Where the graph came from, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        In the graph's CRS: ``u``, ``v`` (node ids), ``length`` (as stored, may be NaN),
        ``name`` and `EDGE_TAGS` (None where absent), and the geometry (a straight line
        where the edge had none), running from u to v.

    Raises
    ------
    NetworkError
        A node lacks numeric ``x`` and ``y``, the graph has no edges, or an edge's
        geometry is not a LineString.
    """
    crs = graph.graph.get("crs", "EPSG:4326")
    node_ids = list(graph.nodes)
    try:
        xy = np.array([[float(d["x"]), float(d["y"])] for _, d in graph.nodes(data=True)])
    except (KeyError, TypeError, ValueError) as exc:
        raise NetworkError(f"图的节点缺少 x/y / graph nodes need numeric x and y: {exc}") from exc
    rows = list(graph.edges(data=True))
    if not rows:
        raise NetworkError("图中没有边 / the graph has no edges")
    at = pd.Index(node_ids)
    u_at, v_at = at.get_indexer([r[0] for r in rows]), at.get_indexer([r[1] for r in rows])
    geometry = np.array(
        [_as_line(r[2].get("geometry"), r[0], r[1], source) for r in rows], dtype=object
    )
    missing = np.flatnonzero(pd.isna(geometry))
    if len(missing):  # osmnx leaves out the geometry of straight edges
        geometry[missing] = shapely.linestrings(
            np.stack([xy[u_at[missing]], xy[v_at[missing]]], axis=1)
        )
    length = pd.to_numeric(pd.Series([r[2].get("length") for r in rows]), errors="coerce")
    columns: dict[str, Any] = {
        "u": [r[0] for r in rows],
        "v": [r[1] for r in rows],
        "length": length.to_numpy(dtype=float),
        "name": [_as_name(r[2].get("name")) for r in rows],
    }
    for tag in EDGE_TAGS:
        columns[tag] = [_as_tag(tag, r[2].get(tag)) for r in rows]
    edges = gpd.GeoDataFrame(columns, geometry=geometry, crs=crs)
    return edges.loc[~_reverse_twins(edges, u_at, v_at)].reset_index(drop=True)


def _reverse_twins(edges: gpd.GeoDataFrame, u_at: np.ndarray, v_at: np.ndarray) -> np.ndarray:
    """True for every edge but the first of each group of reverse twins (see `graph_edges`)."""
    lines = edges.geometry.to_numpy()
    flip = u_at > v_at
    lines = lines.copy()
    lines[flip] = shapely.reverse(lines[flip])
    shape = shapely.to_wkb(shapely.set_precision(lines, 1e-7, mode="pointwise"))
    loop = np.flatnonzero(u_at == v_at)
    if len(loop):  # a loop's reverse twin runs the other way round: take the smaller WKB
        back = shapely.to_wkb(
            shapely.set_precision(shapely.reverse(lines[loop]), 1e-7, mode="pointwise")
        )
        shape = shape.astype(object)
        shape[loop] = np.where(back < shape[loop], back, shape[loop])
    metres = edges["length"].to_numpy(dtype=float)
    frame = pd.DataFrame(
        {"lo": np.minimum(u_at, v_at), "hi": np.maximum(u_at, v_at), "shape": shape}
    )
    twin = frame.duplicated().to_numpy().copy()
    if twin.any():  # the same shape, yet lengths more than 1 cm apart: parallel streets
        first = frame.groupby(["lo", "hi", "shape"], sort=False).ngroup().to_numpy()
        ref = pd.Series(metres).groupby(first).transform("first").to_numpy()
        twin &= ~(np.abs(metres - ref) > 0.01)  # NaN (no length) compares False: a twin
    return twin


def network_from_graph(graph: nx.Graph, *, source: str = "networkx graph") -> WalkNetwork:
    """A network from a networkx graph in osmnx's conventions.

    Nodes carry ``x``, ``y`` in the graph's ``crs`` attribute (default WGS-84); edges may
    carry ``geometry`` (a LineString or its WKT) and ``name`` (a string or list). Both
    directions of a two-way street (osmnx's u→v and v→u) become one undirected edge
    (`graph_edges` says how twins are told from parallel streets).

    Parameters
    ----------
    graph : networkx.Graph
        The street graph; a MultiDiGraph as osmnx makes, or any other networkx graph.
    source : str
        Description stored on the network.

    Returns
    -------
    WalkNetwork
        In the UTM zone of the data.

    Raises
    ------
    NetworkError
        A node lacks numeric ``x`` and ``y``, or the graph has no edges.
    """
    edges = graph_edges(graph, source=source)
    crs = graph.graph.get("crs", "EPSG:4326")
    levels = edge_level(edges) if edges[list(ELEVATION_TAGS)].notna().any(axis=None) else None
    node_ids = list(graph.nodes)
    xy = np.array([[float(d["x"]), float(d["y"])] for _, d in graph.nodes(data=True)])
    return network_from_topology(
        np.asarray(node_ids, dtype=object),
        xy[:, 0],
        xy[:, 1],
        edges["u"].to_numpy(dtype=object),
        edges["v"].to_numpy(dtype=object),
        edges.geometry.to_numpy(),
        edges["name"].to_numpy(dtype=object),
        crs=crs,
        source=source,
        level=levels,
        unknown_tags=unknown_tag_values(edges),
    )


def _as_line(value: Any, u: Any, v: Any, source: str) -> Any:
    """An edge's ``geometry``: a LineString, its WKT, or None (a straight edge).

    WKT is parsed only when it is one flat ``LINESTRING (…)``: GEOS parses nested WKT
    recursively, and a file with a ``GEOMETRYCOLLECTION (`` nested 100,000 deep would end
    the process instead of raising.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, shapely.LineString):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if text[:10].upper() == "LINESTRING" and text.count("(") == 1 and text.count(")") == 1:
        try:
            return shapely.from_wkt(text)
        except shapely.errors.GEOSException as exc:
            problem = str(exc)
    else:
        problem = f"{type(value).__name__} {str(value)[:40]!r}"
    raise NetworkError(
        f"{source}: 边 {u}→{v} 的 geometry 不是折线 / edge {u}→{v}: the geometry must be a "
        f"LineString (WKT 'LINESTRING (x y, …)'), not {problem}"
    )


def _as_list(value: Any) -> Any:
    """osmnx joins merged ways' values into a list, written to GraphML as its repr."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, RecursionError, MemoryError):  # kept as the text
            return value
    return value


def _as_name(value: Any) -> str | None:
    value = _as_list(value)
    if isinstance(value, list | tuple):
        return " / ".join(str(part) for part in value) if value else None
    return value if isinstance(value, str) and value else None


def _as_tag(tag: str, value: Any) -> str | None:
    """One string per tag: a merged edge is a bridge (or on a layer) if any part of it is."""
    value = _as_list(value)
    if not isinstance(value, list | tuple):
        return (
            None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        )
    parts = [str(part) for part in value if part is not None and str(part) != "nan"]
    if tag in ("bridge", "tunnel"):
        return next((p for p in parts if tag_is_yes([p])[0]), parts[0] if parts else None)
    if tag == "layer":
        return next((p for p in parts if pd.to_numeric(p, errors="coerce") not in (0, None)), None)
    return ";".join(dict.fromkeys(parts)) or None


def read_graphml(path: str | os.PathLike[str]) -> WalkNetwork:
    """A network from a GraphML file as ``osmnx.save_graphml`` writes it, read with networkx.

    Parameters
    ----------
    path : path-like
        The ``.graphml`` file.

    Returns
    -------
    WalkNetwork
        As `network_from_graph` builds it.

    Raises
    ------
    SourceReadError
        The file cannot be read or parsed as GraphML.
    NetworkError
        As `network_from_graph`.
    """
    try:
        graph = nx.read_graphml(path)
    except (OSError, nx.NetworkXError, ValueError, ParseError) as exc:
        raise SourceReadError(f"无法读取 GraphML / cannot read GraphML {path}: {exc}") from exc
    return network_from_graph(graph, source=f"GraphML {Path(path).name}")


def fetch_graph(place: str) -> nx.MultiDiGraph:
    """Download a place's walking graph with ``osmnx.graph_from_place(network_type="walk")``.

    Parameters
    ----------
    place : str
        A place name osmnx can geocode, e.g. ``"Yangpu, Shanghai"``.

    Returns
    -------
    networkx.MultiDiGraph
        As osmnx returns it; `graph_edges` turns it into tagged lines, `network_from_graph`
        into a network.

    Raises
    ------
    NetworkError
        Without osmnx, offline, or when OpenStreetMap knows no such place.
    """
    try:
        import osmnx
    except ImportError as exc:
        raise NetworkError(
            "在线获取路网需要 osmnx / fetching needs osmnx: pip install osmnx; " + _OFFLINE
        ) from exc
    try:
        graph: nx.MultiDiGraph = osmnx.graph_from_place(place, network_type="walk")
    except OSError as exc:  # requests' ConnectionError and Timeout, socket errors
        raise NetworkError(f"{_OFFLINE} ({type(exc).__name__})") from exc
    except ValueError as exc:  # osmnx's InsufficientResponseError: unknown place, empty answer
        raise NetworkError(
            f"找不到地点 / OpenStreetMap has no walking network for {place!r}: {exc}"
        ) from exc
    return graph


def fetch_place(place: str) -> WalkNetwork:
    """Download a place's walking network (`fetch_graph`) and build it (`network_from_graph`).

    Parameters
    ----------
    place : str
        A place name osmnx can geocode, e.g. ``"Yangpu, Shanghai"``.

    Returns
    -------
    WalkNetwork
        As `network_from_graph` builds it.

    Raises
    ------
    NetworkError
        Without osmnx, offline, or when OpenStreetMap knows no such place.
    """
    graph = fetch_graph(place)
    return network_from_graph(graph, source=f"OpenStreetMap Overpass: {place}")
