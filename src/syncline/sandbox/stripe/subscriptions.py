"""Subscriptions and their items: create, amend with prorations, cancel, renew on a test clock.

Classic billing mode: all items share the subscription's period, so an add-on is co-termed with
the items already there and prorated from now to the period end. Validation mirrors Stripe's
answers: a missing price or product is `resource_missing` naming the item parameter, an archived
price or product is an `invalid_request_error` on the same parameter.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from syncline.sandbox.stripe.errors import StripeApiError, invalid, resource_missing
from syncline.sandbox.stripe.invoices import (
    LineSpec,
    activate_after_payment,
    add_interval,
    attempt_payment,
    card_error,
    finalize,
    new_invoice,
    prepare_payment,
    would_decline,
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
CANCEL_PARAMS = {"invoice_now", "prorate", "cancellation_details"}
PAYMENT_BEHAVIORS = ("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete")
PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")
INCOMPLETE_EXPIRES_S = 23 * 3600
LIVE_STATUSES = ("incomplete", "trialing", "active", "past_due", "unpaid")


def _plan(price: dict[str, Any]) -> dict[str, Any]:
    recurring = price["recurring"] or {}
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "livemode": False,
        "metadata": dict(price["metadata"]),
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def _item(
    store: Store,
    sub_id: str,
    price: dict[str, Any],
    quantity: int,
    metadata: Any,
    period: tuple[int, int],
    now: int,
) -> dict[str, Any]:
    return {
        "id": store.new_id("si", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": now,
        "current_period_end": period[1],
        "current_period_start": period[0],
        "discounts": [],
        "metadata": merge_metadata({}, metadata),
        "plan": _plan(price),
        "price": copy.deepcopy(price),
        "quantity": quantity,
        "subscription": sub_id,
        "tax_rates": [],
    }


def _product_name(store: Store, price: dict[str, Any]) -> str:
    product = store.get("product", price["product"])
    return str(product["name"]) if product else str(price["product"])


def _checked_price(store: Store, raw: dict[str, Any], index: int) -> dict[str, Any]:
    """The item's price, validated the way Stripe validates `items[i][price]` and `price_data`."""
    if raw.get("price_data"):
        from syncline.sandbox.stripe.catalog import new_price

        data = as_dict(raw["price_data"], f"items[{index}][price_data]")
        product_id = data.get("product")
        if not product_id:
            raise invalid(
                f"Missing required param: items[{index}][price_data][product].",
                param=f"items[{index}][price_data][product]",
                code="parameter_missing",
            )
        product = store.get("product", str(product_id))
        if product is None:
            raise resource_missing("product", str(product_id), f"items[{index}][price_data][product]")
        _require_active_product(product, f"items[{index}][price_data][product]")
        return new_price(store, {**data, "active": "false"}, product["id"], f"items[{index}][price_data]")
    param = f"items[{index}][price]"
    price_id = raw.get("price") or raw.get("plan")
    if not price_id:
        raise invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")
    price = store.require("price", price_id, param)
    if not price["active"]:
        raise invalid("The price specified is inactive. This field only accepts active prices.", param=param)
    if price["type"] != "recurring":
        raise invalid(
            "The price specified is set to `type=one_time` but this field only accepts prices with "
            "`type=recurring`.",
            param=param,
        )
    product = store.get("product", price["product"])
    if product is None:
        raise resource_missing("product", price["product"], param)
    _require_active_product(product, param)
    return price


def _require_active_product(product: dict[str, Any], param: str) -> None:
    if not product["active"]:
        raise invalid(
            f"The product `{product['id']}` is marked as inactive, and thus no new subscriptions can be "
            "created to any prices of this product.",
            param=param,
        )


def _check_same_cadence(prices: list[dict[str, Any]]) -> None:
    cadences = {(p["recurring"]["interval"], p["recurring"]["interval_count"]) for p in prices}
    if len(cadences) > 1:
        raise invalid(
            "Currency and interval fields must match across all plans on this subscription. "
            "Found mismatch in interval field.",
            param="items",
        )
    if len({p["currency"] for p in prices}) > 1:
        raise invalid(
            "Currency and interval fields must match across all plans on this subscription. "
            "Found mismatch in currency field.",
            param="items",
        )


def _quantity(raw: dict[str, Any], index: int, default: int = 1) -> int:
    if raw.get("quantity") in (None, ""):
        return default
    quantity = as_int(raw["quantity"], f"items[{index}][quantity]")
    if quantity < 0:
        raise invalid("Invalid non-negative integer", param=f"items[{index}][quantity]")
    return quantity


def schedule(store: Store, customer: dict[str, Any], at: int, action: str, ref: str) -> None:
    """Time-driven work (renewals, finalisation, payment retries) runs when a test clock passes `at`."""
    if customer.get("test_clock"):
        store.schedule.append({"at": at, "action": action, "ref": ref, "clock": customer["test_clock"]})


def _period(sub: dict[str, Any]) -> tuple[int, int]:
    first = sub["items"]["data"][0]
    return int(first["current_period_start"]), int(first["current_period_end"])


def _items_list(sub_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "has_more": False,
        "total_count": len(items),
        "url": f"/v1/subscription_items?subscription={sub_id}",
    }


def _charge_lines(store: Store, sub: dict[str, Any], start: int, end: int) -> list[LineSpec]:
    return [
        LineSpec(
            amount=int(item["price"]["unit_amount"]) * int(item["quantity"]),
            description=f"{item['quantity']} \u00d7 {_product_name(store, item['price'])} "
            f"(at {_money(item['price'])} / {item['price']['recurring']['interval']})",
            price=item["price"],
            quantity=int(item["quantity"]),
            period_start=start,
            period_end=end,
            subscription=sub["id"],
            subscription_item=item["id"],
        )
        for item in sub["items"]["data"]
    ]


def _money(price: dict[str, Any]) -> str:
    return f"{price['unit_amount'] / 100:.2f} {price['currency'].upper()}"


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
    prices = [_checked_price(store, as_dict(raw, f"items[{i}]"), i) for i, raw in enumerate(raw_items)]
    if not prices:
        raise invalid("Missing required param: items.", param="items", code="parameter_missing")
    _check_same_cadence(prices)
    trial_end = _trial_end(params, now)
    recurring = prices[0]["recurring"]
    end = trial_end or add_interval(now, recurring["interval"], recurring["interval_count"])
    sub["items"] = _items_list(
        sub["id"],
        [
            _item(store, sub["id"], price, _quantity(raw, i), raw.get("metadata"), (now, end), now)
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
    lines = _charge_lines(store, sub, now, end)
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
    if sub["status"] == "incomplete":
        schedule(store, customer, now + INCOMPLETE_EXPIRES_S, "expire_incomplete", sub["id"])
    schedule(store, customer, end, "renew", sub["id"])
    return sub


def expire_incomplete(store: Store, sub_id: str) -> None:
    """An incomplete subscription whose first invoice is still unpaid after 23 hours expires."""
    sub = store.get("subscription", sub_id)
    if sub is not None and sub["status"] == "incomplete":
        sub["status"] = "incomplete_expired"
        store.emit("customer.subscription.updated", sub, {"status": "incomplete"})


def _zero_trial_line(store: Store, line: LineSpec) -> LineSpec:
    return LineSpec(
        amount=0,
        description=f"Trial period for {_product_name(store, line.price)}",
        price=line.price,
        quantity=line.quantity,
        period_start=line.period_start,
        period_end=line.period_end,
        subscription=line.subscription,
        subscription_item=line.subscription_item,
    )


# amendments ------------------------------------------------------------------------------------


def _apply_item_changes(
    store: Store, sub: dict[str, Any], raw_items: list[Any], now: int
) -> list[tuple[dict[str, Any] | None, int, dict[str, Any] | None, int, str]]:
    """Change items in place; returns (old price, old qty, new price, new qty, item id) per change."""
    period = _period(sub)
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
            price = _checked_price(store, raw, index) if has_price else old_price
            item.update(
                price=copy.deepcopy(price), plan=_plan(price), quantity=_quantity(raw, index, old_qty)
            )
            item["metadata"] = merge_metadata(item["metadata"], raw.get("metadata"))
            if price["id"] != old_price["id"] or item["quantity"] != old_qty:
                changes.append((old_price, old_qty, price, item["quantity"], item["id"]))
        else:
            price = _checked_price(store, raw, index)
            if any(i["price"]["id"] == price["id"] for i in by_id.values()):
                raise invalid(
                    f"Cannot add multiple subscription items with the same price: {price['id']}",
                    param=f"items[{index}][price]",
                )
            item = _item(store, sub["id"], price, _quantity(raw, index), raw.get("metadata"), period, now)
            by_id[item["id"]] = item
            changes.append((None, 0, price, int(item["quantity"]), item["id"]))
    if not by_id:
        raise invalid(
            "A subscription must have at least one active price. To cancel a subscription, use the cancel "
            "API endpoint.",
            param="items",
        )
    _check_same_cadence([item["price"] for item in by_id.values()])
    sub["items"] = _items_list(sub["id"], list(by_id.values()))
    return changes


def _proration_lines(
    store: Store,
    sub: dict[str, Any],
    changes: list[tuple[dict[str, Any] | None, int, dict[str, Any] | None, int, str]],
    at: int,
) -> list[LineSpec]:
    """Credit unused time on the old price, charge remaining time on the new one, to the period end."""
    start, end = _period(sub)
    if not start <= at < end:
        return []
    fraction = (end - at) / (end - start)
    when = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%d %b %Y")
    lines: list[LineSpec] = []
    for old_price, old_qty, new_price, new_qty, item_id in changes:
        if old_price is not None and old_qty:
            amount = -round(int(old_price["unit_amount"]) * old_qty * fraction)
            text = f"Unused time on {old_qty} \u00d7 {_product_name(store, old_price)} after {when}"
            lines.append(LineSpec(amount, text, old_price, old_qty, at, end, sub["id"], item_id, True))
        if new_price is not None and new_qty:
            amount = round(int(new_price["unit_amount"]) * new_qty * fraction)
            text = f"Remaining time on {new_qty} \u00d7 {_product_name(store, new_price)} after {when}"
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


def _take_pending_items(store: Store, sub_id: str, invoice_hint: str) -> list[LineSpec]:
    lines = []
    for item in store.all("invoiceitem"):
        details = item["parent"]["subscription_details"]
        if item["invoice"] is None and details["subscription"] == sub_id:
            price = store.require("price", item["pricing"]["price_details"]["price"])
            item["invoice"] = invoice_hint
            lines.append(
                LineSpec(
                    item["amount"],
                    item["description"],
                    price,
                    item["quantity"],
                    item["period"]["start"],
                    item["period"]["end"],
                    sub_id,
                    details["subscription_item"],
                    proration=True,
                    invoice_item=item["id"],
                )
            )
    return lines


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
        sub["cancel_at"] = _period(sub)[1] if flag else None
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
            _payment_failed(store, opts, customer, sub, invoice, now)


def _payment_failed(
    store: Store,
    opts: StripeSandboxOptions,
    customer: dict[str, Any],
    sub: dict[str, Any],
    invoice: dict[str, Any],
    at: int,
) -> None:
    """Dunning: past_due, retry on the configured days, then the configured final status."""
    retries_done = int(invoice["attempt_count"]) - 1
    if retries_done < len(opts.dunning_retry_days):
        next_at = at + opts.dunning_retry_days[retries_done] * 86400
        invoice["next_payment_attempt"] = next_at
        schedule(store, customer, next_at, "retry_payment", invoice["id"])
        if sub["status"] in ("active", "trialing"):
            previous = {"status": sub["status"]}
            sub["status"] = "past_due"
            store.emit("customer.subscription.updated", sub, previous)
        return
    invoice["next_payment_attempt"] = None
    if opts.dunning_final_status == "canceled":
        end_subscription(store, sub, at, "payment_failed")
    elif sub["status"] != "unpaid":
        previous = {"status": sub["status"]}
        sub["status"] = "unpaid"
        store.emit("customer.subscription.updated", sub, previous)


def end_subscription(store: Store, sub: dict[str, Any], at: int, reason: str) -> None:
    previous = {"status": sub["status"]}
    sub.update(
        status="canceled", canceled_at=sub["canceled_at"] or at, ended_at=at, cancel_at_period_end=False
    )
    sub["cancellation_details"]["reason"] = reason
    store.emit("customer.subscription.deleted", sub, previous)


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


# time-driven work (run by test clocks) ----------------------------------------------------------


def renew(store: Store, opts: StripeSandboxOptions, sub_id: str, at: int) -> None:
    """Period end: cancel if asked to, otherwise start the next period with a draft invoice."""
    sub = store.get("subscription", sub_id)
    if sub is None or sub["status"] not in LIVE_STATUSES or _period(sub)[1] != at:
        return
    customer = store.require("customer", sub["customer"], "customer")
    if sub["cancel_at_period_end"] or (sub["cancel_at"] and sub["cancel_at"] <= at):
        end_subscription(store, sub, at, "cancellation_requested")
        return
    before = copy.deepcopy(sub)
    if sub["status"] == "trialing":
        sub["status"] = "active"
    recurring = sub["items"]["data"][0]["price"]["recurring"]
    end = add_interval(at, recurring["interval"], recurring["interval_count"])
    for item in sub["items"]["data"]:
        item.update(current_period_start=at, current_period_end=end)
    lines = _charge_lines(store, sub, at, end)
    hint = store.new_id("in")
    lines += _take_pending_items(store, sub["id"], hint)
    invoice = new_invoice(store, customer, sub, "subscription_cycle", lines, at)
    for item in store.all("invoiceitem"):
        if item["invoice"] == hint:
            item["invoice"] = invoice["id"]
    sub["latest_invoice"] = invoice["id"]
    store.emit("customer.subscription.updated", sub, {k: before[k] for k in sub if sub[k] != before[k]})
    schedule(store, customer, at + 3600, "finalize", invoice["id"])
    schedule(store, customer, end, "renew", sub["id"])


def finalize_and_charge(store: Store, opts: StripeSandboxOptions, invoice_id: str, at: int) -> None:
    """An hour after a renewal: finalise the draft (auto_advance) and charge it."""
    invoice = store.get("invoice", invoice_id)
    if invoice is None or invoice["status"] != "draft":
        return
    finalize(store, invoice, at)
    _charge_scheduled(store, opts, invoice, at)


def retry_payment(store: Store, opts: StripeSandboxOptions, invoice_id: str, at: int) -> None:
    invoice = store.get("invoice", invoice_id)
    if invoice is None or invoice["status"] != "open" or invoice["next_payment_attempt"] != at:
        return
    _charge_scheduled(store, opts, invoice, at)


def _charge_scheduled(store: Store, opts: StripeSandboxOptions, invoice: dict[str, Any], at: int) -> None:
    if invoice["status"] != "open" or invoice["collection_method"] != "charge_automatically":
        return
    sub = store.get(
        "subscription",
        (invoice.get("parent") or {}).get("subscription_details", {}).get("subscription") or "",
    )
    customer = store.require("customer", invoice["customer"], "customer")
    if attempt_payment(store, opts, invoice, at):
        activate_after_payment(store, invoice)
    elif sub is not None and sub["status"] in LIVE_STATUSES:
        _payment_failed(store, opts, customer, sub, invoice, at)


__all__ = [
    "StripeApiError",
    "cancel_subscription",
    "create_subscription",
    "end_subscription",
    "expire_incomplete",
    "finalize_and_charge",
    "renew",
    "retry_payment",
    "schedule",
    "update_subscription",
]
