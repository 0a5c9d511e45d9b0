"""What the PostGIS store's tests need: a PostgreSQL with PostGIS, or a clear reason.

The database is named by ``LIFECIRCLE_TEST_POSTGRES`` (``.ci/run`` starts one and sets it):
each test gets a schema of its own (:func:`fresh_schema`), dropped afterwards. Without it the
PostGIS tests are skipped, except in CI (``CI`` set), where that is an error: they must run.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

__all__ = ["POSTGRES", "fresh_schema", "require_postgres"]

#: The test database's URL, or None.
POSTGRES = os.environ.get("LIFECIRCLE_TEST_POSTGRES")


def require_postgres() -> str:
    """The test database's URL; skip the test (or the module) without one (fail in CI)."""
    if not POSTGRES:
        if os.environ.get("CI"):
            raise RuntimeError("LIFECIRCLE_TEST_POSTGRES is required in CI (.ci/run sets it)")
        pytest.skip(
            "no PostgreSQL: set LIFECIRCLE_TEST_POSTGRES=postgresql://… (see .ci/run)",
            allow_module_level=True,
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("psycopg not installed (pip install -e '.[dev]')", allow_module_level=True)
    return POSTGRES


@contextlib.contextmanager
def fresh_schema(init: bool = True) -> Iterator[str]:
    """A store URL whose schema is new (initialised unless ``init`` is False), dropped after."""
    import psycopg

    from geo.layers.transfer import init_store

    base = require_postgres()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    if init:
        init_store(url)
    try:
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
