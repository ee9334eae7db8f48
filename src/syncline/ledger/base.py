"""What both SQL adapters share: opening units of work, the revision check, single-call shortcuts.

Each shortcut (`ledger.append_events(...)`, `ledger.claim_next_per_key(...)`, ...) runs the session
operation of the same name in its own transaction; use `ledger.transaction()` directly to group
several operations into one commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from syncline.errors import TransientError
from syncline.ledger import migrate
from syncline.ledger.flavor import Clock, Flavor
from syncline.ledger.session import SqlSession
from syncline.ledger.types import utc_now

P = ParamSpec("P")
R = TypeVar("R")

#: Execution option that asks for a read-only transaction (SQLite: BEGIN DEFERRED, no writer lock).
READ_ONLY = "syncline_read_only"


@contextmanager
def translated_errors() -> Iterator[None]:
    """Lost connections and lock timeouts become TransientError (retried, never dead-lettered)."""
    try:
        yield
    except OperationalError as error:
        raise TransientError(f"ledger unavailable: {error.orig}", system="ledger") from error
    except DBAPIError as error:
        if error.connection_invalidated:
            raise TransientError(f"ledger connection lost: {error.orig}", system="ledger") from error
        raise


def _in_transaction(
    operation: Callable[Concatenate[SqlSession, P], R],
) -> Callable[Concatenate[SqlLedger, P], R]:
    def run(ledger: SqlLedger, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with ledger.transaction() as session:
            return operation(session, *args, **kwargs)

    run.__doc__ = operation.__doc__
    run.__name__ = operation.__name__
    return run


def _in_read(operation: Callable[Concatenate[SqlSession, P], R]) -> Callable[Concatenate[SqlLedger, P], R]:
    def run(ledger: SqlLedger, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with ledger.read() as session:
            return operation(session, *args, **kwargs)

    run.__doc__ = operation.__doc__
    run.__name__ = operation.__name__
    return run


class SqlLedger:
    """A ledger on one SQL database; adapters supply the engine and the flavor."""

    def __init__(self, engine: Engine, flavor: Flavor, *, where: str, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.flavor = flavor
        self.where = where
        self.clock = clock

    @contextmanager
    def transaction(self) -> Iterator[SqlSession]:
        """One read-write unit of work; commits on normal exit, rolls back on an exception."""
        with self._connection(read_only=False) as conn, conn.begin():
            yield SqlSession(conn, self.flavor, self.clock)

    @contextmanager
    def read(self) -> Iterator[SqlSession]:
        """A read-only unit of work (on SQLite it does not take the writer lock)."""
        with self._connection(read_only=True) as conn, conn.begin():
            yield SqlSession(conn, self.flavor, self.clock)

    @contextmanager
    def _connection(self, *, read_only: bool) -> Iterator[Connection]:
        """A pooled connection; lost connections and lock timeouts surface as TransientError."""
        with translated_errors(), self.engine.connect() as conn:
            if read_only:
                conn.execution_options(**{READ_ONLY: True})
            yield conn

    def schema_status(self) -> migrate.SchemaStatus:
        """Where this database stands against the code's migrations."""
        return migrate.schema_status(self.engine)

    def upgrade(self) -> migrate.SchemaStatus:
        """Apply every pending migration."""
        return migrate.upgrade(self.engine)

    def ensure_current(self) -> None:
        """Raise SchemaOutdatedError unless the schema is at the code's head."""
        migrate.ensure_current(self.engine, self.where)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where})"

    append_events = _in_transaction(SqlSession.append_events)
    mark_processed = _in_transaction(SqlSession.mark_processed)
    claim_next_per_key = _in_transaction(SqlSession.claim_next_per_key)
    heartbeat = _in_transaction(SqlSession.heartbeat)
    reclaim_expired = _in_transaction(SqlSession.reclaim_expired)
    complete = _in_transaction(SqlSession.complete)
    complete_many = _in_transaction(SqlSession.complete_many)
    fail = _in_transaction(SqlSession.fail)
    park = _in_transaction(SqlSession.park)
    replay = _in_transaction(SqlSession.replay)
    skip = _in_transaction(SqlSession.skip)
    wake_waiting = _in_transaction(SqlSession.wake_waiting)
    start_transaction = _in_transaction(SqlSession.start_transaction)
    update_transaction = _in_transaction(SqlSession.update_transaction)
    add_external_keys = _in_transaction(SqlSession.add_external_keys)
    record_step = _in_transaction(SqlSession.record_step)
    upsert_xref = _in_transaction(SqlSession.upsert_xref)
    set_checkpoint = _in_transaction(SqlSession.set_checkpoint)
    open_exception = _in_transaction(SqlSession.open_exception)
    assign_exception = _in_transaction(SqlSession.assign_exception)
    resolve_exception = _in_transaction(SqlSession.resolve_exception)
    append_audit = _in_transaction(SqlSession.append_audit)
    create_api_token = _in_transaction(SqlSession.create_api_token)
    touch_api_token = _in_transaction(SqlSession.touch_api_token)
    revoke_api_token = _in_transaction(SqlSession.revoke_api_token)

    get_event = _in_read(SqlSession.get_event)
    events_after = _in_read(SqlSession.events_after)
    committed_events_after = _in_read(SqlSession.committed_events_after)
    count_events = _in_read(SqlSession.count_events)
    is_processed = _in_read(SqlSession.is_processed)
    get_delivery = _in_read(SqlSession.get_delivery)
    list_deliveries = _in_read(SqlSession.list_deliveries)
    count_deliveries = _in_read(SqlSession.count_deliveries)
    has_runnable_work = _in_read(SqlSession.has_runnable_work)
    get_transaction = _in_read(SqlSession.get_transaction)
    get_transactions = _in_read(SqlSession.get_transactions)
    search_transactions = _in_read(SqlSession.search_transactions)
    list_transactions = _in_read(SqlSession.list_transactions)
    steps_of = _in_read(SqlSession.steps_of)
    first_unrecorded_step = _in_read(SqlSession.first_unrecorded_step)
    canonical_id_for = _in_read(SqlSession.canonical_id_for)
    system_id_for = _in_read(SqlSession.system_id_for)
    xrefs_for = _in_read(SqlSession.xrefs_for)
    get_checkpoint = _in_read(SqlSession.get_checkpoint)
    get_exception = _in_read(SqlSession.get_exception)
    list_exceptions = _in_read(SqlSession.list_exceptions)
    count_exceptions = _in_read(SqlSession.count_exceptions)
    query_audit = _in_read(SqlSession.query_audit)
    get_api_token = _in_read(SqlSession.get_api_token)
    list_api_tokens = _in_read(SqlSession.list_api_tokens)
    count_api_tokens = _in_read(SqlSession.count_api_tokens)


__all__ = ["READ_ONLY", "SqlLedger", "translated_errors"]
