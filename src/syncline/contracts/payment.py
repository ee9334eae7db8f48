"""Payment: money received and the invoices it settles.

`method` is a type only (card, bank transfer...). The contract has no field for card numbers, bank
accounts or tokens, and unknown fields are rejected, so such detail cannot ride along by accident.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import model_validator

from syncline.contracts.common import CanonicalId, CanonicalModel, ExternalIds, NonEmptyStr, UtcDateTime
from syncline.contracts.errors import violation
from syncline.contracts.money import Money, require_currency, require_non_negative, require_rounded, sum_money


class PaymentMethodType(StrEnum):
    """How the customer paid; never the instrument's details."""

    CARD = "card"
    ACH_DEBIT = "ach_debit"
    SEPA_DEBIT = "sepa_debit"
    BANK_TRANSFER = "bank_transfer"
    WIRE = "wire"
    CHECK = "check"
    CASH = "cash"
    OTHER = "other"


class PaymentStatus(StrEnum):
    """Where the payment stands."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class PaymentApplication(CanonicalModel):
    """Part of a payment settling one invoice."""

    invoice_id: CanonicalId
    invoice_number: NonEmptyStr | None = None
    amount: Money


class Payment(CanonicalModel):
    """A payment; the sum of its applications never exceeds its amount."""

    id: CanonicalId
    customer_id: CanonicalId
    amount: Money
    method: PaymentMethodType
    status: PaymentStatus
    applied_invoices: tuple[PaymentApplication, ...] = ()
    reference: NonEmptyStr | None = None
    received_at: UtcDateTime
    external_ids: ExternalIds = {}

    @model_validator(mode="after")
    def _consistent(self) -> Payment:
        require_non_negative(self.amount, field="amount")
        require_rounded(self.amount, field="amount")
        currency = self.amount.currency
        for index, application in enumerate(self.applied_invoices):
            require_currency(application.amount, currency, field=f"applied_invoices.{index}.amount.currency")
            require_rounded(application.amount, field=f"applied_invoices.{index}.amount")
        applied = sum_money([a.amount for a in self.applied_invoices], currency)
        if applied.amount > self.amount.amount:
            raise violation(
                "over_applied",
                f"applications total {applied} but the payment is {self.amount}",
                "a payment cannot settle more than its amount",
                field="applied_invoices",
            )
        return self

    @property
    def unapplied(self) -> Money:
        """What is left to apply (on account)."""
        return self.amount - sum_money([a.amount for a in self.applied_invoices], self.amount.currency)


__all__ = ["Payment", "PaymentApplication", "PaymentMethodType", "PaymentStatus"]
