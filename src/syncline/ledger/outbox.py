"""Appending events to the outbox, creating their deliveries, and the consumers' inbox.

Appending is where invariants 2 and 4 are won or lost:

* Duplicates are the unique index's job: the batch is inserted with ON CONFLICT (event_id) DO NOTHING
  and the ids the database RETURNs are the new ones; everything else was a redelivery. No code asks
  "does it exist?" first, so two intakes racing on the same event cannot both win.
* Per-key order is commit order. Each key's next `key_seq` comes from an upsert on `ordering_keys`,
  whose row lock is held until commit, so a second appender of the same key waits for the first and
  gets a higher sequence number, and a claimer can never see seq 6 of a key before seq 5 is
  visible. (A global autoincrement cannot promise that: sequence numbers are handed out before
  commit, and commits may land out of order.) Keys are locked in sorted order, so two batches never
  deadlock on each other. A duplicate burns a sequence number; gaps are harmless, only order matters.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, tuple_

from syncline.ledger.records import (
    AppendedEvent,
    AppendResult,
    DeliveryStatus,
    NewEvent,
    OutboxCursor,
    StoredEvent,
)
from syncline.ledger.schema import deliveries, events, ordering_keys, processed
from syncline.ledger.session_base import SessionBase
from syncline.ledger.types import TransactionId, require_aware

Consumers = Sequence[str] | Callable[[NewEvent], Sequence[str]]


def event_from_row(row: Mapping[Any, Any]) -> StoredEvent:
    """Rebuild a stored event from its `events` row."""
    return StoredEvent(
        position=row["position"],
        key_seq=row["key_seq"],
        event_id=row["event_id"],
        type=row["type"],
        source=row["source"],
        subject=row["subject"],
        ordering_key=row["ordering_key"],
        payload=row["payload"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        traceparent=row["traceparent"],
        occurred_at=row["occurred_at"],
        priority=row["priority"],
        attributes=row["attributes"],
        recorded_at=row["recorded_at"],
        tx_id=row.get("tx_id"),
    )


def _validate(event: NewEvent) -> None:
    for name in ("event_id", "type", "source", "subject", "ordering_key"):
        if not getattr(event, name):
            raise ValueError(f"event {event.event_id!r}: {name} must not be empty")
    if event.occurred_at is not None:
        require_aware(event.occurred_at, f"event {event.event_id!r} occurred_at")
    for name in ("payload", "attributes"):
        try:
            json.dumps(getattr(event, name))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"event {event.event_id!r}: {name} must be plain JSON ({error}); serialise the contract "
                "model in JSON mode (Decimal as string, datetime as ISO 8601) before appending"
            ) from error


class OutboxOperations(SessionBase):
    """Events in, deliveries created, inbox marks; one database transaction."""

    def append_events(
        self, batch: Sequence[NewEvent], consumers: Consumers, now: datetime | None = None
    ) -> AppendResult:
        """Persist the new events of `batch` and a pending delivery per consumer for each.

        `consumers` is either the list of consumer names every event goes to, or a function that
        routes each event. Returns which events were new and which were duplicates (no-ops).
        """
        for event in batch:
            _validate(event)
        if not batch:
            return AppendResult(appended=(), duplicates=())
        at = self._now(now)
        sequences = self._reserve_key_sequences(batch)
        rows = [self._event_row(event, next(sequences[event.ordering_key]), at) for event in batch]
        written = self.flavor.insert_many(
            self.conn,
            events,
            rows,
            conflict_target=["event_id"],
            returning=["event_id", "position", "key_seq"],
        )
        inserted = {event_id: (position, key_seq) for event_id, position, key_seq in written}
        appended, duplicates = self._split(batch, inserted)
        self._create_deliveries(batch, appended, consumers, at)
        return AppendResult(appended=tuple(appended), duplicates=tuple(duplicates))

    def _reserve_key_sequences(self, batch: Sequence[NewEvent]) -> dict[str, Iterator[int]]:
        """Take `n` sequence numbers per key with one multi-row upsert, keys in sorted order.

        The upsert locks each key's row until commit; sorted order means two batches always lock
        shared keys in the same order, so they queue behind each other instead of deadlocking.
        """
        wanted = Counter(event.ordering_key for event in batch)
        rows = [{"ordering_key": key, "last_seq": wanted[key]} for key in sorted(wanted)]
        reserved = self.flavor.insert_many(
            self.conn,
            ordering_keys,
            rows,
            conflict_target=["ordering_key"],
            add_on_conflict=["last_seq"],
            returning=["ordering_key", "last_seq"],
        )
        ranges: dict[str, Iterator[int]] = {}
        for key, last in reserved:
            count = wanted[key]
            ranges[key] = iter(range(int(last) - count + 1, int(last) + 1))
        return ranges

    @staticmethod
    def _event_row(event: NewEvent, key_seq: int, at: datetime) -> dict[str, Any]:
        return {
            "event_id": event.event_id,
            "type": event.type,
            "source": event.source,
            "subject": event.subject,
            "ordering_key": event.ordering_key,
            "key_seq": key_seq,
            "payload": dict(event.payload),
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "traceparent": event.traceparent,
            "occurred_at": event.occurred_at,
            "priority": event.priority,
            "attributes": dict(event.attributes),
            "recorded_at": at,
        }

    @staticmethod
    def _split(
        batch: Sequence[NewEvent], inserted: Mapping[str, tuple[int, int]]
    ) -> tuple[list[AppendedEvent], list[str]]:
        """New vs duplicate, in batch order; a repeat inside the batch is a duplicate too."""
        appended: list[AppendedEvent] = []
        duplicates: list[str] = []
        seen: set[str] = set()
        for event in batch:
            if event.event_id in inserted and event.event_id not in seen:
                position, key_seq = inserted[event.event_id]
                appended.append(AppendedEvent(event.event_id, position, key_seq))
            else:
                duplicates.append(event.event_id)
            seen.add(event.event_id)
        return appended, duplicates

    def _create_deliveries(
        self,
        batch: Sequence[NewEvent],
        appended: Sequence[AppendedEvent],
        consumers: Consumers,
        at: datetime,
    ) -> None:
        by_id = {event.event_id: event for event in batch}
        rows: list[dict[str, Any]] = []
        for item in appended:
            event = by_id[item.event_id]
            targets = consumers(event) if callable(consumers) else consumers
            rows.extend(
                {
                    "consumer": consumer,
                    "event_position": item.position,
                    "event_id": item.event_id,
                    "ordering_key": event.ordering_key,
                    "key_seq": item.key_seq,
                    "status": DeliveryStatus.PENDING.value,
                    "priority": event.priority,
                    "attempts": 0,
                    "next_attempt_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
                for consumer in dict.fromkeys(targets)
            )
        self.flavor.insert_many(self.conn, deliveries, rows)

    def get_event(self, event_id: str) -> StoredEvent | None:
        """The stored event with this id, if any."""
        row = self.conn.execute(select(events).where(events.c.event_id == event_id)).mappings().first()
        return event_from_row(row) if row is not None else None

    def events_after(self, position: int, limit: int = 100) -> list[StoredEvent]:
        """Events with a global position above `position`, oldest first.

        On PostgreSQL positions are handed out before commit, so a reader polling by position can
        see 11 before 10 commits; a reader that must not miss events uses `committed_events_after`
        (or is a delivery consumer).
        """
        query = select(events).where(events.c.position > position).order_by(events.c.position).limit(limit)
        return [event_from_row(row) for row in self.conn.execute(query).mappings()]

    def committed_events_after(self, cursor: OutboxCursor, limit: int = 100) -> list[StoredEvent]:
        """Events after `cursor` in commit-safe order, none of which a later commit can precede.

        PostgreSQL: only events whose transaction id is below `pg_snapshot_xmin` of the current
        snapshot (every such transaction has committed or rolled back), in (tx_id, position) order.
        An event of a transaction still running is not skipped: its tx_id is above the horizon now
        and above the cursor later. SQLite: commits are serialised, so plain position order.
        """
        if self.flavor.name != "postgresql":
            return self.events_after(cursor.position, limit)
        horizon = func.pg_snapshot_xmin(func.pg_current_snapshot())
        query = (
            select(events)
            .where(events.c.tx_id < horizon)
            .where(
                tuple_(events.c.tx_id, events.c.position)
                > tuple_(literal(cursor.tx_id, TransactionId), literal(cursor.position))
            )
            .order_by(events.c.tx_id, events.c.position)
            .limit(limit)
        )
        return [event_from_row(row) for row in self.conn.execute(query).mappings()]

    def count_events(self) -> int:
        """How many events the outbox holds."""
        return int(self.conn.execute(select(func.count()).select_from(events)).scalar_one())

    def mark_processed(
        self, consumer: str, event_ids: Sequence[str], now: datetime | None = None
    ) -> tuple[str, ...]:
        """Record in the inbox that `consumer` applied these events; returns the ids that were new."""
        if not event_ids:
            return ()
        at = self._now(now)
        rows = [{"consumer": consumer, "event_id": event_id, "processed_at": at} for event_id in event_ids]
        written = self.flavor.insert_many(
            self.conn, processed, rows, conflict_target=["consumer", "event_id"], returning=["event_id"]
        )
        new = {event_id for (event_id,) in written}
        return tuple(dict.fromkeys(event_id for event_id in event_ids if event_id in new))

    def is_processed(self, consumer: str, event_id: str) -> bool:
        """Whether the inbox says `consumer` already applied `event_id`."""
        query = select(processed.c.event_id).where(
            processed.c.consumer == consumer, processed.c.event_id == event_id
        )
        return self.conn.execute(query).first() is not None


__all__ = ["Consumers", "OutboxOperations", "event_from_row"]
