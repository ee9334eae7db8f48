"""The demo's closing check over crafted sandbox snapshots (its real input: the systems' own state)."""

from __future__ import annotations

from typing import Any

from syncline.demo.checker import check_month


def _salesforce(*, exceptions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    records = {
        "Account": {
            "001A": {"Syncline_Id__c": "acct-1", "Name": "Acme"},
            "001B": {"Syncline_Id__c": "acct-2", "Name": "Bolt"},
        },
        "Opportunity": {
            "006A": {"StageName": "Closed Won", "Syncline_Id__c": "opp-1", "AccountId": "001A"},
            "006B": {"StageName": "Closed Won", "Syncline_Id__c": "opp-2", "AccountId": "001B"},
            "006C": {"StageName": "Closed Won", "Syncline_Id__c": "opp-3", "AccountId": "001B"},
            "006D": {"StageName": "Negotiation/Review", "Syncline_Id__c": "opp-4", "AccountId": "001B"},
        },
        "Order": {
            "801A": {"OpportunityId": "006A", "Syncline_Id__c": "ord-1", "AccountId": "001A"},
            "801B": {"OpportunityId": "006B", "Syncline_Id__c": "ord-2", "AccountId": "001B"},
            "801C": {"OpportunityId": "006C", "Syncline_Id__c": "ord-3", "AccountId": "001B"},
        },
        "Sync_Exception__c": {f"a0S{i}": record for i, record in enumerate(exceptions or [])},
    }
    return {"store": {"records": records}}


def _netsuite(orders: list[str], customers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "store": {
            "records": {
                "salesOrder": {str(100 + i): {"externalId": key} for i, key in enumerate(orders)},
                "customer": {str(10 + i): c for i, c in enumerate(customers or [])},
            }
        }
    }


def _stripe(orders: list[str], extra: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    subscriptions = {
        f"sub_{i}": {"status": "active", "metadata": {"order_id": key, "syncline_id": key}}
        for i, key in enumerate(orders)
    }
    return {"objects": {"subscription": subscriptions, **(extra or {})}}


OPEN_ON_ORDER_3 = {"Status__c": "Open", "Reason_Code__c": "CREDIT_HOLD", "Record_Id__c": "ord-3"}


def test_every_deal_booked_or_held_with_a_reason_passes() -> None:
    snapshots = {
        "salesforce": _salesforce(exceptions=[OPEN_ON_ORDER_3]),
        "netsuite": _netsuite(["ord-1", "ord-2"]),
        "stripe": _stripe(["ord-1", "ord-2"]),
    }
    result = check_month(snapshots)
    assert (result.deals, result.booked, result.with_exception) == (3, 2, 1)
    assert result.passed
    assert result.as_dict()["open_exceptions_by_reason"] == {"CREDIT_HOLD": 1}


def test_a_deal_booked_on_one_side_without_an_exception_is_unaccounted() -> None:
    snapshots = {
        "salesforce": _salesforce(exceptions=[OPEN_ON_ORDER_3]),
        "netsuite": _netsuite(["ord-1", "ord-2"]),
        "stripe": _stripe(["ord-1"]),
    }
    result = check_month(snapshots)
    assert result.unaccounted == ["opp-2"]
    assert not result.passed
    assert result.as_dict()["unaccounted"] == 1


def test_a_resolved_exception_does_not_account_for_a_deal() -> None:
    resolved = {**OPEN_ON_ORDER_3, "Status__c": "Resolved"}
    snapshots = {
        "salesforce": _salesforce(exceptions=[resolved]),
        "netsuite": _netsuite(["ord-1", "ord-2"]),
        "stripe": _stripe(["ord-1", "ord-2"]),
    }
    assert check_month(snapshots).unaccounted == ["opp-3"]


def test_an_exception_on_the_deals_account_holds_the_deal() -> None:
    on_account = {"Status__c": "Open", "Reason_Code__c": "INVALID_TAX_ID", "Related_Account__c": "001B"}
    snapshots = {
        "salesforce": _salesforce(exceptions=[on_account]),
        "netsuite": _netsuite(["ord-1"]),
        "stripe": _stripe(["ord-1"]),
    }
    result = check_month(snapshots)
    assert result.passed
    assert result.exception_reasons == {"INVALID_TAX_ID": 2}


def test_a_customer_created_twice_in_the_erp_fails_the_check() -> None:
    twins = [
        {"externalId": "acct-1", "url": "https://www.acme.example", "companyName": "Acme"},
        {"externalId": "acct-9", "url": "https://acme.example/", "companyName": "ACME Inc"},
    ]
    snapshots = {
        "salesforce": _salesforce(exceptions=[OPEN_ON_ORDER_3]),
        "netsuite": _netsuite(["ord-1", "ord-2"], customers=twins),
        "stripe": _stripe(["ord-1", "ord-2"]),
    }
    result = check_month(snapshots)
    assert not result.passed
    assert [(d.system, d.kind, d.key) for d in result.duplicates] == [
        ("netsuite", "customer.domain", "acme.example")
    ]
    assert result.as_dict()["duplicates"] == 1


def test_two_live_subscriptions_for_one_order_are_a_duplicate_but_an_expired_one_is_not() -> None:
    stripe = _stripe(["ord-1", "ord-2", "ord-2"])
    snapshots = {
        "salesforce": _salesforce(exceptions=[OPEN_ON_ORDER_3]),
        "netsuite": _netsuite(["ord-1", "ord-2"]),
        "stripe": stripe,
    }
    assert [d.key for d in check_month(snapshots).duplicates] == ["ord-2"]
    stripe["objects"]["subscription"]["sub_2"]["status"] = "incomplete_expired"
    assert check_month(snapshots).passed


def test_no_deal_at_all_does_not_pass() -> None:
    empty = {"salesforce": {"store": {"records": {}}}, "netsuite": _netsuite([]), "stripe": _stripe([])}
    assert not check_month(empty).passed
