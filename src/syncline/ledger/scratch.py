"""Throwaway PostgreSQL databases for tests and benchmarks: created empty, dropped with everything.

Why in the package: every suite that checks behaviour on a real PostgreSQL (the ledger's contract,
the engine's scale-out, MDM, the ops API, the benchmarks, and a deployment's own flow tests) needs
the same three steps — a database with a unique name, its SQLAlchemy URL, and a drop that also
ends connections a test left open — and nine hand-written copies had started to drift.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict

#: The server's maintenance database that CREATE and DROP DATABASE run from (trust auth locally).
ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def create_scratch_postgres(prefix: str = "syncline_t", *, admin_dsn: str = ADMIN_DSN) -> str:
    """A new, empty database with a random name; returns its ledger URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{_server_of(admin_dsn)}/{name}"


def drop_scratch_postgres(url: str, *, admin_dsn: str = ADMIN_DSN) -> None:
    """Drop a database made by `create_scratch_postgres`, disconnecting whoever is left."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_postgres(prefix: str = "syncline_t", *, admin_dsn: str = ADMIN_DSN) -> Iterator[str]:
    """`create_scratch_postgres`, dropped when the block ends (whatever happened in it)."""
    url = create_scratch_postgres(prefix, admin_dsn=admin_dsn)
    try:
        yield url
    finally:
        drop_scratch_postgres(url, admin_dsn=admin_dsn)


def _server_of(admin_dsn: str) -> str:
    """The SQLAlchemy URL of the server a libpq DSN names (its user, host and port)."""
    parts = conninfo_to_dict(admin_dsn)
    user, host, port = parts.get("user", "postgres"), parts.get("host", "127.0.0.1"), parts.get("port", 5432)
    return f"postgresql+psycopg://{user}@{host}:{port}"


__all__ = ["ADMIN_DSN", "create_scratch_postgres", "drop_scratch_postgres", "scratch_postgres"]
