"""Payment attempts for invoices: payment intents, `invoice_payment` records, deterministic declines.

Charging never depends on chance: a customer whose default payment method is one of Stripe's
declining test cards (`pm_card_chargeCustomerFail`, `pm_card_visa_chargeDeclined`...) or whose
metadata says `sandbox_payment=fail` (or `fail_renewals`) is declined; everyone else pays.
"""

from __future__ import annotations

from typing import Any

from syncline.sandbox.stripe.errors import StripeApiError
from syncline.sandbox.stripe.invoices import (
    activate_after_payment,
    finalize,
    mark_paid,
    now_for,
    require_open,
)
from syncline.sandbox.stripe.options import StripeSandboxOptions
from syncline.sandbox.stripe.params import (
    check_known,
    opt_bool,
)
from syncline.sandbox.stripe.store import Store

DECLINES = {
    "pm_card_chargeCustomerFail": "generic_decline",
    "pm_card_visa_chargeDeclined": "generic_decline",
    "pm_card_chargeDeclined": "generic_decline",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
}
DEFAULT_PAYMENT_METHOD = "pm_card_visa"


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


def pay_invoice(
    store: Store, opts: StripeSandboxOptions, invoice_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    check_known(params, {"paid_out_of_band", "payment_method", "off_session", "forgive"})
    invoice = store.require("invoice", invoice_id)
    now = now_for(store, invoice)
    if invoice["status"] == "draft":
        finalize(store, invoice, now)
        if invoice["status"] == "paid":
            return invoice
    require_open(invoice, "pay")
    if params.get("payment_method"):
        customer = store.require("customer", invoice["customer"], "customer")
        customer["invoice_settings"]["default_payment_method"] = str(params["payment_method"])
    if opt_bool(params, "paid_out_of_band", False):
        mark_paid(store, invoice, now, out_of_band=True)
    elif not attempt_payment(store, opts, invoice, now):
        raise card_error(store, opts, invoice)
    activate_after_payment(store, invoice)
    return invoice


__all__ = [
    "DECLINES",
    "DEFAULT_PAYMENT_METHOD",
    "attempt_payment",
    "card_error",
    "invoice_payments",
    "pay_invoice",
    "prepare_payment",
    "would_decline",
]
