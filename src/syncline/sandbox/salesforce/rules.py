"""Behaviour the org adds on top of plain field storage: derived fields, roll-ups, cross-object checks.

These are the platform rules a quote-to-cash integration trips over in a real org: line items
must use a price book entry of the parent's price book and currency, a custom price book entry
needs a standard price first, an activated order's products are frozen, Opportunity IsWon follows
the stage, totals roll up from line items. Roll-ups are written with `set_quietly` (rolled back
with the transaction, not published as change events; see docs for this difference).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from syncline.sandbox.salesforce.errors import SalesforceError
from syncline.sandbox.salesforce.schema import ObjectDef
from syncline.sandbox.salesforce.values import format_datetime

if TYPE_CHECKING:
    from syncline.sandbox.salesforce.store import Record, Store

LINE_ITEMS = {
    "OpportunityLineItem": ("OpportunityId", "Opportunity"),
    "QuoteLineItem": ("QuoteId", "Quote"),
    "OrderItem": ("OrderId", "Order"),
}
CASCADES = {
    "Account": [("Contact", "AccountId"), ("Opportunity", "AccountId")],
    "Opportunity": [("OpportunityLineItem", "OpportunityId"), ("Quote", "OpportunityId")],
    "Quote": [("QuoteLineItem", "QuoteId")],
    "Order": [("OrderItem", "OrderId")],
}
STAGE_PROBABILITY = {
    "Prospecting": 10,
    "Qualification": 10,
    "Needs Analysis": 20,
    "Value Proposition": 50,
    "Proposal/Price Quote": 75,
    "Negotiation/Review": 90,
    "Closed Won": 100,
    "Closed Lost": 0,
}
CONTRACT_STATUS_CODE = {"Draft": "Draft", "In Approval Process": "InApproval", "Activated": "Activated"}


def integrity(message: str, fields: list[str]) -> SalesforceError:
    return SalesforceError(400, "FIELD_INTEGRITY_EXCEPTION", f"field integrity exception: {message}", fields)


def derive(store: Store, obj: ObjectDef, record: Record, old: Record | None, provided: set[str]) -> None:
    """Fill computed fields and enforce cross-object rules before the record is saved."""
    handler = _DERIVERS.get(obj.name)
    if handler:
        handler(store, record, old, provided)
    if obj.name in LINE_ITEMS:
        _line_item(store, obj.name, record, old)


def _contact(store: Store, record: Record, old: Record | None, provided: set[str]) -> None:
    record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)


def _user(store: Store, record: Record, old: Record | None, provided: set[str]) -> None:
    _contact(store, record, old, provided)


def _opportunity(store: Store, record: Record, old: Record | None, provided: set[str]) -> None:
    stage = record.get("StageName")
    record["IsClosed"] = stage in ("Closed Won", "Closed Lost")
    record["IsWon"] = stage == "Closed Won"
    if "StageName" in provided and "Probability" not in provided and stage in STAGE_PROBABILITY:
        record["Probability"] = STAGE_PROBABILITY[stage]


def _quote(store: Store, record: Record, old: Record | None, provided: set[str]) -> None:
    opportunity = store.peek(record.get("OpportunityId") or "")
    if opportunity is not None:
        record["AccountId"] = opportunity.get("AccountId")
        if record.get("Pricebook2Id") is None:
            record["Pricebook2Id"] = opportunity.get("Pricebook2Id")
        if old is None and "CurrencyIsoCode" not in provided:
            record["CurrencyIsoCode"] = opportunity.get("CurrencyIsoCode")


def _order(store: Store, record: Record, old: Record | None, provided: set[str]) -> None:
    status = record.get("Status")
    record["StatusCode"] = status
    was_active = old is not None and old.get("Status") == "Activated"
    if status == "Activated" and not was_active:
        record["ActivatedDate"] = format_datetime(store.clock.now())
        record["ActivatedById"] = store._tx().context.user_id
    if was_active and status != "Activated":
        raise SalesforceError(
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            "Status: an activated order can't go back to Draft through the API in this org",
            ["Status"],
        )


def _contract(store: Store, record: Record, old: Record | None, provided: set[str]) -> None:
    record["StatusCode"] = CONTRACT_STATUS_CODE.get(record.get("Status") or "", "Draft")
    if record["StatusCode"] == "Activated" and not (old and old.get("ActivatedDate")):
        record["ActivatedDate"] = format_datetime(store.clock.now())
    start, term = record.get("StartDate"), record.get("ContractTerm")
    if start and term:
        first = dt.date.fromisoformat(start)
        months = first.month - 1 + int(term)
        year, month = first.year + months // 12, months % 12 + 1
        record["EndDate"] = (dt.date(year, month, min(first.day, 28)) - dt.timedelta(days=1)).isoformat()
    else:
        record["EndDate"] = None


def _pricebook(store: Store, record: Record, old: Record | None, provided: set[str]) -> None:
    record["IsStandard"] = bool(old and old.get("IsStandard")) or bool(record.get("IsStandard"))


def _pricebook_entry(store: Store, record: Record, old: Record | None, provided: set[str]) -> None:
    product = store.peek(record.get("Product2Id") or "") or {}
    book = store.peek(record.get("Pricebook2Id") or "") or {}
    record["Name"] = product.get("Name")
    record["ProductCode"] = product.get("ProductCode")
    if old is not None:
        return
    siblings = [
        e
        for e in store.rows_pointing_to("PricebookEntry", "Product2Id", record["Product2Id"])
        if e["CurrencyIsoCode"] == record["CurrencyIsoCode"]
    ]
    for entry in siblings:
        if entry["Pricebook2Id"] == record["Pricebook2Id"]:
            raise SalesforceError(
                400,
                "DUPLICATE_VALUE",
                "This price definition already exists in this price book: "
                f"duplicates value on record with id: {entry['Id']}",
                [],
            )
    if not book.get("IsStandard"):
        standard = [e for e in siblings if (store.peek(e["Pricebook2Id"]) or {}).get("IsStandard")]
        if not standard:
            raise SalesforceError(
                400, "STANDARD_PRICE_NOT_DEFINED", "No standard price defined for this product", []
            )
        if record.get("UseStandardPrice"):
            record["UnitPrice"] = standard[0]["UnitPrice"]


def _line_item(store: Store, object_name: str, record: Record, old: Record | None) -> None:
    parent_field, parent_object = LINE_ITEMS[object_name]
    parent = store.peek(record.get(parent_field) or "")
    if parent is None:
        return
    if parent_object == "Order" and parent.get("Status") == "Activated":
        raise integrity("You can't add or change products on an activated order.", [parent_field])
    entry = store.peek(record.get("PricebookEntryId") or "")
    if entry is None:
        return
    if old is None:
        _check_entry_fits_parent(store, parent_object, parent, entry)
    record["Product2Id"] = entry.get("Product2Id")
    record["ListPrice"] = entry.get("UnitPrice")
    if record.get("UnitPrice") is None:
        record["UnitPrice"] = entry.get("UnitPrice")
    subtotal = float(record.get("Quantity") or 0) * float(record.get("UnitPrice") or 0)
    discount = float(record.get("Discount") or 0) if "Discount" in record else 0.0
    if "Subtotal" in record:
        record["Subtotal"] = round(subtotal, 2)
    record["TotalPrice"] = round(subtotal * (1 - discount / 100), 2)


def _check_entry_fits_parent(store: Store, parent_object: str, parent: Record, entry: Record) -> None:
    if not entry.get("IsActive"):
        raise integrity("PricebookEntryId (inactive price book entry)", ["PricebookEntryId"])
    book = parent.get("Pricebook2Id")
    if book is None:
        store.set_quietly(parent_object, parent["Id"], {"Pricebook2Id": entry["Pricebook2Id"]})
    elif book != entry["Pricebook2Id"]:
        raise integrity(
            "PricebookEntryId (pricebook entry is in a different pricebook than the one assigned "
            f"to the {parent_object})",
            ["PricebookEntryId"],
        )
    if parent.get("CurrencyIsoCode") and entry.get("CurrencyIsoCode") != parent.get("CurrencyIsoCode"):
        raise integrity(
            f"PricebookEntryId (pricebook entry currency code does not match {parent_object} currency code)",
            ["PricebookEntryId"],
        )


def after_write(store: Store, obj: ObjectDef, record: Record, old: Record | None) -> None:
    """Roll line-item totals up to their parent after an item changed."""
    if obj.name not in LINE_ITEMS:
        return
    parent_field, parent_object = LINE_ITEMS[obj.name]
    parent_id = record.get(parent_field)
    if not parent_id or parent_id not in store.records[parent_object]:
        return
    items = store.rows_pointing_to(obj.name, parent_field, parent_id)
    total = round(sum(float(i.get("TotalPrice") or 0) for i in items), 2)
    parent = store.records[parent_object][parent_id]
    if parent_object == "Opportunity":
        store.set_quietly(parent_object, parent_id, {"Amount": total if items else parent.get("Amount")})
    elif parent_object == "Order":
        store.set_quietly(parent_object, parent_id, {"TotalAmount": total})
    else:
        subtotal = round(sum(float(i.get("Subtotal") or 0) for i in items), 2)
        extras = float(parent.get("Tax") or 0) + float(parent.get("ShippingHandling") or 0)
        store.set_quietly(
            parent_object,
            parent_id,
            {
                "Subtotal": subtotal,
                "TotalPrice": total,
                "Discount": round(subtotal - total, 2),
                "GrandTotal": round(total + extras, 2),
            },
        )


def before_delete(store: Store, obj: ObjectDef, record: Record) -> None:
    if obj.name == "OrderItem":
        order = store.peek(record.get("OrderId") or "") or {}
        if order.get("Status") == "Activated":
            raise integrity("You can't add or change products on an activated order.", ["OrderId"])
    if obj.name == "Account":
        blockers = [
            r["Id"]
            for kind in ("Order", "Contract")
            for r in store.rows_pointing_to(kind, "AccountId", record["Id"])
        ]
        if blockers:
            raise SalesforceError(
                400,
                "DELETE_FAILED",
                f"Your attempt to delete {record.get('Name')} could not be completed because it is "
                f"associated with the following orders or contracts: {', '.join(blockers[:5])}",
                [],
            )
    if obj.name == "Pricebook2" and record.get("IsStandard"):
        raise SalesforceError(400, "DELETE_FAILED", "The standard price book can't be deleted", [])


def cascade_children(store: Store, obj: ObjectDef, record_id: str) -> list[tuple[str, str]]:
    """Master-detail children deleted together with their parent."""
    children: list[tuple[str, str]] = []
    for child_object, parent_field in CASCADES.get(obj.name, []):
        children += [
            (child_object, r["Id"]) for r in store.rows_pointing_to(child_object, parent_field, record_id)
        ]
    return children


_DERIVERS: dict[str, Any] = {
    "Contact": _contact,
    "User": _user,
    "Opportunity": _opportunity,
    "Quote": _quote,
    "Order": _order,
    "Contract": _contract,
    "Pricebook2": _pricebook,
    "PricebookEntry": _pricebook_entry,
}

__all__ = ["after_write", "before_delete", "cascade_children", "derive"]
