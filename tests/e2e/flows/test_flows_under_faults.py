"""Flows under technical faults: 5xx answers and 429s from all three systems. Every order still ends
booked exactly once in the ERP and in billing (checked from the sandboxes' own state)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flows_kit import Hands, customer_event, order_event, records, unique

from syncline.connectors.netsuite.mapping import external_id_for
from syncline.contracts import BillingFrequency
from syncline.runtime import Runtime

FAULTS = {"seed": 3, "server_error_rate": 0.08, "throttle_rate": 0.05}


@pytest.fixture
def faulty(hands: Hands) -> Iterator[None]:
    for client in (hands.sf, hands.ns, hands.stripe):
        client.put("/__sandbox/faults", json=FAULTS).raise_for_status()
    yield
    for client in (hands.sf, hands.ns, hands.stripe):
        client.put("/__sandbox/faults", json={}).raise_for_status()


async def test_transient_faults_never_duplicate_and_never_lose_an_order(
    runtime: Runtime, hands: Hands, faulty: None
) -> None:
    pairs = []
    for _ in range(3):
        customer, order = unique("flt"), unique("ord")
        name = f"Faulty {customer[-8:]} Inc."
        salesforce_id = _retrying(
            lambda c=customer, n=name: hands.create_account(c, n, website=f"{c}.example")
        )
        _retrying(lambda o=order, c=customer: hands.create_order(o, c))
        pairs.append((customer, order))
        await runtime.ingest(
            [
                customer_event(customer, name, website=f"{customer}.example", salesforce_id=salesforce_id),
                order_event(order, customer, [("SKU-0002", 1, "149.00", BillingFrequency.MONTHLY)]),
            ]
        )
    assert await runtime.run_until_idle(timeout_s=120)

    for client in (hands.sf, hands.ns, hands.stripe):
        client.put("/__sandbox/faults", json={}).raise_for_status()
    sales_orders = records(hands.snapshot("netsuite"), "salesOrder")
    subscriptions = records(hands.snapshot("stripe"), "subscription")
    for _, order in pairs:
        assert len([s for s in sales_orders if s.get("externalId") == external_id_for(order)]) == 1
        assert len([s for s in subscriptions if (s.get("metadata") or {}).get("syncline_id") == order]) == 1
        assert hands.order(order)["Sync_Status__c"] == "Synced"
    counters = runtime.counters()
    assert counters.flows["order_booking"].completed == 3
    assert counters.flows["order_booking"].dead_letters == 0
    assert sum(flow.retries for flow in counters.flows.values()) > 0  # faults were met, and retried


def _retrying(action):  # type: ignore[no-untyped-def]
    """A person clicking Save again after an error page."""
    for _ in range(10):
        try:
            return action()
        except Exception:
            continue
    return action()
