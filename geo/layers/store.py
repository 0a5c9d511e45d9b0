"""The layer store: the one seam between lifecircle and wherever the five layers live.

Everything that reads or writes layer data goes through a :class:`LayerStore`: import,
export, edit, validation, the analysis and the web service. Nothing outside
``geo/layers/`` opens a layer file, stats it or takes the write lock.

A store is chosen by a URL-like location (:func:`open_store`): a plain path, or
``folder:/path``, is a :class:`~geo.layers.folder.FolderStore`. Another backend (PostGIS,
say) plugs in by implementing the protocol and calling :func:`register_backend` with its
scheme (``postgresql``); no caller changes.

The functions below (:func:`read_layer`, :func:`write_layer`, …) are the short forms for a
notebook or a script: each takes a location or a store and opens it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol, runtime_checkable

import geopandas as gpd

from geo.errors import Problem, StoreError
from geo.layers.folder import FolderStore
from geo.layers.geojson import layer_frame
from geo.layers.validate import is_missing, labels_of, validate_layer
from geo.schema import LAYER_NAMES, get_layer
from geo.settings import current

__all__ = [
    "LayerStore",
    "LayerTransaction",
    "Location",
    "open_store",
    "read_layer",
    "read_layers",
    "register_backend",
    "validate_store",
    "write_layer",
]


@runtime_checkable
class LayerTransaction(Protocol):
    """Reads and writes made while the store's write lock is held."""

    def location(self, layer: str) -> Path | str:
        """Where ``layer`` is kept (as :meth:`LayerStore.location`)."""
        ...

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as stored now (see :meth:`LayerStore.read`)."""
        ...

    def write(self, layer: str, frame: gpd.GeoDataFrame, *, validate: bool = True) -> None:
        """Replace the whole layer by ``frame`` (WGS-84, indexed by id), atomically.

        With ``validate`` the frame is checked against the layer rules first and a
        :class:`~geo.errors.ValidationError` leaves the layer as it was.
        """
        ...


@runtime_checkable
class LayerStore(Protocol):
    """Where the five layers live. One implementation today: the GeoJSON folder."""

    #: A URL naming the store, e.g. ``folder:/srv/lifecircle/layers``.
    url: str

    def layers(self) -> tuple[str, ...]:
        """The layer names (the schema's five)."""
        ...

    def location(self, layer: str) -> Path | str:
        """Where ``layer`` is kept, for messages and reports (a file path, a table URL)."""
        ...

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as a WGS-84 frame indexed by feature id; empty when it has no data.

        Raises :class:`~geo.errors.ValidationError` or :class:`~geo.errors.SourceReadError`
        when the stored data cannot be read, naming the feature.
        """
        ...

    def read_checked(self, layer: str) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
        """The layer as parsed (not indexed) and every problem met reading it, never raising.

        ``None`` when nothing could be read (the problems say why); for :func:`validate_store`.
        """
        ...

    def version(self, layer: str) -> str:
        """A strong validator of the layer's content (an HTTP ETag): changes with every write."""
        ...

    def stamp(self, layer: str) -> Hashable:
        """A cheap token that changes when the layer may have changed (mtime and size)."""
        ...

    def transaction(self) -> AbstractContextManager[LayerTransaction]:
        """Hold the write lock for a read-modify-write; raises StoreError on a timeout."""
        ...

    def streets(self) -> Path | None:
        """The store's street layer (the default walking network), if it has one."""
        ...


#: Something :func:`open_store` accepts: a store, a folder, or a store URL.
Location = LayerStore | str | os.PathLike[str] | None

_BACKENDS: dict[str, Callable[[str], LayerStore]] = {"folder": FolderStore}


def register_backend(scheme: str, factory: Callable[[str], LayerStore]) -> None:
    """Make ``open_store("<scheme>:…")`` call ``factory`` with the rest of the location.

    Parameters
    ----------
    scheme : str
        The URL scheme, two characters or more (one letter is a Windows drive).
    factory : callable
        Builds the store from what follows ``scheme:``.
    """
    if len(scheme) < 2:
        raise ValueError("a store scheme has at least two characters")
    _BACKENDS[scheme.lower()] = factory


def open_store(location: Location = None) -> LayerStore:
    """The store at ``location``: a store is returned as it is; None means the settings'
    ``data`` (``$LIFECIRCLE_DATA``, else the bundled sample); ``scheme:rest`` picks a
    registered backend; anything else is a folder.

    Parameters
    ----------
    location : LayerStore, str, path-like or None

    Returns
    -------
    LayerStore

    Raises
    ------
    StoreError
        The folder does not exist, or the scheme is not known.

    Examples
    --------
    >>> open_store("folder:data/layers").location("clinics").name
    'clinics.geojson'
    """
    if location is None:
        location = current().data
    if isinstance(location, LayerStore):
        return location
    text = os.fspath(location)
    scheme, colon, rest = text.partition(":")
    if colon and len(scheme) > 1 and "/" not in scheme and "\\" not in scheme:
        factory = _BACKENDS.get(scheme.lower())
        if factory is None:
            raise StoreError(
                f"不支持的数据存储 '{scheme}:' / unknown store type '{scheme}:'; "
                f"可用 / known: {', '.join(f'{s}:' for s in _BACKENDS)} or a folder path"
            )
        return factory(rest)
    return FolderStore(text)


def read_layer(layer: str, store: Location = None) -> gpd.GeoDataFrame:
    """Read one layer as a GeoDataFrame indexed by feature id.

    A layer with no data is empty. Data that cannot be parsed raises
    :class:`~geo.errors.SourceReadError` or :class:`~geo.errors.ValidationError` naming the
    file and feature; schema rules are checked by :func:`geo.layers.validate.validate_layer`.

    Parameters
    ----------
    layer : str
        One of the five layers.
    store : LayerStore, path or URL, optional
        Default: the settings' store (:func:`open_store`).

    Returns
    -------
    geopandas.GeoDataFrame

    Examples
    --------
    >>> clinics = read_layer("clinics")
    >>> clinics.crs.to_epsg(), "level" in clinics.columns
    (4326, True)
    """
    get_layer(layer)
    return open_store(store).read(layer)


def read_layers(store: Location = None) -> dict[str, gpd.GeoDataFrame]:
    """Read all five layers into a dict keyed by layer name (see :func:`read_layer`)."""
    opened = open_store(store)
    return {name: opened.read(name) for name in LAYER_NAMES}


def write_layer(
    frame: gpd.GeoDataFrame, layer: str, store: Location = None, *, validate: bool = True
) -> Path | str:
    """Validate ``frame`` against the layer rules and replace the layer, atomically.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The whole new layer, WGS-84.
    layer : str
        Which layer.
    store : LayerStore, path or URL, optional
        Default: the settings' store.
    validate : bool
        Check the rules first; a :class:`~geo.errors.ValidationError` writes nothing.

    Returns
    -------
    pathlib.Path or str
        Where the layer was written (:meth:`LayerStore.location`).
    """
    opened = open_store(store)
    with opened.transaction() as transaction:
        transaction.write(layer, frame, validate=validate)
    return opened.location(layer)


def validate_store(store: Location = None) -> list[Problem]:
    """Validate every layer of a store, plus the references between layers.

    Data that cannot be parsed at all becomes one problem; the other layers are still
    checked, so one run names everything that is wrong.

    Parameters
    ----------
    store : LayerStore, path or URL, optional
        Default: the settings' store.

    Returns
    -------
    list of Problem
        Errors and warnings, each naming file, feature and field.

    Examples
    --------
    >>> [p for p in validate_store() if p.severity == "error"]
    []
    """
    opened = open_store(store)
    problems: list[Problem] = []
    frames: dict[str, gpd.GeoDataFrame] = {}
    for layer in LAYER_NAMES:
        frame, read_problems = opened.read_checked(layer)
        problems += read_problems
        if frame is None:
            continue
        problems += validate_layer(frame, layer, source=str(opened.location(layer)))
        if "id" in frame.columns:
            frames[layer] = layer_frame(frame, layer)
    areas = frames.get("residential_areas")
    if areas is not None:
        known = set(areas["id"].dropna().astype(str))
        for layer in ("charging_points", "renovation_projects"):
            frame = frames.get(layer)
            if frame is None or "residential_area_id" not in frame.columns:
                continue
            for label, ref in zip(labels_of(frame), frame["residential_area_id"], strict=True):
                if not is_missing(ref) and str(ref) not in known:
                    problems.append(
                        Problem(
                            str(opened.location(layer)),
                            label,
                            "residential_area_id",
                            f"引用的小区 {ref} 不存在 / no residential area with id {ref}",
                            "检查编号 / check the id",
                            "warning",
                        )
                    )
    return problems
