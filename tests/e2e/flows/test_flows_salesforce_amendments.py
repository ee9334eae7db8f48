"""Flow 4 driven from Salesforce: an activated amendment Order (Amendment_Type__c, Original_Order__c,
Amendment_Number__c; its lines the subscription as it should be) comes through the change feed as
`subscription.amended` and changes the billing subscription with proration — unless billing changed
the subscription since our last sync, which is a VERSION_CONFLICT exception, not an overwrite."""

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


async def test_upsell_add_on_and_cancel_in_salesforce_change_the_billing_subscription(
    runtime: Runtime, hands: Hands
) -> None:
    customer, order, order_id = await booked(runtime, hands, "sfamend")
    billing_id = hands.order(order)["Billing_Subscription_Id__c"]

    amend_in_salesforce(hands, customer, order_id, "Upsell", 1, [("SKU-0001", 5, 49)])
    assert (await runtime.poll_salesforce()).accepted  # the activation became subscription.amended
    assert await runtime.run_until_idle(timeout_s=60)
    upsold = stripe_subscription(hands, billing_id)
    assert quantities(upsold) == {"SKU-0001": 5}

    amend_in_salesforce(hands, customer, order_id, "Add_On", 2, [("SKU-0001", 5, 49), ("SKU-0006", 1, 79)])
    assert (await runtime.poll_salesforce()).accepted
    assert await runtime.run_until_idle(timeout_s=60)
    assert quantities(stripe_subscription(hands, billing_id)) == {"SKU-0001": 5, "SKU-0006": 1}

    amend_in_salesforce(hands, customer, order_id, "Cancel", 3, [("SKU-0001", 5, 49), ("SKU-0006", 1, 79)])
    assert (await runtime.poll_salesforce()).accepted
    assert await runtime.run_until_idle(timeout_s=60)
    assert stripe_subscription(hands, billing_id)["status"] == "canceled"
    amendments = runtime.counters().flows["subscription_amendment"]
    assert amendments.completed == 3 and amendments.exceptions == {}
    assert hands.order(order)["Sync_Status__c"] == "Synced"  # written back to the original order
