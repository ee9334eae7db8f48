"""Customers: the billing party a subscription charges; may live on a test clock."""

from __future__ import annotations

import copy
from typing import Any

from syncline.sandbox.stripe.errors import invalid
from syncline.sandbox.stripe.params import as_dict, check_known, merge_metadata
from syncline.sandbox.stripe.store import Store

_FIELDS = {"name", "email", "description", "phone", "address", "metadata", "invoice_settings"}
CREATE_PARAMS = _FIELDS | {"test_clock", "payment_method", "preferred_locales", "tax_exempt"}
UPDATE_PARAMS = _FIELDS | {"preferred_locales", "tax_exempt"}

_ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def _address(raw: Any) -> dict[str, Any]:
    given = as_dict(raw, "address")
    for key in given:
        if key not in _ADDRESS_KEYS:
            raise invalid(f"Received unknown parameter: address[{key}]", param=f"address[{key}]")
    return {k: given.get(k) or None for k in _ADDRESS_KEYS}


def _invoice_settings(current: dict[str, Any], raw: Any) -> dict[str, Any]:
    given = as_dict(raw, "invoice_settings")
    merged = copy.deepcopy(current)
    if "default_payment_method" in given:
        merged["default_payment_method"] = given["default_payment_method"] or None
    if "footer" in given:
        merged["footer"] = given["footer"] or None
    return merged


def create_customer(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, CREATE_PARAMS)
    clock_id = params.get("test_clock") or None
    if clock_id:
        store.require("test_helpers.test_clock", clock_id, "test_clock")
    customer_id = store.new_id("cus", 14)
    settings: dict[str, Any] = {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": None,
        "rendering_options": None,
    }
    if params.get("payment_method"):
        settings["default_payment_method"] = str(params["payment_method"])
    customer = {
        "id": customer_id,
        "object": "customer",
        "address": _address(params["address"]) if "address" in params else None,
        "balance": 0,
        "created": store.now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": params.get("description") or None,
        "discount": None,
        "email": params.get("email") or None,
        "invoice_prefix": "".join(store.rng.choice("0123456789ABCDEF") for _ in range(8)),
        "invoice_settings": _invoice_settings(settings, params.get("invoice_settings", {})),
        "livemode": False,
        "metadata": merge_metadata({}, params.get("metadata")),
        "name": params.get("name") or None,
        "next_invoice_sequence": 1,
        "phone": params.get("phone") or None,
        "preferred_locales": list(params.get("preferred_locales") or []),
        "shipping": None,
        "tax_exempt": params.get("tax_exempt") or "none",
        "test_clock": clock_id,
    }
    store.put(customer)
    store.emit("customer.created", customer)
    return customer


def update_customer(store: Store, customer_id: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, UPDATE_PARAMS)
    customer = store.require("customer", customer_id)
    before = copy.deepcopy(customer)
    for key in ("name", "email", "description", "phone", "tax_exempt"):
        if key in params:
            customer[key] = params[key] or None
    if "address" in params:
        customer["address"] = _address(params["address"]) if params["address"] else None
    if "invoice_settings" in params:
        customer["invoice_settings"] = _invoice_settings(
            customer["invoice_settings"], params["invoice_settings"]
        )
    customer["metadata"] = merge_metadata(customer["metadata"], params.get("metadata"))
    previous = {k: before[k] for k in customer if customer[k] != before[k]}
    if previous:
        store.emit("customer.updated", customer, previous)
    return customer


def delete_customer(store: Store, customer_id: str) -> dict[str, Any]:
    customer = store.require("customer", customer_id)
    store.remove("customer", customer_id)
    store.emit("customer.deleted", customer)
    return {"id": customer_id, "object": "customer", "deleted": True}


__all__ = ["create_customer", "delete_customer", "update_customer"]
