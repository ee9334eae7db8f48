"""Quote-to-cash platform rules over HTTP: order from an approved quote, activation, write-back fields."""

from __future__ import annotations

from typing import Any

import httpx


def _query(api: httpx.Client, soql: str) -> list[dict[str, Any]]:
    response = api.get("query", params={"q": soql})
    assert response.status_code == 200, response.text
    return list(response.json()["records"])


def test_order_from_an_approved_quote(api: httpx.Client, sf_info: dict[str, Any]) -> None:
    quote = _query(
        api,
        "SELECT Id, OpportunityId, AccountId, Pricebook2Id, ContactId, GrandTotal, Opportunity.StageName "
        "FROM Quote WHERE Status = 'Approved' ORDER BY QuoteNumber LIMIT 1",
    )[0]
    assert quote["Opportunity"]["StageName"] == "Negotiation/Review"
    lines = _query(
        api,
        "SELECT PricebookEntryId, Quantity, UnitPrice, TotalPrice FROM QuoteLineItem "
        f"WHERE QuoteId = '{quote['Id']}'",
    )
    assert round(sum(line["TotalPrice"] for line in lines), 2) == quote["GrandTotal"]
    assert (
        api.patch(
            f"sobjects/Opportunity/{quote['OpportunityId']}", json={"StageName": "Closed Won"}
        ).status_code
        == 204
    )
    won = api.get(f"sobjects/Opportunity/{quote['OpportunityId']}").json()
    assert won["IsWon"] is True and won["IsClosed"] is True and won["Probability"] == 100

    order = api.patch(
        "sobjects/Order/Syncline_Id__c/ORD-Q2C-1",
        json={
            "AccountId": quote["AccountId"],
            "OpportunityId": quote["OpportunityId"],
            "QuoteId": quote["Id"],
            "EffectiveDate": "2026-12-01",
            "Pricebook2Id": quote["Pricebook2Id"],
            "Type": "New",
        },
    ).json()
    assert order["created"] is True
    for line in lines:
        item = api.post(
            "sobjects/OrderItem",
            json={
                "OrderId": order["id"],
                "PricebookEntryId": line["PricebookEntryId"],
                "Quantity": line["Quantity"],
                "UnitPrice": line["UnitPrice"],
            },
        )
        assert item.status_code == 201, item.text
    draft = api.get(f"sobjects/Order/{order['id']}").json()
    assert draft["Status"] == "Draft" and draft["OrderNumber"].isdigit()
    assert draft["TotalAmount"] == round(sum(line["TotalPrice"] for line in lines), 2)

    refused = api.patch(f"sobjects/Order/{order['id']}", json={"Status": "Activated"})
    assert (
        refused.status_code == 400 and refused.json()[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    )
    activated = api.patch(
        f"sobjects/Order/{order['id']}", json={"Status": "Activated", "BillToContactId": quote["ContactId"]}
    )
    assert activated.status_code == 204
    active = api.get(f"sobjects/Order/{order['id']}").json()
    assert active["StatusCode"] == "Activated" and active["ActivatedById"] == sf_info["integration_user_id"]
    frozen = api.post(
        "sobjects/OrderItem",
        json={
            "OrderId": order["id"],
            "PricebookEntryId": lines[0]["PricebookEntryId"],
            "Quantity": 1,
            "UnitPrice": 1,
        },
    )
    assert frozen.status_code == 400 and frozen.json()[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"

    writeback = api.patch(
        "sobjects/Order/Syncline_Id__c/ORD-Q2C-1",
        json={
            "ERP_Order_Id__c": "SO-1001",
            "Sync_Status__c": "Synced",
            "Invoice_Status__c": "Open",
            "Amount_Due__c": 99.5,
        },
    )
    assert writeback.status_code == 200 and writeback.json()["created"] is False
    assert _query(api, "SELECT Id FROM Order WHERE ERP_Order_Id__c = 'SO-1001'")[0]["Id"] == order["id"]


def test_custom_price_book_entry_needs_a_standard_price(api: httpx.Client, sf_info: dict[str, Any]) -> None:
    product = api.post("sobjects/Product2", json={"Name": "Unpriced", "IsActive": True}).json()["id"]
    partner = _query(api, "SELECT Id FROM Pricebook2 WHERE Name = 'Partner Price Book'")[0]["Id"]
    refused = api.post(
        "sobjects/PricebookEntry", json={"Pricebook2Id": partner, "Product2Id": product, "UnitPrice": 5}
    )
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "STANDARD_PRICE_NOT_DEFINED"
    standard = {
        "Pricebook2Id": sf_info["standard_pricebook_id"],
        "Product2Id": product,
        "UnitPrice": 7,
        "IsActive": True,
    }
    assert api.post("sobjects/PricebookEntry", json=standard).status_code == 201
    duplicate = api.post("sobjects/PricebookEntry", json=standard)
    assert duplicate.status_code == 400 and duplicate.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    assert (
        api.post(
            "sobjects/PricebookEntry", json={"Pricebook2Id": partner, "Product2Id": product, "UnitPrice": 5}
        ).status_code
        == 201
    )
    entry = _query(
        api, f"SELECT Name, Product2.Name FROM PricebookEntry WHERE Product2Id = '{product}' LIMIT 1"
    )[0]
    assert entry["Name"] == "Unpriced" and entry["Product2"]["Name"] == "Unpriced"


def test_validation_rule_added_through_the_admin_hook(http: httpx.Client, api: httpx.Client) -> None:
    rule = {
        "object": "Contact",
        "name": "Email_Required_For_Billing",
        "when": {"Title": "Billing"},
        "require": ["Email"],
        "message": "Billing contacts need an email address.",
        "error_field": "Email",
    }
    assert http.post("/__admin/validation-rules", json=rule).status_code == 200
    try:
        refused = api.post("sobjects/Contact", json={"LastName": "Payer", "Title": "Billing"})
        assert refused.json() == [
            {
                "message": "Billing contacts need an email address.",
                "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                "fields": ["Email"],
            }
        ]
    finally:
        http.delete("/__admin/validation-rules", params={"name": "Email_Required_For_Billing"})
    assert api.post("sobjects/Contact", json={"LastName": "Payer", "Title": "Billing"}).status_code == 201
