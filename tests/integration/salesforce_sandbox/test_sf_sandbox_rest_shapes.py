"""Raw HTTP: status codes, headers and JSON shapes of the REST API, and each error code."""

from __future__ import annotations

import re
from typing import Any

import httpx

from syncline.sandbox.salesforce.ids import is_valid_id


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and body[0]["errorCode"] == code, body
    assert isinstance(body[0]["message"], str) and body[0]["message"]
    return dict(body[0])


def test_versions_list_needs_no_session(http: httpx.Client) -> None:
    versions = http.get("/services/data/").json()
    assert {"label": "Summer '26", "url": "/services/data/v67.0", "version": "67.0"} in versions
    assert {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"} in versions


def test_every_api_response_carries_limit_info(api: httpx.Client) -> None:
    for response in (
        api.get("sobjects"),
        api.get("sobjects/Account/describe"),
        api.get("query", params={"q": "SELEC"}),
    ):
        assert re.fullmatch(r"api-usage=\d+/100000", response.headers["Sforce-Limit-Info"])


def test_unsupported_version_is_not_found(http: httpx.Client, token: str) -> None:
    response = http.get("/services/data/v20.0/sobjects", headers={"Authorization": f"Bearer {token}"})
    _error(response, 404, "NOT_FOUND")


def test_unknown_token_is_invalid_session(http: httpx.Client, sf_info: dict[str, Any]) -> None:
    response = http.get(
        f"/services/data/v{sf_info['api_version']}/sobjects", headers={"Authorization": "Bearer 00Dnope!nope"}
    )
    assert _error(response, 401, "INVALID_SESSION_ID")["message"] == "Session expired or invalid"
    _error(http.get(f"/services/data/v{sf_info['api_version']}/limits"), 401, "INVALID_SESSION_ID")


def test_create_read_update_delete_shapes(api: httpx.Client, sf_info: dict[str, Any]) -> None:
    created = api.post("sobjects/Account", json={"Name": "Shape Co", "AnnualRevenue": 1250.5})
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": []}
    assert is_valid_id(body["id"]) and body["id"].startswith("001")
    record = api.get(f"sobjects/Account/{body['id']}").json()
    version = sf_info["api_version"]
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v{version}/sobjects/Account/{body['id']}",
    }
    assert record["CreatedById"] == sf_info["integration_user_id"]
    assert record["OwnerId"] == sf_info["integration_user_id"]
    assert record["AnnualRevenue"] == 1250.5 and record["IsDeleted"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", record["SystemModstamp"])
    short = api.get(f"sobjects/Account/{body['id'][:15]}", params={"fields": "Name"}).json()
    assert short == {"attributes": record["attributes"], "Name": "Shape Co"}
    assert api.patch(f"sobjects/Account/{body['id']}", json={"Name": "Shape Co 2"}).status_code == 204
    assert api.delete(f"sobjects/Account/{body['id']}").status_code == 204
    _error(api.get(f"sobjects/Account/{body['id']}"), 404, "ENTITY_IS_DELETED")
    _error(api.patch(f"sobjects/Account/{body['id']}", json={"Name": "x"}), 404, "ENTITY_IS_DELETED")
    deleted = api.get(
        "queryAll", params={"q": f"SELECT Id, IsDeleted FROM Account WHERE Id = '{body['id']}'"}
    )
    assert deleted.json()["records"][0]["IsDeleted"] is True
    assert (
        api.get("query", params={"q": f"SELECT Id FROM Account WHERE Id = '{body['id']}'"}).json()[
            "totalSize"
        ]
        == 0
    )


def test_upsert_statuses(api: httpx.Client) -> None:
    first = api.patch("sobjects/Account/Syncline_Id__c/UPS-1", json={"Name": "Upsert One"})
    assert first.status_code == 201
    assert first.json()["created"] is True
    again = api.patch("sobjects/Account/Syncline_Id__c/UPS-1", json={"Name": "Upsert One b"})
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "success": True, "errors": [], "created": False}
    old_api = api.patch(
        str(api.base_url).replace(api.base_url.path, "/services/data/v45.0/")
        + "sobjects/Account/Syncline_Id__c/UPS-1",
        json={"Name": "Upsert One c"},
    )
    assert old_api.status_code == 204
    fetched = api.get("sobjects/Account/Syncline_Id__c/UPS-1").json()
    assert fetched["Name"] == "Upsert One c"
    _error(api.patch("sobjects/Account/Nope__c/1", json={"Name": "x"}), 404, "NOT_FOUND")
    _error(
        api.patch(
            "sobjects/Account/Syncline_Id__c/UPS-NEW", params={"updateOnly": "true"}, json={"Name": "x"}
        ),
        404,
        "NOT_FOUND",
    )


def test_upsert_with_several_matches_is_300(api: httpx.Client) -> None:
    ids = [
        api.post("sobjects/Account", json={"Name": f"Legacy {i}", "Legacy_Id__c": "LEG-9"}).json()["id"]
        for i in range(2)
    ]
    response = api.patch("sobjects/Account/Legacy_Id__c/LEG-9", json={"Name": "which?"})
    assert response.status_code == 300
    assert sorted(url.rsplit("/", 1)[1] for url in response.json()) == sorted(ids)


def test_relationship_by_external_id_in_body(api: httpx.Client) -> None:
    account = api.patch("sobjects/Account/Syncline_Id__c/REL-1", json={"Name": "Parent by ext id"}).json()[
        "id"
    ]
    contact = api.post(
        "sobjects/Contact", json={"LastName": "Rel", "Account": {"Syncline_Id__c": "REL-1"}}
    ).json()
    assert api.get(f"sobjects/Contact/{contact['id']}").json()["AccountId"] == account
    missing = api.post("sobjects/Contact", json={"LastName": "Rel", "Account": {"Syncline_Id__c": "REL-404"}})
    _error(missing, 400, "INVALID_FIELD")


def test_error_codes(api: httpx.Client) -> None:
    missing = _error(api.post("sobjects/Account", json={"Phone": "1"}), 400, "REQUIRED_FIELD_MISSING")
    assert missing["fields"] == ["Name"]
    assert _error(api.post("sobjects/Account", json={"Name": "x", "Nope": 1}), 400, "INVALID_FIELD")[
        "fields"
    ] == ["Nope"]
    contact_id = api.get("query", params={"q": "SELECT Id FROM Contact LIMIT 1"}).json()["records"][0]["Id"]
    _error(api.get(f"sobjects/Account/{contact_id}"), 400, "MALFORMED_ID")
    _error(api.post("sobjects/Contact", json={"LastName": "x", "AccountId": "garbage"}), 400, "MALFORMED_ID")
    _error(
        api.post("sobjects/Contact", json={"LastName": "x", "AccountId": contact_id}),
        400,
        "INVALID_CROSS_REFERENCE_KEY",
    )
    api.post("sobjects/Account", json={"Name": "Dup A", "Syncline_Id__c": "DUP-1"})
    dup = _error(
        api.post("sobjects/Account", json={"Name": "Dup B", "Syncline_Id__c": "dup-1"}),
        400,
        "DUPLICATE_VALUE",
    )
    assert dup["fields"] == ["Syncline_Id__c"] and "duplicates value on record with id: 001" in dup["message"]
    rule = _error(
        api.post("sobjects/Account", json={"Name": "Rule", "Sync_Status__c": "Synced"}),
        400,
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    )
    assert rule["fields"] == ["ERP_Customer_Id__c"]
    _error(api.get("sobjects/Account/001Dn0000000001AAA"), 404, "NOT_FOUND")
    _error(api.get("sobjects/Nope/describe"), 404, "NOT_FOUND")
    _error(api.post("sobjects/Account", json={"Name": "x" * 256}), 400, "STRING_TOO_LONG")
    _error(
        api.post("sobjects/Account", content=b"{not json", headers={"Content-Type": "application/json"}),
        400,
        "JSON_PARSER_ERROR",
    )
    _error(
        api.post("sobjects/Account", json={"Name": "x", "CreatedDate": "2020-01-01T00:00:00Z"}),
        400,
        "INVALID_FIELD_FOR_INSERT_UPDATE",
    )
    _error(
        api.post("sobjects/Account", json={"Name": "x", "NumberOfEmployees": "many"}),
        400,
        "JSON_PARSER_ERROR",
    )
    _error(
        api.post("sobjects/Account", json={"Name": "x", "CurrencyIsoCode": "XXX"}),
        400,
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    )
    _error(api.get("query", params={"q": "SELECT Id FROM Nope"}), 400, "INVALID_TYPE")
    _error(api.get("query", params={"q": "SELEC Id FROM Account"}), 400, "MALFORMED_QUERY")
    _error(
        api.get("query", params={"q": "SELECT Id FROM Account WHERE CreatedDate > '2020-01-01'"}),
        400,
        "INVALID_QUERY_FILTER_OPERATOR",
    )
    _error(api.get("query/01gDn0000000001AAA-2000"), 400, "INVALID_QUERY_LOCATOR")
    for where in (
        "CloseDate > 2026-01-01T00:00:00Z",
        "CreatedDate > 2026-01-01",
        "Name = TODAY",
        "Amount = true",
    ):
        query = f"SELECT Id FROM Opportunity WHERE {where}"
        _error(api.get("query", params={"q": query}), 400, "INVALID_QUERY_FILTER_OPERATOR")
    ok = api.get(
        "query", params={"q": "SELECT Id FROM Opportunity WHERE CloseDate > 2000-01-01 AND Amount > 1"}
    )
    assert ok.status_code == 200 and ok.json()["totalSize"] > 0


def test_line_item_from_another_price_book_is_integrity_error(
    api: httpx.Client, sf_info: dict[str, Any]
) -> None:
    partner_entry = api.get(
        "query",
        params={
            "q": "SELECT Id, Product2Id FROM PricebookEntry "
            "WHERE Pricebook2.Name = 'Partner Price Book' LIMIT 1"
        },
    ).json()["records"][0]
    opportunity = api.get(
        "query",
        params={
            "q": "SELECT Id FROM Opportunity "
            f"WHERE Pricebook2Id = '{sf_info['standard_pricebook_id']}' LIMIT 1"
        },
    ).json()["records"][0]["Id"]
    response = api.post(
        "sobjects/OpportunityLineItem",
        json={"OpportunityId": opportunity, "PricebookEntryId": partner_entry["Id"], "Quantity": 1},
    )
    _error(response, 400, "FIELD_INTEGRITY_EXCEPTION")


def test_unable_to_lock_row_fault_has_the_real_shape(http: httpx.Client, api: httpx.Client) -> None:
    plan = {"seed": 3, "custom": {"UNABLE_TO_LOCK_ROW": 1.0}, "path_prefixes": ["/services/data/"]}
    assert http.put("/__sandbox/faults", json=plan).status_code == 200
    try:
        _error(
            api.patch("sobjects/Account/Syncline_Id__c/LOCK-1", json={"Name": "Locked"}),
            400,
            "UNABLE_TO_LOCK_ROW",
        )
    finally:
        http.put("/__sandbox/faults", json={"seed": 0})
    assert api.patch("sobjects/Account/Syncline_Id__c/LOCK-1", json={"Name": "Locked"}).status_code == 201


def test_injected_throttle_and_server_errors(http: httpx.Client, api: httpx.Client) -> None:
    try:
        http.put("/__sandbox/faults", json={"throttle_rate": 1.0})
        _error(api.get("limits"), 503, "SERVER_UNAVAILABLE")
        http.put("/__sandbox/faults", json={"server_error_rate": 1.0})
        _error(api.get("limits"), 500, "UNKNOWN_EXCEPTION")
    finally:
        http.put("/__sandbox/faults", json={"seed": 0})


def test_describe_lists_custom_fields(api: httpx.Client) -> None:
    describe = api.get("sobjects/Account/describe").json()
    fields = {f["name"]: f for f in describe["fields"]}
    assert describe["keyPrefix"] == "001"
    assert fields["Syncline_Id__c"]["externalId"] is True and fields["Syncline_Id__c"]["custom"] is True
    assert fields["Name"]["nillable"] is False and fields["Name"]["createable"] is True
    assert fields["Invoice_Status__c"]["type"] == "picklist"
    names = {o["name"] for o in api.get("sobjects").json()["sobjects"]}
    assert {"Account", "Order", "OrderItem", "Quote", "QuoteLineItem", "Sync_Exception__c", "Task"} <= names


def test_soql_filters_order_limit_offset(api: httpx.Client) -> None:
    for index in range(5):
        api.patch(
            f"sobjects/Product2/Syncline_Id__c/SOQL-{index}",
            json={"Name": f"Soql Widget {index}", "Family": "Hardware"},
        )
    query = (
        "SELECT Name FROM Product2 WHERE Name LIKE 'soql widget%' AND (Family = 'Hardware' OR Family = null) "
        "AND Syncline_Id__c NOT IN ('SOQL-0') AND CreatedDate = TODAY ORDER BY Name DESC LIMIT 2 OFFSET 1"
    )
    names = [r["Name"] for r in api.get("query", params={"q": query}).json()["records"]]
    assert names == ["Soql Widget 3", "Soql Widget 2"]
    count = api.get(
        "query", params={"q": "SELECT COUNT() FROM Product2 WHERE Name LIKE 'Soql Widget%'"}
    ).json()
    assert count == {"totalSize": 5, "done": True, "records": []}
    none_yet = api.get(
        "query", params={"q": "SELECT Id FROM Product2 WHERE CreatedDate > 2999-01-01T00:00:00Z"}
    )
    assert none_yet.json()["totalSize"] == 0


def test_query_paging_with_batch_size(api: httpx.Client) -> None:
    first = api.get(
        "query",
        params={"q": "SELECT Id FROM PricebookEntry"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    ).json()
    assert first["done"] is True  # fewer rows than one page
    records = [{"attributes": {"type": "Task"}, "Subject": f"Call {i}"} for i in range(200)]
    for _ in range(2):
        assert api.post("composite/sobjects", json={"records": records}).status_code == 200
    page = api.get(
        "query", params={"q": "SELECT Id FROM Task"}, headers={"Sforce-Query-Options": "batchSize=300"}
    ).json()
    assert page["totalSize"] == 400 and page["done"] is False and len(page["records"]) == 300
    assert re.fullmatch(r"/services/data/v[\d.]+/query/01g\w{15}-300", page["nextRecordsUrl"])
    rest = api.get(page["nextRecordsUrl"].split("/", 4)[4]).json()
    assert rest["done"] is True and len(rest["records"]) == 100 and "nextRecordsUrl" not in rest


def test_conditional_requests(api: httpx.Client) -> None:
    record = api.post("sobjects/Account", json={"Name": "Etag Co"}).json()["id"]
    first = api.get(f"sobjects/Account/{record}")
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert api.get(f"sobjects/Account/{record}", headers={"If-None-Match": tag}).status_code == 304
    assert api.get(f"sobjects/Account/{record}", headers={"If-Modified-Since": modified}).status_code == 304
    assert (
        api.patch(f"sobjects/Account/{record}", json={"Phone": "1"}, headers={"If-Match": tag}).status_code
        == 204
    )
    stale = api.patch(f"sobjects/Account/{record}", json={"Phone": "2"}, headers={"If-Match": tag})
    _error(stale, 412, "PRECONDITION_FAILED")
    assert api.get(f"sobjects/Account/{record}").json()["Phone"] == "1"
    _error(
        api.get(f"sobjects/Account/{record}", headers={"If-Modified-Since": "yesterday"}),
        400,
        "INVALID_HEADER",
    )


def test_account_delete_cascades_and_is_blocked_by_orders(api: httpx.Client) -> None:
    account = api.post("sobjects/Account", json={"Name": "Cascade Co"}).json()["id"]
    contact = api.post("sobjects/Contact", json={"LastName": "Child", "AccountId": account}).json()["id"]
    assert api.delete(f"sobjects/Account/{account}").status_code == 204
    _error(api.get(f"sobjects/Contact/{contact}"), 404, "ENTITY_IS_DELETED")
    ordered = api.post("sobjects/Account", json={"Name": "Ordered Co"}).json()["id"]
    api.post("sobjects/Order", json={"AccountId": ordered, "EffectiveDate": "2026-12-01"})
    _error(api.delete(f"sobjects/Account/{ordered}"), 400, "DELETE_FAILED")
    _error(
        api.get("query", params={"q": "SELECT Id FROM Account OFFSET 2001"}),
        400,
        "NUMBER_OUTSIDE_VALID_RANGE",
    )


def test_child_relationship_subqueries(api: httpx.Client) -> None:
    parent = api.post("sobjects/Account", json={"Name": "Sub Parent"}).json()["id"]
    for name in ("Zed", "Amy", "Bob"):
        api.post("sobjects/Contact", json={"LastName": name, "AccountId": parent})
    query = (
        "SELECT Name, (SELECT LastName FROM Contacts WHERE LastName != 'Bob' ORDER BY LastName), "
        f"(SELECT Id FROM Opportunities) FROM Account WHERE Id = '{parent}'"
    )
    row = api.get("query", params={"q": query}).json()["records"][0]
    assert row["Contacts"]["totalSize"] == 2 and row["Contacts"]["done"] is True
    assert [c["LastName"] for c in row["Contacts"]["records"]] == ["Amy", "Zed"]
    assert row["Contacts"]["records"][0]["attributes"]["type"] == "Contact"
    assert row["Opportunities"] is None
    _error(
        api.get("query", params={"q": "SELECT Id, (SELECT Id FROM Nope) FROM Account"}), 400, "INVALID_TYPE"
    )
    describe = api.get("sobjects/Account/describe").json()
    assert {
        "childSObject": "Contact",
        "field": "AccountId",
        "relationshipName": "Contacts",
        "cascadeDelete": False,
    } in describe["childRelationships"]


def test_http_method_override(api: httpx.Client) -> None:
    record = api.post("sobjects/Account", json={"Name": "Override"}).json()["id"]
    patched = api.post(f"sobjects/Account/{record}", params={"_HttpMethod": "PATCH"}, json={"Phone": "42"})
    assert patched.status_code == 204
    assert api.get(f"sobjects/Account/{record}").json()["Phone"] == "42"
