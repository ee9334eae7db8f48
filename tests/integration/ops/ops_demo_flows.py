"""Quote-to-cash test flows for the ops tests and the console demo (the real flows are issue 7).

They run on the real engine: steps journal, fail with classified errors, and record the
transaction's business and external keys in the ledger (as the real flows will) so every id a
person might search by is there. Faults are chosen per subject through the sets below; a process
that has not filled them (a `syncline serve` started on a demo ledger) runs every step cleanly,
which is how a replayed dead letter completes.

`syncline serve --flows ops_demo_flows` loads FLOWS from here (with this folder on PYTHONPATH).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from typing import Any

from syncline.engine.saga import Flow, Parallel, Step, StepContext
from syncline.errors import BusinessRejection, ContractViolation, RateLimitedError, TransientError
from syncline.ledger import BusinessKeys, ExternalKey, SqlLedger, open_ledger
from syncline.ops.telemetry import API_BUDGETS

BROKEN: set[str] = set()
REJECTED: set[str] = set()
FLAKY: set[str] = set()
THROTTLED: set[str] = set()
_state: dict[str, SqlLedger] = {}
_calls: dict[str, int] = {}


def use_ledger(ledger: SqlLedger) -> None:
    """Write keys through this ledger (else the one named by SYNCLINE_DATABASE__URL is opened)."""
    _state["ledger"] = ledger


def reset_faults() -> None:
    """Forget every injected fault."""
    for faults in (BROKEN, REJECTED, FLAKY, THROTTLED):
        faults.clear()


def _ledger() -> SqlLedger:
    if "ledger" not in _state:
        _state["ledger"] = open_ledger(os.environ["SYNCLINE_DATABASE__URL"])
    return _state["ledger"]


async def _note(ctx: StepContext, keys: BusinessKeys | None = None, *external: ExternalKey) -> None:
    def write() -> None:
        with _ledger().transaction() as session:
            if keys is not None:
                session.update_transaction(ctx.transaction_id, keys=keys)
            session.add_external_keys(ctx.transaction_id, list(external))

    await asyncio.to_thread(write)


def _api_call(system: str) -> None:
    _calls[system] = _calls.get(system, 0) + 1
    API_BUDGETS.report(system, _calls[system], {"salesforce": 15000, "netsuite": 10000}.get(system, 25000))


def _short(ctx: StepContext, salt: str) -> str:
    return hashlib.sha256(f"{ctx.event.subject}:{salt}".encode()).hexdigest()[:10]


async def validate(ctx: StepContext) -> str | None:
    if not ctx.event.payload.get("lines") and "total" not in ctx.event.payload:
        raise ContractViolation(f"{ctx.event.subject} has nothing to book")
    return None


def _payload_of(event_type: str, subject: str) -> dict[str, Any]:
    with _ledger().read() as session:
        found = session.find_event(event_type, subject)
    return dict(found.payload) if found is not None else {}


async def order_keys(ctx: StepContext) -> str | None:
    data = ctx.event.payload
    quote_data = await asyncio.to_thread(_payload_of, "syncline.quote.approved.v1", str(data.get("quote_id")))
    customer = await asyncio.to_thread(_payload_of, "syncline.customer.created.v1", str(data["customer_id"]))
    keys = BusinessKeys(
        sf_account_id=(customer.get("external_ids") or {}).get("salesforce"),
        sf_opportunity_id=quote_data.get("opportunity_id"),
        sf_quote_id=(quote_data.get("external_ids") or {}).get("salesforce"),
        order_number=str(data["number"]),
    )
    sf_order = (data.get("external_ids") or {}).get("salesforce")
    extra = [ExternalKey("salesforce", "order", sf_order)] if sf_order else []
    await _note(ctx, keys, *extra)
    return None


async def ensure_customer(ctx: StepContext) -> str:
    _api_call("netsuite")
    customer = f"CUST-{_short(ctx, 'customer')[:6].upper()}"
    await _note(ctx, None, ExternalKey("netsuite", "customer", customer))
    return customer


async def erp_sales_order(ctx: StepContext) -> str:
    subject = ctx.event.subject
    _api_call("netsuite")
    if subject in BROKEN:
        raise ContractViolation(f"order {subject}: tax region missing for legal entity DE01")
    if subject in REJECTED:
        raise BusinessRejection(
            "customer on credit hold in NetSuite; order cannot be booked "
            "(credit contact: ar@nordlicht-analytics.de)",
            reason_code="CREDIT_HOLD",
            owner_role="finance",
        )
    if subject in FLAKY and ctx.attempt == 1:
        raise TransientError("NetSuite answered 503 Service Unavailable", system="netsuite")
    sales_order = f"SO-{ctx.event.payload['number']}"
    await _note(ctx, None, ExternalKey("netsuite", "sales_order", sales_order))
    return sales_order


async def billing_subscription(ctx: StepContext) -> str:
    _api_call("stripe")
    if ctx.event.subject in THROTTLED and ctx.attempt == 1:
        raise RateLimitedError("Stripe 429 Too Many Requests", retry_after=1.0, system="stripe")
    subscription = f"sub_{_short(ctx, 'sub')}"
    customer = f"cus_{_short(ctx, 'stripe-customer')}"
    await _note(
        ctx,
        BusinessKeys(subscription_id=subscription),
        ExternalKey("stripe", "subscription", subscription),
        ExternalKey("stripe", "customer", customer),
    )
    return subscription


async def salesforce_write_back(ctx: StepContext) -> str:
    _api_call("salesforce")
    return f"801{_short(ctx, 'sf')[:12]}"


async def invoice_keys(ctx: StepContext) -> str | None:
    data = ctx.event.payload
    stripe_invoice = (data.get("external_ids") or {}).get("stripe")
    await _note(
        ctx,
        BusinessKeys(
            invoice_id=stripe_invoice or str(data["number"]), subscription_id=data.get("subscription_id")
        ),
        ExternalKey("stripe", "invoice", stripe_invoice or str(data["number"])),
    )
    return None


async def erp_invoice(ctx: StepContext) -> str:
    _api_call("netsuite")
    invoice = f"INV-{ctx.event.payload['number']}"
    await _note(ctx, None, ExternalKey("netsuite", "invoice", invoice))
    return invoice


FLOWS = [
    Flow(
        "order_booking",
        1,
        (
            Step("validate", validate),
            Step("record_keys", order_keys),
            Step("ensure_customer", ensure_customer, target_system="netsuite"),
            Parallel(
                "split",
                (
                    Step("erp_sales_order", erp_sales_order, target_system="netsuite"),
                    Step("billing_subscription", billing_subscription, target_system="stripe"),
                ),
            ),
            Step("salesforce_write_back", salesforce_write_back, target_system="salesforce"),
        ),
        triggers=("syncline.order.booked.v1",),
    ),
    Flow(
        "invoice_status",
        1,
        (
            Step("validate", validate),
            Step("record_keys", invoice_keys),
            Step("erp_invoice", erp_invoice, target_system="netsuite"),
            Step("salesforce_status", salesforce_write_back, target_system="salesforce"),
        ),
        triggers=("syncline.invoice.posted.v1",),
    ),
]
