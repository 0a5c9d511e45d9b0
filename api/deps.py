"""Shared dependencies: the settings and a layer cache that notices edits on disk."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import geopandas as gpd
from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.config import Settings
from geo.coverage import analyze_areas
from geo.features import FeatureIndex
from geo.isochrones import gap_zones, isochrones
from geo.network import WalkNetwork
from geo.network_io import load_network
from geo.schema import LAYER_NAMES, get_layer
from geo.store import layer_etag, read_layer
from geo.walks import Study, parse_thresholds, profile_of

__all__ = [
    "LayerCache",
    "StudyCache",
    "get_cache",
    "get_studies",
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
    """Reads a layer once and again only when its file changed (mtime, size).

    So the service stays fast, and still serves what ``lifecircle import`` wrote while it
    was running.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[int, int], gpd.GeoDataFrame, str]] = {}
        self._indexes: dict[str, tuple[str, FeatureIndex]] = {}

    def _stamp(self, layer: str) -> tuple[int, int]:
        path = self.folder / get_layer(layer).filename
        try:
            stat = path.stat()
        except FileNotFoundError:
            return (0, -1)
        return (stat.st_mtime_ns, stat.st_size)

    def get(self, layer: str) -> tuple[gpd.GeoDataFrame, str]:
        """The layer's frame and its ETag."""
        stamp = self._stamp(layer)
        with self._lock:
            entry = self._entries.get(layer)
            if entry is None or entry[0] != stamp:
                entry = (stamp, read_layer(layer, self.folder), layer_etag(layer, self.folder))
                self._entries[layer] = entry
            return entry[1], entry[2]

    def index(self, layer: str) -> tuple[FeatureIndex, str]:
        """The layer's :class:`~geo.features.FeatureIndex` (rebuilt when the file changes)."""
        frame, etag = self.get(layer)
        with self._lock:
            cached = self._indexes.get(layer)
            if cached is None or cached[0] != etag:
                cached = (etag, FeatureIndex(frame, layer))
                self._indexes[layer] = cached
            return cached[1], etag

    def all(self) -> dict[str, gpd.GeoDataFrame]:
        return {name: self.get(name)[0] for name in LAYER_NAMES}

    def forget(self, layer: str) -> None:
        """Drop ``layer`` from the cache, so the next read sees the file just written.

        Called after every write through the API: two writes within one mtime tick that
        leave the file the same size would otherwise look unchanged.
        """
        with self._lock:
            self._entries.pop(layer, None)
            self._indexes.pop(layer, None)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def get_cache(request: Request) -> LayerCache:
    return request.app.state.layers


class StudyCache:
    """The :class:`~geo.walks.Study` of the current layers, and coverage results per setting.

    The network is loaded once (from the on-disk cache, so start-up is fast). The study and
    every coverage result are keyed by the layers' ETags: after any accepted write the next
    request recomputes, so coverage is always that of the stored data.
    """

    def __init__(self, layers: LayerCache, network: str) -> None:
        self.layers = layers
        self._network_setting = network
        self._network: WalkNetwork | bool | None = False  # False: not loaded yet
        self._lock = threading.Lock()
        self._study: tuple[tuple[str, ...], Study] | None = None
        self._results: dict[tuple, object] = {}
        self._pending: dict[tuple, threading.Lock] = {}
        self._coverage_index: tuple[str, FeatureIndex] | None = None

    def network(self) -> WalkNetwork | None:
        if self._network is False:
            setting = self._network_setting
            if setting.lower() == "none":
                self._network = None
            elif setting == "auto":
                streets = self.layers.folder / "streets.geojson"
                self._network = load_network(streets) if streets.exists() else None
            else:
                self._network = load_network(setting)
        return self._network  # type: ignore[return-value]

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
        return self._current()[1]

    def cached(self, key: tuple, compute: Callable[[Study], object]):
        """``compute(study)`` for the current layers, once until they change."""
        return self._cached(key, compute)[1]

    def _cached(self, key: tuple, compute: Callable[[Study], object]) -> tuple[Study, object]:
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

    def coverage(self, profile: str = "standard", minutes: str | None = None):
        """The study and the coverage of every residential area (per profile and
        thresholds)."""
        limits = parse_thresholds(minutes)
        name = profile_of(profile).name
        return self._cached(
            ("coverage", name, tuple(sorted(limits.items()))),
            lambda study: analyze_areas(study, limits, name),
        )

    def gap_zones(self, profile: str = "standard", minutes: str | None = None):
        """Gap zones of every facility type (per profile and thresholds)."""
        limits = parse_thresholds(minutes)
        name = profile_of(profile).name
        return self.cached(
            ("gap_zones", name, tuple(sorted(limits.items()))),
            lambda study: gap_zones(study, limits, name),
        )

    def isochrones(self, kind: str, minutes: tuple[float, ...], profile: str = "standard"):
        """Isochrones of every facility of one type."""
        name = profile_of(profile).name
        values = tuple(sorted(float(m) for m in minutes))
        return self.cached(
            ("isochrones", kind, name, values),
            lambda study: isochrones(study, kind, values, name),
        )

    def coverage_index(self) -> tuple[FeatureIndex, str]:
        """Default coverage joined to the areas, ready to serve as the ``coverage``
        collection; its ETag changes with any layer, since coverage depends on all."""
        study, result = self.coverage()
        etag = hashlib.sha256("".join(self._study[0]).encode()).hexdigest()[:32]
        with self._lock:
            if self._coverage_index is None or self._coverage_index[0] != etag:
                areas = study.layers["residential_areas"]
                self._coverage_index = (etag, FeatureIndex(areas.join(result), "residential_areas"))
            return self._coverage_index[1], etag


def get_studies(request: Request) -> StudyCache:
    return request.app.state.studies


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="写入需要 / writes need `Authorization: Bearer <LIFECIRCLE_API_TOKEN>`",
)


def require_writer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let a write through only with ``Authorization: Bearer <settings.api_token>``.

    No token configured: writes are off (403, saying how to turn them on). A missing or
    wrong token: 401 with ``WWW-Authenticate: Bearer``. Reads never depend on this.
    """
    token = settings_of(request).api_token
    if not token:
        raise HTTPException(
            403,
            "写入未开启 / writes are disabled on this server: set LIFECIRCLE_API_TOKEN and "
            "restart; send Authorization: Bearer <token>",
        )
    given = credentials.credentials if credentials is not None else ""
    # Constant time, so the token cannot be guessed a character at a time from timings.
    if not secrets.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
        challenge = 'Bearer realm="lifecircle"'
        if given:
            challenge += ', error="invalid_token"'
        raise HTTPException(
            401,
            "需要有效的令牌 / a valid token is required: send Authorization: Bearer <token> "
            "(the server's LIFECIRCLE_API_TOKEN)",
            headers={"WWW-Authenticate": challenge},
        )
