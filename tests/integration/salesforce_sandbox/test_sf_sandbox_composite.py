"""Composite and sObject Collections through simple-salesforce `restful`; SOQL paging past 2,000 rows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest


def _base(sf_info: dict[str, Any]) -> str:
    return f"/services/data/v{sf_info['api_version']}"


def test_composite_references_earlier_results(sf: Salesforce, sf_info: dict[str, Any]) -> None:
    base = _base(sf_info)
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"{base}/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Composite Co"},
            },
            {
                "method": "POST",
                "url": f"{base}/sobjects/Contact",
                "referenceId": "contact",
                "body": {"LastName": "Comp", "AccountId": "@{acct.id}"},
            },
            {
                "method": "GET",
                "url": f"{base}/sobjects/Account/@{{acct.id}}?fields=Name",
                "referenceId": "read",
            },
            {
                "method": "GET",
                "url": f"{base}/query?q=SELECT+Id+FROM+Contact+WHERE+AccountId+=+'@{{acct.id}}'",
                "referenceId": "q",
            },
        ],
    }
    result = sf.restful("composite", method="POST", json=body)
    items = result["compositeResponse"]
    assert [i["httpStatusCode"] for i in items] == [201, 201, 200, 200]
    assert items[0]["httpHeaders"]["Location"].endswith(items[0]["body"]["id"])
    assert items[2]["body"]["Name"] == "Composite Co"
    assert items[3]["body"]["records"][0]["Id"] == items[1]["body"]["id"]


def test_composite_all_or_none_rolls_back(sf: Salesforce, sf_info: dict[str, Any]) -> None:
    base = _base(sf_info)
    body = {
        "allOrNone": True,
        "compositeRequest": [
            {
                "method": "PATCH",
                "url": f"{base}/sobjects/Account/Syncline_Id__c/COMP-RB",
                "referenceId": "a",
                "body": {"Name": "Rolled"},
            },
            {
                "method": "POST",
                "url": f"{base}/sobjects/Contact",
                "referenceId": "bad",
                "body": {"FirstName": "NoLast"},
            },
        ],
    }
    items = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert items[0]["httpStatusCode"] == 400 and items[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert items[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT Id FROM Account WHERE Syncline_Id__c = 'COMP-RB'")["totalSize"] == 0


def test_composite_without_all_or_none_keeps_successes_and_halts_dependents(
    sf: Salesforce, sf_info: dict[str, Any]
) -> None:
    base = _base(sf_info)
    body = {
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"{base}/sobjects/Account",
                "referenceId": "ok",
                "body": {"Name": "Kept Co"},
            },
            {"method": "POST", "url": f"{base}/sobjects/Account", "referenceId": "bad", "body": {}},
            {
                "method": "POST",
                "url": f"{base}/sobjects/Contact",
                "referenceId": "dependent",
                "body": {"LastName": "Orphan", "AccountId": "@{bad.id}"},
            },
        ]
    }
    items = sf.restful("composite", method="POST", json=body)["compositeResponse"]
    assert [i["httpStatusCode"] for i in items] == [201, 400, 400]
    assert items[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf.Account.get(items[0]["body"]["id"])["Name"] == "Kept Co"


def test_composite_refuses_more_than_25_subrequests(sf: Salesforce, sf_info: dict[str, Any]) -> None:
    subrequests = [
        {"method": "GET", "url": f"{_base(sf_info)}/limits", "referenceId": f"r{i}"} for i in range(26)
    ]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": subrequests})


def test_collections_create_update_upsert_delete(sf: Salesforce) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"Coll {i}"} for i in range(3)]
    records.insert(1, {"attributes": {"type": "Contact"}, "FirstName": "NoLastName"})
    created = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": records})
    assert [c["success"] for c in created] == [True, False, True, True]
    assert created[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    ids = [c["id"] for c in created if c["success"]]
    updates = [{"attributes": {"type": "Account"}, "Id": i, "Phone": "555"} for i in ids]
    assert all(
        r["success"] for r in sf.restful("composite/sobjects", method="PATCH", json={"records": updates})
    )
    upserts = [
        {"attributes": {"type": "Account"}, "Syncline_Id__c": "COLL-1", "Name": "Coll Upsert"},
        {"attributes": {"type": "Account"}, "Syncline_Id__c": "COLL-1", "Name": "Coll Upsert again"},
    ]
    upserted = sf.restful(
        "composite/sobjects/Account/Syncline_Id__c", method="PATCH", json={"records": upserts}
    )
    assert [u["created"] for u in upserted] == [True, False] and upserted[0]["id"] == upserted[1]["id"]
    deleted = sf.restful(
        "composite/sobjects", method="DELETE", params={"ids": ",".join(ids), "allOrNone": "true"}
    )
    assert [d["id"] for d in deleted] == ids and all(d["success"] for d in deleted)


def test_collections_all_or_none_marks_the_others_rolled_back(sf: Salesforce) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "AON ok", "Syncline_Id__c": "AON-1"},
        {"attributes": {"type": "Account"}, "Phone": "no name"},
    ]
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT Id FROM Account WHERE Syncline_Id__c = 'AON-1'")["totalSize"] == 0


def test_collections_refuse_more_than_200_records(api: httpx.Client) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"x{i}"} for i in range(201)]
    response = api.post("composite/sobjects", json={"records": records})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_query_all_pages_past_2000_rows(sf: Salesforce) -> None:
    for chunk in range(11):
        records = [
            {
                "attributes": {"type": "Sync_Exception__c"},
                "Reason_Code__c": "PAGING",
                "Message__c": f"row {chunk}-{i}",
            }
            for i in range(200)
        ]
        assert all(
            r["success"] for r in sf.restful("composite/sobjects", method="POST", json={"records": records})
        )
    first = sf.query("SELECT Id, Name FROM Sync_Exception__c WHERE Reason_Code__c = 'PAGING'")
    assert first["totalSize"] == 2200 and len(first["records"]) == 2000 and first["done"] is False
    everything = sf.query_all("SELECT Id, Name FROM Sync_Exception__c WHERE Reason_Code__c = 'PAGING'")
    assert len(everything["records"]) == 2200
    assert len({r["Id"] for r in everything["records"]}) == 2200
    assert everything["records"][0]["Name"].startswith("SE-")
    with_deleted = sf.query_all(
        "SELECT Id FROM Sync_Exception__c WHERE IsDeleted = true", include_deleted=True
    )
    assert with_deleted["totalSize"] == 0


def test_a_locked_row_fails_alone_in_a_collection(sf: Salesforce, http: httpx.Client) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": f"Lockable {i}"} for i in range(3)]
    ids = [r["id"] for r in sf.restful("composite/sobjects", method="POST", json={"records": records})]
    assert http.post("/__admin/locks", json={"record_id": ids[1], "failures": 1}).status_code == 200
    updates = [{"attributes": {"type": "Account"}, "Id": i, "Phone": "1"} for i in ids]
    first = sf.restful("composite/sobjects", method="PATCH", json={"records": updates})
    assert [r["success"] for r in first] == [True, False, True]
    assert first[1]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    retried = sf.restful("composite/sobjects", method="PATCH", json={"records": [updates[1]]})
    assert retried[0]["success"] is True


def test_composite_graph_commits_each_graph_alone(sf: Salesforce, sf_info: dict[str, Any]) -> None:
    base = _base(sf_info)

    def account(ref: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"method": "POST", "url": f"{base}/sobjects/Account", "referenceId": ref, "body": body}

    graphs = {
        "graphs": [
            {
                "graphId": "good",
                "compositeRequest": [
                    account("parent", {"Name": "Graph Parent", "Syncline_Id__c": "GRAPH-P"}),
                    account("child", {"Name": "Graph Child", "ParentId": "@{parent.id}"}),
                ],
            },
            {
                "graphId": "bad",
                "compositeRequest": [
                    account("fine", {"Name": "Graph Ghost", "Syncline_Id__c": "GRAPH-G"}),
                    account("broken", {"Phone": "no name"}),
                ],
            },
        ]
    }
    answer = sf.restful("composite/graph", method="POST", json=graphs)["graphs"]
    assert [(g["graphId"], g["isSuccessful"]) for g in answer] == [("good", True), ("bad", False)]
    assert sf.query("SELECT Id FROM Account WHERE Syncline_Id__c = 'GRAPH-P'")["totalSize"] == 1
    assert sf.query("SELECT Id FROM Account WHERE Syncline_Id__c = 'GRAPH-G'")["totalSize"] == 0
    child = answer[0]["graphResponse"]["compositeResponse"][1]["body"]["id"]
    assert (
        sf.Account.get(child)["ParentId"] == answer[0]["graphResponse"]["compositeResponse"][0]["body"]["id"]
    )


def test_lost_upsert_race_is_duplicate_value_and_a_retry_updates(sf: Salesforce, http: httpx.Client) -> None:
    armed = http.post(
        "/__admin/races", json={"object": "Account", "field": "Syncline_Id__c", "value": "RACE-1"}
    )
    assert armed.status_code == 200
    record = [{"attributes": {"type": "Account"}, "Syncline_Id__c": "RACE-1", "Name": "Racer"}]
    lost = sf.restful("composite/sobjects/Account/Syncline_Id__c", method="PATCH", json={"records": record})
    assert lost[0]["success"] is False and lost[0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    retried = sf.restful(
        "composite/sobjects/Account/Syncline_Id__c", method="PATCH", json={"records": record}
    )
    assert retried[0]["success"] is True and retried[0]["created"] is False
    assert sf.query("SELECT Id FROM Account WHERE Syncline_Id__c = 'RACE-1'")["totalSize"] == 1


def test_collections_item_of_unknown_type(sf: Salesforce) -> None:
    records = [
        {"attributes": {"type": "Nope__c"}, "Name": "x"},
        {"attributes": {"type": "Account"}, "Name": "Typed"},
    ]
    results = sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert results[0]["errors"][0]["statusCode"] == "INVALID_TYPE" and results[1]["success"] is True
