"""What every group of ledger operations shares: the open connection, the flavor and the clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from syncline.ledger.flavor import Clock, Flavor
from syncline.ledger.types import require_aware


class Stamped:
    """The flavor and the clock: all that building rows and statements needs, without a connection
    (the engine's asyncio writer builds the same statements as a session, see `async_writer`)."""

    def __init__(self, flavor: Flavor, clock: Clock) -> None:
        self.flavor = flavor
        self.clock = clock

    def _now(self, now: datetime | None = None, name: str = "now") -> datetime:
        """The caller's `now` (checked to be aware) or the ledger's clock."""
        return require_aware(now, name) if now is not None else require_aware(self.clock(), "clock()")


class SessionBase(Stamped):
    """One database transaction; the operation mixins read and write through `self.conn`."""

    def __init__(self, conn: Connection, flavor: Flavor, clock: Clock) -> None:
        super().__init__(flavor, clock)
        self.conn = conn


__all__ = ["SessionBase", "Stamped"]
