"""Room `engine`: the durable core — intake, claiming, sagas, failure handling, rate limits, relay.

See docs/engine.md. Everything other rooms may use is exported here.

`intake_router` (the HTTP intake, a FastAPI router) loads on first use: a worker or a CLI command
that never serves HTTP does not pay for importing FastAPI.
"""

from typing import TYPE_CHECKING, Any

from syncline.engine.bus import (
    Bus,
    BusMessage,
    Handler,
    InProcessBus,
    NatsJetStreamBus,
    PublishResult,
    subject_for,
)
from syncline.engine.business_keys import (
    MAX_KEY_LENGTH,
    business_keys_from,
    external_keys_from,
    salesforce_kind,
)
from syncline.engine.circuit import (
    CircuitBreaker,
    CircuitBreakers,
    CircuitOpenError,
    CircuitState,
    MonotonicClock,
)
from syncline.engine.classify import classify, classify_response, classify_status, parse_retry_after
from syncline.engine.distributed_semaphore import PostgresSemaphore, namespace_key
from syncline.engine.eventloop import YOUNG_GENERATION_THRESHOLD, event_loop_name, run_event_loop, tune_gc
from syncline.engine.exceptions import EXCEPTION_RAISED, LeaseLostError, hold_for_person, reason_code_of
from syncline.engine.groupcommit import GroupCommitter, Held
from syncline.engine.intake import AcceptResult, IncomingEvent, Intake, RejectedEvent, to_new_event
from syncline.engine.journal import LedgerJournal
from syncline.engine.operations import (
    ActionResult,
    DeadLetter,
    DeadLetterFilter,
    Operations,
    PlannedStep,
    ReplayItem,
    TransactionView,
)
from syncline.engine.outbound import OutboundGuard
from syncline.engine.outbox import LedgerOutbox, bus_message, cloudevent_json
from syncline.engine.ratelimit import (
    EndpointLimit,
    EndpointLimiter,
    LimiterClock,
    Priority,
    RateLimiter,
    RealClock,
)
from syncline.engine.registry import FlowRegistry, delivery_priority, load_registry
from syncline.engine.relay import Outbox, OutboxRecord, OutboxRelay, RelayPass
from syncline.engine.retry import DEFAULT_RETRY_POLICY, Clock, Random, RetryDecision, RetryPolicy, utc_now
from syncline.engine.saga import (
    AbortSaga,
    Flow,
    Journal,
    Parallel,
    SagaResult,
    SagaRunner,
    SagaState,
    Stage,
    Step,
    StepAction,
    StepContext,
    WaitFor,
    WaitPending,
    idempotency_key,
    transaction_id,
    wait_key,
)
from syncline.engine.tracing import (
    CORRELATION_HEADER,
    TraceContext,
    bind_trace,
    current_trace,
    enable_step_spans,
    inject_trace_headers,
    new_span_id,
    new_trace,
    outbound_headers,
    parse_traceparent,
    setup_tracing,
    step_span,
    traceparent_or_new,
)
from syncline.engine.worker import Worker, WorkerConfig, WorkerStats, default_worker_id

__all__ = [
    "CORRELATION_HEADER",
    "DEFAULT_RETRY_POLICY",
    "EXCEPTION_RAISED",
    "MAX_KEY_LENGTH",
    "YOUNG_GENERATION_THRESHOLD",
    "AbortSaga",
    "AcceptResult",
    "ActionResult",
    "Bus",
    "BusMessage",
    "CircuitBreaker",
    "CircuitBreakers",
    "CircuitOpenError",
    "CircuitState",
    "Clock",
    "DeadLetter",
    "DeadLetterFilter",
    "EndpointLimit",
    "EndpointLimiter",
    "Flow",
    "FlowRegistry",
    "GroupCommitter",
    "Handler",
    "Held",
    "InProcessBus",
    "IncomingEvent",
    "Intake",
    "Journal",
    "LeaseLostError",
    "LedgerJournal",
    "LedgerOutbox",
    "LimiterClock",
    "MonotonicClock",
    "NatsJetStreamBus",
    "Operations",
    "OutboundGuard",
    "Outbox",
    "OutboxRecord",
    "OutboxRelay",
    "Parallel",
    "PlannedStep",
    "PostgresSemaphore",
    "Priority",
    "PublishResult",
    "Random",
    "RateLimiter",
    "RealClock",
    "RejectedEvent",
    "RelayPass",
    "ReplayItem",
    "RetryDecision",
    "RetryPolicy",
    "SagaResult",
    "SagaRunner",
    "SagaState",
    "Stage",
    "Step",
    "StepAction",
    "StepContext",
    "TraceContext",
    "TransactionView",
    "WaitFor",
    "WaitPending",
    "Worker",
    "WorkerConfig",
    "WorkerStats",
    "bind_trace",
    "bus_message",
    "business_keys_from",
    "classify",
    "classify_response",
    "classify_status",
    "cloudevent_json",
    "current_trace",
    "default_worker_id",
    "delivery_priority",
    "enable_step_spans",
    "event_loop_name",
    "external_keys_from",
    "hold_for_person",
    "idempotency_key",
    "inject_trace_headers",
    "intake_router",
    "load_registry",
    "namespace_key",
    "new_span_id",
    "new_trace",
    "outbound_headers",
    "parse_retry_after",
    "parse_traceparent",
    "reason_code_of",
    "run_event_loop",
    "salesforce_kind",
    "setup_tracing",
    "step_span",
    "subject_for",
    "to_new_event",
    "traceparent_or_new",
    "transaction_id",
    "tune_gc",
    "utc_now",
    "wait_key",
]


if TYPE_CHECKING:
    from syncline.engine.http_intake import intake_router


def __getattr__(name: str) -> Any:
    if name == "intake_router":
        from syncline.engine.http_intake import intake_router

        return intake_router
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
