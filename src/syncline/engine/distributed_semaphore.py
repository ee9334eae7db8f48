"""A counting semaphore shared by every worker process on one PostgreSQL database.

Why advisory locks: a slot is held by a session-level `pg_advisory_lock(namespace, slot)` on a
dedicated connection. PostgreSQL releases it the moment that session ends, so a worker that crashes
or loses its network never leaks a slot, and no lease expiry has to be guessed. Acquiring tries the
slots with `pg_try_advisory_lock` (never blocking inside PostgreSQL) and, when all are taken, waits
with jittered back-off and tries again: callers queue, they are never refused.

Correct because: at most one session can hold (namespace, slot) at a time, and there are exactly
`slots` slot numbers, so at most `slots` holders exist across all processes at any instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg


def namespace_key(name: str) -> int:
    """A stable signed 32-bit key for the semaphore's name (first argument of the advisory lock)."""
    value = zlib.crc32(name.encode())
    return value - (1 << 32) if value >= (1 << 31) else value


@dataclass
class _Held:
    connection: psycopg.AsyncConnection[tuple[object, ...]]
    slot: int


class PostgresSemaphore:
    """`async with semaphore.slot():` holds one of `slots` database-wide slots named `name`."""

    def __init__(
        self,
        conninfo: str,
        name: str,
        slots: int,
        *,
        min_wait_s: float = 0.005,
        max_wait_s: float = 0.1,
        rng: random.Random | None = None,
    ) -> None:
        if slots < 1:
            raise ValueError(f"a distributed semaphore needs at least 1 slot, got {slots}")
        self.conninfo = conninfo
        self.name = name
        self.slots = slots
        self.namespace = namespace_key(name)
        self.min_wait_s = min_wait_s
        self.max_wait_s = max_wait_s
        self._rng = rng or random.Random()
        self._idle: list[psycopg.AsyncConnection[tuple[object, ...]]] = []

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        held = await self.acquire()
        try:
            yield held.slot
        finally:
            await self.release(held)

    async def acquire(self) -> _Held:
        connection = await self._connection()
        wait = self.min_wait_s
        try:
            while True:
                slot = await self._try_any_slot(connection)
                if slot is not None:
                    return _Held(connection, slot)
                await asyncio.sleep(self._rng.uniform(0, wait))
                wait = min(self.max_wait_s, wait * 2)
        except BaseException:
            await connection.close()
            raise

    async def _try_any_slot(self, connection: psycopg.AsyncConnection[tuple[object, ...]]) -> int | None:
        order = list(range(self.slots))
        self._rng.shuffle(order)
        for slot in order:
            cursor = await connection.execute("SELECT pg_try_advisory_lock(%s, %s)", (self.namespace, slot))
            row = await cursor.fetchone()
            if row and row[0]:
                return slot
        return None

    async def release(self, held: _Held) -> None:
        try:
            await held.connection.execute("SELECT pg_advisory_unlock(%s, %s)", (self.namespace, held.slot))
        except psycopg.Error:
            await held.connection.close()  # the session ending releases the lock anyway
            return
        self._idle.append(held.connection)

    async def _connection(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


__all__ = ["PostgresSemaphore", "namespace_key"]
