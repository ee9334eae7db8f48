"""The PostgreSQL adapter: scale-out mode's ledger, shared by any number of workers.

psycopg 3 through SQLAlchemy (`postgresql+psycopg://`). Claims lock head rows with
FOR UPDATE SKIP LOCKED, so concurrent workers pass over each other's rows instead of queueing on
them (see `queue.CLAIM_HEADS_SQL`). Transactions run at READ COMMITTED, which the claiming
statement's correctness argument relies on (re-check of the WHERE clause on changed rows).
"""

from __future__ import annotations

from sqlalchemy import Table, create_engine
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.engine import URL, Engine, make_url

from syncline.errors import ConfigurationError
from syncline.ledger.base import SqlLedger
from syncline.ledger.flavor import Clock, Flavor
from syncline.ledger.types import utc_now

DRIVER = "postgresql+psycopg"


def _postgres_insert(table: Table) -> Insert:
    return insert(table)


POSTGRES = Flavor(name="postgresql", claim_row_lock="FOR UPDATE SKIP LOCKED", insert=_postgres_insert)


def psycopg_url(url: str) -> URL:
    """The URL with the psycopg 3 driver; `postgresql://` and `postgres://` are accepted as that."""
    parsed = make_url(
        url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url
    )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername=DRIVER)
    if parsed.drivername != DRIVER:
        shown = parsed.render_as_string(hide_password=True)
        raise ConfigurationError(f"database.url {shown} uses driver {parsed.drivername}; use {DRIVER}://")
    return parsed


def create_postgres_engine(url: str, pool_size: int = 10) -> Engine:
    """A pooled engine; pre-ping replaces connections the server closed while idle."""
    return create_engine(
        psycopg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        isolation_level="READ COMMITTED",
    )


class PostgresLedger(SqlLedger):
    """Ledger on a PostgreSQL database (scale-out mode)."""

    @classmethod
    def open(cls, url: str, *, pool_size: int = 10, clock: Clock = utc_now) -> PostgresLedger:
        """Open without checking the schema revision."""
        engine = create_postgres_engine(url, pool_size)
        where = engine.url.render_as_string(hide_password=True)
        return cls(engine, POSTGRES, where=where, clock=clock)


__all__ = ["POSTGRES", "PostgresLedger", "create_postgres_engine", "psycopg_url"]
