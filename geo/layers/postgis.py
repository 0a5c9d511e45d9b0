"""The PostGIS store: each layer a table of typed columns in a PostgreSQL database.

``postgresql://user:password@host:5432/db`` (``?schema=name`` picks the schema, default
``lifecircle``) opens a :class:`PostgisStore`. The tables are made by the plain SQL files in
``geo/layers/migrations/`` (:func:`init_store`, ``lifecircle store init``): one table per
layer, a column per schema field, the geometry in EPSG:4326 with a GiST index, lists such as
``entrances`` as JSON, a per-feature version, ``layer_versions`` (each layer's revision and
ETag) and ``change_log`` (who changed which feature, when, to what).

A write locks its layer's row of ``layer_versions`` (``SELECT … FOR UPDATE``) for the whole
read-modify-write, changes only the rows that differ, bumps the layer's revision and logs
the change, all in one database transaction: two service processes, or two hosts, on one
database serialise their writes there, and every reader compares the revision (its
:meth:`PostgisStore.stamp`) before trusting what it cached. Features are read back through
the same GeoJSON parser as the folder store's, so both stores give the same frames.

psycopg (``pip install 'lifecircle[postgis]'``) is imported only by this module; the folder
store does not need it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd

from geo.atomic import atomic_write_bytes
from geo.errors import Problem, SourceReadError, StoreError, ValidationError
from geo.layers.geojson import (
    empty_layer,
    layer_frame,
    parse_feature_collection,
    to_feature_collection,
)
from geo.layers.pgpool import POOLS, POOLS_LOCK, Pool
from geo.layers.pgrows import EMPTY_VERSION, layer_version, properties_of, table_rows
from geo.schema import LAYER_NAMES, get_layer
from geo.settings import current

try:
    import psycopg
    from psycopg import sql
    from psycopg.types.json import Json, Jsonb
except ImportError:  # pragma: no cover - the folder store works without it
    psycopg = None  # type: ignore[assignment]

__all__ = ["DEFAULT_SCHEMA", "MIGRATIONS", "PostgisStore", "PostgisTransaction"]

#: The schema the tables live in unless the URL says ``?schema=…``.
DEFAULT_SCHEMA = "lifecircle"
#: The SQL files ``lifecircle store init`` applies, in name order, each once.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_STREETS = "streets"
#: OpenStreetMap files kept whole in `street_files`, longest ending first.
_OSM_SUFFIXES = (".osm.pbf", ".osm.bz2", ".osm.gz", ".osm", ".pbf")


def _store_error(exc: Exception, url: str) -> StoreError:
    if psycopg is not None and isinstance(exc, psycopg.errors.UndefinedTable):
        return StoreError(
            f"数据库尚未初始化 / the database store {url} has no lifecircle tables yet: run "
            f"`lifecircle store init --store {url}` (as a role that may create tables)"
        )
    return StoreError(f"数据库错误 / database error at {url}: {str(exc).strip()[:300]}")


class PostgisStore:
    """Layers as PostGIS tables (see the module docstring).

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/db``, optionally ``?schema=name`` (default
        :data:`DEFAULT_SCHEMA`) and any libpq parameter (``sslmode``, ``application_name``).
    cache_dir : path-like, optional
        Where :meth:`streets` leaves its snapshot file (default: the settings' cache).

    Raises
    ------
    StoreError
        psycopg is not installed, or the URL names no database.
    """

    scheme = "postgresql"

    def __init__(self, url: str, cache_dir: str | Path | None = None) -> None:
        if psycopg is None:
            raise StoreError(
                "数据库存储需要 psycopg / a postgresql: store needs psycopg: "
                "pip install 'lifecircle[postgis]'"
            )
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        self.schema = query.pop("schema", DEFAULT_SCHEMA)
        query.setdefault("application_name", "lifecircle")
        if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
            raise StoreError(
                f"数据库地址无效 / not a database URL: {url!r}; "
                "use postgresql://user:password@host:5432/database"
            )
        conninfo = urlunsplit(parts._replace(query=urlencode(query)))
        public = parts._replace(netloc=parts.netloc.rpartition("@")[2] if "@" in parts.netloc
                                else parts.netloc)  # fmt: skip
        if parts.username:
            public = public._replace(netloc=f"{parts.username}@{public.netloc}")
        shown = {"schema": self.schema} if self.schema != DEFAULT_SCHEMA else {}
        self._url = urlunsplit(public._replace(query=urlencode(shown)))
        self.cache_dir = Path(cache_dir) if cache_dir else Path(current().cache).expanduser()
        with POOLS_LOCK:
            key = (conninfo, self.schema)
            if key not in POOLS:
                POOLS[key] = Pool(conninfo, self.schema, self._url)
            self._pool = POOLS[key]

    @property
    def url(self) -> str:
        """The database URL without its password (``?schema=`` when not the default)."""
        return self._url

    def __repr__(self) -> str:
        return f"PostgisStore({self._url!r})"

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection of the store's pool, its ``search_path`` the store's schema.

        Returns
        -------
        contextlib.AbstractContextManager of psycopg.Connection
            In autocommit mode; ``conn.transaction()`` makes a transaction.

        Raises
        ------
        StoreError
            The database cannot be reached, or a statement failed (the message says why).
        """
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise _store_error(exc, self._url) from None

    def layers(self) -> tuple[str, ...]:
        """The layer names: the schema's.

        Returns
        -------
        tuple of str
        """
        return LAYER_NAMES

    def location(self, layer: str) -> str:
        """The layer's table, as ``<url>#<schema>.<layer>``.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        str

        Raises
        ------
        UnknownLayerError
            ``layer`` is not one of the layers.
        """
        return f"{self._url}#{self.schema}.{get_layer(layer).name}"

    def _rows_text(self, conn: Any, layer: str) -> tuple[bytes, int]:
        """The layer's rows as the store's GeoJSON text (the folder store's format)."""
        spec = get_layer(layer)
        columns = sql.SQL(", ").join(sql.Identifier(f.name) for f in spec.fields)
        query = sql.SQL(
            "SELECT {columns}, extra_properties, ST_AsGeoJSON(geom) FROM {table} "
            "ORDER BY feature_order"
        ).format(columns=columns, table=sql.Identifier(spec.name))
        lines = []
        for row in conn.execute(query):
            props = properties_of(spec.fields, list(row[: len(spec.fields)]), row[-2])
            ident = json.dumps(props.get("id"), ensure_ascii=False)
            body = json.dumps(props, ensure_ascii=False, separators=(",", ":"))
            lines.append(
                f'{{"type":"Feature","id":{ident},"geometry":{row[-1] or "null"},'
                f'"properties":{body}}}'
            )
        text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "]}\n"
        return text.encode("utf-8"), len(lines)

    def _frame(self, rows: tuple[bytes, int], layer: str) -> gpd.GeoDataFrame:
        text, count = rows
        where = self.location(layer)
        if not count:
            return empty_layer(layer)
        frame, problems = parse_feature_collection(text, where)
        if any(p.severity == "error" for p in problems):
            raise ValidationError(problems, f"{where}: 图层无法读取 / layer cannot be read")
        return layer_frame(frame, layer)

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as a WGS-84 frame indexed by feature id, in the order it was written.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        geopandas.GeoDataFrame
            Every schema field a column; empty when the table has no rows.

        Raises
        ------
        StoreError
            The database cannot be reached, or has no lifecircle tables.
        """
        return self.read_versioned(layer)[0]

    def read_versioned(self, layer: str) -> tuple[gpd.GeoDataFrame, str]:
        """The layer and its version from one snapshot of the database.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        tuple of (geopandas.GeoDataFrame, str)
        """
        get_layer(layer)
        with self.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            version = self._version(conn, layer)[1]
            rows = self._rows_text(conn, layer)
        return self._frame(rows, layer), version

    def read_checked(self, layer: str) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
        """The layer as parsed (not indexed) and the problems met reading it.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        frame : geopandas.GeoDataFrame or None
            None when the table cannot be read (the one problem says why).
        problems : list of Problem
        """
        where = self.location(layer)
        try:
            with self.connection() as conn:
                text, _ = self._rows_text(conn, layer)
            return parse_feature_collection(text, where)
        except (StoreError, SourceReadError) as exc:
            return None, [Problem(where, None, None, str(exc))]

    @staticmethod
    def _version(conn: Any, layer: str, lock: bool = False) -> tuple[int, str]:
        query = "SELECT revision, version FROM layer_versions WHERE layer = %s"
        row = conn.execute(query + (" FOR UPDATE" if lock else ""), (layer,)).fetchone()
        if row is None:
            raise StoreError(f"layer_versions has no row for {layer}: run lifecircle store init")
        return int(row[0]), str(row[1])

    def version(self, layer: str) -> str:
        """The layer's ETag: sha256 over its features' ids and versions, in order.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        str
            32 hex digits; an empty layer's is the folder store's for a missing file.
        """
        get_layer(layer)
        with self.connection() as conn:
            return self._version(conn, layer)[1]

    def stamp(self, layer: str) -> tuple[str, int]:
        """The layer's revision: one indexed row, read on every request, so a write by any
        process on any host is seen by the next request everywhere.

        Parameters
        ----------
        layer : str
            One of the layers (or ``"streets"``).

        Returns
        -------
        tuple of (str, int)
            The store's URL and the revision, +1 on every write.
        """
        if layer != _STREETS:
            get_layer(layer)
        with self.connection() as conn:
            return (self._url, self._version(conn, layer)[0])

    def leftovers(self) -> list[Problem]:
        """Nothing: an interrupted write is rolled back by the database.

        Returns
        -------
        list of Problem
            Always empty.
        """
        return []

    @contextlib.contextmanager
    def transaction(self, timeout: float | None = None) -> Iterator[PostgisTransaction]:
        """A database transaction; each layer it reads or writes is locked until it ends.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for another writer's lock on a layer (default 30).

        Returns
        -------
        contextlib.AbstractContextManager of PostgisTransaction
            Leaving it normally commits; an exception rolls everything back.

        Raises
        ------
        StoreError
            A layer stayed locked by another writer for longer than ``timeout``.
        """
        wait = 30.0 if timeout is None else timeout
        try:
            with self._pool.connection() as conn, conn.transaction():
                # this transaction's writes log themselves (the tables' triggers log the others)
                conn.execute("SELECT set_config('lifecircle.writing', 'on', true)")
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, true)", (f"{max(int(wait * 1000), 1)}",)
                )
                yield PostgisTransaction(self, conn)
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            raise StoreError(
                f"图层被占用 / the store at {self._url} is locked by another writer for more "
                f"than {wait:g} s; try again when it has finished."
            ) from None
        except psycopg.Error as exc:
            raise _store_error(exc, self._url) from None

    def streets(self) -> Path | None:
        """The streets as a file: a snapshot of the ``streets`` table (GeoJSON lines) or of
        the OpenStreetMap file kept in ``street_files``, named by the streets' version in the
        cache folder, so the network cache's file stamp knows when to rebuild.

        GDAL opens the table itself as ``PG:"dbname=… schemas=…" streets`` (QGIS, ogr2ogr),
        but pyogrio's wheels carry no PostgreSQL driver, so the network reads the snapshot.

        Returns
        -------
        pathlib.Path or None
            None when the database has no streets.
        """
        with self.connection() as conn:
            version = self._version(conn, _STREETS)[1]
            key = hashlib.sha256(self._url.encode()).hexdigest()[:12]
            named = conn.execute("SELECT name FROM street_files LIMIT 1").fetchone()
            suffix = next((s for s in _OSM_SUFFIXES if named and named[0].lower().endswith(s)),
                          ".geojson")  # fmt: skip
            path = self.cache_dir / f"postgis-streets-{key}-{version}{suffix}"
            if path.exists():
                return path
            if named:
                row = conn.execute("SELECT content FROM street_files").fetchone()
                content = bytes(row[0])
            else:
                rows = conn.execute(
                    "SELECT properties, ST_AsGeoJSON(geom) FROM streets ORDER BY fid"
                ).fetchall()
                if not rows:
                    return None
                lines = [
                    '{"type":"Feature","geometry":' + (geom or "null") + ',"properties":'
                    + json.dumps(props or {}, ensure_ascii=False) + "}"
                    for props, geom in rows
                ]  # fmt: skip
                content = ('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines)
                           + "]}\n").encode()  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, content)
        for old in path.parent.glob(f"postgis-streets-{key}-*"):
            if old != path:
                with contextlib.suppress(OSError):
                    old.unlink()
        return path


class PostgisTransaction:
    """Reads and writes inside one database transaction (see
    :meth:`PostgisStore.transaction`); the first read or write of a layer locks it.

    Parameters
    ----------
    store : PostgisStore
        The store.
    conn : psycopg.Connection
        The connection, inside its transaction.
    """

    def __init__(self, store: PostgisStore, conn: Any) -> None:
        self.store = store
        self.conn = conn
        self._revisions: dict[str, int] = {}

    def _lock(self, layer: str) -> int:
        if layer not in self._revisions:
            self._revisions[layer] = PostgisStore._version(self.conn, layer, lock=True)[0]
        return self._revisions[layer]

    def location(self, layer: str) -> str:
        """The layer's table, as :meth:`PostgisStore.location`.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        str
        """
        return self.store.location(layer)

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as committed now, locking it for this transaction.

        Parameters
        ----------
        layer : str
            One of the layers.

        Returns
        -------
        geopandas.GeoDataFrame
            WGS-84, indexed by feature id.
        """
        get_layer(layer)
        self._lock(layer)
        return self.store._frame(self.store._rows_text(self.conn, layer), layer)

    def write(self, layer: str, frame: gpd.GeoDataFrame) -> None:
        """Make the layer's table hold ``frame``: rows that differ are updated, new ones
        inserted, missing ones deleted, each change logged; the revision goes up by one.

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
        StoreError
            A feature has no id, or two share one (a table row needs a unique id).
        """
        spec = get_layer(layer)
        revision = self._lock(layer) + 1
        rows = table_rows(frame, layer, self.location(layer))
        names = [f.name for f in spec.fields]
        ids = [row.ident for row in rows]
        table = sql.Identifier(spec.name)
        before = {r[0]: (r[1], r[2]) for r in self.conn.execute(
            sql.SQL("SELECT id, feature_version, feature_order FROM {}").format(table))}  # fmt: skip
        columns = [sql.Identifier(n) for n in names]
        insert = sql.SQL(
            "INSERT INTO {t} ({c}, extra_properties, feature_version, geom, feature_order) "
            "VALUES ({v}, %s, %s, ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326), %s)"
        ).format(t=table, c=sql.SQL(", ").join(columns),
                 v=sql.SQL(", ").join(sql.Placeholder() * len(names)))  # fmt: skip
        update = sql.SQL(
            "UPDATE {t} SET ({c}, extra_properties, feature_version, geom, feature_order) = "
            "({v}, %s, %s, ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326), %s) WHERE id = %s"
        ).format(t=table, c=sql.SQL(", ").join(columns),
                 v=sql.SQL(", ").join(sql.Placeholder() * len(names)))  # fmt: skip
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        moves: list[tuple[int, str]] = []
        log: list[tuple[str, str, str | None, str | None, str | None]] = []
        for order, (ident, values, extra, version, geometry, stored) in enumerate(rows):
            old = before.get(ident)
            typed = [Jsonb(v) if v is not None and f.kind == "lonlat_list" else v
                     for v, f in zip(values, spec.fields, strict=True)]  # fmt: skip
            params = (*typed, Json(extra) if extra else None, version, geometry, order)
            if old is None:
                inserts.append(params)
                log.append((ident, "insert", None, version, json.dumps(stored, ensure_ascii=False)))
            elif old[0] != version:
                updates.append((*params, ident))
                log.append(
                    (ident, "update", old[0], version, json.dumps(stored, ensure_ascii=False))
                )
            elif old[1] != order:
                moves.append((order, ident))
        gone = sorted(set(before) - set(ids))
        log += [(ident, "delete", before[ident][0], None, None) for ident in gone]
        with self.conn.cursor() as cur:
            if gone:
                cur.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(table), (gone,))
            # updates first: an id freed by a delete may be inserted again in the same write
            if updates:
                cur.executemany(update, updates)
            if inserts:
                cur.executemany(insert, inserts)
            if moves:
                cur.executemany(
                    sql.SQL("UPDATE {} SET feature_order = %s WHERE id = %s").format(table), moves
                )
            cur.execute(
                "UPDATE layer_versions SET revision = %s, version = %s, changed_at = now() "
                "WHERE layer = %s",
                (revision, layer_version([(r.ident, r.version) for r in rows]), layer),
            )
            if log:
                cur.executemany(
                    "INSERT INTO change_log (layer, revision, feature_id, action, old_version, "
                    "new_version, feature) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [(layer, revision, *entry) for entry in log],
                )
        self._revisions[layer] = revision

    def replace_streets(self, source: Path | None) -> None:
        """Make the database's streets those of ``source`` (none when None): an OpenStreetMap
        file is kept whole, a line layer (GeoJSON, GeoPackage, shapefile) as rows.

        Parameters
        ----------
        source : pathlib.Path or None
            A street file, as :meth:`geo.layers.folder.FolderStore.streets` gives it.

        Returns
        -------
        None

        Raises
        ------
        SourceReadError
            A line layer cannot be read.
        """
        revision = self._lock(_STREETS) + 1
        self.conn.execute("DELETE FROM streets")
        self.conn.execute("DELETE FROM street_files")
        digest = hashlib.sha256()
        if source is not None and source.name.lower().endswith(_OSM_SUFFIXES):
            content = source.read_bytes()
            digest.update(content)
            self.conn.execute(
                "INSERT INTO street_files (name, content) VALUES (%s, %s)", (source.name, content)
            )
        elif source is not None:
            try:
                lines = gpd.read_file(source).to_crs("EPSG:4326")
            except Exception as exc:  # pyogrio's errors, or a file with no CRS
                raise SourceReadError(
                    f"无法读取路网 / cannot read streets {source}: {exc}"
                ) from exc
            features = json.loads(to_feature_collection(lines))["features"]
            rows = []
            for feature in features:
                props = feature["properties"]
                geometry = json.dumps(feature["geometry"]) if feature["geometry"] else None
                rows.append((props.get("name"), props.get("highway"),
                             json.dumps(props, ensure_ascii=False), geometry))  # fmt: skip
                digest.update(f"{rows[-1]}".encode())
            with self.conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO streets (name, highway, properties, geom) "
                    "VALUES (%s, %s, %s, ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))",
                    [(str(n) if n is not None else None, str(h) if h is not None else None, p, g)
                     for n, h, p, g in rows],
                )  # fmt: skip
        version = digest.hexdigest()[:32] if source is not None else EMPTY_VERSION
        self.conn.execute(
            "UPDATE layer_versions SET revision = %s, version = %s, changed_at = now() "
            "WHERE layer = %s",
            (revision, version, _STREETS),
        )
        self._revisions[_STREETS] = revision
