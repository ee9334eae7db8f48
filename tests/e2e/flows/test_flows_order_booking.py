"""Flow 3 end to end: validations, the parallel ERP order and billing subscription, the partial
failure held as an exception and its replay without a duplicate on the side that had accepted."""

from __future__ import annotations

from flows_kit import Hands, activate_customer, order_event, records, unique

from syncline.connectors.netsuite.mapping import external_id_for
from syncline.contracts import BillingFrequency
from syncline.runtime import Runtime

MONTHLY, ONE_TIME = BillingFrequency.MONTHLY, BillingFrequency.ONE_TIME


def subscriptions_for(hands: Hands, order_key: str) -> list[dict[str, object]]:
    subs = records(hands.snapshot("stripe"), "subscription")
    return [s for s in subs if (s.get("metadata") or {}).get("syncline_id") == order_key]


def sales_orders_for(hands: Hands, order_key: str) -> list[dict[str, object]]:
    orders = records(hands.snapshot("netsuite"), "salesOrder")
    return [o for o in orders if o.get("externalId") == external_id_for(order_key)]


async def test_order_books_in_erp_and_billing_and_writes_back(runtime: Runtime, hands: Hands) -> None:
    customer = unique("cust")
    await activate_customer(
        runtime, hands, customer, f"Happy Path {customer[-8:]} Inc.", f"{customer}.example"
    )
    order = unique("ord")
    hands.create_order(order, customer)
    lines = [("SKU-0001", 2, "49.00", MONTHLY), ("SKU-0005", 1, "1500.00", ONE_TIME)]
    await runtime.ingest([order_event(order, customer, lines)])
    assert await runtime.run_until_idle(timeout_s=60)

    written = hands.order(order)
    assert written["Sync_Status__c"] == "Synced"
    [sales_order] = sales_orders_for(hands, order)
    assert written["ERP_Order_Id__c"] == str(sales_order["id"])
    [subscription] = subscriptions_for(hands, order)
    assert written["Billing_Subscription_Id__c"] == subscription["id"]
    assert runtime.counters().flows["order_booking"].completed == 1


async def test_credit_hold_after_billing_accepted_is_held_then_replayed_without_duplicate(
    runtime: Runtime, hands: Hands
) -> None:
    customer = unique("held")
    # The account is the ERP's seeded customer that is over its credit limit (matched by domain).
    await activate_customer(runtime, hands, customer, "Overdue Outfitters LLC", "overdue-outfitters.example")
    order = unique("ord")
    hands.create_order(order, customer)
    await runtime.ingest([order_event(order, customer, [("SKU-0002", 1, "149.00", MONTHLY)])])
    assert await runtime.run_until_idle(timeout_s=60)

    # Held: billing accepted, the ERP refused. Visible in the ledger, Salesforce record and fields.
    assert runtime.counters().flows["order_booking"].exceptions == {"CREDIT_HOLD": 1}
    assert len(subscriptions_for(hands, order)) == 1
    assert sales_orders_for(hands, order) == []
    with runtime.ledger.read() as session:
        [task] = [t for t in session.list_exceptions() if t.reason_code == "CREDIT_HOLD"]
    [shown] = hands.exceptions_for(order)
    assert (shown["Reason_Code__c"], shown["Status__c"]) == ("CREDIT_HOLD", "Open")
    assert shown["Related_Order__c"] == hands.order(order)["Id"]
    assert hands.order(order)["Sync_Status__c"] == "Error"

    # Finance lifts the limit in the ERP; the operator resolves the exception and replays.
    erp_customer = hands.account(customer)["ERP_Customer_Id__c"]
    await runtime.clients.netsuite.update_record("customer", erp_customer, {"creditLimit": 10_000_000})
    runtime.resolve_exception(task.id, reason="credit limit raised by finance")
    assert await runtime.run_until_idle(timeout_s=60)

    assert len(subscriptions_for(hands, order)) == 1  # the accepted side was not called again
    [sales_order] = sales_orders_for(hands, order)
    written = hands.order(order)
    assert written["Sync_Status__c"] == "Synced" and written["Sync_Error__c"] is None
    assert written["ERP_Order_Id__c"] == str(sales_order["id"])
    assert [r["Status__c"] for r in hands.exceptions_for(order)] == ["Resolved"]
    counters = runtime.counters().flows["order_booking"]
    assert counters.completed == 1 and counters.exceptions == {}


async def test_validation_problems_are_exceptions_before_any_write(runtime: Runtime, hands: Hands) -> None:
    customer = unique("val")
    await activate_customer(
        runtime, hands, customer, f"Validation {customer[-8:]} Inc.", f"{customer}.example"
    )
    inactive, mismatch, outdated = unique("ord"), unique("ord"), unique("ord")
    for key in (inactive, mismatch, outdated):
        hands.create_order(key, customer)
    await runtime.deps.catalog.record_version(runtime.settings.flows.price_book, "2026.2")
    await runtime.ingest(
        [
            order_event(inactive, customer, [("SKU-0013", 1, "99.00", MONTHLY)], pricing_version="2026.2"),
            order_event(mismatch, customer, [("SKU-0008", 1, "99.00", MONTHLY)], pricing_version="2026.2"),
            order_event(outdated, customer, [("SKU-0001", 1, "49.00", MONTHLY)], pricing_version="2026.1"),
        ]
    )
    assert await runtime.run_until_idle(timeout_s=60)

    assert runtime.counters().flows["order_booking"].exceptions == {
        "CATALOG_MISMATCH": 1,
        "INACTIVE_PRODUCT": 1,
        "PRICING_VERSION_OUTDATED": 1,
    }
    for key, reason in (
        (inactive, "INACTIVE_PRODUCT"),
        (mismatch, "CATALOG_MISMATCH"),
        (outdated, "PRICING_VERSION_OUTDATED"),
    ):
        assert [r["Reason_Code__c"] for r in hands.exceptions_for(key)] == [reason]
        assert subscriptions_for(hands, key) == [] and sales_orders_for(hands, key) == []


async def test_order_for_an_account_flow_1_never_saw_starts_it_and_waits(
    runtime: Runtime, hands: Hands
) -> None:
    customer = unique("new")
    hands.create_account(
        customer, f"Never Synced {customer[-8:]} Inc.", website=f"https://{customer}.example"
    )
    order = unique("ord")
    hands.create_order(order, customer)
    await runtime.ingest([order_event(order, customer, [("SKU-0004", 1, "299.00", MONTHLY)])])
    assert await runtime.run_until_idle(timeout_s=60)

    assert hands.account(customer)["Sync_Status__c"] == "Synced"  # flow 1 ran, started by the order
    assert hands.order(order)["Sync_Status__c"] == "Synced"
    assert len(sales_orders_for(hands, order)) == 1 and len(subscriptions_for(hands, order)) == 1
    counters = runtime.counters()
    assert counters.flows["customer"].completed == 1 and counters.flows["order_booking"].completed == 1
    assert set(counters.api_calls) == {"salesforce", "netsuite", "stripe"}
    assert all(calls > 0 for calls in counters.api_calls.values())
    assert counters.flows["order_booking"].percentile(0.95) is not None


async def test_order_activated_in_salesforce_is_booked_from_the_change_feed(
    runtime: Runtime, hands: Hands
) -> None:
    customer = unique("cdc")
    await activate_customer(
        runtime, hands, customer, f"Feed Driven {customer[-8:]} Inc.", f"{customer}.example"
    )
    await runtime.poll_salesforce()  # the account's own changes are behind us (and echoes dropped)
    std = hands.sf_info["standard_pricebook_id"]
    # Sales ops sells the ERP's SKU-0002 in Salesforce (a product and its standard price).
    product = hands.sf_call(
        "POST",
        "sobjects/Product2",
        json={"Name": "Pro Platform", "ProductCode": "SKU-0002", "IsActive": True},
    )["id"]
    entry = {
        "Id": hands.sf_call(
            "POST",
            "sobjects/PricebookEntry",
            json={
                "Pricebook2Id": std,
                "Product2Id": product,
                "UnitPrice": 1490,
                "IsActive": True,
                "CurrencyIsoCode": "USD",
            },
        )["id"],
        "UnitPrice": 1490,
    }
    order = unique("ord")
    order_id = hands.create_order(order, customer)
    hands.sf_call("PATCH", f"sobjects/Order/{order_id}", json={"Pricebook2Id": std})
    hands.sf_call(
        "POST",
        "sobjects/OrderItem",
        json={
            "OrderId": order_id,
            "PricebookEntryId": entry["Id"],
            "Quantity": 3,
            "UnitPrice": entry["UnitPrice"],
        },
    )
    hands.sf_call("PATCH", f"sobjects/Order/{order_id}", json={"Status": "Activated"})

    fed = await runtime.poll_salesforce()
    assert fed.accepted  # the activation became order.booked
    assert await runtime.run_until_idle(timeout_s=60)
    written = hands.order(order)
    assert written["Sync_Status__c"] == "Synced", written
    assert len(sales_orders_for(hands, order)) == 1 and len(subscriptions_for(hands, order)) == 1
