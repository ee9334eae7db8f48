"""The Stripe connector over real HTTPS against the sandbox: sink, errors, gap-fill, translation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import stripe
from stripe_testkit import async_client, stripe_sandbox

from syncline.connectors.stripe import (
    AmendmentDirection,
    EventCheckpoint,
    StripeBillingSink,
    StripeEventTranslator,
    StripeLookups,
    classify_stripe_error,
    gap_fill,
    idempotency_key,
)
from syncline.contracts import (
    BillingFrequency,
    Customer,
    InvoiceSchedule,
    Money,
    Price,
    Product,
    RevenueClass,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    validate_event,
)
from syncline.errors import (
    AuthError,
    BusinessRejection,
    ContractViolation,
    RateLimitedError,
    TransientError,
)
from syncline.sandbox.faults import FaultPlan
from syncline.sandbox.runner import SandboxCluster

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _customer(cid: str = "cust-100", name: str = "Acme Ltd") -> Customer:
    return Customer(
        id=cid,
        legal_name=name,
        currency="USD",
        legal_entity="US01",
        external_ids={"salesforce": "001A000001", "netsuite": "C-77"},
        updated_at=NOW,
    )


def _item(
    sku: str, quantity: int, amount: str, frequency: BillingFrequency = BillingFrequency.MONTHLY
) -> SubscriptionItem:
    return SubscriptionItem(
        product_sku=sku,
        quantity=Decimal(quantity),
        unit_price=Money.of(amount, "USD"),
        billing_frequency=frequency,
    )


def _subscription(*items: SubscriptionItem, sid: str = "sub-100", customer: str = "cust-100") -> Subscription:
    return Subscription(
        id=sid,
        customer_id=customer,
        order_id="ord-100",
        status=SubscriptionStatus.PENDING,
        currency="USD",
        items=items,
        term_months=12,
        start_date=date(2026, 3, 1),
        invoice_schedule=InvoiceSchedule(frequency=BillingFrequency.MONTHLY),
        updated_at=NOW,
    )


async def test_customer_and_subscription_are_created_once_per_transaction(cluster: SandboxCluster) -> None:
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        first = await sink.upsert_customer("tx-1", _customer())
        retried = await sink.upsert_customer("tx-1", _customer())
        assert first == retried
        created = await sink.create_subscription("tx-1", _subscription(_item("SKU-0001", 2, "49.00")), first)
        again = await sink.create_subscription("tx-1", _subscription(_item("SKU-0001", 2, "49.00")), first)
        assert (again.stripe_id, again.latest_invoice) == (created.stripe_id, created.latest_invoice)
        assert created.status == "active" and created.latest_invoice
        assert (created.replayed, again.replayed) == (False, True)
        customer = await client.v1.customers.retrieve_async(first)
        subs = await client.v1.subscriptions.list_async({"customer": first})
    assert customer.metadata["syncline_id"] == "cust-100"
    assert customer.metadata["ext_salesforce"] == "001A000001"
    assert [s.id for s in subs.data] == [created.stripe_id]
    assert subs.data[0].metadata["order_id"] == "ord-100"
    assert subs.data[0]["items"].data[0].metadata["sku"] == "SKU-0001"


async def test_every_post_carries_the_transaction_step_key(cluster: SandboxCluster) -> None:
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        stripe_id = await sink.upsert_customer("tx-keys", _customer("cust-keys"))
        events = await client.v1.events.list_async({"type": "customer.created", "limit": 20})
    [event] = [e for e in events.data if e.data.object["id"] == stripe_id]
    assert event.request.idempotency_key == idempotency_key("tx-keys", "customer.create")


async def test_an_amendment_retried_after_it_landed_is_a_no_op_not_an_idempotency_error(
    cluster: SandboxCluster,
) -> None:
    target = _subscription(_item("SKU-0001", 4, "49.00"), sid="sub-retry")
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        customer = await sink.upsert_customer("tx-retry", _customer("cust-retry"))
        write = await sink.create_subscription(
            "tx-retry", _subscription(_item("SKU-0001", 1, "49.00"), sid="sub-retry"), customer
        )
        first = await sink.amend_subscription("tx-retry", write.stripe_id, target, 1)
        # The engine re-runs the step (its answer was lost): same transaction, same step.
        again = await sink.amend_subscription("tx-retry", write.stripe_id, target, 1)
        sub = await client.v1.subscriptions.retrieve_async(write.stripe_id)
    assert first.direction == AmendmentDirection.UPSELL
    assert again.stripe_id == first.stripe_id
    assert [(i.metadata["sku"], i.quantity) for i in sub["items"].data] == [("SKU-0001", 4)]


async def test_negotiated_amount_becomes_an_inline_price_on_the_catalog_product(
    cluster: SandboxCluster,
) -> None:
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        customer = await sink.upsert_customer("tx-neg", _customer("cust-neg"))
        write = await sink.create_subscription(
            "tx-neg",
            _subscription(_item("SKU-0002", 1, "120.00"), sid="sub-neg", customer="cust-neg"),
            customer,
        )
        sub = await client.v1.subscriptions.retrieve_async(write.stripe_id)
        catalog = await client.v1.prices.list_async({"lookup_keys": ["SKU-0002:monthly:usd"]})
    item_price = sub["items"].data[0].price
    assert item_price.unit_amount == 12000
    assert item_price.product == catalog.data[0].product and item_price.id != catalog.data[0].id


async def test_a_sub_cent_price_is_booked_at_its_catalog_price_and_amended_exactly(
    cluster: SandboxCluster,
) -> None:
    """EUR/USD 0.045 per unit exists in Stripe only as `unit_amount_decimal`: booking finds the catalog
    price, an upsell compares the exact amounts (it used to need a whole-cent `unit_amount`)."""
    async with async_client(cluster) as client:
        product = await client.v1.products.create_async(
            {"name": "API calls", "metadata": {"sku": "SKU-7045"}}
        )
        params: Any = {
            "product": product.id,
            "currency": "usd",
            "unit_amount_decimal": "4.5",
            "recurring": {"interval": "month"},
            "lookup_key": "SKU-7045:monthly:usd",
        }
        catalog_price = await client.v1.prices.create_async(params)
        sink = StripeBillingSink(client)
        customer = await sink.upsert_customer("tx-subcent", _customer("cust-subcent"))
        usage = _subscription(_item("SKU-7045", 1000, "0.045"), sid="sub-subcent", customer="cust-subcent")
        write = await sink.create_subscription("tx-subcent", usage, customer)
        more = _subscription(_item("SKU-7045", 3000, "0.045"), sid="sub-subcent", customer="cust-subcent")
        upsell = await sink.amend_subscription("tx-subcent", write.stripe_id, more, 1)
        sub = await client.v1.subscriptions.retrieve_async(write.stripe_id)
        first = await client.v1.invoices.list_async({"subscription": write.stripe_id, "limit": 10})
    [item] = sub["items"].data
    assert item.price.id == catalog_price.id and item.quantity == 3000
    assert upsell.direction is AmendmentDirection.UPSELL
    assert first.data[-1].amount_paid == 4500  # 1000 x 4.5 cents: the catalog price, not 0.05


async def test_upsell_add_on_and_downsell(cluster: SandboxCluster) -> None:
    base = _item("SKU-0001", 2, "49.00")
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        customer = await sink.upsert_customer("tx-amend", _customer("cust-amend"))
        write = await sink.create_subscription("tx-amend", _subscription(base, sid="sub-amend"), customer)
        upsell = await sink.amend_subscription(
            "tx-amend", write.stripe_id, _subscription(_item("SKU-0001", 5, "49.00"), sid="sub-amend"), 1
        )
        addon = await sink.amend_subscription(
            "tx-amend",
            write.stripe_id,
            _subscription(_item("SKU-0001", 5, "49.00"), _item("SKU-0003", 3, "12.00"), sid="sub-amend"),
            2,
        )
        downsell = await sink.amend_subscription(
            "tx-amend", write.stripe_id, _subscription(_item("SKU-0001", 1, "49.00"), sid="sub-amend"), 3
        )
        sub = await client.v1.subscriptions.retrieve_async(write.stripe_id)
        upsell_invoice = await client.v1.invoices.retrieve_async(str(upsell.latest_invoice))
        pending = await client.v1.invoice_items.list_async({"customer": customer, "pending": True})
    assert (upsell.direction, addon.direction, downsell.direction) == (
        AmendmentDirection.UPSELL,
        AmendmentDirection.UPSELL,
        AmendmentDirection.DOWNSELL,
    )
    assert upsell_invoice.billing_reason == "subscription_update" and upsell_invoice.total > 0
    assert [(i.metadata["sku"], i.quantity) for i in sub["items"].data] == [("SKU-0001", 1)]
    assert pending.data and all(ii.proration for ii in pending.data)
    assert sum(ii.amount for ii in pending.data) < 0  # the downsell is a credit on the next invoice


async def test_cancel_at_period_end_then_now_and_again(cluster: SandboxCluster) -> None:
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        customer = await sink.upsert_customer("tx-cancel", _customer("cust-cancel"))
        write = await sink.create_subscription(
            "tx-cancel", _subscription(_item("SKU-0004", 1, "299.00"), sid="sub-c"), customer
        )
        later = await sink.cancel_subscription("tx-cancel", write.stripe_id, at_period_end=True)
        assert later.status == "active"
        assert (await client.v1.subscriptions.retrieve_async(write.stripe_id)).cancel_at_period_end is True
        now = await sink.cancel_subscription("tx-cancel-2", write.stripe_id, at_period_end=False)
        repeat = await sink.cancel_subscription("tx-cancel-2", write.stripe_id, at_period_end=False)
    assert now.status == repeat.status == "canceled"


async def test_product_and_price_publication_moves_the_lookup_key(cluster: SandboxCluster) -> None:
    product = Product(
        id="prod-7000",
        sku="SKU-7000",
        name="Analytics",
        family="Platform",
        revenue_class=RevenueClass.SUBSCRIPTION,
        updated_at=NOW,
    )

    def price(version: str, amount: str) -> Price:
        return Price(
            id=f"price-7000-{version}",
            price_book="List",
            product_sku="SKU-7000",
            unit_amount=Money.of(amount, "USD"),
            billing_period=BillingFrequency.QUARTERLY,
            pricing_version=version,
            effective_from=date(2026, 1, 1),
            published_at=NOW,
        )

    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        product_id = await sink.upsert_product("tx-cat", product)
        first = await sink.publish_price("tx-cat", price("2026.1", "300.00"), product_id)
        second = await sink.publish_price("tx-cat", price("2026.2", "330.00"), product_id)
        found = await client.v1.prices.list_async({"lookup_keys": ["SKU-7000:quarterly:usd"]})
        old = await client.v1.prices.retrieve_async(first)
    assert [p.id for p in found.data] == [second]
    assert found.data[0].recurring.interval_count == 3 and found.data[0].unit_amount == 33000
    assert old.lookup_key is None


# error classification over the wire ----------------------------------------------------------------


async def test_catalog_gaps_become_business_rejections(cluster: SandboxCluster) -> None:
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        customer = await sink.upsert_customer("tx-gap", _customer("cust-gap"))
        with pytest.raises(BusinessRejection) as inactive:
            await sink.create_subscription(
                "tx-gap", _subscription(_item("SKU-0007", 1, "19.00"), sid="s-gap"), customer
            )
        with pytest.raises(BusinessRejection) as missing:
            await sink.create_subscription(
                "tx-gap2", _subscription(_item("SKU-0008", 1, "10.00"), sid="s-gap2"), customer
            )
    assert inactive.value.reason_code == "INACTIVE_PRICE" and inactive.value.system == "stripe"
    assert missing.value.reason_code == "MISSING_PRICE" and "SKU-0008" in missing.value.message


async def test_same_key_with_other_parameters_is_a_contract_violation(cluster: SandboxCluster) -> None:
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        await sink.upsert_customer("tx-conflict", _customer("cust-x", "First Name"))
        with pytest.raises(ContractViolation) as caught:
            await sink.upsert_customer("tx-conflict", _customer("cust-x", "Second Name"))
    assert caught.value.code == "idempotency_conflict"


async def test_auth_connection_rate_limit_and_server_errors_are_classified(tmp_path: Path) -> None:
    with stripe_sandbox(tmp_path) as cluster:
        async with async_client(cluster, api_key="sk_test_revoked_0000") as bad:
            with pytest.raises(AuthError):
                await StripeBillingSink(bad).upsert_customer("tx-a", _customer())
        async with async_client(cluster, api_base="https://127.0.0.1:9") as unreachable:
            with pytest.raises(TransientError) as network:
                await StripeBillingSink(unreachable).upsert_customer("tx-b", _customer())
        assert network.value.code == "connection"
        app = cluster.running["stripe"].app
        faults = cluster.running["stripe"].faults
        async with async_client(cluster) as client:
            sink = StripeBillingSink(client)
            app.set_rate_limit(1)  # type: ignore[attr-defined]
            with pytest.raises(RateLimitedError) as limited:
                for i in range(5):
                    await sink.upsert_customer(f"tx-rl-{i}", _customer())
            app.set_rate_limit(0)  # type: ignore[attr-defined]
            faults.replace_plan(FaultPlan(server_error_rate=1.0))
            with pytest.raises(TransientError) as server:
                await sink.upsert_customer("tx-c", _customer())
            faults.replace_plan(FaultPlan(custom={"lock_timeout": 1.0}))
            with pytest.raises(TransientError) as locked:
                await sink.upsert_customer("tx-d", _customer())
            faults.replace_plan(FaultPlan())
            retried = await sink.upsert_customer("tx-c", _customer())
    assert limited.value.code == "rate_limit" and limited.value.retryable
    assert server.value.code == "500" and locked.value.code == "lock_timeout"
    assert retried.startswith("cus_")


def test_card_decline_is_a_business_rejection_for_collections(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.create({"name": "Decliner", "payment_method": "pm_card_chargeCustomerFail"})
    price = sdk.v1.prices.list({"lookup_keys": ["SKU-0001:monthly:usd"]}).data[0].id
    with pytest.raises(stripe.CardError) as declined:
        sdk.v1.subscriptions.create(
            {"customer": customer.id, "items": [{"price": price}], "payment_behavior": "error_if_incomplete"}
        )
    classified = classify_stripe_error(declined.value)
    assert isinstance(classified, BusinessRejection)
    assert (classified.reason_code, classified.owner_role) == ("PAYMENT_DECLINED", "collections")
    assert classified.code == "generic_decline"


# gap-fill and translation ------------------------------------------------------------------------


async def test_gap_fill_returns_what_was_missed_and_a_checkpoint(cluster: SandboxCluster) -> None:
    async with async_client(cluster) as client:
        latest = (await client.v1.events.list_async({"limit": 1})).data[0]
        checkpoint = (await gap_fill(client, EventCheckpoint(latest.created))).checkpoint  # caught up
        sink = StripeBillingSink(client)
        during_downtime = await sink.upsert_customer("tx-gap-fill", _customer("cust-down", "Down Time"))
        filled = await gap_fill(client, checkpoint)
        nothing_new = await gap_fill(client, filled.checkpoint)
        typed = await gap_fill(client, checkpoint, types=["customer.created"])
    ids = [e["id"] for e in filled.events]
    assert latest.id not in ids and len(ids) == len(set(ids))
    assert any(
        e["type"] == "customer.created" and e["data"]["object"]["id"] == during_downtime
        for e in filled.events
    )
    assert [e["created"] for e in filled.events] == sorted(e["created"] for e in filled.events)
    assert nothing_new.events == () and nothing_new.checkpoint == filled.checkpoint
    assert {e["type"] for e in typed.events} == {"customer.created"}
    assert not filled.window_exceeded


async def test_invoice_and_payment_events_translate_to_canonical_events(cluster: SandboxCluster) -> None:
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        customer = await sink.upsert_customer("tx-tr", _customer("cust-tr"))
        write = await sink.create_subscription(
            "tx-tr", _subscription(_item("SKU-0001", 2, "49.00"), sid="sub-tr", customer="cust-tr"), customer
        )
        events = [e.to_dict() for e in (await client.v1.events.list_async({"limit": 100})).data]
        translator = StripeEventTranslator(StripeLookups(client))
        paid = next(
            e
            for e in events
            if e["type"] == "invoice.paid" and e["data"]["object"]["id"] == write.latest_invoice
        )
        payment = next(
            e
            for e in events
            if e["type"] == "invoice_payment.paid" and e["data"]["object"]["invoice"] == write.latest_invoice
        )
        [posted] = await translator.translate(paid)
        [applied] = await translator.translate(payment)
        assert [e.id for e in await translator.translate(paid)] == [posted.id]  # deterministic id
        ignored = await translator.translate(next(e for e in events if e["type"] == "customer.created"))
        sub_events = [e for e in events if e["data"]["object"].get("id") == write.stripe_id]
        created = next(e for e in sub_events if e["type"] == "customer.subscription.created")
        went_live = next(e for e in sub_events if e["type"] == "customer.subscription.updated")
        assert await translator.translate(created) == []  # created incomplete, not yet activated
        [activated] = await translator.translate(went_live)
    assert ignored == []
    assert activated.type == "syncline.subscription.activated.v1" and activated.subject == "sub-tr"
    validate_event(activated)
    subscription: dict[str, Any] = activated.data
    assert subscription["customer_id"] == "cust-tr" and subscription["status"] == "active"
    assert subscription["term_months"] == 12 and subscription["order_id"] == "ord-100"
    assert [(i["product_sku"], i["quantity"]) for i in subscription["items"]] == [("SKU-0001", "2")]
    assert subscription["invoice_schedule"]["frequency"] == "monthly"
    assert {posted.partitionkey, applied.partitionkey, activated.partitionkey} == {"cust-tr"}
    assert posted.type == "syncline.invoice.posted.v1" and applied.type == "syncline.payment.applied.v1"
    validate_event(posted)
    validate_event(applied)
    invoice: dict[str, Any] = posted.data
    assert invoice["customer_id"] == "cust-tr" and invoice["subscription_id"] == "sub-tr"
    assert invoice["order_id"] == "ord-100" and invoice["status"] == "paid"
    assert invoice["lines"][0]["product_sku"] == "SKU-0001"
    assert Decimal(invoice["total"]["amount"]) == Decimal("98.00") and invoice["total"]["currency"] == "USD"
    assert Decimal(invoice["balance"]["amount"]) == 0
    pay: dict[str, Any] = applied.data
    assert pay["customer_id"] == "cust-tr" and pay["method"] == "card" and pay["status"] == "succeeded"
    assert pay["applied_invoices"][0]["invoice_id"] == invoice["id"]
    assert Decimal(pay["amount"]["amount"]) == Decimal("98.00")


LEAST_PRIVILEGE = {
    "customers": "write",
    "products": "write",
    "prices": "write",
    "subscriptions": "write",
    "invoices": "read",
    "events": "read",
}


async def test_the_documented_least_privilege_restricted_key_runs_the_whole_connector(tmp_path: Path) -> None:
    keys = {
        "rk_test_syncline_connector": LEAST_PRIVILEGE,
        "rk_test_no_subscriptions": {**LEAST_PRIVILEGE, "subscriptions": "read"},
    }
    with stripe_sandbox(tmp_path, restricted_keys=keys) as cluster:
        async with async_client(cluster, api_key="rk_test_syncline_connector") as client:
            sink = StripeBillingSink(client)
            customer = await sink.upsert_customer("tx-rk", _customer("cust-rk"))
            write = await sink.create_subscription(
                "tx-rk",
                _subscription(_item("SKU-0001", 1, "49.00"), sid="sub-rk", customer="cust-rk"),
                customer,
            )
            await sink.amend_subscription(
                "tx-rk",
                write.stripe_id,
                _subscription(_item("SKU-0001", 2, "49.00"), sid="sub-rk", customer="cust-rk"),
                1,
            )
            filled = await gap_fill(client, EventCheckpoint(0))
            translator = StripeEventTranslator(StripeLookups(client))
            posted = [env for e in filled.events for env in await translator.translate(e)]
            await sink.cancel_subscription("tx-rk", write.stripe_id, at_period_end=False)
            with pytest.raises(stripe.PermissionError) as no_webhooks:
                await client.v1.webhook_endpoints.list_async()
        async with async_client(cluster, api_key="rk_test_no_subscriptions") as reader:
            with pytest.raises(AuthError) as denied:
                await StripeBillingSink(reader).create_subscription(
                    "tx-rk2", _subscription(_item("SKU-0001", 1, "49.00")), customer
                )
    assert {e.type for e in posted} == {
        "syncline.invoice.posted.v1",
        "syncline.payment.applied.v1",
        "syncline.subscription.activated.v1",
    }
    assert denied.value.code == "insufficient_permissions"
    assert "rak_subscriptions_write" in denied.value.message
    assert no_webhooks.value.http_status == 403
    assert isinstance(classify_stripe_error(no_webhooks.value), AuthError)


async def test_every_post_is_keyed_and_every_call_carries_the_trace(tmp_path: Path) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with stripe_sandbox(tmp_path) as cluster:
        async with async_client(cluster) as client:
            sink = StripeBillingSink(client, trace_headers=lambda: {"traceparent": traceparent})
            customer = await sink.upsert_customer("tx-trace", _customer("cust-trace"))
            write = await sink.create_subscription(
                "tx-trace",
                _subscription(_item("SKU-0001", 1, "49.00"), sid="sub-trace", customer="cust-trace"),
                customer,
            )
            await sink.amend_subscription(
                "tx-trace",
                write.stripe_id,
                _subscription(_item("SKU-0001", 3, "49.00"), sid="sub-trace", customer="cust-trace"),
                1,
            )
            await sink.cancel_subscription("tx-trace", write.stripe_id, at_period_end=True)
            await sink.cancel_subscription("tx-trace", write.stripe_id, at_period_end=False)
        log = cluster.running["stripe"].app.requests  # type: ignore[attr-defined]
    posts = [r for r in log if r["method"] == "POST"]
    assert [r["idempotency_key"] for r in posts] == [
        idempotency_key("tx-trace", step)
        for step in (
            "customer.create",
            "subscription.create",
            "subscription.amend.1",
            "subscription.cancel_at_period_end",
        )
    ]
    assert {r["method"] for r in log} == {"GET", "POST", "DELETE"}
    assert all(r["traceparent"] == traceparent for r in log)
    assert all(r["status"] == 200 for r in log)


async def test_finalized_and_voided_invoices_post_with_their_status(cluster: SandboxCluster) -> None:
    async with async_client(cluster) as client:
        sink = StripeBillingSink(client)
        customer = await sink.upsert_customer("tx-void", _customer("cust-void"))
        price = (await client.v1.prices.list_async({"lookup_keys": ["SKU-0004:monthly:usd"]})).data[0].id
        params: Any = {
            "customer": customer,
            "items": [{"price": price}],
            "collection_method": "send_invoice",
            "days_until_due": 30,
        }
        sub = await client.v1.subscriptions.create_async(params)
        await client.v1.invoices.void_invoice_async(str(sub.latest_invoice))
        events = [e.to_dict() for e in (await client.v1.events.list_async({"limit": 50})).data]
        mine = [e for e in events if e["data"]["object"].get("id") == sub.latest_invoice]
        translator = StripeEventTranslator(StripeLookups(client))
        posted = {e["type"]: (await translator.translate(e)) for e in mine}
    assert posted["invoice.created"] == []  # drafts are not posted
    finalized = posted["invoice.finalized"][0].data
    voided = posted["invoice.voided"][0].data
    assert finalized["status"] == "posted" and voided["status"] == "void"
    assert Decimal(finalized["balance"]["amount"]) == Decimal("299.00")
    assert finalized["due_date"] > finalized["issue_date"]
    assert posted["invoice.finalized"][0].id != posted["invoice.voided"][0].id


async def test_invoices_with_more_than_ten_lines_are_posted_whole(cluster: SandboxCluster) -> None:
    async with async_client(cluster) as client:
        prices = []
        for n in range(12):
            product = await client.v1.products.create_async(
                {"name": f"Module {n}", "metadata": {"sku": f"SKU-8{n:03d}"}}
            )
            params: Any = {
                "product": product.id,
                "currency": "usd",
                "unit_amount": 100 + n,
                "recurring": {"interval": "month"},
            }
            prices.append((await client.v1.prices.create_async(params)).id)
        customer = await StripeBillingSink(client).upsert_customer("tx-lines", _customer("cust-lines"))
        sub_params: Any = {"customer": customer, "items": [{"price": p} for p in prices]}
        sub = await client.v1.subscriptions.create_async(sub_params)
        invoice = await client.v1.invoices.retrieve_async(str(sub.latest_invoice))
        second_page = await client.v1.invoices.line_items.list_async(
            invoice.id, {"limit": 10, "starting_after": invoice.lines.data[-1].id}
        )
        events = [
            e.to_dict()
            for e in (await client.v1.events.list_async({"type": "invoice.paid", "limit": 10})).data
        ]
        paid = next(e for e in events if e["data"]["object"]["id"] == invoice.id)
        [posted] = await StripeEventTranslator(StripeLookups(client)).translate(paid)
    assert len(invoice.lines.data) == 10 and invoice.lines.has_more is True
    assert len(second_page.data) == 2 and second_page.has_more is False
    lines = posted.data["lines"]
    assert [line["product_sku"] for line in lines] == [f"SKU-8{n:03d}" for n in range(12)]
    assert Decimal(posted.data["total"]["amount"]) == Decimal(sum(100 + n for n in range(12))) / 100


async def test_gap_fill_feeds_the_engine_intake_with_its_checkpoint(
    cluster: SandboxCluster, tmp_path: Path
) -> None:
    import json

    from syncline.engine.intake import Intake
    from syncline.engine.registry import FlowRegistry
    from syncline.ledger import open_ledger

    ledger = open_ledger(f"sqlite:///{tmp_path}/ledger.db", create_if_empty=True)
    intake = Intake(ledger, FlowRegistry())
    try:
        async with async_client(cluster) as client:
            start = (await client.v1.events.list_async({"limit": 1})).data[0]
            caught_up = (await gap_fill(client, EventCheckpoint(start.created))).checkpoint  # all seen so far
            ledger.set_checkpoint("stripe.events", json.dumps(caught_up.to_json()))
            sink = StripeBillingSink(client)
            customer = await sink.upsert_customer("tx-intake", _customer("cust-intake"))
            await sink.create_subscription(
                "tx-intake",
                _subscription(_item("SKU-0004", 1, "299.00"), sid="sub-intake", customer="cust-intake"),
                customer,
            )
            translator = StripeEventTranslator(StripeLookups(client))

            async def pump() -> tuple[list[str], int]:
                raw = ledger.get_checkpoint("stripe.events")
                filled = await gap_fill(client, EventCheckpoint.from_json(json.loads(str(raw))))
                envelopes = [env for event in filled.events for env in await translator.translate(event)]
                result = intake.accept(
                    envelopes,
                    source_system="stripe",
                    checkpoint=("stripe.events", json.dumps(filled.checkpoint.to_json())),
                )
                assert result.ok, result.rejected
                accepted = set(result.accepted)
                return sorted(e.type for e in envelopes if e.id in accepted), len(result.duplicates)

            first = await pump()
            again = await pump()
        events_in_ledger = ledger.count_events()
    finally:
        ledger.close()
    assert first == (
        [
            "syncline.invoice.posted.v1",  # finalized
            "syncline.invoice.posted.v1",  # paid
            "syncline.payment.applied.v1",
            "syncline.subscription.activated.v1",
        ],
        0,
    )
    assert again == ([], 0) and events_in_ledger == 4  # the checkpoint moved: nothing read twice
