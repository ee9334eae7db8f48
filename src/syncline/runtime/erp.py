"""The ERP port on the NetSuite connector: customer requests and approvals, sales orders, items.

The customer directory (what identity resolution compares an account with) is read with one SuiteQL
query and cached briefly: a burst of accounts resolves against one read, and our own create requests
invalidate it so the next resolution sees them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from syncline.connectors.netsuite import NetSuiteClient, NetSuiteSink, NetSuiteSource
from syncline.connectors.netsuite.client import quote_literal
from syncline.contracts import Customer, Money, Order, Price, Product
from syncline.contracts.price import BillingFrequency
from syncline.errors import BusinessRejection
from syncline.flows import ErpDecision, ErpOrderAck
from syncline.mdm import CustomerRecord, TaxIdInput, customer_record

SYSTEM = "netsuite"
OWNED_FIELDS = ["terms", "creditLimit", "vatRegNumber", "taxable"]
"""The customer fields NetSuite owns and the CRM shows read-only (ownership.yaml: customer)."""


class NetSuiteErp:
    """`ErpPort` over `NetSuiteClient`."""

    def __init__(self, client: NetSuiteClient, *, directory_ttl_s: float = 5.0) -> None:
        self.client = client
        self.sink = NetSuiteSink(client)
        self.source = NetSuiteSource(client)
        self.directory_ttl_s = directory_ttl_s
        self._directory: tuple[float, list[CustomerRecord]] | None = None

    async def customer_directory(self, *, fresh: bool = False) -> Sequence[CustomerRecord]:
        """Every NetSuite customer with its name, web site and VAT number."""
        now = time.monotonic()
        cached = self._directory is not None and now - self._directory[0] < self.directory_ttl_s
        if cached and not fresh and self._directory is not None:
            return self._directory[1]
        rows = await self.client.suiteql_all("SELECT id, companyname, url, vatregnumber FROM customer")
        records = [
            customer_record(
                SYSTEM,
                str(row["id"]),
                row.get("companyname") or str(row["id"]),
                tax_ids=(TaxIdInput(row["vatregnumber"]),) if row.get("vatregnumber") else (),
                website=row.get("url"),
            )
            for row in rows
        ]
        self._directory = (now, records)
        return records

    async def request_customer(self, customer: Customer) -> str:
        """Create/update by external id; NetSuite starts its approval."""
        outcome = await self.sink.request_customer(customer)
        if self._directory is not None:  # the next resolution must see it, without a full re-read
            self._directory[1].append(
                customer_record(
                    SYSTEM,
                    outcome.internal_id,
                    customer.legal_name,
                    tax_ids=tuple(TaxIdInput(r.number, r.country) for r in customer.tax_registrations),
                    website=customer.web_domain,
                )
            )
        return outcome.internal_id

    async def customer_decision(self, customer_id: str) -> ErpDecision:
        """Approval state of the customer requested under the canonical id."""
        outcome = await self.sink.customer_approval(customer_id)
        if outcome is None:
            return ErpDecision("missing", "")
        return ErpDecision(outcome.state, outcome.internal_id, outcome.reason)

    async def customer_owned_fields(self, erp_id: str) -> Mapping[str, object]:
        """Terms, credit limit and tax attributes of the NetSuite customer, as canonical fields."""
        record = await self.client.get_record("customer", erp_id, fields=OWNED_FIELDS)
        terms = record.get("terms") or {}
        limit = record.get("creditLimit")
        taxable = record.get("taxable")
        return {
            "payment_terms": terms.get("refName") or terms.get("id"),
            "credit_limit": Decimal(str(limit)).quantize(Decimal("0.01")) if limit is not None else None,
            "tax_registrations": record.get("vatRegNumber"),
            "tax_status": None if taxable is None else ("Taxable" if taxable else "Exempt"),
        }

    async def create_sales_order(self, order: Order, customer_erp_id: str) -> ErpOrderAck:
        """Upsert the sales order by the order's external id."""
        ref = await self.sink.create_sales_order(order, customer_internal_id=customer_erp_id)
        return ErpOrderAck(ref.internal_id, ref.tran_id, ref.status)

    async def unavailable_skus(self, skus: Sequence[str]) -> Mapping[str, str]:
        """`inactive` or `unknown` per SKU the item master cannot sell."""
        if not skus:
            return {}
        listed = ", ".join(quote_literal(sku) for sku in skus)
        rows = await self.client.suiteql_all(
            f"SELECT itemid, isinactive FROM item WHERE itemid IN ({listed})"
        )
        found = {row["itemid"]: row.get("isinactive") == "T" for row in rows}
        result = {sku: "unknown" for sku in skus if sku not in found}
        result.update({sku: "inactive" for sku, inactive in found.items() if inactive})
        return result

    async def knows_legal_entity(self, legal_entity: str) -> bool:
        """Whether a subsidiary carries that name."""
        try:
            await self.sink.references.subsidiary_id(legal_entity)
        except BusinessRejection:
            return False
        return True

    async def list_products(self) -> Sequence[Product]:
        """The item master as canonical products."""
        return await self.source.list_products()

    async def list_prices(self, price_book: str, version: str, currency: str = "USD") -> list[Price]:
        """Base prices of active items as one pricing version (monthly, the catalog convention)."""
        rows = await self.client.suiteql_all("SELECT itemid, baseprice, isinactive FROM item")
        prices = []
        now = datetime.now(UTC)
        for row in rows:
            if row.get("isinactive") == "T" or not row.get("baseprice"):
                continue
            prices.append(
                Price(
                    id=f"{row['itemid']}.{currency.lower()}.{version}",
                    price_book=price_book,
                    product_sku=row["itemid"],
                    unit_amount=Money.of(Decimal(row["baseprice"]).quantize(Decimal("0.01")), currency),
                    billing_period=BillingFrequency.MONTHLY,
                    pricing_version=version,
                    effective_from=now.date(),
                    published_at=now,
                )
            )
        return prices


__all__ = ["NetSuiteErp"]
