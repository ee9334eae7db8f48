"""What differs between the SQL databases the ledger runs on, gathered in one small value.

Everything else (tables, queries, the claiming statement) is written once; an adapter only says how
its database spells an upsert and how it locks the rows a claim selects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.engine import Connection

#: An INSERT that knows ON CONFLICT; both dialects spell the methods the same way.
UpsertInsert = PostgresInsert | SqliteInsert
Clock = Callable[[], datetime]


class InsertMany(Protocol):
    """Insert many rows of one table in as few round trips as the driver allows.

    `conflict_target` names the unique columns whose conflict is not an error: the row is skipped
    (DO NOTHING), or, for the columns in `add_on_conflict`, the new value is added to the stored one
    (DO UPDATE SET c = c + excluded.c). Returns the `returning` columns of the rows written.
    """

    def __call__(
        self,
        conn: Connection,
        table: Table,
        rows: Sequence[Mapping[str, Any]],
        *,
        conflict_target: Sequence[str] = (),
        add_on_conflict: Sequence[str] = (),
        returning: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]: ...


def sqlalchemy_insert_many(insert: Callable[[Table], UpsertInsert]) -> InsertMany:
    """`InsertMany` through SQLAlchemy's executemany (multi-row VALUES with RETURNING)."""

    def run(
        conn: Connection,
        table: Table,
        rows: Sequence[Mapping[str, Any]],
        *,
        conflict_target: Sequence[str] = (),
        add_on_conflict: Sequence[str] = (),
        returning: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        if not rows:
            return []
        statement = insert(table)
        if add_on_conflict:
            added = {name: table.c[name] + statement.excluded[name] for name in add_on_conflict}
            statement = statement.on_conflict_do_update(index_elements=list(conflict_target), set_=added)
        elif conflict_target:
            statement = statement.on_conflict_do_nothing(index_elements=list(conflict_target))
        if not returning:
            conn.execute(statement, list(rows))
            return []
        result = conn.execute(statement.returning(*[table.c[name] for name in returning]), list(rows))
        return [tuple(row) for row in result]

    return run


@dataclass(frozen=True)
class Flavor:
    """A database's spelling of the few things SQL does not standardise."""

    name: str
    #: Appended to the head selection of the claim. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
    #: concurrent claimers pass over each other's rows; SQLite: empty, its writer lock is the lock.
    claim_row_lock: str
    insert: Callable[[Table], UpsertInsert]
    #: The bulk path of appends, deliveries and inbox marks; see `InsertMany`.
    insert_many: InsertMany


__all__ = ["Clock", "Flavor", "InsertMany", "UpsertInsert", "sqlalchemy_insert_many"]
