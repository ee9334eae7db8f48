"""Canonical models ⇄ Salesforce records: Account, Contact, Product2, PricebookEntry, Quote and Order.

Salesforce knows less than the canonical model (no legal entity, no pricing version, no billing
frequency on a standard org), so what it cannot say comes from custom fields when the org has them
(table in docs/connectors/salesforce.md) and otherwise from `MappingDefaults`, never from a guess made
per record. Numbers arrive as `Decimal` (the client parses JSON floats as decimals) and leave as exact
JSON numbers. A record that cannot become a valid canonical model raises `ContractViolation` naming
the record and the rule, so the dead letter explains itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from syncline.connectors.salesforce.values import parse_salesforce_datetime
from syncline.contracts import (
    Address,
    BillingFrequency,
    Contact,
    Customer,
    CustomerLifecycle,
    Money,
    Order,
    OrderStatus,
    Price,
    Product,
    Quote,
    QuoteStatus,
    RevenueClass,
)
from syncline.errors import ContractViolation

SYSTEM = "salesforce"
EXTERNAL_ID = "Syncline_Id__c"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class MappingDefaults:
    """What a standard Salesforce org cannot tell us, set once per installation."""

    legal_entity: str = "default"
    currency: str = "USD"
    pricing_version: str = "1"
    price_book: str = "Standard Price Book"
    revenue_class: RevenueClass = RevenueClass.SUBSCRIPTION
    billing_frequency: BillingFrequency = BillingFrequency.ANNUAL
    term_months: int = 12


QUOTE_STATUS = {
    "Draft": QuoteStatus.DRAFT,
    "Needs Review": QuoteStatus.IN_REVIEW,
    "In Review": QuoteStatus.IN_REVIEW,
    "Approved": QuoteStatus.APPROVED,
    "Presented": QuoteStatus.APPROVED,
    "Rejected": QuoteStatus.REJECTED,
    "Denied": QuoteStatus.REJECTED,
    "Accepted": QuoteStatus.ACCEPTED,
}
ORDER_STATUS = {
    "Draft": OrderStatus.DRAFT,
    "Activated": OrderStatus.BOOKED,
    "Cancelled": OrderStatus.CANCELLED,
}


def _build(
    model: type[M], sobject: str, record: Mapping[str, Any], values: dict[str, Any], part: str = ""
) -> M:
    """Validate a canonical model; a refusal names the Salesforce record (and part) it came from."""
    try:
        return model.model_validate(values)
    except ValueError as exc:
        where = f" {part}" if part else ""
        raise ContractViolation(
            f"{sobject} {record.get('Id', '?')}{where} does not make a valid {model.__name__}: {exc}",
            system=SYSTEM,
            code="MAPPING_FAILED",
        ) from exc


def _text(record: Mapping[str, Any], field: str) -> str | None:
    value = record.get(field)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(str(value))


def _modified_at(record: Mapping[str, Any]) -> Any:
    stamp = record.get("SystemModstamp") or record.get("LastModifiedDate")
    return parse_salesforce_datetime(str(stamp)) if stamp else None


def _external_ids(record: Mapping[str, Any], extra: Mapping[str, str]) -> dict[str, str]:
    """`salesforce` -> record Id plus other systems' ids that the org keeps in custom fields."""
    ids = {SYSTEM: str(record["Id"])} if record.get("Id") else {}
    for system, field in extra.items():
        value = _text(record, field)
        if value:
            ids[system] = value
    return ids


def address_from(record: Mapping[str, Any], prefix: str, sobject: str = "Account") -> Address | None:
    """`BillingStreet/City/StateCode/PostalCode/CountryCode` (or Shipping/Mailing) as an Address."""
    street = _text(record, f"{prefix}Street")
    city = _text(record, f"{prefix}City")
    country = _text(record, f"{prefix}CountryCode") or _text(record, f"{prefix}Country")
    if not (street and city and country):
        return None
    line1, _, line2 = street.partition("\n")
    values = {
        "line1": line1.strip(),
        "line2": line2.strip() or None,
        "city": city,
        "region": _text(record, f"{prefix}StateCode") or _text(record, f"{prefix}State"),
        "postal_code": _text(record, f"{prefix}PostalCode"),
        "country": country.upper() if len(country) == 2 else country,
    }
    return _build(Address, sobject, record, values, part=f"{prefix.lower()} address")


def address_fields(address: Address | None, prefix: str) -> dict[str, Any]:
    """An Address as Salesforce compound-address fields (country and state as codes)."""
    if address is None:
        return {}
    street = address.line1 if not address.line2 else f"{address.line1}\n{address.line2}"
    return {
        f"{prefix}Street": street,
        f"{prefix}City": address.city,
        f"{prefix}State": address.region,
        f"{prefix}PostalCode": address.postal_code,
        f"{prefix}Country": address.country,
    }


def web_domain(website: str | None) -> str | None:
    """`https://www.Example.com/about` -> `example.com` (identity resolution matches on domains)."""
    if not website:
        return None
    host = re.sub(r"^[a-z]+://", "", website.strip().lower()).split("/")[0].split(":")[0]
    host = host.removeprefix("www.")
    return host if "." in host else None


SYNC_STATUSES = ("Pending", "Synced", "Error", "Rejected")
"""Values of the `Sync_Status__c` picklist on Account and Order."""


def lifecycle_from_sync_status(status: str | None, erp_customer_id: str | None) -> CustomerLifecycle:
    """Synced with an ERP id means the ERP approved the customer; Pending means submitted."""
    if status == "Synced" and erp_customer_id:
        return CustomerLifecycle.ACTIVE
    if status == "Pending":
        return CustomerLifecycle.PENDING
    return CustomerLifecycle.PROSPECT


def _sync_status(status: str) -> str:
    if status not in SYNC_STATUSES:
        raise ValueError(f"Sync_Status__c must be one of {', '.join(SYNC_STATUSES)}, not {status!r}")
    return status


def customer_writeback(
    customer_id: str,
    *,
    status: str,
    erp_customer_id: str | None = None,
    billing_customer_id: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """Account fields Syncline owns: downstream ids, sync status and the reason of a rejection."""
    fields: dict[str, Any] = {
        EXTERNAL_ID: customer_id,
        "Sync_Status__c": _sync_status(status),
        "Sync_Error__c": error,
    }
    if erp_customer_id:
        fields["ERP_Customer_Id__c"] = erp_customer_id
    if billing_customer_id:
        fields["Billing_Customer_Id__c"] = billing_customer_id
    return fields


# --- Account <-> Customer -------------------------------------------------------------------------


def account_to_customer(
    record: Mapping[str, Any],
    *,
    customer_id: str,
    defaults: MappingDefaults,
    parent_id: str | None = None,
) -> Customer:
    """An Account as a canonical Customer; billing address is the sold-to address."""
    sold_to = address_from(record, "Billing") or address_from(record, "Shipping")
    lifecycle = lifecycle_from_sync_status(
        _text(record, "Sync_Status__c"), _text(record, "ERP_Customer_Id__c")
    )
    values = {
        "id": customer_id,
        "legal_name": _text(record, "Name"),
        "parent_id": parent_id,
        "sold_to": sold_to,
        "bill_to": address_from(record, "Billing"),
        "ship_to": address_from(record, "Shipping"),
        "currency": _text(record, "CurrencyIsoCode") or defaults.currency,
        "legal_entity": _text(record, "Legal_Entity__c") or defaults.legal_entity,
        "web_domain": web_domain(_text(record, "Website")),
        "lifecycle": lifecycle,
        "external_ids": _external_ids(
            record, {"netsuite": "ERP_Customer_Id__c", "stripe": "Billing_Customer_Id__c"}
        ),
        "updated_at": _modified_at(record),
    }
    return _build(Customer, "Account", record, values)


def customer_to_account(customer: Customer) -> dict[str, Any]:
    """A Customer as Account fields for upsert by `Syncline_Id__c` (the ERP-owned ids included)."""
    fields: dict[str, Any] = {
        EXTERNAL_ID: customer.id,
        "Name": customer.legal_name,
        **address_fields(customer.bill_to or customer.sold_to, "Billing"),
        **address_fields(customer.ship_to, "Shipping"),
    }
    if customer.web_domain:
        fields["Website"] = customer.web_domain
    if "netsuite" in customer.external_ids:
        fields["ERP_Customer_Id__c"] = customer.external_ids["netsuite"]
    if "stripe" in customer.external_ids:
        fields["Billing_Customer_Id__c"] = customer.external_ids["stripe"]
    return fields


# --- Contact ----------------------------------------------------------------------------------------


def contact_from_record(record: Mapping[str, Any], *, contact_id: str, customer_id: str) -> Contact:
    """A Salesforce Contact as a canonical Contact."""
    values = {
        "id": contact_id,
        "customer_id": customer_id,
        "first_name": _text(record, "FirstName"),
        "last_name": _text(record, "LastName"),
        "email": _text(record, "Email"),
        "phone": _text(record, "Phone"),
        "title": _text(record, "Title"),
        "external_ids": _external_ids(record, {}),
        "updated_at": _modified_at(record),
    }
    return _build(Contact, "Contact", record, values)


def contact_to_record(contact: Contact) -> dict[str, Any]:
    """A Contact as Salesforce fields; the account is referenced by its external id, no lookup needed."""
    return {
        EXTERNAL_ID: contact.id,
        "FirstName": contact.first_name,
        "LastName": contact.last_name,
        "Email": contact.email,
        "Phone": contact.phone,
        "Title": contact.title,
        "Account": {EXTERNAL_ID: contact.customer_id},
    }


# --- Product2 and PricebookEntry -------------------------------------------------------------------


def product2_to_product(record: Mapping[str, Any], *, product_id: str, defaults: MappingDefaults) -> Product:
    """A Product2 as a canonical Product; `ProductCode` is the shared SKU."""
    revenue = _text(record, "Revenue_Class__c")
    values = {
        "id": product_id,
        "sku": _text(record, "ProductCode"),
        "name": _text(record, "Name"),
        "description": _text(record, "Description"),
        "family": _text(record, "Family") or "General",
        "active": bool(record.get("IsActive", True)),
        "revenue_class": revenue if revenue in set(RevenueClass) else defaults.revenue_class,
        "unit_of_measure": _text(record, "QuantityUnitOfMeasure") or "each",
        "external_ids": _external_ids(record, {}),
        "updated_at": _modified_at(record),
    }
    return _build(Product, "Product2", record, values)


def product_to_product2(product: Product) -> dict[str, Any]:
    """A Product as Product2 fields for upsert by `Syncline_Id__c`."""
    return {
        EXTERNAL_ID: product.id,
        "Name": product.name,
        "ProductCode": product.sku,
        "Description": product.description,
        "Family": product.family,
        "IsActive": product.active,
        "QuantityUnitOfMeasure": product.unit_of_measure,
    }


def pricebook_entry_to_price(record: Mapping[str, Any], *, price_id: str, defaults: MappingDefaults) -> Price:
    """A PricebookEntry as a canonical Price (SKU and price book read through relationships)."""
    product = record.get("Product2") or {}
    book = record.get("Pricebook2") or {}
    currency = _text(record, "CurrencyIsoCode") or defaults.currency
    modified = _modified_at(record)
    values = {
        "id": price_id,
        "price_book": _text(book, "Name") or defaults.price_book,
        "product_sku": _text(record, "ProductCode") or _text(product, "ProductCode"),
        "unit_amount": Money(amount=_decimal(record.get("UnitPrice")), currency=currency),
        "billing_period": defaults.billing_frequency,
        "pricing_version": _text(record, "Pricing_Version__c") or defaults.pricing_version,
        "effective_from": modified.date() if modified else date.today(),
        "active": bool(record.get("IsActive", True)),
        "external_ids": _external_ids(record, {}),
        "published_at": modified,
    }
    return _build(Price, "PricebookEntry", record, values)


def price_to_pricebook_entry(price: Price, *, pricebook2_id: str, product2_id: str) -> dict[str, Any]:
    """A Price as PricebookEntry fields. Entries are unique per (pricebook, product, currency) and
    have no external id of ours, so the caller resolves both ids first."""
    return {
        "Pricebook2Id": pricebook2_id,
        "Product2Id": product2_id,
        "UnitPrice": price.unit_amount.amount,
        "IsActive": price.active,
        "CurrencyIsoCode": price.unit_amount.currency,
    }


# --- Quote / Order with lines -----------------------------------------------------------------------


def _line_values(
    item: Mapping[str, Any], index: int, currency: str, defaults: MappingDefaults
) -> dict[str, Any]:
    product = item.get("Product2") or item.get("PricebookEntry", {}).get("Product2") or {}
    frequency = _text(item, "Billing_Frequency__c") or defaults.billing_frequency
    term = item.get("Term_Months__c")
    recurring = frequency != BillingFrequency.ONE_TIME
    return {
        "line_number": int(item.get("SortOrder") or item.get("LineNumber") or index),
        "product_sku": _text(item, "ProductCode") or _text(product, "ProductCode"),
        "description": _text(item, "Description"),
        "quantity": _decimal(item.get("Quantity")),
        "unit_price": Money(amount=_decimal(item.get("UnitPrice")), currency=currency),
        "discount_percent": _decimal(item.get("Discount") or 0),
        "term_months": int(term) if term else (defaults.term_months if recurring else None),
        "start_date": item.get("ServiceDate"),
        "end_date": item.get("EndDate"),
        "billing_frequency": frequency,
    }


def quote_to_quote(
    record: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    *,
    quote_id: str,
    customer_id: str,
    defaults: MappingDefaults,
    opportunity_id: str | None = None,
) -> Quote:
    """A Quote and its QuoteLineItems as a canonical Quote."""
    currency = _text(record, "CurrencyIsoCode") or defaults.currency
    status = QUOTE_STATUS.get(_text(record, "Status") or "Draft", QuoteStatus.DRAFT)
    values = {
        "id": quote_id,
        "number": _text(record, "QuoteNumber") or str(record.get("Id")),
        "customer_id": customer_id,
        "opportunity_id": opportunity_id,
        "status": status,
        "currency": currency,
        "price_book": _text(record.get("Pricebook2") or {}, "Name") or defaults.price_book,
        "pricing_version": _text(record, "Pricing_Version__c") or defaults.pricing_version,
        "lines": [_line_values(item, i, currency, defaults) for i, item in enumerate(items, 1)],
        "valid_until": record.get("ExpirationDate"),
        "approved_at": _modified_at(record) if status is QuoteStatus.APPROVED else None,
        "external_ids": _external_ids(record, {}),
    }
    return _build(Quote, "Quote", record, values)


def order_to_order(
    record: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    *,
    order_id: str,
    customer_id: str,
    defaults: MappingDefaults,
    quote_id: str | None = None,
) -> Order:
    """An Order and its OrderItems as a canonical Order (Activated means booked)."""
    currency = _text(record, "CurrencyIsoCode") or defaults.currency
    activated = record.get("ActivatedDate")
    values = {
        "id": order_id,
        "number": _text(record, "OrderNumber") or str(record.get("Id")),
        "customer_id": customer_id,
        "quote_id": quote_id,
        "status": ORDER_STATUS.get(_text(record, "Status") or "Draft", OrderStatus.DRAFT),
        "currency": currency,
        "legal_entity": _text(record, "Legal_Entity__c") or defaults.legal_entity,
        "pricing_version": _text(record, "Pricing_Version__c") or defaults.pricing_version,
        "po_number": _text(record, "PoNumber"),
        "bill_to": address_from(record, "Billing", "Order"),
        "ship_to": address_from(record, "Shipping", "Order"),
        "lines": [_line_values(item, i, currency, defaults) for i, item in enumerate(items, 1)],
        "effective_date": record.get("EffectiveDate"),
        "booked_at": parse_salesforce_datetime(str(activated)) if activated else _modified_at(record),
        "external_ids": _external_ids(
            record, {"netsuite": "ERP_Order_Id__c", "stripe": "Billing_Subscription_Id__c"}
        ),
    }
    return _build(Order, "Order", record, values)


def order_writeback(
    order_id: str,
    *,
    status: str,
    erp_order_id: str | None = None,
    billing_subscription_id: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """Order fields Syncline owns: downstream ids, sync status and the reason of a rejection."""
    fields: dict[str, Any] = {
        EXTERNAL_ID: order_id,
        "Sync_Status__c": _sync_status(status),
        "Sync_Error__c": error,
    }
    if erp_order_id:
        fields["ERP_Order_Id__c"] = erp_order_id
    if billing_subscription_id:
        fields["Billing_Subscription_Id__c"] = billing_subscription_id
    return fields


CanonicalIdFor = Callable[[str, Mapping[str, Any]], str]
"""(sObject, record) -> canonical id; mdm supplies the real one, `default_canonical_id` is the fallback."""


def default_canonical_id(sobject: str, record: Mapping[str, Any]) -> str:
    """`Syncline_Id__c` when the record has one, else `salesforce.<Id>` until mdm assigns an id."""
    return _text(record, EXTERNAL_ID) or f"salesforce.{record['Id']}"


__all__ = [
    "EXTERNAL_ID",
    "ORDER_STATUS",
    "QUOTE_STATUS",
    "SYNC_STATUSES",
    "CanonicalIdFor",
    "MappingDefaults",
    "account_to_customer",
    "address_fields",
    "address_from",
    "contact_from_record",
    "contact_to_record",
    "customer_to_account",
    "customer_writeback",
    "default_canonical_id",
    "lifecycle_from_sync_status",
    "order_to_order",
    "order_writeback",
    "price_to_pricebook_entry",
    "pricebook_entry_to_price",
    "product2_to_product",
    "product_to_product2",
    "quote_to_quote",
    "web_domain",
]
