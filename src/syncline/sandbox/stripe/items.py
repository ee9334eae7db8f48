"""Subscription items, and the checks Stripe applies to the prices they are sold at.

A missing price or product is `resource_missing` naming the item parameter (`items[0][price]`,
`items[0][price_data][product]`); an archived price or product, a one-time price, or mixed intervals
or currencies are `invalid_request_error`s on the same parameter, with Stripe's messages.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from syncline.sandbox.stripe.catalog import new_price, price_amount, unit_amount_of
from syncline.sandbox.stripe.errors import invalid, resource_missing
from syncline.sandbox.stripe.invoices import LineSpec
from syncline.sandbox.stripe.params import (
    as_dict,
    as_int,
    merge_metadata,
)
from syncline.sandbox.stripe.store import Store


def plan_of(price: dict[str, Any]) -> dict[str, Any]:
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


def new_item(
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
        "plan": plan_of(price),
        "price": copy.deepcopy(price),
        "quantity": quantity,
        "subscription": sub_id,
        "tax_rates": [],
    }


def product_name(store: Store, price: dict[str, Any]) -> str:
    product = store.get("product", price["product"])
    return str(product["name"]) if product else str(price["product"])


def checked_price(store: Store, raw: dict[str, Any], index: int) -> dict[str, Any]:
    """The item's price, validated the way Stripe validates `items[i][price]` and `price_data`."""
    if raw.get("price_data"):
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


def check_same_cadence(prices: list[dict[str, Any]]) -> None:
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


def item_quantity(raw: dict[str, Any], index: int, default: int = 1) -> int:
    if raw.get("quantity") in (None, ""):
        return default
    quantity = as_int(raw["quantity"], f"items[{index}][quantity]")
    if quantity < 0:
        raise invalid("Invalid non-negative integer", param=f"items[{index}][quantity]")
    return quantity


def period_of(sub: dict[str, Any]) -> tuple[int, int]:
    first = sub["items"]["data"][0]
    return int(first["current_period_start"]), int(first["current_period_end"])


def items_list(sub_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "has_more": False,
        "total_count": len(items),
        "url": f"/v1/subscription_items?subscription={sub_id}",
    }


def charge_lines(store: Store, sub: dict[str, Any], start: int, end: int) -> list[LineSpec]:
    return [
        LineSpec(
            amount=price_amount(item["price"], int(item["quantity"])),
            description=f"{item['quantity']} \u00d7 {product_name(store, item['price'])} "
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
    """The unit price as people read it: 2 decimals, or as many as a sub-cent price has."""
    amount = unit_amount_of(price).scaleb(-2)
    cents = amount.quantize(Decimal("0.01"))
    return f"{format(cents if cents == amount else amount.normalize(), 'f')} {price['currency'].upper()}"


__all__ = [
    "charge_lines",
    "check_same_cadence",
    "checked_price",
    "item_quantity",
    "items_list",
    "new_item",
    "period_of",
    "plan_of",
    "product_name",
]
