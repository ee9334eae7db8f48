"""The ledger's ports: what the engine, mdm and ops may rely on, whatever the database.

`LedgerSession` is one unit of work (one database transaction); `Ledger` opens units of work and
offers every session operation as a one-call shortcut in its own transaction. Both SQL adapters
implement them through `SqlSession` / `SqlLedger`, and `tests/contract/ledger/` is the definition
of correct behaviour any future adapter must pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from syncline.ledger.migrate import SchemaStatus
from syncline.ledger.outbox import Consumers
from syncline.ledger.records import (
    ApiToken,
    AppendResult,
    AuditEntry,
    BusinessKeys,
    ClaimedDelivery,
    Delivery,
    DeliveryStatus,
    ExceptionStatus,
    ExceptionTask,
    ExternalKey,
    Lease,
    NewEvent,
    OutboxCursor,
    StepRecord,
    StoredEvent,
    TokenRole,
    TransactionRecord,
    XrefEntry,
)


class LedgerSession(Protocol):
    """Every ledger operation, inside one database transaction that commits as a whole."""

    # --- outbox ---
    def append_events(
        self, batch: Sequence[NewEvent], consumers: Consumers, now: datetime | None = None
    ) -> AppendResult:
        """Persist the new events of `batch` and a pending delivery per consumer for each."""
        ...

    def get_event(self, event_id: str) -> StoredEvent | None:
        """The stored event with this id, if any."""
        ...

    def events_after(self, position: int, limit: int = 100) -> list[StoredEvent]:
        """Events with a global position above `position`, oldest first."""
        ...

    def committed_events_after(self, cursor: OutboxCursor, limit: int = 100) -> list[StoredEvent]:
        """Events after `cursor` that no still-running transaction can precede, in cursor order."""
        ...

    def count_events(self) -> int:
        """How many events the outbox holds."""
        ...

    def mark_processed(
        self, consumer: str, event_ids: Sequence[str], now: datetime | None = None
    ) -> tuple[str, ...]:
        """Record in the inbox that `consumer` applied these events; returns the ids that were new."""
        ...

    def is_processed(self, consumer: str, event_id: str) -> bool:
        """Whether the inbox says `consumer` already applied `event_id`."""
        ...

    # --- queue ---
    def claim_next_per_key(
        self,
        consumer: str,
        worker_id: str,
        limit: int,
        lease_seconds: float,
        now: datetime | None = None,
    ) -> list[ClaimedDelivery]:
        """Lease up to `limit` items for `consumer`: the due head of as many ordering keys."""
        ...

    def heartbeat(
        self,
        worker_id: str,
        delivery_ids: Sequence[int],
        lease_seconds: float,
        now: datetime | None = None,
    ) -> list[int]:
        """Extend the leases `worker_id` still holds; returns the ids it still holds."""
        ...

    def reclaim_expired(self, now: datetime | None = None) -> list[int]:
        """Put back every in-flight item whose lease ran out (its worker died or stalled)."""
        ...

    def complete(self, lease: Lease, now: datetime | None = None) -> bool:
        """Mark one held item done; False if the lease was lost meanwhile."""
        ...

    def complete_many(self, leases: Sequence[Lease], now: datetime | None = None) -> list[int]:
        """Group commit: mark many held items done and note them in the inbox; returns the done ids."""
        ...

    def fail(
        self,
        lease: Lease,
        error_class: str,
        message: str,
        next_attempt_at: datetime,
        now: datetime | None = None,
    ) -> bool:
        """Record a failed attempt and schedule the retry; the item keeps the head of its key."""
        ...

    def park(self, lease: Lease, error_class: str, message: str, now: datetime | None = None) -> bool:
        """Dead-letter the item; it and every later item of its key wait until replay or skip."""
        ...

    def replay(self, delivery_ids: Sequence[int], now: datetime | None = None) -> list[int]:
        """Give parked or failed items a fresh start (attempts reset); returns the ids changed."""
        ...

    def skip(self, delivery_ids: Sequence[int], now: datetime | None = None) -> list[int]:
        """Give up on parked, failed or pending items on purpose; the key's next item becomes head."""
        ...

    def wake_waiting(self, keys: Sequence[str], now: datetime | None = None) -> list[int]:
        """Make pending items deferred on one of these wait keys due now; returns their ids."""
        ...

    def get_delivery(self, delivery_id: int) -> Delivery | None:
        """One delivery by id."""
        ...

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
        ...

    def count_deliveries(self, consumer: str | None = None) -> dict[DeliveryStatus, int]:
        """How many deliveries are in each status (all statuses present), for drop accounting."""
        ...

    def has_runnable_work(self) -> bool:
        """True when some open delivery is not queued behind a parked one of its consumer and key."""
        ...

    # --- journal ---
    def start_transaction(
        self,
        transaction_id: str,
        flow: str,
        flow_version: int,
        *,
        correlation_id: str | None = None,
        keys: BusinessKeys | None = None,
        state: str = "running",
        sla_deadline: datetime | None = None,
        now: datetime | None = None,
    ) -> tuple[TransactionRecord, bool]:
        """Create the transaction, or return the existing one: (record, created)."""
        ...

    def update_transaction(
        self,
        transaction_id: str,
        *,
        state: str | None = None,
        current_step: int | None = None,
        keys: BusinessKeys | None = None,
        completed_at: datetime | None = None,
        sla_deadline: datetime | None = None,
        now: datetime | None = None,
    ) -> TransactionRecord:
        """Change what is given; keys given as None are left as they are."""
        ...

    def add_external_keys(self, transaction_id: str, keys: Sequence[ExternalKey]) -> None:
        """Remember ids other systems gave this transaction's records, so people can search by them."""
        ...

    def get_transaction(self, transaction_id: str) -> TransactionRecord | None:
        """The transaction with this id, with its external keys."""
        ...

    def get_transactions(self, transaction_ids: Sequence[str]) -> list[TransactionRecord]:
        """Many transactions by id, in the order given, in a fixed number of queries."""
        ...

    def search_transactions(self, value: str, limit: int = 50) -> list[TransactionRecord]:
        """Transactions where `value` is the id, correlation id, any business key or external id."""
        ...

    def list_transactions(
        self, *, state: str | None = None, flow: str | None = None, limit: int = 100
    ) -> list[TransactionRecord]:
        """Most recently updated transactions, optionally of one state and flow."""
        ...

    def record_step(self, step: StepRecord, now: datetime | None = None) -> None:
        """Write (or overwrite, on a later attempt) the journal line of one step."""
        ...

    def steps_of(self, transaction_id: str) -> list[StepRecord]:
        """The journal of one transaction, in step order."""
        ...

    def first_unrecorded_step(self, transaction_id: str) -> int:
        """Where a resumed saga starts: the lowest step number without a settled outcome."""
        ...

    # --- registry ---
    def upsert_xref(
        self,
        entity_type: str,
        canonical_id: str,
        system: str,
        system_id: str,
        version: str | None = None,
        now: datetime | None = None,
    ) -> XrefEntry:
        """Link `canonical_id` to `system_id` in `system` (re-linking replaces the old system id)."""
        ...

    def canonical_id_for(self, entity_type: str, system: str, system_id: str) -> str | None:
        """The canonical id a system's record is linked to, if any."""
        ...

    def system_id_for(self, entity_type: str, canonical_id: str, system: str) -> XrefEntry | None:
        """The link of a canonical entity in one system, if any."""
        ...

    def xrefs_for(self, entity_type: str, canonical_id: str) -> list[XrefEntry]:
        """Every system's id for one canonical entity."""
        ...

    def get_checkpoint(self, source: str) -> str | None:
        """The last position stored for a source feed, if any."""
        ...

    def set_checkpoint(self, source: str, position: str, now: datetime | None = None) -> None:
        """Move a source's position; call it in the transaction that appends the events read."""
        ...

    # --- tasks ---
    def open_exception(
        self,
        reason_code: str,
        message: str,
        *,
        owner_role: str = "operator",
        transaction_id: str | None = None,
        correlation_id: str | None = None,
        exception_id: str | None = None,
        now: datetime | None = None,
    ) -> ExceptionTask:
        """Open a task; with a deterministic `exception_id`, opening it twice returns the first."""
        ...

    def assign_exception(
        self, exception_id: str, assignee: str, now: datetime | None = None
    ) -> ExceptionTask:
        """Give an open or assigned task to a person."""
        ...

    def resolve_exception(
        self, exception_id: str, resolution: str, now: datetime | None = None
    ) -> ExceptionTask:
        """Close a task with what was done about it; a resolved task stays resolved."""
        ...

    def get_exception(self, exception_id: str) -> ExceptionTask | None:
        """One exception task by id."""
        ...

    def list_exceptions(
        self,
        *,
        status: ExceptionStatus | None = None,
        transaction_id: str | None = None,
        owner_role: str | None = None,
        limit: int = 100,
    ) -> list[ExceptionTask]:
        """Tasks matching every filter given, oldest first (work them in order)."""
        ...

    def count_exceptions(self) -> dict[ExceptionStatus, int]:
        """How many tasks are in each status (all statuses present)."""
        ...

    def append_audit(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        *,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> AuditEntry:
        """Add one audit record; there is no way to change or remove it afterwards."""
        ...

    def query_audit(
        self,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Audit records matching every filter given, newest first."""
        ...

    # --- API tokens ---
    def create_api_token(
        self,
        token_id: str,
        name: str,
        role: TokenRole,
        token_hash: str,
        *,
        created_by: str,
        now: datetime | None = None,
    ) -> ApiToken:
        """Store a new token (its hash only); the id must be new."""
        ...

    def get_api_token(self, token_id: str) -> ApiToken | None:
        """One token by its public id (revoked ones included)."""
        ...

    def list_api_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        """Tokens, oldest first; revoked ones only when asked."""
        ...

    def count_api_tokens(self, role: TokenRole | None = None) -> int:
        """How many active tokens exist (of one role, if given)."""
        ...

    def touch_api_token(self, token_id: str, now: datetime | None = None) -> None:
        """Note that the token was just used."""
        ...

    def revoke_api_token(self, token_id: str, now: datetime | None = None) -> ApiToken:
        """Revoke an active token; a revoked token stays revoked."""
        ...


class Ledger(LedgerSession, Protocol):
    """A ledger: units of work, schema state, and each session operation as a one-call shortcut."""

    def transaction(self) -> AbstractContextManager[LedgerSession]:
        """One read-write unit of work; commits on normal exit, rolls back on an exception."""
        ...

    def read(self) -> AbstractContextManager[LedgerSession]:
        """A read-only unit of work."""
        ...

    def schema_status(self) -> SchemaStatus:
        """Where this database stands against the code's migrations."""
        ...

    def upgrade(self) -> SchemaStatus:
        """Apply every pending migration."""
        ...

    def ensure_current(self) -> None:
        """Raise SchemaOutdatedError unless the schema is at the code's head."""
        ...

    def close(self) -> None:
        """Release the database connections."""
        ...


__all__ = ["Consumers", "Ledger", "LedgerSession"]
