"""Business KPIs from the canonical events and the exception tasks.

* Quote-to-order cycle time: `quote.approved` time -> `order.booked` time of the order made from it.
* Order-to-invoice lag: `order.booked` -> `invoice.posted` of an invoice for that order.
* Failed sync rate by domain: share of event deliveries that ended dead-lettered or held (parked or
  skipped) among those created in the window, per business domain.
* Revenue-impacting exception backlog: open exception tasks whose transaction carries an amount
  (order or invoice total), summed per currency with exact `Decimal` arithmetic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select

from syncline.engine.saga import transaction_id
from syncline.ledger import DeliveryStatus, ExceptionStatus, ExceptionTask, SqlSession, StoredEvent
from syncline.ledger.outbox import event_from_row
from syncline.ledger.schema import deliveries, events
from syncline.ops.readmodel.detail import money_in
from syncline.ops.readmodel.stats import domain_of, percentile

QUOTE_APPROVED = "syncline.quote.approved.v1"
ORDER_BOOKED = "syncline.order.booked.v1"
INVOICE_POSTED = "syncline.invoice.posted.v1"
FAILED_STATUSES = (DeliveryStatus.PARKED.value, DeliveryStatus.SKIPPED.value)


@dataclass(frozen=True)
class Duration:
    """Summary of a set of durations, in hours."""

    count: int
    p50_hours: float | None
    p95_hours: float | None
    average_hours: float | None

    @classmethod
    def of(cls, values: list[timedelta]) -> Duration:
        """Summarise durations (negative ones, from clock skew between systems, count as zero)."""
        hours = [max(value.total_seconds(), 0.0) / 3600 for value in values]
        average = sum(hours) / len(hours) if hours else None
        return cls(len(hours), percentile(hours, 0.5), percentile(hours, 0.95), average)


@dataclass(frozen=True)
class FailureRate:
    """Of `total` deliveries in a domain, `failed` ended parked or skipped."""

    failed: int
    total: int

    @property
    def rate(self) -> float:
        """Failed share, 0..1."""
        return self.failed / self.total if self.total else 0.0


@dataclass(frozen=True)
class BacklogItem:
    """One open exception task and the money it holds up."""

    task: ExceptionTask
    amount: Decimal | None
    currency: str | None
    subject: str | None


@dataclass(frozen=True)
class Kpis:
    """The business KPIs of one window."""

    window_start: datetime
    quote_to_order: Duration
    order_to_invoice: Duration
    failed_sync_rate: dict[str, FailureRate]
    backlog: tuple[BacklogItem, ...]

    @property
    def backlog_amounts(self) -> dict[str, Decimal]:
        """Sum of the revenue-impacting backlog per currency."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for item in self.backlog:
            if item.amount is not None and item.currency is not None:
                totals[item.currency] += item.amount
        return dict(sorted(totals.items()))


_CHUNK = 500


def _events(session: SqlSession, event_type: str, since: datetime | None = None) -> list[StoredEvent]:
    """Events of one type recorded since `since` (bounded by the KPI window)."""
    query = select(events).where(events.c.type == event_type)
    if since is not None:
        query = query.where(events.c.recorded_at >= since)
    return [event_from_row(row) for row in session.conn.execute(query).mappings()]


def _events_about(session: SqlSession, event_type: str, subjects: set[str]) -> list[StoredEvent]:
    """Events of one type about the given subjects, whenever recorded (looked up in chunks)."""
    found: list[StoredEvent] = []
    ordered = sorted(subjects)
    for offset in range(0, len(ordered), _CHUNK):
        chunk = ordered[offset : offset + _CHUNK]
        query = select(events).where(events.c.type == event_type, events.c.subject.in_(chunk))
        found += [event_from_row(row) for row in session.conn.execute(query).mappings()]
    return found


def _when(event: StoredEvent) -> datetime:
    return event.occurred_at or event.recorded_at


def _cycle_times(session: SqlSession, since: datetime) -> tuple[Duration, Duration]:
    """Orders and invoices of the window, joined to their quote and order wherever those fall."""
    orders = [o for o in _events(session, ORDER_BOOKED, since) if _when(o) >= since]
    quote_ids = {str(o.payload["quote_id"]) for o in orders if o.payload.get("quote_id")}
    quotes = {q.subject: _when(q) for q in _events_about(session, QUOTE_APPROVED, quote_ids)}
    quote_to_order = [
        _when(o) - quotes[str(o.payload["quote_id"])]
        for o in orders
        if str(o.payload.get("quote_id")) in quotes
    ]
    invoices = _events(session, INVOICE_POSTED, since)
    order_ids = {str(i.payload["order_id"]) for i in invoices if i.payload.get("order_id")}
    booked_at = {o.subject: _when(o) for o in _events_about(session, ORDER_BOOKED, order_ids)}
    order_to_invoice = [
        _when(i) - booked_at[str(i.payload["order_id"])]
        for i in invoices
        if str(i.payload.get("order_id")) in booked_at
    ]
    return Duration.of(quote_to_order), Duration.of(order_to_invoice)


def _failure_rates(session: SqlSession, since: datetime) -> dict[str, FailureRate]:
    rows = session.conn.execute(
        select(events.c.type, deliveries.c.status, func.count())
        .join(events, events.c.position == deliveries.c.event_position)
        .where(deliveries.c.created_at >= since)
        .group_by(events.c.type, deliveries.c.status)
    ).all()
    failed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for event_type, status, count in rows:
        domain = domain_of(event_type)
        total[domain] += int(count)
        if status in FAILED_STATUSES:
            failed[domain] += int(count)
    return {domain: FailureRate(failed[domain], total[domain]) for domain in sorted(total)}


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _backlog(session: SqlSession) -> tuple[BacklogItem, ...]:
    tasks = session.list_exceptions(status=ExceptionStatus.OPEN, limit=1000)
    tasks += session.list_exceptions(status=ExceptionStatus.ASSIGNED, limit=1000)
    parked = session.list_deliveries(status=DeliveryStatus.PARKED, limit=10_000)
    event_of_tx = {transaction_id(d.consumer, d.event_id): d.event_id for d in parked}
    found = session.events_by_id(
        [event_of_tx[t.transaction_id] for t in tasks if t.transaction_id in event_of_tx]
    )
    items = []
    for task in sorted(tasks, key=lambda t: t.created_at):
        event = found.get(event_of_tx.get(task.transaction_id or "", ""))
        money = money_in(event.payload) if event is not None else None
        amount = _decimal(money[0]) if money else None
        items.append(BacklogItem(task, amount, money[1] if money else None, event.subject if event else None))
    return tuple(items)


def build_kpis(session: SqlSession, now: datetime, window: timedelta) -> Kpis:
    """Every KPI for the `window` before `now`."""
    since = now - window
    quote_to_order, order_to_invoice = _cycle_times(session, since)
    return Kpis(since, quote_to_order, order_to_invoice, _failure_rates(session, since), _backlog(session))


__all__ = ["BacklogItem", "Duration", "FailureRate", "Kpis", "build_kpis"]
