"""The PostgreSQL adapter: scale-out mode's ledger, shared by any number of workers.

psycopg 3 through SQLAlchemy (`postgresql+psycopg://`). Claims lock head rows with
FOR UPDATE SKIP LOCKED, so concurrent workers pass over each other's rows instead of queueing on
them (see `queue.CLAIM_HEADS_SQL`). Transactions run at READ COMMITTED, which the claiming
statement's correctness argument relies on (re-check of the WHERE clause on changed rows).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table, create_engine
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.types import TypeEngine

from syncline.errors import ConfigurationError, TransientError
from syncline.ledger.base import SqlLedger
from syncline.ledger.flavor import Clock, Flavor
from syncline.ledger.types import UtcDateTime, require_aware, utc_now

DRIVER = "postgresql+psycopg"


def _postgres_insert(table: Table) -> Insert:
    return insert(table)


@cache
def _insert_sql(
    table: str,
    columns: tuple[str, ...],
    conflict: tuple[str, ...],
    add: tuple[str, ...],
    returning: tuple[str, ...],
) -> str:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    if add:
        sets = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in add)
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}"
    elif conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return sql


def _to_driver(column_type: TypeEngine[Any]) -> Callable[[Any], Any]:
    """What SQLAlchemy's bind processing would do for this column, done once per column."""
    if isinstance(column_type, UtcDateTime):
        return lambda value: None if value is None else require_aware(value, "timestamp")
    if isinstance(column_type, JSON):
        return lambda value: None if value is None else Jsonb(value)
    return lambda value: value


def _psycopg_insert_many(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict_target: Sequence[str] = (),
    add_on_conflict: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """psycopg's pipelined executemany of one short, prepared INSERT.

    SQLAlchemy's multi-row VALUES statement is long and different for every batch size, so psycopg
    re-parses it in Python each time; that was most of the cost of appending on PostgreSQL. The rows
    join the caller's transaction: the raw cursor runs on the same connection.
    """
    if not rows:
        return []
    columns = tuple(rows[0])
    sql = _insert_sql(table.name, columns, tuple(conflict_target), tuple(add_on_conflict), tuple(returning))
    converters = [_to_driver(table.c[name].type) for name in columns]
    params = [
        tuple(convert(row[name]) for convert, name in zip(converters, columns, strict=True)) for row in rows
    ]
    driver_connection = conn.connection.driver_connection
    assert isinstance(driver_connection, psycopg.Connection)
    try:
        with driver_connection.cursor() as cursor:
            cursor.executemany(sql, params, returning=bool(returning))
            found: list[tuple[Any, ...]] = []
            while returning:
                found.extend(cursor.fetchall())
                if not cursor.nextset():
                    break
            return found
    except psycopg.OperationalError as error:
        raise TransientError(f"ledger unavailable: {error}", system="ledger") from error


POSTGRES = Flavor(
    name="postgresql",
    claim_row_lock="FOR UPDATE SKIP LOCKED",
    insert=_postgres_insert,
    insert_many=_psycopg_insert_many,
)


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
    """A pooled engine; pre-ping replaces connections the server closed while idle.

    Every session runs in UTC (`TimeZone=UTC`, added to any `options` the URL has): the ledger keeps
    aware UTC timestamps (invariant 9), and psycopg then hands back `datetime.UTC` itself, so the
    hot driver-level reads (the head claim) need no per-row conversion. JSON columns are decoded by
    `load_json`.
    """
    parsed = psycopg_url(url)
    options = session_options(parsed)
    return create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        isolation_level="READ COMMITTED",
        json_deserializer=load_json,
        connect_args={"options": options},
    )


def session_options(url: URL) -> str:
    """The libpq `options` every ledger connection runs with: the URL's own, plus TimeZone=UTC."""
    given = url.query.get("options")
    return " ".join([*([given] if isinstance(given, str) else list(given or ())), "-c TimeZone=UTC"])


#: An integer literal this long may not fit 64 bits, which orjson would read as a float.
_LONG_NUMBER = re.compile(rb"\d{19}")


def load_json(data: str | bytes) -> Any:
    """Decode a JSON column with orjson (a claim decodes every claimed event's payload), unless the
    text holds a run of 19 or more digits: `jsonb` keeps any integer exactly, orjson would turn one
    wider than 64 bits into a float, so such a document goes to the standard module instead."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if _LONG_NUMBER.search(raw):
        return json.loads(raw)
    return orjson.loads(raw)


class PostgresLedger(SqlLedger):
    """Ledger on a PostgreSQL database (scale-out mode)."""

    @classmethod
    def open(cls, url: str, *, pool_size: int = 10, clock: Clock = utc_now) -> PostgresLedger:
        """Open without checking the schema revision."""
        engine = create_postgres_engine(url, pool_size)
        where = engine.url.render_as_string(hide_password=True)
        return cls(engine, POSTGRES, where=where, clock=clock)


__all__ = ["POSTGRES", "PostgresLedger", "create_postgres_engine", "psycopg_url"]
