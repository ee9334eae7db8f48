"""Record writes with the account's rules: what POST, PATCH, PUT eid: and !transform do to the data.

Handlers in `app.py` deal with HTTP; this module decides what a write means: defaults NetSuite
fills in, read-only fields it ignores, totals it computes, balances it moves, and which rule in
`rules.py` refuses the write. Everything here runs without awaiting, so a check and the insert that
follows it are atomic on the event loop (two racing `PUT eid:` calls create one record).
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

from syncline.sandbox.netsuite import rules
from syncline.sandbox.netsuite.approval import ApprovalProcess
from syncline.sandbox.netsuite.problems import NetSuiteProblem
from syncline.sandbox.netsuite.store import (
    INTEGRATION_USER,
    ITEM_TYPES,
    READ_ONLY_TYPES,
    SUBLISTS,
    TRANSACTION_TYPES,
    RecordStore,
    merge_lines,
    ref_name,
)

READ_ONLY_FIELDS = {
    "id",
    "links",
    "dateCreated",
    "lastModifiedDate",
    "lastModifiedBy",
    "balance",
    "overdueBalance",
    "custentity_approval_status",
    "custentity_approval_reason",
    "custentity_approval_due",
    "custentity_approval_date",
    "total",
    "subtotal",
    "amountRemaining",
    "amountPaid",
    "status",
}
ORDER_STATUSES = {"A": "Pending Approval", "B": "Pending Fulfillment", "G": "Billed", "H": "Closed"}
_PREFIXES = {"salesOrder": "SO", "invoice": "INV", "customerPayment": "PYMT", "creditMemo": "CM"}


class RecordService:
    """Creates, updates and transforms records, enforcing the rules of this account."""

    def __init__(self, store: RecordStore, approvals: ApprovalProcess, default_credit_limit: float) -> None:
        self.store = store
        self.approvals = approvals
        self.default_credit_limit = default_credit_limit

    # -- entry points -----------------------------------------------------------------------------

    def create(self, record_type: str, body: dict[str, Any]) -> dict[str, Any]:
        self._refuse_read_only_type(record_type)
        clean = _writable(body)
        external = clean.get("externalId")
        if external is not None and self.store.find(record_type, f"eid:{external}") is not None:
            raise rules.user_error(
                f"A {record_type} record with external ID {external} already exists. Use PUT "
                f"/{record_type}/eid:{external} to update it.",
                "externalId",
            )
        with self.store.lock:
            prepared = self._prepare(record_type, clean, None)
            record = self.store.insert(record_type, prepared, by=INTEGRATION_USER)
            self._after_create(record_type, record)
            return record

    def update(
        self, record_type: str, key: str, body: dict[str, Any], replace: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """PATCH: sent fields replace, null clears; sublists merge by `line` unless named in `replace`."""
        self._refuse_read_only_type(record_type)
        with self.store.lock:
            record = self.store.get(record_type, key)
            incoming = _writable(body)
            for field in SUBLISTS & incoming.keys() - replace:
                if isinstance(incoming[field], dict) and isinstance(record.get(field), dict):
                    incoming[field] = merge_lines(record[field], incoming[field])
            merged = {**copy.deepcopy(record), **incoming}
            merged = {k: v for k, v in merged.items() if v is not None}
            prepared = self._prepare(record_type, merged, record)
            changes = {k: v for k, v in prepared.items() if record.get(k) != v}
            changes.update({k: None for k, v in _writable(body).items() if v is None})
            updated = self.store.update(record_type, record, changes, by=INTEGRATION_USER)
            if record_type == "customer" and changes and _approval_state(updated) == "rejected":
                self.approvals.start_pending(updated)  # a corrected customer is resubmitted
            return updated

    def upsert(
        self, record_type: str, external_id: str, body: dict[str, Any], replace: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Any], bool]:
        """PUT eid:: update the record with that external id, or create it. Returns (record, created)."""
        if body.get("externalId") not in (None, external_id):
            raise NetSuiteProblem(
                400,
                "INVALID_CONTENT",
                "externalId in the body differs from the eid: in the URL; leave it out of the body.",
                path="externalId",
            )
        with self.store.lock:
            if self.store.find(record_type, f"eid:{external_id}") is not None:
                return self.update(record_type, f"eid:{external_id}", body, replace), False
            return self.create(record_type, {**body, "externalId": external_id}), True

    def delete(self, record_type: str, key: str) -> None:
        self._refuse_read_only_type(record_type)
        with self.store.lock:
            record = self.store.get(record_type, key)
            self.store.delete(record_type, record["id"])

    def transform(self, source_type: str, key: str, target: str, body: dict[str, Any]) -> dict[str, Any]:
        """salesOrder -> invoice and invoice -> customerPayment / creditMemo, as NetSuite does."""
        with self.store.lock:
            source = self.store.get(source_type, key)
            pair = (source_type, target)
            if pair in {("salesOrder", "invoice"), ("invoice", "creditMemo")}:
                draft = _copy_fields(source, ["entity", "subsidiary", "currency", "item"])
                draft["createdFrom"] = {"id": source["id"]}
            elif pair == ("invoice", "customerPayment"):
                remaining = rules.money(source.get("amountRemaining"))
                draft = _copy_fields(source, ["subsidiary", "currency"])
                draft.update(
                    customer=source["entity"],
                    payment=float(remaining),
                    apply={
                        "items": [{"doc": {"id": source["id"]}, "apply": True, "amount": float(remaining)}]
                    },
                )
            else:
                raise NetSuiteProblem(
                    400,
                    "INVALID_PARAMETER",
                    f"Transformation from {source_type} to {target} is not supported.",
                )
            draft.update(_writable(body))
            record = self.create(target, draft)
            if pair == ("salesOrder", "invoice"):
                self.store.update("salesOrder", source, {"orderStatus": {"id": "G", "refName": "Billed"}})
            return record

    # -- preparation per type ---------------------------------------------------------------------

    def _prepare(
        self, record_type: str, body: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        if record_type == "customer":
            return self._prepare_customer(body, existing)
        if record_type in ITEM_TYPES:
            if not body.get("itemId"):
                raise rules.user_error("Please enter value(s) for: Item Name/Number", "itemId")
            return body
        if record_type == "salesOrder":
            return self._prepare_sales_order(body, existing)
        if record_type in {"invoice", "creditMemo"}:
            return self._prepare_billing(record_type, body, existing)
        if record_type == "customerPayment":
            return self._prepare_payment(body, existing)
        return body

    def _prepare_customer(self, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        rules.check_customer(self.store, body)
        if not body.get("companyName") and not body.get("lastName"):
            raise rules.user_error("Please enter value(s) for: Company Name", "companyName")
        body.setdefault(
            "entityId", body.get("companyName") or f"{body.get('firstName')} {body.get('lastName')}"
        )
        body.setdefault("isPerson", False)
        body.setdefault("isInactive", False)
        body.setdefault("creditLimit", self.default_credit_limit)
        body.setdefault("terms", {"id": "2", "refName": "Net 30"})  # the approver's default terms
        body.setdefault("taxable", True)
        body.setdefault("creditHoldOverride", {"id": "AUTO", "refName": "Auto"})
        if existing is None:
            body["balance"] = 0.0
        else:
            for field in READ_ONLY_FIELDS & existing.keys():
                body[field] = existing[field]
        if "currency" not in body:
            subsidiary = self.store.get("subsidiary", str(body["subsidiary"]["id"]))
            body["currency"] = dict(subsidiary["currency"])
        return body

    def _transaction_context(self, body: dict[str, Any], entity_field: str) -> dict[str, Any]:
        """Customer, subsidiary, currency and period checks shared by every posting."""
        customer = rules.require_reference(self.store, body, entity_field, "customer")
        body.setdefault("subsidiary", dict(customer["subsidiary"]))
        body.setdefault("currency", dict(customer.get("currency") or {"id": "1"}))
        subsidiary = rules.require_reference(self.store, body, "subsidiary", "subsidiary")
        currency = rules.require_reference(self.store, body, "currency", "currency")
        if str(subsidiary["id"]) != str(customer["subsidiary"]["id"]):
            raise rules.user_error(
                f"Customer {ref_name('customer', customer)} belongs to subsidiary "
                f"{ref_name('subsidiary', self.store.get('subsidiary', str(customer['subsidiary']['id'])))}, "
                f"not {ref_name('subsidiary', subsidiary)}. "
                "Book the transaction under the customer's subsidiary.",
                "subsidiary",
            )
        rules.check_currency_for_subsidiary(self.store, subsidiary, currency)
        today = self.store.clock().date().isoformat()
        body.setdefault("tranDate", today)
        period = rules.check_open_period(self.store, str(body["tranDate"]))
        body["postingPeriod"] = {"id": period["id"]}
        return customer

    def _prepare_sales_order(self, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        customer = self._transaction_context(body, "entity")
        lines = rules.resolve_lines(self.store, body)
        if existing is None:  # approval and credit are checked when the order is entered, not on edits
            rules.check_customer_may_transact(customer)
            currency = self.store.get("currency", str(body["currency"]["id"]))
            rules.check_credit_hold(customer, str(currency["symbol"]))
        total = sum((Decimal(str(line["amount"])) for line in lines), Decimal("0"))
        body["item"] = {"items": lines}
        body.update(subtotal=float(total), total=float(total))
        status = str((body.get("orderStatus") or {}).get("id", "B"))
        if status not in {"A", "B"}:
            raise NetSuiteProblem(
                400, "INVALID_CONTENT", "orderStatus can be set to A or B only.", path="orderStatus"
            )
        body["orderStatus"] = {"id": status, "refName": ORDER_STATUSES[status]}
        body.setdefault("tranId", self._tran_id("salesOrder"))
        return body

    def _prepare_billing(
        self, record_type: str, body: dict[str, Any], existing: dict[str, Any] | None
    ) -> dict[str, Any]:
        self._transaction_context(body, "entity")
        lines = rules.resolve_lines(self.store, body)
        total = sum((Decimal(str(line["amount"])) for line in lines), Decimal("0"))
        body["item"] = {"items": lines}
        body.update(subtotal=float(total), total=float(total))
        if existing is None:
            body.setdefault("tranId", self._tran_id(record_type))
            if record_type == "invoice":
                body.update(
                    amountRemaining=float(total), amountPaid=0.0, status={"id": "open", "refName": "Open"}
                )
                due = dt.date.fromisoformat(str(body["tranDate"])) + dt.timedelta(days=30)
                body.setdefault("dueDate", due.isoformat())
        else:
            for field in READ_ONLY_FIELDS & existing.keys() - {"total", "subtotal"}:
                body[field] = existing[field]
        return body

    def _prepare_payment(self, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        self._transaction_context(body, "customer")
        if existing is not None:
            return {**body, **{f: existing[f] for f in READ_ONLY_FIELDS & existing.keys()}}
        applied = Decimal("0")
        for number, line in enumerate((body.get("apply") or {}).get("items", []), start=1):
            invoice = self.store.find("invoice", str((line.get("doc") or {}).get("id")))
            if invoice is None:
                raise rules.invalid_reference(
                    (line.get("doc") or {}).get("id"), f"apply.items[{number - 1}].doc"
                )
            amount = rules.money(line.get("amount"))
            if amount > rules.money(invoice.get("amountRemaining")):
                raise rules.user_error(
                    f"Payment of {amount} exceeds the amount remaining on invoice {invoice.get('tranId')}.",
                    f"apply.items[{number - 1}].amount",
                )
            applied += amount
        body.setdefault("payment", float(applied))
        body["total"] = float(rules.money(body["payment"]))
        body.setdefault("tranId", self._tran_id("customerPayment"))
        return body

    # -- side effects -----------------------------------------------------------------------------

    def _after_create(self, record_type: str, record: dict[str, Any]) -> None:
        if record_type == "customer":
            self.approvals.start_pending(record)
        elif record_type == "invoice":
            self._move_balance(record["entity"], Decimal(str(record["total"])))
        elif record_type == "creditMemo":
            self._move_balance(record["entity"], -Decimal(str(record["total"])))
        elif record_type == "customerPayment":
            self._apply_payment(record)

    def _apply_payment(self, payment: dict[str, Any]) -> None:
        for line in (payment.get("apply") or {}).get("items", []):
            invoice = self.store.get("invoice", str(line["doc"]["id"]))
            amount = rules.money(line.get("amount"))
            remaining = rules.money(invoice.get("amountRemaining")) - amount
            paid = rules.money(invoice.get("amountPaid")) + amount
            status = {"id": "paidInFull", "refName": "Paid In Full"} if remaining <= 0 else invoice["status"]
            self.store.update(
                "invoice",
                invoice,
                {"amountRemaining": float(remaining), "amountPaid": float(paid), "status": status},
            )
        self._move_balance(payment["customer"], -Decimal(str(payment["total"])))

    def _move_balance(self, reference: dict[str, Any], delta: Decimal) -> None:
        customer = self.store.get("customer", str(reference["id"]))
        balance = rules.money(customer.get("balance")) + delta
        self.store.update("customer", customer, {"balance": float(balance)})

    def _tran_id(self, record_type: str) -> str:
        count = sum(1 for _ in self.store.all(record_type)) + 1
        return f"{_PREFIXES[record_type]}{count:05d}"

    @staticmethod
    def _refuse_read_only_type(record_type: str) -> None:
        if record_type in READ_ONLY_TYPES:
            raise NetSuiteProblem(
                405, "METHOD_NOT_ALLOWED", f"Records of type {record_type} are read-only here."
            )


def _approval_state(record: dict[str, Any]) -> str:
    return str((record.get("custentity_approval_status") or {}).get("id", "approved"))


def _writable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY_FIELDS}


def _copy_fields(record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {f: copy.deepcopy(record[f]) for f in fields if f in record}


__all__ = ["ORDER_STATUSES", "READ_ONLY_FIELDS", "TRANSACTION_TYPES", "RecordService"]
