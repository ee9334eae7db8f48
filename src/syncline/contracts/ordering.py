"""The subscription an order's recurring lines make: one rule, for booking and for amendments alike.

Order booking turns an order into the subscription billing runs; a Salesforce amendment order
restates that subscription as it should be after the change. Both must price and shape it the same
way, or an amendment would silently re-price every line it did not mean to touch: items at the
line's discounted unit price, the longest line term, invoiced at the first recurring line's
frequency. One-time lines are invoiced by the ERP and never subscribed.

The discounted price is rounded to the currency's minor unit, or to the list price's own precision
when that is finer: a usage price of EUR 0.0450 per thousand calls stays 0.0450 (rounding it to the
cent billed 0.05, 11% more, and no longer matched the catalog's price).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from syncline.contracts.money import Money, minor_units
from syncline.contracts.order import Order, OrderLine
from syncline.contracts.price import BillingFrequency
from syncline.contracts.subscription import (
    Amendment,
    InvoiceSchedule,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
)


def recurring_lines(order: Order) -> list[OrderLine]:
    """The lines billing subscribes to (all but the one-time ones)."""
    return [line for line in order.lines if line.billing_frequency is not BillingFrequency.ONE_TIME]


def discounted_unit_price(line: OrderLine) -> Money:
    """The line's unit price less its discount, at the currency's or the list price's precision."""
    price = line.unit_price
    exponent = price.amount.as_tuple().exponent
    places = max(minor_units(price.currency), -exponent if isinstance(exponent, int) else 0)
    exact = price.amount * (Decimal(100) - line.discount_percent) / Decimal(100)
    return Money(
        amount=exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), currency=price.currency
    )


def subscription_of_order(
    order: Order,
    *,
    subscription_id: str,
    order_id: str,
    status: SubscriptionStatus,
    updated_at: datetime,
    amendments: Sequence[Amendment] = (),
) -> Subscription | None:
    """The subscription of `order`'s recurring lines; None when it has none."""
    recurring = recurring_lines(order)
    if not recurring:
        return None
    items = tuple(
        SubscriptionItem(
            product_sku=line.product_sku,
            quantity=line.quantity,
            unit_price=discounted_unit_price(line),
            billing_frequency=line.billing_frequency,
        )
        for line in recurring
    )
    return Subscription(
        id=subscription_id,
        customer_id=order.customer_id,
        order_id=order_id,
        status=status,
        currency=order.currency,
        items=items,
        term_months=max(line.term_months or 12 for line in recurring),
        start_date=order.effective_date,
        invoice_schedule=InvoiceSchedule(frequency=recurring[0].billing_frequency),
        amendments=tuple(amendments),
        updated_at=updated_at,
    )


__all__ = ["discounted_unit_price", "recurring_lines", "subscription_of_order"]
