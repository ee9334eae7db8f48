"""Worker, sagas and failure classes on a real SQLite ledger, with an injected clock.

The ledger and the worker share one fake clock, so "the retry is due in 4 seconds" is tested by
moving the clock, never by sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
import structlog.testing
from engine_helpers import order_event

from syncline.engine.intake import Intake
from syncline.engine.ratelimit import EndpointLimit, EndpointLimiter, Priority
from syncline.engine.registry import FlowRegistry
from syncline.engine.retry import RetryPolicy
from syncline.engine.saga import (
    AbortSaga,
    Flow,
    Parallel,
    Step,
    StepContext,
    WaitFor,
    idempotency_key,
    transaction_id,
)
from syncline.engine.tracing import outbound_headers
from syncline.engine.worker import Worker, WorkerConfig
from syncline.errors import AuthError, BusinessRejection, ContractViolation, RateLimitedError, TransientError
from syncline.ledger import DeliveryStatus, ExceptionStatus, SqlLedger, StepOutcome, open_ledger
from syncline.logs import get_logger

ORDER_ACCEPTED = "syncline.order.accepted.v1"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ledger(tmp_path: Path, clock: FakeClock) -> Iterator[SqlLedger]:
    opened = open_ledger(f"sqlite:///{tmp_path}/ledger.db", create_if_empty=True, clock=clock)
    try:
        yield opened
    finally:
        opened.close()


class Recorder:
    """Counts calls per (step, idempotency key) and can be told to fail."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.failures: dict[str, list[Exception]] = {}

    def step(self, name: str) -> Step:
        async def action(ctx: StepContext) -> str:
            self.calls.append((name, ctx.event.subject, ctx.idempotency_key))
            pending = self.failures.get(f"{name}:{ctx.event.subject}") or self.failures.get(name)
            if pending:
                raise pending.pop(0)
            return f"{name}-{ctx.event.subject}"

        return Step(name, action, target_system="erp")

    def count(self, name: str) -> int:
        return sum(1 for call in self.calls if call[0] == name)


def make_worker(ledger: SqlLedger, flows: list[Flow], clock: FakeClock, **policy: float) -> Worker:
    retry = RetryPolicy(max_attempts=int(policy.get("max_attempts", 3)), base_s=1.0, cap_s=60.0)
    return Worker(
        ledger,
        FlowRegistry(flows),
        WorkerConfig(concurrency=64),
        retry_policy=retry,
        clock=clock,
        rand=lambda: 1.0,
    )


async def test_six_step_saga_journals_every_step_with_a_deterministic_idempotency_key(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    recorder = Recorder()
    flow = Flow("q2c", 1, tuple(recorder.step(f"s{i}") for i in range(1, 7)), triggers=(ORDER_ACCEPTED,))
    registry = FlowRegistry([flow])
    event = order_event("ord-1", 1)
    assert Intake(ledger, registry).accept([event]).accepted == (event.id,)
    stats = await make_worker(ledger, [flow], clock).drain()
    assert stats.completed == 1
    tx = transaction_id("q2c", event.id)
    lines = ledger.steps_of(tx)
    assert [line.outcome for line in lines] == [StepOutcome.SUCCEEDED] * 6
    assert [line.idempotency_key for line in lines] == [idempotency_key(tx, n, f"s{n}") for n in range(1, 7)]
    assert lines[2].external_id == "s3-ord-1"
    record = ledger.get_transaction(tx)
    assert record is not None and record.state == "completed" and record.completed_at is not None
    assert ledger.count_deliveries()[DeliveryStatus.DONE] == 1


async def test_transient_failure_is_rescheduled_and_resumes_at_the_failed_step(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    recorder = Recorder()
    recorder.failures["s2"] = [TransientError("503 from ERP")]
    flow = Flow("q2c", 1, tuple(recorder.step(f"s{i}") for i in range(1, 4)), triggers=(ORDER_ACCEPTED,))
    Intake(ledger, FlowRegistry([flow])).accept([order_event("ord-1", 1)])
    first = await make_worker(ledger, [flow], clock).drain()
    assert first.retried == 1 and first.completed == 0
    (delivery,) = ledger.list_deliveries()
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=1.0)  # base * 2**0, rand=1.0
    assert delivery.last_error_class == "transient"
    # Not due yet: a worker finds nothing to do instead of sleeping on it.
    assert (await make_worker(ledger, [flow], clock).drain()).claimed == 0
    clock.advance(1.0)
    second = await make_worker(ledger, [flow], clock).drain()
    assert second.completed == 1
    assert (recorder.count("s1"), recorder.count("s2"), recorder.count("s3")) == (1, 2, 1)
    keys = {call[2] for call in recorder.calls if call[0] == "s2"}
    assert len(keys) == 1  # the retried call carried the same idempotency key


async def test_retry_after_is_honoured_as_the_next_attempt_time(ledger: SqlLedger, clock: FakeClock) -> None:
    recorder = Recorder()
    recorder.failures["s1"] = [RateLimitedError("429", retry_after=42.0)]
    flow = Flow("q2c", 1, (recorder.step("s1"),), triggers=(ORDER_ACCEPTED,))
    Intake(ledger, FlowRegistry([flow])).accept([order_event("ord-1", 1)])
    await make_worker(ledger, [flow], clock).drain()
    (delivery,) = ledger.list_deliveries()
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=42)
    assert delivery.last_error_class == "rate_limited"


async def test_last_attempt_parks_the_key_and_replay_then_skip_release_it_in_order(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    recorder = Recorder()
    recorder.failures["s1:ord-1"] = [TransientError("down")] * 2
    flow = Flow("q2c", 1, (recorder.step("s1"),), triggers=(ORDER_ACCEPTED,))
    intake = Intake(ledger, FlowRegistry([flow]))
    intake.accept([order_event("ord-1", 1), order_event("ord-1", 2), order_event("ord-2", 1)])
    await make_worker(ledger, [flow], clock, max_attempts=2).drain()
    clock.advance(60)
    await make_worker(ledger, [flow], clock, max_attempts=2).drain()
    by_status = Counter(d.status for d in ledger.list_deliveries())
    assert by_status == {DeliveryStatus.PARKED: 1, DeliveryStatus.PENDING: 1, DeliveryStatus.DONE: 1}
    parked = ledger.list_deliveries(status=DeliveryStatus.PARKED)[0]
    assert parked.ordering_key == "ord-1" and parked.key_seq == 1
    # ord-1's second event waited behind the dead letter; ord-2 was not held up.
    assert [c[1] for c in recorder.calls] == ["ord-1", "ord-2", "ord-1"]
    ledger.replay([parked.id])
    await make_worker(ledger, [flow], clock, max_attempts=2).drain()
    assert Counter(d.status for d in ledger.list_deliveries()) == {DeliveryStatus.DONE: 3}
    assert [c[1] for c in recorder.calls] == ["ord-1", "ord-2", "ord-1", "ord-1", "ord-1"]


async def test_business_rejection_opens_an_exception_and_emits_an_event_without_retrying(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    recorder = Recorder()
    rejection = BusinessRejection("credit hold on account", reason_code="credit_hold", owner_role="finance")
    recorder.failures["s2"] = [rejection]
    flow = Flow("q2c", 1, (recorder.step("s1"), recorder.step("s2")), triggers=(ORDER_ACCEPTED,))
    event = order_event("ord-1", 1)
    Intake(ledger, FlowRegistry([flow])).accept([event])
    stats = await make_worker(ledger, [flow], clock).drain()
    assert stats.held == 1 and stats.retried == 0
    tx = transaction_id("q2c", event.id)
    (task,) = ledger.list_exceptions()
    assert (task.reason_code, task.owner_role, task.status) == (
        "CREDIT_HOLD",
        "finance",
        ExceptionStatus.OPEN,
    )
    assert task.transaction_id == tx and "credit hold" in task.message
    raised = [e for e in ledger.events_after(0) if e.type == "syncline.sync.exception.raised.v1"]
    assert len(raised) == 1 and raised[0].payload["reason_code"] == "CREDIT_HOLD"
    assert raised[0].correlation_id == event.correlationid
    (delivery,) = ledger.list_deliveries(consumer="q2c")
    assert delivery.status is DeliveryStatus.PARKED and delivery.last_error_class == "business"
    record = ledger.get_transaction(tx)
    assert record is not None and record.state == "exception"
    assert ledger.steps_of(tx)[1].outcome is StepOutcome.REJECTED
    clock.advance(3600)
    assert (await make_worker(ledger, [flow], clock).drain()).claimed == 0


async def test_contract_violation_dead_letters_at_once(ledger: SqlLedger, clock: FakeClock) -> None:
    recorder = Recorder()
    recorder.failures["s1"] = [ContractViolation("amount is not a decimal")]
    flow = Flow("q2c", 1, (recorder.step("s1"),), triggers=(ORDER_ACCEPTED,))
    Intake(ledger, FlowRegistry([flow])).accept([order_event("ord-1", 1)])
    stats = await make_worker(ledger, [flow], clock, max_attempts=5).drain()
    assert stats.parked == 1 and stats.retried == 0
    (delivery,) = ledger.list_deliveries()
    assert delivery.status is DeliveryStatus.PARKED and delivery.attempts == 1
    assert delivery.last_error_class == "contract"


async def test_abort_compensates_succeeded_steps_in_reverse_and_parallel_branches_run(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    undone: list[str] = []

    def undo(name: str) -> Step:
        async def action(ctx: StepContext) -> str:
            return f"{name}-id"

        async def compensate(ctx: StepContext) -> None:
            undone.append(name)

        return Step(name, action, compensate=compensate)

    async def refuse(ctx: StepContext) -> None:
        raise AbortSaga("customer cancelled before provisioning")

    flow = Flow(
        "q2c",
        1,
        (
            undo("reserve"),
            Parallel("split", (undo("erp_order"), undo("billing_sub"))),
            Step("provision", refuse),
        ),
        triggers=(ORDER_ACCEPTED,),
    )
    event = order_event("ord-1", 1)
    Intake(ledger, FlowRegistry([flow])).accept([event])
    stats = await make_worker(ledger, [flow], clock).drain()
    assert stats.completed == 1
    assert undone == ["billing_sub", "erp_order", "reserve"]
    tx = transaction_id("q2c", event.id)
    assert [line.outcome for line in ledger.steps_of(tx)] == [StepOutcome.COMPENSATED] * 3
    record = ledger.get_transaction(tx)
    assert record is not None and record.state == "aborted"


async def test_lease_expiry_lets_another_worker_reclaim_and_fences_the_stale_one(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    recorder = Recorder()
    flow = Flow("q2c", 1, (recorder.step("s1"),), triggers=(ORDER_ACCEPTED,))
    Intake(ledger, FlowRegistry([flow])).accept([order_event("ord-1", 1)])
    (stale,) = ledger.claim_next_per_key("q2c", "dead-worker", 10, lease_seconds=30)
    assert (await make_worker(ledger, [flow], clock).drain()).claimed == 0  # still leased
    clock.advance(31)
    assert ledger.reclaim_expired() == [stale.delivery.id]
    assert (await make_worker(ledger, [flow], clock).drain()).completed == 1
    assert ledger.complete(stale.lease) is False  # the dead worker's late completion changes nothing
    assert recorder.count("s1") == 1


async def test_a_step_waits_for_a_correlated_event_without_holding_a_worker(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    recorder = Recorder()
    wait = WaitFor(
        ORDER_ACCEPTED, correlate=lambda ctx: f"{ctx.event.subject}-erp", timeout=timedelta(hours=1)
    )
    flow = Flow(
        "q2c",
        1,
        (recorder.step("request"), Step("erp_approval", wait=wait), recorder.step("write_back")),
        triggers=("syncline.order.accepted.v1",),
    )
    intake = Intake(ledger, FlowRegistry([flow]))
    event = order_event("ord-1", 1)
    intake.accept([event])
    stats = await make_worker(ledger, [flow], clock).drain()
    assert stats.deferred == 1 and stats.completed == 0
    (delivery,) = ledger.list_deliveries()
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 0  # a wait is not an attempt
    tx = transaction_id("q2c", event.id)
    record = ledger.get_transaction(tx)
    assert record is not None and record.state == "waiting"
    # The approval arrives (through intake, under its own key, routed to no flow).
    approval = order_event("ord-1-erp", 1, key="erp-approvals")
    Intake(ledger, FlowRegistry()).accept([approval])
    clock.advance(5)
    assert (await make_worker(ledger, [flow], clock).drain()).completed == 1
    lines = ledger.steps_of(tx)
    assert lines[1].outcome is StepOutcome.SUCCEEDED and lines[1].external_id == approval.id
    assert (recorder.count("request"), recorder.count("write_back")) == (1, 1)


async def test_the_awaited_event_wakes_the_waiting_saga_at_once_instead_of_at_its_next_look(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    """The wait re-checks only every hour here; intake of the approval makes it due immediately."""
    recorder = Recorder()
    wait = WaitFor(
        ORDER_ACCEPTED,
        correlate=lambda ctx: f"{ctx.event.subject}-erp",
        timeout=timedelta(days=1),
        poll_every=timedelta(hours=1),
    )
    flow = Flow(
        "q2c",
        1,
        (recorder.step("request"), Step("erp_approval", wait=wait), recorder.step("write_back")),
        triggers=(ORDER_ACCEPTED,),
    )
    registry = FlowRegistry([flow])
    assert registry.awaited_types == {ORDER_ACCEPTED}
    intake = Intake(ledger, registry)
    event = order_event("ord-1", 1)
    intake.accept([event])
    assert (await make_worker(ledger, [flow], clock).drain()).deferred == 1
    (waiting,) = ledger.list_deliveries()
    assert waiting.waiting_for == f"{ORDER_ACCEPTED} ord-1-erp"
    assert waiting.next_attempt_at == clock.now + timedelta(hours=1)
    assert (await make_worker(ledger, [flow], clock).drain()).claimed == 0  # not due, nothing arrived
    intake.accept([order_event("ord-1-erp", 1, key="erp-approvals")])  # the approval; clock unchanged
    woken = ledger.get_delivery(waiting.id)
    assert woken is not None and woken.next_attempt_at == clock.now and woken.waiting_for is None
    await make_worker(ledger, [flow], clock).drain()
    record = ledger.get_transaction(transaction_id("q2c", event.id))
    assert record is not None and record.state == "completed"
    assert recorder.count("write_back") == 1


async def test_a_wait_that_times_out_becomes_an_exception(ledger: SqlLedger, clock: FakeClock) -> None:
    wait = WaitFor(ORDER_ACCEPTED, correlate=lambda ctx: "never", timeout=timedelta(minutes=10))
    flow = Flow("q2c", 1, (Step("erp_approval", wait=wait),), triggers=(ORDER_ACCEPTED,))
    Intake(ledger, FlowRegistry([flow])).accept([order_event("ord-1", 1)])
    await make_worker(ledger, [flow], clock).drain()
    clock.advance(601)
    stats = await make_worker(ledger, [flow], clock).drain()
    assert stats.held == 1
    (task,) = ledger.list_exceptions()
    assert task.reason_code == "WAIT_TIMEOUT"


async def test_intake_keeps_accepting_while_the_endpoint_is_throttled_and_memory_stays_bounded(
    tmp_path: Path,
) -> None:
    real = open_ledger(f"sqlite:///{tmp_path}/burst.db", create_if_empty=True)
    limiter = EndpointLimiter("erp", EndpointLimit(rate_per_s=2.0, burst=1, concurrency=4))
    limiter.grants = []

    async def throttled_call(ctx: StepContext) -> str:
        async with limiter.permit(Priority.ORDER_BOOKING):
            return "ok"

    flow = Flow("q2c", 1, (Step("call_erp", throttled_call),), triggers=(ORDER_ACCEPTED,))
    registry = FlowRegistry([flow])
    worker = Worker(real, registry, WorkerConfig(concurrency=6, idle_poll_s=0.05))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        intake = Intake(real, registry)
        accepted = 0
        for batch in range(10):
            events = [order_event(f"ord-{batch}-{n}", 1) for n in range(100)]
            accepted += len((await asyncio.to_thread(intake.accept, events)).accepted)
        completed_meanwhile = worker.stats.completed
    finally:
        stop.set()
        await running
        real.close()
    assert accepted == 1000  # intake was never held up by the throttled endpoint
    assert completed_meanwhile < 1000
    assert worker.stats.peak_in_flight <= 6  # only `concurrency` sagas are ever held in memory
    grants = sorted(limiter.grants)
    assert all(later - earlier >= 0.5 - 1e-6 for earlier, later in itertools.pairwise(grants))  # rate 2/s


async def test_log_lines_and_outbound_headers_of_a_saga_carry_the_source_event_trace(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    seen_headers: list[dict[str, str]] = []

    async def call(ctx: StepContext) -> str:
        get_logger("test.step").info("calling_erp", step=ctx.step_name)
        seen_headers.append(outbound_headers())
        return "ok"

    flow = Flow("q2c", 1, (Step("a", call), Step("b", call)), triggers=(ORDER_ACCEPTED,))
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    event = order_event("ord-1", 1).model_copy(update={"traceparent": trace})
    Intake(ledger, FlowRegistry([flow])).accept([event])
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        await make_worker(ledger, [flow], clock).drain()
    step_lines = [entry for entry in logs if entry["event"] == "calling_erp"]
    assert len(step_lines) == 2
    assert {entry["trace_id"] for entry in step_lines} == {"0af7651916cd43dd8448eb211c80319c"}
    assert {entry["event_id"] for entry in step_lines} == {event.id}
    assert all(h["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c" for h in seen_headers)
    assert all(h["X-Correlation-Id"] == "0af7651916cd43dd8448eb211c80319c" for h in seen_headers)


async def test_auth_failure_is_retried_once_then_dead_lettered(ledger: SqlLedger, clock: FakeClock) -> None:
    recorder = Recorder()
    recorder.failures["s1:ord-1"] = [AuthError("token expired"), AuthError("still refused")]
    recorder.failures["s1:ord-2"] = [AuthError("token expired")]
    flow = Flow("q2c", 1, (recorder.step("s1"),), triggers=(ORDER_ACCEPTED,))
    Intake(ledger, FlowRegistry([flow])).accept([order_event("ord-1", 1), order_event("ord-2", 1)])
    stats = await make_worker(ledger, [flow], clock, max_attempts=8).drain()  # retries are due at once
    assert (stats.claimed, stats.retried, stats.completed, stats.parked) == (4, 2, 1, 1)
    parked = ledger.list_deliveries(status=DeliveryStatus.PARKED)
    assert [(d.ordering_key, d.last_error_class, d.attempts) for d in parked] == [("ord-1", "auth", 2)]


async def test_the_last_step_line_commits_with_the_completion_and_a_lost_completion_reruns_that_step(
    ledger: SqlLedger, clock: FakeClock
) -> None:
    """The final journal line rides in the completion's commit (one commit wait less per saga).

    Until that commit lands the step is not journaled, so a crash there re-runs it with the same
    idempotency key: the downstream system sees one key, never a second record.
    """
    recorder = Recorder()
    flow = Flow("q2c", 1, (recorder.step("s1"), recorder.step("s2")), triggers=(ORDER_ACCEPTED,))
    registry = FlowRegistry([flow])
    event = order_event("ord-1", 1)
    Intake(ledger, registry).accept([event])
    tx = transaction_id("q2c", event.id)
    worker = make_worker(ledger, [flow], clock)
    worker.committer.start()
    try:
        (claimed,) = await worker._claim("q2c", 1)
        await worker.runner.run(flow, claimed.event)  # as a worker does, stopped before completing
        assert [line.step_no for line in ledger.steps_of(tx)] == [1]
        held = worker.journal.take_final(tx)
        assert [type(item).__name__ for item in held] == ["StepRecord", "StateChange"]
        # The process "dies" here: the held line and the completion never commit.
    finally:
        await worker.committer.close()
    clock.advance(3600)  # the lease expires; another worker reclaims and resumes at step 2
    assert ledger.reclaim_expired() == [claimed.delivery.id]
    stats = await make_worker(ledger, [flow], clock).drain()
    assert stats.completed == 1
    assert [line.step_no for line in ledger.steps_of(tx)] == [1, 2]
    assert (recorder.count("s1"), recorder.count("s2")) == (1, 2)
    assert len({call[2] for call in recorder.calls if call[0] == "s2"}) == 1  # same idempotency key
    record = ledger.get_transaction(tx)
    assert record is not None and record.state == "completed"
