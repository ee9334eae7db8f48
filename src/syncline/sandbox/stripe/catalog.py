"""Products and prices: the catalog subscriptions are sold from.

Prices are immutable in amount (Stripe's rule): a new amount is a new price, the old one is
archived with `active=false`. `lookup_key` is unique per account; Syncline puts the ERP SKU there.
"""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from syncline.sandbox.stripe.errors import invalid
from syncline.sandbox.stripe.params import (
    as_dict,
    as_int,
    check_known,
    merge_metadata,
    opt_bool,
)
from syncline.sandbox.stripe.store import Store

PRODUCT_CREATE = {"id", "name", "active", "description", "metadata", "type", "unit_label", "url", "tax_code"}
PRODUCT_UPDATE = {
    "name",
    "active",
    "description",
    "metadata",
    "unit_label",
    "url",
    "tax_code",
    "default_price",
}
PRICE_CREATE = {
    "product",
    "product_data",
    "unit_amount",
    "unit_amount_decimal",
    "currency",
    "recurring",
    "lookup_key",
    "transfer_lookup_key",
    "metadata",
    "nickname",
    "active",
    "tax_behavior",
    "billing_scheme",
}
PRICE_UPDATE = {"active", "lookup_key", "transfer_lookup_key", "metadata", "nickname", "tax_behavior"}
INTERVALS = ("day", "week", "month", "year")


def new_product(store: Store, params: dict[str, Any], param_prefix: str = "") -> dict[str, Any]:
    name = params.get("name")
    if not name:
        param = f"{param_prefix}[name]" if param_prefix else "name"
        raise invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")
    product_id = str(params.get("id") or store.new_id("prod", 14))
    if store.get("product", product_id):
        raise invalid(f"Product already exists: '{product_id}'", param="id", code="resource_already_exists")
    now = store.now()
    product: dict[str, Any] = {
        "id": product_id,
        "object": "product",
        "active": opt_bool(params, "active", True),
        "created": now,
        "default_price": None,
        "description": params.get("description") or None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": merge_metadata({}, params.get("metadata")),
        "name": str(name),
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": params.get("tax_code") or None,
        "type": params.get("type") or "service",
        "unit_label": params.get("unit_label") or None,
        "updated": now,
        "url": params.get("url") or None,
    }
    store.put(product)
    store.emit("product.created", product)
    return product


def create_product(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PRODUCT_CREATE)
    return new_product(store, params)


def update_product(store: Store, product_id: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PRODUCT_UPDATE)
    product = store.require("product", product_id)
    before = copy.deepcopy(product)
    for key in ("name", "description", "unit_label", "url", "tax_code"):
        if key in params:
            product[key] = params[key] or None
    if "active" in params:
        product["active"] = opt_bool(params, "active")
    if "default_price" in params:
        price = store.require("price", params["default_price"], "default_price")
        if price["product"] != product_id:
            raise invalid("The default price must belong to this product.", param="default_price")
        product["default_price"] = price["id"]
    product["metadata"] = merge_metadata(product["metadata"], params.get("metadata"))
    previous = {k: before[k] for k in product if product[k] != before[k]}
    if previous:
        product["updated"] = store.now()
        store.emit("product.updated", product, previous)
    return product


def _recurring(raw: Any, param: str) -> dict[str, Any]:
    given = as_dict(raw, param)
    interval = given.get("interval")
    if interval not in INTERVALS:
        raise invalid(
            f"Invalid {param}[interval]: must be one of day, month, week, or year",
            param=f"{param}[interval]",
        )
    count = as_int(given.get("interval_count", 1), f"{param}[interval_count]")
    return {
        "interval": interval,
        "interval_count": count,
        "meter": None,
        "trial_period_days": None,
        "usage_type": given.get("usage_type") or "licensed",
    }


def _claim_lookup_key(store: Store, key: str, transfer: bool, price_id: str) -> None:
    for other in store.all("price"):
        if other["lookup_key"] == key and other["id"] != price_id:
            if not transfer:
                raise invalid(f"A price (`{other['id']}`) already uses that lookup key.", param="lookup_key")
            other["lookup_key"] = None


def _param(prefix: str, name: str) -> str:
    return f"{prefix}[{name}]" if prefix else name


def new_price(
    store: Store, params: dict[str, Any], product_id: str, param_prefix: str = ""
) -> dict[str, Any]:
    currency = params.get("currency")
    if not currency:
        raise invalid(
            f"Missing required param: {_param(param_prefix, 'currency')}.",
            param=_param(param_prefix, "currency"),
            code="parameter_missing",
        )
    unit_amount, unit_amount_decimal = _unit_amounts(params, param_prefix)
    recurring = (
        _recurring(params["recurring"], _param(param_prefix, "recurring"))
        if params.get("recurring")
        else None
    )
    price_id = store.new_id("price")
    lookup_key = params.get("lookup_key") or None
    if lookup_key:
        _claim_lookup_key(store, lookup_key, bool(opt_bool(params, "transfer_lookup_key", False)), price_id)
    price = {
        "id": price_id,
        "object": "price",
        "active": opt_bool(params, "active", True),
        "billing_scheme": "per_unit",
        "created": store.now(),
        "currency": str(currency).lower(),
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": merge_metadata({}, params.get("metadata")),
        "nickname": params.get("nickname") or None,
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": params.get("tax_behavior") or "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    }
    store.put(price)
    store.emit("price.created", price)
    return price


def create_price(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PRICE_CREATE)
    if params.get("product"):
        product = store.require("product", params["product"], "product")
    elif params.get("product_data"):
        product = new_product(store, as_dict(params["product_data"], "product_data"), "product_data")
    else:
        raise invalid("Missing required param: product.", param="product", code="parameter_missing")
    return new_price(store, params, product["id"])


def update_price(store: Store, price_id: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PRICE_UPDATE)
    price = store.require("price", price_id)
    before = copy.deepcopy(price)
    if "active" in params:
        price["active"] = opt_bool(params, "active")
    if "nickname" in params:
        price["nickname"] = params["nickname"] or None
    if "lookup_key" in params:
        key = params["lookup_key"] or None
        if key:
            _claim_lookup_key(store, key, bool(opt_bool(params, "transfer_lookup_key", False)), price_id)
        price["lookup_key"] = key
    price["metadata"] = merge_metadata(price["metadata"], params.get("metadata"))
    previous = {k: before[k] for k in price if price[k] != before[k]}
    if previous:
        store.emit("price.updated", price, previous)
    return price


def _unit_amounts(params: dict[str, Any], param_prefix: str) -> tuple[int | None, str]:
    """`unit_amount` (whole minor units) or `unit_amount_decimal` (at most 12 decimal places), as
    Stripe keeps them: a fractional amount has `unit_amount` null and only the decimal string."""
    amount, decimal = params.get("unit_amount"), params.get("unit_amount_decimal")
    name = _param(param_prefix, "unit_amount" if decimal is None else "unit_amount_decimal")
    if amount is None and decimal is None:
        raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
    value = Decimal(as_int(amount, name)) if amount is not None else _decimal_param(decimal, name)
    if value < 0:
        raise invalid("This value must be greater than or equal to 0.", param=name)
    whole = int(value) if value == value.to_integral_value() else None
    return whole, format(value.normalize(), "f") if whole is None else str(whole)


def _decimal_param(raw: Any, name: str) -> Decimal:
    """A decimal string with at most 12 decimal places, as Stripe's `*_decimal` parameters take."""
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal("NaN")
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or -exponent > 12:
        raise invalid(f"Invalid decimal: {raw}", param=name, code="parameter_invalid_decimal")
    return value


def unit_amount_of(price: dict[str, Any]) -> Decimal:
    """A price's unit amount in minor units, sub-cent precision included."""
    return Decimal(str(price["unit_amount_decimal"]))


def price_amount(price: dict[str, Any], quantity: int | Decimal, fraction: Decimal | float = 1) -> int:
    """What `quantity` units cost, in whole minor units: Stripe rounds each line to the nearest
    minor unit (half up), after multiplying the exact decimal price."""
    exact = unit_amount_of(price) * Decimal(quantity) * Decimal(str(fraction))
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


__all__ = [
    "create_price",
    "create_product",
    "new_price",
    "new_product",
    "price_amount",
    "unit_amount_of",
    "update_price",
    "update_product",
]
