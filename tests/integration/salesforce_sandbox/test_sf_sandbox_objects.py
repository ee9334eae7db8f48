"""Create, read, update and delete work on every simulated object, with the right key prefix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

Ids = dict[str, str]


@pytest.fixture(scope="module")
def seeded(api: httpx.Client, sf_info: dict[str, Any]) -> Ids:
    def first(soql: str) -> str:
        return str(api.get("query", params={"q": soql}).json()["records"][0]["Id"])

    opportunity = first("SELECT Id FROM Opportunity WHERE SyncedQuoteId != null LIMIT 1")
    return {
        "account": first("SELECT Id FROM Account LIMIT 1"),
        "contact": first("SELECT Id FROM Contact LIMIT 1"),
        "product": first("SELECT Id FROM Product2 LIMIT 1"),
        "entry": first(
            "SELECT Id FROM PricebookEntry "
            "WHERE Pricebook2.IsStandard = true AND CurrencyIsoCode = 'USD' LIMIT 1"
        ),
        "opportunity": opportunity,
        "quote": first(f"SELECT Id FROM Quote WHERE OpportunityId = '{opportunity}'"),
        "standard": sf_info["standard_pricebook_id"],
    }


def _order(api: httpx.Client, ids: Ids) -> str:
    body = {"AccountId": ids["account"], "EffectiveDate": "2026-12-01", "Pricebook2Id": ids["standard"]}
    return str(api.post("sobjects/Order", json=body).json()["id"])


CASES: list[tuple[str, str, Callable[[httpx.Client, Ids], dict[str, Any]], dict[str, Any]]] = [
    ("Account", "001", lambda a, i: {"Name": "Obj Account"}, {"Phone": "1"}),
    ("Contact", "003", lambda a, i: {"LastName": "Obj", "AccountId": i["account"]}, {"Title": "CFO"}),
    ("Product2", "01t", lambda a, i: {"Name": "Obj Product"}, {"IsActive": True}),
    ("Pricebook2", "01s", lambda a, i: {"Name": "Obj Book"}, {"IsActive": True}),
    (
        "PricebookEntry",
        "01u",
        lambda a, i: {
            "Pricebook2Id": i["standard"],
            "Product2Id": i["product"],
            "UnitPrice": 1,
            "CurrencyIsoCode": "GBP",
        },
        {"UnitPrice": 2},
    ),
    (
        "Opportunity",
        "006",
        lambda a, i: {"Name": "Obj Opp", "StageName": "Prospecting", "CloseDate": "2026-12-31"},
        {"Amount": 10},
    ),
    (
        "OpportunityLineItem",
        "00k",
        lambda a, i: {"OpportunityId": i["opportunity"], "PricebookEntryId": i["entry"], "Quantity": 2},
        {"Quantity": 3},
    ),
    (
        "Quote",
        "0Q0",
        lambda a, i: {"Name": "Obj Quote", "OpportunityId": i["opportunity"]},
        {"Status": "Presented"},
    ),
    (
        "QuoteLineItem",
        "0QL",
        lambda a, i: {"QuoteId": i["quote"], "PricebookEntryId": i["entry"], "Quantity": 1, "UnitPrice": 9},
        {"Quantity": 4},
    ),
    (
        "Contract",
        "800",
        lambda a, i: {"AccountId": i["account"], "StartDate": "2026-01-15", "ContractTerm": 12},
        {"ContractTerm": 24},
    ),
    (
        "Order",
        "801",
        lambda a, i: {"AccountId": i["account"], "EffectiveDate": "2026-12-01"},
        {"PoNumber": "PO-1"},
    ),
    (
        "OrderItem",
        "802",
        lambda a, i: {"OrderId": _order(a, i), "PricebookEntryId": i["entry"], "Quantity": 1, "UnitPrice": 5},
        {"Quantity": 2},
    ),
    (
        "Task",
        "00T",
        lambda a, i: {"Subject": "Call", "WhatId": i["account"], "WhoId": i["contact"]},
        {"Status": "Completed"},
    ),
    (
        "Sync_Exception__c",
        "a0S",
        lambda a, i: {"Reason_Code__c": "X", "Message__c": "m"},
        {"Status__c": "Resolved"},
    ),
]


@pytest.mark.parametrize(("name", "prefix", "make", "change"), CASES, ids=[c[0] for c in CASES])
def test_crud_on_every_object(
    api: httpx.Client,
    seeded: Ids,
    name: str,
    prefix: str,
    make: Callable[[httpx.Client, Ids], dict[str, Any]],
    change: dict[str, Any],
) -> None:
    created = api.post(f"sobjects/{name}", json=make(api, seeded))
    assert created.status_code == 201, created.text
    record_id = created.json()["id"]
    assert record_id.startswith(prefix) and len(record_id) == 18
    assert api.patch(f"sobjects/{name}/{record_id}", json=change).status_code == 204
    record = api.get(f"sobjects/{name}/{record_id}").json()
    assert record["attributes"]["type"] == name
    for field, value in change.items():
        assert record[field] == value
    assert api.delete(f"sobjects/{name}/{record_id}").status_code == 204
    assert api.get(f"sobjects/{name}/{record_id}").status_code == 404


def test_derived_fields(api: httpx.Client, seeded: Ids) -> None:
    contract = api.post(
        "sobjects/Contract",
        json={"AccountId": seeded["account"], "StartDate": "2026-01-15", "ContractTerm": 12},
    ).json()["id"]
    record = api.get(f"sobjects/Contract/{contract}").json()
    assert (
        record["EndDate"] == "2027-01-14"
        and record["StatusCode"] == "Draft"
        and record["ContractNumber"].isdigit()
    )
    line = api.post(
        "sobjects/OpportunityLineItem",
        json={
            "OpportunityId": seeded["opportunity"],
            "PricebookEntryId": seeded["entry"],
            "Quantity": 2,
            "Discount": 10,
        },
    ).json()["id"]
    item = api.get(f"sobjects/OpportunityLineItem/{line}").json()
    assert item["UnitPrice"] == item["ListPrice"] and item["Product2Id"]
    assert item["TotalPrice"] == round(2 * item["UnitPrice"] * 0.9, 2)
