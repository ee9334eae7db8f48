"""Keeps this installation within its share of the NetSuite account's concurrency limit.

NetSuite meters requests *in flight* per account and answers the one over the limit with 429, so a
token bucket is the wrong tool: what must be bounded is concurrency. Every flow in a process shares
one governor per account (`governor_for`); with PostgreSQL, worker processes also share database
slots (`PostgresGovernor`, built on `engine.distributed_semaphore`). Callers over the limit wait
their turn; they never fail for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator
from typing import Protocol

from syncline.engine.distributed_semaphore import PostgresSemaphore


class ConcurrencyGovernor(Protocol):
    """Bounds concurrent requests; `slot()` waits until one is free."""

    limit: int

    def slot(self) -> contextlib.AbstractAsyncContextManager[None]: ...


class LocalGovernor:
    """An asyncio semaphore per event loop (a semaphore cannot be shared across loops)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"concurrency limit must be at least 1, got {limit}")
        self.limit = limit
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self.in_flight = 0
        self.peak = 0

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return semaphore

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._semaphore():
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1


class PostgresGovernor:
    """Local semaphore first (cheap), then one of the database-wide slots shared by all workers."""

    def __init__(self, conninfo: str, account_id: str, limit: int) -> None:
        self.limit = limit
        self.local = LocalGovernor(limit)
        self.shared = PostgresSemaphore(conninfo, f"syncline:netsuite:{account_id}", limit)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self.local.slot(), self.shared.slot():
            yield

    async def close(self) -> None:
        await self.shared.close()


_REGISTRY: dict[str, LocalGovernor] = {}
_REGISTRY_LOCK = threading.Lock()


def governor_for(account_id: str, limit: int) -> LocalGovernor:
    """The process-wide governor of one account: every connector instance for it shares the slots."""
    with _REGISTRY_LOCK:
        governor = _REGISTRY.get(account_id)
        if governor is None or governor.limit != limit:
            governor = _REGISTRY[account_id] = LocalGovernor(limit)
        return governor


__all__ = ["ConcurrencyGovernor", "LocalGovernor", "PostgresGovernor", "governor_for"]
