"""The work queue: claiming the head of each ordering key, leases, and how a delivery ends.

Every state change after a claim presents the `Lease` the claim returned. A stale worker (its lease
expired, the item was reclaimed and claimed again) presents an old lease that matches no row, so its
late `complete` or `fail` changes nothing; the caller learns that from the returned ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, select, text, tuple_, update

from syncline.ledger.outbox import OutboxOperations, event_from_row
from syncline.ledger.records import (
    RUNNABLE_STATUSES,
    ClaimedDelivery,
    Delivery,
    DeliveryStatus,
    Lease,
)
from syncline.ledger.schema import deliveries, events
from syncline.ledger.types import UtcDateTime

# Claim the head item of each ordering key for one consumer (DESIGN.md invariant 4).
#
# Why this is correct:
# * Head only. A candidate qualifies only if it is the OLDEST open item (pending, in flight, failed
#   awaiting retry, or parked) of its (consumer, ordering key): no earlier item of the key is still
#   open. So at most one item per key is ever in flight, a parked (dead-lettered) item blocks
#   everything behind it, and a failed item awaiting its retry keeps its place at the head. Items are
#   never claimed "n at a time across keys": the LIMIT counts heads, one per key.
# * No gaps. key_seq order is commit order within a key (see outbox.py), so if a claimer can see an
#   item, it can see every earlier item of that key; the MIN() cannot miss an earlier one.
# * Concurrent claimers on PostgreSQL. {row_lock} is FOR UPDATE SKIP LOCKED: a head another claimer is
#   taking right now is skipped, not waited for. When a row was changed by a transaction that
#   committed after our snapshot, PostgreSQL re-checks the WHERE clause on the newest row version
#   before locking it, so a head that meanwhile became in_flight, done, parked, or rescheduled into
#   the future drops out. The MIN() subquery uses our snapshot, which is safe because an item's earlier
#   items only ever move from open to closed, never back (replay re-opens parked items only, which
#   were already open), so a head seen in our snapshot is still the head or no longer claimable.
# * Plan. The MIN() is a correlated scalar subquery, which PostgreSQL never turns into a join: it is
#   one probe of ix_deliveries_open_by_key per candidate whatever the table statistics say (a NOT
#   EXISTS anti-join was planned as a nested scan of the whole key index on a freshly filled table).
#   Candidates come from ix_deliveries_claimable in ORDER BY order, so the scan stops after LIMIT heads.
# * SQLite. {row_lock} is empty: the statement runs inside BEGIN IMMEDIATE, which holds the database's
#   single writer lock from the first read to commit, so claimers are serialised - one at a time.
# * Group commit. It is a single UPDATE ... RETURNING; a worker may run it, and complete or fail many
#   earlier items, inside one transaction.
CLAIM_HEADS_SQL = """
WITH heads AS (
    SELECT candidate.id
    FROM deliveries AS candidate
    WHERE candidate.consumer = :consumer
      AND candidate.status IN ('pending', 'failed')
      AND candidate.next_attempt_at <= :now
      AND candidate.key_seq = (
          SELECT MIN(open_item.key_seq)
          FROM deliveries AS open_item
          WHERE open_item.consumer = candidate.consumer
            AND open_item.ordering_key = candidate.ordering_key
            AND open_item.status IN ('pending', 'in_flight', 'failed', 'parked')
      )
    ORDER BY candidate.priority DESC, candidate.next_attempt_at, candidate.id
    LIMIT :limit
    {row_lock}
)
UPDATE deliveries
SET status = 'in_flight',
    attempts = attempts + 1,
    lease_owner = :worker_id,
    lease_expires_at = :lease_expires_at,
    updated_at = :now
WHERE id IN (SELECT id FROM heads)
RETURNING id
"""


def delivery_from_row(row: Mapping[Any, Any]) -> Delivery:
    """Rebuild a delivery from its `deliveries` row."""
    return Delivery(
        id=row["id"],
        consumer=row["consumer"],
        event_position=row["event_position"],
        event_id=row["event_id"],
        ordering_key=row["ordering_key"],
        key_seq=row["key_seq"],
        status=DeliveryStatus(row["status"]),
        priority=row["priority"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        last_error_class=row["last_error_class"],
        last_error_message=row["last_error_message"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        waiting_for=row.get("waiting_for"),
    )


def _held_by(lease: Lease) -> list[ColumnElement[bool]]:
    """The WHERE clause that matches a row only while `lease` is still the current one."""
    return [
        deliveries.c.id == lease.delivery_id,
        deliveries.c.status == DeliveryStatus.IN_FLIGHT.value,
        deliveries.c.lease_owner == lease.worker_id,
        deliveries.c.attempts == lease.attempt,
    ]


def _check_lease_seconds(lease_seconds: float) -> timedelta:
    if lease_seconds <= 0:
        raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
    return timedelta(seconds=lease_seconds)


class QueueOperations(OutboxOperations):
    """Claim, heartbeat, reclaim, complete, fail, park, replay, skip; one database transaction."""

    def claim_next_per_key(
        self,
        consumer: str,
        worker_id: str,
        limit: int,
        lease_seconds: float,
        now: datetime | None = None,
    ) -> list[ClaimedDelivery]:
        """Lease up to `limit` items for `consumer`: the due head of as many ordering keys."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        at = self._now(now)
        statement = text(CLAIM_HEADS_SQL.format(row_lock=self.flavor.claim_row_lock)).bindparams(
            bindparam("now", type_=UtcDateTime()),
            bindparam("lease_expires_at", type_=UtcDateTime()),
        )
        ids = self.conn.execute(
            statement,
            {
                "consumer": consumer,
                "now": at,
                "limit": limit,
                "worker_id": worker_id,
                "lease_expires_at": at + _check_lease_seconds(lease_seconds),
            },
        ).scalars()
        return self._load_claimed(list(ids))

    def _load_claimed(self, ids: Sequence[int]) -> list[ClaimedDelivery]:
        if not ids:
            return []
        query = (
            select(deliveries, *[column.label(f"ev__{column.name}") for column in events.c])
            .join(events, events.c.position == deliveries.c.event_position)
            .where(deliveries.c.id.in_(ids))
            .order_by(deliveries.c.priority.desc(), deliveries.c.next_attempt_at, deliveries.c.id)
        )
        claimed: list[ClaimedDelivery] = []
        for row in self.conn.execute(query).mappings():
            delivery = delivery_from_row(row)
            event_row = {column.name: row[f"ev__{column.name}"] for column in events.c}
            claimed.append(
                ClaimedDelivery(
                    delivery=delivery,
                    event=event_from_row(event_row),
                    lease=Lease(delivery.id, delivery.lease_owner or "", delivery.attempts),
                )
            )
        return claimed

    def heartbeat(
        self,
        worker_id: str,
        delivery_ids: Sequence[int],
        lease_seconds: float,
        now: datetime | None = None,
    ) -> list[int]:
        """Extend the leases `worker_id` still holds; returns the ids it still holds."""
        if not delivery_ids:
            return []
        at = self._now(now)
        statement = (
            update(deliveries)
            .where(
                deliveries.c.id.in_(list(delivery_ids)),
                deliveries.c.status == DeliveryStatus.IN_FLIGHT.value,
                deliveries.c.lease_owner == worker_id,
            )
            .values(lease_expires_at=at + _check_lease_seconds(lease_seconds), updated_at=at)
            .returning(deliveries.c.id)
        )
        return sorted(self.conn.execute(statement).scalars())

    def reclaim_expired(self, now: datetime | None = None) -> list[int]:
        """Put back every in-flight item whose lease ran out (its worker died or stalled)."""
        at = self._now(now)
        statement = (
            update(deliveries)
            .where(
                deliveries.c.status == DeliveryStatus.IN_FLIGHT.value,
                deliveries.c.lease_expires_at < at,
            )
            .values(
                status=DeliveryStatus.PENDING.value,
                next_attempt_at=at,
                last_error_class="lease_expired",
                last_error_message="lease expired; held by " + deliveries.c.lease_owner,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=at,
            )
            .returning(deliveries.c.id)
        )
        return sorted(self.conn.execute(statement).scalars())

    def complete(self, lease: Lease, now: datetime | None = None) -> bool:
        """Mark one held item done; False if the lease was lost meanwhile."""
        return lease.delivery_id in self.complete_many([lease], now)

    def complete_many(self, leases: Sequence[Lease], now: datetime | None = None) -> list[int]:
        """Group commit: mark many held items done and note them in the inbox; returns the done ids."""
        if not leases:
            return []
        at = self._now(now)
        by_worker: dict[str, list[Lease]] = defaultdict(list)
        for lease in leases:
            by_worker[lease.worker_id].append(lease)
        done: list[tuple[int, str, str]] = []
        for worker_id, held in by_worker.items():
            statement = (
                update(deliveries)
                .where(
                    tuple_(deliveries.c.id, deliveries.c.attempts).in_(
                        [(lease.delivery_id, lease.attempt) for lease in held]
                    ),
                    deliveries.c.status == DeliveryStatus.IN_FLIGHT.value,
                    deliveries.c.lease_owner == worker_id,
                )
                .values(
                    status=DeliveryStatus.DONE.value,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=at,
                )
                .returning(deliveries.c.id, deliveries.c.consumer, deliveries.c.event_id)
            )
            done.extend((row.id, row.consumer, row.event_id) for row in self.conn.execute(statement))
        self._note_processed(done, at)
        return sorted(delivery_id for delivery_id, _, _ in done)

    def _note_processed(self, done: Sequence[tuple[int, str, str]], at: datetime) -> None:
        by_consumer: dict[str, list[str]] = defaultdict(list)
        for _, consumer, event_id in done:
            by_consumer[consumer].append(event_id)
        for consumer, event_ids in by_consumer.items():
            self.mark_processed(consumer, event_ids, at)

    def fail(
        self,
        lease: Lease,
        error_class: str,
        message: str,
        next_attempt_at: datetime,
        now: datetime | None = None,
    ) -> bool:
        """Record a failed attempt and schedule the retry; the item keeps the head of its key."""
        at = self._now(now)
        retry_at = self._now(next_attempt_at, "next_attempt_at")
        return self._end_attempt(lease, DeliveryStatus.FAILED, error_class, message, retry_at, at)

    def park(self, lease: Lease, error_class: str, message: str, now: datetime | None = None) -> bool:
        """Dead-letter the item; it and every later item of its key wait until replay or skip."""
        at = self._now(now)
        return self._end_attempt(lease, DeliveryStatus.PARKED, error_class, message, at, at)

    def _end_attempt(
        self,
        lease: Lease,
        status: DeliveryStatus,
        error_class: str,
        message: str,
        next_attempt_at: datetime,
        at: datetime,
    ) -> bool:
        statement = (
            update(deliveries)
            .where(*_held_by(lease))
            .values(
                status=status.value,
                next_attempt_at=next_attempt_at,
                last_error_class=error_class,
                last_error_message=message,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=at,
            )
            .returning(deliveries.c.id)
        )
        return self.conn.execute(statement).first() is not None

    def replay(self, delivery_ids: Sequence[int], now: datetime | None = None) -> list[int]:
        """Give parked or failed items a fresh start (attempts reset); returns the ids changed.

        Completed items are not re-opened here: re-opening an item behind which later items of its key
        already ran would break per-key order. Re-run those by appending a new event.
        """
        at = self._now(now)
        return self._move(
            delivery_ids,
            (DeliveryStatus.PARKED, DeliveryStatus.FAILED),
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=at,
            updated_at=at,
        )

    def skip(self, delivery_ids: Sequence[int], now: datetime | None = None) -> list[int]:
        """Give up on parked, failed or pending items on purpose; the key's next item becomes head."""
        at = self._now(now)
        return self._move(
            delivery_ids,
            (DeliveryStatus.PARKED, DeliveryStatus.FAILED, DeliveryStatus.PENDING),
            status=DeliveryStatus.SKIPPED.value,
            updated_at=at,
        )

    def _move(
        self, delivery_ids: Sequence[int], allowed: Sequence[DeliveryStatus], **values: object
    ) -> list[int]:
        if not delivery_ids:
            return []
        statement = (
            update(deliveries)
            .where(
                deliveries.c.id.in_(list(delivery_ids)),
                deliveries.c.status.in_([status.value for status in allowed]),
            )
            .values(**values)
            .returning(deliveries.c.id)
        )
        return sorted(self.conn.execute(statement).scalars())

    def get_delivery(self, delivery_id: int) -> Delivery | None:
        """One delivery by id."""
        row = self.conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first()
        return delivery_from_row(row) if row is not None else None

    def list_deliveries(
        self,
        *,
        status: DeliveryStatus | None = None,
        consumer: str | None = None,
        ordering_key: str | None = None,
        event_id: str | None = None,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[Delivery]:
        """Deliveries matching every filter given, by id (e.g. the dead letters: status=parked)."""
        query = select(deliveries).where(deliveries.c.id > after_id)
        if status is not None:
            query = query.where(deliveries.c.status == status.value)
        if consumer is not None:
            query = query.where(deliveries.c.consumer == consumer)
        if ordering_key is not None:
            query = query.where(deliveries.c.ordering_key == ordering_key)
        if event_id is not None:
            query = query.where(deliveries.c.event_id == event_id)
        query = query.order_by(deliveries.c.id).limit(limit)
        return [delivery_from_row(row) for row in self.conn.execute(query).mappings()]

    def count_deliveries(self, consumer: str | None = None) -> dict[DeliveryStatus, int]:
        """How many deliveries are in each status (all statuses present), for drop accounting."""
        query = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        if consumer is not None:
            query = query.where(deliveries.c.consumer == consumer)
        counts = dict.fromkeys(DeliveryStatus, 0)
        for status, count in self.conn.execute(query):
            counts[DeliveryStatus(status)] = int(count)
        return counts

    def has_runnable_work(self) -> bool:
        """True when a pending, in-flight or failed delivery is not queued behind a parked one of its
        consumer and key: "is anything left to do" for a runtime or a demo waiting to be idle.

        Items behind a parked (held or dead-lettered) item wait for a person (DESIGN.md invariant
        6), so they are not work a worker can do. One indexed query (the open-by-key index), not a
        scan of every open delivery in Python.
        """
        parked = deliveries.alias("parked")
        behind_parked = exists().where(
            parked.c.consumer == deliveries.c.consumer,
            parked.c.ordering_key == deliveries.c.ordering_key,
            parked.c.status == DeliveryStatus.PARKED.value,
            parked.c.key_seq < deliveries.c.key_seq,
        )
        runnable = select(deliveries.c.id).where(
            deliveries.c.status.in_([status.value for status in RUNNABLE_STATUSES]), ~behind_parked
        )
        return self.conn.execute(runnable.limit(1)).first() is not None


__all__ = ["CLAIM_HEADS_SQL", "QueueOperations", "delivery_from_row"]
