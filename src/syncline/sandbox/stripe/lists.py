"""List endpoints and their filters (`customer=`, `status=`, `lookup_keys[]=`, `created[gte]=`...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncline.sandbox.stripe.errors import invalid
from syncline.sandbox.stripe.params import as_bool, as_int, as_list, check_known
from syncline.sandbox.stripe.render import paginate
from syncline.sandbox.stripe.store import Store

PAGING = {"limit", "starting_after", "ending_before"}
Lister = Callable[[Store, str, dict[str, Any]], dict[str, Any]]
Filter = Callable[[dict[str, Any]], bool]


def _created_filter(params: dict[str, Any]) -> Filter:
    raw = params.get("created")
    if raw is None:
        return lambda _: True
    if not isinstance(raw, dict):
        exact = as_int(raw, "created")
        return lambda obj: obj["created"] == exact
    bounds = {op: as_int(value, f"created[{op}]") for op, value in raw.items()}
    checks = {
        "gt": lambda v, b: v > b,
        "gte": lambda v, b: v >= b,
        "lt": lambda v, b: v < b,
        "lte": lambda v, b: v <= b,
    }
    for op in bounds:
        if op not in checks:
            raise invalid(f"Received unknown parameter: created[{op}]", param=f"created[{op}]")
    return lambda obj: all(checks[op](obj["created"], bound) for op, bound in bounds.items())


def _equals(params: dict[str, Any], name: str, field: str | None = None) -> Filter:
    if params.get(name) in (None, ""):
        return lambda _: True
    wanted = str(params[name])
    return lambda obj: str(obj.get(field or name)) == wanted


def _bool_equals(params: dict[str, Any], name: str) -> Filter:
    if params.get(name) in (None, ""):
        return lambda _: True
    wanted = as_bool(params[name], name)
    return lambda obj: bool(obj.get(name)) is wanted


def _all(*filters: Filter) -> Filter:
    return lambda obj: all(f(obj) for f in filters)


def list_customers(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING | {"email", "created", "test_clock"})
    keep = _all(_equals(params, "email"), _equals(params, "test_clock"), _created_filter(params))
    return paginate(store, "customer", url, params, keep)


def list_products(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING | {"active", "ids", "created"})
    ids = set(as_list(params["ids"], "ids")) if "ids" in params else None
    keep = _all(
        _bool_equals(params, "active"), _created_filter(params), lambda p: ids is None or p["id"] in ids
    )
    return paginate(store, "product", url, params, keep)


def list_prices(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING | {"active", "product", "type", "currency", "lookup_keys", "created"})
    keys = set(as_list(params["lookup_keys"], "lookup_keys")) if "lookup_keys" in params else None
    keep = _all(
        _bool_equals(params, "active"),
        _equals(params, "product"),
        _equals(params, "type"),
        _equals(params, "currency"),
        _created_filter(params),
        lambda p: keys is None or p["lookup_key"] in keys,
    )
    return paginate(store, "price", url, params, keep)


def list_subscriptions(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING | {"customer", "price", "status", "created", "test_clock"})
    status = params.get("status")
    price = params.get("price")

    def status_ok(sub: dict[str, Any]) -> bool:
        current = str(sub["status"])
        if status in (None, ""):
            return current not in ("canceled", "incomplete_expired")
        return status in ("all", current)

    keep = _all(
        status_ok,
        _equals(params, "customer"),
        _equals(params, "test_clock"),
        _created_filter(params),
        lambda s: not price or any(i["price"]["id"] == price for i in s["items"]["data"]),
    )
    return paginate(store, "subscription", url, params, keep)


def list_subscription_items(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING | {"subscription"})
    sub_id = params.get("subscription")
    if not sub_id:
        raise invalid("Missing required param: subscription.", param="subscription", code="parameter_missing")
    sub = store.require("subscription", sub_id, "subscription")
    data = list(sub["items"]["data"])
    return {"object": "list", "data": data, "has_more": False, "url": url}


def list_invoices(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING | {"customer", "subscription", "status", "created", "collection_method"})
    sub_id = params.get("subscription")
    keep = _all(
        _equals(params, "customer"),
        _equals(params, "status"),
        _equals(params, "collection_method"),
        _created_filter(params),
        lambda inv: (
            not sub_id
            or ((inv["parent"] or {}).get("subscription_details") or {}).get("subscription") == sub_id
        ),
    )
    return paginate(store, "invoice", url, params, keep)


def list_invoice_items(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING | {"customer", "pending", "invoice", "created"})
    pending = params.get("pending")
    keep = _all(
        _equals(params, "customer"),
        _equals(params, "invoice"),
        _created_filter(params),
        lambda ii: pending in (None, "") or (ii["invoice"] is None) == as_bool(pending, "pending"),
    )
    return paginate(store, "invoiceitem", url, params, keep)


def list_payment_intents(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING | {"customer", "created"})
    keep = _all(_equals(params, "customer"), _created_filter(params))
    return paginate(store, "payment_intent", url, params, keep)


def _type_matches(pattern: str, type_: str) -> bool:
    return type_.startswith(pattern[:-1]) if pattern.endswith("*") else pattern == type_


def list_events(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING | {"type", "types", "created", "delivery_success"})
    patterns = [str(params["type"])] if params.get("type") else []
    patterns += [str(t) for t in as_list(params.get("types", []), "types")]
    keep = _all(
        _created_filter(params),
        lambda e: not patterns or any(_type_matches(p, e["type"]) for p in patterns),
    )
    return paginate(store, "event", url, params, keep)


def list_webhook_endpoints(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING)
    return paginate(store, "webhook_endpoint", url, params, lambda _: True)


def list_test_clocks(store: Store, url: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, PAGING)
    return paginate(store, "test_helpers.test_clock", url, params, lambda _: True)


LIST_ROUTES: dict[str, Lister] = {
    "/v1/customers": list_customers,
    "/v1/products": list_products,
    "/v1/prices": list_prices,
    "/v1/subscriptions": list_subscriptions,
    "/v1/subscription_items": list_subscription_items,
    "/v1/invoices": list_invoices,
    "/v1/invoiceitems": list_invoice_items,
    "/v1/payment_intents": list_payment_intents,
    "/v1/events": list_events,
    "/v1/webhook_endpoints": list_webhook_endpoints,
    "/v1/test_helpers/test_clocks": list_test_clocks,
}

__all__ = ["LIST_ROUTES"]
