"""Flow 4 from Salesforce, the conflict path: billing changed the subscription since our last sync, so
the Salesforce amendment is a VERSION_CONFLICT exception, not an overwrite. (Its own module: a fresh
ledger reads the sandbox's change feed from the start, so it gets sandboxes of its own.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from amend_kit import amend_in_salesforce, booked, monthly_runtime, quantities, stripe_subscription
from flows_kit import Hands

from syncline.runtime import Runtime


@pytest.fixture
async def runtime(info: dict[str, Any], tmp_path: Path) -> AsyncIterator[Runtime]:
    async for running in monthly_runtime(info, tmp_path):
        yield running


async def test_salesforce_amendment_after_a_change_in_billing_is_a_conflict(
    runtime: Runtime, hands: Hands
) -> None:
    customer, order, order_id = await booked(runtime, hands, "sfconflict")
    billing_id = hands.order(order)["Billing_Subscription_Id__c"]
    item = stripe_subscription(hands, billing_id)["items"]["data"][0]["id"]
    hands.stripe.post(
        f"/v1/subscriptions/{billing_id}", data={"items[0][id]": item, "items[0][quantity]": "3"}
    ).raise_for_status()  # someone changes the quantity directly in billing

    amend_in_salesforce(hands, customer, order_id, "Downsell", 1, [("SKU-0001", 1, 49)])
    assert (await runtime.poll_salesforce()).accepted
    assert await runtime.run_until_idle(timeout_s=60)

    assert runtime.counters().flows["subscription_amendment"].exceptions == {"VERSION_CONFLICT": 1}
    assert quantities(stripe_subscription(hands, billing_id)) == {"SKU-0001": 3}  # billing's change kept
    assert [r["Reason_Code__c"] for r in hands.exceptions_for(order)] == ["VERSION_CONFLICT"]
    assert hands.order(order)["Sync_Status__c"] == "Error"
