"""Shared dependencies: the settings, the layer and study caches, walk parameters parsed once.

Routes name what they need with the short aliases at the end of this module
(``Layers``, ``Studies``, ``Walker`` …), in the manner of ``SessionDep`` in the full-stack
FastAPI template; the walk parameters are parsed here, once per request, into a
:class:`~geo.analysis.params.WalkParams` that the routes pass to ``geo`` as it is.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Annotated, Any, Literal

import geopandas as gpd
import pandas as pd
from fastapi import Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geo.analysis.capacity import Capacity, capacity
from geo.analysis.completeness import completeness
from geo.analysis.coverage import analyze_areas, summarize
from geo.analysis.isochrones import gap_zones, isochrones
from geo.analysis.networks import NetworkChoice, resolve_network
from geo.analysis.params import THRESHOLDS_PATTERN, WalkParams
from geo.analysis.study import Study
from geo.analysis.surface import Surface, surface
from geo.layers.folder import FolderStore
from geo.layers.query import FeatureIndex
from geo.layers.store import LayerStore, Location, open_store
from geo.network.graph import WalkNetwork
from geo.schema import LAYER_NAMES
from geo.settings import Settings

__all__ = [
    "LayerCache",
    "Layers",
    "Studies",
    "StudyCache",
    "Walker",
    "WalkerCRS",
    "WalkerMinutes",
    "WalkerMinutesCRS",
    "get_cache",
    "get_studies",
    "has_writer_token",
    "require_writer",
    "settings_of",
]


#: ``{layer}`` in a path: checked against the schema by the route (an unknown one is a 404).
LayerName = Annotated[
    str,
    PathParam(
        description="图层 / layer: residential_areas, neighbor_centers, clinics, "
        "charging_points, renovation_projects (and coverage, read only)",
        examples=["clinics"],
    ),
]
#: ``{feature_id}`` in a path.
FeatureId = Annotated[str, PathParam(description="要素编号 / feature id", examples=["clinic-001"])]


class LayerCache:
    """Reads a layer once and again only when the store says it may have changed.

    So the service stays fast, and still serves what ``lifecircle import`` wrote while it
    was running. Everything about where the layers live is the store's
    (:class:`~geo.layers.store.LayerStore`): its cheap change stamp and its ETag.
    """

    def __init__(self, store: Location) -> None:
        self.store: LayerStore = open_store(store)
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Hashable, gpd.GeoDataFrame, str]] = {}
        self._indexes: dict[str, tuple[str, FeatureIndex]] = {}

    @property
    def folder(self) -> Path:
        """The folder of a folder store (what a test or a log line may want to name).

        Returns
        -------
        pathlib.Path

        Raises
        ------
        AttributeError
            The store is not a folder.
        """
        if not isinstance(self.store, FolderStore):
            raise AttributeError(f"{self.store.url} is not a folder store")
        return self.store.folder

    def _stamp(self, layer: str) -> Hashable:
        return self.store.stamp(layer)

    def get(self, layer: str) -> tuple[gpd.GeoDataFrame, str]:
        """The layer's frame and its ETag, read again only when the store's stamp changed.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        tuple of (geopandas.GeoDataFrame, str)
            The frame and the ETag of the same read.
        """
        stamp = self._stamp(layer)
        with self._lock:
            entry = self._entries.get(layer)
            if entry is None or entry[0] != stamp:
                frame, version = self.store.read_versioned(layer)
                entry = (stamp, frame, version)
                self._entries[layer] = entry
            return entry[1], entry[2]

    def index(self, layer: str) -> tuple[FeatureIndex, str]:
        """The layer's :class:`~geo.layers.query.FeatureIndex` (rebuilt when the file changes).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        tuple of (FeatureIndex, str)
            The index and the ETag of the frame it was built from; a new ETag rebuilds it.
        """
        frame, etag = self.get(layer)
        cached = self._indexes.get(layer)  # one dict read: atomic
        if cached is None or cached[0] != etag:
            # not under the lock every read takes: a city's 20,000 compounds take a second
            cached = (etag, FeatureIndex(frame, layer))
            with self._lock:
                self._indexes[layer] = cached
        return cached[1], etag

    def all(self) -> dict[str, gpd.GeoDataFrame]:
        """Every layer of the store, as :meth:`get` gives it.

        Returns
        -------
        dict of str to geopandas.GeoDataFrame
        """
        return {name: self.get(name)[0] for name in self.store.layers()}

    def forget(self, layer: str) -> None:
        """Drop ``layer`` from the cache, so the next read sees the file just written.

        Called after every write through the API: two writes within one mtime tick that
        leave the file the same size would otherwise look unchanged.

        Parameters
        ----------
        layer : str
            The layer just written; its frame and its index are dropped.
        """
        with self._lock:
            self._entries.pop(layer, None)
            self._indexes.pop(layer, None)


def settings_of(request: Request) -> Settings:
    """The settings the service was built with (:func:`api.main.create_app`).

    Parameters
    ----------
    request : fastapi.Request
        The current request (its app holds the settings).

    Returns
    -------
    Settings
    """
    return request.app.state.settings


def get_cache(request: Request) -> LayerCache:
    """The service's one :class:`LayerCache` (the dependency behind ``Layers``).

    Parameters
    ----------
    request : fastapi.Request
        The current request (its app holds the cache).

    Returns
    -------
    LayerCache
    """
    return request.app.state.layers


class StudyCache:
    """The :class:`~geo.analysis.study.Study` of the current layers, and coverage results per setting.

    The network is loaded once (from the on-disk cache, so start-up is fast). The study and
    every coverage result are keyed by the layers' ETags: after any accepted write the next
    request recomputes, so coverage is always that of the stored data.
    """

    def __init__(
        self, layers: LayerCache, network: NetworkChoice, cache_dir: Path | None = None
    ) -> None:
        self.layers = layers
        self._network_setting = network
        self._cache_dir = cache_dir
        self._network: WalkNetwork | None = None
        self._network_loaded = False
        self._lock = threading.Lock()
        self._study: tuple[tuple[str, ...], Study] | None = None
        self._results: dict[tuple[Any, ...], Any] = {}
        self._pending: dict[tuple[Any, ...], threading.Lock] = {}
        self._coverage_index: tuple[str, FeatureIndex] | None = None

    def network(self) -> WalkNetwork | None:
        """The walking network, loaded on first use by the one rule of
        :func:`geo.analysis.study.resolve_network`.

        Returns
        -------
        WalkNetwork or None
            None in straight-line mode (``"none"`` or None, or ``"auto"`` with a store that
            has no streets). Loaded once, then kept.
        """
        if not self._network_loaded:
            self._network = resolve_network(
                self._network_setting, self.layers.store, self._cache_dir
            )
            self._network_loaded = True
        return self._network

    def _current(self) -> tuple[tuple[str, ...], Study]:
        with self._lock:
            frames = {name: self.layers.get(name) for name in LAYER_NAMES}
            key = tuple(etag for _, etag in frames.values())
            if self._study is None or self._study[0] != key:
                layers = {name: frame for name, (frame, _) in frames.items()}
                self._study = (key, Study(layers, self.network()))
                self._results.clear()
            return self._study

    def study(self) -> Study:
        """The study of the current layers, built again after any of them changed.

        Returns
        -------
        Study
            The layers as stored now, with the walking network of :meth:`network`.
        """
        return self._current()[1]

    def cached(self, key: tuple[Any, ...], compute: Callable[[Study], Any]) -> Any:
        """``compute(study)`` for the current layers, once until they change.

        Parameters
        ----------
        key : tuple
            What the result depends on besides the layers, e.g.
            ``("gap_zones", ...)``; hashable.
        compute : callable
            Computes the result from the study of the current layers.

        Returns
        -------
        object
            What ``compute`` returned, for this ``key`` and these layers.
        """
        return self._cached(key, compute)[1]

    def _cached(self, key: tuple[Any, ...], compute: Callable[[Study], Any]) -> tuple[Study, Any]:
        """The study and ``compute(study)`` of it, computed once until the layers change.

        Computed outside the shared lock, so a slow result (gap zones of a big city take
        seconds) never holds up requests for others; one lock per key keeps two requests
        from computing the same thing. A result of layers that changed meanwhile is
        returned to its caller but not kept."""
        stamp, study = self._current()
        with self._lock:
            if key in self._results:
                return study, self._results[key]
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            with self._lock:
                if key in self._results:
                    return study, self._results[key]
            value = compute(study)
            with self._lock:
                if self._study is not None and self._study[0] == stamp:
                    self._results[key] = value
                self._pending.pop(key, None)
            return study, value

    def coverage(self, params: WalkParams | None = None) -> tuple[Study, pd.DataFrame]:
        """The study and the coverage of every residential area (per walker and
        thresholds).

        Parameters
        ----------
        params : WalkParams, optional
            Walker and thresholds; default :class:`~geo.analysis.params.WalkParams` ()
            (standard walker, default thresholds). Its CRS does not change the result.

        Returns
        -------
        tuple of (Study, pandas.DataFrame)
            The study the coverage was computed on, and
            :func:`~geo.analysis.coverage.analyze_areas` of it.
        """
        walk = params if params is not None else WalkParams()
        return self._cached(
            ("coverage", _result_key(walk)), lambda study: analyze_areas(study, walk)
        )

    def summary(self, params: WalkParams | None = None) -> pd.DataFrame:
        """:func:`~geo.analysis.coverage.summarize` of :meth:`coverage`, kept alike.

        Parameters
        ----------
        params : WalkParams, optional
            Walker and thresholds; default :class:`~geo.analysis.params.WalkParams` ().

        Returns
        -------
        pandas.DataFrame
            Shares covered, overall and per subdistrict, per type and for all types.
        """
        walk = params if params is not None else WalkParams()

        def compute(_: Study) -> pd.DataFrame:
            study, result = self.coverage(walk)
            return summarize(study.layers["residential_areas"], result)

        return self.cached(("summary", _result_key(walk)), compute)

    def gap_zones(self, params: WalkParams | None = None) -> gpd.GeoDataFrame:
        """Gap zones of every facility type (per walker and thresholds).

        Parameters
        ----------
        params : WalkParams, optional
            Walker and thresholds; default :class:`~geo.analysis.params.WalkParams` ().
            Its CRS does not change the result.

        Returns
        -------
        geopandas.GeoDataFrame
            :func:`~geo.analysis.isochrones.gap_zones` of the current study (which needs
            a walking network).
        """
        walk = params if params is not None else WalkParams()
        return self.cached(("gap_zones", _result_key(walk)), lambda study: gap_zones(study, walk))

    def capacity(self, params: WalkParams | None = None) -> Capacity:
        """Supply shared among the compounds that reach it (per walker and thresholds).

        Parameters
        ----------
        params : WalkParams, optional
            Walker and thresholds (the catchments); default
            :class:`~geo.analysis.params.WalkParams` (). Its CRS does not change the result.

        Returns
        -------
        Capacity
            :func:`~geo.analysis.capacity.capacity` of the current study.
        """
        walk = params if params is not None else WalkParams()
        return self.cached(("capacity", _result_key(walk)), lambda study: capacity(study, walk))

    def completeness(self) -> pd.DataFrame:
        """Which catalogue kinds each compound reaches, per tier and walker.

        Returns
        -------
        pandas.DataFrame
            :func:`~geo.analysis.completeness.completeness` of the current study (both
            walkers at once: the thresholds are the catalogue's).
        """
        return self.cached(("completeness",), completeness)

    def isochrones(
        self, kind: str, minutes: tuple[float, ...], params: WalkParams | None = None
    ) -> gpd.GeoDataFrame:
        """Isochrones of every facility of one type.

        Parameters
        ----------
        kind : str
            A facility layer.
        minutes : tuple of float
            The isochrones wanted, minutes at the walker's speed (order does not matter).
        params : WalkParams, optional
            The walker; default :class:`~geo.analysis.params.WalkParams` (). Only its
            profile matters here.

        Returns
        -------
        geopandas.GeoDataFrame
            :func:`~geo.analysis.isochrones.isochrones` of the current study (which needs
            a walking network).
        """
        walk = params if params is not None else WalkParams()
        values = tuple(sorted(float(m) for m in minutes))
        return self.cached(
            ("isochrones", kind, walk.profile.name, walk.profile.speed_kmh, values),
            lambda study: isochrones(study, kind, values, walk),
        )

    def surface(self) -> Surface:
        """The accessibility surface of the current layers (100 m cells), computed once.

        Returns
        -------
        Surface
            :func:`~geo.analysis.surface.surface` of the current study: metres per cell and
            type (minutes for any walker follow from them) and residents per cell.
        """
        return self.cached(("surface",), surface)

    def coverage_index(self) -> tuple[FeatureIndex, str]:
        """Default coverage joined to the areas, ready to serve as the ``coverage``
        collection; its ETag changes with any layer, since coverage depends on all.

        Returns
        -------
        tuple of (FeatureIndex, str)
            The residential areas with their default coverage columns, and the ETag (a
            hash of the layers' ETags).
        """
        study, result = self.coverage()
        stamp = self._study[0] if self._study is not None else ()
        etag = hashlib.sha256("".join(stamp).encode()).hexdigest()[:32]
        with self._lock:
            if self._coverage_index is None or self._coverage_index[0] != etag:
                areas = study.layers["residential_areas"]
                self._coverage_index = (etag, FeatureIndex(areas.join(result), "residential_areas"))
            return self._coverage_index[1], etag


def get_studies(request: Request) -> StudyCache:
    """The service's one :class:`StudyCache` (the dependency behind ``Studies``).

    Parameters
    ----------
    request : fastapi.Request
        The current request (its app holds the cache).

    Returns
    -------
    StudyCache
    """
    return request.app.state.studies


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="写入需要 / writes need `Authorization: Bearer <LIFECIRCLE_API_TOKEN>`",
)


def _same_token(given: str, token: str) -> bool:
    # Constant time, so the token cannot be guessed a character at a time from timings.
    return secrets.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def has_writer_token(request: Request) -> bool:
    """Whether the request carries the service's token (``Authorization: Bearer …``): a
    route that is open to all lets such a caller do more (a bigger batch, say).

    Parameters
    ----------
    request : fastapi.Request
        The current request.

    Returns
    -------
    bool
        False when no token is configured.
    """
    token = settings_of(request).api_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and _same_token(given, token or "")


def require_writer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let a write through only with ``Authorization: Bearer <settings.api_token>``.

    No token configured: writes are off (403, saying how to turn them on). A missing or
    wrong token: 401 with ``WWW-Authenticate: Bearer``. Reads never depend on this.

    Parameters
    ----------
    request : fastapi.Request
        The current request (its app holds the settings, and so the token).
    credentials : fastapi.security.HTTPAuthorizationCredentials or None
        The ``Authorization: Bearer`` header; None when the request has none.

    Raises
    ------
    fastapi.HTTPException
        403 when no token is configured, 401 when the one given is missing or wrong.
    """
    token = settings_of(request).api_token
    if not token:
        raise HTTPException(
            403,
            "写入未开启 / writes are disabled on this server: set LIFECIRCLE_API_TOKEN and "
            "restart; send Authorization: Bearer <token>",
        )
    given = credentials.credentials if credentials is not None else ""
    if not _same_token(given, token):
        challenge = 'Bearer realm="lifecircle"'
        if given:
            challenge += ', error="invalid_token"'
        raise HTTPException(
            401,
            "需要有效的令牌 / a valid token is required: send Authorization: Bearer <token> "
            "(the server's LIFECIRCLE_API_TOKEN)",
            headers={"WWW-Authenticate": challenge},
        )


def _result_key(params: WalkParams) -> tuple[Any, ...]:
    """What a coverage result depends on: not the CRS, which only shapes the answer."""
    return params.key()[:-1]


_PROFILE = Query(
    description="步行速度档 / walking profile: standard 4 km/h, elderly 3 km/h",
    examples=["elderly"],
)
_CRS = Query(
    description="输入和输出坐标系 / CRS of input AND output: wgs84, gcj02 (高德), bd09 (百度)",
    examples=["gcj02"],
)
_MINUTES = Query(
    description="阈值（分钟，大于 0、至多 120）/ thresholds in minutes, more than 0 and at most "
    "120, e.g. clinics=15,charging_points=5 (default: 15/15/5)",
    json_schema_extra={"pattern": THRESHOLDS_PATTERN},  # checked by WalkParams.parse
    examples=["clinics=15,neighbor_centers=15,charging_points=5"],
)
_SPEED = Query(
    ge=1, le=8, description="自定义步行速度 km/h（代替 profile）/ own walking speed, km/h "
    "(replaces profile)", examples=[3.5],
)  # fmt: skip
ProfileName = Annotated[Literal["standard", "elderly"], _PROFILE]
SpeedKmh = Annotated[float | None, _SPEED]
CrsName = Annotated[Literal["wgs84", "gcj02", "bd09"], _CRS]
MinutesText = Annotated[str | None, _MINUTES]


def walker(profile: ProfileName = "standard") -> WalkParams:
    """``?profile=`` parsed once."""
    return WalkParams.parse(profile)


def walker_crs(
    profile: ProfileName = "standard", speed: SpeedKmh = None, crs: CrsName = "wgs84"
) -> WalkParams:
    """``?profile=&speed=&crs=`` parsed once: ``speed`` (km/h) replaces ``profile``."""
    return WalkParams.parse(profile, speed=speed, crs=crs)


def walker_minutes(
    profile: ProfileName = "standard", minutes: MinutesText = None, speed: SpeedKmh = None
) -> WalkParams:
    """``?profile=&minutes=&speed=`` parsed once (a bad ``minutes`` is a bilingual 400)."""
    return WalkParams.parse(profile, minutes, speed=speed)


def walker_minutes_crs(
    profile: ProfileName = "standard",
    minutes: MinutesText = None,
    speed: SpeedKmh = None,
    crs: CrsName = "wgs84",
) -> WalkParams:
    """``?profile=&minutes=&speed=&crs=`` parsed once: ``speed`` (km/h) replaces
    ``profile``."""
    return WalkParams.parse(profile, minutes, speed=speed, crs=crs)


Layers = Annotated[LayerCache, Depends(get_cache)]
Studies = Annotated[StudyCache, Depends(get_studies)]
Walker = Annotated[WalkParams, Depends(walker)]
WalkerCRS = Annotated[WalkParams, Depends(walker_crs)]
WalkerMinutes = Annotated[WalkParams, Depends(walker_minutes)]
WalkerMinutesCRS = Annotated[WalkParams, Depends(walker_minutes_crs)]
