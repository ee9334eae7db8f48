"""Values the ledger hands in and out: frozen dataclasses of plain data.

The ledger stores events as plain data (a JSON payload plus indexed columns) so it does not depend on
the canonical contract models; the engine converts between the two. Every datetime here is
timezone-aware UTC (DESIGN.md invariant 9); the ledger refuses naive datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class DeliveryStatus(StrEnum):
    """Where one event stands for one consumer.

    `pending` and `failed` (a retry is scheduled at `next_attempt_at`) are claimable when due;
    `in_flight` is leased by a worker; `parked` is dead-lettered and blocks the later items of its
    ordering key until replayed or skipped; `done` and `skipped` are terminal.
    """

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    FAILED = "failed"
    PARKED = "parked"
    DONE = "done"
    SKIPPED = "skipped"


#: Statuses that still hold their ordering key: a later item of the same key waits behind them.
OPEN_STATUSES: tuple[DeliveryStatus, ...] = (
    DeliveryStatus.PENDING,
    DeliveryStatus.IN_FLIGHT,
    DeliveryStatus.FAILED,
    DeliveryStatus.PARKED,
)
#: Statuses a worker may claim once `next_attempt_at` has come.
CLAIMABLE_STATUSES: tuple[DeliveryStatus, ...] = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
#: Work a worker has or will have (now, or after a back-off), unless parked work of its key blocks it.
RUNNABLE_STATUSES: tuple[DeliveryStatus, ...] = (*CLAIMABLE_STATUSES, DeliveryStatus.IN_FLIGHT)


class StepOutcome(StrEnum):
    """How a saga step ended; `succeeded`, `skipped` and `compensated` settle the step for good."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    WAITING = "waiting"
    SKIPPED = "skipped"
    COMPENSATED = "compensated"


SETTLED_STEP_OUTCOMES: tuple[StepOutcome, ...] = (
    StepOutcome.SUCCEEDED,
    StepOutcome.SKIPPED,
    StepOutcome.COMPENSATED,
)


class ExceptionStatus(StrEnum):
    """Life of an exception task: a person picks it up and resolves it."""

    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class TokenRole(StrEnum):
    """What an API token may do: viewers read, operators also act on work, admins also manage tokens."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


@dataclass(frozen=True)
class NewEvent:
    """A canonical event about to be appended to the outbox.

    `event_id` is deterministic from (source system, record id, change marker), so a redelivery has the
    same id and the unique index turns it into a no-op (invariant 2). `ordering_key` is the canonical
    entity id: events with the same key are processed in append order (invariant 4). `attributes`
    keeps the remaining CloudEvents attributes so the envelope can be rebuilt exactly.
    """

    event_id: str
    type: str
    source: str
    subject: str
    ordering_key: str
    payload: Mapping[str, Any]
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    occurred_at: datetime | None = None
    priority: int = 0
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredEvent:
    """An event as the outbox holds it: `position` is global, `key_seq` orders it within its key."""

    position: int
    key_seq: int
    event_id: str
    type: str
    source: str
    subject: str
    ordering_key: str
    payload: Mapping[str, Any]
    correlation_id: str | None
    causation_id: str | None
    traceparent: str | None
    occurred_at: datetime | None
    priority: int
    attributes: Mapping[str, Any]
    recorded_at: datetime
    #: Id of the inserting transaction on PostgreSQL (0 for rows older than migration 0005);
    #: None on SQLite, where commit order is position order.
    tx_id: int | None = None


@dataclass(frozen=True, order=True)
class OutboxCursor:
    """A place in the outbox's commit order: (inserting transaction id, position).

    On PostgreSQL a transaction that took position 10 can commit after one that took 11, so
    position alone is not a safe place to resume from; every event of a transaction below the
    snapshot's xmin is visible, so (tx_id, position) order read below that horizon never skips.
    On SQLite tx_id is always 0 and the cursor is the plain position.
    """

    tx_id: int = 0
    position: int = 0

    @classmethod
    def of(cls, event: StoredEvent) -> OutboxCursor:
        """The cursor just at `event` (reading after it continues with the next one)."""
        return cls(event.tx_id or 0, event.position)

    @classmethod
    def parse(cls, stored: str) -> OutboxCursor:
        """Read a stored checkpoint: `"<tx_id>:<position>"`, or a bare position (the old format)."""
        try:
            if ":" in stored:
                tx_id, position = stored.split(":", 1)
                return cls(int(tx_id), int(position))
            return cls(0, int(stored))
        except ValueError:
            raise ValueError(
                f"outbox checkpoint {stored!r} is neither '<tx_id>:<position>' nor a position"
            ) from None

    def __str__(self) -> str:
        return f"{self.tx_id}:{self.position}"


@dataclass(frozen=True)
class AppendedEvent:
    """One event that was new to the outbox, with the place it was given."""

    event_id: str
    position: int
    key_seq: int


@dataclass(frozen=True)
class AppendResult:
    """What `append_events` did: which events were new and which were redeliveries (no-ops)."""

    appended: tuple[AppendedEvent, ...]
    duplicates: tuple[str, ...]

    @property
    def appended_ids(self) -> tuple[str, ...]:
        """Event ids that were new, in batch order."""
        return tuple(item.event_id for item in self.appended)


@dataclass(frozen=True)
class Lease:
    """Proof that a worker holds a delivery: every state change after a claim must present it.

    `attempt` fences stale workers: once a lease expires and the item is claimed again, the old
    holder's lease no longer matches and its late `complete` or `fail` changes nothing.
    """

    delivery_id: int
    worker_id: str
    attempt: int


@dataclass(frozen=True)
class Delivery:
    """One event for one consumer, with its processing state."""

    id: int
    consumer: str
    event_position: int
    event_id: str
    ordering_key: str
    key_seq: int
    status: DeliveryStatus
    priority: int
    attempts: int
    next_attempt_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error_class: str | None
    last_error_message: str | None
    created_at: datetime
    updated_at: datetime
    #: "<event type> <subject>" a deferred saga waits for (intake wakes it when that arrives).
    waiting_for: str | None = None


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery a worker now holds, together with its event and the lease to present later."""

    delivery: Delivery
    event: StoredEvent
    lease: Lease


@dataclass(frozen=True)
class BusinessKeys:
    """The keys people search a transaction by; any may be unknown when the transaction starts."""

    sf_account_id: str | None = None
    sf_opportunity_id: str | None = None
    sf_quote_id: str | None = None
    order_number: str | None = None
    subscription_id: str | None = None
    invoice_id: str | None = None

    def as_columns(self) -> dict[str, str]:
        """The known keys only, by column name, so an update never erases a key with None."""
        values = {
            "sf_account_id": self.sf_account_id,
            "sf_opportunity_id": self.sf_opportunity_id,
            "sf_quote_id": self.sf_quote_id,
            "order_number": self.order_number,
            "subscription_id": self.subscription_id,
            "invoice_id": self.invoice_id,
        }
        return {name: value for name, value in values.items() if value is not None}


BUSINESS_KEY_COLUMNS: tuple[str, ...] = tuple(BusinessKeys.__dataclass_fields__)


@dataclass(frozen=True)
class ExternalKey:
    """An id a system gave to something in this transaction (`netsuite`, `sales_order`, `SO-1001`)."""

    system: str
    key_type: str
    value: str


@dataclass(frozen=True)
class TransactionRecord:
    """One business transaction (a saga run) and what identifies it."""

    id: str
    flow: str
    flow_version: int
    correlation_id: str | None
    state: str
    current_step: int | None
    keys: BusinessKeys
    external_keys: tuple[ExternalKey, ...]
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    sla_deadline: datetime | None


@dataclass(frozen=True)
class StepRecord:
    """The journal line of one saga step; written before the next step starts (issue 3, sagas)."""

    transaction_id: str
    step_no: int
    name: str
    outcome: StepOutcome
    target_system: str | None = None
    idempotency_key: str | None = None
    request_digest: str | None = None
    external_id: str | None = None
    attempts: int = 1
    duration_ms: int | None = None
    error_class: str | None = None
    error_message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class XrefEntry:
    """Canonical id <-> one system's id for one entity type, with that record's version or etag."""

    entity_type: str
    canonical_id: str
    system: str
    system_id: str
    version: str | None
    updated_at: datetime


@dataclass(frozen=True)
class ExceptionTask:
    """Work for a person: a business rejection or conflict the engine will not retry on its own."""

    id: str
    transaction_id: str | None
    reason_code: str
    message: str
    owner_role: str
    status: ExceptionStatus
    assignee: str | None
    resolution: str | None
    correlation_id: str | None
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class AuditEntry:
    """One append-only record of who did what to which object, and why."""

    id: int
    actor: str
    action: str
    object_type: str
    object_id: str
    reason: str | None
    details: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class ApiToken:
    """An API token as stored: its public id, who holds it, its role, and the SHA-256 of its secret.

    The secret itself is never stored; whoever presents it is checked by hashing it again.
    """

    id: str
    name: str
    role: TokenRole
    token_hash: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """False once revoked."""
        return self.revoked_at is None


__all__ = [
    "BUSINESS_KEY_COLUMNS",
    "CLAIMABLE_STATUSES",
    "OPEN_STATUSES",
    "RUNNABLE_STATUSES",
    "SETTLED_STEP_OUTCOMES",
    "ApiToken",
    "AppendResult",
    "AppendedEvent",
    "AuditEntry",
    "BusinessKeys",
    "ClaimedDelivery",
    "Delivery",
    "DeliveryStatus",
    "ExceptionStatus",
    "ExceptionTask",
    "ExternalKey",
    "Lease",
    "NewEvent",
    "OutboxCursor",
    "StepOutcome",
    "StepRecord",
    "StoredEvent",
    "TokenRole",
    "TransactionRecord",
    "XrefEntry",
]
