"""Invoices and their lines: `draft` -> `open` (finalised, numbered) -> `paid`, or `void` /
`uncollectible` from `open`, as in Stripe. Charging them is in `payments`.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from syncline.sandbox.stripe.errors import invalid, resource_missing
from syncline.sandbox.stripe.params import as_int, check_known
from syncline.sandbox.stripe.store import Store

EMBEDDED_LINES = 10
"""An invoice object embeds its first 10 lines (`has_more` says there are more); all are at `/lines`."""


def invoice_lines(store: Store, invoice_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """`GET /v1/invoices/{id}/lines`: the invoice's lines in invoice order, paged with `starting_after`."""
    check_known(params, {"limit", "starting_after"})
    store.require("invoice", invoice_id)
    lines = [line for line in store.all("line_item") if line["invoice"] == invoice_id]
    limit = as_int(params.get("limit", 10), "limit")
    start = 0
    if params.get("starting_after"):
        ids = [line["id"] for line in lines]
        if params["starting_after"] not in ids:
            raise resource_missing("line_item", str(params["starting_after"]), "starting_after")
        start = ids.index(params["starting_after"]) + 1
    page = lines[start : start + limit]
    return {
        "object": "list",
        "data": copy.deepcopy(page),
        "has_more": start + limit < len(lines),
        "url": f"/v1/invoices/{invoice_id}/lines",
    }


def add_interval(ts: int, interval: str, count: int) -> int:
    """Calendar arithmetic Stripe uses for periods: months keep the day, clamped to month end."""
    moment = dt.datetime.fromtimestamp(ts, dt.UTC)
    if interval == "day":
        return ts + 86400 * count
    if interval == "week":
        return ts + 7 * 86400 * count
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


@dataclass(frozen=True)
class LineSpec:
    """One invoice line to create: a subscription item charge or a proration."""

    amount: int
    description: str
    price: dict[str, Any]
    quantity: int
    period_start: int
    period_end: int
    subscription: str | None
    subscription_item: str | None
    proration: bool = False
    invoice_item: str | None = None


def _line(store: Store, invoice_id: str, spec: LineSpec) -> dict[str, Any]:
    return {
        "id": store.new_id("il"),
        "object": "line_item",
        "amount": spec.amount,
        "currency": spec.price["currency"],
        "description": spec.description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": spec.invoice_item,
                "proration": spec.proration,
                "proration_details": {"credited_items": None},
                "subscription": spec.subscription,
                "subscription_item": spec.subscription_item,
            },
            "type": "subscription_item_details",
        },
        "period": {"end": spec.period_end, "start": spec.period_start},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": spec.price["id"], "product": spec.price["product"]},
            "type": "price_details",
            "unit_amount_decimal": spec.price["unit_amount_decimal"],
        },
        "quantity": spec.quantity,
        "quantity_decimal": str(spec.quantity),
        "subtotal": spec.amount,
        "taxes": [],
    }


def new_invoice(
    store: Store,
    customer: dict[str, Any],
    subscription: dict[str, Any] | None,
    billing_reason: str,
    lines: list[LineSpec],
    now: int,
) -> dict[str, Any]:
    """A draft invoice with its lines; amounts are totals of the lines minus customer credit."""
    invoice_id = store.new_id("in")
    line_items = [store.put(_line(store, invoice_id, spec)) for spec in lines]
    total = sum(spec.amount for spec in lines)
    currency = lines[0].price["currency"] if lines else (customer.get("currency") or "usd")
    starting_balance = int(customer.get("balance") or 0)
    applied = max(starting_balance, -total) if starting_balance < 0 else 0
    amount_due = max(total + applied, 0)
    periods = [(s.period_start, s.period_end) for s in lines if not s.proration] or [(now, now)]
    collection = (subscription or {}).get("collection_method") or "charge_automatically"
    invoice = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Syncline Sandbox",
        "account_tax_ids": None,
        "amount_due": amount_due,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": amount_due,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None, "status": None},
        "automatically_finalizes_at": now + 3600,
        "billing_reason": billing_reason,
        "collection_method": collection,
        "created": now,
        "currency": currency,
        "custom_fields": None,
        "customer": customer["id"],
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_shipping": None,
        "customer_tax_exempt": customer.get("tax_exempt", "none"),
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "object": "list",
            "data": line_items[:EMBEDDED_LINES],
            "has_more": len(line_items) > EMBEDDED_LINES,
            "total_count": len(line_items),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": _parent(subscription),
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": max(p[1] for p in periods),
        "period_start": min(p[0] for p in periods),
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": starting_balance,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "test_clock": customer.get("test_clock"),
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }
    customer["balance"] = starting_balance - applied + min(total, 0)
    store.put(invoice)
    store.emit("invoice.created", invoice)
    return invoice


def _parent(subscription: dict[str, Any] | None) -> dict[str, Any] | None:
    if subscription is None:
        return None
    return {
        "quote_details": None,
        "subscription_details": {
            "metadata": dict(subscription["metadata"]),
            "subscription": subscription["id"],
        },
        "type": "subscription_details",
    }


def invoice_subscription(invoice: dict[str, Any]) -> str | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return details.get("subscription")


def finalize(store: Store, invoice: dict[str, Any], now: int) -> None:
    """Draft -> open: number it, fix the due date; a zero invoice is paid at once, as in Stripe."""
    if invoice["status"] != "draft":
        raise invalid(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
            code="invoice_not_editable",
        )
    customer = store.require("customer", invoice["customer"], "customer")
    sequence = int(customer["next_invoice_sequence"])
    customer["next_invoice_sequence"] = sequence + 1
    invoice["number"] = f"{customer['invoice_prefix']}-{sequence:04d}"
    invoice["status"] = "open"
    invoice["effective_at"] = now
    invoice["automatically_finalizes_at"] = None
    invoice["status_transitions"]["finalized_at"] = now
    invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/acct_sandbox/test_{invoice['id']}"
    invoice["invoice_pdf"] = f"https://pay.stripe.com/invoice/acct_sandbox/test_{invoice['id']}/pdf"
    if invoice["collection_method"] == "send_invoice":
        subscription = store.get("subscription", invoice_subscription(invoice) or "")
        days = int((subscription or {}).get("days_until_due") or 30)
        invoice["due_date"] = now + days * 86400
    store.emit("invoice.finalized", invoice)
    if invoice["amount_due"] == 0:
        mark_paid(store, invoice, now, out_of_band=False)


def mark_paid(store: Store, invoice: dict[str, Any], now: int, *, out_of_band: bool) -> None:
    invoice["amount_paid"] = invoice["amount_due"]
    invoice["amount_remaining"] = 0
    invoice["status"] = "paid"
    invoice["next_payment_attempt"] = None
    invoice["status_transitions"]["paid_at"] = now
    invoice["ending_balance"] = 0
    invoice["auto_advance"] = False
    if out_of_band:
        invoice["paid_out_of_band"] = True
    store.emit("invoice.paid", invoice)
    if not out_of_band and invoice["amount_paid"] > 0:
        store.emit("invoice.payment_succeeded", invoice)


def require_open(invoice: dict[str, Any], action: str) -> None:
    if invoice["status"] == "paid":
        raise invalid("Invoice is already paid", code="invoice_already_paid" if action == "pay" else None)
    if invoice["status"] != "open":
        raise invalid(
            f"You can only {action} an invoice whose status is `open`; "
            f"this invoice is `{invoice['status']}`.",
            code="invoice_not_editable" if invoice["status"] == "draft" and action != "pay" else None,
        )


def finalize_invoice(store: Store, invoice_id: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, {"auto_advance"})
    invoice = store.require("invoice", invoice_id)
    finalize(store, invoice, now_for(store, invoice))
    return invoice


def void_invoice(store: Store, invoice_id: str) -> dict[str, Any]:
    invoice = store.require("invoice", invoice_id)
    require_open(invoice, "void")
    now = now_for(store, invoice)
    invoice.update(status="void", amount_remaining=0, next_payment_attempt=None, auto_advance=False)
    invoice["status_transitions"]["voided_at"] = now
    store.emit("invoice.voided", invoice)
    return invoice


def mark_uncollectible(store: Store, invoice_id: str) -> dict[str, Any]:
    invoice = store.require("invoice", invoice_id)
    require_open(invoice, "mark uncollectible")
    invoice.update(status="uncollectible", next_payment_attempt=None, auto_advance=False)
    invoice["status_transitions"]["marked_uncollectible_at"] = now_for(store, invoice)
    store.emit("invoice.marked_uncollectible", invoice)
    return invoice


def activate_after_payment(store: Store, invoice: dict[str, Any]) -> None:
    """Paying the latest invoice brings an incomplete, past_due or unpaid subscription back to active."""
    subscription = store.get("subscription", invoice_subscription(invoice) or "")
    if subscription is None or subscription["status"] not in {"incomplete", "past_due", "unpaid"}:
        return
    if subscription["latest_invoice"] == invoice["id"] or subscription["status"] != "incomplete":
        previous = {"status": subscription["status"]}
        subscription["status"] = "active"
        store.emit("customer.subscription.updated", subscription, previous)


def now_for(store: Store, invoice: dict[str, Any]) -> int:
    customer = store.get("customer", invoice["customer"])
    return store.now_for_customer(customer) if customer else store.now()


__all__ = [
    "EMBEDDED_LINES",
    "LineSpec",
    "activate_after_payment",
    "add_interval",
    "finalize",
    "finalize_invoice",
    "invoice_lines",
    "invoice_subscription",
    "mark_paid",
    "mark_uncollectible",
    "new_invoice",
    "now_for",
    "require_open",
    "void_invoice",
]
