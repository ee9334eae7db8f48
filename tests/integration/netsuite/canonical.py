"""Canonical customers and orders for connector tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from syncline.contracts import Address, Customer, Money, Order, OrderLine, TaxRegistration, TaxScheme


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def customer(
    *,
    customer_id: str | None = None,
    name: str | None = None,
    country: str = "US",
    legal_entity: str = "Syncline Inc.",
    currency: str = "USD",
    tax: tuple[str, TaxScheme] | None = None,
    with_address: bool = True,
) -> Customer:
    cid = customer_id or unique("cust")
    registrations = (TaxRegistration(country=country, scheme=tax[1], number=tax[0]),) if tax else ()
    return Customer(
        id=cid,
        legal_name=name or f"Test Customer {cid}",
        sold_to=Address(line1="1 Main Street", city="Springfield", country=country) if with_address else None,
        tax_registrations=registrations,
        currency=currency,
        legal_entity=legal_entity,
        web_domain="customer.example",
        updated_at=dt.datetime.now(dt.UTC),
    )


def order(
    customer_id: str,
    *,
    skus: tuple[str, ...] = ("SKU-0001", "SKU-0002"),
    currency: str = "USD",
    legal_entity: str = "Syncline Inc.",
    effective_date: dt.date | None = None,
    **extra: Any,
) -> Order:
    lines = tuple(
        OrderLine(
            line_number=n,
            product_sku=sku,
            quantity="3",
            unit_price=Money.of("100.00", currency),
            discount_percent="10",
            billing_frequency="one_time",
            description=f"line {n}",
        )
        for n, sku in enumerate(skus, start=1)
    )
    oid = unique("ord")
    return Order(
        id=oid,
        number=oid.upper(),
        customer_id=customer_id,
        status="booked",
        currency=currency,
        legal_entity=legal_entity,
        pricing_version="2026.1",
        lines=lines,
        effective_date=effective_date or dt.date.today(),
        booked_at=dt.datetime.now(dt.UTC),
        **extra,
    )
