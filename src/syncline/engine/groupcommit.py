"""Group commit: many sagas' journal lines, completions and failures in ONE database transaction.

Why: a durable commit costs an fsync (SQLite) or a WAL flush (PostgreSQL), milliseconds each. A
saga that commits each step alone is bound by that latency. Here every in-flight saga hands its
write to the committer and awaits a future; a single flusher takes everything queued, writes it
with multi-row statements in one transaction, commits, and only then resolves the futures (on
PostgreSQL the usual batch, journal lines and completions only, is a single statement that
commits by itself, sent from the event loop itself: `AsyncWriter`). So the invariant "a step's
outcome is durable before the next step starts" still holds for every saga, while hundreds of
sagas share each commit.

If the commit fails, every waiter gets the error (classified transient by the ledger), and nothing
of that batch counts as done.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from syncline.ledger import ClaimedDelivery, Lease, PinnedWriter, SqlLedger, SqlSession, StepRecord
from syncline.ledger.async_writer import AsyncWriter
from syncline.ledger.batch import Journals, StateChange, TransactionStart

T = TypeVar("T")

#: Writes queued before a flush is started beside one already running (see `_worth_overlapping`).
OVERLAP_AT = 128

#: Rows a saga's journal holds back for the commit that ends its run (transaction row, last
#: journal line, terminal state): they land in the same transaction as the delivery's outcome.
Held = StateChange | TransactionStart | StepRecord


@dataclass(frozen=True)
class _Failed:
    """Marks a queued call that raised inside its savepoint."""

    error: Exception


@dataclass
class _Batch:
    starts: list[TransactionStart] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    states: list[StateChange] = field(default_factory=list)
    completions: list[Lease] = field(default_factory=list)
    failures: list[tuple[Lease, str, str, datetime]] = field(default_factory=list)
    parks: list[tuple[Lease, str, str]] = field(default_factory=list)
    defers: list[tuple[Lease, datetime, str | None]] = field(default_factory=list)
    calls: list[tuple[Callable[[SqlSession], Any], asyncio.Future[Any]]] = field(default_factory=list)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.waiters) + len(self.calls)

    @property
    def journal_only(self) -> bool:
        """Only journal writes and completions: one statement on PostgreSQL, no transaction."""
        return not (self.failures or self.parks or self.defers or self.calls)


class GroupCommitter:
    """Queues ledger writes from many coroutines and commits them together."""

    def __init__(self, ledger: SqlLedger, *, parallel: int | None = None) -> None:
        self.ledger = ledger
        # SQLite has one writer: concurrent flushes would only queue on its lock. PostgreSQL commits
        # concurrently, so overlapping two or three flushes hides each one's round trips (when
        # enough is queued to be worth it: `_worth_overlapping`).
        self.parallel = parallel or (1 if ledger.flavor.name == "sqlite" else 3)
        self._batch = _Batch()
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="syncline-commit")
        # PostgreSQL: journal-only batches and claims go out from the loop itself (see AsyncWriter).
        self._async = AsyncWriter(ledger) if ledger.flavor.name == "postgresql" else None
        # Each flush thread keeps its own connection (see PinnedWriter for why and what it saves).
        self._thread_writer = threading.local()
        self._writers: list[PinnedWriter] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.commits = 0
        self.writes = 0

    def start(self) -> None:
        """Start the flusher on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush_forever())

    async def close(self) -> None:
        """Flush what is queued, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        self._executor.shutdown(wait=True)
        if self._async is not None:
            await self._async.close()
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def _enqueue(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._batch.waiters.append(future)
        self._wakeup.set()
        return future

    def start_transaction(self, start: TransactionStart) -> asyncio.Future[None]:
        """Create the transaction row (idempotent); resolves when committed."""
        self._batch.starts.append(start)
        return self._enqueue()

    def record_step(self, record: StepRecord, start: TransactionStart | None = None) -> asyncio.Future[None]:
        """Journal one step (with its transaction row, the first time); resolves when committed."""
        if start is not None:
            self._batch.starts.append(start)
        self._batch.steps.append(record)
        return self._enqueue()

    def set_state(self, change: StateChange, start: TransactionStart | None = None) -> asyncio.Future[None]:
        """Move a transaction to a new state (creating its row first if given); resolves when committed."""
        if start is not None:
            self._batch.starts.append(start)
        self._batch.states.append(change)
        return self._enqueue()

    def complete(self, lease: Lease, *final: Held) -> asyncio.Future[None]:
        """Mark a delivery done, with its transaction's final state in the same commit."""
        self._add_final(final)
        self._batch.completions.append(lease)
        return self._enqueue()

    def _add_final(self, final: tuple[Held, ...]) -> None:
        for item in final:
            if isinstance(item, TransactionStart):
                self._batch.starts.append(item)
            elif isinstance(item, StepRecord):
                self._batch.steps.append(item)
            else:
                self._batch.states.append(item)

    def fail(self, lease: Lease, error_class: str, message: str, retry_at: datetime) -> asyncio.Future[None]:
        """Schedule a retry at `retry_at`; resolves when committed."""
        self._batch.failures.append((lease, error_class, message, retry_at))
        return self._enqueue()

    def park(self, lease: Lease, error_class: str, message: str, *final: Held) -> asyncio.Future[None]:
        """Dead-letter a delivery (with its transaction's new state in the same commit)."""
        self._add_final(final)
        self._batch.parks.append((lease, error_class, message))
        return self._enqueue()

    def defer(self, lease: Lease, until: datetime, waiting_for: str | None = None) -> asyncio.Future[None]:
        """Give a waiting delivery back until `until` or until intake sees `waiting_for` (no attempt)."""
        self._batch.defers.append((lease, until, waiting_for))
        return self._enqueue()

    def call(self, operation: Callable[[SqlSession], T]) -> asyncio.Future[T]:
        """Run any session operation inside the next group transaction; resolves to its result."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._batch.calls.append((operation, future))
        self._wakeup.set()
        return future

    async def claim(
        self,
        consumer: str,
        worker_id: str,
        limit: int,
        lease_s: float,
        transaction_of: Callable[[ClaimedDelivery], str],
    ) -> tuple[list[ClaimedDelivery], Journals]:
        """Claim up to `limit` due heads of `consumer`, with the journals of their transactions
        (named by `transaction_of`): a resumed saga starts from them without a read of its own.

        PostgreSQL: beside the group commits, from the loop (`AsyncWriter`). Why beside: a claim
        takes several times as long as a flush of journal lines (it updates rows in six indexes
        and returns them with their events); queued into a group commit it held up every saga
        waiting on that commit (measured with four I/O-bound workers: flushes carrying a claim
        took 36-51 ms against 6-8 ms without). SQLite has one writer, so there the claim joins
        the next group commit.
        """
        if self._async is None:

            def claim(session: SqlSession) -> tuple[list[ClaimedDelivery], Journals]:
                items = session.claim_heads(consumer, worker_id, limit, lease_s)
                return items, session.steps_of_many([transaction_of(item) for item in items])

            return await self.call(claim)
        items = await self._async.claim(consumer, worker_id, limit, lease_s)
        return items, await self._async.journals([transaction_of(item) for item in items])

    async def _flush_forever(self) -> None:
        """Start a flush whenever writes are queued and fewer than `parallel` flushes are running.

        Every write a caller awaits is in exactly one batch, so any order of commits between
        concurrent batches is safe: a saga's next write is only queued after its previous one
        committed, and rows that reference each other (a transaction and its first step, a
        completion and the final state) are always queued into the same batch.
        """
        running: set[asyncio.Task[None]] = set()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while len(self._batch) and len(running) < self.parallel and self._worth_overlapping(running):
                batch, self._batch = self._batch, _Batch()
                task = asyncio.get_running_loop().create_task(self._flush(batch))
                running.add(task)
                task.add_done_callback(self._flush_done(running))
            if self._closing and not len(self._batch) and not running:
                return

    def _worth_overlapping(self, running: set[asyncio.Task[None]]) -> bool:
        """Start a flush beside running ones only when enough is queued to fill it.

        A flush has a fixed cost (a transaction, one statement per row kind, a thread hand-off)
        whatever its size. When writes trickle in (sagas waiting on slow endpoints), overlapping
        flushes only splits them into more, smaller commits: on a machine whose cores are the
        limit, that cost four I/O-bound workers 15-25% of their throughput. Waiting for the
        running flush lets the queue grow into one larger commit; a backlog of OVERLAP_AT writes
        or more (a burst) still gets the overlap that hides each flush's round trips.
        """
        return not running or len(self._batch) >= OVERLAP_AT

    def _flush_done(self, running: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            running.discard(task)
            self._wakeup.set()

        return done

    async def _flush(self, batch: _Batch) -> None:
        try:
            results = await self._commit(batch)
        except Exception as error:
            for future in batch.waiters:
                if not future.done():
                    future.set_exception(error)
            for _, future in batch.calls:
                if not future.done():
                    future.set_exception(error)
            return
        self.commits += 1
        self.writes += len(batch)
        for future in batch.waiters:
            if not future.done():
                future.set_result(None)
        for (_, future), result in zip(batch.calls, results, strict=True):
            if future.done():
                continue
            if isinstance(result, _Failed):
                future.set_exception(result.error)
            else:
                future.set_result(result)

    async def _commit(self, batch: _Batch) -> list[Any]:
        """Commit a batch; the results of its queued calls, in order.

        On PostgreSQL a batch of journal writes alone (the usual case) is one statement that
        commits by itself, sent from the loop; anything else is one transaction on a flush thread.
        """
        journal = (batch.starts, batch.steps, batch.states, batch.completions)
        if self._async is not None and batch.journal_only:
            await self._async.write_journal(*journal)
            return []
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._write, batch)

    def _write(self, batch: _Batch) -> list[Any]:
        """The one transaction: the journal's writes first (one statement on PostgreSQL), then
        failures, parks, defers and queued calls."""
        with self._writer().transaction() as session:
            session.write_journal(batch.starts, batch.steps, batch.states, batch.completions)
            for lease, error_class, message, retry_at in batch.failures:
                session.fail(lease, error_class, message, retry_at)
            for lease, error_class, message in batch.parks:
                session.park(lease, error_class, message)
            for lease, until, waiting_for in batch.defers:
                session.defer(lease, until, waiting_for=waiting_for)
            return [self._isolated(session, operation) for operation, _ in batch.calls]

    def _writer(self) -> PinnedWriter:
        """This flush thread's writer, created on the thread's first flush."""
        writer: PinnedWriter | None = getattr(self._thread_writer, "writer", None)
        if writer is None:
            writer = self._thread_writer.writer = PinnedWriter(self.ledger)
            self._writers.append(writer)
        return writer

    @staticmethod
    def _isolated(session: SqlSession, operation: Callable[[SqlSession], Any]) -> Any:
        """Run one queued call in a savepoint: its failure rolls back only itself, not the batch."""
        try:
            with session.conn.begin_nested():
                return operation(session)
        except Exception as error:
            return _Failed(error)


__all__ = ["GroupCommitter", "Held"]
