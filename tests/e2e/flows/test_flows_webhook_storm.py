"""A storm of duplicate and reordered Stripe webhooks, delivered over HTTP to the runtime's receiver:
each billing event is processed once, and the CRM ends on the invoice's latest status."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
import uvicorn
from flows_kit import Hands, activate_customer, order_event, records, unique
from pydantic import SecretStr

from syncline.connectors.stripe.source import INVOICE_POSTING_EVENTS, PAYMENT_EVENTS
from syncline.contracts import BillingFrequency
from syncline.runtime import Runtime, stripe_webhook_app


@pytest.fixture(scope="module")
def sandbox_overrides() -> dict[str, dict[str, Any]]:
    return {"stripe": {"webhook_duplicate_rate": 1.0, "webhook_reorder": True, "webhook_delay_s": 0.05}}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_duplicate_reordered_webhooks_are_processed_once(runtime: Runtime, hands: Hands) -> None:
    port = _free_port()
    endpoint = hands.stripe.post(
        "/v1/webhook_endpoints",
        data={"url": f"http://127.0.0.1:{port}/webhooks/stripe", "enabled_events[]": "*"},
    )
    endpoint.raise_for_status()
    app, stats = stripe_webhook_app(runtime, [SecretStr(endpoint.json()["secret"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        customer = unique("storm")
        await activate_customer(
            runtime, hands, customer, f"Storm {customer[-8:]} Inc.", f"{customer}.example"
        )
        order = unique("ord")
        hands.create_order(order, customer)
        await runtime.ingest(
            [order_event(order, customer, [("SKU-0003", 4, "12.00", BillingFrequency.MONTHLY)])]
        )
        assert await runtime.run_until_idle(timeout_s=60)
        for _ in range(200):  # until the sandbox has delivered (and re-delivered) what it emitted
            await asyncio.sleep(0.05)
            if stats.duplicates and await runtime.run_until_idle(timeout_s=5):
                delivered = stats.received
                await asyncio.sleep(0.3)
                if stats.received == delivered:
                    break
        assert await runtime.run_until_idle(timeout_s=60)
    finally:
        server.should_exit = True
        await serving

    assert stats.refused == 0
    assert stats.duplicates >= 1  # every delivery was sent twice
    billing_events = records(hands.snapshot("stripe"), "event")
    posting = {
        e["id"]
        for e in billing_events
        if e["type"] in INVOICE_POSTING_EVENTS and e["data"]["object"].get("number")
    }
    paying = {
        e["id"]
        for e in billing_events
        if e["type"] in PAYMENT_EVENTS and e["data"]["object"].get("status") == "paid"
    }
    counters = runtime.counters().flows["invoice_status"]
    assert posting and counters.completed == len(posting) + len(paying)  # each distinct event once
    assert counters.exceptions == {} and counters.dead_letters == 0
    shown = hands.order(order)
    assert shown["Invoice_Number__c"]
    assert shown["Invoice_Status__c"] == "Paid"  # reordering never moved it back to Open
    assert paying and hands.account(customer)["Paid_Date__c"]  # the payment's date, and nothing else
