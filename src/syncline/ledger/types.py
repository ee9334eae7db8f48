"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no timezone-aware timestamp, so `UtcDateTime` stores naive UTC there and gives back aware
UTC everywhere; refusing naive input keeps invariant 9 (datetimes are timezone-aware UTC) honest at
the last door before the disk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.base import ischema_names as postgres_type_names
from sqlalchemy.engine import Dialect
from sqlalchemy.types import UserDefinedType


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the ledger; pass tz-aware UTC")
        as_utc = value.astimezone(UTC)
        return as_utc.replace(tzinfo=None) if dialect.name == "sqlite" else as_utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: JSON document: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")

#: 64-bit surrogate key; SQLite only auto-increments a column declared INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (`xid8`), as a Python int.

    psycopg knows no adapter for it: values go out as text (PostgreSQL infers `xid8` from the
    column they are compared with) and come back as text.
    """

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "XID8"

    def bind_processor(self, dialect: Dialect) -> Callable[[int | None], str | None]:
        return lambda value: None if value is None else str(value)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], int | None]:
        return lambda value: None if value is None else int(value)


# Let reflection (and so the schema-drift check) recognise the column instead of warning.
postgres_type_names.setdefault("xid8", Xid8)

#: The id of the transaction that inserted a row: `xid8` on PostgreSQL, unused (NULL) on SQLite,
#: where commits are serialised and insertion order is already commit order.
TransactionId = BigInteger().with_variant(Xid8(), "postgresql")


def utc_now() -> datetime:
    """The default clock of the ledger; tests and the engine inject their own."""
    return datetime.now(UTC)


def require_aware(value: datetime, name: str) -> datetime:
    """Reject naive datetimes early, with the parameter's name in the message."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware UTC, got naive {value.isoformat()}")
    return value.astimezone(UTC)


__all__ = [
    "BigId",
    "JsonDocument",
    "TransactionId",
    "UtcDateTime",
    "Xid8",
    "require_aware",
    "utc_now",
]
