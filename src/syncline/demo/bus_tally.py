"""A subscriber on the runtime's in-process bus that counts what it received, by event type.

The demo reports it next to the relay's own count, so "published to the bus" is shown from the
receiving side too: what an embedding application subscribing with `runtime.bus.subscribe` gets.
"""

from __future__ import annotations

from collections import Counter

from syncline.engine import BusMessage


class BusTally:
    """Counts received events per type and notices an event id delivered twice."""

    def __init__(self) -> None:
        self.by_type: Counter[str] = Counter()
        self.ids: set[str] = set()
        self.repeated = 0

    async def record(self, message: BusMessage) -> None:
        """Bus handler: one call per delivered event."""
        if message.event_id in self.ids:
            self.repeated += 1
            return
        self.ids.add(message.event_id)
        self.by_type[message.event_type] += 1


__all__ = ["BusTally"]
