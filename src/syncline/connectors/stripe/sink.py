"""Writes to Stripe: customers, catalog, subscriptions (create, amend, cancel).

Every POST carries `Idempotency-Key = idempotency_key(transaction id, step)` (DESIGN.md invariant
3): when the engine retries a step after a timeout, Stripe replays the first answer instead of
creating a second subscription. Every SDK failure leaves here already classified
(`errors.classify_stripe_error`), so the engine decides from the class alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import stripe

from syncline.connectors.stripe.errors import classify_stripe_error
from syncline.connectors.stripe.mapping import (
    AmendmentDirection,
    CatalogPrice,
    ProrationPolicy,
    amendment_params,
    customer_params,
    lookup_key,
    price_money,
    price_params,
    product_params,
    subscription_params,
)
from syncline.contracts import Customer, Price, Product, Subscription, SubscriptionItem
from syncline.logs import get_logger

T = TypeVar("T")
log = get_logger(__name__)
MAX_KEY_LENGTH = 255
LOOKUP_KEYS_PER_REQUEST = 10


def idempotency_key(transaction_id: str, step: str) -> str:
    """The `Idempotency-Key` of one step of one transaction: same inputs, same key, always.

    Readable (`syncline:<transaction>:<step>`) so it can be found in the Stripe dashboard's logs;
    hashed only when that would exceed Stripe's 255 characters.
    """
    if not transaction_id or not step:
        raise ValueError("idempotency_key needs a transaction id and a step name")
    readable = f"syncline:{transaction_id}:{step}"
    if len(readable) <= MAX_KEY_LENGTH:
        return readable
    return "syncline:sha256:" + hashlib.sha256(f"{transaction_id}\x1f{step}".encode()).hexdigest()


@dataclass(frozen=True)
class SubscriptionWrite:
    """What a subscription write left in Stripe: its id, status and latest invoice."""

    stripe_id: str
    status: str
    latest_invoice: str | None
    direction: AmendmentDirection | None = None
    replayed: bool = False
    """True when Stripe answered from its idempotency store: this step had already been done."""


def _params(params: Mapping[str, Any]) -> Any:
    """The SDK types params as TypedDicts; ours are built (and tested) by `mapping`."""
    return cast(Any, dict(params))


class StripeBillingSink:
    """The billing port's Stripe implementation, on the SDK's async methods."""

    def __init__(
        self,
        client: stripe.StripeClient,
        policy: ProrationPolicy | None = None,
        trace_headers: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        """`trace_headers` gives the current W3C `traceparent` (DESIGN.md invariant 8) for every call."""
        self.client = client
        self.policy = policy or ProrationPolicy()
        self.trace_headers = trace_headers or dict

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except stripe.StripeError as error:
            raise classify_stripe_error(error) from error

    def _read_options(self) -> Any:
        """Options of calls without a key (GET, DELETE): only the trace headers."""
        return {"headers": self.trace_headers()}

    async def _write(self, transaction_id: str, step: str, call: Callable[[Any], Awaitable[T]]) -> T:
        """One keyed POST; logs Stripe's Request-Id and whether Stripe replayed an earlier answer."""
        key = idempotency_key(transaction_id, step)
        result = await self._call(lambda: call({"idempotency_key": key, "headers": self.trace_headers()}))
        response = getattr(result, "last_response", None)
        log.info(
            "stripe.write",
            step=step,
            idempotency_key=key,
            stripe_id=getattr(result, "id", None),
            request_id=getattr(response, "request_id", None),
            replayed=_replayed(result),
        )
        return result

    async def upsert_customer(
        self, transaction_id: str, customer: Customer, stripe_id: str | None = None
    ) -> str:
        """Create the customer, or update it when its Stripe id is known."""
        params = _params(customer_params(customer))
        v1 = self.client.v1
        if stripe_id is None:
            created = await self._write(
                transaction_id, "customer.create", lambda o: v1.customers.create_async(params, o)
            )
            return str(created.id)
        updated = await self._write(
            transaction_id, "customer.update", lambda o: v1.customers.update_async(stripe_id, params, o)
        )
        return str(updated.id)

    async def upsert_product(
        self, transaction_id: str, product: Product, stripe_id: str | None = None
    ) -> str:
        params = _params(product_params(product))
        v1 = self.client.v1
        if stripe_id is None:
            created = await self._write(
                transaction_id, f"product.create.{product.sku}", lambda o: v1.products.create_async(params, o)
            )
            return str(created.id)
        updated = await self._write(
            transaction_id,
            f"product.update.{product.sku}",
            lambda o: v1.products.update_async(stripe_id, params, o),
        )
        return str(updated.id)

    async def publish_price(self, transaction_id: str, price: Price, stripe_product_id: str) -> str:
        """A new Stripe price for a pricing version; it takes over the SKU's lookup key."""
        params = _params(price_params(price, stripe_product_id))
        created = await self._write(
            transaction_id,
            f"price.create.{price.id}",
            lambda o: self.client.v1.prices.create_async(params, o),
        )
        return str(created.id)

    async def catalog_for(self, items: Iterable[SubscriptionItem]) -> dict[str, CatalogPrice]:
        """What Stripe has for each item's SKU, found by lookup key (active or not: Stripe decides)."""
        keys = {
            lookup_key(i.product_sku, i.billing_frequency, i.unit_price.currency): i.product_sku
            for i in items
        }
        found: dict[str, CatalogPrice] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), LOOKUP_KEYS_PER_REQUEST):
            chunk = ordered[start : start + LOOKUP_KEYS_PER_REQUEST]
            page = await self._list_prices({"lookup_keys": chunk, "limit": 100})
            for price in page.data:
                amount = price_money(price.to_dict())
                found[keys[str(price.lookup_key)]] = CatalogPrice(price.id, str(price.product), amount)
        return found

    async def _list_prices(self, params: Mapping[str, Any]) -> stripe.ListObject[stripe.Price]:
        options: Any = {"headers": self.trace_headers()}
        return await self._call(lambda: self.client.v1.prices.list_async(_params(params), options))

    async def create_subscription(
        self, transaction_id: str, subscription: Subscription, stripe_customer_id: str
    ) -> SubscriptionWrite:
        catalog = await self.catalog_for(subscription.items)
        params = _params(subscription_params(subscription, stripe_customer_id, catalog))
        created = await self._write(
            transaction_id,
            "subscription.create",
            lambda o: self.client.v1.subscriptions.create_async(params, o),
        )
        return _written(created)

    async def amend_subscription(
        self, transaction_id: str, stripe_subscription_id: str, target: Subscription, amendment_sequence: int
    ) -> SubscriptionWrite:
        """Upsell, downsell or co-termed add-on: the item changes that reach `target`."""
        v1 = self.client.v1
        current = await self._call(
            lambda: v1.subscriptions.retrieve_async(stripe_subscription_id, None, self._read_options())
        )
        catalog = await self.catalog_for(target.items)
        changes, direction = amendment_params(current.to_dict(), target, catalog, self.policy)
        if not changes["items"]:
            # Already at the target: an earlier attempt of this step landed but its answer was lost.
            # Re-sending would reuse the key with other parameters (Stripe: idempotency_error).
            return _written(current, direction)
        params = _params(changes)
        updated = await self._write(
            transaction_id,
            f"subscription.amend.{amendment_sequence}",
            lambda o: v1.subscriptions.update_async(stripe_subscription_id, params, o),
        )
        return _written(updated, direction)

    async def cancel_subscription(
        self, transaction_id: str, stripe_subscription_id: str, *, at_period_end: bool
    ) -> SubscriptionWrite:
        """Cancel now (DELETE, idempotent by nature) or at period end (a keyed POST)."""
        v1 = self.client.v1
        current = await self._call(
            lambda: v1.subscriptions.retrieve_async(stripe_subscription_id, None, self._read_options())
        )
        if current.status in ("canceled", "incomplete_expired"):
            return _written(current)
        if at_period_end:
            params = _params({"cancel_at_period_end": "true"})
            result = await self._write(
                transaction_id,
                "subscription.cancel_at_period_end",
                lambda o: v1.subscriptions.update_async(stripe_subscription_id, params, o),
            )
        else:
            result = await self._call(
                lambda: v1.subscriptions.cancel_async(stripe_subscription_id, None, self._read_options())
            )
        return _written(result)


def _replayed(obj: Any) -> bool:
    response = getattr(obj, "last_response", None)
    headers = getattr(response, "headers", None) or {}
    return str(headers.get("Idempotent-Replayed", "")).lower() == "true"


def _written(sub: stripe.Subscription, direction: AmendmentDirection | None = None) -> SubscriptionWrite:
    return SubscriptionWrite(
        str(sub.id), str(sub.status), _id_of(sub.latest_invoice), direction, replayed=_replayed(sub)
    )


def _id_of(value: Any) -> str | None:
    if value is None:
        return None
    return str(value) if isinstance(value, str) else str(value.id)


__all__ = ["StripeBillingSink", "SubscriptionWrite", "idempotency_key"]
