"""Time-driven subscription work, run when a test clock passes its time: renewals, finalisation,
payment retries (dunning) and expiry.

Work is scheduled only for customers on a test clock, so a given advance always produces the same
renewals, invoices, payments and events. Dunning: a failed charge makes the subscription `past_due`
and is retried after `dunning_retry_days`; after the last retry the subscription becomes
`dunning_final_status` (`canceled` by default, or `unpaid`).
"""

from __future__ import annotations

import copy
from typing import Any

from syncline.sandbox.stripe.invoices import (
    LineSpec,
    activate_after_payment,
    add_interval,
    finalize,
    new_invoice,
)
from syncline.sandbox.stripe.items import charge_lines, period_of
from syncline.sandbox.stripe.options import StripeSandboxOptions
from syncline.sandbox.stripe.payments import attempt_payment
from syncline.sandbox.stripe.store import Store

LIVE_STATUSES = ("incomplete", "trialing", "active", "past_due", "unpaid")
INCOMPLETE_EXPIRES_S = 23 * 3600
TRIAL_WARNING_S = 3 * 86400
"""Stripe sends `customer.subscription.trial_will_end` three days before a trial ends."""


def schedule(store: Store, customer: dict[str, Any], at: int, action: str, ref: str) -> None:
    """Time-driven work (renewals, finalisation, payment retries) runs when a test clock passes `at`."""
    if customer.get("test_clock"):
        store.schedule.append({"at": at, "action": action, "ref": ref, "clock": customer["test_clock"]})


def payment_failed(
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


def expire_incomplete(store: Store, sub_id: str) -> None:
    """An incomplete subscription whose first invoice is still unpaid after 23 hours expires."""
    sub = store.get("subscription", sub_id)
    if sub is not None and sub["status"] == "incomplete":
        sub["status"] = "incomplete_expired"
        store.emit("customer.subscription.updated", sub, {"status": "incomplete"})


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


def warn_trial_end(store: Store, sub_id: str) -> None:
    """Three days before the trial ends (or at once for shorter trials), as Stripe does."""
    sub = store.get("subscription", sub_id)
    if sub is not None and sub["status"] == "trialing":
        store.emit("customer.subscription.trial_will_end", sub)


def renew(store: Store, opts: StripeSandboxOptions, sub_id: str, at: int) -> None:
    """Period end: cancel if asked to, otherwise start the next period with a draft invoice."""
    sub = store.get("subscription", sub_id)
    if sub is None or sub["status"] not in LIVE_STATUSES or period_of(sub)[1] != at:
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
    lines = charge_lines(store, sub, at, end)
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
        payment_failed(store, opts, customer, sub, invoice, at)


__all__ = [
    "INCOMPLETE_EXPIRES_S",
    "LIVE_STATUSES",
    "TRIAL_WARNING_S",
    "end_subscription",
    "expire_incomplete",
    "finalize_and_charge",
    "payment_failed",
    "renew",
    "retry_payment",
    "schedule",
    "warn_trial_end",
]
