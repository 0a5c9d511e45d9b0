"""Shared dependencies: the settings and a layer cache that notices edits on disk."""

from __future__ import annotations

import threading
from pathlib import Path

import geopandas as gpd
from fastapi import Request

from api.config import Settings
from geo.schema import LAYER_NAMES, get_layer
from geo.store import layer_etag, read_layer

__all__ = ["LayerCache", "get_cache", "settings_of"]


class LayerCache:
    """Reads a layer once and again only when its file changed (mtime, size).

    So the service stays fast, and still serves what ``lifecircle import`` wrote while it
    was running.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[int, int], gpd.GeoDataFrame, str]] = {}

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

    def all(self) -> dict[str, gpd.GeoDataFrame]:
        return {name: self.get(name)[0] for name in LAYER_NAMES}


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def get_cache(request: Request) -> LayerCache:
    return request.app.state.layers
