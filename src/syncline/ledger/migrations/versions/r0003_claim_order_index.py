"""Index the claim candidates in the claim's own order (priority DESC, next_attempt_at, id).

With only (consumer, next_attempt_at), PostgreSQL had to find and sort every due item before it
could return the first heads; with the ORDER BY in the index, it walks the index and stops after
LIMIT heads, so a claim costs the same with 100 or 100,000 items waiting.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMABLE = sa.text("status IN ('pending', 'failed')")


def upgrade() -> None:
    op.drop_index("ix_deliveries_claimable", table_name="deliveries")
    op.create_index(
        "ix_deliveries_claimable",
        "deliveries",
        ["consumer", sa.text("priority DESC"), "next_attempt_at", "id"],
        postgresql_where=CLAIMABLE,
        sqlite_where=CLAIMABLE,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_claimable", table_name="deliveries")
    op.create_index(
        "ix_deliveries_claimable",
        "deliveries",
        ["consumer", "next_attempt_at"],
        postgresql_where=CLAIMABLE,
        sqlite_where=CLAIMABLE,
    )
