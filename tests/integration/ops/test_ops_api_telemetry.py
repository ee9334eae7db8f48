"""Prometheus metrics, the metrics summary with KPIs, OpenTelemetry server spans, ingest and OpenAPI."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from ops_demo import REJECTED_ORDER, Demo
from ops_testing import Tokens

from syncline.contracts.envelope import new_event
from syncline.contracts.order import OrderAccepted
from syncline.engine.registry import FlowRegistry
from syncline.ledger import SqlLedger
from syncline.ops import create_app
from syncline.ops.telemetry import ApiBudgets


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name} {labels}")


async def test_metrics_export_the_ledger_by_flow_system_outcome_and_error_class(
    ledger: SqlLedger, registry: FlowRegistry
) -> None:
    budgets = ApiBudgets()
    budgets.report("salesforce", 1200, 15000)
    app = create_app(ledger, registry=registry, budgets=budgets, background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        await http.get("/api/me")
        text = (await http.get("/metrics")).text

    steps = "syncline_steps_total"
    assert (
        sample(
            text, steps, flow="order_booking", system="netsuite", outcome="rejected", error_class="business"
        )
        == 1
    )
    assert (
        sample(text, steps, flow="order_booking", system="netsuite", outcome="failed", error_class="contract")
        == 1
    )
    assert (
        sample(
            text, steps, flow="invoice_status", system="salesforce", outcome="succeeded", error_class="none"
        )
        >= 1
    )
    assert sample(text, "syncline_step_retries_total", flow="order_booking", system="netsuite") == 1
    assert sample(text, "syncline_step_retries_total", flow="order_booking", system="stripe") == 1
    assert sample(text, "syncline_step_duration_seconds_count", flow="order_booking", system="stripe") >= 10
    assert sample(text, "syncline_dead_letters", flow="order_booking") == 2
    assert sample(text, "syncline_queue_depth", flow="order_booking", status="done") == 10
    assert sample(text, "syncline_transactions", flow="order_booking", state="exception") == 1
    assert sample(text, "syncline_transaction_duration_seconds_count", flow="order_booking") == 10
    # two retried orders took ~30 minutes: above the 15-minute bucket, below the 30-minute one
    slow = sample(text, "syncline_transaction_duration_seconds_bucket", flow="order_booking", le="900.0")
    assert slow == 8
    assert sample(text, "syncline_exception_tasks", owner_role="finance", status="open") == 1
    assert sample(text, "syncline_api_budget_used_ratio", system="salesforce") == 0.08
    assert sample(text, "syncline_http_requests_total", method="GET", route="/api/me", status="401") == 1
    assert sample(text, "syncline_ledger_up") == 1


async def test_metrics_summary_has_the_dashboard_and_the_kpis(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo
) -> None:
    body = (await client.get("/api/metrics/summary", headers=tokens.headers("viewer"))).json()
    board, kpis = body["dashboard"], body["kpis"]
    assert board["by_domain_state"]["order"] == {"completed": 10, "exception": 1, "dead_lettered": 1}
    assert board["by_domain_state"]["invoice"]["completed"] == len(
        [o for o in demo.orders if o.invoice_stripe_id]
    )
    assert board["dead_letter_depth"] == {"order_booking": 2}
    assert set(board["error_classes"]) == {"business", "contract", "transient", "rate_limited"}
    assert sum(board["retry_volume"]) == 2
    (latency,) = [s for s in board["latency"] if s["flow"] == "order_booking"]
    assert latency["count"] == 10 and max(v for v in latency["p95"] if v is not None) > 15 * 60

    assert kpis["quote_to_order"]["count"] == 12 and kpis["quote_to_order"]["p50_hours"] > 24
    assert kpis["order_to_invoice"]["count"] == len([o for o in demo.orders if o.invoice_stripe_id])
    assert kpis["failed_sync_rate"]["order"] == {"failed": 2, "total": 12, "rate": 2 / 12}
    backlog = kpis["exception_backlog"]
    rejected = demo.order(REJECTED_ORDER)
    assert [item["subject"] for item in backlog["items"]] == [rejected.order_id]
    assert backlog["amounts"] == {rejected.currency: "6469.38"}
    assert Decimal(backlog["items"][0]["amount"]) == Decimal("6469.38")


async def test_each_request_is_a_server_span_in_the_callers_trace(ledger: SqlLedger, tokens: Tokens) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = create_app(ledger, budgets=ApiBudgets(), tracer_provider=provider, background=False)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {**tokens.headers("viewer"), "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        await http.get("/api/transactions/abc", headers=headers)
    (span,) = exporter.get_finished_spans()
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.name == "GET /api/transactions/{transaction_id}"
    assert span.attributes is not None and span.attributes["http.response.status_code"] == 404


async def test_ingest_is_mounted_and_its_events_reach_the_flows(
    client: httpx.AsyncClient, ledger: SqlLedger, demo: Demo
) -> None:
    accepted = new_event(
        "syncline.order.accepted.v1",
        subject=demo.order(1).order_id,
        data=OrderAccepted(
            order_id=demo.order(1).order_id,
            accepted_by_system="netsuite",
            external_id="SO-1",
            accepted_at=ledger.clock(),
        ),
        source_system="netsuite",
        record_id=demo.order(1).order_id,
        change_marker="accepted",
    )
    body = accepted.to_json()
    first = await client.post(
        "/ingest/netsuite", content=body, headers={"content-type": "application/cloudevents+json"}
    )
    again = await client.post(
        "/ingest/netsuite", content=body, headers={"content-type": "application/cloudevents+json"}
    )
    assert (first.status_code, again.status_code) == (202, 200)
    assert ledger.get_event(accepted.id) is not None
    # no registered flow takes this event: it is kept, and routed to none of them
    assert [d for d in ledger.list_deliveries() if d.event_id == accepted.id] == []


async def test_openapi_is_published(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    published = [
        "/api/transactions",
        "/api/transactions/{transaction_id}",
        "/api/exceptions/{exception_id}/resolve",
        "/api/dead-letters/replay",
        "/api/dead-letters/skip",
        "/api/metrics/summary",
        "/api/audit",
        "/api/tokens",
        "/healthz",
        "/readyz",
        "/ingest/{source}",
    ]
    for path in published:
        assert path in document["paths"], path
    assert "/login" not in document["paths"]


async def test_metrics_say_how_far_each_outbox_relay_is_behind(
    ledger: SqlLedger, registry: FlowRegistry
) -> None:
    from syncline.engine import InProcessBus, LedgerOutbox, OutboxRelay

    positions = [event.position for event in ledger.events_after(0, limit=100_000)]
    relay = OutboxRelay(LedgerOutbox(ledger), InProcessBus(), name="nats", batch_size=3)
    done = await relay.run_once()  # three events published, the rest still in the outbox
    app = create_app(ledger, registry=registry, budgets=ApiBudgets(), background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        behind = sample((await http.get("/metrics")).text, "syncline_relay_lag_positions", relay="nats")
        assert behind == max(positions) - done.position > 0
        await relay.catch_up()
        caught_up = sample((await http.get("/metrics")).text, "syncline_relay_lag_positions", relay="nats")
    assert caught_up == 0
