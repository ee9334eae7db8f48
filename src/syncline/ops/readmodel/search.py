"""Find transactions by any id a person has at hand, narrowed by flow, state, time, system, error.

`q` matches the transaction id, the correlation id, every business key column (Salesforce account,
opportunity, quote; order number; subscription; invoice) and every external id a system gave the
transaction's records (ERP customer, sales order, invoice; billing customer, subscription, invoice),
exactly. Results are newest first, paged by `limit` / `offset` with the total count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true

from syncline.errors import ConfigurationError
from syncline.ledger import SqlSession, TransactionRecord
from syncline.ledger.journal import matches_any_key
from syncline.ledger.schema import steps, transaction_keys, transactions

MAX_PAGE = 200


@dataclass(frozen=True)
class TransactionQuery:
    """Every filter is optional; together they narrow (AND)."""

    q: str | None = None
    flow: str | None = None
    state: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    system: str | None = None
    error_class: str | None = None
    limit: int = 50
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise ConfigurationError(f"limit must be between 1 and {MAX_PAGE}, not {self.limit}")
        if self.offset < 0:
            raise ConfigurationError(f"offset must be 0 or more, not {self.offset}")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ConfigurationError(f"{name} must carry a timezone (e.g. 2026-03-11T08:00:00Z)")
        if self.since and self.until and self.since > self.until:
            raise ConfigurationError("since is after until: the time range is empty")


@dataclass(frozen=True)
class SearchPage:
    """One page of results and how many match in all."""

    items: tuple[TransactionRecord, ...]
    total: int
    limit: int
    offset: int


def _condition(query: TransactionQuery) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if query.q:
        parts.append(matches_any_key(query.q.strip()))
    if query.flow:
        parts.append(transactions.c.flow == query.flow)
    if query.state:
        parts.append(transactions.c.state == query.state)
    if query.since:
        parts.append(transactions.c.created_at >= query.since)
    if query.until:
        parts.append(transactions.c.created_at <= query.until)
    if query.system:
        parts.append(
            or_(
                exists().where(
                    steps.c.transaction_id == transactions.c.id, steps.c.target_system == query.system
                ),
                exists().where(
                    transaction_keys.c.transaction_id == transactions.c.id,
                    transaction_keys.c.system == query.system,
                ),
            )
        )
    if query.error_class:
        parts.append(
            exists().where(
                steps.c.transaction_id == transactions.c.id, steps.c.error_class == query.error_class
            )
        )
    return and_(true(), *parts)


def search_transactions(session: SqlSession, query: TransactionQuery) -> SearchPage:
    """The page of transactions matching `query`, newest activity first."""
    condition = _condition(query)
    total = int(
        session.conn.execute(select(func.count()).select_from(transactions).where(condition)).scalar_one()
    )
    ids = session.conn.execute(
        select(transactions.c.id)
        .where(condition)
        .order_by(transactions.c.updated_at.desc(), transactions.c.id)
        .limit(query.limit)
        .offset(query.offset)
    ).scalars()
    return SearchPage(tuple(session.get_transactions(list(ids))), total, query.limit, query.offset)


__all__ = ["MAX_PAGE", "SearchPage", "TransactionQuery", "search_transactions"]
