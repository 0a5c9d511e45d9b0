"""Connections of the PostGIS store (:mod:`geo.layers.postgis`): a few kept open per database.

A small pool of our own rather than psycopg_pool: a store needs one connection per request
thread, never a background thread or a minimum size, and closes them at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from geo.errors import StoreError

try:
    import psycopg
    from psycopg import sql
except ImportError:  # pragma: no cover - the folder store works without it
    psycopg = None  # type: ignore[assignment]

__all__ = ["POOLS", "POOLS_LOCK", "Pool"]


class Pool:
    """A few open connections per database and schema, shared by every store object of it
    (opening a store costs nothing; a request borrows a connection and gives it back).

    Parameters
    ----------
    conninfo : str
        The libpq connection string or URL (with the password).
    schema : str
        The schema put first on each connection's ``search_path``.
    url : str
        The store's URL without password, for messages.
    """

    #: Connections kept open between requests.
    IDLE = 8
    #: Connections one process has open at most (a server's ``max_connections`` is often 100,
    #: shared by every worker of every host); more requests wait for one.
    OPEN = 10
    #: Seconds a request waits for a connection before it is told to retry.
    WAIT_S = 30.0

    def __init__(self, conninfo: str, schema: str, url: str) -> None:
        self.conninfo, self.schema, self.url = conninfo, schema, url
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._open = threading.BoundedSemaphore(self.OPEN)

    @contextlib.contextmanager
    def connection(self) -> Iterator[Any]:
        """Borrow a connection (autocommit; ``conn.transaction()`` for a transaction).

        Returns
        -------
        contextlib.AbstractContextManager of psycopg.Connection
            Given back when left: kept when idle and healthy, else closed.

        Raises
        ------
        StoreError
            The database cannot be reached, or every connection stayed busy for
            :attr:`WAIT_S` seconds.
        """
        if not self._open.acquire(timeout=self.WAIT_S):
            raise StoreError(
                f"数据库连接繁忙 / every connection to {self.url} is busy; try again shortly"
            )
        try:
            with self._borrowed() as conn:
                yield conn
        finally:
            self._open.release()

    @contextlib.contextmanager
    def _borrowed(self) -> Iterator[Any]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None or conn.closed:
            try:
                conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10)
                conn.execute(
                    sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.schema))
                )
            except psycopg.Error as exc:
                raise StoreError(
                    f"无法连接数据库 / cannot connect to the database store {self.url}: "
                    f"{str(exc).strip()[:300]}"
                ) from None
        try:
            yield conn
        finally:
            healthy = not conn.closed and not conn.broken
            if healthy and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                with self._lock:
                    if len(self._idle) < self.IDLE:
                        self._idle.append(conn)
                        conn = None
            if conn is not None:
                conn.close()

    def close(self) -> None:
        """Close the idle connections (at exit)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


POOLS: dict[tuple[str, str], Pool] = {}
POOLS_LOCK = threading.Lock()


@atexit.register
def _close_pools() -> None:  # a connection left open warns when collected
    for pool in list(POOLS.values()):
        pool.close()
