"""Room `engine`: the durable core — intake, claiming, sagas, failure handling, rate limits, relay.

See docs/engine.md. Everything other rooms may use is exported here.
"""

from syncline.engine.bus import Bus, BusMessage, InProcessBus, NatsJetStreamBus, PublishResult, subject_for
from syncline.engine.circuit import CircuitBreaker, CircuitBreakers, CircuitOpenError, CircuitState
from syncline.engine.classify import classify, classify_response, classify_status, parse_retry_after
from syncline.engine.ratelimit import (
    EndpointLimit,
    EndpointLimiter,
    LimiterClock,
    Priority,
    RateLimiter,
    RealClock,
)
from syncline.engine.relay import Outbox, OutboxRecord, OutboxRelay, RelayPass
from syncline.engine.retry import DEFAULT_RETRY_POLICY, RetryDecision, RetryPolicy
from syncline.engine.tracing import (
    CORRELATION_HEADER,
    TraceContext,
    bind_trace,
    current_trace,
    inject_trace_headers,
    new_trace,
    outbound_headers,
    parse_traceparent,
    setup_tracing,
    step_span,
    traceparent_or_new,
)

__all__ = [
    "CORRELATION_HEADER",
    "DEFAULT_RETRY_POLICY",
    "Bus",
    "BusMessage",
    "CircuitBreaker",
    "CircuitBreakers",
    "CircuitOpenError",
    "CircuitState",
    "EndpointLimit",
    "EndpointLimiter",
    "InProcessBus",
    "LimiterClock",
    "NatsJetStreamBus",
    "Outbox",
    "OutboxRecord",
    "OutboxRelay",
    "Priority",
    "PublishResult",
    "RateLimiter",
    "RealClock",
    "RelayPass",
    "RetryDecision",
    "RetryPolicy",
    "TraceContext",
    "bind_trace",
    "classify",
    "classify_response",
    "classify_status",
    "current_trace",
    "inject_trace_headers",
    "new_trace",
    "outbound_headers",
    "parse_retry_after",
    "parse_traceparent",
    "setup_tracing",
    "step_span",
    "subject_for",
    "traceparent_or_new",
]
