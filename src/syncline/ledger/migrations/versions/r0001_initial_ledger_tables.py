"""Initial ledger tables: outbox, deliveries, inbox, journal, xref, checkpoints, exceptions, audit.

Written out in full (not generated from `schema.py` at run time) so this revision never changes
when the metadata moves on; later revisions add to it.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
        comment="Append-only record of operator and system actions; triggers reject UPDATE and DELETE.",
    )
    op.create_index(op.f("ix_audit_at"), "audit", ["at"], unique=False)
    op.create_index(
        op.f("ix_audit_object_type_object_id"), "audit", ["object_type", "object_id"], unique=False
    )
    op.create_table(
        "checkpoints",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_checkpoints")),
        comment="Last position read from each source feed; moved in the same transaction as the events.",
    )
    op.create_table(
        "events",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("ordering_key", sa.String(length=200), nullable=False),
        sa.Column("key_seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("causation_id", sa.String(length=200), nullable=True),
        sa.Column("traceparent", sa.String(length=100), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
        sa.UniqueConstraint("ordering_key", "key_seq", name=op.f("uq_events_ordering_key_key_seq")),
        comment="Outbox: every canonical event, in global (position) and per-key (key_seq) order.",
    )
    op.create_index(op.f("ix_events_correlation_id"), "events", ["correlation_id"], unique=False)
    op.create_table(
        "exceptions",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("transaction_id", sa.String(length=200), nullable=True),
        sa.Column("reason_code", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("owner_role", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'assigned', 'resolved')", name=op.f("ck_exceptions_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exceptions")),
        comment="Exception tasks: business rejections and conflicts waiting for a person.",
    )
    op.create_index(op.f("ix_exceptions_status"), "exceptions", ["status"], unique=False)
    op.create_index(op.f("ix_exceptions_transaction_id"), "exceptions", ["transaction_id"], unique=False)
    op.create_table(
        "ordering_keys",
        sa.Column("ordering_key", sa.String(length=200), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ordering_key", name=op.f("pk_ordering_keys")),
        comment="Per-key sequence counter; its row lock serialises appends of one key so that key_seq "
        "order is commit order.",
    )
    op.create_table(
        "processed",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_processed")),
        comment="Inbox: which consumer has already applied which event.",
    )
    op.create_table(
        "transactions",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("flow", sa.String(length=100), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("correlation_id", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=50), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=True),
        sa.Column("sf_account_id", sa.String(length=100), nullable=True),
        sa.Column("sf_opportunity_id", sa.String(length=100), nullable=True),
        sa.Column("sf_quote_id", sa.String(length=100), nullable=True),
        sa.Column("order_number", sa.String(length=100), nullable=True),
        sa.Column("subscription_id", sa.String(length=100), nullable=True),
        sa.Column("invoice_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        comment="One row per business transaction (saga run) with its searchable business keys.",
    )
    op.create_index(op.f("ix_transactions_correlation_id"), "transactions", ["correlation_id"], unique=False)
    op.create_index(op.f("ix_transactions_invoice_id"), "transactions", ["invoice_id"], unique=False)
    op.create_index(op.f("ix_transactions_order_number"), "transactions", ["order_number"], unique=False)
    op.create_index(op.f("ix_transactions_sf_account_id"), "transactions", ["sf_account_id"], unique=False)
    op.create_index(
        op.f("ix_transactions_sf_opportunity_id"), "transactions", ["sf_opportunity_id"], unique=False
    )
    op.create_index(op.f("ix_transactions_sf_quote_id"), "transactions", ["sf_quote_id"], unique=False)
    op.create_index(
        op.f("ix_transactions_state_sla_deadline"), "transactions", ["state", "sla_deadline"], unique=False
    )
    op.create_index(
        op.f("ix_transactions_subscription_id"), "transactions", ["subscription_id"], unique=False
    )
    op.create_table(
        "xref",
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("canonical_id", sa.String(length=200), nullable=False),
        sa.Column("system", sa.String(length=50), nullable=False),
        sa.Column("system_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", "canonical_id", "system", name=op.f("pk_xref")),
        sa.UniqueConstraint(
            "entity_type", "system", "system_id", name=op.f("uq_xref_entity_type_system_system_id")
        ),
        comment="Cross-reference: canonical id <-> each system's id, per entity type.",
    )
    op.create_table(
        "deliveries",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_position", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("ordering_key", sa.String(length=200), nullable=False),
        sa.Column("key_seq", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_class", sa.String(length=50), nullable=True),
        sa.Column("last_error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'in_flight', 'failed', 'parked', 'done', 'skipped')",
            name=op.f("ck_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_position"], ["events.position"], name=op.f("fk_deliveries_event_position_events")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("consumer", "event_position", name=op.f("uq_deliveries_consumer_event_position")),
        comment="Work queue: one row per (consumer, event) with status, attempts, lease and last error.",
    )
    op.create_index(
        "ix_deliveries_claimable",
        "deliveries",
        ["consumer", "next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
        sqlite_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.create_index(op.f("ix_deliveries_event_id"), "deliveries", ["event_id"], unique=False)
    op.create_index(
        "ix_deliveries_leases",
        "deliveries",
        ["lease_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'in_flight'"),
        sqlite_where=sa.text("status = 'in_flight'"),
    )
    op.create_index(
        "ix_deliveries_open_by_key",
        "deliveries",
        ["consumer", "ordering_key", "key_seq"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'in_flight', 'failed', 'parked')"),
        sqlite_where=sa.text("status IN ('pending', 'in_flight', 'failed', 'parked')"),
    )
    op.create_index(op.f("ix_deliveries_status_consumer"), "deliveries", ["status", "consumer"], unique=False)
    op.create_table(
        "steps",
        sa.Column("transaction_id", sa.String(length=200), nullable=False),
        sa.Column("step_no", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("target_system", sa.String(length=50), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_digest", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error_class", sa.String(length=50), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"], ["transactions.id"], name=op.f("fk_steps_transaction_id_transactions")
        ),
        sa.PrimaryKeyConstraint("transaction_id", "step_no", name=op.f("pk_steps")),
        comment="Saga journal: the outcome of each step, written before the next step starts.",
    )
    op.create_table(
        "transaction_keys",
        sa.Column("transaction_id", sa.String(length=200), nullable=False),
        sa.Column("system", sa.String(length=50), nullable=False),
        sa.Column("key_type", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_transaction_keys_transaction_id_transactions"),
        ),
        sa.PrimaryKeyConstraint(
            "transaction_id", "system", "key_type", "value", name=op.f("pk_transaction_keys")
        ),
        comment="External ids per system for a transaction, searchable by value.",
    )
    op.create_index(op.f("ix_transaction_keys_value"), "transaction_keys", ["value"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_transaction_keys_value"), table_name="transaction_keys")
    op.drop_table("transaction_keys")
    op.drop_table("steps")
    op.drop_index(op.f("ix_deliveries_status_consumer"), table_name="deliveries")
    op.drop_index(
        "ix_deliveries_open_by_key",
        table_name="deliveries",
        postgresql_where=sa.text("status IN ('pending', 'in_flight', 'failed', 'parked')"),
        sqlite_where=sa.text("status IN ('pending', 'in_flight', 'failed', 'parked')"),
    )
    op.drop_index(
        "ix_deliveries_leases",
        table_name="deliveries",
        postgresql_where=sa.text("status = 'in_flight'"),
        sqlite_where=sa.text("status = 'in_flight'"),
    )
    op.drop_index(op.f("ix_deliveries_event_id"), table_name="deliveries")
    op.drop_index(
        "ix_deliveries_claimable",
        table_name="deliveries",
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
        sqlite_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.drop_table("deliveries")
    op.drop_table("xref")
    op.drop_index(op.f("ix_transactions_subscription_id"), table_name="transactions")
    op.drop_index(op.f("ix_transactions_state_sla_deadline"), table_name="transactions")
    op.drop_index(op.f("ix_transactions_sf_quote_id"), table_name="transactions")
    op.drop_index(op.f("ix_transactions_sf_opportunity_id"), table_name="transactions")
    op.drop_index(op.f("ix_transactions_sf_account_id"), table_name="transactions")
    op.drop_index(op.f("ix_transactions_order_number"), table_name="transactions")
    op.drop_index(op.f("ix_transactions_invoice_id"), table_name="transactions")
    op.drop_index(op.f("ix_transactions_correlation_id"), table_name="transactions")
    op.drop_table("transactions")
    op.drop_table("processed")
    op.drop_table("ordering_keys")
    op.drop_index(op.f("ix_exceptions_transaction_id"), table_name="exceptions")
    op.drop_index(op.f("ix_exceptions_status"), table_name="exceptions")
    op.drop_table("exceptions")
    op.drop_index(op.f("ix_events_correlation_id"), table_name="events")
    op.drop_table("events")
    op.drop_table("checkpoints")
    op.drop_index(op.f("ix_audit_object_type_object_id"), table_name="audit")
    op.drop_index(op.f("ix_audit_at"), table_name="audit")
    op.drop_table("audit")
