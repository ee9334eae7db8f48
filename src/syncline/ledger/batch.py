"""Batched operations for the engine's group commit, and the two queries sagas need.

Added for the durable engine (issue 3). A worker journals the steps of hundreds of sagas per
database transaction; doing that row by row through `record_step` (which re-reads the transaction
each time) would cost several statements per step. These methods write each kind of row with one
multi-row statement instead. They run inside the caller's transaction like every session operation.

`defer` exists because a saga waiting for a correlated event is not failing: it gives its lease
back until `until` without the wait counting as an attempt (the claim counted one; defer returns it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import delete, select, update

from syncline.ledger.journal import _step_from_row
from syncline.ledger.outbox import event_from_row
from syncline.ledger.queue import (
    CLAIM_HEADS_SQL,
    QueueOperations,
    _check_lease_seconds,
    _held_by,
    delivery_from_row,
)
from syncline.ledger.records import (
    BUSINESS_KEY_COLUMNS,
    BusinessKeys,
    ClaimedDelivery,
    DeliveryStatus,
    ExternalKey,
    Lease,
    StepRecord,
    StoredEvent,
)
from syncline.ledger.schema import deliveries, events, steps, transaction_keys
from syncline.ledger.session_base import Stamped

CHUNK = 200

_STEP_COLUMNS = tuple(column.name for column in steps.c)
_STEP_UPDATES = ", ".join(f"{name} = excluded.{name}" for name in _STEP_COLUMNS[2:])
_KEY_COLUMNS = tuple(column.name for column in transaction_keys.c)
_START_COLUMNS = (
    "id",
    "flow",
    "flow_version",
    "correlation_id",
    "state",
    "current_step",
    "created_at",
    "updated_at",
    "completed_at",
    *BUSINESS_KEY_COLUMNS,
)


def _placeholders(flavor_name: str, count: int) -> str:
    """The driver's positional placeholders: sqlite3 uses `?`, psycopg `%s`."""
    mark = "?" if flavor_name == "sqlite" else "%s"
    return ", ".join([mark] * count)


#: Rows per multi-row statement: 15 columns x 1000 rows stays under SQLite's 32766 variables.
ROWS_PER_STATEMENT = 1000


def _values_chunks(
    flavor_name: str, rows: Sequence[tuple[Any, ...]], width: int
) -> Iterator[tuple[str, list[Any]]]:
    """`VALUES (...), (...)` text and flat parameters, chunked: ONE round trip per chunk.

    executemany sends one statement per row to PostgreSQL (a round trip each); a single multi-row
    statement is what makes a group commit of hundreds of journal lines cheap there.
    """
    row_text = f"({_placeholders(flavor_name, width)})"
    for offset in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[offset : offset + ROWS_PER_STATEMENT]
        yield ", ".join([row_text] * len(chunk)), [value for row in chunk for value in row]


def _insert_from_json(table: str, columns: Sequence[str], conflict: str) -> str:
    """`INSERT ... SELECT <columns> FROM json_populate_recordset(NULL::<table>, %s::json)`: rows as
    ONE parameter.

    Why JSON and not one array per column (`unnest`): the statement text is the same whatever the
    batch size either way (psycopg parses it once), but encoding a batch as JSON (orjson)
    costs about half of what psycopg's per-element array dumping does, and the server parses it
    no slower. The table's own row type gives each field its column type.
    """
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table} ({names}) SELECT {names} "
        f"FROM json_populate_recordset(NULL::{table}, %s::json) {conflict}"
    )


def _json_of(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows keyed by column, as the JSON parameter of `_from_json` (timestamps in ISO 8601).

    orjson, not the standard `json`: this encoding ran on every group commit and was the largest
    single cost of the flush in the I/O-bound benchmark; orjson writes the same JSON (aware
    datetimes as `isoformat()` does) several times faster. Column names may be SQLAlchemy
    `quoted_name`s (a str subclass), hence OPT_NON_STR_KEYS.
    """
    try:
        return orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError as error:
        raise TypeError(f"cannot write a row to a ledger batch: {error}") from error


_UPSERT_STEPS = f"ON CONFLICT (transaction_id, step_no) DO UPDATE SET {_STEP_UPDATES}"


def _columns_of(rows: Sequence[tuple[Any, ...]], width: int) -> tuple[list[Any], ...]:
    """Rows to one list per column (the unnest parameters)."""
    return tuple([row[index] for row in rows] for index in range(width))


#: The event columns a claim returns: all but `tx_id` (an `xid8` the raw statement would hand back
#: as text, and which only the relay's reads need).
_CLAIMED_EVENT_COLUMNS = tuple(column.name for column in events.c if column.name != "tx_id")
#: (event column, its name in the claim's result): spelled once, not per claimed row.
_CLAIMED_EVENT_FIELDS = tuple((name, f"ev_{name}") for name in _CLAIMED_EVENT_COLUMNS)


def _claim_with_events_sql() -> str:
    """The ledger's head claim (CLAIM_HEADS_SQL, unchanged) with the claimed rows' events joined.

    PostgreSQL only (SQLite has no UPDATE inside WITH): one statement of constant text instead of
    the claim plus a SELECT ... WHERE id IN (<n ids>), whose text changes with n and must then be
    re-parsed by psycopg on every claim.
    """
    heads, update_part = CLAIM_HEADS_SQL.split("UPDATE deliveries", 1)
    update_part = "UPDATE deliveries" + update_part.replace("RETURNING id", "RETURNING deliveries.*")
    event_columns = ", ".join(f"e.{name} AS ev_{name}" for name in _CLAIMED_EVENT_COLUMNS)
    return (
        f"{heads.rstrip()},\nclaimed AS (\n{update_part.strip()}\n)\n"
        f"SELECT claimed.*, {event_columns}\n"
        "FROM claimed JOIN events AS e ON e.position = claimed.event_position\n"
        "ORDER BY claimed.priority DESC, claimed.next_attempt_at, claimed.id"
    )


#: Straight to the driver with psycopg's named placeholders: SQLAlchemy's `text()` construct,
#: its cache key and its result metadata for 40-odd columns cost more client CPU per claim than
#: the rows themselves (a claim ran about 16 times a second per busy worker).
CLAIM_WITH_EVENTS_PG = re.sub(
    r"(?<!:):([a-z_]+)", r"%(\1)s", _claim_with_events_sql().format(row_lock="FOR UPDATE SKIP LOCKED")
)

#: The journals of many transactions (one `text[]` parameter); see `steps_of_many`.
STEPS_OF_PG = f"SELECT {', '.join(c.name for c in steps.c)} FROM steps WHERE transaction_id = ANY(%s)"


def claimed_from_row(row: Mapping[Any, Any], worker_id: str) -> ClaimedDelivery:
    """One row of `CLAIM_WITH_EVENTS_PG`: the delivery, its event (the `ev_` columns), the lease.

    Timestamps come back as aware UTC: the engine's connections run with TimeZone=UTC."""
    delivery = delivery_from_row(row)
    event = event_from_row({name: row[prefixed] for name, prefixed in _CLAIMED_EVENT_FIELDS})
    return ClaimedDelivery(delivery, event, Lease(delivery.id, worker_id, delivery.attempts))


#: Journals of many transactions: {transaction id: {step no: line}}.
Journals = dict[str, dict[int, StepRecord]]


def journals_from_rows(transaction_ids: Sequence[str], rows: Iterable[Mapping[Any, Any]]) -> Journals:
    """`steps` rows as {transaction id: {step no: line}}, every asked-for transaction present
    (once, however often it was asked for)."""
    found: Journals = {tx: {} for tx in transaction_ids}
    for row in rows:
        record = _step_from_row(row)
        found[record.transaction_id][record.step_no] = record
    return found


_DONE_PG = (
    "UPDATE deliveries AS d "
    "SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, updated_at = %s "
    "FROM unnest(%s::bigint[], %s::int[], %s::text[]) AS l(id, attempts, owner) "
    "WHERE d.id = l.id AND d.attempts = l.attempts AND d.lease_owner = l.owner AND d.status = 'in_flight' "
    "RETURNING d.id, d.consumer, d.event_id"
)
_NOTED_PG = (
    "INSERT INTO processed (consumer, event_id, processed_at) "
    "SELECT consumer, event_id, %s FROM done ON CONFLICT (consumer, event_id) DO NOTHING"
)
_STATES_PG = (
    "UPDATE transactions AS t SET state = v.state, "
    "current_step = COALESCE(v.step, t.current_step), "
    "completed_at = CASE WHEN v.done = 1 THEN %s ELSE t.completed_at END, updated_at = %s "
    "FROM unnest(%s::text[], %s::text[], %s::int[], %s::int[]) AS v(id, state, step, done) "
    "WHERE t.id = v.id"
)
_UPSERT_STARTS = "ON CONFLICT (id) DO NOTHING"


class _OneStatement:
    """Many writes as ONE PostgreSQL statement: each a data-modifying CTE (`WITH name AS (...)`).

    Why: a group commit wrote five statements (transactions, their keys, journal lines, states,
    completions and the inbox), each a round trip and a pass through the driver. As one statement
    it is one round trip, and outside a transaction it commits by itself (no BEGIN and COMMIT
    round trips either). Every part runs exactly once, on the statement's snapshot; the foreign
    keys are checked at its end, so a journal line may reference a transaction row inserted by
    another part. What one part cannot do is see another's rows: an UPDATE misses a row inserted
    beside it, which is why a new transaction's state goes into its INSERT (`_start_rows`).
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []
        self.returning = "SELECT NULL::bigint AS id WHERE false"  # the ids `run` returns

    def add(self, name: str, sql: str, *params: Any) -> None:
        self.parts.append(f"{name} AS ({sql})")
        self.params.extend(params)

    @property
    def sql(self) -> str:
        """The statement's text (`%s` placeholders, in the order of `params`)."""
        return f"WITH {', '.join(self.parts)} {self.returning}"

    def run(self, conn: Any) -> list[int]:
        """Execute on a SQLAlchemy connection; returns the ids `returning` selects (the completed
        deliveries, if any)."""
        if not self.parts:
            return []
        return sorted(int(row[0]) for row in conn.exec_driver_sql(self.sql, tuple(self.params)).all())

    async def run_async(self, conn: psycopg.AsyncConnection[Any]) -> list[int]:
        """`run` on a psycopg asyncio connection (the engine's `AsyncWriter`)."""
        if not self.parts:
            return []
        cursor = await conn.execute(self.sql, tuple(self.params))
        return sorted(int(row[0]) for row in await cursor.fetchall())


@dataclass(frozen=True)
class TransactionStart:
    """A transaction row to create if it does not exist yet."""

    id: str
    flow: str
    flow_version: int
    correlation_id: str | None = None
    state: str = "running"
    keys: BusinessKeys = field(default_factory=BusinessKeys)
    external: tuple[ExternalKey, ...] = ()


@dataclass(frozen=True)
class StateChange:
    """A new state (and current step) for an existing transaction; `completed` stamps completed_at."""

    id: str
    state: str
    current_step: int | None = None
    completed: bool = False


class JournalShapes(Stamped):
    """The group commit's rows and its PostgreSQL statement, built from the flavor and the clock
    alone: a session runs them on its connection, the engine's asyncio writer on its own."""

    def journal_statement(
        self,
        starts: Sequence[TransactionStart],
        records: Sequence[StepRecord],
        changes: Sequence[StateChange],
        leases: Sequence[Lease],
        at: datetime,
    ) -> _OneStatement:
        """`write_journal` on PostgreSQL: one part per kind of row present, in no particular order
        (the parts see one snapshot; the foreign keys are checked once, at the end)."""
        stamp = self._stamp(at)
        statement = _OneStatement()
        rows, keys = self._start_rows(starts, changes, stamp)
        if rows:
            statement.add(
                "started", _insert_from_json("transactions", _START_COLUMNS, _UPSERT_STARTS), _json_of(rows)
            )
        if keys:
            keyed = _insert_from_json("transaction_keys", _KEY_COLUMNS, "ON CONFLICT DO NOTHING")
            statement.add("keyed", keyed, _json_of(keys))
        if records:
            lines = _json_of(self._journal_rows(records, stamp))
            statement.add("journaled", _insert_from_json("steps", _STEP_COLUMNS, _UPSERT_STEPS), lines)
        if changes:
            statement.add("moved", _STATES_PG, stamp, stamp, *_columns_of(self._state_params(changes), 4))
        if leases:
            held = (
                [x.delivery_id for x in leases],
                [x.attempt for x in leases],
                [x.worker_id for x in leases],
            )
            statement.add("done", _DONE_PG, at, *held)
            statement.add("noted", _NOTED_PG, at)
            statement.returning = "SELECT id FROM done"
        return statement

    def claim_params(
        self, consumer: str, worker_id: str, limit: int, lease_seconds: float, now: datetime | None = None
    ) -> dict[str, Any]:
        """The parameters of `CLAIM_WITH_EVENTS_PG` (PostgreSQL's head claim with the events)."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        at = self._now(now)
        return {
            "consumer": consumer,
            "now": at,
            "limit": limit,
            "worker_id": worker_id,
            "lease_expires_at": at + _check_lease_seconds(lease_seconds),
        }

    def _start_rows(
        self, starts: Sequence[TransactionStart], changes: Sequence[StateChange], stamp: datetime | str | None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Transaction rows (each carrying a state change queued with it) and their external-id rows."""
        moved = {change.id: change for change in changes}
        rows = []
        for start in {start.id: start for start in starts}.values():
            change = moved.get(start.id)
            rows.append(
                {
                    "id": start.id,
                    "flow": start.flow,
                    "flow_version": start.flow_version,
                    "correlation_id": start.correlation_id,
                    "state": change.state if change else start.state,
                    "current_step": change.current_step if change else None,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "completed_at": stamp if change and change.completed else None,
                    **{name: getattr(start.keys, name) for name in BUSINESS_KEY_COLUMNS},
                }
            )
        external = [
            (start.id, key.system, key.key_type, key.value) for start in starts for key in start.external
        ]
        keys = [dict(zip(_KEY_COLUMNS, row, strict=True)) for row in dict.fromkeys(external)]
        return rows, keys

    def _journal_rows(
        self, records: Sequence[StepRecord], recorded: datetime | str | None
    ) -> list[dict[str, Any]]:
        """One row per (transaction, step): the last line given wins (one statement may not upsert a
        row twice)."""
        latest: dict[tuple[str, int], dict[str, Any]] = {}
        for record in records:
            if record.step_no < 1:
                raise ValueError(f"step numbers start at 1, got {record.step_no}")
            latest[(record.transaction_id, record.step_no)] = self._step_row(record, recorded)
        return list(latest.values())

    @staticmethod
    def _state_params(changes: Sequence[StateChange]) -> list[tuple[str, str, int | None, int]]:
        latest = {change.id: change for change in changes}
        return [(c.id, c.state, c.current_step, 1 if c.completed else 0) for c in latest.values()]

    @property
    def _postgres(self) -> bool:
        return self.flavor.name != "sqlite"

    def _step_row(self, record: StepRecord, recorded: datetime | str | None) -> dict[str, Any]:
        return {
            "transaction_id": record.transaction_id,
            "step_no": record.step_no,
            "name": record.name,
            "target_system": record.target_system,
            "idempotency_key": record.idempotency_key,
            "request_digest": record.request_digest,
            "outcome": record.outcome.value,
            "external_id": record.external_id,
            "attempts": record.attempts,
            "duration_ms": record.duration_ms,
            "error_class": record.error_class,
            "error_message": record.error_message,
            "started_at": self._stamp(record.started_at, "started_at"),
            "finished_at": self._stamp(record.finished_at, "finished_at"),
            "recorded_at": recorded,
        }

    def _stamp(self, value: datetime | None, name: str = "now") -> datetime | str | None:
        """A timestamp as the driver stores it: aware for PostgreSQL, naive-UTC text for SQLite
        (the same format `UtcDateTime` writes, so reads give back aware UTC either way)."""
        if value is None:
            return None
        aware = self._now(value, name).astimezone(UTC)
        if self.flavor.name == "sqlite":
            return aware.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        return aware


class BatchOperations(QueueOperations, JournalShapes):
    """Multi-row writes for group commit; one database transaction (the caller's)."""

    def write_journal(
        self,
        starts: Sequence[TransactionStart] = (),
        records: Sequence[StepRecord] = (),
        changes: Sequence[StateChange] = (),
        leases: Sequence[Lease] = (),
        now: datetime | None = None,
    ) -> list[int]:
        """A group commit's writes: new transaction rows (idempotent), journal lines (the last line
        given for a step wins), state changes, and completions with their inbox rows; returns the
        ids of the deliveries completed (a lost lease completes nothing).

        On PostgreSQL this is ONE statement (`_OneStatement`); on SQLite one statement per kind,
        in the order the foreign keys need. Either way it is all-or-nothing inside a transaction,
        and on PostgreSQL also alone (the engine's `AsyncWriter` sends it with no transaction around).
        """
        at = self._now(now)
        if not self._postgres:
            stamp = self._stamp(at)
            self._insert_starts(starts, changes, stamp)
            self._insert_journal(records, stamp)
            self._update_states(changes, stamp)
            return self.complete_many(leases, at)
        return self.journal_statement(starts, records, changes, leases, at).run(self.conn)

    def start_transactions(self, starts: Sequence[TransactionStart], now: datetime | None = None) -> None:
        """Create every transaction row not already present (ON CONFLICT DO NOTHING), its business keys
        in the same row and its external ids beside it, so people can search by them."""
        self.write_journal(starts=starts, now=now)

    def record_steps(self, records: Sequence[StepRecord], now: datetime | None = None) -> None:
        """Write or overwrite many journal lines; the last line given for a step wins."""
        self.write_journal(records=records, now=now)

    def set_transaction_states(self, changes: Sequence[StateChange], now: datetime | None = None) -> None:
        """Update the state (and current step, completion time) of many transactions at once."""
        self.write_journal(changes=changes, now=now)

    def complete_leases(self, leases: Sequence[Lease], now: datetime | None = None) -> list[int]:
        """`complete_many` (done + inbox); one statement on PostgreSQL."""
        return self.write_journal(leases=leases, now=now)

    def _insert_starts(
        self, starts: Sequence[TransactionStart], changes: Sequence[StateChange], stamp: datetime | str | None
    ) -> None:
        rows, keys = self._start_rows(starts, changes, stamp)
        self._insert_rows("transactions", _START_COLUMNS, rows, _UPSERT_STARTS)
        self._insert_rows("transaction_keys", _KEY_COLUMNS, keys, "ON CONFLICT DO NOTHING")

    def _insert_journal(self, records: Sequence[StepRecord], stamp: datetime | str | None) -> None:
        if records:
            rows = self._journal_rows(records, stamp)
            self._insert_rows("steps", _STEP_COLUMNS, rows, _UPSERT_STEPS)

    def _insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], conflict: str
    ) -> None:
        """The bulk insert every group-commit row kind shares, straight to the driver (SQLAlchemy's
        per-value bind processing cost more than the database on the hottest statements): one JSON
        parameter on PostgreSQL (constant statement text), chunked multi-row VALUES on SQLite."""
        if not rows:
            return
        if self._postgres:
            self.conn.exec_driver_sql(_insert_from_json(table, columns, conflict), (_json_of(rows),))
            return
        insert = f"INSERT INTO {table} ({', '.join(columns)})"
        params = [tuple(row[name] for name in columns) for row in rows]
        for values, flat in _values_chunks(self.flavor.name, params, len(columns)):
            self.conn.exec_driver_sql(f"{insert} VALUES {values} {conflict}", tuple(flat))

    def _update_states(self, changes: Sequence[StateChange], stamp: datetime | str | None) -> None:
        """SQLite: one UPDATE ... FROM (VALUES ...) per chunk (columns are column1..column4)."""
        if not changes:
            return
        for values, flat in _values_chunks(self.flavor.name, self._state_params(changes), 4):
            sql = (
                "UPDATE transactions AS t SET state = v.column2, "
                "current_step = COALESCE(v.column3, t.current_step), "
                "completed_at = CASE WHEN v.column4 = 1 THEN ? ELSE t.completed_at END, updated_at = ? "
                f"FROM (VALUES {values}) AS v WHERE t.id = v.column1"
            )
            self.conn.exec_driver_sql(sql, (stamp, stamp, *flat))

    def claim_heads(
        self, consumer: str, worker_id: str, limit: int, lease_seconds: float, now: datetime | None = None
    ) -> list[ClaimedDelivery]:
        """`claim_next_per_key`, with the events in the same statement on PostgreSQL (same rows, order)."""
        if not self._postgres:
            return self.claim_next_per_key(consumer, worker_id, limit, lease_seconds, now)
        params = self.claim_params(consumer, worker_id, limit, lease_seconds, now)
        rows = self.conn.exec_driver_sql(CLAIM_WITH_EVENTS_PG, params).mappings()
        return [claimed_from_row(row, worker_id) for row in rows]

    def defer(
        self, lease: Lease, until: datetime, now: datetime | None = None, *, waiting_for: str | None = None
    ) -> bool:
        """Give a held item back until `until` without counting the attempt (a saga is waiting).

        `waiting_for` ("<event type> <subject>", see `engine.saga.wait_key`) lets intake wake the
        item as soon as that event arrives instead of at `until`."""
        at = self._now(now)
        statement = (
            update(deliveries)
            .where(*_held_by(lease))
            .values(
                status=DeliveryStatus.PENDING.value,
                attempts=deliveries.c.attempts - 1,
                next_attempt_at=self._now(until, "until"),
                last_error_class="waiting",
                last_error_message=None,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=at,
                waiting_for=waiting_for[:500] if waiting_for else None,
            )
            .returning(deliveries.c.id)
        )
        return self.conn.execute(statement).first() is not None

    def wake_waiting(self, keys: Sequence[str], now: datetime | None = None) -> list[int]:
        """Make every pending delivery waiting for one of `keys` due now; returns their ids."""
        if not keys:
            return []
        at = self._now(now)
        woken: list[int] = []
        unique = sorted({key[:500] for key in keys})
        for offset in range(0, len(unique), CHUNK):
            statement = (
                update(deliveries)
                .where(
                    deliveries.c.waiting_for.in_(unique[offset : offset + CHUNK]),
                    deliveries.c.status == DeliveryStatus.PENDING.value,
                )
                .values(next_attempt_at=at, waiting_for=None, updated_at=at)
                .returning(deliveries.c.id)
            )
            woken.extend(row[0] for row in self.conn.execute(statement))
        return woken

    def steps_of_many(self, transaction_ids: Sequence[str]) -> Journals:
        """The journals of many transactions in one query: {transaction id: {step no: line}}.

        On PostgreSQL one constant statement (`= ANY(%s)`) straight to the driver: every claim
        asks, usually for journals that do not exist yet, and building and caching a SQLAlchemy
        `IN` of a different length each time cost more than the query.
        """
        ids = list(dict.fromkeys(transaction_ids))
        return journals_from_rows(ids, self._step_rows(ids))

    def _step_rows(self, ids: list[str]) -> Iterator[Mapping[Any, Any]]:
        if self._postgres:
            yield from self.conn.exec_driver_sql(STEPS_OF_PG, (ids,)).mappings()
            return
        for offset in range(0, len(ids), CHUNK):
            query = select(steps).where(steps.c.transaction_id.in_(ids[offset : offset + CHUNK]))
            yield from self.conn.execute(query).mappings()

    def find_event(self, event_type: str, subject: str) -> StoredEvent | None:
        """The earliest stored event of `event_type` about `subject` (a saga's awaited event)."""
        query = (
            select(events)
            .where(events.c.type == event_type, events.c.subject == subject)
            .order_by(events.c.position)
            .limit(1)
        )
        row = self.conn.execute(query).mappings().first()
        return event_from_row(row) if row is not None else None

    def events_by_correlation(self, correlation_id: str, limit: int = 1000) -> list[StoredEvent]:
        """Events sharing a correlation id, oldest first (indexed): one business transaction's events."""
        query = (
            select(events)
            .where(events.c.correlation_id == correlation_id)
            .order_by(events.c.position)
            .limit(limit)
        )
        return [event_from_row(row) for row in self.conn.execute(query).mappings()]

    def reset_steps(self, transaction_id: str, from_step: int) -> int:
        """Forget journal lines from `from_step` on, so a replay re-runs them; returns lines removed."""
        if from_step < 1:
            raise ValueError(f"step numbers start at 1, got {from_step}")
        statement = delete(steps).where(
            steps.c.transaction_id == transaction_id, steps.c.step_no >= from_step
        )
        return int(self.conn.execute(statement).rowcount or 0)

    def events_by_id(self, event_ids: Sequence[str]) -> Mapping[str, StoredEvent]:
        """Stored events by id (missing ids are absent)."""
        if not event_ids:
            return {}
        query = select(events).where(events.c.event_id.in_(list(event_ids)))
        return {row["event_id"]: event_from_row(row) for row in self.conn.execute(query).mappings()}


__all__ = ["BatchOperations", "StateChange", "TransactionStart"]
