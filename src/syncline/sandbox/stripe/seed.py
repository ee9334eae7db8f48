"""The seeded catalog: products and prices keyed by ERP SKU, with two deliberate mismatches.

Convention (also in docs/sandboxes/stripe.md): a product carries `metadata[sku]=SKU-0001`; each of
its prices has `metadata[sku]` and `lookup_key = "<SKU>:<billing frequency>:<currency>"` with the
canonical frequency names (`SKU-0001:monthly:usd`, `SKU-0001:annual:usd`, `SKU-0005:one_time:usd`).
Catalog flows align ERP items with billing prices by that key.

Deliberate mismatches, so reconciliation has something to find (the NetSuite sandbox's item master
is SKU-0001..SKU-0030 without SKU-0007, SKU-0019, SKU-0026):
- SKU-0007 "Legacy Reporting" exists here but is archived (product and price inactive) and is not in
  the ERP: subscribing to it is rejected the way Stripe rejects inactive catalog entries.
- SKU-0008 is in the ERP item master but absent here (no product, no price).
"""

from __future__ import annotations

from dataclasses import dataclass

from syncline.sandbox.stripe.catalog import new_price, new_product, update_product
from syncline.sandbox.stripe.store import Store


@dataclass(frozen=True)
class SeedPrice:
    interval: str | None
    unit_amount: int
    currency: str = "usd"


@dataclass(frozen=True)
class SeedProduct:
    sku: str
    name: str
    prices: tuple[SeedPrice, ...]
    active: bool = True


CATALOG: tuple[SeedProduct, ...] = (
    SeedProduct("SKU-0001", "Syncline Core Platform", (SeedPrice("month", 4900), SeedPrice("year", 49000))),
    SeedProduct("SKU-0002", "Syncline Pro Platform", (SeedPrice("month", 14900), SeedPrice("year", 149000))),
    SeedProduct("SKU-0003", "Additional Seat", (SeedPrice("month", 1200), SeedPrice("year", 12000))),
    SeedProduct("SKU-0004", "Premium Support", (SeedPrice("month", 29900),)),
    SeedProduct("SKU-0005", "Onboarding Package", (SeedPrice(None, 150000),)),
    SeedProduct("SKU-0006", "Data Connector Add-on", (SeedPrice("month", 7900),)),
    SeedProduct("SKU-0007", "Legacy Reporting", (SeedPrice("month", 1900),), active=False),
)
MISSING_SKUS = ("SKU-0008",)


FREQUENCY = {"month": "monthly", "year": "annual", None: "one_time"}


def lookup_key(sku: str, interval: str | None, currency: str = "usd") -> str:
    return f"{sku}:{FREQUENCY[interval]}:{currency}"


def seed_catalog(store: Store) -> None:
    """Create the catalog through the same code paths as the API (so events exist for it too)."""
    for item in CATALOG:
        product = new_product(store, {"name": item.name, "metadata": {"sku": item.sku}, "type": "service"})
        for seed_price in item.prices:
            params: dict[str, object] = {
                "currency": seed_price.currency,
                "unit_amount": str(seed_price.unit_amount),
                "lookup_key": lookup_key(item.sku, seed_price.interval, seed_price.currency),
                "metadata": {"sku": item.sku},
                "active": "true" if item.active else "false",
            }
            if seed_price.interval:
                params["recurring"] = {"interval": seed_price.interval}
            price = new_price(store, params, product["id"])
            if product["default_price"] is None:
                product["default_price"] = price["id"]
        if not item.active:
            update_product(store, product["id"], {"active": "false"})


__all__ = ["CATALOG", "MISSING_SKUS", "lookup_key", "seed_catalog"]
