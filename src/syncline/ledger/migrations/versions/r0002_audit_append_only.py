"""Make `audit` append-only in the database itself: triggers reject UPDATE, DELETE (and TRUNCATE).

The repository exposes no way to change an audit record, but an audit trail is only worth something
if a mistaken script or a hand-typed SQL statement cannot rewrite it either.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_UP = (
    """
    CREATE FUNCTION syncline_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION syncline_audit_append_only()
    """,
    """
    CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION syncline_audit_append_only()
    """,
)
POSTGRES_DOWN = (
    "DROP TRIGGER audit_no_truncate ON audit",
    "DROP TRIGGER audit_append_only ON audit",
    "DROP FUNCTION syncline_audit_append_only()",
)
SQLITE_UP = (
    """
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only: UPDATE is not allowed'); END
    """,
    """
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit is append-only: DELETE is not allowed'); END
    """,
)
SQLITE_DOWN = ("DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete")


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(POSTGRES_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP)


def downgrade() -> None:
    _run(POSTGRES_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN)
