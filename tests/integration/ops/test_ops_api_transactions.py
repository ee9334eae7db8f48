"""The transactions API on a demo ledger built by the real engine: search by any id, filters, paging,
the cross-system timeline, and who may call it."""

from __future__ import annotations

import httpx
import pytest
from ops_demo import BROKEN_ORDER, FLAKY_ORDER, REJECTED_ORDER, Demo
from ops_testing import Tokens

from syncline.ledger import SqlLedger


async def search(client: httpx.AsyncClient, tokens: Tokens, **params: object) -> dict[str, object]:
    response = await client.get("/api/transactions", params=params, headers=tokens.headers("viewer"))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def external(ledger: SqlLedger, opportunity: str, system: str, key_type: str) -> str:
    (record,) = ledger.search_transactions(opportunity)
    return next(k.value for k in record.external_keys if (k.system, k.key_type) == (system, key_type))


async def test_every_kind_of_business_key_finds_the_order(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo, ledger: SqlLedger
) -> None:
    order = demo.order(2)
    (record,) = ledger.search_transactions(order.opportunity_id)
    ids = {
        "salesforce account": order.sf_account_id,
        "salesforce opportunity": order.opportunity_id,
        "salesforce quote": order.sf_quote_id,
        "order number": order.order_number,
        "salesforce order": f"801Dn000{2:07d}IAK",
        "erp customer": external(ledger, order.opportunity_id, "netsuite", "customer"),
        "erp sales order": f"SO-{order.order_number}",
        "billing customer": external(ledger, order.opportunity_id, "stripe", "customer"),
        "billing subscription": external(ledger, order.opportunity_id, "stripe", "subscription"),
        "correlation id": record.correlation_id,
        "transaction id": record.id,
    }
    for kind, value in ids.items():
        found = await search(client, tokens, q=value)
        ids_found = [item["id"] for item in found["items"]]  # type: ignore[attr-defined,index]
        assert record.id in ids_found, f"{kind} {value} did not find the order"
        assert all(item["flow"] == "order_booking" for item in found["items"]), kind  # type: ignore[attr-defined,index]


async def test_invoice_ids_of_billing_and_erp_find_the_invoice_transaction(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo
) -> None:
    invoiced = next(o for o in demo.orders if o.invoice_stripe_id)
    for value in (invoiced.invoice_stripe_id, f"INV-NL-2026-{invoiced.index:06d}"):
        found = await search(client, tokens, q=value)
        assert found["total"] == 1
        assert found["items"][0]["flow"] == "invoice_status"  # type: ignore[index]


async def test_filters_narrow_by_state_error_class_system_flow_and_time(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo
) -> None:
    held = await search(client, tokens, state="exception")
    assert [i["keys"]["sf_opportunity_id"] for i in held["items"]] == [demo.rejected.opportunity_id]  # type: ignore[attr-defined,index]

    broken = await search(client, tokens, error_class="contract")
    assert [i["keys"]["order_number"] for i in broken["items"]] == [demo.order(BROKEN_ORDER).order_number]  # type: ignore[attr-defined,index]

    retried = await search(client, tokens, error_class="transient")
    assert retried["total"] == 0  # the retried step succeeded: its journal line says so now

    invoices = await search(client, tokens, flow="invoice_status")
    stripe = await search(client, tokens, system="stripe", flow="order_booking")
    assert invoices["total"] == len([o for o in demo.orders if o.invoice_stripe_id])
    # every order reached Stripe except the two stopped at the ERP before the billing branch finished
    assert 10 <= stripe["total"] <= 12  # type: ignore[operator]
    nothing = await search(client, tokens, system="chargebee")
    assert nothing["total"] == 0

    everything = await search(client, tokens, limit=200)
    created = sorted(i["created_at"] for i in everything["items"])  # type: ignore[attr-defined,index]
    later = await search(client, tokens, since=created[5], limit=200)
    earlier = await search(client, tokens, until=created[4], limit=200)
    assert later["total"] + earlier["total"] == everything["total"]  # type: ignore[operator]
    assert later["total"] == len(created) - 5


async def test_results_are_paged_with_the_total(client: httpx.AsyncClient, tokens: Tokens) -> None:
    first = await search(client, tokens, flow="order_booking", limit=5)
    second = await search(client, tokens, flow="order_booking", limit=5, offset=5)
    third = await search(client, tokens, flow="order_booking", limit=5, offset=10)
    pages = [[i["id"] for i in page["items"]] for page in (first, second, third)]  # type: ignore[attr-defined]
    assert first["total"] == 12 and [len(p) for p in pages] == [5, 5, 2]
    assert len({tx for page in pages for tx in page}) == 12


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 500}, "limit"),
        ({"offset": -1}, "offset"),
        ({"since": "2026-01-01T00:00:00"}, "timezone"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since is after until"),
    ],
)
async def test_bad_search_parameters_are_refused_with_a_reason(
    client: httpx.AsyncClient, tokens: Tokens, params: dict[str, object], message: str
) -> None:
    response = await client.get("/api/transactions", params=params, headers=tokens.headers("viewer"))
    assert response.status_code in (400, 422)
    assert message in response.text


async def test_detail_has_the_timeline_across_systems(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo, ledger: SqlLedger
) -> None:
    (record,) = ledger.search_transactions(demo.order(FLAKY_ORDER).opportunity_id)
    response = await client.get(f"/api/transactions/{record.id}", headers=tokens.headers("viewer"))
    assert response.status_code == 200
    body = response.json()

    steps = {entry["operation"]: entry for entry in body["timeline"]}
    assert list(steps) == [
        "validate", "record_keys", "ensure_customer", "erp_sales_order", "billing_subscription",
        "salesforce_write_back",
    ]  # fmt: skip
    sales_order = steps["erp_sales_order"]
    assert (sales_order["system"], sales_order["lane"], sales_order["outcome"]) == (
        "netsuite",
        "ERP",
        "succeeded",
    )
    assert sales_order["external_id"] == f"SO-{demo.order(FLAKY_ORDER).order_number}"
    assert sales_order["attempts"] == 2 and sales_order["latency_ms"] is not None
    assert sales_order["idempotency_key"].startswith("sl-")
    assert steps["billing_subscription"]["lane"] == "Billing"
    assert steps["salesforce_write_back"]["lane"] == "Salesforce"
    assert body["lanes"]["Syncline"] == [1, 2]
    assert body["transaction"]["state"] == "completed"
    assert body["amount"]["currency"] in ("EUR", "USD")
    assert [e["type"] for e in body["events"]] == ["syncline.order.booked.v1"]
    assert body["deliveries"][0]["attempts"] == 2
    assert body["deliveries"][0]["last_error_class"] == "transient"


async def test_detail_of_a_rejected_order_shows_the_error_and_the_task(
    client: httpx.AsyncClient, tokens: Tokens, demo: Demo, ledger: SqlLedger
) -> None:
    (record,) = ledger.search_transactions(demo.order(REJECTED_ORDER).order_number)
    body = (await client.get(f"/api/transactions/{record.id}", headers=tokens.headers("viewer"))).json()
    failing = next(e for e in body["timeline"] if e["outcome"] == "rejected")
    assert failing["operation"] == "erp_sales_order" and failing["error_class"] == "business"
    assert "credit hold" in failing["error"]
    assert [(x["reason_code"], x["owner_role"]) for x in body["exceptions"]] == [("CREDIT_HOLD", "finance")]


async def test_unknown_transaction_is_404(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get("/api/transactions/nope", headers=tokens.headers("viewer"))
    assert response.status_code == 404 and "nope" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/transactions", "/api/exceptions", "/api/dead-letters", "/api/audit",
                                  "/api/metrics/summary", "/api/sla", "/api/me"])  # fmt: skip
async def test_reading_needs_a_valid_token(client: httpx.AsyncClient, tokens: Tokens, path: str) -> None:
    anonymous = await client.get(path)
    forged = await client.get(path, headers={"Authorization": "Bearer slt_0123456789ab_" + "x" * 43})
    viewer = await client.get(path, headers=tokens.headers("viewer"))
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert forged.status_code == 401
    assert viewer.status_code == 200
