"""Customer: the account every order, subscription and invoice hangs from, with its lifecycle.

The lifecycle mirrors how an ERP approves new customers: a sales prospect is submitted (pending), the
ERP approves it (active) or sends it back (prospect again, with a `customer.rejected` event), finance may
put it on hold, and it ends inactive. `validate_lifecycle_transition` is the one place that rule lives.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Annotated

from pydantic import StringConstraints, ValidationError, model_validator

from syncline.contracts.common import (
    Address,
    CanonicalId,
    CanonicalModel,
    ExternalIds,
    LongText,
    NonEmptyStr,
    ReasonCode,
    SystemName,
    TaxRegistration,
    UtcDateTime,
)
from syncline.contracts.errors import ContractError, FieldProblem, violation
from syncline.contracts.money import CurrencyCode


class CustomerLifecycle(StrEnum):
    """Where the customer stands; only ERP approval makes a customer orderable."""

    PROSPECT = "prospect"
    PENDING = "pending"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    INACTIVE = "inactive"


ALLOWED_TRANSITIONS: MappingProxyType[CustomerLifecycle, frozenset[CustomerLifecycle]] = MappingProxyType(
    {
        CustomerLifecycle.PROSPECT: frozenset({CustomerLifecycle.PENDING, CustomerLifecycle.INACTIVE}),
        CustomerLifecycle.PENDING: frozenset({CustomerLifecycle.ACTIVE, CustomerLifecycle.PROSPECT}),
        CustomerLifecycle.ACTIVE: frozenset({CustomerLifecycle.ON_HOLD, CustomerLifecycle.INACTIVE}),
        CustomerLifecycle.ON_HOLD: frozenset({CustomerLifecycle.ACTIVE, CustomerLifecycle.INACTIVE}),
        CustomerLifecycle.INACTIVE: frozenset({CustomerLifecycle.PENDING}),
    }
)
"""Lifecycle moves that are allowed. Staying in the same state is always allowed (a redelivered update);
a rejected submission goes back to prospect; reactivating an inactive customer needs approval again."""


def validate_lifecycle_transition(current: CustomerLifecycle, new: CustomerLifecycle) -> CustomerLifecycle:
    """Return `new` if the move is allowed, else raise `ContractError` naming both states and the rule."""
    if new == current or new in ALLOWED_TRANSITIONS[current]:
        return new
    allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current]))
    problem = FieldProblem(
        field="lifecycle",
        problem=f"cannot move from {current} to {new}",
        rule=f"from {current} a customer may move to: {allowed}",
    )
    raise ContractError("customer lifecycle transition not allowed", [problem])


class PaymentTerms(StrEnum):
    """Standard terms; the ERP maps each to its own terms record."""

    DUE_ON_RECEIPT = "due_on_receipt"
    NET_15 = "net_15"
    NET_30 = "net_30"
    NET_45 = "net_45"
    NET_60 = "net_60"
    NET_90 = "net_90"

    @property
    def net_days(self) -> int:
        """Days from invoice date to due date."""
        return 0 if self is PaymentTerms.DUE_ON_RECEIPT else int(self.value.removeprefix("net_"))


WebDomain = Annotated[
    str,
    StringConstraints(
        max_length=253,
        to_lower=True,
        pattern=r"^([a-zA-Z0-9]([a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$",
    ),
]
"""A bare domain (example.com), no scheme or path: identity resolution matches on it."""


class Customer(CanonicalModel):
    """A customer account as all three systems should agree on it."""

    id: CanonicalId
    legal_name: NonEmptyStr
    display_name: NonEmptyStr | None = None
    parent_id: CanonicalId | None = None
    sold_to: Address | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    tax_registrations: tuple[TaxRegistration, ...] = ()
    payment_terms: PaymentTerms = PaymentTerms.NET_30
    currency: CurrencyCode
    legal_entity: NonEmptyStr
    web_domain: WebDomain | None = None
    lifecycle: CustomerLifecycle = CustomerLifecycle.PROSPECT
    external_ids: ExternalIds = {}
    updated_at: UtcDateTime

    def with_lifecycle(self, new: CustomerLifecycle) -> Customer:
        """A copy in lifecycle state `new`; raises `ContractError` for a move the lifecycle forbids or a
        customer the new state does not accept (e.g. submitting a prospect that has no addresses)."""
        validate_lifecycle_transition(self.lifecycle, new)
        try:
            return Customer.model_validate({**self.model_dump(), "lifecycle": new})
        except ValidationError as exc:
            raise ContractError.from_validation_error(exc, f"customer cannot become {new}") from exc

    @model_validator(mode="after")
    def _addresses_once_submitted(self) -> Customer:
        """A CRM prospect may lack addresses; the ERP cannot approve (or bill) a customer without them."""
        if self.lifecycle is CustomerLifecycle.PROSPECT:
            return self
        for name in ("sold_to", "bill_to"):
            if getattr(self, name) is None:
                raise violation(
                    "address_required",
                    f"a {self.lifecycle} customer has no {name} address",
                    "sold_to and bill_to are required once a customer leaves the prospect stage",
                    field=name,
                )
        return self


class CustomerActivated(CanonicalModel):
    """The ERP approved the customer: it is orderable, and its ERP id is known."""

    customer_id: CanonicalId
    approved_by_system: SystemName
    external_ids: ExternalIds
    activated_at: UtcDateTime


class CustomerRejected(CanonicalModel):
    """The ERP refused the customer; the reason goes back to the account owner in Salesforce."""

    customer_id: CanonicalId
    rejected_by_system: SystemName
    reason_code: ReasonCode
    message: LongText
    rejected_at: UtcDateTime


__all__ = [
    "ALLOWED_TRANSITIONS",
    "Customer",
    "CustomerActivated",
    "CustomerLifecycle",
    "CustomerRejected",
    "PaymentTerms",
    "WebDomain",
    "validate_lifecycle_transition",
]
