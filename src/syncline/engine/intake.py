"""Intake: validate, de-duplicate and persist incoming events; acknowledge only after commit.

DESIGN.md invariants 1 and 2: `accept` returns only once the events are committed, so a source that
gets our answer may forget the event; and a redelivered event (same deterministic id) is dropped by
the ledger's unique index, not by asking "does it exist?" first, so two racing deliveries cannot
both win. Each invalid event is refused on its own with the contract's field-by-field reasons; the
valid ones of the same batch are still accepted.

Intake assigns a W3C `traceparent` when the source sent none (invariant 8): from here on every
step, outbound call, log line and span of this event's work carries the same trace id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncline.contracts.catalog import validate_event
from syncline.contracts.envelope import EventEnvelope
from syncline.contracts.errors import ContractError
from syncline.engine.registry import FlowRegistry
from syncline.engine.saga import wait_key
from syncline.engine.tracing import new_trace
from syncline.ledger import Ledger, NewEvent

#: Envelope attributes stored in their own columns; the rest go to `attributes`.
_COLUMN_ATTRIBUTES = frozenset(
    {"id", "type", "source", "subject", "partitionkey", "correlationid", "causationid", "traceparent", "time"}
)

IncomingEvent = EventEnvelope | Mapping[str, Any] | bytes | str


@dataclass(frozen=True)
class RejectedEvent:
    """One event intake refused, and why, field by field."""

    index: int
    event_id: str | None
    message: str
    problems: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the HTTP answer."""
        return {
            "index": self.index,
            "id": self.event_id,
            "error": self.message,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class AcceptResult:
    """What happened to each event of a batch; all accepted ones are committed when this exists."""

    accepted: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    rejected: tuple[RejectedEvent, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True when no event was refused."""
        return not self.rejected


def _parse(item: IncomingEvent) -> EventEnvelope:
    if isinstance(item, EventEnvelope):
        return item
    if isinstance(item, bytes | str):
        return EventEnvelope.from_json(item)
    return EventEnvelope.from_dict(dict(item))


def _id_of(item: IncomingEvent) -> str | None:
    if isinstance(item, EventEnvelope):
        return item.id
    if isinstance(item, Mapping):
        value = item.get("id")
        return str(value) if value is not None else None
    try:
        document = json.loads(item)
    except (ValueError, TypeError):
        return None
    return str(document.get("id")) if isinstance(document, dict) and document.get("id") else None


def to_new_event(envelope: EventEnvelope, priority: int = 0) -> NewEvent:
    """The ledger's plain-data form of a validated envelope (a trace is assigned if absent)."""
    attributes = {k: v for k, v in envelope.attributes().items() if k not in _COLUMN_ATTRIBUTES}
    return NewEvent(
        event_id=envelope.id,
        type=envelope.type,
        source=envelope.source,
        subject=envelope.subject,
        ordering_key=envelope.partitionkey,
        payload=envelope.data,
        correlation_id=envelope.correlationid,
        causation_id=envelope.causationid,
        traceparent=envelope.traceparent or new_trace().traceparent,
        occurred_at=envelope.time,
        priority=priority,
        attributes=attributes,
    )


class Intake:
    """Validates against the catalog, routes to the flows the registry knows, persists in one commit."""

    def __init__(self, ledger: Ledger, registry: FlowRegistry) -> None:
        self.ledger = ledger
        self.registry = registry

    def validate(
        self, events: Sequence[IncomingEvent], *, source_system: str | None = None
    ) -> tuple[list[EventEnvelope], list[RejectedEvent]]:
        """Split a batch into valid envelopes and refused events with their reasons."""
        valid: list[EventEnvelope] = []
        rejected: list[RejectedEvent] = []
        for index, item in enumerate(events):
            try:
                envelope = _parse(item)
                validate_event(envelope)
            except ContractError as error:
                problems = tuple(str(problem) for problem in error.problems)
                rejected.append(RejectedEvent(index, _id_of(item), error.message, problems))
                continue
            if source_system is not None and envelope.source.split(":")[2] != source_system:
                message = f"event source {envelope.source} is not from {source_system}"
                rejected.append(RejectedEvent(index, envelope.id, message))
                continue
            valid.append(envelope)
        return valid, rejected

    def accept(
        self,
        events: Sequence[IncomingEvent],
        *,
        source_system: str | None = None,
        checkpoint: tuple[str, str] | None = None,
    ) -> AcceptResult:
        """Validate, then persist the valid events (and the source checkpoint) in one transaction."""
        valid, rejected = self.validate(events, source_system=source_system)
        batch = [to_new_event(envelope, self.registry.priority_for(envelope.type)) for envelope in valid]
        awaited = self.registry.awaited_types
        with self.ledger.transaction() as session:
            result = session.append_events(batch, lambda event: self.registry.consumers_for(event.type))
            appended = set(result.appended_ids)
            arrivals = [e for e in valid if e.type in awaited and e.id in appended]
            # Sagas waiting for one of these events become due in this same commit: the wait ends
            # when the event is durable, not at the waiting saga's next scheduled look.
            session.wake_waiting([wait_key(e.type, e.subject) for e in arrivals])
            if checkpoint is not None:
                session.set_checkpoint(*checkpoint)
        return AcceptResult(result.appended_ids, result.duplicates, tuple(rejected))


__all__ = ["AcceptResult", "IncomingEvent", "Intake", "RejectedEvent", "to_new_event"]
