"""One correlation id from the source event to every step, outbound header, log line and span.

DESIGN.md invariant 8: the W3C `traceparent` of the source event is stored with it; the worker
binds it (`bind_trace`) while a transaction runs, so structlog lines carry `trace_id`, OpenTelemetry
spans become children of it, and `TraceHeaders` (an httpx event hook) stamps every outbound request
with a child `traceparent` plus `X-Correlation-Id`. Salesforce write-backs then carry the same id.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass

import httpx
import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, TraceFlags

from syncline.errors import ContractViolation

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
CORRELATION_HEADER = "X-Correlation-Id"


@dataclass(frozen=True)
class TraceContext:
    """A parsed `traceparent`: 32-hex trace id (the correlation id), 16-hex span id, flags."""

    trace_id: str
    span_id: str
    flags: int = 1

    @property
    def traceparent(self) -> str:
        """The W3C header value, version 00."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags:02x}"

    def child(self) -> TraceContext:
        """Same trace, a new span id: what a downstream call carries."""
        return TraceContext(self.trace_id, new_span_id(), self.flags)


def new_span_id() -> str:
    """16 random hex digits, never all zero."""
    while (value := secrets.token_hex(8)) == "0" * 16:
        pass
    return value


def new_trace() -> TraceContext:
    """A fresh root trace, for sources that send no `traceparent`."""
    while (trace_id := secrets.token_hex(16)) == "0" * 32:
        pass
    return TraceContext(trace_id, new_span_id(), 1)


def parse_traceparent(value: str) -> TraceContext:
    """Parse a W3C `traceparent`; raise `ContractViolation` naming what is wrong."""
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None:
        raise ContractViolation(
            f"traceparent {value!r} is not 'vv-<32 hex>-<16 hex>-<2 hex>'", code="traceparent"
        )
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        raise ContractViolation(f"traceparent {value!r} has an invalid version", code="traceparent")
    if trace_id == "0" * 32 or span_id == "0" * 16:
        raise ContractViolation(f"traceparent {value!r} has an all-zero id", code="traceparent")
    return TraceContext(trace_id, span_id, int(flags, 16))


def traceparent_or_new(value: str | None) -> TraceContext:
    """The sender's trace if valid, else a new root (a bad header must not lose the event)."""
    if value:
        try:
            return parse_traceparent(value)
        except ContractViolation:
            pass
    return new_trace()


_current: ContextVar[TraceContext | None] = ContextVar("syncline_trace", default=None)


def current_trace() -> TraceContext | None:
    """The trace bound to the work in progress: the active OTel span if recording, else `bind_trace`."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return TraceContext(
            format(span_context.trace_id, "032x"),
            format(span_context.span_id, "016x"),
            span_context.trace_flags,
        )
    return _current.get()


@contextmanager
def bind_trace(context: TraceContext, **extra: object) -> Iterator[TraceContext]:
    """Bind the trace to this task: log lines get `trace_id`/`correlation_id`, spans get the parent."""
    token = _current.set(context)
    try:
        with structlog.contextvars.bound_contextvars(
            correlation_id=context.trace_id, trace_id=context.trace_id, **extra
        ):
            if not _spans_enabled:
                yield context
                return
            parent = NonRecordingSpan(
                SpanContext(
                    int(context.trace_id, 16), int(context.span_id, 16), True, TraceFlags(context.flags)
                )
            )
            with trace.use_span(parent, end_on_exit=False):
                yield context
    finally:
        _current.reset(token)


_tracers: dict[int, trace.Tracer] = {}
_spans_enabled = False


def enable_step_spans(enabled: bool = True) -> None:
    """Build OpenTelemetry spans for steps (`setup_tracing` calls this; so may ops' own setup)."""
    global _spans_enabled
    _spans_enabled = enabled


def step_span(name: str, **attributes: str | int) -> AbstractContextManager[Span]:
    """An OpenTelemetry span for one step, child of the bound trace.

    Without an installed SDK provider (tracing not configured) no span is built at all, and the
    context manager is one shared `nullcontext`: creating no-op spans (or even a generator-based
    context manager per step) cost more than the steps themselves in the zero-latency benchmark.
    """
    if not _spans_enabled:
        return _NO_SPAN
    return _recording_span(name, attributes)


_NO_SPAN: AbstractContextManager[Span] = nullcontext(trace.INVALID_SPAN)


@contextmanager
def _recording_span(name: str, attributes: dict[str, str | int]) -> Iterator[Span]:
    provider = trace.get_tracer_provider()
    tracer = _tracers.get(id(provider))
    if tracer is None:
        tracer = _tracers[id(provider)] = provider.get_tracer("syncline.engine")
    with tracer.start_as_current_span(name, attributes=attributes) as span:
        yield span


def outbound_headers() -> dict[str, str]:
    """Headers an outbound call carries: a child `traceparent` and the correlation id."""
    context = current_trace()
    if context is None:
        return {}
    return {"traceparent": context.child().traceparent, CORRELATION_HEADER: context.trace_id}


async def inject_trace_headers(request: httpx.Request) -> None:
    """httpx request event hook: `httpx.AsyncClient(event_hooks={"request": [inject_trace_headers]})`."""
    for name, value in outbound_headers().items():
        request.headers.setdefault(name, value)


def setup_tracing(
    service_name: str = "syncline",
    *,
    otlp_endpoint: str | None = None,
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """Install a tracer provider; spans go to `exporter`, or to OTLP/HTTP at `otlp_endpoint` when given."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is None and otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=otlp_endpoint)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    enable_step_spans()
    return provider


__all__ = [
    "CORRELATION_HEADER",
    "TraceContext",
    "bind_trace",
    "current_trace",
    "enable_step_spans",
    "inject_trace_headers",
    "new_span_id",
    "new_trace",
    "outbound_headers",
    "parse_traceparent",
    "setup_tracing",
    "step_span",
    "traceparent_or_new",
]
