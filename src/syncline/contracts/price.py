"""Price: what a product costs in one price book, currency and pricing version, for a period of time.

A new price is a new pricing version with new effective dates, never an edit of an old one, so an order
can always be checked against the version it was quoted with.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints, model_validator

from syncline.contracts.common import (
    CanonicalId,
    CanonicalModel,
    ExternalIds,
    NonEmptyStr,
    Sku,
    UtcDateTime,
    check_date_order,
)
from syncline.contracts.money import Money, require_non_negative


class BillingFrequency(StrEnum):
    """How often a charge recurs; `one_time` charges once."""

    ONE_TIME = "one_time"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        """Months per billing period (0 for one-time charges)."""
        return {"one_time": 0, "monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}[self.value]


PricingVersion = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
]
"""The price list revision a price belongs to, e.g. `2026.1`."""

UsageMetric = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_.]*$")]
"""The meter a usage charge counts, e.g. `api_calls` or `storage.gb_month`."""


class Price(CanonicalModel):
    """The unit price of one product in one price book and pricing version."""

    id: CanonicalId
    price_book: NonEmptyStr
    product_sku: Sku
    unit_amount: Money
    billing_period: BillingFrequency
    usage_metric: UsageMetric | None = None
    pricing_version: PricingVersion
    effective_from: date
    effective_to: date | None = None
    active: bool = True
    external_ids: ExternalIds = {}
    published_at: UtcDateTime

    @property
    def currency(self) -> str:
        """The price's currency (the unit amount's)."""
        return self.unit_amount.currency

    @model_validator(mode="after")
    def _consistent(self) -> Price:
        require_non_negative(self.unit_amount, field="unit_amount")
        check_date_order(
            self.effective_from, self.effective_to, start_name="effective_from", end_name="effective_to"
        )
        return self


__all__ = ["BillingFrequency", "Price", "PricingVersion", "UsageMetric"]
