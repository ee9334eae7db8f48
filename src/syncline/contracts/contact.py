"""Contact: a person at a customer; billing contacts receive invoices."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

from syncline.contracts.common import CanonicalId, CanonicalModel, ExternalIds, NonEmptyStr, UtcDateTime

EmailAddress = Annotated[
    str,
    StringConstraints(
        max_length=254,
        to_lower=True,
        pattern=r"^[A-Za-z0-9._%+\-']+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,63}$",
    ),
]
"""An email address (local@domain.tld), lower-cased so identity matching is stable."""

PhoneNumber = Annotated[str, StringConstraints(max_length=32, pattern=r"^\+?[0-9 ().\-]{4,31}$")]


class ContactRole(StrEnum):
    """What the contact is for; `billing` decides who gets invoices."""

    PRIMARY = "primary"
    BILLING = "billing"
    SHIPPING = "shipping"
    TECHNICAL = "technical"


class Contact(CanonicalModel):
    """A person at a customer."""

    id: CanonicalId
    customer_id: CanonicalId
    first_name: NonEmptyStr | None = None
    last_name: NonEmptyStr
    email: EmailAddress | None = None
    phone: PhoneNumber | None = None
    title: NonEmptyStr | None = None
    roles: tuple[ContactRole, ...] = ()
    active: bool = True
    external_ids: ExternalIds = {}
    updated_at: UtcDateTime


__all__ = ["Contact", "ContactRole", "EmailAddress", "PhoneNumber"]
