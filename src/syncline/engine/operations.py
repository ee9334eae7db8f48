"""Operations on the engine: look at a transaction, work the dead letters, resolve exceptions.

The Python API behind `syncline tx|dlq|exceptions` and, later, the console. Every action that
changes something writes an audit record with the actor and the reason in the SAME database
transaction as the change, so there is never a change without its audit line (or the reverse).
Replays are computed first as a plan: `dry_run=True` returns the plan (which deliveries, which
steps would run with which idempotency keys) without touching anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syncline.engine.registry import FlowRegistry
from syncline.engine.saga import idempotency_key, transaction_id
from syncline.errors import ConfigurationError
from syncline.ledger import (
    Delivery,
    DeliveryStatus,
    ExceptionTask,
    SqlLedger,
    SqlSession,
    StepRecord,
    TransactionRecord,
    UnknownRecordError,
)
from syncline.ledger.records import SETTLED_STEP_OUTCOMES

_SCAN_PAGE = 500


@dataclass(frozen=True)
class TransactionView:
    """Everything about one transaction: record, journal, deliveries, exception tasks."""

    transaction: TransactionRecord
    steps: tuple[StepRecord, ...]
    deliveries: tuple[Delivery, ...]
    exceptions: tuple[ExceptionTask, ...]


@dataclass(frozen=True)
class DeadLetterFilter:
    """Which dead letters (parked deliveries) an action applies to; unset fields match anything."""

    flow: str | None = None
    ordering_key: str | None = None
    error_class: str | None = None
    event_type: str | None = None
    transaction_id: str | None = None
    parked_before: datetime | None = None

    def is_empty(self) -> bool:
        """True when nothing narrows the selection."""
        return all(value is None for value in vars(self).values())


@dataclass(frozen=True)
class DeadLetter:
    """A parked delivery with its event and the transaction it belongs to."""

    delivery: Delivery
    event_type: str
    subject: str
    transaction_id: str


@dataclass(frozen=True)
class PlannedStep:
    """A step a replay would run, with the idempotency key it would send."""

    step_no: int
    name: str
    idempotency_key: str


@dataclass(frozen=True)
class ReplayItem:
    """One delivery a replay would re-open, and the steps that would run."""

    dead_letter: DeadLetter
    steps: tuple[PlannedStep, ...]


@dataclass(frozen=True)
class ActionResult:
    """What an operation did (or, for a dry run, would do)."""

    action: str
    dry_run: bool
    items: tuple[ReplayItem, ...] = field(default_factory=tuple)
    changed: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the CLI and the API."""
        return {
            "action": self.action,
            "dry_run": self.dry_run,
            "changed": list(self.changed),
            "items": [
                {
                    "delivery_id": item.dead_letter.delivery.id,
                    "flow": item.dead_letter.delivery.consumer,
                    "event_id": item.dead_letter.delivery.event_id,
                    "event_type": item.dead_letter.event_type,
                    "ordering_key": item.dead_letter.delivery.ordering_key,
                    "transaction_id": item.dead_letter.transaction_id,
                    "error_class": item.dead_letter.delivery.last_error_class,
                    "error": item.dead_letter.delivery.last_error_message,
                    "would_run": [
                        {"step_no": s.step_no, "name": s.name, "idempotency_key": s.idempotency_key}
                        for s in item.steps
                    ],
                }
                for item in self.items
            ],
        }


def _require(actor: str, reason: str) -> None:
    if not actor.strip():
        raise ConfigurationError("an operation needs an actor (who is doing this)")
    if not reason.strip():
        raise ConfigurationError("an operation needs a reason (why), for the audit trail")


class Operations:
    """Operator actions on one ledger; the registry (optional) names the steps a replay would run."""

    def __init__(self, ledger: SqlLedger, registry: FlowRegistry | None = None) -> None:
        self.ledger = ledger
        self.registry = registry or FlowRegistry()

    # --- looking ---------------------------------------------------------------------------
    def show_transaction(self, reference: str) -> TransactionView:
        """A transaction by id, or by any business key, external id or correlation id."""
        with self.ledger.read() as session:
            record = session.get_transaction(reference)
            if record is None:
                found = session.search_transactions(reference, limit=2)
                if len(found) > 1:
                    raise ConfigurationError(f"{reference!r} matches several transactions; use the id")
                record = found[0] if found else None
            if record is None:
                raise UnknownRecordError(f"no transaction matches {reference!r}")
            # The transaction's event shares its correlation id (indexed); no scan of all deliveries.
            related = session.events_by_correlation(record.correlation_id) if record.correlation_id else []
            deliveries = [
                d
                for event in related
                for d in session.list_deliveries(event_id=event.event_id, consumer=record.flow)
                if transaction_id(d.consumer, d.event_id) == record.id
            ]
            return TransactionView(
                record,
                tuple(session.steps_of(record.id)),
                tuple(deliveries),
                tuple(session.list_exceptions(transaction_id=record.id)),
            )

    def list_dead_letters(
        self, selection: DeadLetterFilter | None = None, limit: int = 1000
    ) -> list[DeadLetter]:
        """Parked deliveries matching the filter, oldest first."""
        with self.ledger.read() as session:
            return self._dead_letters(session, selection or DeadLetterFilter(), limit)

    def _scan(
        self, session: SqlSession, *, status: DeliveryStatus | None = None, consumer: str | None = None
    ) -> list[Delivery]:
        found: list[Delivery] = []
        after = 0
        while True:
            page = session.list_deliveries(status=status, consumer=consumer, limit=_SCAN_PAGE, after_id=after)
            found.extend(page)
            if len(page) < _SCAN_PAGE:
                return found
            after = page[-1].id

    def _dead_letters(self, session: SqlSession, selection: DeadLetterFilter, limit: int) -> list[DeadLetter]:
        parked = self._scan(session, status=DeliveryStatus.PARKED, consumer=selection.flow)
        events = session.events_by_id([d.event_id for d in parked])
        letters: list[DeadLetter] = []
        for delivery in parked:
            event = events.get(delivery.event_id)
            letter = DeadLetter(
                delivery,
                event.type if event else "?",
                event.subject if event else "?",
                transaction_id(delivery.consumer, delivery.event_id),
            )
            if _matches(letter, selection):
                letters.append(letter)
            if len(letters) >= limit:
                break
        return letters

    # --- acting ----------------------------------------------------------------------------
    def act(
        self,
        action: str,
        selection: DeadLetterFilter,
        *,
        actor: str,
        reason: str,
        from_step: int | None = None,
        dry_run: bool = False,
    ) -> ActionResult:
        """`replay` or `skip` by name: the console's and the API's forms say which as a word."""
        if action == "replay":
            return self.replay(selection, actor=actor, reason=reason, from_step=from_step, dry_run=dry_run)
        if action == "skip":
            if from_step is not None:
                raise ConfigurationError("a skip runs no step: from_step only goes with a replay")
            return self.skip(selection, actor=actor, reason=reason, dry_run=dry_run)
        raise ConfigurationError(f"unknown action {action!r}: replay or skip")

    def replay(
        self,
        selection: DeadLetterFilter,
        *,
        actor: str,
        reason: str,
        from_step: int | None = None,
        dry_run: bool = False,
    ) -> ActionResult:
        """Re-open the matching dead letters (optionally re-running from `from_step`)."""
        _require(actor, reason)
        if selection.is_empty():
            raise ConfigurationError("say which dead letters to replay (a transaction, a key, or a filter)")
        with self.ledger.transaction() as session:
            letters = self._dead_letters(session, selection, limit=100_000)
            items = tuple(self._plan(session, letter, from_step) for letter in letters)
            if dry_run:
                return ActionResult("replay", True, items)
            if from_step is not None:
                for letter in letters:
                    session.reset_steps(letter.transaction_id, from_step)
            changed = session.replay([letter.delivery.id for letter in letters])
            for item in items:
                session.append_audit(
                    actor,
                    "dlq.replay",
                    "delivery",
                    str(item.dead_letter.delivery.id),
                    reason=reason,
                    details={
                        "transaction_id": item.dead_letter.transaction_id,
                        "from_step": from_step,
                        "error_class": item.dead_letter.delivery.last_error_class,
                    },
                )
        return ActionResult("replay", False, items, tuple(changed))

    def skip(
        self, selection: DeadLetterFilter, *, actor: str, reason: str, dry_run: bool = False
    ) -> ActionResult:
        """Give up on the matching dead letters on purpose; their keys' next events proceed."""
        _require(actor, reason)
        if selection.is_empty():
            raise ConfigurationError("say which dead letters to skip (a transaction, a key, or a filter)")
        with self.ledger.transaction() as session:
            letters = self._dead_letters(session, selection, limit=100_000)
            items = tuple(ReplayItem(letter, ()) for letter in letters)
            if dry_run:
                return ActionResult("skip", True, items)
            changed = session.skip([letter.delivery.id for letter in letters])
            for letter in letters:
                session.append_audit(
                    actor,
                    "dlq.skip",
                    "delivery",
                    str(letter.delivery.id),
                    reason=reason,
                    details={"transaction_id": letter.transaction_id, "event_id": letter.delivery.event_id},
                )
        return ActionResult("skip", False, items, tuple(changed))

    def assign_exception(self, exception_id: str, assignee: str, *, actor: str, reason: str) -> ExceptionTask:
        """Give a task to a person, audited in the same commit (an unknown task: UnknownRecordError)."""
        _require(actor, reason)
        with self.ledger.transaction() as session:
            task = session.assign_exception(exception_id, assignee)
            session.append_audit(
                actor,
                "exception.assign",
                "exception",
                exception_id,
                reason=reason,
                details={"assignee": task.assignee, "transaction_id": task.transaction_id},
            )
        return task

    def resolve_exception(
        self, exception_id: str, *, actor: str, reason: str, retry: bool = True
    ) -> tuple[ExceptionTask, ActionResult | None]:
        """Close an exception task; `retry` replays its held delivery, otherwise the delivery is skipped."""
        _require(actor, reason)
        with self.ledger.transaction() as session:
            task = session.get_exception(exception_id)
            if task is None:
                raise UnknownRecordError(f"no exception task {exception_id!r}")
            resolved = session.resolve_exception(
                exception_id, f"{'retried' if retry else 'dismissed'}: {reason}"
            )
            session.append_audit(
                actor,
                "exception.resolve",
                "exception",
                exception_id,
                reason=reason,
                details={"transaction_id": task.transaction_id, "retry": retry},
            )
        if task.transaction_id is None:
            return resolved, None
        selection = DeadLetterFilter(transaction_id=task.transaction_id)
        why = f"exception {exception_id}: {reason}"
        return resolved, self.act("replay" if retry else "skip", selection, actor=actor, reason=why)

    def _plan(self, session: SqlSession, letter: DeadLetter, from_step: int | None) -> ReplayItem:
        """Which steps a replay would run: from `from_step`, else from the first unsettled one."""
        consumer = letter.delivery.consumer
        if consumer not in self.registry:
            return ReplayItem(letter, ())
        flow = self.registry.flow(consumer)
        recorded = {line.step_no: line for line in session.steps_of(letter.transaction_id)}
        planned = []
        for number, step in enumerate(flow.steps, start=1):
            line = recorded.get(number)
            settled = line is not None and line.outcome in SETTLED_STEP_OUTCOMES
            if (from_step is not None and number >= from_step) or (from_step is None and not settled):
                key = idempotency_key(letter.transaction_id, number, step.name)
                planned.append(PlannedStep(number, step.name, key))
        return ReplayItem(letter, tuple(planned))


def _matches(letter: DeadLetter, selection: DeadLetterFilter) -> bool:
    delivery = letter.delivery
    checks: Sequence[tuple[object, object]] = (
        (selection.ordering_key, delivery.ordering_key),
        (selection.error_class, delivery.last_error_class),
        (selection.event_type, letter.event_type),
        (selection.transaction_id, letter.transaction_id),
    )
    if any(wanted is not None and wanted != actual for wanted, actual in checks):
        return False
    return selection.parked_before is None or delivery.updated_at < selection.parked_before


__all__ = [
    "ActionResult",
    "DeadLetter",
    "DeadLetterFilter",
    "Operations",
    "PlannedStep",
    "ReplayItem",
    "TransactionView",
]
