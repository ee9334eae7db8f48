"""The ledger's events table as the relay's outbox, with gap detection.

Positions are handed out before commit on PostgreSQL, so position 11 can become visible before
10 commits. A relay that jumped past 10 would never publish it. So `read_after` stops at the first
gap in positions unless the event after the gap is older than `gap_grace` (a gap that old is a
rolled-back insert or a sequence value burnt by a duplicate, which is normal and permanent).
On SQLite commits are serialised and gaps are always permanent; the grace only costs a little delay.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from syncline.engine.bus import BusMessage
from syncline.engine.relay import OutboxRecord
from syncline.engine.retry import Clock, utc_now
from syncline.ledger import Ledger, StoredEvent


def cloudevent_json(event: StoredEvent) -> bytes:
    """The stored event back in CloudEvents JSON (structured mode)."""
    document: dict[str, Any] = {
        "specversion": "1.0",
        "id": event.event_id,
        "source": event.source,
        "type": event.type,
        "subject": event.subject,
        "partitionkey": event.ordering_key,
        **dict(event.attributes),
    }
    optional = {
        "time": event.occurred_at.isoformat() if event.occurred_at else None,
        "correlationid": event.correlation_id,
        "causationid": event.causation_id,
        "traceparent": event.traceparent,
    }
    document.update({key: value for key, value in optional.items() if value is not None})
    document["data"] = dict(event.payload)
    return json.dumps(document, separators=(",", ":"), default=str).encode()


def bus_message(event: StoredEvent) -> BusMessage:
    """What the relay publishes for a stored event."""
    headers = {"traceparent": event.traceparent} if event.traceparent else {}
    return BusMessage(event.event_id, event.type, cloudevent_json(event), headers)


class LedgerOutbox:
    """`relay.Outbox` over a ledger: events by position, checkpoint in the checkpoints table."""

    def __init__(
        self, ledger: Ledger, *, gap_grace: timedelta = timedelta(seconds=5), clock: Clock = utc_now
    ) -> None:
        self.ledger = ledger
        self.gap_grace = gap_grace
        self.clock = clock

    def read_after(self, position: int, limit: int) -> Sequence[OutboxRecord]:
        """Events after `position`, stopping at a fresh gap (an insert that may still commit)."""
        records: list[OutboxRecord] = []
        expected = position + 1
        for event in self.ledger.events_after(position, limit):
            if event.position != expected and self.clock() - event.recorded_at < self.gap_grace:
                break
            records.append(OutboxRecord(event.position, bus_message(event)))
            expected = event.position + 1
        return records

    def load_position(self, name: str) -> int:
        """The relay's checkpoint, 0 before its first run."""
        stored = self.ledger.get_checkpoint(f"relay:{name}")
        return int(stored) if stored else 0

    def save_position(self, name: str, position: int) -> None:
        """Store the relay's checkpoint."""
        self.ledger.set_checkpoint(f"relay:{name}", str(position))


__all__ = ["LedgerOutbox", "bus_message", "cloudevent_json"]
