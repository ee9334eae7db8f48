"""Flow 2 — Product and price catalog: the ERP item master -> CRM products/price book and billing.

product.published -> Product2 (batched into collections of 200 by the CRM adapter) and the billing
product (created, or linked to the one billing already sells under that SKU).
price.published -> the pricing version is recorded (versions are kept, never edited: a quote priced
on an older version is detectable by order booking), the price book entry and a new billing price
that takes over the SKU's lookup key.

The ERP owns the catalog (`selective_field_sync` to CRM and billing): governance filters every write.
Releases run in scheduled windows (`CatalogWindow`); `syncline.runtime` reads the item master at a
release and publishes the events, so each product and price is its own small, replayable saga.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from syncline.contracts import Price, Product
from syncline.engine import Flow, Priority, Step, StepContext
from syncline.errors import TransientError
from syncline.flows.deps import FlowDeps, payload

PRODUCT_PUBLISHED = "syncline.product.published.v1"
PRICE_PUBLISHED = "syncline.price.published.v1"
ERP, BILLING, CRM = "netsuite", "stripe", "salesforce"


@dataclass(frozen=True)
class CatalogWindow:
    """A release window, cron-like: on these ISO weekdays (1 = Monday), between these UTC times."""

    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5, 6, 7})
    start: time = time(0, 0)
    end: time = time(23, 59, 59)

    def is_open(self, moment: datetime) -> bool:
        """Whether a release may run at `moment` (UTC)."""
        clock = moment.time().replace(tzinfo=None)
        return moment.isoweekday() in self.weekdays and self.start <= clock <= self.end


class CatalogFlow:
    """The step of flow 2, for a product or a price."""

    def __init__(self, deps: FlowDeps) -> None:
        self.deps = deps

    async def publish(self, context: StepContext) -> str:
        """Publish the product or price the event carries; returns the billing id."""
        if context.event.type == PRICE_PUBLISHED:
            return await self._price(payload(context, Price), context)
        return await self._product(payload(context, Product), context)

    async def _product(self, product: Product, context: StepContext) -> str:
        fields = {
            "sku": product.sku,
            "name": product.name,
            "description": product.description,
            "family": product.family,
            "active": product.active,
        }
        self.deps.gate.prepare_write("product", CRM, product.id, fields, origin_system=ERP)
        await self.deps.crm.publish_products([product])
        known = await self.deps.system_id("product", product.sku, BILLING)
        billing_id = await self.deps.billing.publish_product(context.transaction_id, product, known)
        if billing_id != known:
            await self.deps.link("product", product.sku, BILLING, billing_id)
        return billing_id

    async def _price(self, price: Price, context: StepContext) -> str:
        self.deps.gate.prepare_write(
            "product",
            CRM,
            price.product_sku,
            {"unit_price": price.unit_amount.amount, "price_version": price.pricing_version},
            origin_system=ERP,
        )
        product_id = await self.deps.system_id("product", price.product_sku, BILLING)
        if product_id is None:
            raise TransientError(
                f"product {price.product_sku} is not published to billing yet",
                system=BILLING,
                code="product_not_published",
            )
        await self.deps.catalog.record_version(price.price_book, price.pricing_version)
        await self.deps.crm.publish_prices([price])
        return await self.deps.billing.publish_price(context.transaction_id, price, product_id)


def catalog_flow(deps: FlowDeps) -> Flow:
    """Flow 2 as an engine saga."""
    steps = CatalogFlow(deps)
    return Flow(
        "catalog",
        1,
        (Step("publish", steps.publish, target_system=BILLING),),
        triggers=(PRODUCT_PUBLISHED, PRICE_PUBLISHED),
        priority=Priority.CATALOG,
    )


__all__ = ["PRICE_PUBLISHED", "PRODUCT_PUBLISHED", "CatalogFlow", "CatalogWindow", "catalog_flow"]
