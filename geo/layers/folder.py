"""The folder store: ``<folder>/<layer>.geojson``, the default
:class:`~geo.layers.store.LayerStore` (the other is :mod:`geo.layers.postgis`).

Each layer is one GeoJSON file in the store's format (:mod:`geo.layers.geojson`). Writes go
through :func:`geo.atomic.atomic_write_bytes` under a lock file in the folder
(:mod:`filelock`, which works across processes and on Windows), so a crash or two writers
never leave a torn or half-merged layer. The walking network's streets, when the store has
them, are ``streets.geojson`` beside the layers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
from filelock import FileLock, Timeout

from geo.atomic import atomic_write_bytes
from geo.errors import Problem, SourceReadError, StoreError, ValidationError
from geo.layers.geojson import (
    empty_layer,
    layer_frame,
    parse_feature_collection,
    to_feature_collection,
)
from geo.schema import LAYER_NAMES, get_layer

__all__ = [
    "LOCK_NAME",
    "LOCK_TIMEOUT_S",
    "STREETS_FILE",
    "STREETS_FILES",
    "FolderStore",
    "FolderTransaction",
]

#: The lock file in the store's folder that a writer holds (see :meth:`FolderStore.transaction`).
LOCK_NAME = ".lifecircle.lock"
#: Seconds a writer waits for the lock before giving up with a StoreError.
LOCK_TIMEOUT_S = 30
#: The street layer a folder store may hold beside its layers (the default walking network).
STREETS_FILE = "streets.geojson"
#: Every name the streets may have, first found wins: a drawn line layer, or an
#: OpenStreetMap file kept as it is, so walks follow OSM's own junctions (ways joined where
#: they share a node, not wherever two lines cross).
STREETS_FILES = (STREETS_FILE, "streets.gpkg", "streets.osm", "streets.osm.pbf")


class FolderStore:
    """Layers as GeoJSON files in one folder.

    Parameters
    ----------
    folder : path-like
        An existing folder; a layer whose file is missing reads as empty.

    Raises
    ------
    StoreError
        The folder does not exist.

    Examples
    --------
    >>> from geo.settings import DEFAULT_DATA_DIR
    >>> store = FolderStore(DEFAULT_DATA_DIR)
    >>> store.url.startswith("folder:"), store.streets().name
    (True, 'streets.geojson')
    """

    scheme = "folder"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        path = Path(folder).expanduser()
        if not path.is_dir():
            raise StoreError(
                f"数据目录不存在 / data folder not found: {path}. "
                "用 --data 指定 / pass --data DIR (or set LIFECIRCLE_DATA)."
            )
        self.folder = path
        self._removed = self._remove_leftovers()

    def _leftover_files(self) -> list[Path]:
        """Temporary files of :func:`geo.atomic.atomic_write_bytes` beside the layers: a
        write killed between creating and renaming one leaves it behind."""
        prefixes = tuple(f".{name}.geojson." for name in LAYER_NAMES)
        try:
            return sorted(
                p
                for p in self.folder.iterdir()
                if p.name.startswith(prefixes) and p.suffix == ".tmp"
            )
        except OSError:
            return []

    def _remove_leftovers(self) -> list[str]:
        """Remove the leftovers of killed writes, when no writer is at work (the lock is
        free: a live writer's temporary file must not vanish before its rename)."""
        found = self._leftover_files()
        if not found:
            return []  # the usual case: no lock file made, nothing touched
        removed = []
        try:
            with FileLock(str(self.folder / LOCK_NAME), timeout=0):
                for path in self._leftover_files():
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed.append(path.name)
        except (Timeout, OSError):  # a writer holds the lock, or the folder is read-only
            pass
        return removed

    def leftovers(self) -> list[Problem]:
        """Warnings about temporary files of interrupted writes: those removed when the
        store was opened, and those still there (a writer held the lock, or no permission).

        Returns
        -------
        list of Problem
            At most two warnings, naming the files; empty when there were none.
        """
        problems = []
        if self._removed:
            names = ", ".join(self._removed[:10]) + (" …" if len(self._removed) > 10 else "")
            problems.append(Problem(
                str(self.folder), None, None,
                f"已删除 {len(self._removed)} 个中断写入留下的临时文件 / removed "
                f"{len(self._removed)} temporary files left by interrupted writes: {names}",
                "图层文件未受影响 / the layers themselves are whole", "warning",
            ))  # fmt: skip
        still = [p.name for p in self._leftover_files()]
        if still:
            names = ", ".join(still[:10]) + (" …" if len(still) > 10 else "")
            problems.append(Problem(
                str(self.folder), None, None,
                f"有 {len(still)} 个临时文件（写入进行中或中断）/ {len(still)} temporary files "
                f"of writes in progress or interrupted: {names}",
                "无写入时重新打开数据目录即可清理 / opening the store when no write is running "
                "removes them", "warning",
            ))  # fmt: skip
        return problems

    @property
    def url(self) -> str:
        """``folder:`` and the folder's absolute path, e.g. ``folder:/srv/lifecircle/layers``."""
        return f"folder:{self.folder.resolve()}"

    def __repr__(self) -> str:
        return f"FolderStore({str(self.folder)!r})"

    def layers(self) -> tuple[str, ...]:
        """The layer names: every layer of the schema, whichever files the folder holds.

        Returns
        -------
        tuple of str
        """
        return LAYER_NAMES

    def location(self, layer: str) -> Path:
        """The file of ``layer`` (the name is checked against the fixed set).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        pathlib.Path
            ``<folder>/<layer>.geojson``, whether or not it exists.

        Raises
        ------
        UnknownLayerError
            ``layer`` is not one of the layers.
        """
        return self.folder / f"{get_layer(layer).name}.geojson"

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as a WGS-84 frame indexed by feature id (see :meth:`LayerStore.read`).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        geopandas.GeoDataFrame
            Every schema field a column; a missing file reads as an empty layer.

        Raises
        ------
        SourceReadError
            The file is not valid JSON, not UTF-8, not a FeatureCollection, or declares a
            CRS other than WGS-84.
        ValidationError
            A feature cannot be used: not a Feature object, properties that are not an
            object, no geometry or an unreadable one.
        """
        path = self.location(layer)
        if not path.exists():
            return empty_layer(layer)
        frame, problems = parse_feature_collection(path.read_bytes(), str(path))
        if any(p.severity == "error" for p in problems):
            raise ValidationError(problems, f"{path}: 图层无法读取 / layer cannot be read")
        return layer_frame(frame, layer)

    def read_checked(self, layer: str) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
        """The layer as parsed and the problems met reading it (:meth:`LayerStore.read_checked`).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        frame : geopandas.GeoDataFrame or None
            The features as parsed, not indexed by id; None when the file is missing (a
            warning) or cannot be parsed at all (an error).
        problems : list of Problem
            Per-feature problems of the parse, or the one reason there is no frame.
        """
        path = self.location(layer)
        if not path.exists():
            missing = Problem(
                str(path),
                None,
                None,
                "图层文件不存在（视为空）/ layer file missing (treated as empty)",
                f"用 lifecircle import {layer} FILE 导入 / import it",
                "warning",
            )
            return None, [missing]
        try:
            frame, problems = parse_feature_collection(path.read_bytes(), str(path))
        except SourceReadError as exc:
            return None, [Problem(str(path), None, None, str(exc))]
        return frame, problems

    def version(self, layer: str) -> str:
        """The layer's ETag: the first 32 hex digits of the SHA-256 of its file.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        str
            A missing file hashes as empty content.
        """
        path = self.location(layer)
        content = path.read_bytes() if path.exists() else b""
        return hashlib.sha256(content).hexdigest()[:32]

    def read_versioned(self, layer: str) -> tuple[gpd.GeoDataFrame, str]:
        """The layer and its version from one read of the file, so the two always agree.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        tuple of (geopandas.GeoDataFrame, str)
            As :meth:`read` and :meth:`version`.
        """
        path = self.location(layer)
        content = path.read_bytes() if path.exists() else b""
        version = hashlib.sha256(content).hexdigest()[:32]
        if not content:
            return empty_layer(layer), version
        frame, problems = parse_feature_collection(content, str(path))
        if any(p.severity == "error" for p in problems):
            raise ValidationError(problems, f"{path}: 图层无法读取 / layer cannot be read")
        return layer_frame(frame, layer), version

    def stamp(self, layer: str) -> tuple[int, int]:
        """A cheap change token: the file's modification time and size, without reading it.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        tuple of int
            ``(st_mtime_ns, st_size)``, or ``(0, -1)`` when the file is missing.
        """
        try:
            stat = self.location(layer).stat()
        except FileNotFoundError:
            return (0, -1)
        return (stat.st_mtime_ns, stat.st_size)

    @contextlib.contextmanager
    def transaction(self, timeout: float | None = None) -> Iterator[FolderTransaction]:
        """Hold the folder's lock file (:data:`LOCK_NAME`) for a read-modify-write.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the lock; default :data:`LOCK_TIMEOUT_S`.

        Returns
        -------
        contextlib.AbstractContextManager of FolderTransaction
            Entering it waits for the lock, at most :data:`LOCK_TIMEOUT_S` seconds;
            leaving it releases the lock.

        Raises
        ------
        StoreError
            Another writer held the lock for longer than :data:`LOCK_TIMEOUT_S` seconds.
        """
        wait = LOCK_TIMEOUT_S if timeout is None else timeout
        lock = FileLock(str(self.folder / LOCK_NAME), timeout=wait)
        try:
            with lock:
                yield FolderTransaction(self)
        except Timeout:
            raise StoreError(
                f"数据目录被占用 / the store at {self.folder} is locked by another writer for "
                f"more than {wait:g} s; try again when it has finished."
            ) from None

    def streets(self) -> Path | None:
        """The streets beside the layers (the first of :data:`STREETS_FILES` there), if any.

        Returns
        -------
        pathlib.Path or None
        """
        found = [self.folder / name for name in STREETS_FILES if (self.folder / name).exists()]
        return found[0] if found else None


class FolderTransaction:
    """Reads and writes while the folder's lock is held (see :meth:`FolderStore.transaction`).

    Parameters
    ----------
    store : FolderStore
        The store whose lock is held; this object takes no lock itself.
    """

    def __init__(self, store: FolderStore) -> None:
        self.store = store

    def location(self, layer: str) -> Path:
        """The file of ``layer``, as :meth:`FolderStore.location`.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        pathlib.Path
        """
        return self.store.location(layer)

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as stored now, as :meth:`FolderStore.read` (which lists what it raises).

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        geopandas.GeoDataFrame
            WGS-84, indexed by feature id; empty when the file is missing.
        """
        return self.store.read(layer)

    def write(self, layer: str, frame: gpd.GeoDataFrame) -> None:
        """Replace the layer's file by ``frame`` in the store's GeoJSON, atomically.

        Unchecked, as the protocol says: :func:`geo.layers.store.write_checked` checks first.

        Parameters
        ----------
        layer : str
            One of the layers.
        frame : geopandas.GeoDataFrame
            The whole new layer, WGS-84.

        Returns
        -------
        None

        Raises
        ------
        UnknownLayerError
            ``layer`` is not one of the layers.
        """
        atomic_write_bytes(self.store.location(layer), to_feature_collection(frame, layer))
