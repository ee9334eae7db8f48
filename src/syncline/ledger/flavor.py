"""What differs between the SQL databases the ledger runs on, gathered in one small value.

Everything else (tables, queries, the claiming statement) is written once; an adapter only says how
its database spells an upsert and how it locks the rows a claim selects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

#: An INSERT that knows ON CONFLICT; both dialects spell the methods the same way.
UpsertInsert = PostgresInsert | SqliteInsert
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Flavor:
    """A database's spelling of the few things SQL does not standardise."""

    name: str
    #: Appended to the head selection of the claim. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
    #: concurrent claimers pass over each other's rows; SQLite: empty, its writer lock is the lock.
    claim_row_lock: str
    insert: Callable[[Table], UpsertInsert]


__all__ = ["Clock", "Flavor", "UpsertInsert"]
