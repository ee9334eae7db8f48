"""Index a transaction's business-key columns only where they hold a value.

Why: most transactions carry two or three of the six business keys (a deal has a quote and an
opportunity; an order event has an order number), but a full index gets an entry for every row,
NULL or not, and PostgreSQL writes a new entry into every index whenever a transaction's state
changes (the state column is indexed, so that update cannot be HOT). Partial indexes
(`WHERE <key> IS NOT NULL`) skip the empty keys on both writes; searches by key (`<key> = value`)
still use them, since equality implies NOT NULL on PostgreSQL and SQLite alike.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The transactions columns `BusinessKeys` names (revision 0001 indexed each in full).
KEY_COLUMNS = (
    "sf_account_id",
    "sf_opportunity_id",
    "sf_quote_id",
    "order_number",
    "subscription_id",
    "invoice_id",
)


def upgrade() -> None:
    for column in KEY_COLUMNS:
        name = f"ix_transactions_{column}"
        present = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="transactions")
        op.create_index(name, "transactions", [column], postgresql_where=present, sqlite_where=present)


def downgrade() -> None:
    for column in KEY_COLUMNS:
        name = f"ix_transactions_{column}"
        op.drop_index(name, table_name="transactions")
        op.create_index(name, "transactions", [column], unique=False)
