"""The billing port on the Stripe connector: customers, catalog and subscriptions.

A subscription's *version* is a fingerprint of what billing holds (items, quantities, amounts,
status, scheduled cancellation). Flow 4 compares it with the one remembered after our last write:
a difference means someone changed the subscription in billing, and the amendment is held.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any, cast

import stripe

from syncline.connectors.stripe import StripeBillingSink, classify_stripe_error, lookup_key
from syncline.connectors.stripe.mapping import item_sku
from syncline.contracts import Customer, Price, Product, Subscription, SubscriptionItem
from syncline.flows import BillingSubscriptionAck

LOOKUP_KEYS_PER_REQUEST = 10


def subscription_fingerprint(subscription: dict[str, Any]) -> str:
    """A stable digest of the billing-owned state of a subscription."""
    items = sorted(
        f"{item_sku(item)}:{item.get('quantity')}:{(item.get('price') or {}).get('unit_amount')}"
        for item in subscription["items"]["data"]
    )
    parts = [str(subscription.get("status")), str(bool(subscription.get("cancel_at_period_end"))), *items]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


class StripeBilling:
    """`BillingPort` over the Stripe SDK client and the connector's sink."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client
        self.sink = StripeBillingSink(client)
        self._products_by_sku: dict[str, str] | None = None
        self._products_lock = asyncio.Lock()

    async def upsert_customer(self, transaction_id: str, customer: Customer, billing_id: str | None) -> str:
        return await self.sink.upsert_customer(transaction_id, customer, billing_id)

    async def missing_skus(self, items: Sequence[SubscriptionItem]) -> Sequence[str]:
        """SKUs with no *active* price under the item's lookup key."""
        keys = {
            lookup_key(i.product_sku, i.billing_frequency, i.unit_price.currency): i.product_sku
            for i in items
        }
        ordered = sorted(keys)
        sellable: set[str] = set()
        for start in range(0, len(ordered), LOOKUP_KEYS_PER_REQUEST):
            chunk = ordered[start : start + LOOKUP_KEYS_PER_REQUEST]
            params: Any = {"lookup_keys": chunk, "active": True, "limit": 100}
            page = await self._call(lambda p=params: self.client.v1.prices.list_async(p))
            sellable |= {keys[str(price.lookup_key)] for price in page.data if price.lookup_key in keys}
        return sorted(set(keys.values()) - sellable)

    async def create_subscription(
        self, transaction_id: str, subscription: Subscription, billing_customer_id: str
    ) -> BillingSubscriptionAck:
        written = await self.sink.create_subscription(transaction_id, subscription, billing_customer_id)
        return await self._ack(written.stripe_id)

    async def subscription_version(self, billing_id: str) -> str:
        current = await self._call(lambda: self.client.v1.subscriptions.retrieve_async(billing_id))
        return subscription_fingerprint(current.to_dict())

    async def amend_subscription(
        self, transaction_id: str, billing_id: str, target: Subscription, sequence: int
    ) -> BillingSubscriptionAck:
        written = await self.sink.amend_subscription(transaction_id, billing_id, target, sequence)
        return await self._ack(written.stripe_id)

    async def cancel_subscription(
        self, transaction_id: str, billing_id: str, *, at_period_end: bool
    ) -> BillingSubscriptionAck:
        written = await self.sink.cancel_subscription(transaction_id, billing_id, at_period_end=at_period_end)
        return await self._ack(written.stripe_id)

    async def publish_product(self, transaction_id: str, product: Product, billing_id: str | None) -> str:
        """Link to the product billing already sells under the SKU, else create it."""
        known = billing_id or (await self._existing_products()).get(product.sku)
        stripe_id = await self.sink.upsert_product(transaction_id, product, known)
        if self._products_by_sku is not None:
            self._products_by_sku[product.sku] = stripe_id
        return stripe_id

    async def publish_price(self, transaction_id: str, price: Price, billing_product_id: str) -> str:
        return await self.sink.publish_price(transaction_id, price, billing_product_id)

    async def _existing_products(self) -> dict[str, str]:
        async with self._products_lock:
            return await self._load_products()

    async def _load_products(self) -> dict[str, str]:
        if self._products_by_sku is None:
            found: dict[str, str] = {}
            params: dict[str, Any] = {"limit": 100}
            while True:
                page = await self._call(
                    lambda p=dict(params): self.client.v1.products.list_async(cast(Any, p))
                )
                for item in page.data:
                    sku = (item.to_dict().get("metadata") or {}).get("sku")
                    if sku:
                        found.setdefault(str(sku), str(item.id))
                if not page.has_more or not page.data:
                    break
                params["starting_after"] = page.data[-1].id
            self._products_by_sku = found
        return self._products_by_sku

    async def _ack(self, billing_id: str) -> BillingSubscriptionAck:
        current = await self._call(lambda: self.client.v1.subscriptions.retrieve_async(billing_id))
        data = current.to_dict()
        return BillingSubscriptionAck(billing_id, str(data.get("status")), subscription_fingerprint(data))

    async def _call(self, call: Any) -> Any:
        try:
            return await call()
        except stripe.StripeError as error:
            raise classify_stripe_error(error) from error


__all__ = ["StripeBilling", "subscription_fingerprint"]
