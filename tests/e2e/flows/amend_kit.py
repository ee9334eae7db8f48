"""Helpers of the Salesforce-amendment tests: a monthly-selling runtime, a booked order, and an
amendment Order activated in Salesforce by hand; billing's view of the subscription."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flows_kit import Hands, activate_customer, order_event, unique

from syncline.connectors.salesforce import MappingDefaults
from syncline.contracts import BillingFrequency
from syncline.flows import FlowSettings
from syncline.runtime import Runtime, RuntimeSettings

MONTHLY = BillingFrequency.MONTHLY


async def monthly_runtime(info: dict[str, Any], tmp_path: Path) -> AsyncIterator[Runtime]:
    """This org sells monthly: lines without Billing_Frequency__c are monthly (as the bookings are)."""
    settings = RuntimeSettings(
        database_url=f"sqlite:///{tmp_path}/ledger.db",
        flows=FlowSettings(
            approval_timeout=timedelta(seconds=30),
            approval_poll=timedelta(milliseconds=100),
            customer_wait_timeout=timedelta(seconds=30),
            customer_wait_poll=timedelta(milliseconds=100),
        ),
        mapping_defaults=MappingDefaults(legal_entity="Syncline Inc.", billing_frequency=MONTHLY),
    )
    running = await Runtime.start(settings, info)
    try:
        yield running
    finally:
        await running.close()


def sell_sku(hands: Hands, sku: str, price: int) -> str:
    std = hands.sf_info["standard_pricebook_id"]
    found = hands.soql(
        f"SELECT Id FROM PricebookEntry WHERE Product2.ProductCode = '{sku}' AND Pricebook2Id = '{std}'"
    )
    if found:
        return str(found[0]["Id"])
    product = hands.sf_call(
        "POST", "sobjects/Product2", json={"Name": f"Product {sku}", "ProductCode": sku, "IsActive": True}
    )["id"]
    body = {
        "Pricebook2Id": std,
        "Product2Id": product,
        "UnitPrice": price,
        "IsActive": True,
        "CurrencyIsoCode": "USD",
    }
    return str(hands.sf_call("POST", "sobjects/PricebookEntry", json=body)["id"])


async def booked(runtime: Runtime, hands: Hands, label: str) -> tuple[str, str, str]:
    """A customer and its order booked (SKU-0001 x 2 monthly); (customer key, order key, SF order id)."""
    customer = unique(label)
    await activate_customer(runtime, hands, customer, f"Amended {customer[-8:]} Inc.", f"{customer}.example")
    order = unique("ord")
    order_id = hands.create_order(order, customer)
    await runtime.ingest([order_event(order, customer, [("SKU-0001", 2, "49.00", MONTHLY)])])
    assert await runtime.run_until_idle(timeout_s=60)
    assert hands.order(order)["Sync_Status__c"] == "Synced"
    await runtime.poll_salesforce()  # the write-backs are behind us
    return customer, order, order_id


def amend_in_salesforce(
    hands: Hands, customer: str, original: str, kind: str, number: int, lines: list[tuple[str, int, int]]
) -> str:
    """Sales ops activates an amendment order of `original` whose lines are the new subscription."""
    account = hands.account(customer)["Id"]
    std = hands.sf_info["standard_pricebook_id"]
    body = {
        "AccountId": account,
        "EffectiveDate": date.today().isoformat(),
        "Status": "Draft",
        "Pricebook2Id": std,
        "Type": "Amendment",
        "Amendment_Type__c": kind,
        "Amendment_Number__c": number,
        "Original_Order__c": original,
    }
    amendment = str(hands.sf_call("POST", "sobjects/Order", json=body)["id"])
    for sku, quantity, price in lines:
        item = {
            "OrderId": amendment,
            "PricebookEntryId": sell_sku(hands, sku, price),
            "Quantity": quantity,
            "UnitPrice": price,
        }
        hands.sf_call("POST", "sobjects/OrderItem", json=item)
    hands.sf_call("PATCH", f"sobjects/Order/{amendment}", json={"Status": "Activated"})
    return amendment


def stripe_subscription(hands: Hands, billing_id: str) -> dict[str, Any]:
    response = hands.stripe.get(f"/v1/subscriptions/{billing_id}")
    response.raise_for_status()
    return dict(response.json())


def quantities(subscription: dict[str, Any]) -> dict[str, int]:
    return {
        (item.get("metadata") or {}).get("sku") or item["price"]["lookup_key"].split(":")[0]: int(
            item["quantity"]
        )
        for item in subscription["items"]["data"]
    }
