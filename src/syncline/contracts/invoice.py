"""Invoice: what billing or the ERP charged; Salesforce shows its status and balance read-only.

Every amount on a posted invoice is at the currency's minor units and the arithmetic must add up
(lines -> subtotal, + tax -> total, - paid -> balance): a mismatch means a mapping bug, caught here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from syncline.contracts.common import (
    CanonicalId,
    CanonicalModel,
    ExactDecimal,
    ExternalIds,
    NonEmptyStr,
    Sku,
    UtcDateTime,
    check_date_order,
)
from syncline.contracts.errors import violation
from syncline.contracts.money import CurrencyCode, Money, require_currency, require_rounded, sum_money


class InvoiceStatus(StrEnum):
    """Collection state of the invoice."""

    DRAFT = "draft"
    POSTED = "posted"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class InvoiceLine(CanonicalModel):
    """One charge; `amount` is net of discounts and before tax."""

    line_number: Annotated[int, Field(ge=1)]
    description: NonEmptyStr
    product_sku: Sku | None = None
    quantity: ExactDecimal
    unit_price: Money
    amount: Money
    tax_amount: Money | None = None
    period_start: date | None = None
    period_end: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InvoiceLine:
        check_date_order(self.period_start, self.period_end, start_name="period_start", end_name="period_end")
        require_rounded(self.amount, field="amount")
        if self.tax_amount is not None:
            require_rounded(self.tax_amount, field="tax_amount")
        return self


class Invoice(CanonicalModel):
    """An invoice with its lines and totals."""

    id: CanonicalId
    number: NonEmptyStr
    customer_id: CanonicalId
    subscription_id: CanonicalId | None = None
    order_id: CanonicalId | None = None
    status: InvoiceStatus
    currency: CurrencyCode
    lines: tuple[InvoiceLine, ...]
    subtotal: Money
    tax: Money
    total: Money
    amount_paid: Money
    balance: Money
    issue_date: date
    due_date: date
    posted_at: UtcDateTime | None = None
    external_ids: ExternalIds = {}

    @model_validator(mode="after")
    def _consistent(self) -> Invoice:
        self._check_currencies_and_rounding()
        check_date_order(self.issue_date, self.due_date, start_name="issue_date", end_name="due_date")
        self._check_sum("subtotal", self.subtotal, sum_money([ln.amount for ln in self.lines], self.currency))
        line_tax = [ln.tax_amount for ln in self.lines if ln.tax_amount is not None]
        if line_tax:
            self._check_sum("tax", self.tax, sum_money(line_tax, self.currency))
        self._check_sum("total", self.total, self.subtotal + self.tax)
        self._check_sum("balance", self.balance, self.total - self.amount_paid)
        return self

    def _amounts(self) -> list[tuple[str, Money]]:
        named = [
            (name, getattr(self, name)) for name in ("subtotal", "tax", "total", "amount_paid", "balance")
        ]
        for index, line in enumerate(self.lines):
            named += [(f"lines.{index}.unit_price", line.unit_price), (f"lines.{index}.amount", line.amount)]
            if line.tax_amount is not None:
                named.append((f"lines.{index}.tax_amount", line.tax_amount))
        return named

    def _check_currencies_and_rounding(self) -> None:
        for name, amount in self._amounts():
            require_currency(amount, self.currency, field=f"{name}.currency")
            if not name.endswith("unit_price"):
                require_rounded(amount, field=name)

    @staticmethod
    def _check_sum(name: str, given: Money, expected: Money) -> None:
        if given.amount != expected.amount:
            raise violation(
                "invoice_arithmetic",
                f"{name} is {given} but the invoice arithmetic gives {expected}",
                "subtotal = sum of line amounts; tax = sum of line taxes; total = subtotal + tax; "
                "balance = total - amount_paid",
                field=name,
            )

    @property
    def is_settled(self) -> bool:
        """True once nothing is left to collect."""
        return self.balance.amount == Decimal(0)


__all__ = ["Invoice", "InvoiceLine", "InvoiceStatus"]
