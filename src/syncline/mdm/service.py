"""One call for flows: resolve an account and record the outcome (xref links or a review item).

Reading (`IdentityResolver`) and writing (`XrefRegistry`, `ReviewQueue`) stay separate so each is
testable alone; this module is the seam flows use so they cannot forget the second half.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncline.mdm.identity import (
    AccountSnapshot,
    Ambiguous,
    IdentityResolver,
    NewIdentity,
    Resolution,
    Resolved,
)
from syncline.mdm.review import ReviewItem, ReviewQueue
from syncline.mdm.xref import XrefRegistry


@dataclass(frozen=True)
class IdentityOutcome:
    """The resolution, and the review item when a steward must decide."""

    resolution: Resolution
    review: ReviewItem | None = None

    @property
    def canonical_id(self) -> str | None:
        """The canonical id, known unless the record waits for review."""
        if isinstance(self.resolution, Resolved | NewIdentity):
            return self.resolution.canonical_id
        return None


class IdentityService:
    """Resolves accounts and records links or review items."""

    def __init__(self, resolver: IdentityResolver, xref: XrefRegistry, reviews: ReviewQueue) -> None:
        self.resolver = resolver
        self.xref = xref
        self.reviews = reviews

    def resolve_and_record(
        self,
        account: AccountSnapshot,
        *,
        transaction_id: str | None = None,
        correlation_id: str | None = None,
    ) -> IdentityOutcome:
        """Resolve; link every system id of a match or new identity; open a review for an ambiguity."""
        resolution = self.resolver.resolve(account)
        if isinstance(resolution, Ambiguous):
            item = self.reviews.submit(
                self.resolver.entity_type,
                account.system,
                account.record_id,
                resolution,
                transaction_id=transaction_id,
                correlation_id=correlation_id,
            )
            return IdentityOutcome(resolution, item)
        self.xref.link_all(self.resolver.entity_type, resolution.canonical_id, resolution.system_ids)
        return IdentityOutcome(resolution)


__all__ = ["IdentityOutcome", "IdentityService"]
