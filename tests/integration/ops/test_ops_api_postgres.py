"""The read models' SQL on PostgreSQL: the same demo, built by the engine on a fresh database."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import ops_demo_flows
import pytest
from ops_demo import Demo, build_demo

from syncline.engine.registry import FlowRegistry
from syncline.ledger import SqlLedger, TokenRole, open_ledger
from syncline.ledger.scratch import scratch_postgres
from syncline.ops import TokenService, create_app
from syncline.ops.telemetry import ApiBudgets

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_demo() -> Iterator[Demo]:
    with scratch_postgres() as url:
        yield build_demo(url)


@pytest.fixture
def pg_ledger(pg_demo: Demo) -> Iterator[SqlLedger]:
    ledger = open_ledger(pg_demo.url)
    ops_demo_flows.use_ledger(ledger)
    try:
        yield ledger
    finally:
        ops_demo_flows._state.clear()
        ledger.close()


@pytest.fixture
async def pg_client(pg_ledger: SqlLedger) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    _, token = TokenService(pg_ledger).create(
        f"pg-{secrets.token_hex(3)}", TokenRole.VIEWER, actor="t", reason="t"
    )
    app = create_app(
        pg_ledger, registry=FlowRegistry(ops_demo_flows.FLOWS), budgets=ApiBudgets(), background=False
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http, {"Authorization": f"Bearer {token}"}


async def test_search_filters_and_detail_on_postgres(
    pg_client: tuple[httpx.AsyncClient, dict[str, str]], pg_demo: Demo
) -> None:
    client, headers = pg_client
    order = pg_demo.order(2)
    found = (
        await client.get("/api/transactions", params={"q": order.opportunity_id}, headers=headers)
    ).json()
    assert found["total"] == 1
    tx = found["items"][0]["id"]
    # the rejected order's billing branch ran beside the refused ERP step; no step ever went to Chargebee
    params = {"error_class": "business"}
    stripe = await client.get("/api/transactions", params={**params, "system": "stripe"}, headers=headers)
    chargebee = await client.get(
        "/api/transactions", params={**params, "system": "chargebee"}, headers=headers
    )
    assert (stripe.json()["total"], chargebee.json()["total"]) == (1, 0)
    held = await client.get("/api/transactions", params={"error_class": "business"}, headers=headers)
    assert [i["keys"]["order_number"] for i in held.json()["items"]] == [pg_demo.rejected.order_number]
    detail = (await client.get(f"/api/transactions/{tx}", headers=headers)).json()
    assert [e["lane"] for e in detail["timeline"]] == [
        "Syncline",
        "Syncline",
        "ERP",
        "ERP",
        "Billing",
        "Salesforce",
    ]


async def test_metrics_and_summary_on_postgres(pg_client: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, headers = pg_client
    text = (await client.get("/metrics")).text
    assert 'syncline_dead_letters{flow="order_booking"} 2.0' in text
    assert 'syncline_step_duration_seconds_bucket{flow="order_booking",le="+Inf",system="stripe"}' in text
    assert 'syncline_transaction_duration_seconds_count{flow="order_booking"} 10.0' in text
    # two retried orders took ~30 minutes: above the 15-minute bucket (durations computed in SQL)
    assert 'syncline_transaction_duration_seconds_bucket{flow="order_booking",le="900.0"} 8.0' in text
    summary = (await client.get("/api/metrics/summary", headers=headers)).json()
    assert summary["dashboard"]["by_domain_state"]["order"] == {
        "completed": 10,
        "exception": 1,
        "dead_lettered": 1,
    }
    assert summary["kpis"]["failed_sync_rate"]["order"]["failed"] == 2
    assert summary["kpis"]["quote_to_order"]["count"] == 12
