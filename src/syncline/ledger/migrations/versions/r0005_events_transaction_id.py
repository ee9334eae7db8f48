"""Record the inserting transaction's id on each event, so the relay never skips a late commit.

PostgreSQL hands out positions before commit: position 10 may commit long after 11. The relay
therefore reads, on PostgreSQL, only events whose transaction id is below the snapshot's xmin (every
such transaction has finished), in (tx_id, position) order. Rows that exist already get tx_id 0:
they are all committed, and a relay checkpoint stored as a bare position P reads as (0, P).
SQLite serialises commits, so position order is commit order there; the column stays NULL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # A constant default fills the existing rows without a table rewrite; new rows then get
        # the id of the transaction inserting them.
        op.execute("ALTER TABLE events ADD COLUMN tx_id xid8 DEFAULT '0'")
        op.execute("ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT pg_current_xact_id()")
    else:
        op.add_column("events", sa.Column("tx_id", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_events_tx_id_position"), "events", ["tx_id", "position"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_events_tx_id_position"), table_name="events")
    op.drop_column("events", "tx_id")
