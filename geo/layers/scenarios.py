"""Saved what-if scenarios: kept by name beside the layers, so they outlive a restart.

A scenario is the JSON ``POST /scenarios`` takes (``add``, ``move``, ``remove``,
``sites``); it changes no layer, so it is not written through the layer store's
transaction. For a folder store (:class:`~geo.layers.folder.FolderStore`) each one is
``<folder>/scenarios/<name>.json``, written atomically; a PostGIS store keeps them in its
``scenarios`` table (:class:`TableShelf`); any other backend in memory (:class:`MemoryShelf`). This module keeps
plain JSON: the scenario's entries are checked by :mod:`geo.analysis.planning` before a
door saves one.

Names are what a planner types (``228街坊睦邻中心``): letters and digits of any script,
spaces and ``- _ . ( ) （ ） · + # &``, 1–80 characters, not starting with a dot, so a
name is always one plain file name and never a path.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from geo.atomic import atomic_write_bytes
from geo.errors import NotFoundError, QueryError, StoreError
from geo.layers.folder import FolderStore
from geo.layers.postgis import PostgisStore

__all__ = [
    "MAX_BYTES",
    "MAX_NAME",
    "MAX_SCENARIOS",
    "NAME_PATTERN",
    "FolderShelf",
    "MemoryShelf",
    "ScenarioShelf",
    "TableShelf",
    "check_name",
    "scenario_record",
    "scenario_shelf",
]

logger = logging.getLogger("lifecircle")

#: The longest name, in characters.
MAX_NAME = 80
#: The largest scenario kept, as UTF-8 JSON bytes (a few thousand entries).
MAX_BYTES = 512 * 1024
#: How many scenarios a shelf keeps.
MAX_SCENARIOS = 500
#: The folder, beside a folder store's layers, that holds the scenarios.
FOLDER = "scenarios"
_PUNCTUATION = frozenset(" -_.()（）·+#&")
# Letters and digits a plan's name may hold, spelled out (a regex's \w differs between
# engines): ASCII, Latin letters with accents, CJK ideographs and 〇, full-width letters and
# digits.
_LETTERS = ("A-Za-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u3007\u3400-\u4dbf"
            "\u4e00-\u9fff\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a")  # fmt: skip
_OTHERS = r"\-_()（）·+#&"
#: A name as it may be sent: letters, digits, spaces and ``- _ . ( ) （ ） · + # &``, not
#: starting with a dot, at most :data:`MAX_NAME` characters between surrounding spaces. The
#: OpenAPI document gives the same pattern.
NAME_PATTERN = f"^ *[{_LETTERS}{_OTHERS}][{_LETTERS}{_OTHERS}. ]{{0,{MAX_NAME - 1}}} *$"
_ENTRIES = ("add", "move", "remove", "sites")


def check_name(name: str) -> str:
    """The scenario name as kept (NFC, trimmed), or a bilingual QueryError saying why not.

    Parameters
    ----------
    name : str
        What the planner typed.

    Returns
    -------
    str
        The name, Unicode-normalised (NFC) and without surrounding spaces.

    Raises
    ------
    QueryError
        Empty, longer than :data:`MAX_NAME`, starting with a dot, or holding a character
        that is not a letter, a digit or one of ``- _ . ( ) （ ） · + # &`` and space
        (a ``/`` or ``\\`` would make it a path).

    Examples
    --------
    >>> check_name(" 228街坊 plan ")
    '228街坊 plan'
    >>> check_name("../layers")
    Traceback (most recent call last):
    ...
    geo.errors.QueryError: 方案名 '../layers' 不可用：只能用文字、数字、空格和 - _ . ( ) （ ） · + # &，不能以 . 开头，最多 80 字 / scenario name '../layers' is not allowed: use letters, digits, spaces and - _ . ( ) （ ） · + # &, not starting with '.', at most 80 characters
    """
    kept = unicodedata.normalize("NFC", str(name)).strip()
    allowed = " ".join(sorted(_PUNCTUATION - {" "}, key="-_.()（）·+#&".index))
    if not re.fullmatch(NAME_PATTERN, str(name)):
        raise QueryError(
            f"方案名 '{name}' 不可用：只能用文字、数字、空格和 {allowed}，不能以 . 开头，"
            f"最多 {MAX_NAME} 字 / scenario name '{name}' is not allowed: use letters, digits, "
            f"spaces and {allowed}, not starting with '.', at most {MAX_NAME} characters"
        )
    return kept


def scenario_record(name: str, scenario: dict[str, Any]) -> dict[str, Any]:
    """What a shelf keeps for ``scenario`` under ``name``, its name and size checked.

    Parameters
    ----------
    name : str
        Checked by :func:`check_name`.
    scenario : dict
        ``add``, ``move``, ``remove`` and ``sites`` lists.

    Returns
    -------
    dict
        ``name`` (as kept), ``saved`` (now, UTC, ISO 8601) and the four lists.

    Raises
    ------
    QueryError
        A bad name, or more than :data:`MAX_BYTES` of JSON.
    """
    return _record(check_name(name), scenario)


def _record(name: str, scenario: dict[str, Any]) -> dict[str, Any]:
    """The kept form: name, the time saved (UTC, ISO 8601) and the four entry lists."""
    entries = {key: list(scenario.get(key) or []) for key in _ENTRIES}
    record = {"name": name, "saved": datetime.now(UTC).isoformat(timespec="seconds"), **entries}
    size = len(json.dumps(record, ensure_ascii=False).encode())
    if size > MAX_BYTES:
        raise QueryError(
            f"方案 '{name}' 太大（{size} 字节，最多 {MAX_BYTES}）/ scenario '{name}' is too "
            f"large ({size} bytes, at most {MAX_BYTES})"
        )
    return record


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    """Name, time saved and the count of each kind of entry."""
    counts = {key: len(record.get(key) or []) for key in _ENTRIES}
    return {"name": record["name"], "saved": record.get("saved"), **counts}


def _not_found(name: str) -> NotFoundError:
    return NotFoundError(f"没有保存的方案 '{name}' / no scenario saved as '{name}'")


def _full() -> QueryError:
    return QueryError(
        f"最多保存 {MAX_SCENARIOS} 个方案，请先删除一些 / at most {MAX_SCENARIOS} scenarios "
        "are kept: delete some first"
    )


class ScenarioShelf(Protocol):
    """Where saved scenarios are kept, by name.

    Attributes
    ----------
    persistent : bool
        Whether they outlive the process (False: memory only).
    """

    persistent: bool

    def save(self, name: str, scenario: dict[str, Any]) -> dict[str, Any]:
        """Keep ``scenario`` under ``name``, replacing one of that name.

        Parameters
        ----------
        name : str
            Checked by :func:`check_name`.
        scenario : dict
            ``add``, ``move``, ``remove`` and ``sites`` lists (already checked).

        Returns
        -------
        dict
            The record kept: ``name``, ``saved`` (UTC, ISO 8601) and the four lists.
        """
        ...

    def get(self, name: str) -> dict[str, Any]:
        """The record kept under ``name``.

        Parameters
        ----------
        name : str
            A scenario's name.

        Returns
        -------
        dict
            As :meth:`save` returned it.
        """
        ...

    def delete(self, name: str) -> None:
        """Forget the scenario ``name`` (a NotFoundError when none is kept).

        Parameters
        ----------
        name : str
            A scenario's name.

        Returns
        -------
        None
        """
        ...

    def list(self) -> list[dict[str, Any]]:
        """Every kept scenario: name, saved time and how many entries of each kind.

        Returns
        -------
        list of dict
            Sorted by name.
        """
        ...


class MemoryShelf:
    """Scenarios in this process's memory: a restart forgets them (a non-folder store)."""

    persistent = False

    def __init__(self) -> None:
        self._kept: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def save(self, name: str, scenario: dict[str, Any]) -> dict[str, Any]:
        """Keep ``scenario`` under ``name`` (see :meth:`ScenarioShelf.save`).

        Parameters
        ----------
        name : str
            Checked by :func:`check_name`.
        scenario : dict
            The four entry lists.

        Returns
        -------
        dict
            The record kept.
        """
        name = check_name(name)
        record = _record(name, scenario)
        with self._lock:
            if name not in self._kept and len(self._kept) >= MAX_SCENARIOS:
                raise _full()
            self._kept[name] = record
        return record

    def get(self, name: str) -> dict[str, Any]:
        """The record kept under ``name``.

        Parameters
        ----------
        name : str
            A scenario's name.

        Returns
        -------
        dict
        """
        name = check_name(name)
        if name not in self._kept:
            raise _not_found(name)
        return self._kept[name]

    def delete(self, name: str) -> None:
        """Forget ``name``.

        Parameters
        ----------
        name : str
            A scenario's name.

        Returns
        -------
        None
        """
        name = check_name(name)
        with self._lock:
            if self._kept.pop(name, None) is None:
                raise _not_found(name)

    def list(self) -> list[dict[str, Any]]:
        """Every kept scenario's summary, by name.

        Returns
        -------
        list of dict
        """
        return [_summary(self._kept[name]) for name in sorted(self._kept)]


class FolderShelf:
    """Scenarios as ``<name>.json`` files in one folder (made on the first save).

    Parameters
    ----------
    folder : pathlib.Path
        The folder, e.g. ``<layers>/scenarios``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> shelf = FolderShelf(pathlib.Path(tempfile.mkdtemp()) / "scenarios")
    >>> _ = shelf.save("新车棚", {"add": [{"type": "charging_points", "lon": 121.55, "lat": 31.3}]})
    >>> [(s["name"], s["add"]) for s in FolderShelf(shelf.folder).list()]
    [('新车棚', 1)]
    """

    persistent = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.json"

    def save(self, name: str, scenario: dict[str, Any]) -> dict[str, Any]:
        """Write ``<name>.json`` atomically (see :meth:`ScenarioShelf.save`).

        Parameters
        ----------
        name : str
            Checked by :func:`check_name`.
        scenario : dict
            The four entry lists.

        Returns
        -------
        dict
            The record written.
        """
        path = self._path(name)
        record = _record(path.stem, scenario)
        content = json.dumps(record, ensure_ascii=False, indent=1).encode()
        with self._lock:
            try:
                self.folder.mkdir(exist_ok=True)
                if not path.exists() and len(list(self.folder.glob("*.json"))) >= MAX_SCENARIOS:
                    raise _full()
                atomic_write_bytes(path, content)
            except OSError as error:
                raise StoreError(
                    f"方案无法保存到 {self.folder} / cannot save the scenario in "
                    f"{self.folder}: {error.strerror or error}"
                ) from error
        return record

    def get(self, name: str) -> dict[str, Any]:
        """The record in ``<name>.json``.

        Parameters
        ----------
        name : str
            A scenario's name.

        Returns
        -------
        dict

        Raises
        ------
        NotFoundError
            No such file.
        StoreError
            The file is not a scenario's JSON (edited by hand, say), naming it.
        """
        path = self._path(name)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise _not_found(path.stem) from None
        except (OSError, ValueError) as error:
            raise StoreError(
                f"方案文件无法读取 / scenario file unreadable: {path}: {error}"
            ) from error
        if not isinstance(record, dict):
            raise StoreError(f"方案文件不是对象 / scenario file is not an object: {path}")
        return {**record, "name": path.stem}

    def delete(self, name: str) -> None:
        """Remove ``<name>.json``.

        Parameters
        ----------
        name : str
            A scenario's name.

        Returns
        -------
        None
        """
        path = self._path(name)
        with self._lock:
            try:
                path.unlink()
            except FileNotFoundError:
                raise _not_found(path.stem) from None

    def list(self) -> list[dict[str, Any]]:
        """Every readable scenario file's summary, by name (an unreadable one is logged).

        Returns
        -------
        list of dict
        """
        found = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                found.append(_summary(self.get(path.stem)))
            except (StoreError, QueryError) as error:
                logger.warning("跳过方案文件 / skipped a scenario file: %s", error)
        return found


class TableShelf:
    """Scenarios in a PostGIS store's ``scenarios`` table: every process and host sees them.

    Parameters
    ----------
    store : PostgisStore
        The database store (its ``scenarios`` table is made by ``lifecircle store init``).
    """

    persistent = True

    def __init__(self, store: PostgisStore) -> None:
        self.store = store

    def save(self, name: str, scenario: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace the row ``name`` (see :meth:`ScenarioShelf.save`).

        Parameters
        ----------
        name : str
            Checked by :func:`check_name`.
        scenario : dict
            The four entry lists.

        Returns
        -------
        dict
            The record kept.
        """
        name = check_name(name)
        record = _record(name, scenario)
        with self.store.connection() as conn, conn.transaction():
            # one saver at a time, so two cannot both take the last free place
            conn.execute("LOCK TABLE scenarios IN SHARE ROW EXCLUSIVE MODE")
            kept = conn.execute("SELECT count(*), count(*) FILTER (WHERE name = %s) FROM "
                                "scenarios", (name,)).fetchone()  # fmt: skip
            if kept is not None and not kept[1] and kept[0] >= MAX_SCENARIOS:
                raise _full()
            conn.execute(
                "INSERT INTO scenarios (name, record) VALUES (%s, %s::json) ON CONFLICT (name) "
                "DO UPDATE SET record = EXCLUDED.record, saved_at = now()",
                (name, json.dumps(record, ensure_ascii=False)),
            )
        return record

    def get(self, name: str) -> dict[str, Any]:
        """The record kept under ``name``.

        Parameters
        ----------
        name : str
            A scenario's name.

        Returns
        -------
        dict
        """
        name = check_name(name)
        with self.store.connection() as conn:
            row = conn.execute("SELECT record FROM scenarios WHERE name = %s", (name,)).fetchone()
        if row is None:
            raise _not_found(name)
        return dict(row[0])

    def delete(self, name: str) -> None:
        """Delete the row ``name``.

        Parameters
        ----------
        name : str
            A scenario's name.

        Returns
        -------
        None
        """
        name = check_name(name)
        with self.store.connection() as conn:
            gone = conn.execute("DELETE FROM scenarios WHERE name = %s RETURNING name", (name,))
            if gone.fetchone() is None:
                raise _not_found(name)

    def list(self) -> list[dict[str, Any]]:
        """Every kept scenario's summary, by name.

        Returns
        -------
        list of dict
        """
        with self.store.connection() as conn:
            rows = conn.execute("SELECT record FROM scenarios ORDER BY name").fetchall()
        return [_summary(dict(row[0])) for row in rows]


def scenario_shelf(store: object) -> FolderShelf | TableShelf | MemoryShelf:
    """Where ``store``'s scenarios are kept: beside a folder store's layers, in a database
    store's table, else in memory.

    Parameters
    ----------
    store : LayerStore
        The service's layer store.

    Returns
    -------
    FolderShelf, TableShelf or MemoryShelf
        ``<folder>/scenarios`` for a :class:`~geo.layers.folder.FolderStore`, the
        ``scenarios`` table for a :class:`~geo.layers.postgis.PostgisStore`; memory (a
        restart forgets them) for any other backend.
    """
    if isinstance(store, FolderStore):
        return FolderShelf(store.folder / FOLDER)
    if isinstance(store, PostgisStore):
        return TableShelf(store)
    return MemoryShelf()
