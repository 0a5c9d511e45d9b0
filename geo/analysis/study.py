"""The study: layers and a walking network, with every facility attached to it once.

A :class:`Study` holds the layers and the walking network of one analysis, projects and
attaches (snaps) every facility to the network once, and answers walking questions for
any points: :meth:`Study.nearest`. :mod:`geo.analysis.coverage` builds on it for
residential areas. The CLI, the API, the maps and the notebooks all go through a ``Study``,
so they agree. Walk parameters (speeds, thresholds and where their numbers come from) are
in :mod:`geo.analysis.params`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from scipy.spatial import cKDTree

from geo.analysis.nearby import with_direct_walks
from geo.analysis.networks import NetworkChoice, resolve_network
from geo.analysis.params import CIRCUITY, Profile, WalkParams
from geo.catalogue import CATEGORIES
from geo.crs import to_wgs84
from geo.errors import LifecircleError, QueryError
from geo.layers.geojson import empty_layer
from geo.layers.store import Location, open_store, read_layers
from geo.network.graph import WalkNetwork
from geo.network.routing import FacilityTable, facility_table, query_table
from geo.network.snapping import DEFAULT_SNAP_DISTANCE_M, Snap, pieces_to_prefer, snap_points
from geo.schema import CATALOGUE_LAYER, FACILITY_LAYERS, get_layer

__all__ = ["NO_PATH", "Study", "nearest"]

#: Why a point on the network has no facility: none of this type is reachable from it.
NO_PATH = "路网上无法到达任何设施 / no facility of this type can be reached on the network"

#: ``np.where(mask, values, _NONE)``: None where the mask is false, in an object array.
_NONE = np.array(None, dtype=object)


@dataclass
class Study:
    """Layers and a walking network, with every facility attached to the network once.

    ``network=None`` analyses in straight-line mode (labelled as such).
    """

    layers: dict[str, gpd.GeoDataFrame]
    network: WalkNetwork | None
    max_snap_m: float = DEFAULT_SNAP_DISTANCE_M
    circuity: float = CIRCUITY
    _snaps: dict[str, Snap] = field(default_factory=dict, repr=False)
    _xy: dict[str, tuple[np.ndarray, ...]] = field(default_factory=dict, repr=False)
    _tables: dict[tuple[Any, ...], FacilityTable] = field(default_factory=dict, repr=False)
    #: Results that depend only on this study's layers and network, computed once (the
    #: compounds' snapped gates: :func:`geo.analysis.coverage.area_origins`).
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def with_layers(self, layers: dict[str, gpd.GeoDataFrame]) -> Study:
        """The same network and settings over other layers (a scenario, candidate sites).

        Parameters
        ----------
        layers : dict of str to geopandas.GeoDataFrame
            The layers by name (WGS-84), as in :attr:`layers`.

        Returns
        -------
        Study
            Same network, ``max_snap_m`` and ``circuity``; snaps and tables are computed
            afresh for the new layers.
        """
        return Study(layers, self.network, self.max_snap_m, self.circuity)

    @classmethod
    def load(
        cls,
        data: Location = None,
        network: NetworkChoice = "auto",
        max_snap_m: float = DEFAULT_SNAP_DISTANCE_M,
        circuity: float = CIRCUITY,
        *,
        cache_dir: Path | None = None,
    ) -> Study:
        """Read a store and its walking network (see :func:`resolve_network`).

        Parameters
        ----------
        data : LayerStore, path or URL, optional
            The store; default the settings' (``$LIFECIRCLE_DATA``, else the bundled sample).
        network : WalkNetwork, str, path or None
            ``"auto"`` takes the store's streets if present; ``None``/``"none"`` means
            straight-line mode, where walks are straight lines × ``circuity``.
        max_snap_m : float
            The snapping limit (250 m, see :mod:`geo.network.snapping`).
        circuity : float
            Detour ratio of straight-line mode, 1–3.
        cache_dir : pathlib.Path, optional
            Where built networks are cached (the settings' ``cache``).

        Returns
        -------
        Study

        Examples
        --------
        >>> study = Study.load()
        >>> study.method, len(study.layers["clinics"]) > 12
        ('network', True)
        """
        if not 1.0 <= circuity <= 3.0:
            raise QueryError(
                f"绕行系数须在 1–3 之间 / circuity must be between 1 and 3, got {circuity:g}"
            )
        store = open_store(data)
        network_built = resolve_network(network, store, cache_dir)
        return cls(read_layers(store), network_built, max_snap_m, circuity)

    @property
    def method(self) -> str:
        return "network" if self.network is not None else "straight_line"

    @cached_property
    def crs(self) -> pyproj.CRS:
        """The metric CRS of the analysis (the network's; else the UTM zone of the data).

        Returns
        -------
        pyproj.CRS
            The network's CRS; without one, the UTM zone estimated from the first non-empty
            layer, or UTM 51N (EPSG:32651, Shanghai) when every layer is empty.
        """
        if self.network is not None:
            return self.network.crs
        frames = [f for f in self.layers.values() if len(f)]
        if not frames:
            return pyproj.CRS.from_epsg(32651)  # Shanghai
        return frames[0].estimate_utm_crs()

    @cached_property
    def _to_metric(self) -> pyproj.Transformer:
        return pyproj.Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    def project(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 positions in the study's metric :attr:`crs`.

        Parameters
        ----------
        lon, lat : float or array-like
            WGS-84 longitude and latitude, degrees.

        Returns
        -------
        x, y : numpy.ndarray
            Metres in :attr:`crs`, at least one-dimensional.
        """
        x, y = self._to_metric.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.atleast_1d(x), np.atleast_1d(y)

    def facilities(self, kind: str) -> gpd.GeoDataFrame:
        """The layer of facility type ``kind``, checked to be one.

        Parameters
        ----------
        kind : str
            One of :data:`~geo.schema.FACILITY_LAYERS`, or a catalogue category (its rows
            of the ``facilities`` layer, which may be absent: :data:`~geo.catalogue.CATEGORIES`).

        Returns
        -------
        geopandas.GeoDataFrame
            The layer as the study holds it (WGS-84), not a copy.

        Raises
        ------
        UnknownLayerError
            ``kind`` is not a layer at all.
        QueryError
            ``kind`` is a layer but not a facility type (e.g. ``residential_areas``).
        """
        if kind in CATEGORIES:  # a catalogue kind: its rows of the facilities layer, once
            if f"category:{kind}" not in self.memo:
                rows = self.layers.get(CATALOGUE_LAYER)
                rows = (
                    empty_layer(CATALOGUE_LAYER) if rows is None or "category" not in rows else rows
                )
                self.memo[f"category:{kind}"] = rows[rows["category"] == kind]
            return self.memo[f"category:{kind}"]
        if kind not in FACILITY_LAYERS:
            get_layer(kind)
            raise QueryError(
                f"'{kind}' 不是设施类型 / '{kind}' is not a facility type; "
                f"use {', '.join(FACILITY_LAYERS)}"
            )
        return self.layers[kind]

    def facility_xy(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Metric positions of the facilities of ``kind`` (computed once).

        Parameters
        ----------
        kind : str
            A facility type, checked as in :meth:`facilities`.

        Returns
        -------
        x, y : numpy.ndarray
            Metres in :attr:`crs` of each facility's representative point, in layer order
            (empty for an empty layer).
        """
        if kind not in self._xy:
            frame = self.facilities(kind)
            if not len(frame):
                self._xy[kind] = (np.empty(0), np.empty(0))
            else:
                points = frame.geometry.representative_point()
                self._xy[kind] = self.project(points.x.to_numpy(), points.y.to_numpy())
        x, y = self._xy[kind][:2]
        return x, y

    def facility_table(self, kind: str, k: int, cutoff: float = np.inf) -> FacilityTable:
        """The k nearest facilities of every network node (computed once per setting).

        Parameters
        ----------
        kind : str
            A facility type.
        k : int
            How many facilities per node.
        cutoff : float
            Walking metres beyond which facilities are not looked for.

        Returns
        -------
        FacilityTable
            Labels are positions in the ``kind`` layer. At most 32 tables are kept; the
            oldest is dropped first.

        Raises
        ------
        LifecircleError
            The study has no walking network.
        """
        key = (kind, k, cutoff)
        if key not in self._tables:
            if len(self._tables) >= 32:  # many settings asked for: keep memory bounded
                self._tables.pop(next(iter(self._tables)))
            snap = self.facility_snap(kind)
            self._tables[key] = facility_table(
                self._require_network(), snap, np.arange(len(snap)), k=k, cutoff=cutoff
            )
        return self._tables[key]

    def facility_snap(self, kind: str) -> Snap:
        """Where each facility of ``kind`` joins the network (computed once).

        Parameters
        ----------
        kind : str
            A facility type.

        Returns
        -------
        Snap
            One row per facility, in layer order; those beyond ``max_snap_m`` of every
            street are not ``ok`` and say why.

        Raises
        ------
        LifecircleError
            The study has no walking network.
        """
        if kind not in self._snaps:
            x, y = self.facility_xy(kind)
            self._snaps[kind] = self.snap(x, y, prefer=False)
        return self._snaps[kind]

    def pieces(self, kind: str | None = None) -> tuple[int, ...]:
        """Pieces a walk to ``kind`` should start on: all but fragments, and those holding a
        facility of ``kind`` (of any type when None).

        Parameters
        ----------
        kind : str, optional
            A facility type; a fragment holding a clinic is no start for a walk to a charger.

        Returns
        -------
        tuple of int
            Component labels, ascending (hashable: origins are cached by them).
        """
        key = f"pieces:{kind}"
        if key not in self.memo:
            kinds = [kind] if kind is not None else [k for k in FACILITY_LAYERS if k in self.layers]
            snaps = [self.facility_snap(k) for k in kinds]
            pieces = pieces_to_prefer(self._require_network(), *snaps)
            self.memo[key] = tuple(int(c) for c in pieces)
        return self.memo[key]

    def _require_network(self) -> WalkNetwork:
        if self.network is None:
            raise LifecircleError("没有路网 / no walking network in this study")
        return self.network

    def snap(
        self, x: np.ndarray, y: np.ndarray, prefer: bool = True, kind: str | None = None
    ) -> Snap:
        """Where points (metric ``x``, ``y`` of the study's CRS) join the network.

        Parameters
        ----------
        x, y : numpy.ndarray
            Coordinates in :attr:`crs`.
        prefer : bool
            Keep points off fragments that lead to no facility (``prefer`` of
            :func:`~geo.network.snapping.snap_points`); False for the facilities themselves.
        kind : str, optional
            The facility type the walks go to (see :meth:`pieces`); None: any type.

        Returns
        -------
        Snap
            One row per point; unreachable points carry their reason.
        """
        network = self._require_network()
        if len(x) == 0:
            empty = np.empty(0)
            return Snap(
                empty.astype(np.int64), empty, empty, empty.astype(bool), empty.astype(object)
            )
        preferred = np.asarray(self.pieces(kind), dtype=np.int64) if prefer else None
        return snap_points(network, x, y, self.max_snap_m, prefer=preferred)

    def walk_metres(self, x: np.ndarray, y: np.ndarray, kind: str, k: int = 1,
                    cutoff: float = np.inf, origin_snap: Snap | None = None,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """``(metres, facility position, reason)`` of the k nearest facilities: ``(p, k)``
        arrays (``inf`` / ``-1`` where none), and why an origin could not be reached.

        Parameters
        ----------
        x, y : numpy.ndarray
            The ``p`` origins, metres in :attr:`crs`.
        kind : str
            A facility type.
        k : int
            How many facilities per origin, nearest first.
        cutoff : float
            Walking metres beyond which a facility is not found.
        origin_snap : Snap, optional
            The origins' snap when already computed; else they are snapped here.

        Returns
        -------
        metres : numpy.ndarray
            ``(p, k)`` walking metres; in straight-line mode the straight distance ×
            ``circuity``.
        label : numpy.ndarray
            ``(p, k)`` positions in the ``kind`` layer, ``-1`` where none.
        reason : numpy.ndarray
            Per origin, why it is off the network, else None (always None in
            straight-line mode).

        Examples
        --------
        From street A's 100 m mark to clinic c1, 20 m off A at 400 m: 300 + 20 m.

        >>> from geo.testing import X0, Y0, drawn_study
        >>> metres, label, _ = drawn_study().walk_metres(
        ...     np.array([X0 + 100.0]), np.array([Y0]), "clinics")
        >>> metres.round(1).tolist(), label.tolist()
        ([[320.0]], [[0]])
        """
        count = len(self.facilities(kind))
        p = len(x)
        if self.network is None:
            fx, fy = self.facility_xy(kind)
            metres = np.full((p, k), np.inf)
            label = np.full((p, k), -1, dtype=np.int64)
            if count:
                found = min(k, count)
                dist, idx = cKDTree(np.column_stack([fx, fy])).query(np.column_stack([x, y]), found)
                dist, idx = dist.reshape(p, found) * self.circuity, idx.reshape(p, found)
                keep = dist <= cutoff
                metres[:, :found] = np.where(keep, dist, np.inf)
                label[:, :found] = np.where(keep, idx, -1)
            return metres, label, np.full(p, None, dtype=object)
        snap = origin_snap if origin_snap is not None else self.snap(x, y, kind=kind)
        if count == 0:
            return np.full((p, k), np.inf), np.full((p, k), -1, np.int64), snap.reason
        metres, label = query_table(self.network, self.facility_table(kind, k, cutoff), snap)
        return metres, label, snap.reason

    def nearest(
        self,
        points: Any,
        kind: str,
        k: int = 1,
        params: WalkParams | None = None,
        *,
        profile: str | Profile | None = None,
        crs: str | None = None,
    ) -> pd.DataFrame:
        """The ``k`` nearest facilities of ``kind`` to each point, by walking distance.

        Parameters
        ----------
        points : (lon, lat) or array of them
            In ``params.crs`` (``wgs84``, ``gcj02``, ``bd09``).
        kind : str
            A facility layer.
        k : int
            How many, nearest first.
        params : WalkParams, optional
            Walker and CRS; ``profile`` and ``crs`` are shorthands for them.

        Returns
        -------
        pandas.DataFrame
            One row per point and rank: ``point``, ``rank``, ``facility_id``, ``name``,
            ``walk_m``, ``walk_minutes``, ``straight_m``, ``method`` and ``reason`` (why a
            point has no result).

        Examples
        --------
        >>> study = Study.load()
        >>> near = study.nearest((121.5405, 31.2990), "clinics", k=2)
        >>> near.loc[0, "name"]
        '杨浦区长白社区卫生服务中心'
        >>> bool(near["walk_m"].iloc[0] >= near["straight_m"].iloc[0])
        True
        """
        params = WalkParams.of(params, profile=profile, crs=crs)
        columns = self.nearest_columns(points, kind, k, params)
        return pd.DataFrame(columns).drop(columns=["lon", "lat"])

    def nearest_columns(
        self,
        points: Any,
        kind: str,
        k: int = 1,
        params: WalkParams | None = None,
    ) -> dict[str, np.ndarray]:
        """:meth:`nearest` as plain arrays (one entry per point and rank), plus each
        facility's WGS-84 ``lon`` and ``lat``: what the API serialises without pandas.

        Parameters
        ----------
        points, kind, k
            As in :meth:`nearest`.
        params : WalkParams, optional
            Walker and the points' CRS; default: the defaults.

        Returns
        -------
        dict of str to numpy.ndarray
            The columns of :meth:`nearest` plus ``lon`` and ``lat`` (NaN where no
            facility), each of length points × ``k``.

        Raises
        ------
        QueryError
            ``k`` below 1, points that are not (lon, lat) pairs or out of range, or
            ``kind`` not a facility type.
        """
        if k < 1:
            raise QueryError("k 至少为 1 / k must be at least 1")
        xy = np.asarray(points, dtype=float)
        if xy.ndim == 1:
            xy = xy.reshape(1, -1)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise QueryError("点须为 (经度, 纬度) / points must be (lon, lat) pairs")
        bad = ~(np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90))
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise QueryError(
                f"第 {first + 1} 个点坐标超出范围 / point {first + 1} is not a lon/lat pair: "
                f"{xy[first].tolist()} (lon −180…180, lat −90…90)"
            )
        params = params if params is not None else WalkParams()
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], params.crs)
        x, y = self.project(lon, lat)
        walker = params.profile
        snap = self.snap(x, y, kind=kind) if self.network is not None else None
        metres, label, reason = self.walk_metres(x, y, kind, k, origin_snap=snap)
        ids, names, flon, flat = self._facility_columns(kind)
        fx, fy = self.facility_xy(kind)
        if snap is not None:  # a facility nearer than the street is walked to directly
            reach = np.where(snap.ok, snap.distance, np.nan)
            metres, label = with_direct_walks(metres, label, x, y, fx, fy, reach)
        rows = np.repeat(np.arange(len(x)), k)
        ranks = np.tile(np.arange(1, k + 1), len(x))
        flat_label = label.ravel()
        found = flat_label >= 0
        safe = np.where(found, flat_label, 0)
        straight = (
            np.hypot(fx[safe] - x[rows], fy[safe] - y[rows]) if len(fx) else np.zeros(len(rows))
        )
        walk = metres.ravel()
        why = np.where(found, _NONE, reason[rows])
        # On the network but nothing reached: say so; later empty ranks say why they are empty.
        first = ~found & (ranks == 1) & pd.isna(reason[rows])
        why[first] = NO_PATH
        extra = ~found & (ranks > 1) & pd.isna(reason[rows])
        count = len(self.facilities(kind))
        why[extra] = (
            "设施不足 / fewer facilities than k"
            if count < k
            else "其余设施无法到达 / no further facility of this type can be reached"
        )
        return {
            "point": rows,
            "rank": ranks,
            "facility_id": np.where(found, ids[safe], _NONE),
            "name": np.where(found, names[safe], _NONE),
            "walk_m": np.where(found, walk, np.nan),
            "walk_minutes": np.where(found, walk / walker.metres_per_minute, np.nan),
            "straight_m": np.where(found, straight, np.nan),
            "method": np.full(len(rows), self.method, dtype=object),
            "reason": why,
            "lon": np.where(found, flon[safe], np.nan),
            "lat": np.where(found, flat[safe], np.nan),
        }

    def _facility_columns(self, kind: str) -> tuple[np.ndarray, ...]:
        key = f"columns:{kind}"
        if key not in self._xy:
            frame = self.facilities(kind)
            if len(frame):
                points = frame.geometry.representative_point()
                self._xy[key] = (frame.index.to_numpy(dtype=object),
                                 frame["name"].to_numpy(dtype=object),
                                 points.x.to_numpy(), points.y.to_numpy())  # fmt: skip
            else:
                none = np.array([None], dtype=object)
                self._xy[key] = (none, none, np.array([np.nan]), np.array([np.nan]))
        return self._xy[key]


_DEFAULT_STUDIES: dict[str, Study] = {}


def nearest(
    points: Any,
    kind: str,
    k: int = 1,
    profile: str | Profile = "standard",
    crs: str = "wgs84",
    study: Study | None = None,
) -> pd.DataFrame:
    """The ``k`` nearest facilities of ``kind`` by walking distance, for one point or many.

    Uses ``study``, or the settings' store (``$LIFECIRCLE_DATA``, else the bundled sample)
    with its streets, loaded once. See :meth:`Study.nearest` for the columns.

    Parameters
    ----------
    points : (lon, lat) or array of them
        In ``crs``.
    kind : str
        A facility layer.
    k : int
        How many, nearest first.
    profile : str or Profile
        The walker, for ``walk_minutes``.
    crs : str
        ``wgs84``, ``gcj02`` or ``bd09`` (or an alias).
    study : Study, optional
        Default: the settings' store, loaded once per store and kept.

    Returns
    -------
    pandas.DataFrame
        One row per point and rank, as :meth:`Study.nearest`.

    Raises
    ------
    QueryError
        An unknown profile or CRS, or points, ``k`` or ``kind`` as in
        :meth:`Study.nearest_columns`.

    Examples
    --------
    >>> import geo
    >>> geo.nearest([(121.5405, 31.2990), (121.546, 31.294)], "neighbor_centers", k=1)[
    ...     ["point", "rank", "facility_id"]].values.tolist()
    [[0, 1, 'nc-001'], [1, 1, 'nc-004']]
    """
    params = WalkParams.parse(profile=profile, crs=crs)
    if study is None:
        store = open_store()
        if store.url not in _DEFAULT_STUDIES:
            _DEFAULT_STUDIES[store.url] = Study.load(store)
        study = _DEFAULT_STUDIES[store.url]
    return study.nearest(points, kind, k, params)
