"""Quote: the priced offer a customer accepts; an approved quote becomes an order."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from syncline.contracts.common import CanonicalId, CanonicalModel, ExternalIds, NonEmptyStr, UtcDateTime
from syncline.contracts.lines import CommercialLine, check_lines, lines_total
from syncline.contracts.money import CurrencyCode, Money
from syncline.contracts.price import PricingVersion


class QuoteStatus(StrEnum):
    """Where the quote is in its approval."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    EXPIRED = "expired"


class QuoteLine(CommercialLine):
    """One product on a quote."""


class Quote(CanonicalModel):
    """A quote with its lines; `total` is computed from the lines when not given."""

    id: CanonicalId
    number: NonEmptyStr
    customer_id: CanonicalId
    opportunity_id: CanonicalId | None = None
    status: QuoteStatus
    currency: CurrencyCode
    price_book: NonEmptyStr
    pricing_version: PricingVersion
    lines: Annotated[tuple[QuoteLine, ...], Field(min_length=1)]
    total: Money = Field(default_factory=lines_total)
    valid_until: date | None = None
    approved_at: UtcDateTime | None = None
    external_ids: ExternalIds = {}

    @model_validator(mode="after")
    def _consistent(self) -> Quote:
        check_lines(self.lines, self.currency, self.total)
        return self


__all__ = ["Quote", "QuoteLine", "QuoteStatus"]
