"""Alembic environment of the ledger, driven from code by `syncline.ledger.migrate`.

The caller passes an open SQLAlchemy connection in `config.attributes["connection"]`, so migrations
run with the same engine settings (SQLite pragmas, PostgreSQL driver) as the ledger itself and no
alembic.ini is needed at run time.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from syncline.ledger.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the connection the caller opened."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("syncline migrations need a connection; run them with `syncline db upgrade`")
    _run(connection)


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run `syncline db upgrade`")
run_migrations_online()
