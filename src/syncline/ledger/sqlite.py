"""The SQLite adapter: embedded mode's ledger in one file.

Pragmas chosen for durability first: WAL (readers never block the writer), `synchronous=FULL` by
default (a committed event survives power loss; settings may lower it to NORMAL), a busy timeout
so a second writer waits instead of failing, and foreign keys enforced. Every read-write
transaction starts with BEGIN IMMEDIATE, taking the single writer lock up front: claimers are then
serialised (one at a time), and a transaction never fails half-way when upgrading from reader to
writer, which SQLite cannot do safely under WAL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Table, create_engine, event
from sqlalchemy.dialects.sqlite import Insert, insert
from sqlalchemy.engine import Connection, Engine, make_url

from syncline.errors import ConfigurationError
from syncline.ledger.base import READ_ONLY, SqlLedger
from syncline.ledger.flavor import Clock, Flavor, sqlalchemy_insert_many
from syncline.ledger.types import utc_now

BUSY_TIMEOUT_MS = 30_000


def _sqlite_insert(table: Table) -> Insert:
    return insert(table)


SQLITE = Flavor(
    name="sqlite",
    claim_row_lock="",
    insert=_sqlite_insert,
    insert_many=sqlalchemy_insert_many(_sqlite_insert),
)


def sqlite_path(url: str) -> Path:
    """The database file named by a sqlite URL; in-memory databases are refused (nothing durable)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ConfigurationError(f"the ledger needs a SQLite file, not {url!r} (in-memory is not durable)")
    return Path(database)


def create_sqlite_engine(path: Path, synchronous: Literal["FULL", "NORMAL"] = "FULL") -> Engine:
    """An engine whose connections carry the ledger's pragmas and begin IMMEDIATE transactions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; `_begin` below issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            f"busy_timeout={BUSY_TIMEOUT_MS}",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = "DEFERRED" if conn.get_execution_options().get(READ_ONLY) else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class SqliteLedger(SqlLedger):
    """Ledger on a SQLite file (embedded mode)."""

    @classmethod
    def open(
        cls, url: str, *, synchronous: Literal["FULL", "NORMAL"] = "FULL", clock: Clock = utc_now
    ) -> SqliteLedger:
        """Open (creating the file if needed) without checking the schema revision."""
        path = sqlite_path(url)
        return cls(create_sqlite_engine(path, synchronous), SQLITE, where=str(path), clock=clock)


__all__ = ["SQLITE", "SqliteLedger", "create_sqlite_engine", "sqlite_path"]
