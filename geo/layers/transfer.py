"""Setting up a database store and copying every layer between stores, all or nothing.

:func:`init_store` applies the plain SQL files of ``geo/layers/migrations/`` to a PostGIS
database (``lifecircle store init``); :func:`copy_store` copies the layers and the
streets from one store to another, a folder or a database either way (``lifecircle store
copy SRC DST``), after validating the source: a copy that fails changes nothing.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from geo.atomic import atomic_write_bytes
from geo.errors import StoreError, ValidationError
from geo.layers.folder import STREETS_FILES, FolderStore
from geo.layers.postgis import MIGRATIONS, PostgisStore
from geo.layers.store import Location, open_store, validate_store, write_checked

try:
    import psycopg
    from psycopg import sql
except ImportError:  # pragma: no cover - the folder store works without it
    psycopg = None  # type: ignore[assignment]

__all__ = ["copy_store", "init_store"]


def init_store(url: str) -> list[str]:
    """Create the store's schema and apply the migrations it has not had yet, in order.

    Each SQL file is applied once (``schema_migrations`` remembers which), all of them in
    one transaction, one initialiser at a time (an advisory lock), so running it again, or
    on two hosts at once, is harmless.

    Parameters
    ----------
    url : str
        The database URL (as :class:`~geo.layers.postgis.PostgisStore`).

    Returns
    -------
    list of str
        The names of the SQL files applied now; empty when the store was up to date.

    Raises
    ------
    StoreError
        The database cannot be reached, PostGIS is missing and may not be created (the
        message says how to install it), or a migration fails (nothing is applied).
    """
    store = PostgisStore(url)
    applied: list[str] = []
    schema = sql.Identifier(store.schema)
    with store.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"lifecircle:{store.schema}",))
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone() is None:
            try:
                with conn.transaction():
                    conn.execute("CREATE EXTENSION postgis")
            except psycopg.Error:
                raise StoreError(
                    f"数据库 {store.url} 没有 PostGIS 扩展 / the database has no PostGIS: as its "
                    "owner or a superuser run `CREATE EXTENSION postgis;` (Debian: apt-get "
                    "install postgresql-15-postgis-3)"
                ) from None
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(schema))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if path.name not in done:
                conn.execute(path.read_bytes())
                conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
                applied.append(path.name)
    return applied


def _street_name(source: Path) -> str:
    """The name the streets get in a folder store: ``streets`` and the source's ending."""
    lowered = source.name.lower()
    for name in STREETS_FILES:
        if lowered.endswith(name.removeprefix("streets")):
            return name
    raise StoreError(
        f"路网文件类型无法放入数据目录 / streets {source.name} cannot go into a folder store: "
        f"use one of {', '.join(STREETS_FILES)}"
    )


def copy_store(source: Location, target: Location) -> dict[str, int]:
    """Copy the layers and the streets of ``source`` into ``target``, replacing its.

    The source is validated first (every error of every layer, in one report); each layer
    is checked again as it is written. Into a database, everything is one transaction;
    into a folder, each file is replaced atomically and, should one fail, those already
    replaced are put back. Either way a failed copy leaves the target as it was.

    Parameters
    ----------
    source, target : LayerStore, path or URL
        A folder, a ``folder:`` or ``postgresql://`` URL, or an open store.

    Returns
    -------
    dict of str to int
        Features copied per layer; ``streets`` is 1 when streets were copied, else 0.

    Raises
    ------
    ValidationError
        The source breaks the layer rules; nothing is written.
    StoreError
        A store cannot be opened, or is locked by a writer; nothing is written.
    """
    src, dst = open_store(source), open_store(target)
    errors = [p for p in validate_store(src) if p.severity == "error"]
    if errors:
        raise ValidationError(
            errors, f"{src.url}: 数据校验失败，未复制 / validation failed, nothing copied"
        )
    frames = {layer: src.read(layer) for layer in src.layers()}
    streets = src.streets()
    counts = {layer: len(frame) for layer, frame in frames.items()}
    counts["streets"] = int(streets is not None)
    streets_path = Path(streets) if streets is not None else None
    if isinstance(dst, PostgisStore):
        with dst.transaction() as transaction:
            for layer, frame in frames.items():
                write_checked(transaction, layer, frame)
            transaction.replace_streets(streets_path)
        return counts
    if not isinstance(dst, FolderStore):
        raise StoreError(f"不支持复制到 / cannot copy into {dst.url}")
    with dst.transaction() as transaction:
        files = [dst.location(layer) for layer in frames]
        files += [dst.folder / name for name in STREETS_FILES]
        kept = {path: path.read_bytes() if path.exists() else None for path in files}
        try:
            for layer, frame in frames.items():
                write_checked(transaction, layer, frame)
            for name in STREETS_FILES:
                with contextlib.suppress(FileNotFoundError):
                    (dst.folder / name).unlink()
            if streets_path is not None:
                atomic_write_bytes(
                    dst.folder / _street_name(streets_path), streets_path.read_bytes()
                )
        except BaseException:
            for path, content in kept.items():
                if content is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write_bytes(path, content)
            raise
    return counts
