"""The ledger's tables, as SQLAlchemy Core metadata.

This module is the schema the code expects; the Alembic revisions under `migrations/` build it, and a
contract test compares the migrated database with this metadata so the two never drift. Read
`docs/ledger.md` for the role of each table.

Duplicates are the schema's job (invariant 2): `events.event_id`, `processed (consumer, event_id)`,
`steps (transaction_id, step_no)` and the two `xref` keys are unique indexes, and writers use
INSERT ... ON CONFLICT instead of checking first.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from syncline.ledger.records import (
    BUSINESS_KEY_COLUMNS,
    CLAIMABLE_STATUSES,
    OPEN_STATUSES,
    DeliveryStatus,
    ExceptionStatus,
    TokenRole,
)
from syncline.ledger.types import BigId, JsonDocument, TransactionId, UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _where_present(column: str) -> Index:
    """A partial index on a nullable key column: empty keys cost no index entry on any write."""
    present = text(f"{column} IS NOT NULL")
    return Index(f"ix_transactions_{column}", column, postgresql_where=present, sqlite_where=present)


OPEN_SQL = f"status IN ({_in_list(OPEN_STATUSES)})"
CLAIMABLE_SQL = f"status IN ({_in_list(CLAIMABLE_STATUSES)})"
#: Deferred deliveries that wait for an event; rows leave this index once claimed again.
WAITING_SQL = "waiting_for IS NOT NULL AND status = 'pending'"

ordering_keys = Table(
    "ordering_keys",
    metadata,
    Column("ordering_key", String(200), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    comment="Per-key sequence counter; its row lock serialises appends of one key so that key_seq "
    "order is commit order.",
)

events = Table(
    "events",
    metadata,
    Column("position", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=False),
    Column("type", String(200), nullable=False),
    Column("source", String(300), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("ordering_key", String(200), nullable=False),
    Column("key_seq", BigInteger, nullable=False),
    Column("payload", JsonDocument, nullable=False),
    Column("correlation_id", String(200)),
    Column("causation_id", String(200)),
    Column("traceparent", String(100)),
    Column("occurred_at", UtcDateTime),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("attributes", JsonDocument, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    # PostgreSQL: DEFAULT pg_current_xact_id() (set by migration 0005, not expressible per dialect
    # here), so the relay can read only events of finished transactions; NULL on SQLite.
    Column("tx_id", TransactionId),
    UniqueConstraint("event_id"),
    UniqueConstraint("ordering_key", "key_seq"),
    Index(None, "correlation_id"),
    Index(None, "tx_id", "position"),
    comment="Outbox: every canonical event, in global (position) and per-key (key_seq) order.",
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("consumer", String(100), nullable=False),
    Column("event_position", BigInteger, ForeignKey("events.position"), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("ordering_key", String(200), nullable=False),
    Column("key_seq", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(200)),
    Column("lease_expires_at", UtcDateTime),
    Column("last_error_class", String(50)),
    Column("last_error_message", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # What a deferred saga waits for ("<event type> <subject>"): intake wakes it when that arrives.
    Column("waiting_for", String(500)),
    UniqueConstraint("consumer", "event_position"),
    CheckConstraint(f"status IN ({_in_list(tuple(DeliveryStatus))})", name="status"),
    # The key's queue: finds "is anything open ahead of me in this key?" in one index probe.
    Index(
        "ix_deliveries_open_by_key",
        "consumer",
        "ordering_key",
        "key_seq",
        postgresql_where=text(OPEN_SQL),
        sqlite_where=text(OPEN_SQL),
    ),
    Index(
        "ix_deliveries_leases",
        "lease_expires_at",
        postgresql_where=text("status = 'in_flight'"),
        sqlite_where=text("status = 'in_flight'"),
    ),
    Index(None, "status", "consumer"),
    Index(None, "event_id"),
    Index(
        "ix_deliveries_waiting_for",
        "waiting_for",
        postgresql_where=text(WAITING_SQL),
        sqlite_where=text(WAITING_SQL),
    ),
    comment="Work queue: one row per (consumer, event) with status, attempts, lease and last error.",
)

# The claim candidates, already in the claim's ORDER BY: the claiming statement walks this index and
# stops after LIMIT heads instead of sorting every due item (revision 0003).
Index(
    "ix_deliveries_claimable",
    deliveries.c.consumer,
    deliveries.c.priority.desc(),
    deliveries.c.next_attempt_at,
    deliveries.c.id,
    postgresql_where=text(CLAIMABLE_SQL),
    sqlite_where=text(CLAIMABLE_SQL),
)

processed = Table(
    "processed",
    metadata,
    Column("consumer", String(100), nullable=False),
    Column("event_id", String(200), nullable=False),
    Column("processed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("consumer", "event_id"),
    comment="Inbox: which consumer has already applied which event.",
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("flow", String(100), nullable=False),
    Column("flow_version", Integer, nullable=False),
    Column("correlation_id", String(200)),
    Column("state", String(50), nullable=False),
    Column("current_step", Integer),
    Column("sf_account_id", String(100)),
    Column("sf_opportunity_id", String(100)),
    Column("sf_quote_id", String(100)),
    Column("order_number", String(100)),
    Column("subscription_id", String(100)),
    Column("invoice_id", String(100)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    Column("sla_deadline", UtcDateTime),
    Index(None, "correlation_id"),
    Index(None, "state", "sla_deadline"),
    # Business keys are indexed only where present (revision 0007): most rows carry two or three.
    *[_where_present(name) for name in BUSINESS_KEY_COLUMNS],
    comment="One row per business transaction (saga run) with its searchable business keys.",
)

transaction_keys = Table(
    "transaction_keys",
    metadata,
    Column("transaction_id", String(200), ForeignKey("transactions.id"), nullable=False),
    Column("system", String(50), nullable=False),
    Column("key_type", String(50), nullable=False),
    Column("value", String(200), nullable=False),
    PrimaryKeyConstraint("transaction_id", "system", "key_type", "value"),
    Index(None, "value"),
    comment="External ids per system for a transaction, searchable by value.",
)

steps = Table(
    "steps",
    metadata,
    Column("transaction_id", String(200), ForeignKey("transactions.id"), nullable=False),
    Column("step_no", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("target_system", String(50)),
    Column("idempotency_key", String(200)),
    Column("request_digest", String(128)),
    Column("outcome", String(20), nullable=False),
    Column("external_id", String(200)),
    Column("attempts", Integer, nullable=False),
    Column("duration_ms", Integer),
    Column("error_class", String(50)),
    Column("error_message", Text),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("recorded_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("transaction_id", "step_no"),
    # Search finds a transaction by the ids its steps returned here (revision 0007).
    Index(
        "ix_steps_external_id",
        "external_id",
        postgresql_where=text("external_id IS NOT NULL"),
        sqlite_where=text("external_id IS NOT NULL"),
    ),
    comment="Saga journal: the outcome of each step, written before the next step starts.",
)

xref = Table(
    "xref",
    metadata,
    Column("entity_type", String(50), nullable=False),
    Column("canonical_id", String(200), nullable=False),
    Column("system", String(50), nullable=False),
    Column("system_id", String(200), nullable=False),
    Column("version", String(200)),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("entity_type", "canonical_id", "system"),
    UniqueConstraint("entity_type", "system", "system_id"),
    comment="Cross-reference: canonical id <-> each system's id, per entity type.",
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("position", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    comment="Last position read from each source feed; moved in the same transaction as the events.",
)

exceptions = Table(
    "exceptions",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("transaction_id", String(200)),
    Column("reason_code", String(100), nullable=False),
    Column("message", Text, nullable=False),
    Column("owner_role", String(50), nullable=False),
    Column("status", String(16), nullable=False),
    Column("assignee", String(200)),
    Column("resolution", Text),
    Column("correlation_id", String(200)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    CheckConstraint(f"status IN ({_in_list(tuple(ExceptionStatus))})", name="status"),
    Index(None, "status"),
    Index(None, "transaction_id"),
    comment="Exception tasks: business rejections and conflicts waiting for a person.",
)

audit = Table(
    "audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("object_type", String(50), nullable=False),
    Column("object_id", String(200), nullable=False),
    Column("reason", Text),
    Column("details", JsonDocument, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "object_type", "object_id"),
    Index(None, "at"),
    comment="Append-only record of operator and system actions; triggers reject UPDATE and DELETE.",
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    CheckConstraint(f"role IN ({_in_list(tuple(TokenRole))})", name="role"),
    Index(None, "name"),
    comment="API tokens of the operations API: only the SHA-256 of each secret is stored.",
)

__all__ = [
    "api_tokens",
    "audit",
    "checkpoints",
    "deliveries",
    "events",
    "exceptions",
    "metadata",
    "ordering_keys",
    "processed",
    "steps",
    "transaction_keys",
    "transactions",
    "xref",
]
