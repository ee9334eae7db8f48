"""W3C traceparent handling, propagation into outbound headers, logs and OpenTelemetry spans."""

from __future__ import annotations

import httpx
import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from syncline.engine import tracing
from syncline.errors import ContractViolation

SAMPLE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_parse_and_render_round_trip() -> None:
    context = tracing.parse_traceparent(SAMPLE)
    assert context.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert context.span_id == "00f067aa0ba902b7"
    assert context.traceparent == SAMPLE


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    ],
)
def test_invalid_traceparent_is_refused_with_a_clear_error(bad: str) -> None:
    with pytest.raises(ContractViolation, match="traceparent"):
        tracing.parse_traceparent(bad)


def test_bad_or_missing_header_starts_a_new_trace_instead_of_losing_the_event() -> None:
    assert len(tracing.traceparent_or_new("nonsense").trace_id) == 32
    assert tracing.traceparent_or_new(SAMPLE).trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_child_keeps_the_trace_and_changes_the_span() -> None:
    parent = tracing.parse_traceparent(SAMPLE)
    child = parent.child()
    assert child.trace_id == parent.trace_id and child.span_id != parent.span_id


async def test_outbound_requests_carry_a_child_traceparent_and_correlation_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), event_hooks={"request": [tracing.inject_trace_headers]}
    )
    async with client:
        with tracing.bind_trace(tracing.parse_traceparent(SAMPLE)):
            await client.post("https://erp.example/orders")
        await client.post("https://erp.example/unrelated")
    sent = tracing.parse_traceparent(seen[0].headers["traceparent"])
    assert sent.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" and sent.span_id != "00f067aa0ba902b7"
    assert seen[0].headers[tracing.CORRELATION_HEADER] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert "traceparent" not in seen[1].headers


def test_log_lines_inside_a_bound_trace_carry_its_id() -> None:
    with tracing.bind_trace(tracing.parse_traceparent(SAMPLE), tx="tx-1"):
        bound = structlog.contextvars.get_contextvars()
    assert bound["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert bound["correlation_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert bound["tx"] == "tx-1"
    assert "trace_id" not in structlog.contextvars.get_contextvars()


def test_step_spans_are_children_of_the_source_event_trace() -> None:
    exporter = InMemorySpanExporter()
    tracing.setup_tracing("syncline-test")
    provider = trace.get_tracer_provider()  # the first installed provider wins process-wide
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with (
        tracing.bind_trace(tracing.parse_traceparent(SAMPLE)),
        tracing.step_span("create_sales_order", step=2),
    ):
        inner = tracing.current_trace()
    (span,) = exporter.get_finished_spans()
    assert format(span.context.trace_id, "032x") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span.parent is not None and format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert inner is not None and inner.span_id == format(span.context.span_id, "016x")
