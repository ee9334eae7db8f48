"""The business rules a configured NetSuite account enforces on integration writes.

Each rule answers the way NetSuite does when native validation or a user-event script refuses a
record: HTTP 400, `o:errorCode` USER_ERROR (or INVALID_CONTENT for a bad reference) and a detail
written for the person who has to fix it: what is wrong, with which record, and what to do.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat

from syncline.sandbox.netsuite.problems import NetSuiteProblem
from syncline.sandbox.netsuite.store import ITEM_TYPES, RecordStore, ref_name

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def user_error(detail: str, path: str | None = None) -> NetSuiteProblem:
    return NetSuiteProblem(400, "USER_ERROR", detail, path=path)


def invalid_reference(value: Any, field: str) -> NetSuiteProblem:
    return NetSuiteProblem(
        400, "INVALID_CONTENT", f"Invalid Field Value {value} for the following field: {field}", path=field
    )


def ref_id(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if isinstance(value, dict) and value.get("id") is not None:
        return str(value["id"])
    return None


def require_reference(
    store: RecordStore, body: dict[str, Any], field: str, record_type: str
) -> dict[str, Any]:
    key = ref_id(body, field)
    if key is None:
        raise user_error(f"Please enter value(s) for: {field}", field)
    record = store.find(record_type, key)
    if record is None:
        raise invalid_reference(key, field)
    return record


# -- customers -------------------------------------------------------------------------------------


def check_customer(store: RecordStore, body: dict[str, Any]) -> None:
    """Subsidiary present, currency traded by it, tax registration valid for the billing country."""
    subsidiary = require_reference(store, body, "subsidiary", "subsidiary")
    if ref_id(body, "currency") is not None:
        check_currency_for_subsidiary(
            store, subsidiary, require_reference(store, body, "currency", "currency")
        )
    number = body.get("vatRegNumber")
    if number:
        check_tax_registration(str(number), billing_country(body) or str(subsidiary.get("country", "")))


def billing_country(body: dict[str, Any]) -> str | None:
    lines = (body.get("addressBook") or {}).get("items", [])
    for line in sorted(lines, key=lambda line: not line.get("defaultBilling")):
        country = (line.get("addressBookAddress") or {}).get("country")
        if isinstance(country, dict) and country.get("id"):
            return str(country["id"])
    return None


def check_tax_registration(number: str, country: str) -> None:
    """Validate with python-stdnum: the EU VIES format for member states, else the country's module."""
    cc = country.lower()
    if cc in eu_vat.MEMBER_STATES or cc == "gr":
        prefix = "EL" if cc == "gr" else cc.upper()
        valid = number.upper().replace(" ", "").startswith(prefix) and bool(eu_vat.is_valid(number))
    else:
        module = get_cc_module(cc, "vat") or get_cc_module(cc, "tin")
        if module is None:
            return
        valid = bool(module.is_valid(number))
    if not valid:
        raise user_error(
            f"Invalid tax registration number {number} for country {country.upper()}: it fails the "
            f"{country.upper()} format and check digit rules. Correct the VAT/tax registration on the "
            "customer (with its country prefix) and submit it again.",
            "vatRegNumber",
        )


def trading_currencies(subsidiary: dict[str, Any]) -> set[str]:
    base = ref_id(subsidiary, "currency")
    extra = str(subsidiary.get("custrecord_trading_currencies", "") or "")
    return {c for c in [base, *extra.split(",")] if c}


def check_currency_for_subsidiary(
    store: RecordStore, subsidiary: dict[str, Any], currency: dict[str, Any]
) -> None:
    if str(currency["id"]) in trading_currencies(subsidiary):
        return
    allowed = sorted(
        ref_name("currency", store.records["currency"][c])
        for c in trading_currencies(subsidiary)
        if c in store.records["currency"]
    )
    raise user_error(
        f"Currency {ref_name('currency', currency)} is not available for subsidiary "
        f"{ref_name('subsidiary', subsidiary)} (it trades in {', '.join(allowed)}). Book the "
        "transaction in one of those currencies or under a subsidiary that trades in "
        f"{ref_name('currency', currency)}.",
        "currency",
    )


# -- transactions ----------------------------------------------------------------------------------


def check_open_period(store: RecordStore, tran_date: str) -> dict[str, Any]:
    """A posting must fall in an accounting period that exists and is open."""
    day = dt.date.fromisoformat(tran_date)
    for period in store.records["accountingPeriod"].values():
        if dt.date.fromisoformat(period["startDate"]) <= day <= dt.date.fromisoformat(period["endDate"]):
            if period.get("closed"):
                raise user_error(
                    f"The accounting period {period['periodName']} is closed, so a transaction dated "
                    f"{tran_date} cannot be posted. Date it in an open period, or ask accounting to "
                    "reopen the period.",
                    "tranDate",
                )
            return period
    raise NetSuiteProblem(
        400, "INVALID_CONTENT", f"No accounting period is set up for {tran_date}.", path="tranDate"
    )


def check_customer_may_transact(customer: dict[str, Any]) -> None:
    status = (customer.get("custentity_approval_status") or {}).get("id", "approved")
    name = ref_name("customer", customer)
    if status == "pendingApproval":
        raise user_error(
            f"Customer {name} is pending credit approval; orders can be entered once it is approved.",
            "entity",
        )
    if status == "rejected":
        reason = customer.get("custentity_approval_reason", "no reason recorded")
        raise user_error(
            f"Customer {name} was rejected in credit approval: {reason} Fix the customer record and "
            "resubmit it for approval before entering orders.",
            "entity",
        )


def check_credit_hold(customer: dict[str, Any], currency_symbol: str) -> None:
    """Credit hold: override ON, or AUTO with the open balance above the credit limit."""
    override = (customer.get("creditHoldOverride") or {}).get("id", "AUTO")
    balance, limit = money(customer.get("balance")), customer.get("creditLimit")
    over_limit = limit is not None and balance > money(limit)
    if override == "ON" or (override == "AUTO" and over_limit):
        raise user_error(
            f"Customer {ref_name('customer', customer)} is on credit hold: open balance {balance} "
            f"{currency_symbol} exceeds the credit limit {money(limit)} {currency_symbol}. Collect "
            "payment or have credit control raise the limit, then resubmit the order.",
            "entity",
        )


def resolve_lines(store: RecordStore, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Check each order line's item exists and is active; price it; number the lines."""
    lines = (body.get("item") or {}).get("items", [])
    if not lines:
        raise user_error("You must enter at least one line item for this transaction.", "item")
    priced = []
    for number, line in enumerate(lines, start=1):
        path = f"item.items[{number - 1}].item"
        item_id = ref_id(line, "item")
        found = store.find_family("item", item_id) if item_id else None
        if found is None:
            raise invalid_reference(item_id, path)
        _, item = found
        if item.get("isInactive"):
            raise user_error(
                f"Item {item.get('itemId')} (internal id {item['id']}) on line {number} is inactive and "
                "cannot be sold. Replace it with an active item or ask the item owner to reactivate it.",
                path,
            )
        quantity = Decimal(str(line.get("quantity", 1)))
        rate = money(line["rate"]) if line.get("rate") is not None else money(item.get("basePrice"))
        amount = (quantity * rate).quantize(CENT)
        priced.append(
            {
                **line,
                "line": int(line.get("line", number)),
                "quantity": float(quantity),
                "rate": float(rate),
                "amount": float(amount),
            }
        )
    return priced


def is_item_type(record_type: str) -> bool:
    return record_type in ITEM_TYPES


__all__ = [
    "check_credit_hold",
    "check_currency_for_subsidiary",
    "check_customer",
    "check_customer_may_transact",
    "check_open_period",
    "check_tax_registration",
    "invalid_reference",
    "money",
    "ref_id",
    "require_reference",
    "resolve_lines",
    "user_error",
]
