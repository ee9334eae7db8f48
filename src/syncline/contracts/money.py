"""`Money`: an exact `Decimal` amount with its ISO 4217 currency, never a float.

Amounts keep the precision they were given (a usage price may be 0.0025 USD, as Stripe's
`unit_amount_decimal` allows); `rounded()` brings an amount to the currency's minor units and is what
totals use. Adding amounts in two currencies is an error, not a conversion.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema, field_validator

from syncline.contracts.codes import ISO_4217_CODES, MINOR_UNITS
from syncline.contracts.common import CanonicalModel, ExactDecimal
from syncline.contracts.errors import violation

MAX_DECIMAL_PLACES = 12
"""Finer than any billing system stores (Stripe: 12 decimal places); more means a bug upstream."""


def _upper_only(value: object) -> object:
    if isinstance(value, str) and value != value.upper():
        raise violation(
            "currency_case",
            f"{value!r} is not upper case",
            "currency codes are ISO 4217 upper-case three-letter codes, e.g. USD",
        )
    return value


def _known_currency(value: str) -> str:
    if value not in ISO_4217_CODES:
        raise violation(
            "currency_code",
            f"{value!r} is not an active ISO 4217 currency code",
            "currency codes are ISO 4217 upper-case three-letter codes, e.g. USD, EUR, JPY",
        )
    return value


CurrencyCode = Annotated[
    str,
    BeforeValidator(_upper_only),
    AfterValidator(_known_currency),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$"}),
]
"""An active ISO 4217 currency code."""


def minor_units(currency: str) -> int:
    """Digits after the point for `currency` (USD 2, JPY 0, KWD 3)."""
    return MINOR_UNITS[currency]


class Money(CanonicalModel):
    """An exact amount in one currency."""

    amount: ExactDecimal
    currency: CurrencyCode

    @field_validator("amount")
    @classmethod
    def _bounded_precision(cls, value: Decimal) -> Decimal:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > MAX_DECIMAL_PLACES:
            raise violation(
                "money_precision",
                f"{value} has {-exponent} decimal places",
                f"money amounts have at most {MAX_DECIMAL_PLACES} decimal places",
            )
        return value

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Shorthand for code and tests: `Money.of("12.50", "USD")`."""
        return cls.model_validate({"amount": amount, "currency": currency})

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in `currency`, at its minor units (start value of a sum)."""
        return cls.of(Decimal(0), currency).rounded()

    def rounded(self) -> Money:
        """This amount at the currency's minor units, half away from zero (commercial rounding)."""
        quantum = Decimal(1).scaleb(-minor_units(self.currency))
        return Money(amount=self.amount.quantize(quantum, rounding=ROUND_HALF_UP), currency=self.currency)

    def is_rounded(self) -> bool:
        """True when the amount has no more digits than the currency's minor units."""
        return self.rounded().amount == self.amount

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency} amounts without a rate")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply Money by a Decimal or an int, never a float")
        return Money(amount=self.amount * factor, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def sum_money(amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """Sum amounts in `currency`, starting from zero so an empty list is a valid zero total."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


def require_currency(amount: Money, currency: str, *, field: str) -> None:
    """Shared rule: every amount in a document is in the document's currency."""
    if amount.currency != currency:
        raise violation(
            "currency_mismatch",
            f"{amount.currency} amount in a {currency} document",
            "every amount in a document uses the document's currency",
            field=field,
        )


def require_rounded(amount: Money, *, field: str) -> None:
    """Shared rule: posted amounts (totals, invoice lines, payments) are at the currency's minor units."""
    if not amount.is_rounded():
        raise violation(
            "money_minor_units",
            f"{amount} has more digits than {amount.currency}'s {minor_units(amount.currency)} minor units",
            "totals, invoice and payment amounts are rounded to the currency's minor units",
            field=field,
        )


def require_non_negative(amount: Money, *, field: str) -> None:
    """Shared rule for amounts that cannot be negative (prices, payments, balances)."""
    if amount.amount < 0:
        raise violation(
            "money_negative",
            f"{amount} is negative",
            "this amount must be zero or more",
            field=field,
        )


__all__ = [
    "MAX_DECIMAL_PLACES",
    "CurrencyCode",
    "Money",
    "minor_units",
    "require_currency",
    "require_non_negative",
    "require_rounded",
    "sum_money",
]
