"""The NetSuite connector against the sandbox over real HTTPS: auth, writes, rules, approval, reads."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from syncline.connectors.netsuite import (
    NetSuiteClient,
    NetSuiteConfig,
    NetSuiteSink,
    NetSuiteSource,
    call_priority,
    external_id_for,
    parse_approval_webhook,
    require_approved,
)
from syncline.contracts import InvoiceStatus, Money, TaxScheme
from syncline.engine.ratelimit import EndpointLimit, EndpointLimiter, Priority
from syncline.engine.tracing import bind_trace, parse_traceparent
from syncline.errors import AuthError, BusinessRejection, RateLimitedError, TransientError

from .canonical import customer, order, unique
from .webhook_receiver import webhook_receiver


@pytest.fixture
def config(info: dict[str, Any]) -> NetSuiteConfig:
    return NetSuiteConfig.from_sandbox_info(info)


@pytest.fixture
async def client(config: NetSuiteConfig) -> AsyncIterator[NetSuiteClient]:
    async with NetSuiteClient(config) as c:
        yield c


@pytest.fixture
def sink(client: NetSuiteClient) -> NetSuiteSink:
    return NetSuiteSink(client)


@pytest.fixture
async def sandbox(info: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox's admin hooks (clock, webhook, tokens, faults), called from async tests."""
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    async with httpx.AsyncClient(base_url=info["netsuite"]["base_url"], verify=verify, timeout=10) as admin:
        yield admin
        await admin.put("/__sandbox/faults", json={})


async def advance_sandbox_clock(admin: httpx.AsyncClient, seconds: float) -> list[dict[str, Any]]:
    answer = await admin.post("/__admin/clock/advance", json={"seconds": seconds})
    assert answer.status_code == 200
    decided: list[dict[str, Any]] = answer.json()["decided"]
    return decided


async def approved_customer(sink: NetSuiteSink, admin: httpx.AsyncClient, **kwargs: Any) -> str:
    canonical = customer(**kwargs)
    await sink.request_customer(canonical)
    await advance_sandbox_clock(admin, 601)
    assert (await sink.customer_approval(canonical.id)).state == "approved"
    return canonical.id


# -- auth ------------------------------------------------------------------------------------------


async def test_token_is_cached_and_refreshed_once_after_revocation(
    client: NetSuiteClient, sandbox: httpx.AsyncClient
) -> None:
    await client.get_record("currency", "1")
    await client.get_record("currency", "2")
    assert client.tokens.fetched == 1
    assert (await sandbox.post("/__admin/tokens/revoke")).json()["revoked"] >= 1
    assert (await client.get_record("currency", "1"))["symbol"] == "USD"
    assert client.tokens.fetched == 2


async def test_persistent_401_escalates_after_one_refresh(
    client: NetSuiteClient, sandbox: httpx.AsyncClient
) -> None:
    plan = {"custom": {"INVALID_LOGIN": 1.0}, "path_prefixes": ["/services/rest/record/v1/currency"]}
    await sandbox.put("/__sandbox/faults", json=plan)
    try:
        with pytest.raises(AuthError) as caught:
            await client.get_record("currency", "1")
    finally:
        await sandbox.put("/__sandbox/faults", json={})
    assert caught.value.code == "INVALID_LOGIN"
    assert client.tokens.fetched == 2


async def test_wrong_certificate_id_is_an_auth_error(config: NetSuiteConfig) -> None:
    wrong = config.model_copy(update={"certificate_id": "revoked-certificate"})
    async with NetSuiteClient(wrong) as c:
        with pytest.raises(AuthError, match="kid"):
            await c.get_record("currency", "1")


async def test_private_key_can_be_given_inline(config: NetSuiteConfig) -> None:
    assert config.private_key_path is not None
    inline = config.model_copy(
        update={"private_key_path": None, "private_key": SecretStr(config.private_key_path.read_text())}
    )
    async with NetSuiteClient(inline) as c:
        assert (await c.get_record("subsidiary", "1"))["name"] == "Syncline Inc."
    assert "BEGIN" not in repr(inline)


async def test_trace_of_the_work_travels_in_every_call(
    client: NetSuiteClient, sandbox: httpx.AsyncClient
) -> None:
    trace = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    await sandbox.delete("/__admin/governance")
    with bind_trace(trace):
        await client.get_record("currency", "1")
        await client.suiteql_all("SELECT id FROM currency")
    await client.get_record("currency", "2")
    sent = [r["traceparent"] for r in (await sandbox.get("/__admin/governance")).json()["recent"]]
    assert [parse_traceparent(t).trace_id for t in sent[:2]] == [
        trace.trace_id
    ] * 2  # child spans, same trace
    assert sent[2] is None


async def test_engine_limiter_orders_waiting_calls_by_priority(config: NetSuiteConfig) -> None:
    limiter = EndpointLimiter("netsuite", EndpointLimit(rate_per_s=1000, burst=1000, concurrency=1))
    async with NetSuiteClient(config, limiter=limiter) as limited:
        await limited.get_record("currency", "1")  # token and connection warm
        served: list[str] = []

        async def call(name: str, priority: Priority) -> None:
            with call_priority(priority):
                await limited.get_record("currency", "1")
            served.append(name)

        async with limiter.permit(Priority.PAYMENTS):  # hold the only slot while the others queue
            tasks = [
                asyncio.create_task(call("catalog", Priority.CATALOG)),
                asyncio.create_task(call("order", Priority.ORDER_BOOKING)),
                asyncio.create_task(call("payment", Priority.PAYMENTS)),
            ]
            for _ in range(1000):  # let the three tasks reach the limiter's queue
                if limiter.waiting == 3:
                    break
                await asyncio.sleep(0)
            assert limiter.waiting == 3
        await asyncio.gather(*tasks)
    assert served == ["payment", "order", "catalog"]


# -- transient and rate-limited classes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "error"),
    [
        ({"server_error_rate": 1.0}, TransientError),
        ({"throttle_rate": 1.0}, RateLimitedError),
        ({"reset_rate": 1.0}, TransientError),
    ],
    ids=["500", "429", "reset"],
)
async def test_failures_carry_their_retry_class(
    client: NetSuiteClient, sandbox: httpx.AsyncClient, plan: dict[str, Any], error: type[Exception]
) -> None:
    await sandbox.put(
        "/__sandbox/faults", json={**plan, "path_prefixes": ["/services/rest/record/v1/currency"]}
    )
    try:
        with pytest.raises(error) as caught:
            await client.get_record("currency", "1")
    finally:
        await sandbox.put("/__sandbox/faults", json={})
    assert caught.value.retryable  # type: ignore[attr-defined]


async def test_a_request_that_outlives_its_timeout_is_transient(
    config: NetSuiteConfig, sandbox: httpx.AsyncClient
) -> None:
    plan = {"timeout_rate": 1.0, "timeout_s": 1.5, "path_prefixes": ["/services/rest/record/v1/currency"]}
    await sandbox.put("/__sandbox/faults", json=plan)
    async with NetSuiteClient(config.model_copy(update={"timeout_s": 0.3})) as impatient:
        await impatient.get_record("subsidiary", "1")  # outside the fault: fine
        with pytest.raises(TransientError) as caught:
            await impatient.get_record("currency", "1")
    assert caught.value.code == "timeout"


# -- customers and approval ------------------------------------------------------------------------


async def test_customer_upsert_by_external_id_never_duplicates(
    sink: NetSuiteSink, client: NetSuiteClient
) -> None:
    canonical = customer(customer_id=f"{unique('crm')}:acct.7")
    first = await sink.request_customer(canonical)
    second = await sink.request_customer(canonical)
    assert first.internal_id == second.internal_id
    assert first.state == "pending" and first.customer_id == canonical.id
    rows = await client.suiteql_all(
        f"SELECT id FROM customer WHERE externalid = '{external_id_for(canonical.id)}'"
    )
    assert [r["id"] for r in rows] == [first.internal_id]


async def test_approval_wait_survives_a_worker_restart(
    config: NetSuiteConfig, sandbox: httpx.AsyncClient
) -> None:
    canonical = customer()
    async with NetSuiteClient(config) as first_worker:
        submitted = await NetSuiteSink(first_worker).request_customer(canonical)
    assert submitted.state == "pending"
    await advance_sandbox_clock(sandbox, 601)
    async with NetSuiteClient(config) as restarted_worker:
        outcome = await NetSuiteSink(restarted_worker).customer_approval(canonical.id)
    assert outcome.state == "approved" and outcome.internal_id == submitted.internal_id
    assert require_approved(outcome) == submitted.internal_id


async def test_a_customer_that_never_reached_netsuite_is_reported_not_rejected(sink: NetSuiteSink) -> None:
    never_sent = customer()
    assert await sink.customer_approval(never_sent.id) is None
    with pytest.raises(TransientError) as caught:
        await sink.create_sales_order(order(never_sent.id))
    assert caught.value.code == "customer_not_in_erp"


async def test_rejected_customer_is_a_business_rejection_with_reason(
    sink: NetSuiteSink, sandbox: httpx.AsyncClient
) -> None:
    canonical = customer(name="Sanctioned Trading Ltd")
    await sink.request_customer(canonical)
    with pytest.raises(TransientError) as pending:
        require_approved(await sink.customer_approval(canonical.id))
    assert pending.value.code == "customer_pending_approval"
    await advance_sandbox_clock(sandbox, 601)
    outcome = await sink.customer_approval(canonical.id)
    assert outcome.state == "rejected" and "denied-party" in (outcome.reason or "")
    with pytest.raises(BusinessRejection) as rejected:
        await sink.create_sales_order(order(canonical.id))
    assert rejected.value.reason_code == "customer_rejected"


async def test_prospect_without_address_is_rejected_then_resubmitted_when_fixed(
    sink: NetSuiteSink, sandbox: httpx.AsyncClient
) -> None:
    canonical = customer(with_address=False)
    assert canonical.sold_to is None
    await sink.request_customer(canonical)
    await advance_sandbox_clock(sandbox, 601)
    outcome = await sink.customer_approval(canonical.id)
    assert outcome.state == "rejected" and "billing address" in (outcome.reason or "")
    with pytest.raises(BusinessRejection) as caught:
        require_approved(outcome)
    assert caught.value.reason_code == "customer_rejected" and "billing address" in caught.value.message
    again = await sink.request_customer(canonical)
    assert again.state == "rejected"  # a retry of the same request changes nothing
    corrected = canonical.model_copy(update={"sold_to": customer().sold_to})
    assert (await sink.request_customer(corrected)).state == "pending"  # the fix resubmits it
    await advance_sandbox_clock(sandbox, 601)
    assert (await sink.customer_approval(canonical.id)).state == "approved"


async def test_approval_decision_is_pushed_to_the_webhook(
    sink: NetSuiteSink, sandbox: httpx.AsyncClient
) -> None:
    secret = "whsec-connector-test"
    with webhook_receiver() as (url, received):
        await sandbox.put("/__admin/webhook", json={"url": url, "secret": secret})
        try:
            canonical = customer()
            await sink.request_customer(canonical)
            await advance_sandbox_clock(sandbox, 601)
            assert received.arrived.wait(10)
        finally:
            await sandbox.put("/__admin/webhook", json={"url": None})
    mine = []
    for headers, body in received.deliveries:
        outcome = parse_approval_webhook(body, headers.get("x-syncline-signature"), SecretStr(secret))
        if outcome.customer_id == canonical.id:
            mine.append(outcome)
    assert [o.state for o in mine] == ["approved"]
    polled = await sink.customer_approval(canonical.id)
    assert polled.event_id is not None and mine[0].event_id == polled.event_id  # one event, two channels
    assert mine[0].decided_at == polled.decided_at
    headers, body = received.deliveries[0]
    with pytest.raises(AuthError):
        parse_approval_webhook(body, headers.get("x-syncline-signature"), SecretStr("another-secret"))


# -- business rules --------------------------------------------------------------------------------


async def test_invalid_vat_registration_is_rejected_with_reason(sink: NetSuiteSink) -> None:
    canonical = customer(
        country="DE", legal_entity="Syncline GmbH", currency="EUR", tax=("DE123456789", TaxScheme.VAT)
    )
    with pytest.raises(BusinessRejection) as caught:
        await sink.request_customer(canonical)
    assert caught.value.reason_code == "invalid_tax_registration"
    assert "DE123456789" in caught.value.message


async def test_valid_vat_registration_is_accepted(sink: NetSuiteSink) -> None:
    canonical = customer(
        country="DE", legal_entity="Syncline GmbH", currency="EUR", tax=("DE136695976", TaxScheme.VAT)
    )
    assert (await sink.request_customer(canonical)).state == "pending"


async def test_credit_hold_is_rejected_with_reason(sink: NetSuiteSink, client: NetSuiteClient) -> None:
    rows = await client.suiteql_all("SELECT id FROM customer WHERE companyname = 'Overdue Outfitters LLC'")
    with pytest.raises(BusinessRejection) as caught:
        await sink.create_sales_order(order("overdue-outfitters"), customer_internal_id=rows[0]["id"])
    assert caught.value.reason_code == "credit_hold"
    assert caught.value.owner_role == "credit_control"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"skus": ("SKU-0001", "SKU-0013")}, "inactive_item"),
        ({"skus": ("SKU-0007",)}, "unknown_item"),
        ({"currency": "EUR"}, "subsidiary_currency_mismatch"),
        ({"effective_date": dt.date.today() - dt.timedelta(days=200)}, "closed_period"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_order_rules_are_business_rejections(
    sink: NetSuiteSink, sandbox: httpx.AsyncClient, changes: dict[str, Any], reason: str
) -> None:
    customer_id = await approved_customer(sink, sandbox)
    with pytest.raises(BusinessRejection) as caught:
        await sink.create_sales_order(order(customer_id, **changes))
    assert caught.value.reason_code == reason
    assert caught.value.message


# -- orders, invoices, payments --------------------------------------------------------------------


async def test_sales_order_from_canonical_order_is_idempotent(
    sink: NetSuiteSink, client: NetSuiteClient, sandbox: httpx.AsyncClient
) -> None:
    customer_id = await approved_customer(sink, sandbox)
    canonical = order(customer_id, po_number="PO-77")
    first = await sink.create_sales_order(canonical)
    again = await sink.create_sales_order(canonical)
    assert again.internal_id == first.internal_id
    assert first.total == canonical.total == Money.of("540.00", "USD")
    record = await client.get_record("salesOrder", first.internal_id, expand=True)
    assert [line["item"]["refName"] for line in record["item"]["items"]] == ["SKU-0001", "SKU-0002"]
    assert record["otherRefNum"] == "PO-77" and record["externalId"] == external_id_for(canonical.id)


async def test_invoice_and_payment_reads_map_to_canonical(
    sink: NetSuiteSink, client: NetSuiteClient, sandbox: httpx.AsyncClient
) -> None:
    customer_id = await approved_customer(sink, sandbox)
    canonical = order(customer_id)
    so = await sink.create_sales_order(canonical)
    invoice_id = await client.transform("salesOrder", so.internal_id, "invoice")
    source = NetSuiteSource(client)
    [invoice] = await source.invoices_for_order(so.internal_id)
    assert invoice.external_ids == {"netsuite": invoice_id}
    assert (invoice.customer_id, invoice.order_id) == (customer_id, canonical.id)
    assert invoice.total == canonical.total and invoice.status is InvoiceStatus.POSTED
    assert [line.product_sku for line in invoice.lines] == ["SKU-0001", "SKU-0002"]
    payment_id = await client.transform("invoice", invoice_id, "customerPayment")
    payment = await source.get_payment(payment_id)
    assert payment.amount == canonical.total and payment.customer_id == customer_id
    assert [a.invoice_id for a in payment.applied_invoices] == [invoice.id]
    assert await source.get_payment_applied(payment_id) == (payment, [invoice_id])  # ERP ids to re-read
    settled = await source.get_invoice(invoice_id)
    assert settled.status is InvoiceStatus.PAID and settled.is_settled


async def test_item_master_reads_as_canonical_products(client: NetSuiteClient) -> None:
    products = await NetSuiteSource(client).list_products()
    by_sku = {p.sku: p for p in products}
    assert "SKU-0007" not in by_sku and by_sku["SKU-0001"].active
    assert not by_sku["SKU-0013"].active
    assert {p.revenue_class.value for p in products} == {"subscription", "one_time", "hardware"}
    assert by_sku["SKU-0001"].id == "SKU-0001" and by_sku["SKU-0001"].external_ids["netsuite"].isdigit()
    active = await NetSuiteSource(client).list_products(include_inactive=False)
    assert "SKU-0013" not in {p.sku for p in active} and len(active) == len(products) - 1


async def test_retrying_an_entered_order_stays_idempotent_after_a_credit_hold(
    sink: NetSuiteSink, client: NetSuiteClient, sandbox: httpx.AsyncClient
) -> None:
    customer_id = await approved_customer(sink, sandbox)
    entered = order(customer_id)
    first = await sink.create_sales_order(entered)
    internal = (await sink.customer_approval(customer_id)).internal_id
    await client.update_record("customer", internal, {"creditHoldOverride": {"id": "ON"}})
    assert (await sink.create_sales_order(entered)).internal_id == first.internal_id
    with pytest.raises(BusinessRejection) as caught:
        await sink.create_sales_order(order(customer_id))
    assert caught.value.reason_code == "credit_hold"
