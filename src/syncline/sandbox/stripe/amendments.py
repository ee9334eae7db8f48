"""Subscription amendments: quantity and price changes, added (co-termed) and deleted items, prorated.

`proration_behavior`: `create_prorations` (default) records pending invoice items billed with the next
renewal, `always_invoice` invoices and charges the proration now, `none` changes without proration.
All items share the subscription's period (classic billing mode), so a new item is co-termed.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from syncline.sandbox.stripe.catalog import price_amount
from syncline.sandbox.stripe.errors import invalid, resource_missing
from syncline.sandbox.stripe.invoices import LineSpec, activate_after_payment, finalize, new_invoice
from syncline.sandbox.stripe.items import (
    check_same_cadence,
    checked_price,
    item_quantity,
    items_list,
    new_item,
    period_of,
    plan_of,
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
)
from syncline.sandbox.stripe.payments import attempt_payment, card_error, would_decline
from syncline.sandbox.stripe.renewals import payment_failed
from syncline.sandbox.stripe.store import Store

UPDATE_PARAMS = {
    "items",
    "payment_behavior",
    "proration_behavior",
    "proration_date",
    "metadata",
    "description",
    "default_payment_method",
    "cancel_at_period_end",
    "cancel_at",
    "cancellation_details",
    "collection_method",
    "days_until_due",
    "off_session",
}
PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")


def _apply_item_changes(
    store: Store, sub: dict[str, Any], raw_items: list[Any], now: int
) -> list[tuple[dict[str, Any] | None, int, dict[str, Any] | None, int, str]]:
    """Change items in place; returns (old price, old qty, new price, new qty, item id) per change."""
    period = period_of(sub)
    by_id = {item["id"]: item for item in sub["items"]["data"]}
    changes: list[tuple[dict[str, Any] | None, int, dict[str, Any] | None, int, str]] = []
    for index, raw_value in enumerate(raw_items):
        raw = as_dict(raw_value, f"items[{index}]")
        if raw.get("id"):
            item = by_id.get(str(raw["id"]))
            if item is None:
                raise resource_missing("subscription_item", str(raw["id"]), f"items[{index}][id]")
            old_price, old_qty = item["price"], int(item["quantity"])
            if opt_bool(raw, "deleted", False):
                del by_id[item["id"]]
                changes.append((old_price, old_qty, None, 0, item["id"]))
                continue
            has_price = raw.get("price") or raw.get("price_data")
            price = checked_price(store, raw, index) if has_price else old_price
            item.update(
                price=copy.deepcopy(price), plan=plan_of(price), quantity=item_quantity(raw, index, old_qty)
            )
            item["metadata"] = merge_metadata(item["metadata"], raw.get("metadata"))
            if price["id"] != old_price["id"] or item["quantity"] != old_qty:
                changes.append((old_price, old_qty, price, item["quantity"], item["id"]))
        else:
            price = checked_price(store, raw, index)
            if any(i["price"]["id"] == price["id"] for i in by_id.values()):
                raise invalid(
                    f"Cannot add multiple subscription items with the same price: {price['id']}",
                    param=f"items[{index}][price]",
                )
            item = new_item(
                store, sub["id"], price, item_quantity(raw, index), raw.get("metadata"), period, now
            )
            by_id[item["id"]] = item
            changes.append((None, 0, price, int(item["quantity"]), item["id"]))
    if not by_id:
        raise invalid(
            "A subscription must have at least one active price. To cancel a subscription, use the cancel "
            "API endpoint.",
            param="items",
        )
    check_same_cadence([item["price"] for item in by_id.values()])
    sub["items"] = items_list(sub["id"], list(by_id.values()))
    return changes


def _proration_lines(
    store: Store,
    sub: dict[str, Any],
    changes: list[tuple[dict[str, Any] | None, int, dict[str, Any] | None, int, str]],
    at: int,
) -> list[LineSpec]:
    """Credit unused time on the old price, charge remaining time on the new one, to the period end."""
    start, end = period_of(sub)
    if not start <= at < end:
        return []
    fraction = (end - at) / (end - start)
    when = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%d %b %Y")
    lines: list[LineSpec] = []
    for old_price, old_qty, new_price, new_qty, item_id in changes:
        if old_price is not None and old_qty:
            amount = -price_amount(old_price, old_qty, fraction)
            text = f"Unused time on {old_qty} \u00d7 {product_name(store, old_price)} after {when}"
            lines.append(LineSpec(amount, text, old_price, old_qty, at, end, sub["id"], item_id, True))
        if new_price is not None and new_qty:
            amount = price_amount(new_price, new_qty, fraction)
            text = f"Remaining time on {new_qty} \u00d7 {product_name(store, new_price)} after {when}"
            lines.append(LineSpec(amount, text, new_price, new_qty, at, end, sub["id"], item_id, True))
    return lines


def _pending_item(store: Store, customer: dict[str, Any], line: LineSpec, at: int) -> dict[str, Any]:
    item = {
        "id": store.new_id("ii"),
        "object": "invoiceitem",
        "amount": line.amount,
        "currency": line.price["currency"],
        "customer": customer["id"],
        "date": at,
        "description": line.description,
        "discountable": False,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": {},
        "net_amount": line.amount,
        "parent": {
            "subscription_details": {
                "subscription": line.subscription,
                "subscription_item": line.subscription_item,
            },
            "type": "subscription_details",
        },
        "period": {"end": line.period_end, "start": line.period_start},
        "pricing": {
            "price_details": {"price": line.price["id"], "product": line.price["product"]},
            "type": "price_details",
            "unit_amount_decimal": line.price["unit_amount_decimal"],
        },
        "proration": True,
        "quantity": line.quantity,
        "tax_rates": [],
        "test_clock": customer.get("test_clock"),
    }
    store.put(item)
    store.emit("invoiceitem.created", item)
    return item


def update_subscription(
    store: Store, opts: StripeSandboxOptions, sub_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    check_known(params, UPDATE_PARAMS)
    sub = store.require("subscription", sub_id)
    if sub["status"] in ("canceled", "incomplete_expired") and set(params) - {
        "metadata",
        "cancellation_details",
    }:
        raise invalid("A canceled subscription can only update its cancellation_details and metadata.")
    customer = store.require("customer", sub["customer"], "customer")
    now = store.now_for_customer(customer)
    proration = params.get("proration_behavior") or "create_prorations"
    if proration not in PRORATION_BEHAVIORS:
        raise invalid(f"Invalid proration_behavior: {proration}", param="proration_behavior")
    behavior = params.get("payment_behavior") or "allow_incomplete"
    at = opt_int(params, "proration_date") or now
    before = copy.deepcopy(sub)
    changes = (
        _apply_item_changes(store, sub, as_list(params["items"], "items"), now) if "items" in params else []
    )
    lines = _proration_lines(store, sub, changes, at) if proration != "none" else []
    if proration == "always_invoice" and lines and behavior == "error_if_incomplete":
        probe = {"customer": customer["id"], "billing_reason": "subscription_update"}
        if sum(line.amount for line in lines) > 0 and would_decline(store, opts, probe):
            store.put(before)
            raise card_error(store, opts, probe)
    _apply_plain_updates(sub, params)
    previous = {k: before[k] for k in sub if sub[k] != before[k]}
    if previous:
        store.emit("customer.subscription.updated", sub, previous)
    if proration == "create_prorations":
        for line in lines:
            _pending_item(store, customer, line, now)
    elif proration == "always_invoice" and lines:
        _invoice_now(store, opts, customer, sub, lines, now)
    return sub


def _apply_plain_updates(sub: dict[str, Any], params: dict[str, Any]) -> None:
    sub["metadata"] = merge_metadata(sub["metadata"], params.get("metadata"))
    if "description" in params:
        sub["description"] = params["description"] or None
    if "default_payment_method" in params:
        sub["default_payment_method"] = params["default_payment_method"] or None
    if "cancel_at_period_end" in params:
        flag = bool(opt_bool(params, "cancel_at_period_end", False))
        sub["cancel_at_period_end"] = flag
        sub["cancel_at"] = period_of(sub)[1] if flag else None
    if params.get("cancel_at") not in (None, ""):
        sub["cancel_at"] = as_int(params["cancel_at"], "cancel_at")
    if params.get("cancellation_details"):
        details = as_dict(params["cancellation_details"], "cancellation_details")
        sub["cancellation_details"].update(
            {k: details[k] or None for k in ("comment", "feedback") if k in details}
        )


def _invoice_now(
    store: Store,
    opts: StripeSandboxOptions,
    customer: dict[str, Any],
    sub: dict[str, Any],
    lines: list[LineSpec],
    now: int,
) -> None:
    invoice = new_invoice(store, customer, sub, "subscription_update", lines, now)
    sub["latest_invoice"] = invoice["id"]
    finalize(store, invoice, now)
    if invoice["status"] == "open" and invoice["collection_method"] == "charge_automatically":
        if attempt_payment(store, opts, invoice, now):
            activate_after_payment(store, invoice)
        else:
            payment_failed(store, opts, customer, sub, invoice, now)


__all__ = ["UPDATE_PARAMS", "update_subscription"]
