"""Invoices, their lines, and the payment attempts that settle them.

Lifecycle as in Stripe: `draft` -> `open` (finalised, numbered) -> `paid`, or `void` /
`uncollectible` from `open`. Charging is deterministic: a customer whose default payment method is
one of Stripe's declining test cards (`pm_card_chargeCustomerFail`, `pm_card_visa_chargeDeclined`...)
or whose metadata says `sandbox_payment=fail` (or `fail_renewals`) is declined; everyone else pays.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from syncline.sandbox.stripe.errors import StripeApiError, invalid
from syncline.sandbox.stripe.options import StripeSandboxOptions
from syncline.sandbox.stripe.params import check_known, opt_bool
from syncline.sandbox.stripe.store import Store

DECLINES = {
    "pm_card_chargeCustomerFail": "generic_decline",
    "pm_card_visa_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
}
DEFAULT_PAYMENT_METHOD = "pm_card_visa"


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
    line_items = [_line(store, invoice_id, spec) for spec in lines]
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
            "data": line_items,
            "has_more": False,
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


def _decline_code(
    store: Store, opts: StripeSandboxOptions, invoice: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(payment method, decline code or None): the deterministic test-card rules."""
    customer = store.require("customer", invoice["customer"], "customer")
    method = customer["invoice_settings"].get("default_payment_method")
    if method is None and opts.auto_payment_method:
        method = DEFAULT_PAYMENT_METHOD
    if method is None:
        return None, "payment_method_missing"
    rule = customer["metadata"].get("sandbox_payment", "")
    if rule == "fail" or (rule == "fail_renewals" and invoice["billing_reason"] == "subscription_cycle"):
        return method, "generic_decline"
    return method, DECLINES.get(method)


def would_decline(store: Store, opts: StripeSandboxOptions, invoice_like: dict[str, Any]) -> bool:
    return _decline_code(store, opts, invoice_like)[1] is not None


def _payment_intent(store: Store, invoice: dict[str, Any], method: str | None, now: int) -> dict[str, Any]:
    existing = [p for p in store.all("invoice_payment") if p["invoice"] == invoice["id"]]
    if existing:
        return store.require("payment_intent", existing[0]["payment"]["payment_intent"])
    intent_id = store.new_id("pi")
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": invoice["amount_due"],
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{store.new_id('x', 20)[2:]}",
        "confirmation_method": "automatic",
        "created": now,
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "description": _intent_description(invoice["billing_reason"]),
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": method,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }
    store.put(intent)
    store.put(
        {
            "id": store.new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": None,
            "amount_requested": invoice["amount_due"],
            "created": now,
            "currency": invoice["currency"],
            "invoice": invoice["id"],
            "is_default": True,
            "livemode": False,
            "payment": {"payment_intent": intent_id, "type": "payment_intent"},
            "status": "open",
            "status_transitions": {"canceled_at": None, "paid_at": None},
        }
    )
    store.emit("payment_intent.created", intent)
    return intent


def _intent_description(reason: str) -> str:
    return {
        "subscription_create": "Subscription creation",
        "subscription_cycle": "Subscription cycle",
        "subscription_update": "Subscription update",
    }.get(reason, "Payment for Invoice")


def invoice_payments(store: Store, invoice_id: str) -> list[dict[str, Any]]:
    return [p for p in store.all("invoice_payment") if p["invoice"] == invoice_id]


def prepare_payment(store: Store, invoice: dict[str, Any], opts: StripeSandboxOptions, now: int) -> None:
    """The payment intent for an invoice a customer must still confirm (`default_incomplete`)."""
    method, _ = _decline_code(store, opts, invoice)
    _payment_intent(store, invoice, method, now)


def attempt_payment(store: Store, opts: StripeSandboxOptions, invoice: dict[str, Any], now: int) -> bool:
    """Charge the customer's default payment method for an open invoice; True when it was paid."""
    method, decline = _decline_code(store, opts, invoice)
    intent = _payment_intent(store, invoice, method, now)
    invoice["attempt_count"] += 1
    invoice["attempted"] = True
    charge_id = store.new_id("ch")
    intent["latest_charge"] = charge_id
    if decline is None:
        intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
        for payment in invoice_payments(store, invoice["id"]):
            payment.update(status="paid", amount_paid=intent["amount"])
            payment["status_transitions"]["paid_at"] = now
            store.emit("invoice_payment.paid", payment)
        store.emit("payment_intent.succeeded", intent)
        mark_paid(store, invoice, now, out_of_band=False)
        return True
    intent["last_payment_error"] = _card_error_body(decline, method, charge_id)
    intent["status"] = "requires_payment_method"
    store.emit("payment_intent.payment_failed", intent)
    store.emit("invoice.payment_failed", invoice)
    return False


def _card_error_body(decline: str, method: str | None, charge_id: str) -> dict[str, Any]:
    message = (
        "Your card has insufficient funds." if decline == "insufficient_funds" else "Your card was declined."
    )
    return {
        "charge": charge_id,
        "code": "card_declined",
        "decline_code": decline,
        "doc_url": "https://docs.stripe.com/error-codes/card-declined",
        "message": message,
        "payment_method": {"id": method, "object": "payment_method", "type": "card"} if method else None,
        "type": "card_error",
    }


def card_error(store: Store, opts: StripeSandboxOptions, invoice: dict[str, Any]) -> StripeApiError:
    """The 402 Stripe answers when a synchronous charge is declined."""
    method, decline = _decline_code(store, opts, invoice)
    body = _card_error_body(decline or "generic_decline", method, "")
    return StripeApiError(
        402,
        body["message"],
        type_="card_error",
        code="card_declined",
        decline_code=body["decline_code"],
        store_for_idempotency=True,
    )


# endpoints --------------------------------------------------------------------------------------


def _require_open(invoice: dict[str, Any], action: str) -> None:
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
    finalize(store, invoice, _now_for(store, invoice))
    return invoice


def pay_invoice(
    store: Store, opts: StripeSandboxOptions, invoice_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    check_known(params, {"paid_out_of_band", "payment_method", "off_session", "forgive"})
    invoice = store.require("invoice", invoice_id)
    now = _now_for(store, invoice)
    if invoice["status"] == "draft":
        finalize(store, invoice, now)
        if invoice["status"] == "paid":
            return invoice
    _require_open(invoice, "pay")
    if params.get("payment_method"):
        customer = store.require("customer", invoice["customer"], "customer")
        customer["invoice_settings"]["default_payment_method"] = str(params["payment_method"])
    if opt_bool(params, "paid_out_of_band", False):
        mark_paid(store, invoice, now, out_of_band=True)
    elif not attempt_payment(store, opts, invoice, now):
        raise card_error(store, opts, invoice)
    activate_after_payment(store, invoice)
    return invoice


def void_invoice(store: Store, invoice_id: str) -> dict[str, Any]:
    invoice = store.require("invoice", invoice_id)
    _require_open(invoice, "void")
    now = _now_for(store, invoice)
    invoice.update(status="void", amount_remaining=0, next_payment_attempt=None, auto_advance=False)
    invoice["status_transitions"]["voided_at"] = now
    store.emit("invoice.voided", invoice)
    return invoice


def mark_uncollectible(store: Store, invoice_id: str) -> dict[str, Any]:
    invoice = store.require("invoice", invoice_id)
    _require_open(invoice, "mark uncollectible")
    invoice.update(status="uncollectible", next_payment_attempt=None, auto_advance=False)
    invoice["status_transitions"]["marked_uncollectible_at"] = _now_for(store, invoice)
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


def _now_for(store: Store, invoice: dict[str, Any]) -> int:
    customer = store.get("customer", invoice["customer"])
    return store.now_for_customer(customer) if customer else store.now()


__all__ = [
    "LineSpec",
    "activate_after_payment",
    "add_interval",
    "attempt_payment",
    "card_error",
    "finalize",
    "finalize_invoice",
    "invoice_payments",
    "invoice_subscription",
    "mark_paid",
    "mark_uncollectible",
    "new_invoice",
    "pay_invoice",
    "prepare_payment",
    "void_invoice",
    "would_decline",
]
