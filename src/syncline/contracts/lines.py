"""The commercial line shared by quotes and orders, and the totals rule they both follow.

A line's net amount is quantity x unit price x (1 - discount / 100), rounded to the currency's minor
units; a document's total is the sum of its lines' net amounts. Totals may be sent (then they must match)
or left out (then they are computed), so a wrong total is caught instead of propagated.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, model_validator

from syncline.contracts.common import (
    CanonicalModel,
    NonEmptyStr,
    Percent,
    PositiveDecimal,
    Sku,
    check_date_order,
)
from syncline.contracts.errors import violation
from syncline.contracts.money import Money, require_currency, require_non_negative, sum_money
from syncline.contracts.price import BillingFrequency, UsageMetric

_HUNDRED = Decimal(100)


class CommercialLine(CanonicalModel):
    """One product on a quote or order."""

    line_number: Annotated[int, Field(ge=1)]
    product_sku: Sku
    description: NonEmptyStr | None = None
    quantity: PositiveDecimal
    unit_price: Money
    discount_percent: Percent = Decimal(0)
    term_months: Annotated[int, Field(ge=1, le=120)] | None = None
    start_date: date | None = None
    end_date: date | None = None
    billing_frequency: BillingFrequency
    usage_metric: UsageMetric | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CommercialLine:
        require_non_negative(self.unit_price, field="unit_price")
        check_date_order(self.start_date, self.end_date, start_name="start_date", end_name="end_date")
        if self.billing_frequency is not BillingFrequency.ONE_TIME and self.term_months is None:
            raise violation(
                "term_required",
                f"a {self.billing_frequency} line has no term_months",
                "recurring lines state their term in months",
                field="term_months",
            )
        return self

    @property
    def net_amount(self) -> Money:
        """Quantity x unit price less discount, at the currency's minor units."""
        gross = self.unit_price * self.quantity
        return (gross * (_HUNDRED - self.discount_percent) * Decimal("0.01")).rounded()


def lines_total(data: dict[str, Any]) -> Money:
    """Default factory for a document total: the sum of its lines' net amounts in its currency."""
    lines: tuple[CommercialLine, ...] = data["lines"]
    currency: str = data["currency"]
    # Lines in another currency are reported by `check_lines`; leaving them out here keeps the factory total.
    return sum_money([ln.net_amount for ln in lines if ln.unit_price.currency == currency], currency)


def check_lines(lines: tuple[CommercialLine, ...], currency: str, total: Money) -> None:
    """Document rules: numbered lines are unique, all in the document's currency, total matches."""
    seen: set[int] = set()
    for index, line in enumerate(lines):
        if line.line_number in seen:
            raise violation(
                "duplicate_line_number",
                f"line_number {line.line_number} appears twice",
                "line numbers are unique within a document",
                field=f"lines.{index}.line_number",
            )
        seen.add(line.line_number)
        require_currency(line.unit_price, currency, field=f"lines.{index}.unit_price.currency")
    require_currency(total, currency, field="total.currency")
    expected = sum_money([line.net_amount for line in lines], currency)
    if total.amount != expected.amount:
        raise violation(
            "total_mismatch",
            f"total {total} differs from the sum of line net amounts {expected}",
            "a document total equals the sum of its lines' net amounts (omit it to have it computed)",
            field="total",
        )


__all__ = ["CommercialLine", "check_lines", "lines_total"]
