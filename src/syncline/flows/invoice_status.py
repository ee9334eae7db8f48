"""Flow 5 — Invoice and payment status: billing and ERP events -> read-only CRM fields.

invoice.posted / payment.applied, from billing (Stripe webhooks / events) or from the ERP (the
NetSuite transaction change feed) -> governance: the invoice's configured owner (ownership.yaml,
`invoice.owner`: billing by default, or erp) is the only source whose status reaches the CRM; the
other source's event is dropped with an audit record. The masking guard refuses any card or bank
detail before it could leave billing ->
write-back of invoice number, status, amount due, due date, paid date and days overdue, batched with
other sagas' writes into sObject Collections of up to 200 records by the CRM adapter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from syncline.contracts import Invoice, InvoiceStatus, Payment, PaymentStatus
from syncline.engine import Flow, Priority, Step, StepContext
from syncline.flows.deps import FlowDeps, payload
from syncline.flows.ports import CrmObject
from syncline.governance import PreparedWrite
from syncline.logs import get_logger

log = get_logger(__name__)

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


def origin_of(context: StepContext) -> str:
    """The system an event came from (`urn:syncline:<system>:<instance>`), as governance names it."""
    parts = context.event.source.split(":")
    return parts[2] if len(parts) >= 3 else "billing"


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
        origin = origin_of(context)
        fields = invoice_fields(invoice, datetime.now(UTC).date())
        prepared = self.deps.gate.prepare_write(
            "invoice", CRM, invoice.id, fields, origin_system=origin, write_id=context.idempotency_key
        )
        if not prepared.fields:
            return await self._dropped("invoice", invoice.id, origin, prepared, context)
        crm_object, key = invoice_target(invoice)
        await self.deps.crm.write_fields(crm_object, key, prepared.fields)
        await self.deps.link(
            "invoice", invoice.id, SHOWN, invoice.id, version=str(STATUS_RANK[invoice.status])
        )
        return key

    async def _dropped(
        self, entity: str, record_id: str, origin: str, prepared: PreparedWrite, context: StepContext
    ) -> str:
        """Not the owner's event: nothing reaches the CRM, and the audit trail says why."""
        withheld = prepared.decision.withheld
        owner = withheld[0].owner if withheld else None
        log.info("invoice_status_not_owner", entity=entity, record_id=record_id, origin=origin, owner=owner)
        if self.deps.audit is not None:
            await self.deps.audit.record(
                "governance.write_dropped",
                entity,
                record_id,
                reason=f"{origin} is not the owner of {entity} status (owner: {owner})",
                details={
                    "origin_system": origin,
                    "target_system": CRM,
                    "event_id": context.event.event_id,
                    "fields": sorted(d.field for d in withheld),
                    "reasons": sorted({d.reason.value for d in withheld}),
                },
            )
        return f"dropped:{origin}"

    async def _is_stale(self, invoice: Invoice) -> bool:
        """A reordered delivery must not move the CRM back (paid -> open): compare status ranks."""
        shown = await self.deps.version_of("invoice", invoice.id, SHOWN)
        return shown is not None and int(shown) > STATUS_RANK[invoice.status]

    async def _payment(self, context: StepContext) -> str:
        payment = payload(context, Payment)
        fields = {"status": payment.status.value, "paid_at": payment.received_at}
        origin = origin_of(context)
        prepared = self.deps.gate.prepare_write(
            "payment", CRM, payment.id, fields, origin_system=origin, write_id=context.idempotency_key
        )
        if not prepared.fields:
            return await self._dropped("payment", payment.id, origin, prepared, context)
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
    "origin_of",
]
