"""Canonical models <-> Stripe parameters and objects. Pure functions: no I/O, no clock.

Conventions (docs/connectors/stripe.md):
- Every object we create carries `metadata[syncline_id]` (the canonical id) plus the other systems'
  ids (`metadata[ext_<system>]`), so a Stripe object maps back without a lookup table.
- A price's `lookup_key` is `<SKU>:<billing frequency>:<currency>` (e.g. `SKU-0001:monthly:usd`);
  a new pricing version takes the key over with `transfer_lookup_key=true`.
- A subscription item carries `metadata[sku]`, which is how amendments find the item of a SKU.
- Amounts cross as integers in the currency's minor units; sub-minor unit prices use
  `unit_amount_decimal`. Currencies are upper case in Syncline, lower case on the Stripe wire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel

from syncline.contracts import (
    Address,
    BillingFrequency,
    Customer,
    Invoice,
    InvoiceStatus,
    Money,
    Payment,
    PaymentMethodType,
    PaymentStatus,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    SubscriptionStatus,
    minor_units,
)
from syncline.errors import BusinessRejection, ContractViolation

SYSTEM = "stripe"
M = TypeVar("M", bound=BaseModel)
RECURRING: Mapping[BillingFrequency, tuple[str, int]] = {
    BillingFrequency.MONTHLY: ("month", 1),
    BillingFrequency.QUARTERLY: ("month", 3),
    BillingFrequency.SEMIANNUAL: ("month", 6),
    BillingFrequency.ANNUAL: ("year", 1),
}
SUBSCRIPTION_STATUS: Mapping[str, SubscriptionStatus] = {
    "incomplete": SubscriptionStatus.PENDING,
    "trialing": SubscriptionStatus.ACTIVE,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAUSED,
    "canceled": SubscriptionStatus.CANCELLED,
    "incomplete_expired": SubscriptionStatus.EXPIRED,
}


# money and metadata ------------------------------------------------------------------------------


def to_minor(money: Money) -> int:
    """An amount in minor units; refuses amounts finer than the currency allows (use a decimal field)."""
    scaled = minor_of(money)
    if scaled != scaled.to_integral_value():
        raise ContractViolation(f"{money} has more digits than {money.currency} minor units", system=SYSTEM)
    return int(scaled)


def minor_of(money: Money) -> Decimal:
    """An amount in minor units, exactly (a sub-cent price keeps its fraction)."""
    return money.amount.scaleb(minor_units(money.currency))


def price_minor(price: Mapping[str, Any]) -> Decimal:
    """A Stripe price's unit amount in minor units, sub-cent precision included: `unit_amount` is
    null for a fractional price, `unit_amount_decimal` always carries the amount."""
    decimal = price.get("unit_amount_decimal")
    return Decimal(str(decimal if decimal is not None else price["unit_amount"]))


def price_money(price: Mapping[str, Any]) -> Money:
    """A Stripe price's unit amount as canonical money."""
    currency = str(price["currency"]).upper()
    return Money.of(price_minor(price).scaleb(-minor_units(currency)), currency)


def from_minor(amount: int, currency: str) -> Money:
    upper = currency.upper()
    return Money.of(Decimal(amount).scaleb(-minor_units(upper)), upper)


def _unit_amount_fields(money: Money) -> dict[str, str]:
    scaled = money.amount.scaleb(minor_units(money.currency))
    if scaled == scaled.to_integral_value():
        return {"unit_amount": str(int(scaled))}
    return {"unit_amount_decimal": format(scaled.normalize(), "f")}


def identity_metadata(canonical_id: str, external_ids: Mapping[str, str]) -> dict[str, str]:
    """`syncline_id` plus `ext_<system>` for every other system's id (Stripe's own is the object id)."""
    metadata = {"syncline_id": canonical_id}
    for system, value in sorted(external_ids.items()):
        if system != SYSTEM:
            metadata[f"ext_{system}"[:40]] = value[:500]
    return metadata


def canonical_id_from(obj: Mapping[str, Any]) -> str:
    """The canonical id stored on a Stripe object, or a stable stand-in (`stripe:<id>`) mdm can adopt."""
    metadata = obj.get("metadata") or {}
    return str(metadata.get("syncline_id") or f"{SYSTEM}:{obj['id']}")


# canonical -> Stripe parameters ------------------------------------------------------------------


def _address(address: Address | None) -> dict[str, str] | None:
    if address is None:
        return None
    fields = {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.region,
        "postal_code": address.postal_code,
        "country": address.country,
    }
    return {k: v for k, v in fields.items() if v}


def customer_params(customer: Customer) -> dict[str, Any]:
    params: dict[str, Any] = {
        "name": customer.display_name or customer.legal_name,
        "description": customer.legal_name,
        "metadata": {
            **identity_metadata(customer.id, customer.external_ids),
            "legal_entity": customer.legal_entity,
            "currency": customer.currency,
        },
    }
    address = _address(customer.bill_to)
    if address:
        params["address"] = address
    return params


def product_params(product: Product) -> dict[str, Any]:
    params: dict[str, Any] = {
        "name": product.name,
        "active": "true" if product.active else "false",
        "metadata": {**identity_metadata(product.id, product.external_ids), "sku": product.sku},
    }
    if product.description:
        params["description"] = product.description
    return params


def lookup_key(sku: str, frequency: BillingFrequency, currency: str) -> str:
    """`SKU-0001:monthly:usd`: the catalog join key between ERP items and Stripe prices."""
    return f"{sku}:{frequency.value}:{currency.lower()}"


def _recurring(frequency: BillingFrequency) -> dict[str, str] | None:
    if frequency is BillingFrequency.ONE_TIME:
        return None
    interval, count = RECURRING[frequency]
    return {"interval": interval, "interval_count": str(count)}


def price_params(price: Price, stripe_product_id: str) -> dict[str, Any]:
    if price.usage_metric is not None:
        raise BusinessRejection(
            f"price {price.id} is usage-based ({price.usage_metric}); "
            "metered billing is not mapped to Stripe",
            reason_code="UNSUPPORTED_PRICE",
            system=SYSTEM,
        )
    params: dict[str, Any] = {
        "product": stripe_product_id,
        "currency": price.currency.lower(),
        **_unit_amount_fields(price.unit_amount),
        "lookup_key": lookup_key(price.product_sku, price.billing_period, price.currency),
        "transfer_lookup_key": "true",
        "active": "true" if price.active else "false",
        "nickname": f"{price.price_book} {price.pricing_version}"[:255],
        "metadata": {
            **identity_metadata(price.id, price.external_ids),
            "sku": price.product_sku,
            "price_book": price.price_book,
            "pricing_version": price.pricing_version,
        },
    }
    recurring = _recurring(price.billing_period)
    if recurring:
        params["recurring"] = recurring
    return params


@dataclass(frozen=True)
class CatalogPrice:
    """What the sink found in Stripe for one SKU: the price and its product."""

    price_id: str
    product_id: str
    unit_amount: Money


def _quantity(item: SubscriptionItem) -> str:
    if item.quantity != item.quantity.to_integral_value():
        raise BusinessRejection(
            f"{item.product_sku}: Stripe quantities are whole numbers, got {item.quantity}",
            reason_code="FRACTIONAL_QUANTITY",
            system=SYSTEM,
        )
    return str(int(item.quantity))


def item_params(item: SubscriptionItem, catalog: CatalogPrice) -> dict[str, Any]:
    """The catalog price when the amounts agree; otherwise an inline negotiated price on its product."""
    params: dict[str, Any] = {"quantity": _quantity(item), "metadata": {"sku": item.product_sku}}
    if catalog.unit_amount == item.unit_price:
        params["price"] = catalog.price_id
        return params
    data: dict[str, Any] = {
        "product": catalog.product_id,
        "currency": item.unit_price.currency.lower(),
        **_unit_amount_fields(item.unit_price),
    }
    recurring = _recurring(item.billing_frequency)
    if recurring is None:
        raise BusinessRejection(
            f"{item.product_sku} is a one-time charge and cannot be a subscription item",
            reason_code="PRICE_NOT_RECURRING",
            system=SYSTEM,
        )
    data["recurring"] = recurring
    params["price_data"] = data
    return params


def _catalog_for(item: SubscriptionItem, catalog: Mapping[str, CatalogPrice]) -> CatalogPrice:
    found = catalog.get(item.product_sku)
    if found is None:
        raise BusinessRejection(
            f"no Stripe price for {item.product_sku} "
            f"({lookup_key(item.product_sku, item.billing_frequency, item.unit_price.currency)})",
            reason_code="MISSING_PRICE",
            system=SYSTEM,
        )
    return found


def subscription_params(
    subscription: Subscription, stripe_customer_id: str, catalog: Mapping[str, CatalogPrice]
) -> dict[str, Any]:
    """Create parameters; `catalog` maps each SKU to what Stripe has for it."""
    params: dict[str, Any] = {
        "customer": stripe_customer_id,
        "items": [item_params(item, _catalog_for(item, catalog)) for item in subscription.items],
        "payment_behavior": "allow_incomplete",
        "metadata": _subscription_metadata(subscription),
    }
    if subscription.end_date is not None and not subscription.auto_renew:
        params["cancel_at"] = str(
            int(datetime.combine(subscription.end_date, datetime.min.time(), UTC).timestamp())
        )
    return params


def _subscription_metadata(subscription: Subscription) -> dict[str, str]:
    metadata = identity_metadata(subscription.id, subscription.external_ids)
    if subscription.order_id:
        metadata["order_id"] = subscription.order_id
    metadata["customer_id"] = subscription.customer_id
    metadata["term_months"] = str(subscription.term_months)
    return metadata


class AmendmentDirection(StrEnum):
    """Whether an amendment raises or lowers the recurring amount; decides proration."""

    UPSELL = "upsell"
    DOWNSELL = "downsell"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class ProrationPolicy:
    """Upsells are invoiced now; downsells become a credit on the next invoice (a common B2B rule)."""

    upsell: str = "always_invoice"
    downsell: str = "create_prorations"
    neutral: str = "none"

    def for_direction(self, direction: AmendmentDirection) -> str:
        return {"upsell": self.upsell, "downsell": self.downsell, "neutral": self.neutral}[direction.value]


def item_sku(item: Mapping[str, Any]) -> str | None:
    """The SKU of a Stripe subscription item: item metadata, else price metadata, else lookup key."""
    price = item.get("price") or {}
    sku = (item.get("metadata") or {}).get("sku") or (price.get("metadata") or {}).get("sku")
    if sku:
        return str(sku)
    key = price.get("lookup_key")
    return str(key).split(":", 1)[0] if key else None


def _recurring_value(items: Sequence[tuple[Decimal, int]]) -> Decimal:
    return sum((amount * quantity for amount, quantity in items), Decimal(0))


def amendment_params(
    current: Mapping[str, Any],
    target: Subscription,
    catalog: Mapping[str, CatalogPrice],
    policy: ProrationPolicy = ProrationPolicy(),
) -> tuple[dict[str, Any], AmendmentDirection]:
    """Item changes taking the Stripe subscription `current` to `target`, and their direction.

    Same SKU with another quantity or amount -> the item is updated in place (upsell/downsell);
    a new SKU -> a new item, co-termed with the subscription's current period; a SKU no longer in
    the target -> the item is deleted.
    """
    existing = {item_sku(item): item for item in current["items"]["data"]}
    changes: list[dict[str, Any]] = []
    before = [(price_minor(i["price"]), int(i["quantity"])) for i in current["items"]["data"]]
    after: list[tuple[Decimal, int]] = []
    for item in target.items:
        wanted = item_params(item, _catalog_for(item, catalog))
        after.append((minor_of(item.unit_price), int(wanted["quantity"])))
        found = existing.pop(item.product_sku, None)
        if found is None:
            changes.append(wanted)
            continue
        change: dict[str, Any] = {"id": found["id"]}
        if str(found["quantity"]) != wanted["quantity"]:
            change["quantity"] = wanted["quantity"]
        if price_minor(found["price"]) != minor_of(item.unit_price):
            change.update({k: v for k, v in wanted.items() if k in ("price", "price_data")})
        if len(change) > 1:
            changes.append(change)
    changes += [{"id": item["id"], "deleted": "true"} for item in existing.values()]
    old, new = _recurring_value(before), _recurring_value(after)
    direction = (
        AmendmentDirection.UPSELL
        if new > old
        else AmendmentDirection.DOWNSELL
        if new < old
        else AmendmentDirection.NEUTRAL
    )
    params: dict[str, Any] = {
        "items": changes,
        "proration_behavior": policy.for_direction(direction),
        "metadata": _subscription_metadata(target),
    }
    return params, direction


# Stripe -> canonical ---------------------------------------------------------------------------


def _date(ts: int | None) -> date | None:
    return datetime.fromtimestamp(ts, UTC).date() if ts else None


def _datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


INVOICE_STATUS: Mapping[str, InvoiceStatus] = {
    "draft": InvoiceStatus.DRAFT,
    "open": InvoiceStatus.POSTED,
    "paid": InvoiceStatus.PAID,
    "void": InvoiceStatus.VOID,
    "uncollectible": InvoiceStatus.UNCOLLECTIBLE,
}


def _invoice_status(invoice: Mapping[str, Any], amount_paid: int) -> InvoiceStatus:
    status = INVOICE_STATUS[str(invoice["status"])]
    if status is InvoiceStatus.POSTED and amount_paid > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return status


def _line(
    index: int, line: Mapping[str, Any], currency: str, sku_by_price: Mapping[str, str]
) -> dict[str, Any]:
    pricing = line.get("pricing") or {}
    price_id = (pricing.get("price_details") or {}).get("price")
    unit = Decimal(str(pricing.get("unit_amount_decimal") or line["amount"]))
    period = line.get("period") or {}
    return {
        "line_number": index + 1,
        "description": str(line.get("description") or "Stripe invoice line")[:255],
        "product_sku": sku_by_price.get(str(price_id)) if price_id else None,
        "quantity": Decimal(int(line.get("quantity") or 1)),
        "unit_price": Money.of(unit.scaleb(-minor_units(currency)), currency),
        "amount": from_minor(int(line["amount"]), currency),
        "period_start": _date(period.get("start")),
        "period_end": _date(period.get("end")),
    }


def invoice_from_stripe(
    invoice: Mapping[str, Any], *, customer_id: str, sku_by_price: Mapping[str, str]
) -> Invoice:
    """A finalised Stripe invoice, with ALL its lines, as the canonical `Invoice` (`invoice.posted`).

    Totals are Stripe's own (`subtotal`, `total_taxes`, `total`); the canonical model re-checks that
    the lines add up, so a truncated line list or an unmapped discount is caught, never posted.
    """
    if invoice.get("status") == "draft" or not invoice.get("number"):
        raise ContractViolation(f"invoice {invoice.get('id')} is a draft; only finalised invoices are posted")
    if invoice["lines"].get("has_more"):
        raise ContractViolation(f"invoice {invoice['id']} has more lines than given; fetch them all first")
    currency = str(invoice["currency"]).upper()
    total = int(invoice["total"])
    void = invoice["status"] == "void"
    paid = int(invoice["amount_paid"]) if void else total - int(invoice["amount_remaining"])
    transitions = invoice.get("status_transitions") or {}
    finalized_at = transitions.get("finalized_at") or invoice["created"]
    parent = invoice.get("parent") or {}
    sub_meta = (parent.get("subscription_details") or {}).get("metadata") or {}
    sub_stripe_id = (parent.get("subscription_details") or {}).get("subscription")
    issue = _date(finalized_at) or _date(invoice["created"])
    document = {
        "id": f"{SYSTEM}:{invoice['id']}",
        "number": invoice["number"],
        "customer_id": customer_id,
        "subscription_id": sub_meta.get("syncline_id")
        or (f"{SYSTEM}:{sub_stripe_id}" if sub_stripe_id else None),
        "order_id": sub_meta.get("order_id"),
        "status": _invoice_status(invoice, 0 if void else paid),
        "currency": currency,
        "lines": [_line(i, ln, currency, sku_by_price) for i, ln in enumerate(invoice["lines"]["data"])],
        "subtotal": from_minor(int(invoice["subtotal"]), currency),
        "tax": from_minor(sum(int(t.get("amount", 0)) for t in invoice.get("total_taxes") or []), currency),
        "total": from_minor(total, currency),
        "amount_paid": from_minor(paid, currency),
        "balance": from_minor(total - paid, currency),
        "issue_date": issue,
        "due_date": _date(invoice.get("due_date")) or issue,
        "posted_at": _datetime(int(finalized_at)),
        "external_ids": {SYSTEM: invoice["id"]},
    }
    return _validated(Invoice, document, f"invoice {invoice['id']}")


def _validated(model: type[M], document: dict[str, Any], what: str) -> M:
    """The canonical model, or a ContractViolation naming every broken rule (dead-lettered)."""
    try:
        return model.model_validate(document)
    except ValueError as error:
        raise ContractViolation(
            f"{what} does not map to a valid {model.__name__}: {error}", system=SYSTEM
        ) from None


def payment_from_stripe(
    invoice_payment: Mapping[str, Any],
    invoice: Mapping[str, Any],
    *,
    customer_id: str,
    payment_intent: Mapping[str, Any] | None = None,
) -> Payment:
    """A paid `invoice_payment` as the canonical `Payment` applied to its invoice (`payment.applied`)."""
    currency = str(invoice_payment["currency"]).upper()
    amount = from_minor(int(invoice_payment.get("amount_paid") or 0), currency)
    payment = invoice_payment.get("payment") or {}
    intent_id = payment.get("payment_intent")
    if isinstance(intent_id, Mapping):
        payment_intent, intent_id = intent_id, intent_id["id"]
    method_types = (payment_intent or {}).get("payment_method_types") or ["card"]
    paid_at = (invoice_payment.get("status_transitions") or {}).get("paid_at") or invoice_payment["created"]
    return _validated(
        Payment,
        {
            "id": f"{SYSTEM}:{intent_id or invoice_payment['id']}",
            "customer_id": customer_id,
            "amount": amount,
            "method": _method(str(method_types[0])),
            "status": PaymentStatus.SUCCEEDED
            if invoice_payment.get("status") == "paid"
            else PaymentStatus.PENDING,
            "applied_invoices": [
                {
                    "invoice_id": f"{SYSTEM}:{invoice['id']}",
                    "invoice_number": invoice.get("number"),
                    "amount": amount,
                }
            ],
            "reference": intent_id,
            "received_at": _datetime(int(paid_at)),
            "external_ids": {SYSTEM: str(intent_id or invoice_payment["id"])},
        },
        f"invoice payment {invoice_payment['id']}",
    )


def _method(stripe_type: str) -> PaymentMethodType:
    return {
        "card": PaymentMethodType.CARD,
        "us_bank_account": PaymentMethodType.ACH_DEBIT,
        "sepa_debit": PaymentMethodType.SEPA_DEBIT,
        "customer_balance": PaymentMethodType.BANK_TRANSFER,
    }.get(stripe_type, PaymentMethodType.OTHER)


def subscription_status(stripe_status: str) -> SubscriptionStatus:
    return SUBSCRIPTION_STATUS[stripe_status]


FREQUENCY_OF: Mapping[tuple[str, int], BillingFrequency] = {v: k for k, v in RECURRING.items()}


def _frequency(price: Mapping[str, Any]) -> BillingFrequency:
    recurring = price.get("recurring") or {}
    cadence = (str(recurring.get("interval")), int(recurring.get("interval_count") or 1))
    frequency = FREQUENCY_OF.get(cadence)
    if frequency is None:
        raise ContractViolation(
            f"price {price.get('id')} bills every {cadence}; no canonical frequency", system=SYSTEM
        )
    return frequency


def _subscription_item(item: Mapping[str, Any], currency: str) -> dict[str, Any]:
    sku = item_sku(item)
    if not sku:
        raise ContractViolation(
            f"subscription item {item.get('id')} has no SKU (metadata[sku])", system=SYSTEM
        )
    price = item["price"]
    return {
        "product_sku": sku,
        "quantity": Decimal(int(item["quantity"])),
        "unit_price": price_money({**price, "currency": currency}),
        "billing_frequency": _frequency(price),
    }


def subscription_from_stripe(sub: Mapping[str, Any], *, customer_id: str, as_of: datetime) -> Subscription:
    """A Stripe subscription as the canonical `Subscription` (data of `subscription.activated`).

    The term comes from `metadata[term_months]` (set when Syncline created it), else one billing period.
    Items with quantity 0 are left out (Stripe allows them; the canonical model does not).
    """
    currency = str(sub["currency"]).upper()
    items = [_subscription_item(item, currency) for item in sub["items"]["data"] if int(item["quantity"]) > 0]
    metadata = sub.get("metadata") or {}
    first = sub["items"]["data"][0]
    frequency = _frequency(first["price"])
    cancel_at = sub.get("cancel_at")
    document = {
        "id": canonical_id_from(sub),
        "customer_id": customer_id,
        "order_id": metadata.get("order_id"),
        "status": subscription_status(str(sub["status"])),
        "currency": currency,
        "items": items,
        "term_months": int(metadata.get("term_months") or max(frequency.months, 1)),
        "start_date": _date(sub["start_date"]),
        "end_date": _date(cancel_at) if cancel_at else None,
        "auto_renew": not sub.get("cancel_at_period_end") and not cancel_at,
        "invoice_schedule": {
            "frequency": frequency,
            "anchor_day": _date(sub["billing_cycle_anchor"]).day,  # type: ignore[union-attr]
            "in_advance": True,
            "next_invoice_date": _date(first.get("current_period_end")),
        },
        "external_ids": {SYSTEM: sub["id"]},
        "updated_at": as_of,
    }
    return _validated(Subscription, document, f"subscription {sub['id']}")


__all__ = [
    "INVOICE_STATUS",
    "RECURRING",
    "SYSTEM",
    "AmendmentDirection",
    "CatalogPrice",
    "ProrationPolicy",
    "amendment_params",
    "canonical_id_from",
    "customer_params",
    "from_minor",
    "identity_metadata",
    "invoice_from_stripe",
    "item_params",
    "item_sku",
    "lookup_key",
    "payment_from_stripe",
    "price_params",
    "product_params",
    "subscription_from_stripe",
    "subscription_params",
    "subscription_status",
    "to_minor",
]
