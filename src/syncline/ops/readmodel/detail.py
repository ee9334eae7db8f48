"""One transaction across systems: its record, a timeline of steps, its events, tasks and audit.

The engine's `Operations.show_transaction` gathers the journal, deliveries and exception tasks;
this module turns them into what a person reads: one timeline entry per step with the system it
touched (grouped into Salesforce / ERP / Billing / Syncline lanes), the operation, the request
digest, outcome, external id, latency and error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncline.engine.operations import Operations, TransactionView
from syncline.ledger import (
    AuditEntry,
    Delivery,
    ExceptionTask,
    SqlLedger,
    StepRecord,
    StoredEvent,
    TransactionRecord,
)

#: Which console lane each system's steps are drawn in.
SYSTEM_LANES: dict[str, str] = {
    "salesforce": "Salesforce",
    "netsuite": "ERP",
    "erp": "ERP",
    "odata": "ERP",
    "stripe": "Billing",
    "chargebee": "Billing",
    "billing": "Billing",
}
LANES = ("Salesforce", "ERP", "Billing", "Syncline")


def lane_of(system: str | None) -> str:
    """The lane a step's system belongs to (`Syncline` for internal steps)."""
    return SYSTEM_LANES.get((system or "").lower(), "Syncline")


@dataclass(frozen=True)
class TimelineEntry:
    """One step as the console and API show it."""

    step_no: int
    system: str
    lane: str
    operation: str
    outcome: str
    request_digest: str | None
    idempotency_key: str | None
    external_id: str | None
    latency_ms: int | None
    attempts: int
    error_class: str | None
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, step: StepRecord) -> TimelineEntry:
        """The entry of one journal line."""
        return cls(
            step_no=step.step_no,
            system=step.target_system or "syncline",
            lane=lane_of(step.target_system),
            operation=step.name,
            outcome=step.outcome.value,
            request_digest=step.request_digest,
            idempotency_key=step.idempotency_key,
            external_id=step.external_id,
            latency_ms=step.duration_ms,
            attempts=step.attempts,
            error_class=step.error_class,
            error=step.error_message,
            started_at=step.started_at,
            finished_at=step.finished_at,
        )


@dataclass(frozen=True)
class TransactionDetail:
    """Everything the transaction page shows."""

    transaction: TransactionRecord
    timeline: tuple[TimelineEntry, ...]
    deliveries: tuple[Delivery, ...]
    events: tuple[StoredEvent, ...]
    exceptions: tuple[ExceptionTask, ...]
    audit: tuple[AuditEntry, ...]

    @property
    def lanes(self) -> dict[str, list[TimelineEntry]]:
        """Timeline entries per lane, every lane present (empty lanes show the system was not touched)."""
        grouped: dict[str, list[TimelineEntry]] = {lane: [] for lane in LANES}
        for entry in self.timeline:
            grouped[entry.lane].append(entry)
        return grouped

    def amount(self) -> tuple[str, str] | None:
        """(amount, currency) of the business document behind this transaction, if it has one."""
        for event in self.events:
            found = money_in(event.payload)
            if found is not None:
                return found
        return None


def money_in(payload: Any) -> tuple[str, str] | None:
    """The document's amount: `total`, else `balance` / `amount`, as {"amount", "currency"}."""
    if not isinstance(payload, dict):
        return None
    for name in ("total", "balance", "amount"):
        value = payload.get(name)
        if isinstance(value, dict) and "amount" in value and "currency" in value:
            return str(value["amount"]), str(value["currency"])
    return None


def transaction_detail(ledger: SqlLedger, operations: Operations, transaction_id: str) -> TransactionDetail:
    """The detail of one transaction by its id (raises ConfigurationError when unknown)."""
    view: TransactionView = operations.show_transaction(transaction_id)
    with ledger.read() as session:
        events = session.events_by_id([d.event_id for d in view.deliveries])
        audit: list[AuditEntry] = []
        for delivery in view.deliveries:
            audit += session.query_audit(object_type="delivery", object_id=str(delivery.id))
        for task in view.exceptions:
            audit += session.query_audit(object_type="exception", object_id=task.id)
    ordered_events = sorted(events.values(), key=lambda e: e.position)
    return TransactionDetail(
        transaction=view.transaction,
        timeline=tuple(TimelineEntry.of(step) for step in view.steps),
        deliveries=view.deliveries,
        events=tuple(ordered_events),
        exceptions=view.exceptions,
        audit=tuple(sorted(audit, key=lambda a: a.id)),
    )


__all__ = [
    "LANES",
    "SYSTEM_LANES",
    "TimelineEntry",
    "TransactionDetail",
    "lane_of",
    "money_in",
    "transaction_detail",
]
