"""Flow 3 started by an approved quote in Salesforce, keyed by the deal: the quote books the ERP order
and the subscription and writes back to the Quote and its Opportunity; the Order later created from
that quote and activated converges on the same booking (no second ERP order, no second subscription)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flows_kit import Hands, activate_customer, records, unique

from syncline.connectors.netsuite.mapping import external_id_for
from syncline.runtime import Runtime


def sell_sku(hands: Hands, sku: str, price: int) -> str:
    """Sales ops sells the ERP's SKU in Salesforce: a product and its standard price; the entry id."""
    std = hands.sf_info["standard_pricebook_id"]
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


def deal_records(hands: Hands, kind: str, deal: str) -> list[dict[str, Any]]:
    if kind == "salesOrder":
        return [
            o
            for o in records(hands.snapshot("netsuite"), "salesOrder")
            if o.get("externalId") == external_id_for(deal)
        ]
    subs = records(hands.snapshot("stripe"), "subscription")
    return [s for s in subs if (s.get("metadata") or {}).get("syncline_id") == deal]


async def test_approved_quote_books_once_and_its_activated_order_converges(
    runtime: Runtime, hands: Hands
) -> None:
    customer = unique("quote")
    await activate_customer(runtime, hands, customer, f"Quoted {customer[-8:]} Inc.", f"{customer}.example")
    await runtime.poll_salesforce()  # the account's own changes are behind us
    account = hands.account(customer)["Id"]
    std = hands.sf_info["standard_pricebook_id"]
    entry = sell_sku(hands, "SKU-0002", 1490)

    opportunity = hands.sf_call(
        "POST",
        "sobjects/Opportunity",
        json={
            "Name": "Expansion",
            "StageName": "Proposal/Price Quote",
            "CloseDate": date.today().isoformat(),
            "AccountId": account,
        },
    )["id"]
    quote = hands.sf_call(
        "POST", "sobjects/Quote", json={"Name": "Q1", "OpportunityId": opportunity, "Pricebook2Id": std}
    )["id"]
    hands.sf_call(
        "POST",
        "sobjects/QuoteLineItem",
        json={"QuoteId": quote, "PricebookEntryId": entry, "Quantity": 3, "UnitPrice": 1490},
    )
    hands.sf_call("PATCH", f"sobjects/Quote/{quote}", json={"Status": "Approved"})

    fed = await runtime.poll_salesforce()
    assert fed.accepted  # the approval became quote.approved
    assert await runtime.run_until_idle(timeout_s=60)
    deal = f"salesforce.{quote}"
    [sales_order] = deal_records(hands, "salesOrder", deal)
    [subscription] = deal_records(hands, "subscription", deal)
    fields = "ERP_Order_Id__c, Billing_Subscription_Id__c, Sync_Status__c, Sync_Error__c"
    [on_quote] = hands.soql(f"SELECT {fields} FROM Quote WHERE Id = '{quote}'")
    [on_opportunity] = hands.soql(f"SELECT {fields} FROM Opportunity WHERE Id = '{opportunity}'")
    for written in (on_quote, on_opportunity):
        assert written["ERP_Order_Id__c"] == str(sales_order["id"])
        assert written["Billing_Subscription_Id__c"] == subscription["id"]
        assert (written["Sync_Status__c"], written["Sync_Error__c"]) == ("Synced", None)
    assert (await runtime.poll_salesforce()).accepted == ()  # the write-back is no new approval

    # The same deal later produces an Order from the quote, activated: it must not book again.
    order_key = unique("ord")
    order = hands.create_order(order_key, customer)
    hands.sf_call("PATCH", f"sobjects/Order/{order}", json={"Pricebook2Id": std, "QuoteId": quote})
    hands.sf_call(
        "POST",
        "sobjects/OrderItem",
        json={"OrderId": order, "PricebookEntryId": entry, "Quantity": 3, "UnitPrice": 1490},
    )
    hands.sf_call("PATCH", f"sobjects/Order/{order}", json={"Status": "Activated"})
    assert (await runtime.poll_salesforce()).accepted  # order.booked, naming the quote
    assert await runtime.run_until_idle(timeout_s=60)

    assert len(deal_records(hands, "salesOrder", deal)) == 1  # one deal, one ERP order
    assert len(deal_records(hands, "subscription", deal)) == 1  # and one subscription
    assert deal_records(hands, "salesOrder", order_key) == []
    written = hands.order(order_key)
    assert written["ERP_Order_Id__c"] == str(sales_order["id"]) and written["Sync_Status__c"] == "Synced"
    booking = runtime.counters().flows["order_booking"]
    assert booking.exceptions == {} and booking.dead_letters == 0  # every event of the deal converged

    # The subscription's invoice shows on the account (a quote-booked deal has no Order of its own
    # key), never as an upsert of a non-existent Order.
    assert (await runtime.poll_stripe()).accepted
    assert await runtime.run_until_idle(timeout_s=60)
    invoices = runtime.counters().flows["invoice_status"]
    assert invoices.exceptions == {} and invoices.dead_letters == 0
    assert hands.account(customer)["Invoice_Number__c"]
