"""The layer store: the one seam between lifecircle and wherever the layers live.

Everything that reads or writes layer data goes through a :class:`LayerStore`: import,
export, edit, validation, the analysis and the web service. Nothing outside
``geo/layers/`` opens a layer file, stats it or takes the write lock.

A store is chosen by a URL-like location (:func:`open_store`): a plain path, or
``folder:/path``, is a :class:`~geo.layers.folder.FolderStore`; ``postgresql://…`` is a
:class:`~geo.layers.postgis.PostgisStore`. Another backend plugs in by implementing the
protocol and calling :func:`register_backend` with its scheme; no caller changes.

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
from geo.layers.offsets import layer_offset_warnings
from geo.layers.postgis import PostgisStore
from geo.layers.validate import is_missing, labels_of, raise_for_errors, validate_layer
from geo.schema import get_layer
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
    "write_checked",
    "write_layer",
]


@runtime_checkable
class LayerTransaction(Protocol):
    """Reads and writes made while the store's write lock is held."""

    def location(self, layer: str) -> Path | str:
        """Where ``layer`` is kept (as :meth:`LayerStore.location`).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        pathlib.Path or str
            A file path or a table URL, for messages and reports.
        """
        ...

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as stored now (see :meth:`LayerStore.read`).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        geopandas.GeoDataFrame
            WGS-84, indexed by feature id; empty when the layer has no data.
        """
        ...

    def write(self, layer: str, frame: gpd.GeoDataFrame) -> None:
        """Replace the whole layer by ``frame`` (WGS-84, indexed by id), atomically.

        Unchecked: a backend only stores. :func:`write_checked` checks the layer rules
        first, the same for every backend; feature edits check their change themselves.

        Parameters
        ----------
        layer : str
            One of the layers.
        frame : geopandas.GeoDataFrame
            The whole new layer, WGS-84, indexed by feature id.

        Returns
        -------
        None
        """
        ...


@runtime_checkable
class LayerStore(Protocol):
    """Where the layers live: the GeoJSON folder, or PostGIS tables.

    Attributes
    ----------
    url : str
        A URL naming the store, e.g. ``folder:/srv/lifecircle/layers``.
    """

    @property
    def url(self) -> str:
        """A URL naming the store, e.g. ``folder:/srv/lifecircle/layers``."""
        ...

    def layers(self) -> tuple[str, ...]:
        """The layer names (the schema's).

        Returns
        -------
        tuple of str
        """
        ...

    def location(self, layer: str) -> Path | str:
        """Where ``layer`` is kept, for messages and reports (a file path, a table URL).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        pathlib.Path or str
        """
        ...

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as a WGS-84 frame indexed by feature id; empty when it has no data.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        geopandas.GeoDataFrame

        Raises
        ------
        ValidationError, SourceReadError
            The stored data cannot be read; the problems name the feature.
        """
        ...

    def read_checked(self, layer: str) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
        """The layer as parsed (not indexed) and every problem met reading it, never raising.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        frame : geopandas.GeoDataFrame or None
            The features as parsed, not indexed by id; ``None`` when nothing could be read
            (the problems say why).
        problems : list of Problem
            Everything met while reading; for :func:`validate_store`.
        """
        ...

    def version(self, layer: str) -> str:
        """A strong validator of the layer's content (an HTTP ETag): changes with every write.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        str
        """
        ...

    def stamp(self, layer: str) -> Hashable:
        """A cheap token that changes when the layer may have changed (a file's mtime and size, a
        table's revision).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        hashable
            Compared with an earlier stamp to tell whether cached work is stale.
        """
        ...

    def transaction(self, timeout: float | None = None) -> AbstractContextManager[LayerTransaction]:
        """Hold the write lock for a read-modify-write.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the lock (default the backend's); a service answering
            writes waits briefly and tells the client to retry.

        Returns
        -------
        contextlib.AbstractContextManager of LayerTransaction
            Entering it takes the lock; leaving it releases the lock.

        Raises
        ------
        StoreError
            The lock could not be taken in time (another writer holds it).
        """
        ...

    def read_versioned(self, layer: str) -> tuple[gpd.GeoDataFrame, str]:
        """:meth:`read` and :meth:`version` of one and the same state of the layer (a cache
        that read them apart could pair a frame with the ETag of a later write).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        tuple of (geopandas.GeoDataFrame, str)
        """
        ...

    def leftovers(self) -> list[Problem]:
        """Warnings about what interrupted writes left behind (for :func:`validate_store`):
        a backend removes such leftovers when it is opened, when no writer is at work.

        Returns
        -------
        list of Problem
            Warnings naming what was removed, or is still there; empty when nothing was.
        """
        ...

    def streets(self) -> Path | str | None:
        """Where the store's street lines are (its default walking network), if it has any.

        Returns
        -------
        pathlib.Path, str or None
            A file, or a data source name GDAL opens (a database store would give its
            ``PG:…`` table), for :func:`geo.network.cache.load_network`.
        """
        ...


#: Something :func:`open_store` accepts: a store, a folder, or a store URL.
Location = LayerStore | str | os.PathLike[str] | None

_BACKENDS: dict[str, Callable[[str], LayerStore]] = {
    "folder": FolderStore,
    "postgresql": PostgisStore,
    "postgres": PostgisStore,
}


def register_backend(scheme: str, factory: Callable[[str], LayerStore]) -> None:
    """Make ``open_store("<scheme>:…")`` call ``factory`` with the whole location.

    The folder and PostGIS stores are listed here already; another backend module registers
    itself when imported (``register_backend("myscheme", MyStore)`` at its end).

    Parameters
    ----------
    scheme : str
        The URL scheme, two characters or more (one letter is a Windows drive).
    factory : callable
        Builds the store from what follows ``scheme:``.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        ``scheme`` has fewer than two characters.
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
        A store, a store URL such as ``folder:/srv/lifecircle/layers``, or a folder path.

    Returns
    -------
    LayerStore
        The store; nothing is read yet (for a folder, only its existence is checked).

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
        return factory(rest if factory is FolderStore else text)
    return FolderStore(text)


def read_layer(layer: str, store: Location = None) -> gpd.GeoDataFrame:
    """Read one layer as a GeoDataFrame indexed by feature id.

    A layer with no data is empty. Data that cannot be parsed raises
    :class:`~geo.errors.SourceReadError` or :class:`~geo.errors.ValidationError` naming the
    file and feature; schema rules are checked by :func:`geo.layers.validate.validate_layer`.

    Parameters
    ----------
    layer : str
        One of the layers.
    store : LayerStore, path or URL, optional
        Default: the settings' store (:func:`open_store`).

    Returns
    -------
    geopandas.GeoDataFrame
        WGS-84, indexed by feature id; empty when the layer has no data.

    Raises
    ------
    UnknownLayerError
        ``layer`` is not one of the layers.
    StoreError
        The store cannot be opened.
    SourceReadError, ValidationError
        The stored data cannot be parsed.

    Examples
    --------
    >>> clinics = read_layer("clinics")
    >>> clinics.crs.to_epsg(), "level" in clinics.columns
    (4326, True)
    """
    get_layer(layer)
    return open_store(store).read(layer)


def read_layers(store: Location = None) -> dict[str, gpd.GeoDataFrame]:
    """Read every layer into a dict keyed by layer name (see :func:`read_layer`).

    Parameters
    ----------
    store : LayerStore, path or URL, optional
        Default: the settings' store (:func:`open_store`).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        In the schema's layer order; a layer with no data is an empty frame.

    Raises
    ------
    StoreError
        The store cannot be opened.
    SourceReadError, ValidationError
        The stored data of a layer cannot be parsed.

    Examples
    --------
    >>> layers = read_layers()
    >>> len(layers), len(layers["clinics"]), len(layers["facilities"])  # the sample has none
    (6, 23, 0)
    """
    opened = open_store(store)
    return {name: opened.read(name) for name in opened.layers()}


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

    Raises
    ------
    ValidationError
        ``validate`` and the frame breaks the layer rules; nothing is written.
    StoreError
        The store cannot be opened, or its write lock not taken in time.
    """
    opened = open_store(store)
    with opened.transaction() as transaction:
        if validate:
            write_checked(transaction, layer, frame)
        else:
            transaction.write(layer, frame)
    return opened.location(layer)


def write_checked(transaction: LayerTransaction, layer: str, frame: gpd.GeoDataFrame) -> None:
    """Check ``frame`` against the layer rules, then write it in ``transaction``.

    The one place the rules guard a whole-layer write, whatever the backend.

    Parameters
    ----------
    transaction : LayerTransaction
        An open transaction of the store (its lock held).
    layer : str
        One of the layers.
    frame : geopandas.GeoDataFrame
        The whole new layer, WGS-84, indexed by feature id.

    Raises
    ------
    ValidationError
        The frame breaks the layer rules; nothing is written.
    """
    where = transaction.location(layer)
    summary = f"{where}: 数据校验失败 / validation failed"
    raise_for_errors(validate_layer(frame, layer, source=str(where)), summary)
    transaction.write(layer, frame)


def validate_store(store: Location = None) -> list[Problem]:
    """Validate every layer of a store, plus the references between layers.

    Data that cannot be parsed at all becomes one problem; the other layers are still
    checked, so one run names everything that is wrong. Temporary files of interrupted
    writes (removed when the store is opened) are warnings. A layer that lines up with the
    streets clearly better converted from GCJ-02 or BD-09 is a warning
    (:mod:`geo.layers.offsets`).

    Parameters
    ----------
    store : LayerStore, path or URL, optional
        Default: the settings' store.

    Returns
    -------
    list of Problem
        Errors and warnings, each naming file, feature and field.

    Raises
    ------
    StoreError
        The store cannot be opened.

    Examples
    --------
    >>> [p for p in validate_store() if p.severity == "error"]
    []
    """
    opened = open_store(store)
    problems: list[Problem] = opened.leftovers()
    frames: dict[str, gpd.GeoDataFrame] = {}
    for layer in opened.layers():
        frame, read_problems = opened.read_checked(layer)
        problems += read_problems
        if frame is None:
            continue
        problems += validate_layer(frame, layer, source=str(opened.location(layer)))
        if "id" in frame.columns:
            frames[layer] = layer_frame(frame, layer)
    where = {layer: str(opened.location(layer)) for layer in frames}
    problems += layer_offset_warnings(frames, opened.streets(), where)
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
