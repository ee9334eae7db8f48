"""Outbox relay: publish durable canonical events to the bus, at-least-once, from a stored position.

The relay reads the ledger's events (the outbox) after its checkpoint, in an order no later commit
can precede (an `OutboxCursor`: transaction id, then position), publishes each, and only then
advances the checkpoint. A crash between publish and checkpoint re-publishes
a few events; the bus drops them by event id (`Nats-Msg-Id`), so consumers see each event once.
The ledger stays the system of record: losing the bus loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from syncline.engine.bus import Bus, BusMessage
from syncline.ledger import OutboxCursor
from syncline.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class OutboxRecord:
    """An event at its place in the outbox (cursors strictly increase along a read)."""

    cursor: OutboxCursor
    message: BusMessage

    @property
    def position(self) -> int:
        """The event's global position in the ledger."""
        return self.cursor.position


class Outbox(Protocol):
    """What the relay needs from the ledger: ordered reads and a named checkpoint."""

    def read_after(self, cursor: OutboxCursor, limit: int) -> Sequence[OutboxRecord]:
        """Events after `cursor`, in cursor order, at most `limit`; never one a later read precedes."""
        ...

    def load_position(self, name: str) -> OutboxCursor:
        """The checkpoint of relay `name` (the start when it never ran)."""
        ...

    def save_position(self, name: str, cursor: OutboxCursor) -> None:
        """Durably store the checkpoint of relay `name`."""
        ...


@dataclass(frozen=True)
class RelayPass:
    """What one pass did."""

    published: int
    duplicates: int
    cursor: OutboxCursor

    @property
    def position(self) -> int:
        """The position of the checkpoint after this pass."""
        return self.cursor.position


class OutboxRelay:
    """Moves events from the outbox to the bus; run one per bus target (checkpoint `name`)."""

    def __init__(self, outbox: Outbox, bus: Bus, *, name: str = "relay", batch_size: int = 500) -> None:
        self.outbox = outbox
        self.bus = bus
        self.name = name
        self.batch_size = batch_size
        self.published = 0
        self.duplicates = 0

    async def run_once(self) -> RelayPass:
        """Publish one batch after the checkpoint, then advance the checkpoint past it."""
        cursor = await asyncio.to_thread(self.outbox.load_position, self.name)
        records = await asyncio.to_thread(self.outbox.read_after, cursor, self.batch_size)
        published = duplicates = 0
        for record in records:
            result = await self.bus.publish(record.message)
            duplicates += result.duplicate
            published += not result.duplicate
            cursor = record.cursor
        if records:
            await asyncio.to_thread(self.outbox.save_position, self.name, cursor)
        self.published += published
        self.duplicates += duplicates
        return RelayPass(published, duplicates, cursor)

    async def catch_up(self) -> int:
        """Publish everything pending now (passes until one finds nothing); returns how many."""
        total = 0
        while (done := await self.run_once()).published + done.duplicates:
            total += done.published
        return total

    async def run(self, stop: asyncio.Event, *, idle_s: float = 0.5) -> None:
        """Relay until `stop` is set; an empty pass waits `idle_s` (or until stopped)."""
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception as exc:  # the bus may be down; the outbox keeps everything, try again
                log.warning("relay_pass_failed", relay=self.name, error=str(exc))
                done = RelayPass(0, 0, OutboxCursor())
            if done.published + done.duplicates < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle_s)


__all__ = ["Outbox", "OutboxRecord", "OutboxRelay", "RelayPass"]
