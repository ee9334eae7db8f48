"""Lighter search indexes: business keys indexed only where present; step ids found in the journal.

Both changes take work off the engine's hottest writes without losing a way to find anything.

Business keys. Why: most transactions carry two or three of the six business keys (a deal has a quote and an
opportunity; an order event has an order number), but a full index gets an entry for every row,
NULL or not, and PostgreSQL writes a new entry into every index whenever a transaction's state
changes (the state column is indexed, so that update cannot be HOT). Partial indexes
(`WHERE <key> IS NOT NULL`) skip the empty keys on both writes; searches by key (`<key> = value`)
still use them, since equality implies NOT NULL on PostgreSQL and SQLite alike.

Step external ids. Until now every succeeded step's external id was also copied into
`transaction_keys` (one more row, two more index entries per step) only so that search could
find it. Search and the transaction view now read it from the journal line itself, through a
partial index on `steps.external_id`. Copies already in `transaction_keys` stay (they are still
read, and shown once).

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


STEP_ID_INDEX = "ix_steps_external_id"


def upgrade() -> None:
    present = sa.text("external_id IS NOT NULL")
    op.create_index(STEP_ID_INDEX, "steps", ["external_id"], postgresql_where=present, sqlite_where=present)
    for column in KEY_COLUMNS:
        name = f"ix_transactions_{column}"
        present = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="transactions")
        op.create_index(name, "transactions", [column], postgresql_where=present, sqlite_where=present)


def downgrade() -> None:
    op.drop_index(STEP_ID_INDEX, table_name="steps")
    for column in KEY_COLUMNS:
        name = f"ix_transactions_{column}"
        op.drop_index(name, table_name="transactions")
        op.create_index(name, "transactions", [column], unique=False)
