"""Sync exceptions: a business transaction that needs a person, and how it was resolved.

Raised when a system refuses a step for a business reason or a conflict needs a decision (DESIGN.md
invariant 5); the owner role decides whose queue it lands in. Not Python exceptions: event data.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from syncline.contracts.common import (
    CanonicalId,
    CanonicalModel,
    EntityRef,
    LongText,
    NonEmptyStr,
    ReasonCode,
    SystemName,
    UtcDateTime,
)

OwnerRole = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
"""The team that must act, e.g. `sales_ops`, `billing_ops`, `finance`, `integration_admin`."""


class Resolution(StrEnum):
    """How a person closed the exception."""

    RETRIED = "retried"
    FIXED_IN_SOURCE = "fixed_in_source"
    OVERRIDDEN = "overridden"
    DISMISSED = "dismissed"


class SyncExceptionRaised(CanonicalModel):
    """A transaction is held for a person; nothing is retried until it is resolved."""

    exception_id: CanonicalId
    transaction_id: CanonicalId
    reason_code: ReasonCode
    message: LongText
    owner_role: OwnerRole
    correlation_id: NonEmptyStr
    system: SystemName | None = None
    error_class: Annotated[str, StringConstraints(pattern=r"^[a-z_]+$")] | None = None
    record_refs: Annotated[tuple[EntityRef, ...], Field(min_length=1)]
    raised_at: UtcDateTime
    flow: NonEmptyStr | None = None
    """The flow whose transaction is held (what `Sync_Exception__c.Flow__c` shows); optional so
    events raised before it existed stay valid."""


class SyncExceptionResolved(CanonicalModel):
    """A person resolved a held transaction."""

    exception_id: CanonicalId
    transaction_id: CanonicalId
    resolution: Resolution
    resolved_by: NonEmptyStr
    note: LongText | None = None
    correlation_id: NonEmptyStr
    resolved_at: UtcDateTime


__all__ = ["OwnerRole", "Resolution", "SyncExceptionRaised", "SyncExceptionResolved"]
