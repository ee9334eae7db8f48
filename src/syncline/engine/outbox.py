"""The ledger's events table as the relay's outbox, read in an order no later commit can precede.

On PostgreSQL positions are handed out before commit, so position 11 can become visible before
10 commits; a relay that read by position and moved past 10 would never publish it. So the ledger
records each event's inserting transaction id, and the relay reads only events of transactions
below the snapshot's xmin (all finished), in (tx_id, position) order, with that pair as its
checkpoint (`ledger.committed_events_after`). An event of a transaction still running is read
once it has finished, however long that takes. On SQLite commits are serialised, so position
order is commit order and the checkpoint's tx_id stays 0.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from syncline.engine.bus import BusMessage
from syncline.engine.relay import OutboxRecord
from syncline.ledger import Ledger, OutboxCursor, StoredEvent


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
    """`relay.Outbox` over a ledger: committed events by cursor, checkpoint in the checkpoints table."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def read_after(self, cursor: OutboxCursor, limit: int) -> Sequence[OutboxRecord]:
        """Events after `cursor` that no still-running transaction can precede."""
        return [
            OutboxRecord(OutboxCursor.of(event), bus_message(event))
            for event in self.ledger.committed_events_after(cursor, limit)
        ]

    def load_position(self, name: str) -> OutboxCursor:
        """The relay's checkpoint, the start before its first run.

        A checkpoint written before the ledger recorded transaction ids is a bare position and
        reads as (0, position); events that existed then carry tx_id 0, so nothing is lost.
        """
        stored = self.ledger.get_checkpoint(f"relay:{name}")
        return OutboxCursor.parse(stored) if stored else OutboxCursor()

    def save_position(self, name: str, cursor: OutboxCursor) -> None:
        """Store the relay's checkpoint as `<tx_id>:<position>`."""
        self.ledger.set_checkpoint(f"relay:{name}", str(cursor))


__all__ = ["LedgerOutbox", "bus_message", "cloudevent_json"]
