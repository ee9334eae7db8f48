"""The sandbox's notion of now, injectable so tests expire tokens and age CDC retention instantly.

Real time keeps flowing unless the clock is frozen (option `frozen_at`); `advance` shifts it
forward. Every timestamp the sandbox writes (record dates, token expiry, event commit times, the
rolling API-usage window) comes from here.
"""

from __future__ import annotations

import datetime as dt
import threading


class SandboxClock:
    """Wall clock plus an offset; optionally frozen at a fixed instant."""

    def __init__(self, frozen_at: dt.datetime | None = None, offset_s: float = 0.0) -> None:
        if frozen_at is not None and frozen_at.tzinfo is None:
            raise ValueError("frozen_at must be timezone-aware (UTC)")
        self._frozen_at = frozen_at
        self._offset = dt.timedelta(seconds=offset_s)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            base = self._frozen_at or dt.datetime.now(dt.UTC)
            return (base + self._offset).astimezone(dt.UTC)

    def advance(self, seconds: float) -> dt.datetime:
        """Move time forward (never backward: timestamps and replay order must stay monotonic)."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += dt.timedelta(seconds=seconds)
        return self.now()

    @property
    def offset_s(self) -> float:
        return self._offset.total_seconds()


__all__ = ["SandboxClock"]
