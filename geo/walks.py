"""Walking: profiles, thresholds, and the k nearest facilities of any points.

A :class:`Study` holds the layers and the walking network of one analysis, projects and
attaches (snaps) every facility to the network once, and answers walking questions for
any points: :meth:`Study.nearest`. :mod:`geo.coverage` builds on it for residential areas.
The CLI, the API, the maps and the notebooks all go through a ``Study``, so they agree.

Defaults and where they come from
---------------------------------
- ``standard`` walking speed 4.0 km/h (≈ 67 m/min): GB 50180-2018 《城市居住区规划设计标准》
  sets the 15-minute life circle at a walking distance of about 800–1,000 m, i.e. 15 minutes
  at 3.2–4 km/h; 4.0 km/h is the commonly used planning speed and the upper end of it.
- ``elderly`` 3.0 km/h (50 m/min): older residents walk slower; 3.0 km/h matches the lower
  end of the standard's range and typical measured speeds of people over 65.
- Thresholds: clinics 15 min and neighbour centres 15 min (the 15-minute life circle);
  charging points 5 min (an e-bike is charged where it is parked: the charger must be by
  the home, GB 50180's 5-minute level is 300 m).
- Straight-line mode (no network): distance × 1.25, the detour ratio (circuity) typically
  measured for dense urban street grids; every such result is labelled ``straight_line``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from scipy.spatial import cKDTree

from geo.crs import to_wgs84
from geo.errors import LifecircleError, QueryError
from geo.network import WalkNetwork
from geo.network_io import load_network
from geo.routing import FacilityTable, facility_table, query_table
from geo.schema import FACILITY_LAYERS, get_layer
from geo.snapping import DEFAULT_SNAP_DISTANCE_M, Snap, snap_points
from geo.store import data_dir, read_layers

__all__ = [
    "CIRCUITY",
    "DEFAULT_MINUTES",
    "GB50180_METRES",
    "MAX_MINUTES",
    "PROFILES",
    "Profile",
    "Study",
    "custom_profile",
    "nearest",
    "parse_metres",
    "parse_thresholds",
]


@dataclass(frozen=True)
class Profile:
    """A walking speed with its name and where the number comes from."""

    name: str
    speed_kmh: float
    zh: str
    en: str

    @property
    def metres_per_minute(self) -> float:
        return self.speed_kmh * 1000.0 / 60.0


PROFILES: dict[str, Profile] = {
    "standard": Profile("standard", 4.0, "一般步行", "standard walker"),
    "elderly": Profile("elderly", 3.0, "老年人步行", "elderly walker"),
}
DEFAULT_MINUTES: dict[str, float] = {"clinics": 15, "neighbor_centers": 15, "charging_points": 5}
#: GB 50180-2018 life-circle walking distances (5, 10, 15 minutes).
GB50180_METRES = (300, 500, 1000)
CIRCUITY = 1.25


def custom_profile(speed_kmh: float) -> Profile:
    """A walker at ``speed_kmh`` (e.g. measured locally), named ``custom``."""
    if not 1.0 <= speed_kmh <= 8.0:
        raise QueryError(
            f"步行速度须在 1–8 km/h 之间 / walking speed must be 1–8 km/h, got {speed_kmh:g}"
        )
    return Profile("custom", float(speed_kmh), f"自定义 {speed_kmh:g} km/h",
                   f"custom {speed_kmh:g} km/h")  # fmt: skip


def profile_of(profile: str | Profile) -> Profile:
    """The named profile (``standard``, ``elderly``), or ``profile`` itself."""
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise QueryError(
            f"未知步行速度档 '{profile}' / unknown walking profile '{profile}'; "
            f"use {', '.join(PROFILES)}"
        ) from None


#: The longest threshold accepted: two hours' walk is far past any life circle, and a bound
#: keeps an infinite or absurd number out of the results.
MAX_MINUTES = 120.0


def _per_type(text: str | dict[str, float] | None, unit: tuple[str, str], most: float,
              example: str) -> dict[str, float]:  # fmt: skip
    """``"clinics=15,…"`` → ``{type: number}``, each in (0, ``most``]; ``unit`` is
    (中文, English) for the messages."""
    if not text:
        return {}
    items = text.items() if isinstance(text, dict) else (
        part.split("=", 1) for part in str(text).split(",") if part.strip())  # fmt: skip
    values = {}
    for item in items:
        if len(item) != 2:
            raise QueryError(f"格式为 类型=数值 / they look like {example}; got '{text}'")
        name, raw = (str(v).strip() for v in item)
        if name not in FACILITY_LAYERS:
            raise QueryError(
                f"没有设施类型 '{name}' / no facility type '{name}'; use {', '.join(FACILITY_LAYERS)}"
            )
        try:
            number = float(raw)
        except ValueError:
            raise QueryError(
                f"'{name}' 的值不是数字 / {name} is not a number: '{raw}'; give one more than 0 "
                f"and at most {most:g} {unit[1]}"
            ) from None
        if not 0 < number <= most:  # also refuses NaN and infinity
            raise QueryError(
                f"'{name}' 须在 0–{most:g} {unit[0]}之间 / {name} must be more than 0 and at "
                f"most {most:g} {unit[1]}; got '{raw}'"
            )
        values[name] = number
    return values


def parse_thresholds(text: str | dict[str, float] | None) -> dict[str, float]:
    """``"clinics=15,charging_points=5"`` → a dict over the defaults; names are checked."""
    given = _per_type(text, ("分钟", "minutes"), MAX_MINUTES, "clinics=15")
    return {**DEFAULT_MINUTES, **given}


#: The longest distance threshold accepted, metres (two hours at 4 km/h).
MAX_METRES = 8000.0


def parse_metres(text: str | dict[str, float] | None) -> dict[str, float]:
    """``"clinics=1000,charging_points=300"`` → distance thresholds for those types only
    (GB 50180-2018's levels are 300, 500 and 1000 m)."""
    return _per_type(text, ("米", "m"), MAX_METRES, "clinics=1000")


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
    _tables: dict[tuple, FacilityTable] = field(default_factory=dict, repr=False)

    def with_layers(self, layers: dict[str, gpd.GeoDataFrame]) -> Study:
        """The same network and settings over other layers (a scenario, candidate sites)."""
        return Study(layers, self.network, self.max_snap_m, self.circuity)

    @classmethod
    def load(
        cls,
        data: str | os.PathLike[str] | None = None,
        network: str | os.PathLike[str] | WalkNetwork | None = "auto",
        max_snap_m: float = DEFAULT_SNAP_DISTANCE_M,
        circuity: float = CIRCUITY,
    ) -> Study:
        """Read a store; ``network="auto"`` takes ``streets.geojson`` beside the layers if
        present (built once and cached on disk), ``None`` means straight-line mode, where
        walks are straight lines × ``circuity``.

        Examples
        --------
        >>> study = Study.load()
        >>> study.method, len(study.layers["clinics"]) > 12
        ('network', True)
        """
        folder = data_dir(data)
        layers = read_layers(folder)
        if isinstance(network, str) and network == "auto":
            streets = Path(folder) / "streets.geojson"
            network = streets if streets.exists() else None
        if network is not None and not isinstance(network, WalkNetwork):
            network = load_network(network)
        if not 1.0 <= circuity <= 3.0:
            raise QueryError(
                f"绕行系数须在 1–3 之间 / circuity must be between 1 and 3, got {circuity:g}"
            )
        return cls(layers, network, max_snap_m, circuity)

    @property
    def method(self) -> str:
        return "network" if self.network is not None else "straight_line"

    @cached_property
    def crs(self) -> pyproj.CRS:
        """The metric CRS of the analysis (the network's; else the UTM zone of the data)."""
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
        x, y = self._to_metric.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.atleast_1d(x), np.atleast_1d(y)

    def facilities(self, kind: str) -> gpd.GeoDataFrame:
        if kind not in FACILITY_LAYERS:
            get_layer(kind)
            raise QueryError(
                f"'{kind}' 不是设施类型 / '{kind}' is not a facility type; "
                f"use {', '.join(FACILITY_LAYERS)}"
            )
        return self.layers[kind]

    def facility_xy(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """Metric positions of the facilities of ``kind`` (computed once)."""
        if kind not in self._xy:
            frame = self.facilities(kind)
            if not len(frame):
                self._xy[kind] = (np.empty(0), np.empty(0))
            else:
                points = frame.geometry.representative_point()
                self._xy[kind] = self.project(points.x.to_numpy(), points.y.to_numpy())
        return self._xy[kind]

    def facility_table(self, kind: str, k: int, cutoff: float = np.inf) -> FacilityTable:
        """The k nearest facilities of every network node (computed once per setting)."""
        key = (kind, k, cutoff)
        if key not in self._tables:
            if len(self._tables) >= 32:  # many settings asked for: keep memory bounded
                self._tables.pop(next(iter(self._tables)))
            snap = self.facility_snap(kind)
            self._tables[key] = facility_table(
                self.network, snap, np.arange(len(snap)), k=k, cutoff=cutoff
            )
        return self._tables[key]

    def facility_snap(self, kind: str) -> Snap:
        """Where each facility of ``kind`` joins the network (computed once)."""
        if kind not in self._snaps:
            x, y = self.facility_xy(kind)
            self._snaps[kind] = self.snap(x, y)
        return self._snaps[kind]

    def snap(self, x: np.ndarray, y: np.ndarray) -> Snap:
        if self.network is None:
            raise LifecircleError("没有路网 / no walking network in this study")
        if len(x) == 0:
            empty = np.empty(0)
            return Snap(
                empty.astype(np.int64), empty, empty, empty.astype(bool), empty.astype(object)
            )
        return snap_points(self.network, x, y, self.max_snap_m)

    def walk_metres(
        self,
        x: np.ndarray,
        y: np.ndarray,
        kind: str,
        k: int = 1,
        cutoff: float = np.inf,
        origin_snap: Snap | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(metres, facility position, reason)`` of the k nearest facilities: ``(p, k)``
        arrays (``inf`` / ``-1`` where none), and why an origin could not be reached."""
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
        snap = origin_snap if origin_snap is not None else self.snap(x, y)
        if count == 0:
            return np.full((p, k), np.inf), np.full((p, k), -1, np.int64), snap.reason
        metres, label = query_table(self.network, self.facility_table(kind, k, cutoff), snap)
        return metres, label, snap.reason

    def nearest(
        self,
        points: Any,
        kind: str,
        k: int = 1,
        profile: str | Profile = "standard",
        crs: str = "wgs84",
    ) -> pd.DataFrame:
        """The ``k`` nearest facilities of ``kind`` to each point, by walking distance.

        ``points`` is one ``(lon, lat)`` pair or an array of them (in ``crs``: ``wgs84``,
        ``gcj02``, ``bd09`` …). One row per point and rank: ``point``, ``rank``,
        ``facility_id``, ``name``, ``walk_m``, ``walk_minutes``, ``straight_m``, ``method``
        and ``reason`` (why a point has no result).

        Examples
        --------
        >>> study = Study.load()
        >>> near = study.nearest((121.5405, 31.2990), "clinics", k=2)
        >>> near.loc[0, "name"]
        '杨浦区长白社区卫生服务中心'
        >>> bool(near["walk_m"].iloc[0] >= near["straight_m"].iloc[0])
        True
        """
        columns = self.nearest_columns(points, kind, k, profile, crs)
        return pd.DataFrame(columns).drop(columns=["lon", "lat"])

    def nearest_columns(
        self,
        points: Any,
        kind: str,
        k: int = 1,
        profile: str | Profile = "standard",
        crs: str = "wgs84",
    ) -> dict[str, np.ndarray]:
        """:meth:`nearest` as plain arrays (one entry per point and rank), plus each
        facility's WGS-84 ``lon`` and ``lat``: what the API serialises without pandas."""
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
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], crs)
        x, y = self.project(lon, lat)
        walker = profile_of(profile)
        metres, label, reason = self.walk_metres(x, y, kind, k)
        ids, names, flon, flat = self._facility_columns(kind)
        fx, fy = self.facility_xy(kind)
        rows = np.repeat(np.arange(len(x)), k)
        ranks = np.tile(np.arange(1, k + 1), len(x))
        flat_label = label.ravel()
        found = flat_label >= 0
        safe = np.where(found, flat_label, 0)
        straight = (
            np.hypot(fx[safe] - x[rows], fy[safe] - y[rows]) if len(fx) else np.zeros(len(rows))
        )
        walk = metres.ravel()
        why = np.where(found, None, reason[rows])
        # Where fewer than k facilities exist, only the first empty rank says why.
        extra = ~found & (ranks > 1) & pd.isna(reason[rows])
        why[extra] = "设施不足 / fewer facilities than k"
        return {
            "point": rows,
            "rank": ranks,
            "facility_id": np.where(found, ids[safe], None),
            "name": np.where(found, names[safe], None),
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

    Uses ``study``, or the store in ``$LIFECIRCLE_DATA`` (else the bundled sample) with its
    streets, loaded once. See :meth:`Study.nearest` for the columns.

    Examples
    --------
    >>> import geo
    >>> geo.nearest([(121.5405, 31.2990), (121.546, 31.294)], "neighbor_centers", k=1)[
    ...     ["point", "rank", "facility_id"]].values.tolist()
    [[0, 1, 'nc-001'], [1, 1, 'nc-004']]
    """
    if study is None:
        folder = str(data_dir(None))
        if folder not in _DEFAULT_STUDIES:
            _DEFAULT_STUDIES[folder] = Study.load(folder)
        study = _DEFAULT_STUDIES[folder]
    return study.nearest(points, kind, k=k, profile=profile, crs=crs)
