"""`open_ledger`: the one way commands and the engine get a ledger from settings.

Decision (documented in docs/ledger.md): opening never migrates an existing schema. A database at an
older revision raises SchemaOutdatedError telling the user to run `syncline db upgrade`; so does an
empty database, unless the caller passes `create_if_empty=True` (embedded mode and the demo do, so
a first run needs no extra step).
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from syncline.errors import ConfigurationError
from syncline.ledger.base import SqlLedger
from syncline.ledger.flavor import Clock
from syncline.ledger.postgres import PostgresLedger
from syncline.ledger.repository import Ledger
from syncline.ledger.sqlite import SqliteLedger
from syncline.ledger.types import utc_now
from syncline.settings import DatabaseSettings, Settings


def connect_ledger(target: Settings | DatabaseSettings | str, *, clock: Clock = utc_now) -> SqlLedger:
    """The adapter for the URL's database, without any schema check (for `syncline db`)."""
    database = _database_settings(target)
    try:
        backend = make_url(database.url).get_backend_name()
    except ArgumentError as error:
        raise ConfigurationError(f"database.url is not a database URL: {error}") from error
    if backend == "sqlite":
        return SqliteLedger.open(database.url, synchronous=database.sqlite_synchronous, clock=clock)
    if backend in ("postgresql", "postgres"):
        return PostgresLedger.open(database.url, pool_size=database.pool_size, clock=clock)
    raise ConfigurationError(
        f"database.url: unsupported database {backend!r}; use sqlite:/// or postgresql://"
    )


def open_ledger(
    target: Settings | DatabaseSettings | str,
    *,
    create_if_empty: bool = False,
    clock: Clock = utc_now,
) -> SqlLedger:
    """The ledger named by settings (or a URL), checked to be at the code's schema revision."""
    ledger = connect_ledger(target, clock=clock)
    try:
        if create_if_empty and ledger.schema_status().current is None:
            ledger.upgrade()
        ledger.ensure_current()
    except BaseException:
        ledger.close()
        raise
    return ledger


def _database_settings(target: Settings | DatabaseSettings | str) -> DatabaseSettings:
    if isinstance(target, Settings):
        return target.database
    if isinstance(target, DatabaseSettings):
        return target
    return DatabaseSettings(url=target)


__all__ = ["connect_ledger", "open_ledger"]


def _conforms(ledger: SqlLedger) -> Ledger:
    """Never called: makes mypy prove that the SQL adapters implement the `Ledger` port."""
    return ledger
