"""Order: what the customer bought; booking it splits into an ERP sales order and a billing subscription.

`order.accepted` and `order.rejected` are the business acknowledgements of each side: a rejection holds
the transaction as an exception with its reason, it is never retried forever.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from syncline.contracts.common import (
    Address,
    CanonicalId,
    CanonicalModel,
    ExternalIds,
    LongText,
    NonEmptyStr,
    ReasonCode,
    SystemName,
    UtcDateTime,
)
from syncline.contracts.lines import CommercialLine, check_lines, lines_total
from syncline.contracts.money import CurrencyCode, Money
from syncline.contracts.price import PricingVersion


class OrderStatus(StrEnum):
    """Where the order is between booking and fulfilment."""

    DRAFT = "draft"
    BOOKED = "booked"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class OrderLine(CommercialLine):
    """One product on an order."""


class Order(CanonicalModel):
    """A booked order with its lines; `total` is computed from the lines when not given."""

    id: CanonicalId
    number: NonEmptyStr
    customer_id: CanonicalId
    quote_id: CanonicalId | None = None
    status: OrderStatus
    currency: CurrencyCode
    legal_entity: NonEmptyStr
    pricing_version: PricingVersion
    po_number: NonEmptyStr | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1)]
    total: Money = Field(default_factory=lines_total)
    effective_date: date
    booked_at: UtcDateTime
    external_ids: ExternalIds = {}

    @model_validator(mode="after")
    def _consistent(self) -> Order:
        check_lines(self.lines, self.currency, self.total)
        return self


class OrderAccepted(CanonicalModel):
    """One downstream system took the order; `external_id` is its record (sales order, subscription)."""

    order_id: CanonicalId
    accepted_by_system: SystemName
    external_id: NonEmptyStr
    accepted_at: UtcDateTime


class OrderRejected(CanonicalModel):
    """One downstream system refused the order for a business reason."""

    order_id: CanonicalId
    rejected_by_system: SystemName
    reason_code: ReasonCode
    message: LongText
    rejected_at: UtcDateTime


__all__ = ["Order", "OrderAccepted", "OrderLine", "OrderRejected", "OrderStatus"]
