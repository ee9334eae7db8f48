"""The official `stripe` SDK against the Stripe sandbox over HTTPS: every endpoint the connector uses."""

from __future__ import annotations

import base64
import ssl
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from stripe_testkit import sdk_client, stripe_sandbox

from syncline.sandbox.faults import FaultPlan
from syncline.sandbox.runner import SandboxCluster

JAN_1_2026 = 1767225600
FEB_1_2026 = 1769904000
DAY = 86400


def _price(sdk: stripe.StripeClient, key: str) -> stripe.Price:
    return sdk.v1.prices.list({"lookup_keys": [key]}).data[0]


def _clock_customer(sdk: stripe.StripeClient, **params: Any) -> tuple[str, stripe.Customer]:
    clock = sdk.v1.test_helpers.test_clocks.create({"frozen_time": JAN_1_2026, "name": "test"})
    customer = sdk.v1.customers.create({"name": "Acme", "test_clock": clock.id, **params})
    return clock.id, customer


def _advance(sdk: stripe.StripeClient, clock_id: str, to: int) -> None:
    answer = sdk.v1.test_helpers.test_clocks.advance(clock_id, {"frozen_time": to})
    assert answer.status == "advancing"
    assert sdk.v1.test_helpers.test_clocks.retrieve(clock_id).status == "ready"


def _raw(cluster: SandboxCluster) -> httpx.Client:
    info = cluster.info()
    return httpx.Client(
        base_url=info["stripe"]["api_base"], verify=ssl.create_default_context(cafile=info["ca_cert"])
    )


def _subscribe(sdk: stripe.StripeClient, customer: str, *keys: str, **params: Any) -> stripe.Subscription:
    items = [{"price": _price(sdk, key).id, "quantity": 1} for key in keys]
    return sdk.v1.subscriptions.create({"customer": customer, "items": items, **params})


# auth, wire format, errors ------------------------------------------------------------------------


def test_bearer_and_basic_auth_are_accepted_and_a_missing_key_is_401(cluster: SandboxCluster) -> None:
    key = cluster.info()["stripe"]["api_key"]
    basic = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    with _raw(cluster) as http:
        by_bearer = http.get("/v1/customers", headers={"Authorization": f"Bearer {key}"})
        by_basic = http.get("/v1/customers", headers={"Authorization": basic})
        missing = http.get("/v1/customers")
    assert by_bearer.status_code == by_basic.status_code == 200
    assert by_bearer.headers["request-id"].startswith("req_")
    assert by_bearer.json()["object"] == "list"
    assert missing.status_code == 401
    assert "did not provide an API key" in missing.json()["error"]["message"]


def test_an_invalid_key_raises_the_sdk_authentication_error(cluster: SandboxCluster) -> None:
    bad = sdk_client(cluster, api_key="sk_test_wrong_key_1234")
    with pytest.raises(stripe.AuthenticationError) as caught:
        bad.v1.customers.list()
    assert caught.value.http_status == 401
    assert "sk_test_************1234" in str(caught.value.user_message)


def test_unknown_parameter_and_unknown_url_answer_like_stripe(
    sdk: stripe.StripeClient, cluster: SandboxCluster
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.customers.create({"nmae": "typo"})  # type: ignore[typeddict-unknown-key]
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        400,
        "parameter_unknown",
        "nmae",
    )
    with _raw(cluster) as http:
        key = cluster.info()["stripe"]["api_key"]
        answer = http.get("/v1/nothing_here", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "invalid_request_error"


def test_json_bodies_are_refused_on_v1(cluster: SandboxCluster) -> None:
    key = cluster.info()["stripe"]["api_key"]
    with _raw(cluster) as http:
        answer = http.post("/v1/customers", json={"name": "x"}, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 400
    assert "x-www-form-urlencoded" in answer.json()["error"]["message"]


# customers, catalog, lists, expand ---------------------------------------------------------------


def test_customer_create_update_retrieve_delete_with_nested_metadata(sdk: stripe.StripeClient) -> None:
    created = sdk.v1.customers.create(
        {"name": "Acme", "email": "ap@acme.test", "metadata": {"sf_id": "001A"}, "address": {"country": "US"}}
    )
    assert created.id.startswith("cus_") and created.object == "customer" and created.livemode is False
    updated = sdk.v1.customers.update(created.id, {"metadata": {"erp_id": "C-1", "sf_id": ""}})
    assert updated.metadata.to_dict() == {"erp_id": "C-1"}
    assert sdk.v1.customers.retrieve(created.id).email == "ap@acme.test"
    deleted = sdk.v1.customers.delete(created.id)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.customers.retrieve(created.id)
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_seeded_catalog_uses_sku_lookup_keys_and_has_its_deliberate_gaps(sdk: stripe.StripeClient) -> None:
    monthly = sdk.v1.prices.list({"lookup_keys": ["SKU-0001:monthly:usd"], "expand": ["data.product"]}).data[
        0
    ]
    assert monthly.unit_amount == 4900 and monthly.recurring.interval == "month"
    assert monthly.product.metadata["sku"] == "SKU-0001"  # type: ignore[union-attr]
    legacy = sdk.v1.prices.list({"lookup_keys": ["SKU-0007:monthly:usd"]}).data[0]
    assert legacy.active is False
    assert sdk.v1.prices.list({"lookup_keys": ["SKU-0008:monthly:usd"]}).data == []
    one_time = _price(sdk, "SKU-0005:one_time:usd")
    assert one_time.type == "one_time" and one_time.recurring is None


def test_product_and_price_lifecycle_with_lookup_key_transfer(sdk: stripe.StripeClient) -> None:
    product = sdk.v1.products.create({"name": "Widget", "metadata": {"sku": "SKU-9001"}})
    assert product.id.startswith("prod_") and product.active is True
    first = sdk.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1000,
            "recurring": {"interval": "month"},
            "lookup_key": "SKU-9001:monthly:usd",
        }
    )
    with pytest.raises(stripe.InvalidRequestError) as taken:
        sdk.v1.prices.create(
            {
                "product": product.id,
                "currency": "usd",
                "unit_amount": 1100,
                "lookup_key": "SKU-9001:monthly:usd",
            }
        )
    assert taken.value.param == "lookup_key"
    second = sdk.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 1100,
            "recurring": {"interval": "month"},
            "lookup_key": "SKU-9001:monthly:usd",
            "transfer_lookup_key": True,
        }
    )
    assert sdk.v1.prices.retrieve(first.id).lookup_key is None
    assert _price(sdk, "SKU-9001:monthly:usd").id == second.id
    archived = sdk.v1.prices.update(first.id, {"active": False})
    assert archived.active is False
    renamed = sdk.v1.products.update(product.id, {"name": "Widget II", "default_price": second.id})
    assert (renamed.name, renamed.default_price) == ("Widget II", second.id)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sdk.v1.prices.create({"product": "prod_missing", "currency": "usd", "unit_amount": 5})
    assert (missing.value.code, missing.value.param) == ("resource_missing", "product")


def test_list_pagination_forward_and_backward(sdk: stripe.StripeClient) -> None:
    made = [sdk.v1.customers.create({"name": f"page-{i}", "email": "page@test"}).id for i in range(5)]
    newest_first = list(reversed(made))
    first = sdk.v1.customers.list({"email": "page@test", "limit": 2})
    assert [c.id for c in first.data] == newest_first[:2] and first.has_more is True
    second = sdk.v1.customers.list({"email": "page@test", "limit": 2, "starting_after": first.data[-1].id})
    assert [c.id for c in second.data] == newest_first[2:4] and second.has_more is True
    back = sdk.v1.customers.list({"email": "page@test", "limit": 2, "ending_before": second.data[0].id})
    assert [c.id for c in back.data] == newest_first[:2] and back.has_more is False
    every = [c.id for c in sdk.v1.customers.list({"email": "page@test", "limit": 2}).auto_paging_iter()]
    assert every == newest_first


def test_expand_replaces_ids_with_objects(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.create({"name": "Expand Co"})
    sub = _subscribe(sdk, customer.id, "SKU-0002:monthly:usd", expand=["customer", "latest_invoice"])
    assert sub.customer.name == "Expand Co"  # type: ignore[union-attr]
    assert sub.latest_invoice.object == "invoice"  # type: ignore[union-attr]
    invoice = sdk.v1.invoices.retrieve(
        sub.latest_invoice.id,  # type: ignore[union-attr]
        {"expand": ["payments.data.payment.payment_intent"]},
    )
    intent = invoice.payments.data[0].payment.payment_intent  # type: ignore[union-attr]
    assert intent.status == "succeeded" and intent.amount == 14900  # type: ignore[union-attr]


# subscriptions -----------------------------------------------------------------------------------


def test_subscription_create_pays_the_first_invoice_and_is_active(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.create({"name": "Payer"})
    sub = sdk.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": _price(sdk, "SKU-0001:monthly:usd").id, "quantity": 3}],
            "metadata": {"order_id": "ORD-1"},
            "expand": ["latest_invoice"],
        }
    )
    assert sub.id.startswith("sub_") and sub.status == "active"
    item = sub["items"].data[0]
    assert item.id.startswith("si_") and item.quantity == 3
    assert item.current_period_end > item.current_period_start
    invoice = sub.latest_invoice
    assert invoice.status == "paid" and invoice.amount_paid == 3 * 4900  # type: ignore[union-attr]
    assert invoice.billing_reason == "subscription_create"  # type: ignore[union-attr]
    assert invoice.parent.subscription_details.metadata["order_id"] == "ORD-1"  # type: ignore[union-attr]
    assert sdk.v1.subscription_items.retrieve(item.id).subscription == sub.id
    assert [i.id for i in sdk.v1.invoices.list({"subscription": sub.id}).data] == [invoice.id]  # type: ignore[union-attr]


def test_a_sub_cent_price_keeps_its_decimal_amount_and_lines_round_to_the_cent(
    sdk: stripe.StripeClient,
) -> None:
    """Usage prices below a cent (EUR 0.045 per thousand calls) exist only as `unit_amount_decimal`;
    an invoice line multiplies the exact price and rounds once, to the nearest minor unit."""
    product = sdk.v1.products.create({"name": "API calls", "metadata": {"sku": "SKU-9045"}})
    price = sdk.v1.prices.create(
        {
            "product": product.id,
            "currency": "eur",
            "unit_amount_decimal": "4.5",
            "recurring": {"interval": "month"},
        }
    )
    assert price.unit_amount is None and price.unit_amount_decimal == Decimal("4.5")  # the SDK decodes it
    with pytest.raises(stripe.InvalidRequestError) as refused:
        sdk.v1.prices.create(
            {"product": product.id, "currency": "eur", "unit_amount_decimal": "0.1234567890123"}
        )
    assert refused.value.param == "unit_amount_decimal"
    customer = sdk.v1.customers.create({"name": "Metered"})

    sub = sdk.v1.subscriptions.create(
        {
            "customer": customer.id,
            "items": [{"price": price.id, "quantity": 333}],
            "expand": ["latest_invoice"],
        }
    )

    assert sub.latest_invoice.amount_paid == 1499  # type: ignore[union-attr]  # 333 x 4.5 = 1498.5 cents


def test_trial_and_send_invoice_and_failed_payment_statuses(sdk: stripe.StripeClient) -> None:
    happy = sdk.v1.customers.create({"name": "Trial"})
    trialing = _subscribe(sdk, happy.id, "SKU-0004:monthly:usd", trial_period_days=14)
    assert trialing.status == "trialing" and trialing.trial_end == trialing.trial_start + 14 * DAY  # type: ignore[operator]
    invoiced = _subscribe(
        sdk, happy.id, "SKU-0006:monthly:usd", collection_method="send_invoice", days_until_due=30
    )
    open_invoice = sdk.v1.invoices.retrieve(str(invoiced.latest_invoice))
    assert invoiced.status == "active" and open_invoice.status == "open" and open_invoice.due_date
    failing = sdk.v1.customers.create({"name": "Declines", "payment_method": "pm_card_chargeCustomerFail"})
    incomplete = _subscribe(sdk, failing.id, "SKU-0001:monthly:usd")
    assert incomplete.status == "incomplete"
    with pytest.raises(stripe.CardError) as declined:
        _subscribe(sdk, failing.id, "SKU-0001:monthly:usd", payment_behavior="error_if_incomplete")
    assert declined.value.http_status == 402 and declined.value.code == "card_declined"
    waiting = _subscribe(sdk, happy.id, "SKU-0002:annual:usd", payment_behavior="default_incomplete")
    assert waiting.status == "incomplete"
    paid = sdk.v1.invoices.pay(str(waiting.latest_invoice))
    assert paid.status == "paid"
    assert sdk.v1.subscriptions.retrieve(waiting.id).status == "active"


@pytest.mark.parametrize(
    ("item", "code", "param", "fragment"),
    [
        ({"price": "price_doesnotexist"}, "resource_missing", "items[0][price]", "No such price"),
        ({"lookup": "SKU-0007:monthly:usd"}, None, "items[0][price]", "inactive"),
        ({"lookup": "SKU-0005:one_time:usd"}, None, "items[0][price]", "type=recurring"),
        (
            {
                "price_data": {
                    "product": "prod_missing",
                    "currency": "usd",
                    "unit_amount": 100,
                    "recurring": {"interval": "month"},
                }
            },
            "resource_missing",
            "items[0][price_data][product]",
            "No such product",
        ),
    ],
)
def test_catalog_rules_reject_subscriptions_like_stripe(
    sdk: stripe.StripeClient, item: dict[str, Any], code: str | None, param: str, fragment: str
) -> None:
    customer = sdk.v1.customers.create({"name": "Catalog"})
    if "lookup" in item:
        item = {"price": _price(sdk, item.pop("lookup")).id}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.subscriptions.create({"customer": customer.id, "items": [item]})  # type: ignore[list-item]
    assert caught.value.http_status == 400
    assert (caught.value.code, caught.value.param) == (code, param)
    assert fragment in str(caught.value.user_message)
    assert sdk.v1.subscriptions.list({"customer": customer.id}).data == []


def test_inactive_product_rejects_new_subscriptions_to_its_active_price(sdk: stripe.StripeClient) -> None:
    product = sdk.v1.products.create({"name": "Sunset"})
    price = sdk.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": 500, "recurring": {"interval": "month"}}
    )
    sdk.v1.products.update(product.id, {"active": False})
    customer = sdk.v1.customers.create({"name": "Late"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        sdk.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    assert "marked as inactive" in str(caught.value.user_message)


def test_amendments_prorate_and_co_term_add_ons(sdk: stripe.StripeClient) -> None:
    clock, customer = _clock_customer(sdk)
    sub = _subscribe(sdk, customer.id, "SKU-0001:monthly:usd")
    item = sub["items"].data[0]
    _advance(sdk, clock, JAN_1_2026 + 15 * DAY + 12 * 3600)
    upsell = sdk.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "quantity": 3}], "proration_behavior": "always_invoice"}
    )
    update_invoice = sdk.v1.invoices.retrieve(str(upsell.latest_invoice))
    assert update_invoice.billing_reason == "subscription_update" and update_invoice.status == "paid"
    amounts = sorted(line.amount for line in update_invoice.lines.data)
    assert amounts[0] < 0 < amounts[1]  # credit for unused time, charge for remaining time
    assert update_invoice.total == 2 * 4900 // 2
    addon = sdk.v1.subscriptions.update(
        sub.id, {"items": [{"price": _price(sdk, "SKU-0003:monthly:usd").id, "quantity": 2}]}
    )
    periods = {(i.current_period_start, i.current_period_end) for i in addon["items"].data}
    assert len(periods) == 1  # co-termed with the existing item
    pending = sdk.v1.invoice_items.list({"customer": customer.id, "pending": True}).data
    assert len(pending) == 1 and pending[0].amount == 2 * 1200 // 2
    downsell = sdk.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "quantity": 1}], "proration_behavior": "none"}
    )
    assert {i.quantity for i in downsell["items"].data} == {1, 2}
    _advance(sdk, clock, FEB_1_2026 + 2 * 3600)
    renewal = sdk.v1.invoices.list({"subscription": sub.id, "limit": 1}).data[0]
    assert renewal.billing_reason == "subscription_cycle" and renewal.status == "paid"
    assert renewal.total == 4900 + 2 * 1200 + 1200  # next period plus the pending add-on proration


def test_cancel_now_and_at_period_end(sdk: stripe.StripeClient) -> None:
    clock, customer = _clock_customer(sdk)
    now_sub = _subscribe(sdk, customer.id, "SKU-0004:monthly:usd")
    canceled = sdk.v1.subscriptions.cancel(now_sub.id)
    assert canceled.status == "canceled" and canceled.ended_at == JAN_1_2026
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.subscriptions.cancel(now_sub.id)
    later = _subscribe(sdk, customer.id, "SKU-0006:monthly:usd")
    flagged = sdk.v1.subscriptions.update(later.id, {"cancel_at_period_end": True})
    assert flagged.cancel_at_period_end is True and flagged.status == "active"
    _advance(sdk, clock, FEB_1_2026 + DAY)
    ended = sdk.v1.subscriptions.retrieve(later.id)
    assert ended.status == "canceled" and ended.ended_at == FEB_1_2026
    assert sdk.v1.subscriptions.list({"customer": customer.id}).data == []
    assert len(sdk.v1.subscriptions.list({"customer": customer.id, "status": "canceled"}).data) == 2


def test_test_clock_renewals_and_dunning_to_past_due_then_canceled(sdk: stripe.StripeClient) -> None:
    clock, customer = _clock_customer(sdk, metadata={"sandbox_payment": "fail_renewals"})
    sub = _subscribe(sdk, customer.id, "SKU-0001:monthly:usd")
    assert sub.status == "active"
    _advance(sdk, clock, FEB_1_2026 + 30 * 60)  # renewal drafted, not yet finalised
    draft = sdk.v1.invoices.list({"subscription": sub.id, "limit": 1}).data[0]
    assert draft.status == "draft" and draft.billing_reason == "subscription_cycle"
    _advance(sdk, clock, FEB_1_2026 + 2 * 3600)
    failed = sdk.v1.invoices.retrieve(draft.id)
    assert failed.status == "open" and failed.attempt_count == 1 and failed.next_payment_attempt
    assert sdk.v1.subscriptions.retrieve(sub.id).status == "past_due"
    _advance(sdk, clock, FEB_1_2026 + 20 * DAY)
    assert sdk.v1.invoices.retrieve(draft.id).attempt_count == 4
    assert sdk.v1.subscriptions.retrieve(sub.id).status == "canceled"
    kinds = [
        e.type
        for e in sdk.v1.events.list({"type": "invoice.payment_failed", "limit": 100}).data
        if e.data.object["id"] == draft.id
    ]
    assert len(kinds) == 4


def test_renewals_are_deterministic_and_a_card_update_recovers_past_due(sdk: stripe.StripeClient) -> None:
    clock, customer = _clock_customer(sdk, payment_method="pm_card_visa_chargeDeclinedInsufficientFunds")
    sub = _subscribe(sdk, customer.id, "SKU-0003:monthly:usd", trial_period_days=7)
    assert sub.status == "trialing"

    def trial_warnings() -> int:
        events = sdk.v1.events.list({"type": "customer.subscription.trial_will_end", "limit": 100}).data
        return sum(1 for e in events if e.data.object["id"] == sub.id)

    _advance(sdk, clock, JAN_1_2026 + 4 * DAY - 60)
    assert trial_warnings() == 0
    _advance(sdk, clock, JAN_1_2026 + 4 * DAY)
    assert trial_warnings() == 1  # three days before the trial ends
    _advance(sdk, clock, JAN_1_2026 + 7 * DAY + 2 * 3600)
    assert sdk.v1.subscriptions.retrieve(sub.id).status == "past_due"
    intent = sdk.v1.payment_intents.list({"customer": customer.id}).data[0]
    assert intent.last_payment_error.decline_code == "insufficient_funds"  # type: ignore[union-attr]
    sdk.v1.customers.update(customer.id, {"invoice_settings": {"default_payment_method": "pm_card_visa"}})
    _advance(sdk, clock, JAN_1_2026 + 11 * DAY)
    assert sdk.v1.subscriptions.retrieve(sub.id).status == "active"
    assert sdk.v1.payment_intents.retrieve(intent.id).status == "succeeded"


def test_unpaid_after_retries_when_configured(tmp_path: Path) -> None:
    with stripe_sandbox(tmp_path, dunning_final_status="unpaid", dunning_retry_days=[1]) as running:
        sdk = sdk_client(running)
        clock, customer = _clock_customer(sdk)
        sub = _subscribe(sdk, customer.id, "SKU-0001:monthly:usd")
        sdk.v1.customers.update(customer.id, {"metadata": {"sandbox_payment": "fail"}})
        _advance(sdk, clock, FEB_1_2026 + 3 * DAY)
        assert sdk.v1.subscriptions.retrieve(sub.id).status == "unpaid"


# invoices ----------------------------------------------------------------------------------------


def test_invoice_void_mark_uncollectible_and_refinalize_errors(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.create({"name": "Invoices"})
    first = _subscribe(
        sdk, customer.id, "SKU-0004:monthly:usd", collection_method="send_invoice", days_until_due=15
    )
    second = _subscribe(
        sdk, customer.id, "SKU-0006:monthly:usd", collection_method="send_invoice", days_until_due=15
    )
    voided = sdk.v1.invoices.void_invoice(str(first.latest_invoice))
    assert voided.status == "void" and voided.status_transitions.voided_at
    written_off = sdk.v1.invoices.mark_uncollectible(str(second.latest_invoice))
    assert written_off.status == "uncollectible"
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.invoices.finalize_invoice(str(first.latest_invoice))
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.invoices.void_invoice(str(first.latest_invoice))
    out_of_band = _subscribe(
        sdk, customer.id, "SKU-0001:monthly:usd", collection_method="send_invoice", days_until_due=5
    )
    paid = sdk.v1.invoices.pay(str(out_of_band.latest_invoice), {"paid_out_of_band": True})
    assert paid.status == "paid"
    lines = sdk.v1.invoices.line_items.list(paid.id)
    assert lines.data[0].invoice == paid.id and lines.data[0].amount == 4900
    assert lines.data[0].pricing.price_details.price == _price(sdk, "SKU-0001:monthly:usd").id


# events, idempotency, limits, faults -------------------------------------------------------------


def test_events_record_requests_and_filter_by_type_and_time(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.create({"name": "Evented"}, {"idempotency_key": "evt-test-key-1"})
    created = sdk.v1.events.list({"type": "customer.created", "limit": 1}).data[0]
    assert created.data.object["id"] == customer.id
    assert created.request.idempotency_key == "evt-test-key-1" and created.request.id.startswith("req_")
    assert sdk.v1.events.retrieve(created.id).type == "customer.created"
    wildcard = {e.type for e in sdk.v1.events.list({"type": "customer.*", "limit": 100}).data}
    assert wildcard <= {
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
    }
    later = sdk.v1.events.list({"created": {"gt": created.created + 10**6}}).data
    assert later == []


def test_idempotent_replay_and_sdk_idempotency_error(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.create({"name": "Idem"})
    params = {"customer": customer.id, "items": [{"price": _price(sdk, "SKU-0001:monthly:usd").id}]}
    first = sdk.v1.subscriptions.create(params, {"idempotency_key": "tx-42:subscription.create"})  # type: ignore[arg-type]
    again = sdk.v1.subscriptions.create(params, {"idempotency_key": "tx-42:subscription.create"})  # type: ignore[arg-type]
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(sdk.v1.subscriptions.list({"customer": customer.id}).data) == 1
    with pytest.raises(stripe.IdempotencyError) as caught:
        sdk.v1.subscriptions.create(
            {**params, "metadata": {"changed": "yes"}},  # type: ignore[typeddict-item]
            {"idempotency_key": "tx-42:subscription.create"},
        )
    assert caught.value.http_status == 400
    assert "same parameters" in str(caught.value.user_message)


def test_rejected_requests_are_not_stored_under_their_key(sdk: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.subscriptions.create(
            {"customer": "cus_nobody", "items": [{"price": "price_x"}]}, {"idempotency_key": "fix-and-retry"}
        )
    customer = sdk.v1.customers.create({"name": "Retry"})
    fixed = sdk.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": _price(sdk, "SKU-0001:monthly:usd").id}]},
        {"idempotency_key": "fix-and-retry"},
    )
    assert fixed.status == "active"
    assert fixed.last_response.headers.get("Idempotent-Replayed") is None


def test_rate_limit_answers_429_rate_limit(tmp_path: Path) -> None:
    with stripe_sandbox(tmp_path, rate_limit_per_second=1) as running:
        sdk = sdk_client(running)
        with pytest.raises(stripe.RateLimitError) as caught:
            for _ in range(10):
                sdk.v1.customers.list()
        assert caught.value.http_status == 429 and caught.value.error.code == "rate_limit"  # type: ignore[union-attr]


def test_default_rate_limit_is_stripe_test_mode(tmp_path: Path) -> None:
    with sandboxes_default(tmp_path) as app:
        assert app.api.limiter.per_second == 25


def sandboxes_default(tmp_path: Path) -> Any:
    from contextlib import contextmanager

    from syncline.sandbox.runner import sandboxes_in_thread

    @contextmanager
    def run() -> Any:
        with sandboxes_in_thread(["stripe"], state_dir=tmp_path) as running:
            yield running.running["stripe"].app

    return run()


def test_injected_faults_have_stripe_error_shapes(tmp_path: Path) -> None:
    with stripe_sandbox(tmp_path) as running:
        sdk = sdk_client(running)
        faults = running.running["stripe"].faults
        faults.replace_plan(FaultPlan(throttle_rate=1.0))
        with pytest.raises(stripe.RateLimitError) as throttled:
            sdk.v1.customers.list()
        assert throttled.value.error.code == "rate_limit"  # type: ignore[union-attr]
        faults.replace_plan(FaultPlan(server_error_rate=1.0))
        with pytest.raises(stripe.APIError) as broken:
            sdk.v1.customers.list()
        assert broken.value.http_status == 500
        faults.replace_plan(FaultPlan(custom={"lock_timeout": 1.0}))
        with pytest.raises(stripe.RateLimitError) as locked:
            sdk.v1.customers.list()
        assert locked.value.error.code == "lock_timeout"  # type: ignore[union-attr]


def test_snapshot_and_restore_keep_the_state(tmp_path: Path) -> None:
    with stripe_sandbox(tmp_path / "a", seed_catalog=False) as running:
        sdk = sdk_client(running)
        customer = sdk.v1.customers.create({"name": "Persisted"})
        state = running.running["stripe"].app.snapshot()
    with stripe_sandbox(tmp_path / "b", seed_catalog=False) as fresh:
        fresh.running["stripe"].app.restore(state)
        assert sdk_client(fresh).v1.customers.retrieve(customer.id).name == "Persisted"


def test_same_seed_same_ids(tmp_path: Path) -> None:
    def ids(path: Path) -> list[str]:
        with stripe_sandbox(path, seed=11) as running:
            sdk = sdk_client(running)
            return [sdk.v1.customers.create({"name": str(i)}).id for i in range(3)]

    assert ids(tmp_path / "one") == ids(tmp_path / "two")


def test_declines_are_stored_under_their_key_and_replayed(
    sdk: stripe.StripeClient, cluster: SandboxCluster
) -> None:
    customer = sdk.v1.customers.create(
        {"name": "Replayed decline", "payment_method": "pm_card_chargeDeclined"}
    )
    params = {
        "customer": customer.id,
        "items[0][price]": _price(sdk, "SKU-0001:monthly:usd").id,
        "payment_behavior": "error_if_incomplete",
    }
    key = cluster.info()["stripe"]["api_key"]
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "decline-once"}
    with _raw(cluster) as http:
        first = http.post("/v1/subscriptions", data=params, headers=headers)
        second = http.post("/v1/subscriptions", data=params, headers=headers)
    assert first.status_code == second.status_code == 402
    assert first.json() == second.json() and first.json()["error"]["decline_code"] == "generic_decline"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["original-request"] == first.headers["request-id"]


def test_expand_depth_and_list_prefix(sdk: stripe.StripeClient) -> None:
    customer = sdk.v1.customers.create({"name": "Deep"})
    _subscribe(sdk, customer.id, "SKU-0006:monthly:usd")
    listed = sdk.v1.subscriptions.list({"customer": customer.id, "expand": ["data.latest_invoice.customer"]})
    assert listed.data[0].latest_invoice.customer.name == "Deep"  # type: ignore[union-attr]
    with pytest.raises(stripe.InvalidRequestError) as too_deep:
        sdk.v1.subscriptions.list({"expand": ["data.latest_invoice.customer.test_clock.x.y"]})
    assert too_deep.value.param == "expand"
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.customers.retrieve(customer.id, {"expand": ["not_a_field"]})


def test_test_clocks_list_and_delete_and_incomplete_expiry(sdk: stripe.StripeClient) -> None:
    clock, customer = _clock_customer(sdk, payment_method="pm_card_chargeCustomerFail")
    sub = _subscribe(sdk, customer.id, "SKU-0001:monthly:usd")
    assert sub.status == "incomplete"
    _advance(sdk, clock, JAN_1_2026 + 22 * 3600)
    assert sdk.v1.subscriptions.retrieve(sub.id).status == "incomplete"
    _advance(sdk, clock, JAN_1_2026 + 24 * 3600)
    assert sdk.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"
    with pytest.raises(stripe.InvalidRequestError) as backwards:
        sdk.v1.test_helpers.test_clocks.advance(clock, {"frozen_time": JAN_1_2026})
    assert backwards.value.param == "frozen_time"
    assert clock in [c.id for c in sdk.v1.test_helpers.test_clocks.list({"limit": 100}).data]
    assert sdk.v1.test_helpers.test_clocks.delete(clock).deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.test_helpers.test_clocks.retrieve(clock)
