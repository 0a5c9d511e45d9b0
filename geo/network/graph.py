"""The walking network: streets as an undirected graph whose lengths are metres along the lines.

Every network lives in one local metric CRS (the UTM zone of its data), so that lengths,
snapping distances and offsets are plain metres. A `WalkNetwork` holds the edges as arrays
and the adjacency in CSR form holding both directions of every edge, which is what the
routing kernels walk. This module builds and reports; line layers become networks in
`geo.network.lines`, points are attached in `geo.network.snapping`, files are read in
`geo.network.readers` and `geo.network.osm`, and cached in `geo.network.cache`.

Examples
--------
Two streets, 0 –5– 1 –5– 2 and 3 –2– 4 (in UTM zone 51N, Shanghai):

>>> net = WalkNetwork.from_edges([0, 1, 3], [1, 2, 4], [5.0, 5.0, 2.0],
...                              [0, 5, 10, 50, 52], [0, 0, 0, 0, 0], "EPSG:32651")
>>> components_report(net)["n_components"], float(net.edge_length.sum())
(2, 12.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import ArrayLike

from geo.errors import NetworkError
from geo.network._kernels import component_labels

__all__ = [
    "WalkNetwork",
    "components_report",
    "metric_crs",
]


class _StraightLinesIfNone:
    """`WalkNetwork.edge_geometry`: ``None`` means straight node-to-node lines, built on first read.

    Building 1.3 M LineStrings takes ~0.9 s and ~200 MB, which `WalkNetwork.from_edges` on
    bare arrays (benchmarks, synthetic grids) should not pay until something needs them.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = "_" + name

    def __get__(self, net: WalkNetwork | None, owner: type | None = None) -> np.ndarray:
        if net is None:  # dataclass asks the class for a default: there is none
            raise AttributeError(self._slot)
        lines = net.__dict__[self._slot]
        if lines is None:
            ends = np.stack(
                [
                    np.column_stack([net.node_x[net.edge_u], net.node_y[net.edge_u]]),
                    np.column_stack([net.node_x[net.edge_v], net.node_y[net.edge_v]]),
                ],
                axis=1,
            )
            lines = shapely.linestrings(ends) if len(ends) else np.empty(0, dtype=object)
            net.__dict__[self._slot] = lines
        return lines

    def __set__(self, net: WalkNetwork, lines: np.ndarray | None) -> None:
        net.__dict__[self._slot] = lines


@dataclass(frozen=True, eq=False, repr=False)
class WalkNetwork:
    """An undirected walking network in a local metric CRS; build it with `from_edges`.

    The constructor takes the arrays as they are, unchecked. Every parameter is also an
    attribute of the same name.

    Parameters
    ----------
    crs : pyproj.CRS
        The metric CRS (UTM zone of the data) of every x, y and length.
    node_x, node_y : numpy.ndarray
        float64 (n,) node coordinates, metres.
    edge_u, edge_v : numpy.ndarray
        int64 (m,) end nodes of each undirected edge.
    edge_length : numpy.ndarray
        float64 (m,) metres along the line.
    edge_geometry : numpy.ndarray or None
        object (m,) LineStrings from u to v; None gives straight lines, built on first read.
    indptr, indices, weights, arc_edge : numpy.ndarray
        CSR adjacency with both directions of every edge: the arcs leaving node ``i`` are
        ``indptr[i]:indptr[i+1]``, going to ``indices``, ``weights`` metres long, lying on
        edge ``arc_edge``.
    component : numpy.ndarray
        int64 (n,) connected-component label, 0 for the largest.
    source : str
        Where the network came from.
    name : numpy.ndarray or None
        object (m,) street names where known, else None.
    edge_level : numpy.ndarray or None
        int64 (m,) the level of each edge (`geo.network.tags.edge_level`: its ``layer``, 1
        on a bridge, −1 in a tunnel, 0 on the ground), or None when all are on the ground.
        Near misses join only edges on the same level.
    unknown_tags : tuple of (str, str, int)
        The ``bridge``/``tunnel``/``layer`` values the reader did not know and guessed at
        (`geo.network.tags.unknown_tag_values`), for ``lifecircle network info``.
    """

    crs: pyproj.CRS
    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    arc_edge: np.ndarray
    component: np.ndarray
    source: str
    # None builds straight lines on first read (see _StraightLinesIfNone)
    edge_geometry: np.ndarray = _StraightLinesIfNone()  # type: ignore[assignment]
    name: np.ndarray | None = None
    edge_level: np.ndarray | None = None
    unknown_tags: tuple[tuple[str, str, int], ...] = ()

    @classmethod
    def from_edges(
        cls,
        edge_u: ArrayLike,
        edge_v: ArrayLike,
        edge_length: ArrayLike,
        node_x: ArrayLike,
        node_y: ArrayLike,
        crs: Any,
        edge_geometry: ArrayLike | None = None,
        source: str = "arrays",
        *,
        name: ArrayLike | None = None,
        edge_level: ArrayLike | None = None,
        unknown_tags: tuple[tuple[str, str, int], ...] = (),
    ) -> WalkNetwork:
        """Build the CSR adjacency and the components of an undirected edge list.

        One stable argsort and one bincount for the CSR arrays, one compiled depth-first
        search for the components: 1 M nodes and 1.3 M edges take 0.16 s here
        (``benchmarks/coverage.py``).

        Parameters
        ----------
        edge_u, edge_v : array-like of int
            Node index (0..n-1) at each end of each edge.
        edge_length : array-like of float
            Metres, finite and not negative.
        node_x, node_y : array-like of float
            Node coordinates in ``crs``.
        crs : Any
            A projected CRS in metres (anything `pyproj.CRS.from_user_input` takes).
        edge_geometry : array-like of LineString, optional
            LineStrings from u to v; None gives straight lines, built lazily.
        source : str
            A description of where the network came from.
        name : array-like of str, optional
            Street name of each edge (None or NaN where unknown), or None.
        edge_level : array-like of int, optional
            The level of each edge (0 the ground, see `geo.network.tags.edge_level`), or
            None: all on the ground.
        unknown_tags : tuple of (str, str, int)
            Tag values the reader guessed at, as `geo.network.tags.unknown_tag_values`
            lists them.

        Returns
        -------
        WalkNetwork
            With the CSR adjacency and the components labelled, 0 for the largest.

        Raises
        ------
        NetworkError
            Listing every problem: mismatched lengths, node indices out of range,
            negative or missing lengths, missing coordinates. Also, on its own, a CRS
            that is unknown or not in metres, or node indices that are not integers.

        Examples
        --------
        >>> net = WalkNetwork.from_edges([0, 1, 3], [1, 2, 4], [5.0, 5.0, 2.0],
        ...                              [0, 5, 10, 50, 52], [0, 0, 0, 0, 0], "EPSG:32651")
        >>> net.indptr.tolist(), net.indices.tolist(), net.component.tolist()
        ([0, 1, 3, 4, 5, 6], [1, 2, 0, 1, 4, 3], [0, 0, 0, 1, 1])
        """
        metric = metric_crs(crs)
        u, v = _index_array(edge_u, "edge_u"), _index_array(edge_v, "edge_v")
        length = np.asarray(edge_length, dtype=np.float64).ravel()
        x = np.asarray(node_x, dtype=np.float64).ravel()
        y = np.asarray(node_y, dtype=np.float64).ravel()
        n, m = len(x), len(u)
        problems = []
        if len(y) != n:
            problems.append(f"node_x has {n} values but node_y has {len(y)}")
        if len(v) != m or len(length) != m:
            problems.append(f"edge_u/edge_v/edge_length sizes differ: {m}, {len(v)}, {len(length)}")
        for label, ends in (("edge_u", u), ("edge_v", v)):
            if len(ends) and (ends.min() < 0 or ends.max() >= n):
                problems.append(f"{label} refers to nodes outside 0..{n - 1}")
        if not np.all(np.isfinite(length) & (length >= 0)):
            problems.append("edge_length has negative, NaN or infinite values")
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            problems.append("node_x/node_y have NaN or infinite values")
        geometry = None if edge_geometry is None else np.asarray(edge_geometry, dtype=object)
        names = None if name is None else np.array(name, dtype=object).ravel()
        if names is not None:
            names[pd.isna(names)] = None  # pandas 3 strings hold NaN for "no name"
        levels = None if edge_level is None else np.asarray(edge_level).ravel()
        if levels is not None and levels.size and not np.issubdtype(levels.dtype, np.integer):
            problems.append("edge_level must hold whole numbers (0 the ground)")
        elif levels is not None:
            levels = levels.astype(np.int64, copy=False)
        for label, column in (("edge_geometry", geometry), ("name", names), ("edge_level", levels)):
            if column is not None and len(column) != m:
                problems.append(f"{label} has {len(column)} values for {m} edges")
        if problems:
            raise NetworkError(
                "路网数组不一致 / inconsistent network arrays: " + "; ".join(problems)
            )

        tails = np.concatenate([u, v])
        order = np.argsort(tails, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(tails, minlength=n), out=indptr[1:])
        arc_edge = (order % m if m else order).astype(np.int64)
        indices = np.concatenate([v, u])[order]
        return cls(
            crs=metric,
            node_x=x,
            node_y=y,
            edge_u=u,
            edge_v=v,
            edge_length=length,
            edge_geometry=geometry,  # type: ignore[arg-type]  # None: straight lines, lazily
            indptr=indptr,
            indices=indices,
            weights=length[arc_edge],
            arc_edge=arc_edge,
            component=_components(indptr, indices, n),
            source=source,
            name=names,
            edge_level=levels,
            unknown_tags=tuple(unknown_tags),
        )

    @property
    def n_nodes(self) -> int:
        """The number of nodes, ``len(node_x)``."""
        return len(self.node_x)

    @property
    def n_edges(self) -> int:
        """The number of undirected edges, ``len(edge_u)``."""
        return len(self.edge_u)

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """Spatial index of `edge_geometry`, built on first use and kept.

        Returns
        -------
        shapely.STRtree
            Over ``edge_geometry``: the positions it returns are edge numbers.
        """
        return shapely.STRtree(self.edge_geometry)

    def describe(self) -> str:
        """One bilingual line: size, length and how many disconnected pieces.

        Returns
        -------
        str
            Nodes, edges, kilometres, then "all connected" or the number of pieces and
            the share of the length in the largest.

        Examples
        --------
        >>> WalkNetwork.from_edges([0], [1], [1500.0], [0, 1500], [0, 0], 32651).describe()
        '步行网络 2 个节点、1 条路段、1.5 千米 / walking network of 2 nodes, 1 edges, 1.5 km；全部连通 / all connected'
        """
        report = components_report(self)
        head = (
            f"步行网络 {self.n_nodes:,} 个节点、{self.n_edges:,} 条路段、{report['km']:.1f} 千米"
            f" / walking network of {self.n_nodes:,} nodes, {self.n_edges:,} edges, "
            f"{report['km']:.1f} km"
        )
        count = report["n_components"]
        if count <= 1:
            return head + "；全部连通 / all connected"
        return (
            head + f"；分为 {count} 个互不连通的部分，最大部分占总长 {report['largest_share']:.1%}"
            f" / in {count} disconnected pieces; the largest holds "
            f"{report['largest_share']:.1%} of the length"
        )

    def __repr__(self) -> str:
        return (
            f"WalkNetwork({self.n_nodes} nodes, {self.n_edges} edges, "
            f"crs={self.crs.to_string()}, source={self.source!r})"
        )


def metric_crs(crs: Any) -> pyproj.CRS:
    """``crs`` as a pyproj CRS, checked to be projected in metres (NetworkError if not).

    Parameters
    ----------
    crs : Any
        Anything `pyproj.CRS.from_user_input` takes: ``"EPSG:32651"``, ``32651``, a CRS.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    NetworkError
        The CRS is unknown, or not projected in metres (WGS-84 degrees, say).

    Examples
    --------
    >>> metric_crs("EPSG:32651").name
    'WGS 84 / UTM zone 51N'
    """
    try:
        metric = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise NetworkError(f"无法识别坐标系 / unknown CRS {crs!r}") from exc
    units = {axis.unit_name for axis in metric.axis_info}
    if not metric.is_projected or not units <= {"metre", "meter"}:
        raise NetworkError(
            f"路网需要以米为单位的投影坐标系 / a network needs a projected CRS in metres, "
            f"not {metric.to_string()}: project it first (e.g. GeoDataFrame.estimate_utm_crs())"
        )
    return metric


def _index_array(values: ArrayLike, label: str) -> np.ndarray:
    array = np.asarray(values).ravel()
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise NetworkError(f"{label} 须为整数 / {label} must hold integer node indices")
    return array.astype(np.int64)


def _components(indptr: np.ndarray, indices: np.ndarray, n: int) -> np.ndarray:
    """Connected-component label per node, renumbered by size so that 0 is the largest."""
    if n == 0:
        return np.empty(0, dtype=np.int64)
    count, labels = component_labels(indptr, indices)
    sizes = np.bincount(labels, minlength=count)
    rank = np.empty(count, dtype=np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(count)
    return rank[labels]


# -- reports -------------------------------------------------------------------------------


def components_report(net: WalkNetwork) -> dict[str, Any]:
    """How many disconnected pieces the network has and how big each is, largest first.

    Parameters
    ----------
    net : WalkNetwork
        The network; its ``component`` labels are 0 for the largest piece.

    Returns
    -------
    dict
        ``n_components``, ``nodes``, ``edges``, ``km`` (totals), ``largest_share`` (of the
        length) and ``components``: one dict per piece with ``component``, ``nodes``,
        ``edges`` and ``km``, sorted by size.
    """
    count = int(net.component.max()) + 1 if net.n_nodes else 0
    nodes = np.bincount(net.component, minlength=count)
    edge_piece = net.component[net.edge_u]
    edges = np.bincount(edge_piece, minlength=count)
    km = np.bincount(edge_piece, weights=net.edge_length, minlength=count) / 1000.0
    total = float(km.sum())
    return {
        "n_components": count,
        "nodes": net.n_nodes,
        "edges": net.n_edges,
        "km": total,
        "largest_share": float(km[0] / total) if total > 0 else 1.0,
        "components": [
            {"component": i, "nodes": int(nodes[i]), "edges": int(edges[i]), "km": float(km[i])}
            for i in range(count)
        ],
    }
