"""Canonical models <-> NetSuite REST bodies. Pure functions: ids are resolved by the caller.

External ids: NetSuite's `eid:` path accepts letters, digits, `_` and `-` only, while canonical ids
may contain `.` and `:`. `external_id_for` escapes those characters injectively (`_` -> `__`,
`.` -> `_o`, `:` -> `_c`), so every canonical id has exactly one NetSuite external id and back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from syncline.contracts import (
    Address,
    Customer,
    CustomerActivated,
    CustomerRejected,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Money,
    Order,
    Payment,
    PaymentApplication,
    PaymentMethodType,
    PaymentStatus,
    Product,
    RevenueClass,
    event_id,
)
from syncline.errors import ContractViolation

SYSTEM = "netsuite"
_ESCAPES = {"_": "__", ".": "_o", ":": "_c"}
_UNESCAPES = {"_": "_", "o": ".", "c": ":"}
ApprovalState = Literal["pending", "approved", "rejected"]
_APPROVAL_STATES: dict[str, ApprovalState] = {
    "pendingApproval": "pending",
    "approved": "approved",
    "rejected": "rejected",
}


def external_id_for(canonical_id: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in canonical_id)


def canonical_id_from(external_id: str) -> str:
    out, chars = [], iter(external_id)
    for ch in chars:
        if ch == "_":
            nxt = next(chars, "")
            if nxt not in _UNESCAPES:
                raise ContractViolation(f"{external_id!r} is not an escaped canonical id", system=SYSTEM)
            out.append(_UNESCAPES[nxt])
        else:
            out.append(ch)
    return "".join(out)


# -- customer --------------------------------------------------------------------------------------


def address_line(address: Address, *, billing: bool, shipping: bool, label: str) -> dict[str, Any]:
    native: dict[str, Any] = {
        "addr1": address.line1,
        "city": address.city,
        "country": {"id": address.country},
    }
    if address.line2:
        native["addr2"] = address.line2
    if address.region:
        native["state"] = address.region
    if address.postal_code:
        native["zip"] = address.postal_code
    return {
        "defaultBilling": billing,
        "defaultShipping": shipping,
        "label": label,
        "addressBookAddress": native,
    }


def customer_body(customer: Customer, *, subsidiary_id: str, currency_id: str) -> dict[str, Any]:
    """The customer request body; the approval status is NetSuite's to set, never ours.

    A prospect may have no address yet: it is sent without one, and NetSuite's approval will say
    that a billing address is missing (a reason the account owner can act on).
    """
    bill_to = customer.bill_to or customer.sold_to
    ship_to = customer.ship_to or customer.sold_to
    lines = []
    if bill_to is not None:
        lines.append(address_line(bill_to, billing=True, shipping=ship_to == bill_to, label="Bill to"))
    if ship_to is not None and ship_to != bill_to:
        lines.append(address_line(ship_to, billing=False, shipping=True, label="Ship to"))
    body: dict[str, Any] = {
        "companyName": customer.legal_name,
        "isPerson": False,
        "subsidiary": {"id": subsidiary_id},
        "currency": {"id": currency_id},
        "addressBook": {"items": lines},
    }
    if customer.web_domain:
        body["url"] = f"https://{customer.web_domain}"
    registration = _tax_registration_for(customer, bill_to.country if bill_to else None)
    if registration:
        body["vatRegNumber"] = registration
    return body


def _tax_registration_for(customer: Customer, country: str | None) -> str | None:
    matching = [r for r in customer.tax_registrations if r.country == country]
    candidates = matching or list(customer.tax_registrations)
    return candidates[0].number if candidates else None


@dataclass(frozen=True)
class ApprovalOutcome:
    """Where NetSuite's approval of one customer stands, from a poll or a webhook."""

    state: ApprovalState
    internal_id: str
    external_id: str | None
    reason: str | None
    decided_at: dt.datetime | None

    @property
    def customer_id(self) -> str | None:
        return canonical_id_from(self.external_id) if self.external_id else None

    @property
    def event_id(self) -> str | None:
        """Same id whether the decision was polled or pushed, so the ledger keeps it once (invariant 2).

        The marker is the decision time NetSuite records with the decision; a resubmitted customer's
        next decision has a new time and so a new id. None while pending.
        """
        if self.state == "pending" or self.decided_at is None:
            return None
        marker = f"approval:{self.state}:{self.decided_at.astimezone(dt.UTC).isoformat()}"
        return event_id(SYSTEM, f"customer/{self.internal_id}", marker)


def approval_from_record(record: dict[str, Any]) -> ApprovalOutcome:
    status = (record.get("custentity_approval_status") or {}).get("id", "approved")
    state = _APPROVAL_STATES.get(str(status))
    if state is None:
        raise ContractViolation(
            f"unknown approval status {status!r} on customer {record.get('id')}", system=SYSTEM
        )
    return ApprovalOutcome(
        state=state,
        internal_id=str(record["id"]),
        external_id=record.get("externalId"),
        reason=record.get("custentity_approval_reason"),
        decided_at=None if state == "pending" else parse_datetime(record.get("custentity_approval_date")),
    )


def approval_from_webhook(event: dict[str, Any]) -> ApprovalOutcome:
    state = _APPROVAL_STATES.get(str(event.get("approvalStatus")))
    if state is None or not event.get("id"):
        raise ContractViolation(f"not a customer approval notification: {sorted(event)}", system=SYSTEM)
    return ApprovalOutcome(
        state=state,
        internal_id=str(event["id"]),
        external_id=event.get("externalId"),
        reason=event.get("reason"),
        decided_at=parse_datetime(event.get("decidedAt")),
    )


def approval_event(outcome: ApprovalOutcome) -> CustomerActivated | CustomerRejected | None:
    """The canonical acknowledgement of a decided approval; None while NetSuite is still deciding."""
    if outcome.state == "pending":
        return None
    customer_id = outcome.customer_id
    if customer_id is None:
        raise ContractViolation(
            f"customer {outcome.internal_id} has no external id, so it was not created by Syncline",
            system=SYSTEM,
        )
    decided_at = outcome.decided_at or dt.datetime.now(dt.UTC)
    if outcome.state == "approved":
        return CustomerActivated(
            customer_id=customer_id,
            approved_by_system=SYSTEM,
            external_ids={SYSTEM: outcome.internal_id},
            activated_at=decided_at,
        )
    return CustomerRejected(
        customer_id=customer_id,
        rejected_by_system=SYSTEM,
        reason_code="ERP_CUSTOMER_REJECTED",
        message=outcome.reason or "NetSuite rejected the customer without a reason",
        rejected_at=decided_at,
    )


# -- orders ----------------------------------------------------------------------------------------


def sales_order_body(
    order: Order, *, customer_id: str, subsidiary_id: str, currency_id: str, item_ids: dict[str, str]
) -> dict[str, Any]:
    """Sales order with one line per canonical line; custom price level -1 carries our net rate."""
    lines = []
    for line in order.lines:
        net = line.net_amount
        rate = (net.amount / line.quantity) if line.quantity else Decimal(0)
        native: dict[str, Any] = {
            "item": {"id": item_ids[line.product_sku]},
            "quantity": float(line.quantity),
            "price": {"id": "-1"},
            "rate": float(rate),
            "amount": float(net.amount),
        }
        if line.description:
            native["description"] = line.description
        lines.append(native)
    body: dict[str, Any] = {
        "entity": {"id": customer_id},
        "subsidiary": {"id": subsidiary_id},
        "currency": {"id": currency_id},
        "tranDate": order.effective_date.isoformat(),
        "memo": f"Syncline order {order.number}",
        "item": {"items": lines},
    }
    if order.po_number:
        body["otherRefNum"] = order.po_number
    return body


# -- items ----------------------------------------------------------------------------------------

ITEM_TYPES: dict[str, tuple[str, RevenueClass]] = {
    "Service": ("Services", RevenueClass.SUBSCRIPTION),
    "NonInvtPart": ("Licences", RevenueClass.ONE_TIME),
    "InvtPart": ("Hardware", RevenueClass.HARDWARE),
}
ITEM_COLUMNS = (
    "id, itemid, externalid, displayname, salesdescription, itemtype, isinactive, "
    "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified"
)


def product_from_item_row(row: dict[str, str]) -> Product:
    """A canonical product from a SuiteQL `item` row; the item type decides family and revenue class."""
    family, revenue = ITEM_TYPES.get(row.get("itemtype", ""), ("Other", RevenueClass.ONE_TIME))
    external = row.get("externalid")
    modified = dt.datetime.strptime(row["modified"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    return Product(
        id=canonical_id_from(external) if external else f"netsuite-item-{row['id']}",
        sku=row["itemid"],
        name=row.get("displayname") or row["itemid"],
        description=row.get("salesdescription"),
        family=family,
        active=row.get("isinactive") != "T",
        revenue_class=revenue,
        external_ids={SYSTEM: row["id"]},
        updated_at=modified,
    )


# -- invoices and payments -------------------------------------------------------------------------


def money(value: Any, currency: str) -> Money:
    return Money.of(Decimal(str(value or 0)).quantize(Decimal("0.01")), currency)


def invoice_from_record(
    record: dict[str, Any], *, currency: str, customer_id: str, order_id: str | None
) -> Invoice:
    """A canonical invoice from an expanded NetSuite invoice record."""
    lines = []
    for index, line in enumerate((record.get("item") or {}).get("items", []), start=1):
        sku = (line.get("item") or {}).get("refName")
        lines.append(
            InvoiceLine(
                line_number=index,
                description=str(line.get("description") or sku or "item"),
                product_sku=sku,
                quantity=Decimal(str(line.get("quantity", 1))),
                unit_price=money(line.get("rate"), currency),
                amount=money(line.get("amount"), currency),
            )
        )
    total = money(record.get("total"), currency)
    paid = money(record.get("amountPaid"), currency)
    status_id = (record.get("status") or {}).get("id", "open")
    status = (
        InvoiceStatus.PAID
        if status_id == "paidInFull"
        else (InvoiceStatus.PARTIALLY_PAID if paid.amount > 0 else InvoiceStatus.POSTED)
    )
    return Invoice(
        id=canonical_id_from(record["externalId"])
        if record.get("externalId")
        else f"netsuite-invoice-{record['id']}",
        number=str(record.get("tranId") or record["id"]),
        customer_id=customer_id,
        order_id=order_id,
        status=status,
        currency=currency,
        lines=tuple(lines),
        subtotal=money(record.get("subtotal", record.get("total")), currency),
        tax=money(record.get("taxTotal"), currency),
        total=total,
        amount_paid=paid,
        balance=money(record.get("amountRemaining"), currency),
        issue_date=dt.date.fromisoformat(str(record["tranDate"])),
        due_date=dt.date.fromisoformat(str(record.get("dueDate") or record["tranDate"])),
        posted_at=parse_datetime(record.get("dateCreated")),
        external_ids={SYSTEM: str(record["id"])},
    )


def payment_from_record(
    record: dict[str, Any], *, currency: str, customer_id: str, invoice_ids: dict[str, str]
) -> Payment:
    """A canonical payment; `invoice_ids` maps NetSuite invoice internal ids to canonical ids."""
    applications = tuple(
        PaymentApplication(
            invoice_id=invoice_ids[str(line["doc"]["id"])],
            invoice_number=(line["doc"].get("refName") or None),
            amount=money(line.get("amount"), currency),
        )
        for line in (record.get("apply") or {}).get("items", [])
        if line.get("apply", True)
    )
    return Payment(
        id=canonical_id_from(record["externalId"])
        if record.get("externalId")
        else f"netsuite-payment-{record['id']}",
        customer_id=customer_id,
        amount=money(record.get("payment", record.get("total")), currency),
        method=PaymentMethodType.OTHER,
        status=PaymentStatus.SUCCEEDED,
        applied_invoices=applications,
        reference=str(record.get("tranId") or record["id"]),
        received_at=parse_datetime(record.get("dateCreated")) or dt.datetime.now(dt.UTC),
        external_ids={SYSTEM: str(record["id"])},
    )


def parse_datetime(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


__all__ = [
    "ApprovalOutcome",
    "ApprovalState",
    "approval_event",
    "approval_from_record",
    "approval_from_webhook",
    "canonical_id_from",
    "customer_body",
    "external_id_for",
    "invoice_from_record",
    "payment_from_record",
    "product_from_item_row",
    "sales_order_body",
]
