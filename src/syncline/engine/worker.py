"""The worker: claim the head item of each key, run many sagas at once, never sleep on a failure.

One asyncio loop per process. It claims due heads (one per ordering key, DESIGN.md invariant 4) in
batches, runs up to `concurrency` sagas concurrently (I/O-bound steps overlap: hundreds of calls in
flight), extends its leases by heartbeat, and commits journal lines, completions and failures in
groups (see groupcommit.py). On PostgreSQL a claim runs beside those group commits
(`GroupCommitter.claim`: a claim is slow and would hold up every saga waiting on the commit it
rode in); on SQLite, whose single writer serialises everything, it joins the group commit.

What happens to a failure depends only on its class (invariant 5):
* transient / rate-limited: `next_attempt_at` from the retry policy (Retry-After honoured); the item
  keeps the head of its key; after the last attempt it is dead-lettered (parked).
* business rejection / conflict: exception task + `sync.exception.raised`, parked, never retried.
* auth: retried once at once (the connector refreshes its credentials), then dead-lettered.
* contract violation, configuration: dead-lettered at once.
A parked item blocks the later items of its key until replayed or skipped (invariant 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from syncline.engine.classify import classify
from syncline.engine.exceptions import hold_for_person
from syncline.engine.groupcommit import GroupCommitter
from syncline.engine.journal import LedgerJournal
from syncline.engine.registry import FlowRegistry
from syncline.engine.retry import DEFAULT_RETRY_POLICY, Clock, RetryPolicy, utc_now
from syncline.engine.saga import SagaRunner, SagaState, WaitPending, transaction_id
from syncline.engine.tracing import bind_trace, traceparent_or_new
from syncline.errors import AuthError, BusinessRejection, ConflictError, ErrorClass, SynclineError
from syncline.ledger import ClaimedDelivery, SqlLedger, SqlSession
from syncline.ledger.batch import StateChange, TransactionStart
from syncline.logs import get_logger

log = get_logger(__name__)


def default_worker_id() -> str:
    """host:pid:random — unique per process, readable in `lease_owner`."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class WorkerConfig:
    """How much one worker process takes on, and its lease timing."""

    worker_id: str = field(default_factory=default_worker_id)
    concurrency: int = 256
    lease_s: float = 30.0
    heartbeat_every_s: float = 10.0
    reclaim_every_s: float = 5.0
    idle_poll_s: float = 0.2
    consumers: tuple[str, ...] = ()


@dataclass
class WorkerStats:
    """Counters a worker keeps (for tests, bench and metrics)."""

    claimed: int = 0
    completed: int = 0
    retried: int = 0
    parked: int = 0
    held: int = 0
    deferred: int = 0
    peak_in_flight: int = 0


class Worker:
    """Runs the registered flows' deliveries from one ledger."""

    def __init__(
        self,
        ledger: SqlLedger,
        registry: FlowRegistry,
        config: WorkerConfig | None = None,
        *,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        clock: Clock = utc_now,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.ledger = ledger
        self.registry = registry
        self.config = config or WorkerConfig()
        self.retry_policy = retry_policy
        self.clock = clock
        self.rand = rand
        self.committer = GroupCommitter(ledger)
        self.journal = LedgerJournal(ledger, self.committer)
        self.runner = SagaRunner(self.journal, clock=clock)
        self.stats = WorkerStats()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._leases: dict[int, ClaimedDelivery] = {}
        self._progress = asyncio.Event()
        self._next_consumer = 0

    @property
    def consumers(self) -> tuple[str, ...]:
        """Flow names this worker claims for (all registered flows unless configured)."""
        return self.config.consumers or self.registry.names

    @property
    def in_flight(self) -> int:
        """Sagas running right now."""
        return len(self._tasks)

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run until `stop` is set, then finish what is in flight."""
        self.committer.start()
        background = [
            asyncio.create_task(self._every(self.config.heartbeat_every_s, self._heartbeat, stop)),
            asyncio.create_task(self._every(self.config.reclaim_every_s, self._reclaim, stop)),
        ]
        try:
            while not stop.is_set():
                claimed = await self._claim_if_room()
                if not claimed:
                    await self._wait_for_progress(stop)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            await self.committer.close()

    async def drain(self) -> WorkerStats:
        """Run until nothing is due and nothing is in flight (tests and batch jobs)."""
        self.committer.start()
        stop = asyncio.Event()
        heartbeat = asyncio.create_task(self._every(self.config.heartbeat_every_s, self._heartbeat, stop))
        try:
            while True:
                claimed = await self._claim_if_room()
                if not claimed and not self._tasks:
                    return self.stats
                if not claimed:
                    self._progress.clear()
                    await self._progress.wait()
        finally:
            stop.set()
            await asyncio.gather(*self._tasks.values(), heartbeat, return_exceptions=True)
            await self.committer.close()

    async def _claim_if_room(self) -> list[ClaimedDelivery]:
        room = self.config.concurrency - len(self._tasks)
        if room <= 0 or (self._tasks and room < max(1, self.config.concurrency // 16)):
            return []
        claimed: list[ClaimedDelivery] = []
        consumers = self.consumers
        for offset in range(len(consumers)):
            consumer = consumers[(self._next_consumer + offset) % len(consumers)]
            claimed.extend(await self._claim(consumer, room - len(claimed)))
            if len(claimed) >= room:
                break
        self._next_consumer += 1
        for item in claimed:
            self._spawn(item)
        return claimed

    async def _claim(self, consumer: str, limit: int) -> list[ClaimedDelivery]:
        items, journals = await self.committer.claim(
            consumer,
            self.config.worker_id,
            limit,
            self.config.lease_s,
            lambda item: transaction_id(consumer, item.event.event_id),
        )
        for tx, lines in journals.items():
            self.journal.preloaded[tx] = lines
        self.stats.claimed += len(items)
        return items

    def _spawn(self, claimed: ClaimedDelivery) -> None:
        delivery_id = claimed.delivery.id
        self._leases[delivery_id] = claimed
        task = asyncio.create_task(self._process(claimed))
        self._tasks[delivery_id] = task
        self.stats.peak_in_flight = max(self.stats.peak_in_flight, len(self._tasks))

        def done(_: asyncio.Task[None]) -> None:
            self._tasks.pop(delivery_id, None)
            self._leases.pop(delivery_id, None)
            self._progress.set()

        task.add_done_callback(done)

    async def _process(self, claimed: ClaimedDelivery) -> None:
        flow = self.registry.flow(claimed.delivery.consumer)
        trace = traceparent_or_new(claimed.event.traceparent)
        with bind_trace(trace, event_id=claimed.event.event_id, flow=flow.name, delivery=claimed.delivery.id):
            try:
                await self.runner.run(flow, claimed.event, trace=trace, attempt=claimed.delivery.attempts)
            except WaitPending as waiting:
                await self.committer.defer(claimed.lease, waiting.until, waiting.wakes_on)
                self.stats.deferred += 1
                return
            except Exception as exc:
                try:
                    await self._on_failure(claimed, classify(exc), trace.traceparent)
                except Exception as secondary:  # the lease stays; expiry and reclaim retry the item
                    log.error("failure_not_recorded", error=str(secondary), delivery=claimed.delivery.id)
                return
            tx = transaction_id(flow.name, claimed.event.event_id)
            await self.committer.complete(claimed.lease, *self.journal.take_final(tx))
            self.stats.completed += 1

    async def _on_failure(self, claimed: ClaimedDelivery, error: SynclineError, traceparent: str) -> None:
        tx = transaction_id(claimed.delivery.consumer, claimed.event.event_id)
        pending_start = [item for item in self.journal.take_final(tx) if isinstance(item, TransactionStart)]
        error_class, message = str(error.error_class), str(error)[:2000]
        try:
            await self._record_failure(claimed, tx, error, (error_class, message, traceparent), pending_start)
        finally:  # logged after the ledger has it: a broken log sink must not lose the outcome
            log.warning(
                "step_failed", error_class=error_class, error=message, attempt=claimed.delivery.attempts
            )

    async def _record_failure(
        self,
        claimed: ClaimedDelivery,
        tx: str,
        error: SynclineError,
        described: tuple[str, str, str],
        pending_start: list[TransactionStart],
    ) -> None:
        error_class, message, traceparent = described
        if isinstance(error, BusinessRejection | ConflictError):
            consumers = self.registry.consumers_for("syncline.sync.exception.raised.v1")

            def hold(session: SqlSession) -> str:
                session.start_transactions(pending_start)
                return hold_for_person(
                    session, claimed, tx, error, consumers=consumers, traceparent=traceparent
                )

            await self.committer.call(hold)
            self.stats.held += 1
            return
        if isinstance(error, AuthError) and claimed.delivery.last_error_class != str(ErrorClass.AUTH):
            # Refresh once, then escalate: the next attempt (now) lets the connector renew its token;
            # a second auth failure in a row is dead-lettered below like any non-retryable error.
            await self.committer.fail(claimed.lease, error_class, message, self.clock())
            self.stats.retried += 1
            return
        decision = self.retry_policy.decide(
            claimed.delivery.attempts, error, clock=self.clock, rand=self.rand
        )
        if decision.retry and decision.next_attempt_at is not None:
            await self.committer.fail(claimed.lease, error_class, message, decision.next_attempt_at)
            self.stats.retried += 1
            return
        dead = StateChange(tx, SagaState.DEAD_LETTERED.value)
        await self.committer.park(claimed.lease, error_class, message, *pending_start, dead)
        self.stats.parked += 1

    async def _heartbeat(self) -> None:
        ids = list(self._leases)
        if ids:
            worker_id, lease_s = self.config.worker_id, self.config.lease_s
            await self.committer.call(lambda s: s.heartbeat(worker_id, ids, lease_s))

    async def _reclaim(self) -> None:
        reclaimed = await self.committer.call(lambda s: s.reclaim_expired())
        if reclaimed:
            log.info("leases_reclaimed", count=len(reclaimed))
            self._progress.set()

    async def _every(self, seconds: float, action: Callable[[], object], stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=seconds)
            if stop.is_set():
                return
            try:
                result = action()
                if asyncio.iscoroutine(result):
                    await result
            except Exception as error:  # a missed heartbeat is survivable; the next one retries
                log.warning("background_task_failed", error=str(error))

    async def _wait_for_progress(self, stop: asyncio.Event) -> None:
        self._progress.clear()
        waiters = [asyncio.ensure_future(self._progress.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=self.config.idle_poll_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


__all__ = ["Worker", "WorkerConfig", "WorkerStats", "default_worker_id"]
