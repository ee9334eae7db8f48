"""Flows 4 and 5 end to end: amendments (upsell, co-termed add-on, cancellation) and the version
conflict; billing invoices as read-only Salesforce fields; a storm of duplicate billing events."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flows_kit import Hands, activate_customer, order_event, records, unique

from syncline.contracts import (
    Amendment,
    AmendmentKind,
    BillingFrequency,
    InvoiceSchedule,
    Money,
    Subscription,
    SubscriptionAmended,
    SubscriptionItem,
    SubscriptionStatus,
    new_event,
)
from syncline.runtime import Runtime

MONTHLY = BillingFrequency.MONTHLY


async def booked_order(runtime: Runtime, hands: Hands, label: str) -> tuple[str, str]:
    customer = unique(label)
    await activate_customer(runtime, hands, customer, f"Amend {customer[-8:]} Inc.", f"{customer}.example")
    order = unique("ord")
    hands.create_order(order, customer)
    await runtime.ingest([order_event(order, customer, [("SKU-0001", 2, "49.00", MONTHLY)])])
    assert await runtime.run_until_idle(timeout_s=60)
    assert hands.order(order)["Sync_Status__c"] == "Synced"
    return customer, order


def amendment_event(
    order: str, customer: str, items: list[tuple[str, int, str]], history: list[AmendmentKind]
) -> Any:
    """`subscription.amended` as the CRM sends it: the target subscription and its amendment history."""
    now = datetime.now(UTC)
    amendments = tuple(
        Amendment(sequence=n, kind=kind, effective_date=date.today(), amended_at=now)
        for n, kind in enumerate(history, start=1)
    )
    subscription = Subscription(
        id=order,
        customer_id=customer,
        order_id=order,
        status=SubscriptionStatus.ACTIVE,
        currency="USD",
        items=tuple(
            SubscriptionItem(
                product_sku=sku,
                quantity=Decimal(qty),
                unit_price=Money.of(price, "USD"),
                billing_frequency=MONTHLY,
            )
            for sku, qty, price in items
        ),
        term_months=12,
        start_date=date.today(),
        invoice_schedule=InvoiceSchedule(frequency=MONTHLY),
        amendments=amendments,
        updated_at=now,
    )
    data = SubscriptionAmended(subscription=subscription, amendment=amendments[-1])
    return new_event(
        "syncline.subscription.amended.v1",
        subject=order,
        data=data,
        source_system="salesforce",
        record_id=f"amendment/{order}",
        change_marker=str(len(history)),
    )


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


async def test_upsell_add_on_and_cancellation_reach_billing(runtime: Runtime, hands: Hands) -> None:
    customer, order = await booked_order(runtime, hands, "amend")
    billing_id = hands.order(order)["Billing_Subscription_Id__c"]
    upsell = [AmendmentKind.CHANGE_QUANTITY]
    add_on = [*upsell, AmendmentKind.ADD_ITEM]
    cancel = [*add_on, AmendmentKind.CANCEL]

    await runtime.ingest([amendment_event(order, customer, [("SKU-0001", 5, "49.00")], upsell)])
    assert await runtime.run_until_idle(timeout_s=60)
    assert quantities(stripe_subscription(hands, billing_id)) == {"SKU-0001": 5}

    await runtime.ingest(
        [amendment_event(order, customer, [("SKU-0001", 5, "49.00"), ("SKU-0006", 1, "79.00")], add_on)]
    )
    assert await runtime.run_until_idle(timeout_s=60)
    assert quantities(stripe_subscription(hands, billing_id)) == {"SKU-0001": 5, "SKU-0006": 1}

    await runtime.ingest(
        [amendment_event(order, customer, [("SKU-0001", 5, "49.00"), ("SKU-0006", 1, "79.00")], cancel)]
    )
    assert await runtime.run_until_idle(timeout_s=60)
    assert stripe_subscription(hands, billing_id)["status"] == "canceled"
    assert runtime.counters().flows["subscription_amendment"].completed == 3


async def test_amendment_after_a_change_in_billing_is_a_conflict_not_an_overwrite(
    runtime: Runtime, hands: Hands
) -> None:
    customer, order = await booked_order(runtime, hands, "conflict")
    billing_id = hands.order(order)["Billing_Subscription_Id__c"]
    item = stripe_subscription(hands, billing_id)["items"]["data"][0]["id"]
    # Someone changes the quantity directly in billing.
    hands.stripe.post(
        f"/v1/subscriptions/{billing_id}", data={"items[0][id]": item, "items[0][quantity]": "3"}
    ).raise_for_status()

    await runtime.ingest(
        [amendment_event(order, customer, [("SKU-0001", 7, "49.00")], [AmendmentKind.CHANGE_QUANTITY])]
    )
    assert await runtime.run_until_idle(timeout_s=60)

    assert runtime.counters().flows["subscription_amendment"].exceptions == {"VERSION_CONFLICT": 1}
    assert quantities(stripe_subscription(hands, billing_id)) == {"SKU-0001": 3}  # billing's change kept
    assert [r["Reason_Code__c"] for r in hands.exceptions_for(order)] == ["VERSION_CONFLICT"]
    assert hands.order(order)["Sync_Status__c"] == "Error"


async def test_invoices_become_read_only_fields_and_a_duplicate_storm_changes_nothing(
    runtime: Runtime, hands: Hands
) -> None:
    _customer, order = await booked_order(runtime, hands, "inv")
    first = await runtime.poll_stripe()
    assert first.accepted  # the subscription's first invoice was posted
    assert await runtime.run_until_idle(timeout_s=60)

    invoices = [
        i for i in records(hands.snapshot("stripe"), "invoice") if i.get("subscription") or i.get("parent")
    ]
    shown = hands.order(order)
    numbers = {i.get("number") for i in invoices}
    assert shown["Invoice_Number__c"] and shown["Invoice_Number__c"] in numbers
    assert shown["Invoice_Status__c"] in {"Open", "Paid", "Overdue"}
    completed = runtime.counters().flows["invoice_status"].completed

    # The same billing events delivered again and again, concurrently: nothing new happens.
    events = [dict(e) for e in records(hands.snapshot("stripe"), "event")]
    storm = await asyncio.gather(*(runtime.ingest_stripe_events(events) for _ in range(5)))
    assert all(result.accepted == () for result in storm)
    assert sum(len(result.duplicates) for result in storm) >= 5
    assert await runtime.run_until_idle(timeout_s=60)
    assert runtime.counters().flows["invoice_status"].completed == completed
    assert hands.order(order)["Invoice_Number__c"] == shown["Invoice_Number__c"]
