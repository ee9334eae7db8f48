"""The NetSuite sandbox checked with plain httpx against the fact sheet (reference/netsuite.md)."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import ssl
from typing import Any

import httpx
import pytest

from .conftest import client_assertion, token_form

RECORD = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"


def error_of(response: httpx.Response) -> dict[str, Any]:
    """Assert the NetSuite problem shape and return its first detail."""
    assert response.headers["content-type"].startswith("application/vnd.oracle.resource+json; type=error")
    body = response.json()
    assert body["status"] == response.status_code
    assert body["type"].startswith("https://")
    assert body["title"]
    detail: dict[str, Any] = body["o:errorDetails"][0]
    assert detail["detail"]
    return detail


def suiteql(raw: httpx.Client, query: str, **params: Any) -> httpx.Response:
    return raw.post(SUITEQL, json={"q": query}, params=params, headers={"Prefer": "transient"})


def new_customer(raw: httpx.Client, external_id: str, **fields: Any) -> str:
    body = {
        "companyName": f"Customer {external_id}",
        "subsidiary": {"id": "1"},
        "addressBook": {"items": [{"defaultBilling": True, "addressBookAddress": {"country": {"id": "US"}}}]},
        **fields,
    }
    response = raw.put(f"{RECORD}/customer/eid:{external_id}", json=body)
    assert response.status_code == 204, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


# -- OAuth 2.0 client credentials ------------------------------------------------------------------


def test_token_endpoint_issues_expiring_bearer_tokens(info: dict[str, Any], raw: httpx.Client) -> None:
    ns = info["netsuite"]
    answer = raw.post(ns["token_url"], data=token_form(client_assertion(ns)))
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == "3600" and body["access_token"]
    assert ns["token_url"].endswith("/services/rest/auth/oauth2/v1/token")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"headers": {"kid": "not-the-certificate"}}, "invalid_grant"),
        ({"claims": {"aud": "https://elsewhere.example/token"}}, "invalid_grant"),
        ({"claims": {"iss": "someone-else"}}, "invalid_grant"),
        ({"claims": {"exp": 9_999_999_999}}, "invalid_grant"),
        ({"claims": {"scope": ["restlets"]}}, "invalid_scope"),
    ],
    ids=["kid", "aud", "iss", "lifetime", "scope"],
)
def test_token_endpoint_refuses_bad_assertions(
    info: dict[str, Any], raw: httpx.Client, overrides: dict[str, Any], error: str
) -> None:
    ns = info["netsuite"]
    answer = raw.post(ns["token_url"], data=token_form(client_assertion(ns, **overrides)))
    assert answer.status_code == 400
    assert answer.json()["error"] == error


def test_token_endpoint_refuses_other_grants(info: dict[str, Any], raw: httpx.Client) -> None:
    form = {**token_form(client_assertion(info["netsuite"])), "grant_type": "password"}
    answer = raw.post(info["netsuite"]["token_url"], data=form)
    assert (answer.status_code, answer.json()["error"]) == (400, "unsupported_grant_type")


def test_requests_without_a_valid_token_get_invalid_login(raw: httpx.Client) -> None:
    answer = raw.get(f"{RECORD}/customer/101", headers={"Authorization": "Bearer forged"})
    assert answer.status_code == 401
    assert error_of(answer)["o:errorCode"] == "INVALID_LOGIN"


# -- record service --------------------------------------------------------------------------------


def test_post_answers_204_with_location_and_no_body(raw: httpx.Client) -> None:
    body = {"companyName": "Posted Co", "subsidiary": {"id": "1"}}
    answer = raw.post(f"{RECORD}/customer", json=body)
    assert answer.status_code == 204 and answer.content == b""
    location = answer.headers["location"]
    assert location.startswith(str(raw.base_url).rstrip("/") + f"{RECORD}/customer/")
    record = raw.get(location).json()
    assert record["companyName"] == "Posted Co"
    assert record["subsidiary"]["refName"] == "Syncline Inc."
    assert record["links"][0] == {"rel": "self", "href": location}
    assert record["custentity_approval_status"]["id"] == "pendingApproval"


def test_record_type_names_are_case_insensitive(raw: httpx.Client) -> None:
    assert raw.get(f"{RECORD}/SalesOrder", params={"limit": 1}).status_code == 200
    assert raw.get(f"{RECORD}/customer/101").json() == raw.get(f"{RECORD}/CUSTOMER/101").json()


def test_put_eid_upserts_the_same_record(raw: httpx.Client) -> None:
    first = new_customer(raw, "upsert-1")
    second = new_customer(raw, "upsert-1", email="billing@upsert.example")
    assert first == second
    record = raw.get(f"{RECORD}/customer/eid:upsert-1").json()
    assert record["id"] == first and record["email"] == "billing@upsert.example"
    listed = raw.get(f"{RECORD}/customer", params={"q": 'externalId IS "upsert-1"'}).json()
    assert listed["totalResults"] == 1


def test_racing_upserts_with_one_external_id_create_one_record(raw: httpx.Client) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        ids = set(pool.map(lambda _: new_customer(raw, "race-1"), range(4)))
    assert len(ids) == 1


def test_eid_with_characters_outside_the_documented_set_is_refused(raw: httpx.Client) -> None:
    answer = raw.get(f"{RECORD}/customer/eid:a.b")
    assert answer.status_code == 400
    assert error_of(answer)["o:errorCode"] == "INVALID_PARAMETER"


def test_patch_updates_and_null_clears(raw: httpx.Client) -> None:
    record_id = new_customer(raw, "patch-1", phone="+1 555 0100")
    answer = raw.patch(f"{RECORD}/customer/{record_id}", json={"email": "x@patch.example", "phone": None})
    assert answer.status_code == 204 and answer.headers["location"].endswith(f"/customer/{record_id}")
    record = raw.get(f"{RECORD}/customer/{record_id}").json()
    assert record["email"] == "x@patch.example" and "phone" not in record


def test_delete_then_get_is_nonexistent(raw: httpx.Client) -> None:
    record_id = new_customer(raw, "delete-1")
    assert raw.delete(f"{RECORD}/customer/{record_id}").status_code == 204
    answer = raw.get(f"{RECORD}/customer/{record_id}")
    assert answer.status_code == 404
    assert error_of(answer)["o:errorCode"] == "NONEXISTENT_ID"


def test_list_pages_with_limit_offset_and_links(raw: httpx.Client) -> None:
    first = raw.get(f"{RECORD}/customer", params={"limit": 5, "offset": 0})
    assert first.headers["content-type"].startswith("application/vnd.oracle.resource+json")
    page = first.json()
    assert page["count"] == 5 and page["offset"] == 0 and page["hasMore"] is True
    assert page["totalResults"] > 5
    assert set(page["items"][0]) == {"links", "id"}
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert "limit=5" in rels["next"] and "offset=5" in rels["next"]
    second = raw.get(rels["next"]).json()
    assert not {i["id"] for i in page["items"]} & {i["id"] for i in second["items"]}
    bad = raw.get(f"{RECORD}/customer", params={"limit": 5, "offset": 3})
    assert bad.status_code == 400 and error_of(bad)["o:errorCode"] == "INVALID_PARAMETER"


def test_get_with_fields_and_expanded_sublists(raw: httpx.Client) -> None:
    slim = raw.get(f"{RECORD}/customer/101", params={"fields": "companyName,email"}).json()
    assert set(slim) == {"links", "id", "companyName", "email"}
    linked = raw.get(f"{RECORD}/customer/101").json()
    assert set(linked["addressBook"]) == {"links"}
    expanded = raw.get(f"{RECORD}/customer/101", params={"expandSubResources": "true"}).json()
    assert expanded["addressBook"]["items"][0]["defaultBilling"] is True


def test_sales_order_lines_transform_to_invoice_and_payment(raw: httpx.Client) -> None:
    order = {
        "entity": {"id": "101"},
        "item": {"items": [{"item": {"id": "101"}, "quantity": 2, "rate": 100}]},
    }
    created = raw.post(f"{RECORD}/salesOrder", json=order)
    assert created.status_code == 204
    so = raw.get(created.headers["location"], params={"expandSubResources": "true"}).json()
    assert so["total"] == 200.0 and so["item"]["items"][0]["item"]["refName"] == "SKU-0001"
    lines = raw.get(created.headers["location"] + "/item").json()
    assert lines["items"][0]["amount"] == 200.0
    invoiced = raw.post(created.headers["location"] + "/!transform/invoice")
    assert invoiced.status_code == 204 and "/invoice/" in invoiced.headers["location"]
    invoice = raw.get(invoiced.headers["location"]).json()
    assert invoice["amountRemaining"] == 200.0 and invoice["createdFrom"]["id"] == so["id"]
    paid = raw.post(invoiced.headers["location"] + "/!transform/customerPayment")
    assert paid.status_code == 204
    assert raw.get(invoiced.headers["location"]).json()["status"]["id"] == "paidInFull"


# -- SuiteQL ---------------------------------------------------------------------------------------


def test_suiteql_requires_prefer_transient(raw: httpx.Client) -> None:
    answer = raw.post(SUITEQL, json={"q": "SELECT id FROM customer"})
    assert answer.status_code == 400 and error_of(answer)["o:errorCode"] == "INVALID_PARAMETER"


def test_suiteql_rows_are_lowercase_strings_and_page(raw: httpx.Client) -> None:
    query = "SELECT id, companyName, creditLimit, isInactive, email FROM customer ORDER BY id"
    page = suiteql(raw, query, limit=3).json()
    assert page["count"] == 3 and page["hasMore"] is True and page["offset"] == 0
    row = page["items"][0]
    assert set(row) == {"links", "id", "companyname", "creditlimit", "isinactive", "email"}
    assert row["id"] == "101" and row["isinactive"] == "F"
    assert all(isinstance(v, str) for k, v in row.items() if k != "links")
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    second = raw.post(nxt, json={"q": query}, headers={"Prefer": "transient"}).json()
    assert second["offset"] == 3 and second["items"][0]["id"] == "104"


def test_suiteql_filters_on_last_modified_date(raw: httpx.Client) -> None:
    stamp = "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS')"
    latest = suiteql(raw, f"SELECT {stamp} AS m FROM customer ORDER BY lastmodifieddate DESC").json()
    since = latest["items"][0]["m"]
    new_customer(raw, "feed-1")
    after = f"lastmodifieddate >= TO_TIMESTAMP('{since}', 'YYYY-MM-DD HH24:MI:SS')"
    rows = suiteql(raw, f"SELECT id, externalid, {stamp} AS m FROM customer WHERE {after}").json()["items"]
    assert "feed-1" in {r.get("externalid") for r in rows}
    assert all(r["m"] >= since for r in rows)
    future = "lastmodifieddate > TO_DATE('2999-01-01', 'YYYY-MM-DD')"
    assert suiteql(raw, f"SELECT id FROM customer WHERE {future}").json()["items"] == []
    bare = suiteql(raw, "SELECT lastmodifieddate FROM customer WHERE id = 101").json()["items"][0]
    assert "/" in bare["lastmodifieddate"]  # user date format, as NetSuite does without TO_CHAR


def test_suiteql_reports_syntax_errors(raw: httpx.Client) -> None:
    answer = suiteql(raw, "SELECT id FROM customer WHERE")
    assert answer.status_code == 400
    assert "Invalid search query" in error_of(answer)["detail"]


# -- business rules --------------------------------------------------------------------------------


def order_for(customer: str, item: str = "101", **fields: Any) -> dict[str, Any]:
    return {"entity": {"id": customer}, "item": {"items": [{"item": {"id": item}, "quantity": 1}]}, **fields}


def overdue_customer(raw: httpx.Client) -> str:
    rows = suiteql(raw, "SELECT id FROM customer WHERE companyname = 'Overdue Outfitters LLC'").json()[
        "items"
    ]
    return str(rows[0]["id"])


def item_id(raw: httpx.Client, sku: str) -> str:
    return str(suiteql(raw, f"SELECT id FROM item WHERE itemid = '{sku}'").json()["items"][0]["id"])


@pytest.mark.parametrize(
    ("case", "path", "phrase"),
    [
        ("credit_hold", "entity", "on credit hold"),
        ("inactive_item", "item.items[0].item", "is inactive"),
        ("currency", "currency", "is not available for subsidiary"),
        ("closed_period", "tranDate", "is closed"),
        ("pending_customer", "entity", "pending credit approval"),
    ],
)
def test_order_rules_answer_user_error_with_a_reason(
    raw: httpx.Client, case: str, path: str, phrase: str
) -> None:
    bodies = {
        "credit_hold": lambda: order_for(overdue_customer(raw)),
        "inactive_item": lambda: order_for("101", item_id(raw, "SKU-0013")),
        "currency": lambda: order_for("101", currency={"id": "4"}),
        "closed_period": lambda: order_for(
            "101", tranDate=(dt.date.today() - dt.timedelta(days=200)).isoformat()
        ),
        "pending_customer": lambda: order_for(new_customer(raw, "pending-order-1")),
    }
    answer = raw.post(f"{RECORD}/salesOrder", json=bodies[case]())
    assert answer.status_code == 400
    detail = error_of(answer)
    assert detail["o:errorCode"] == "USER_ERROR"
    assert detail["o:errorPath"] == path
    assert phrase in detail["detail"]


def test_invalid_vat_number_for_the_country_is_refused(raw: httpx.Client) -> None:
    body = {
        "companyName": "Bad VAT GmbH",
        "subsidiary": {"id": "3"},
        "vatRegNumber": "DE123456789",
        "addressBook": {"items": [{"defaultBilling": True, "addressBookAddress": {"country": {"id": "DE"}}}]},
    }
    answer = raw.put(f"{RECORD}/customer/eid:bad-vat-1", json=body)
    assert answer.status_code == 400
    detail = error_of(answer)
    assert (detail["o:errorCode"], detail["o:errorPath"]) == ("USER_ERROR", "vatRegNumber")
    assert "DE123456789" in detail["detail"] and "DE" in detail["detail"]
    valid = raw.put(f"{RECORD}/customer/eid:good-vat-1", json={**body, "vatRegNumber": "DE136695976"})
    assert valid.status_code == 204


def test_unknown_item_reference_is_invalid_content(raw: httpx.Client) -> None:
    answer = raw.post(f"{RECORD}/salesOrder", json=order_for("101", "999999"))
    assert answer.status_code == 400 and error_of(answer)["o:errorCode"] == "INVALID_CONTENT"


def test_catalog_has_the_documented_gaps(raw: httpx.Client) -> None:
    rows = suiteql(raw, "SELECT itemid FROM item WHERE itemid LIKE 'SKU-%' ORDER BY itemid").json()["items"]
    skus = {r["itemid"] for r in rows}
    assert {"SKU-0001", "SKU-0030"} <= skus
    assert not {"SKU-0007", "SKU-0019", "SKU-0026"} & skus


# -- governance and faults -------------------------------------------------------------------------


def test_governance_limits_report_the_account_limit(raw: httpx.Client) -> None:
    body = raw.get("/services/rest/system/v1/governanceLimits").json()
    assert body["accountConcurrencyLimit"] == 5 and body["limitType"] == "accountLimit"


def test_injected_throttle_uses_the_netsuite_shape(raw: httpx.Client) -> None:
    plan = {"seed": 1, "throttle_rate": 1.0, "path_prefixes": [f"{RECORD}/currency"]}
    assert raw.put("/__sandbox/faults", json=plan).status_code == 200
    try:
        answer = raw.get(f"{RECORD}/currency/1")
        assert answer.status_code == 429
        assert error_of(answer)["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    finally:
        raw.put("/__sandbox/faults", json={"seed": 0})
    assert raw.get(f"{RECORD}/currency/1").status_code == 200


def test_assertion_audience_may_be_the_url_the_client_used(info: dict[str, Any]) -> None:
    ns = info["netsuite"]
    via_localhost = ns["token_url"].replace("127.0.0.1", "localhost")
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    with httpx.Client(verify=verify, timeout=10) as client:
        assertion = client_assertion(ns, claims={"aud": via_localhost})
        assert client.post(via_localhost, data=token_form(assertion)).status_code == 200
        elsewhere = client_assertion(ns, claims={"aud": ns["token_url"].replace("127.0.0.1", "example.com")})
        assert client.post(via_localhost, data=token_form(elsewhere)).status_code == 400


def test_patch_merges_sublist_lines_unless_replace_names_the_sublist(raw: httpx.Client) -> None:
    created = raw.post(f"{RECORD}/salesOrder", json=order_for("101"))
    location = created.headers["location"]
    assert (
        raw.patch(location, json={"item": {"items": [{"item": {"id": "101"}, "quantity": 2}]}}).status_code
        == 204
    )
    merged = raw.get(location, params={"expandSubResources": "true"}).json()
    assert [line["line"] for line in merged["item"]["items"]] == [1, 2]
    assert merged["total"] == sum(line["amount"] for line in merged["item"]["items"])
    changed = {"item": {"items": [{"line": 1, "quantity": 5}]}}
    assert raw.patch(location, json=changed).status_code == 204
    lines = raw.get(location, params={"expandSubResources": "true"}).json()["item"]["items"]
    assert [(line["line"], line["quantity"]) for line in lines] == [(1, 5.0), (2, 2.0)]
    replaced = {"item": {"items": [{"item": {"id": "101"}, "quantity": 1}]}}
    assert raw.patch(location, params={"replace": "item"}, json=replaced).status_code == 204
    final = raw.get(location, params={"expandSubResources": "true"}).json()
    assert [(line["line"], line["quantity"]) for line in final["item"]["items"]] == [(1, 1.0)]
    assert final["total"] == final["item"]["items"][0]["amount"]


def test_contacts_are_records_too(raw: httpx.Client) -> None:
    body = {
        "firstName": "Grace",
        "lastName": "Hopper",
        "email": "grace@globex.example",
        "company": {"id": "101"},
    }
    created = raw.post(f"{RECORD}/contact", json=body)
    assert created.status_code == 204
    contact = raw.get(created.headers["location"]).json()
    assert contact["company"]["refName"] == "Globex Corporation" and contact["lastName"] == "Hopper"


def test_invoice_posting_in_a_closed_period_is_refused(raw: httpx.Client) -> None:
    created = raw.post(f"{RECORD}/salesOrder", json=order_for("102"))
    closed_day = (dt.date.today() - dt.timedelta(days=200)).isoformat()
    answer = raw.post(created.headers["location"] + "/!transform/invoice", json={"tranDate": closed_day})
    assert answer.status_code == 400
    detail = error_of(answer)
    assert (detail["o:errorCode"], detail["o:errorPath"]) == ("USER_ERROR", "tranDate")
    assert "is closed" in detail["detail"] and closed_day in detail["detail"]
