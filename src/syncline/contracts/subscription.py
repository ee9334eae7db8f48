"""Subscription: the recurring side of an order in the billing platform, with its amendment history.

Amendments are appended, never rewritten: the history is how a conflict between a Salesforce amendment
and a change made directly in billing is detected.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from syncline.contracts.common import (
    CanonicalId,
    CanonicalModel,
    ExternalIds,
    LongText,
    PositiveDecimal,
    Sku,
    UtcDateTime,
    check_date_order,
)
from syncline.contracts.errors import violation
from syncline.contracts.money import CurrencyCode, Money, require_currency, require_non_negative
from syncline.contracts.price import BillingFrequency, UsageMetric


class SubscriptionStatus(StrEnum):
    """Billing state of the subscription."""

    PENDING = "pending"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class SubscriptionItem(CanonicalModel):
    """One priced product on the subscription."""

    product_sku: Sku
    quantity: PositiveDecimal
    unit_price: Money
    billing_frequency: BillingFrequency
    usage_metric: UsageMetric | None = None


class InvoiceSchedule(CanonicalModel):
    """When invoices are cut: every `frequency`, on `anchor_day`, in advance or in arrears."""

    frequency: BillingFrequency
    anchor_day: Annotated[int, Field(ge=1, le=31)] = 1
    in_advance: bool = True
    next_invoice_date: date | None = None


class AmendmentKind(StrEnum):
    """What an amendment changed."""

    ADD_ITEM = "add_item"
    REMOVE_ITEM = "remove_item"
    CHANGE_QUANTITY = "change_quantity"
    CHANGE_PRICE = "change_price"
    RENEW = "renew"
    CANCEL = "cancel"


class Amendment(CanonicalModel):
    """One change to the subscription, in order of `sequence`."""

    sequence: Annotated[int, Field(ge=1)]
    kind: AmendmentKind
    effective_date: date
    product_skus: tuple[Sku, ...] = ()
    description: LongText | None = None
    source_quote_id: CanonicalId | None = None
    amended_at: UtcDateTime


class Subscription(CanonicalModel):
    """A subscription as billing runs it."""

    id: CanonicalId
    customer_id: CanonicalId
    order_id: CanonicalId | None = None
    status: SubscriptionStatus
    currency: CurrencyCode
    items: Annotated[tuple[SubscriptionItem, ...], Field(min_length=1)]
    term_months: Annotated[int, Field(ge=1, le=120)]
    start_date: date
    end_date: date | None = None
    auto_renew: bool = True
    invoice_schedule: InvoiceSchedule
    amendments: tuple[Amendment, ...] = ()
    external_ids: ExternalIds = {}
    updated_at: UtcDateTime

    @model_validator(mode="after")
    def _consistent(self) -> Subscription:
        for index, item in enumerate(self.items):
            require_currency(item.unit_price, self.currency, field=f"items.{index}.unit_price.currency")
            require_non_negative(item.unit_price, field=f"items.{index}.unit_price")
        check_date_order(self.start_date, self.end_date, start_name="start_date", end_name="end_date")
        sequences = [a.sequence for a in self.amendments]
        if sequences != list(range(1, len(sequences) + 1)):
            raise violation(
                "amendment_sequence",
                f"amendment sequences are {sequences}",
                "amendments are numbered 1, 2, 3... in order, with no gaps or repeats",
                field="amendments",
            )
        return self


class SubscriptionAmended(CanonicalModel):
    """A subscription after an amendment; `amendment` is the change that produced it."""

    subscription: Subscription
    amendment: Amendment

    @model_validator(mode="after")
    def _amendment_is_latest(self) -> SubscriptionAmended:
        history = self.subscription.amendments
        if not history or history[-1] != self.amendment:
            raise violation(
                "amendment_not_latest",
                f"amendment {self.amendment.sequence} is not the last entry of the subscription's history",
                "the amendment of a subscription.amended event is the latest in the amendment history",
                field="amendment",
            )
        return self


__all__ = [
    "Amendment",
    "AmendmentKind",
    "InvoiceSchedule",
    "Subscription",
    "SubscriptionAmended",
    "SubscriptionItem",
    "SubscriptionStatus",
]
