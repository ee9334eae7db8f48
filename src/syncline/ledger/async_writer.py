"""The engine's hottest ledger statements on psycopg's asyncio connections (PostgreSQL only).

Why: a worker's group commit and its claims ran on threads (a `PinnedWriter` each), so every
commit crossed threads twice: the event loop handed the batch to a flush thread, which woke the
loop again with the result, and both took turns at the GIL with the loop's sagas. On a machine
whose cores are all busy each of those wake-ups waits for a core; measured with four I/O-bound
workers on two cores, a worker thread waited 0.7 ms on the run queue per wake-up. Here the loop
sends the statement itself and the socket wakes it when PostgreSQL answers: one wake-up, no
thread, no GIL hand-over. Measured: worker CPU per saga 0.67 -> 0.58 ms, four workers +3-4%.

The statements are the ones a session runs (`JournalShapes.journal_statement`,
`CLAIM_WITH_EVENTS_PG`, `STEPS_OF_PG`), each ONE statement that commits by itself (autocommit),
so nothing here is ever half-written. Connections run like the kept writer's (`PinnedWriter`):
TimeZone=UTC and `enable_seqscan` off. A connection that breaks is dropped and the statement
fails as TransientError, like any ledger outage; the next statement opens a fresh one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads

from syncline.errors import TransientError
from syncline.ledger.base import SqlLedger
from syncline.ledger.batch import (
    CLAIM_WITH_EVENTS_PG,
    STEPS_OF_PG,
    Journals,
    JournalShapes,
    StateChange,
    TransactionStart,
    claimed_from_row,
    journals_from_rows,
)
from syncline.ledger.pinned import KEY_PLANS
from syncline.ledger.postgres import load_json, session_options
from syncline.ledger.records import ClaimedDelivery, Lease, StepRecord


class AsyncWriter:
    """Journal writes and claims for one worker's event loop; keeps its connections between uses."""

    def __init__(self, ledger: SqlLedger) -> None:
        if ledger.flavor.name != "postgresql":
            raise ValueError(f"AsyncWriter needs a PostgreSQL ledger, not {ledger.flavor.name}")
        self.shapes = JournalShapes(ledger.flavor, ledger.clock)
        _, params = ledger.engine.dialect.create_connect_args(ledger.engine.url)
        self._connect_params: dict[str, Any] = {
            **params,
            "options": f"{session_options(ledger.engine.url)} -c enable_seqscan={KEY_PLANS}",
            "autocommit": True,
        }
        self._idle: list[psycopg.AsyncConnection[Any]] = []

    async def write_journal(
        self,
        starts: Sequence[TransactionStart] = (),
        records: Sequence[StepRecord] = (),
        changes: Sequence[StateChange] = (),
        leases: Sequence[Lease] = (),
    ) -> list[int]:
        """`BatchOperations.write_journal` on PostgreSQL: one statement; the completed delivery ids."""
        statement = self.shapes.journal_statement(starts, records, changes, leases, self.shapes.clock())
        async with self._connection() as conn:
            return await statement.run_async(conn)

    async def claim(
        self, consumer: str, worker_id: str, limit: int, lease_seconds: float
    ) -> list[ClaimedDelivery]:
        """`BatchOperations.claim_heads`: up to `limit` due heads, with their events, leased."""
        params = self.shapes.claim_params(consumer, worker_id, limit, lease_seconds)
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(CLAIM_WITH_EVENTS_PG, params)
            return [claimed_from_row(row, worker_id) for row in await cursor.fetchall()]

    async def journals(self, transaction_ids: Sequence[str]) -> Journals:
        """`BatchOperations.steps_of_many`: {transaction id: {step no: line}}. Read after the claim
        has committed: from then on only the lease holder writes those journals."""
        if not transaction_ids:
            return {}
        async with self._connection() as conn, conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(STEPS_OF_PG, (list(transaction_ids),))
            return journals_from_rows(transaction_ids, await cursor.fetchall())

    async def close(self) -> None:
        """Close the kept connections."""
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A kept connection (opened if none is free), given back after use unless it broke."""
        conn = self._idle.pop() if self._idle else None
        reusable = False
        try:
            if conn is None:
                conn = await psycopg.AsyncConnection.connect(**self._connect_params)
                set_json_loads(load_json, conn)  # as the engine's sessions decode JSON columns
            yield conn
            reusable = True
        except psycopg.OperationalError as error:
            raise TransientError(f"ledger unavailable: {error}", system="ledger") from error
        except psycopg.Error:
            reusable = True  # the statement failed, not the connection (each commits alone)
            raise
        finally:
            if conn is not None:
                await self._keep_or_close(conn, reusable)

    async def _keep_or_close(self, conn: psycopg.AsyncConnection[Any], reusable: bool) -> None:
        """Keep an idle, healthy connection; close anything else (broken, or left mid-statement
        by a cancelled task)."""
        idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if reusable and idle and not conn.broken:
            self._idle.append(conn)
        else:
            await conn.close()


__all__ = ["AsyncWriter"]
