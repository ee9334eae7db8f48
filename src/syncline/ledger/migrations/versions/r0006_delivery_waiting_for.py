"""Remember what a deferred saga waits for, so intake can wake it the moment that event arrives.

Before this revision a saga waiting for a correlated event (say, the ERP's approval) was only
re-checked when its deferral ran out (every `poll_every`, 5 s by default): the event sat in the
ledger for up to that long. Intake now looks the arriving event's "<type> <subject>" up in this
column and makes the waiting delivery due at once, in the same commit as the event.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "waiting_for IS NOT NULL AND status = 'pending'"


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("waiting_for", sa.String(length=500), nullable=True))
    op.create_index(
        "ix_deliveries_waiting_for",
        "deliveries",
        ["waiting_for"],
        unique=False,
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_waiting_for", table_name="deliveries")
    op.drop_column("deliveries", "waiting_for")
