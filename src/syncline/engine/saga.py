"""Sagas: a flow is a named, versioned list of steps whose outcomes are journaled one by one.

Why a journal and not a state machine in memory: the worker may die between any two instructions.
Each step's outcome is written (durably, through the group-committing `Journal`) before the next
step starts, so after a crash the transaction resumes at its first unrecorded step and never
repeats a recorded one. A step that was running when the process died runs again; its outbound
idempotency key is a pure function of (transaction id, step number, step name), so the downstream
system (Stripe `Idempotency-Key`, Salesforce/NetSuite upsert by external id) collapses the second
call into the first (DESIGN.md invariant 3).

Shapes a flow may use:
* `Step` — one call; may register a compensation that undoes it.
* `Parallel` — branches that run at once (ERP order and billing subscription); each branch is a
  step with its own journal line, so a crash re-runs only the unfinished branches.
* `Step(wait=WaitFor(...))` — wait for a correlated event (an ERP approval) with a timeout. The
  worker never sleeps on it: the saga raises `WaitPending` and the delivery is deferred until the
  event arrives or the deadline passes.
* `AbortSaga` raised by a step (or a wait timing out with `on_timeout="abort"`) runs the
  compensations of the succeeded steps in reverse order, journaling each.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, Protocol

from syncline.engine.classify import classify
from syncline.engine.retry import Clock, utc_now
from syncline.engine.tracing import TraceContext, step_span
from syncline.errors import BusinessRejection, ConfigurationError, SynclineError
from syncline.ledger.records import SETTLED_STEP_OUTCOMES, StepOutcome, StepRecord, StoredEvent

TRANSACTION_NAMESPACE = uuid.UUID("5b0f3d1e-2f4c-5a7e-9a61-3c0f6a1f2b10")


@functools.lru_cache(maxsize=8192)
def transaction_id(flow_name: str, event_id: str) -> str:
    """The transaction a flow runs for an event: the same event always resumes the same transaction.

    Cached: a worker derives it at the claim, the run and the completion of every saga, and a
    name-based UUID costs a SHA-1 and a UUID object each time.
    """
    return str(uuid.uuid5(TRANSACTION_NAMESPACE, f"{flow_name}\x1f{event_id}"))


def idempotency_key(transaction: str, step_no: int, step_name: str) -> str:
    """Outbound idempotency key of a step: a pure function of (transaction id, step), never random."""
    digest = hashlib.sha256(f"{transaction}\x1f{step_no}\x1f{step_name}".encode()).hexdigest()
    return f"sl-{digest[:40]}"


@dataclass(frozen=True)
class StepContext:
    """What a step action gets: who it is, the event that started the saga, and earlier results."""

    transaction_id: str
    step_no: int
    step_name: str
    idempotency_key: str
    event: StoredEvent
    results: Mapping[str, str | None]
    trace: TraceContext | None
    attempt: int


StepAction = Callable[[StepContext], Awaitable[str | None]]
CorrelationKey = Callable[[StepContext], str]


@dataclass(frozen=True)
class WaitFor:
    """Wait until an event of `event_type` whose subject is `correlate(ctx)` is in the ledger."""

    event_type: str
    correlate: CorrelationKey
    timeout: timedelta
    on_timeout: Literal["exception", "abort"] = "exception"
    poll_every: timedelta = timedelta(seconds=5)


@dataclass(frozen=True)
class Step:
    """One unit of work; `action` returns the external id it created (or None)."""

    name: str
    action: StepAction | None = None
    compensate: StepAction | None = None
    target_system: str | None = None
    wait: WaitFor | None = None

    def __post_init__(self) -> None:
        if (self.action is None) == (self.wait is None):
            raise ConfigurationError(f"step {self.name!r} needs exactly one of action= or wait=")


@dataclass(frozen=True)
class Parallel:
    """Branches that run concurrently; the stage ends when every branch has succeeded."""

    name: str
    branches: tuple[Step, ...]


Stage = Step | Parallel


@dataclass(frozen=True)
class Flow:
    """A named, versioned list of stages, started by the event types in `triggers`."""

    name: str
    version: int
    stages: tuple[Stage, ...]
    triggers: tuple[str, ...] = ()
    priority: int = 3

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if len(names) != len(set(names)):
            raise ConfigurationError(f"flow {self.name!r} has duplicate step names: {names}")
        if not names:
            raise ConfigurationError(f"flow {self.name!r} has no steps")

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every step in journal order; parallel branches are numbered in declaration order."""
        flat: list[Step] = []
        for stage in self.stages:
            flat.extend(stage.branches if isinstance(stage, Parallel) else (stage,))
        return tuple(flat)

    def numbered(self) -> dict[str, int]:
        """Step name -> 1-based step number (the journal's `step_no`)."""
        return {step.name: number for number, step in enumerate(self.steps, start=1)}


class AbortSaga(SynclineError):
    """Raised by a step to give the transaction up: compensations run in reverse, nothing retries."""


class WaitPending(SynclineError):
    """The saga waits; the worker defers the delivery until `until`.

    `wakes_on` (a `wait_key`) names the event that ends the wait: intake makes the delivery due as
    soon as that event is accepted, so `until` is only the fallback re-check. Waits on something
    that sends no event (an ERP decision read by polling) leave it None.
    """

    def __init__(self, message: str, *, until: datetime, wakes_on: str | None = None) -> None:
        super().__init__(message, code="waiting")
        self.until = until
        self.wakes_on = wakes_on


def wait_key(event_type: str, subject: str | None) -> str:
    """How a waiting delivery names the event it waits for, and how intake looks arrivals up."""
    return f"{event_type} {subject or ''}"


class SagaState(StrEnum):
    """Where a transaction stands (the `transactions.state` column)."""

    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    ABORTED = "aborted"
    EXCEPTION = "exception"
    DEAD_LETTERED = "dead_lettered"


class Journal(Protocol):
    """Durable saga journal; every `record` returns only once the line is committed."""

    async def steps_of(self, transaction: str) -> Mapping[int, StepRecord]:
        """Journal lines already written for a transaction, by step number."""
        ...

    async def start(self, transaction: str, flow: Flow, event: StoredEvent) -> None:
        """Create the transaction row if it does not exist (idempotent)."""
        ...

    async def record(self, record: StepRecord, *, last: bool = False) -> None:
        """Write (or overwrite) one step's journal line; durable on return.

        `last` says no step of this run follows. The journal may then hold the line and write it in
        the commit that ends the run (the delivery's completion) instead of a commit of its own: one
        commit wait less per saga. Nothing else can start in between, and if that commit never
        happens the step re-runs with the same idempotency key, exactly as after a crash between a
        call and its journal line.
        """
        ...

    async def set_state(self, transaction: str, state: SagaState, current_step: int | None) -> None:
        """Move the transaction to `state`; durable on return."""
        ...

    async def find_event(self, event_type: str, subject: str) -> StoredEvent | None:
        """The first stored event of that type about that subject, if any (for waits)."""
        ...


@dataclass(frozen=True)
class SagaResult:
    """How a run ended: completed, or aborted (compensated)."""

    transaction_id: str
    state: SagaState
    reason: str | None = None


@dataclass
class _Run:
    """Mutable state of one saga run (kept off the runner so runs are independent)."""

    transaction: str
    flow: Flow
    event: StoredEvent
    trace: TraceContext | None
    attempt: int
    recorded: dict[int, StepRecord]
    results: dict[str, str | None] = field(default_factory=dict)


class SagaRunner:
    """Runs (or resumes) one flow for one event against a journal."""

    def __init__(self, journal: Journal, *, clock: Clock = utc_now) -> None:
        self.journal = journal
        self.clock = clock

    async def run(
        self, flow: Flow, event: StoredEvent, *, trace: TraceContext | None = None, attempt: int = 1
    ) -> SagaResult:
        """Run from the first unrecorded step; raise classified errors for the worker to handle."""
        transaction = transaction_id(flow.name, event.event_id)
        recorded = dict(await self.journal.steps_of(transaction))
        if not recorded:
            await self.journal.start(transaction, flow, event)
        run = _Run(transaction, flow, event, trace, attempt, recorded)
        run.results = {
            record.name: record.external_id
            for record in recorded.values()
            if record.outcome == StepOutcome.SUCCEEDED
        }
        numbers = flow.numbered()
        try:
            for index, stage in enumerate(flow.stages):
                branches = stage.branches if isinstance(stage, Parallel) else (stage,)
                last = index == len(flow.stages) - 1 and len(branches) == 1
                await self._run_stage(run, [(numbers[step.name], step) for step in branches], last=last)
        except AbortSaga as abort:
            await self._compensate(run, numbers)
            await self.journal.set_state(transaction, SagaState.ABORTED, None)
            return SagaResult(transaction, SagaState.ABORTED, abort.message)
        await self.journal.set_state(transaction, SagaState.COMPLETED, len(numbers))
        return SagaResult(transaction, SagaState.COMPLETED)

    async def _run_stage(self, run: _Run, steps: Sequence[tuple[int, Step]], *, last: bool = False) -> None:
        pending = [(n, s) for n, s in steps if _unsettled(run.recorded.get(n))]
        if not pending:
            return
        if len(pending) == 1:
            await self._run_step(run, *pending[0], last=last)
            return
        outcomes = await asyncio.gather(
            *(self._run_step(run, n, s) for n, s in pending), return_exceptions=True
        )
        errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if errors:
            raise _most_severe(errors)

    async def _run_step(self, run: _Run, step_no: int, step: Step, *, last: bool = False) -> None:
        context = StepContext(
            run.transaction,
            step_no,
            step.name,
            idempotency_key(run.transaction, step_no, step.name),
            run.event,
            run.results,
            run.trace,
            run.attempt,
        )
        if step.wait is not None:
            await self._wait(run, context, step, step.wait)
            return
        assert step.action is not None
        started = self.clock()
        began = time.perf_counter()
        try:
            with step_span(f"{run.flow.name}.{step.name}", step_no=step_no, transaction_id=run.transaction):
                external_id = await step.action(context)
        except AbortSaga:
            raise
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise
            error = classify(exc, system=step.target_system)
            outcome = StepOutcome.REJECTED if isinstance(error, BusinessRejection) else StepOutcome.FAILED
            await self.journal.record(
                _line(context, step, outcome, None, started, self.clock(), began, error)
            )
            raise error from exc
        record = _line(context, step, StepOutcome.SUCCEEDED, external_id, started, self.clock(), began)
        await self.journal.record(record, last=last)
        run.recorded[step_no] = record
        run.results[step.name] = external_id

    async def _wait(self, run: _Run, context: StepContext, step: Step, wait: WaitFor) -> None:
        """Succeed if the correlated event is stored; else time out, or defer until the next look."""
        now = self.clock()
        earlier = run.recorded.get(context.step_no)
        started = earlier.started_at if earlier is not None and earlier.started_at is not None else now
        subject = wait.correlate(context)
        found = await self.journal.find_event(wait.event_type, subject)
        if found is not None:
            record = _line(context, step, StepOutcome.SUCCEEDED, found.event_id, started, now, None)
            await self.journal.record(record)
            run.recorded[context.step_no] = record
            run.results[step.name] = found.event_id
            return
        deadline = started + wait.timeout
        if now >= deadline:
            message = f"no {wait.event_type} for {subject} within {wait.timeout}"
            if wait.on_timeout == "abort":
                raise AbortSaga(message, code="wait_timeout")
            raise BusinessRejection(message, reason_code="wait_timeout", system=step.target_system)
        if earlier is None:
            record = _line(context, step, StepOutcome.WAITING, None, started, None, None)
            await self.journal.record(record)
            run.recorded[context.step_no] = record
        await self.journal.set_state(run.transaction, SagaState.WAITING, context.step_no)
        raise WaitPending(
            f"waiting for {wait.event_type} {subject}",
            until=min(deadline, now + wait.poll_every),
            wakes_on=wait_key(wait.event_type, subject),
        )

    async def _compensate(self, run: _Run, numbers: Mapping[str, int]) -> None:
        """Undo succeeded steps in reverse order, journaling each as compensated."""
        for step in reversed(run.flow.steps):
            step_no = numbers[step.name]
            done = run.recorded.get(step_no)
            if step.compensate is None or done is None or done.outcome != StepOutcome.SUCCEEDED:
                continue
            context = StepContext(
                run.transaction,
                step_no,
                step.name,
                idempotency_key(run.transaction, step_no, f"{step.name}:undo"),
                run.event,
                run.results,
                run.trace,
                run.attempt,
            )
            started, began = self.clock(), time.perf_counter()
            await step.compensate(context)
            record = _line(
                context, step, StepOutcome.COMPENSATED, done.external_id, started, self.clock(), began
            )
            await self.journal.record(record)
            run.recorded[step_no] = record


def _unsettled(record: StepRecord | None) -> bool:
    return record is None or record.outcome not in SETTLED_STEP_OUTCOMES


_SEVERITY = {"contract": 0, "business": 1, "conflict": 1, "auth": 2, "rate_limited": 3, "transient": 4}


def _most_severe(errors: Sequence[BaseException]) -> BaseException:
    """Of several branch failures, the one that decides: non-retryable before retryable."""
    aborts = [error for error in errors if isinstance(error, AbortSaga)]
    if aborts:
        return aborts[0]

    def rank(error: BaseException) -> int:
        if isinstance(error, SynclineError):
            return _SEVERITY.get(str(error.error_class), 5)
        return 6

    return min(errors, key=rank)


def _line(
    context: StepContext,
    step: Step,
    outcome: StepOutcome,
    external_id: str | None,
    started: datetime,
    finished: datetime | None,
    began: float | None,
    error: SynclineError | None = None,
) -> StepRecord:
    duration = int((time.perf_counter() - began) * 1000) if began is not None else None
    return StepRecord(
        transaction_id=context.transaction_id,
        step_no=context.step_no,
        name=step.name,
        outcome=outcome,
        target_system=step.target_system,
        idempotency_key=context.idempotency_key,
        external_id=external_id,
        attempts=context.attempt,
        duration_ms=duration,
        error_class=str(error.error_class) if error is not None else None,
        error_message=str(error)[:2000] if error is not None else None,
        started_at=started,
        finished_at=finished,
    )


__all__ = [
    "AbortSaga",
    "Flow",
    "Journal",
    "Parallel",
    "SagaResult",
    "SagaRunner",
    "SagaState",
    "Stage",
    "Step",
    "StepAction",
    "StepContext",
    "WaitFor",
    "WaitPending",
    "idempotency_key",
    "transaction_id",
]
