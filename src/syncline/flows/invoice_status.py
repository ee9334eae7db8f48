"""Flow 5 — Invoice and payment status: billing and ERP events -> read-only CRM fields.

invoice.posted / payment.applied -> governance (invoice fields are owned by billing and read-only in
the CRM; the masking guard refuses any card or bank detail before it could leave billing) ->
write-back of invoice number, status, amount due, due date, paid date and days overdue, batched with
other sagas' writes into sObject Collections of up to 200 records by the CRM adapter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from syncline.contracts import Invoice, InvoiceStatus, Payment, PaymentStatus
from syncline.engine import Flow, Priority, Step, StepContext
from syncline.flows.deps import FlowDeps, payload
from syncline.flows.ports import CrmObject

INVOICE_POSTED = "syncline.invoice.posted.v1"
PAYMENT_APPLIED = "syncline.payment.applied.v1"
CRM = "salesforce"
SHOWN = "crm_shown"
"""Pseudo-system in the xref whose version is the status rank the CRM shows for an invoice."""


STATUS_RANK = {
    InvoiceStatus.DRAFT: 0,
    InvoiceStatus.POSTED: 1,
    InvoiceStatus.PARTIALLY_PAID: 2,
    InvoiceStatus.PAID: 3,
    InvoiceStatus.VOID: 3,
    InvoiceStatus.UNCOLLECTIBLE: 3,
}
"""How far an invoice has travelled; a later event never carries a lower rank than an earlier one."""


def days_overdue(invoice: Invoice, today: date) -> int:
    """Whole days past the due date while something is still owed; 0 otherwise."""
    if invoice.balance.amount <= 0 or today <= invoice.due_date:
        return 0
    return (today - invoice.due_date).days


def invoice_fields(invoice: Invoice, today: date) -> dict[str, object]:
    """The invoice as the canonical, governed field names the CRM receives."""
    paid = invoice.status is InvoiceStatus.PAID
    return {
        "number": invoice.number,
        "status": invoice.status.value,
        "balance": invoice.balance.amount,
        "due_date": invoice.due_date,
        "paid_date": (invoice.posted_at or datetime.now(UTC)).date() if paid else None,
        "days_overdue": days_overdue(invoice, today),
    }


def invoice_target(invoice: Invoice) -> tuple[CrmObject, str]:
    """The CRM record showing the invoice: its order when it came from one, else the account."""
    if invoice.order_id:
        return "order", invoice.order_id
    return "customer", invoice.customer_id


class InvoiceStatusFlow:
    """The step of flow 5."""

    def __init__(self, deps: FlowDeps) -> None:
        self.deps = deps

    async def write_status(self, context: StepContext) -> str:
        """Governed write-back of the status fields; returns the CRM key written."""
        if context.event.type == PAYMENT_APPLIED:
            return await self._payment(context)
        invoice = payload(context, Invoice)
        if await self._is_stale(invoice):
            return "stale"
        origin = context.event.source.split(":")[2] if context.event.source.count(":") >= 2 else "billing"
        fields = invoice_fields(invoice, datetime.now(UTC).date())
        prepared = self.deps.gate.prepare_write(
            "invoice", CRM, invoice.id, fields, origin_system=origin, write_id=context.idempotency_key
        )
        crm_object, key = invoice_target(invoice)
        await self.deps.crm.write_fields(crm_object, key, prepared.fields)
        await self.deps.link(
            "invoice", invoice.id, SHOWN, invoice.id, version=str(STATUS_RANK[invoice.status])
        )
        return key

    async def _is_stale(self, invoice: Invoice) -> bool:
        """A reordered delivery must not move the CRM back (paid -> open): compare status ranks."""
        shown = await self.deps.version_of("invoice", invoice.id, SHOWN)
        return shown is not None and int(shown) > STATUS_RANK[invoice.status]

    async def _payment(self, context: StepContext) -> str:
        payment = payload(context, Payment)
        fields = {"status": payment.status.value, "paid_at": payment.received_at}
        prepared = self.deps.gate.prepare_write(
            "payment", CRM, payment.id, fields, origin_system="billing", write_id=context.idempotency_key
        )
        paid_at = prepared.fields.get("paid_at")
        if payment.status is PaymentStatus.SUCCEEDED and isinstance(paid_at, datetime):
            await self.deps.crm.write_fields("customer", payment.customer_id, {"paid_date": paid_at.date()})
        return payment.customer_id


def invoice_status_flow(deps: FlowDeps) -> Flow:
    """Flow 5 as an engine saga."""
    steps = InvoiceStatusFlow(deps)
    return Flow(
        "invoice_status",
        1,
        (Step("write_status", steps.write_status, target_system=CRM),),
        triggers=(INVOICE_POSTED, PAYMENT_APPLIED),
        priority=Priority.PAYMENTS,
    )


__all__ = [
    "INVOICE_POSTED",
    "PAYMENT_APPLIED",
    "InvoiceStatusFlow",
    "days_overdue",
    "invoice_fields",
    "invoice_status_flow",
    "invoice_target",
]
