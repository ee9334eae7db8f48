"""Subscriptions: create (with the first invoice and payment) and cancel now.

Status on create follows Stripe: `trialing` with a trial (a zero invoice is paid), `active` when the
first charge succeeds or collection is `send_invoice`, `incomplete` when it fails under
`allow_incomplete` or waits under `default_incomplete`; `error_if_incomplete` answers 402 and creates
nothing. Amendments are in `amendments`, time-driven work in `renewals`.
"""

from __future__ import annotations

from typing import Any

from syncline.sandbox.stripe.errors import invalid
from syncline.sandbox.stripe.invoices import LineSpec, add_interval, finalize, new_invoice
from syncline.sandbox.stripe.items import (
    charge_lines,
    check_same_cadence,
    checked_price,
    item_quantity,
    items_list,
    new_item,
    product_name,
)
from syncline.sandbox.stripe.options import StripeSandboxOptions
from syncline.sandbox.stripe.params import (
    as_dict,
    as_int,
    as_list,
    check_known,
    merge_metadata,
    opt_bool,
    opt_int,
    require,
)
from syncline.sandbox.stripe.payments import attempt_payment, card_error, prepare_payment, would_decline
from syncline.sandbox.stripe.renewals import (
    INCOMPLETE_EXPIRES_S,
    TRIAL_WARNING_S,
    end_subscription,
    schedule,
)
from syncline.sandbox.stripe.store import Store

CREATE_PARAMS = {
    "customer",
    "items",
    "payment_behavior",
    "collection_method",
    "days_until_due",
    "trial_period_days",
    "trial_end",
    "metadata",
    "proration_behavior",
    "description",
    "default_payment_method",
    "cancel_at_period_end",
    "currency",
    "off_session",
}
CANCEL_PARAMS = {"invoice_now", "prorate", "cancellation_details"}
PAYMENT_BEHAVIORS = ("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete")


def _blank_subscription(
    store: Store, customer: dict[str, Any], params: dict[str, Any], now: int
) -> dict[str, Any]:
    collection = params.get("collection_method") or "charge_automatically"
    if collection not in ("charge_automatically", "send_invoice"):
        raise invalid(f"Invalid collection_method: {collection}", param="collection_method")
    days_until_due = opt_int(params, "days_until_due")
    if collection == "send_invoice" and days_until_due is None:
        raise invalid(
            "Missing required param: days_until_due.", param="days_until_due", code="parameter_missing"
        )
    return {
        "id": store.new_id("sub"),
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": now,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "classic", "flexible": None},
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": collection,
        "created": now,
        "currency": None,
        "customer": customer["id"],
        "days_until_due": days_until_due,
        "default_payment_method": params.get("default_payment_method") or None,
        "default_source": None,
        "default_tax_rates": [],
        "description": params.get("description") or None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": None,
        "latest_invoice": None,
        "livemode": False,
        "metadata": merge_metadata({}, params.get("metadata")),
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": now,
        "status": "incomplete",
        "test_clock": customer.get("test_clock"),
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def _trial_end(params: dict[str, Any], now: int) -> int | None:
    days = opt_int(params, "trial_period_days")
    if days:
        return now + days * 86400
    if params.get("trial_end") not in (None, "", "now"):
        end = as_int(params["trial_end"], "trial_end")
        if end <= now:
            raise invalid(
                "Invalid timestamp: must be an integer Unix timestamp in the future.", param="trial_end"
            )
        return end
    return None


def create_subscription(store: Store, opts: StripeSandboxOptions, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, CREATE_PARAMS)
    customer = store.require("customer", require(params, "customer"), "customer")
    raw_items = as_list(require(params, "items"), "items")
    behavior = params.get("payment_behavior") or "allow_incomplete"
    if behavior not in PAYMENT_BEHAVIORS:
        raise invalid(f"Invalid payment_behavior: {behavior}", param="payment_behavior")
    now = store.now_for_customer(customer)
    sub = _blank_subscription(store, customer, params, now)
    prices = [checked_price(store, as_dict(raw, f"items[{i}]"), i) for i, raw in enumerate(raw_items)]
    if not prices:
        raise invalid("Missing required param: items.", param="items", code="parameter_missing")
    check_same_cadence(prices)
    trial_end = _trial_end(params, now)
    recurring = prices[0]["recurring"]
    end = trial_end or add_interval(now, recurring["interval"], recurring["interval_count"])
    sub["items"] = items_list(
        sub["id"],
        [
            new_item(store, sub["id"], price, item_quantity(raw, i), raw.get("metadata"), (now, end), now)
            for i, (raw, price) in enumerate(zip(raw_items, prices, strict=True))
        ],
    )
    sub["currency"] = prices[0]["currency"]
    sub["billing_cycle_anchor"] = end if trial_end else now
    sub["cancel_at_period_end"] = bool(opt_bool(params, "cancel_at_period_end", False))
    if sub["cancel_at_period_end"]:
        sub["cancel_at"] = end
    if params.get("default_payment_method"):
        customer["invoice_settings"]["default_payment_method"] = sub["default_payment_method"]
    lines = charge_lines(store, sub, now, end)
    if trial_end:
        sub.update(status="trialing", trial_start=now, trial_end=trial_end)
        lines = [_zero_trial_line(store, line) for line in lines]
    charging = sub["collection_method"] == "charge_automatically" and not trial_end
    probe = {"customer": customer["id"], "billing_reason": "subscription_create"}
    if charging and behavior == "error_if_incomplete" and would_decline(store, opts, probe):
        raise card_error(store, opts, probe)
    if sub["collection_method"] == "send_invoice":
        sub["status"] = "active"
    store.put(sub)
    store.emit("customer.subscription.created", sub)
    invoice = new_invoice(store, customer, sub, "subscription_create", lines, now)
    sub["latest_invoice"] = invoice["id"]
    finalize(store, invoice, now)
    if charging and behavior == "default_incomplete":
        prepare_payment(store, invoice, opts, now)
    elif charging and attempt_payment(store, opts, invoice, now):
        sub["status"] = "active"
        store.emit("customer.subscription.updated", sub, {"status": "incomplete"})
    if sub["status"] == "trialing":
        schedule(store, customer, max(now, end - TRIAL_WARNING_S), "trial_will_end", sub["id"])
    if sub["status"] == "incomplete":
        schedule(store, customer, now + INCOMPLETE_EXPIRES_S, "expire_incomplete", sub["id"])
    schedule(store, customer, end, "renew", sub["id"])
    return sub


def _zero_trial_line(store: Store, line: LineSpec) -> LineSpec:
    return LineSpec(
        amount=0,
        description=f"Trial period for {product_name(store, line.price)}",
        price=line.price,
        quantity=line.quantity,
        period_start=line.period_start,
        period_end=line.period_end,
        subscription=line.subscription,
        subscription_item=line.subscription_item,
    )


def cancel_subscription(store: Store, sub_id: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, CANCEL_PARAMS)
    sub = store.require("subscription", sub_id)
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise invalid(f"This subscription has already been canceled: '{sub_id}'", code="resource_missing")
    customer = store.require("customer", sub["customer"], "customer")
    details = as_dict(params.get("cancellation_details", {}), "cancellation_details")
    sub["cancellation_details"].update(
        {k: details[k] or None for k in ("comment", "feedback") if k in details}
    )
    end_subscription(store, sub, store.now_for_customer(customer), "cancellation_requested")
    return sub


__all__ = ["CREATE_PARAMS", "cancel_subscription", "create_subscription"]
