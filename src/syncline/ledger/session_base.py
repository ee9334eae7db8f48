"""What every group of ledger operations shares: the open connection, the flavor and the clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from syncline.ledger.flavor import Clock, Flavor
from syncline.ledger.types import require_aware


class SessionBase:
    """One database transaction; the operation mixins read and write through `self.conn`."""

    def __init__(self, conn: Connection, flavor: Flavor, clock: Clock) -> None:
        self.conn = conn
        self.flavor = flavor
        self.clock = clock

    def _now(self, now: datetime | None = None, name: str = "now") -> datetime:
        """The caller's `now` (checked to be aware) or the ledger's clock."""
        return require_aware(now, name) if now is not None else require_aware(self.clock(), "clock()")


__all__ = ["SessionBase"]
