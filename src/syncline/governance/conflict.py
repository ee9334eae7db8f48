"""Conflict policy: never overwrite a change we have not seen, and settle concurrent edits by ownership.

Two situations:

- **Stale target** — a subscription amendment from Salesforce is computed against the billing
  subscription as we last synced it. If billing changed it since (its version or etag moved), applying
  the amendment would silently undo that change, so it becomes a `ConflictError` (an exception task a
  person resolves), never an overwrite. `check_version` is the one place that comparison is made.
- **Concurrent edits of one field** — when several systems report a value for the same field, the
  owner's latest write wins whatever the clock says; other systems' values never win (a contributor's
  value travels as a request instead, see `enforcement`). "Last writer wins" therefore only ever
  applies among the owner's own writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from syncline.errors import ConflictError
from syncline.governance.ownership import OwnershipPolicy


class StaleVersionError(ConflictError):
    """The target record moved since our last sync; carries both versions for the exception task."""

    def __init__(self, conflict: VersionConflict) -> None:
        super().__init__(conflict.explanation, system=conflict.system, code=conflict.reason_code)
        self.conflict = conflict


@dataclass(frozen=True)
class VersionConflict:
    """Why a write was refused: what we expected the target to be and what it is."""

    entity: str
    record_id: str
    system: str
    expected_version: str | None
    current_version: str | None
    reason_code: str
    explanation: str


def detect_version_conflict(
    entity: str,
    record_id: str,
    system: str,
    *,
    last_synced_version: str | None,
    current_version: str | None,
) -> VersionConflict | None:
    """Compare the version we last synced with the target's current one; None means safe to write.

    A missing baseline is a conflict too: without it we cannot prove nothing changed.
    """
    where = f"{system} {entity} {record_id}"
    if last_synced_version is None:
        return VersionConflict(
            entity,
            record_id,
            system,
            None,
            current_version,
            "no_sync_baseline",
            f"{where} has no version recorded from a previous sync; refusing to overwrite it blindly",
        )
    if current_version != last_synced_version:
        return VersionConflict(
            entity,
            record_id,
            system,
            last_synced_version,
            current_version,
            "changed_since_last_sync",
            f"{where} changed since our last sync (version {last_synced_version} -> {current_version})",
        )
    return None


def check_version(
    entity: str,
    record_id: str,
    system: str,
    *,
    last_synced_version: str | None,
    current_version: str | None,
) -> None:
    """Raise `StaleVersionError` unless the target is exactly as we last synced it."""
    conflict = detect_version_conflict(
        entity,
        record_id,
        system,
        last_synced_version=last_synced_version,
        current_version=current_version,
    )
    if conflict is not None:
        raise StaleVersionError(conflict)


@dataclass(frozen=True)
class FieldWrite:
    """One system's value for a field and when that system says it was written."""

    system: str
    value: object
    written_at: datetime
    marker: str = ""


class MergeRule(StrEnum):
    """How a field's value was settled."""

    OWNER_LATEST = "owner_latest"
    NO_OWNER_WRITE = "no_owner_write"


@dataclass(frozen=True)
class FieldResolution:
    """The settled value of one field (if any) and the writes that lost, with the rule applied."""

    field: str
    winner: FieldWrite | None
    rule: MergeRule
    overruled: tuple[FieldWrite, ...]
    explanation: str


class ConflictPolicy:
    """Settles concurrent writes field by field using the ownership rules."""

    def __init__(self, ownership: OwnershipPolicy) -> None:
        self.ownership = ownership

    def resolve_field(self, entity: str, field: str, writes: Sequence[FieldWrite]) -> FieldResolution:
        """The owner's latest write wins; ties on time are broken by the change marker, then value."""
        owner = self.ownership.owner_of(entity, field)
        owner_writes = [write for write in writes if self.ownership.role_of(write.system) == owner]
        if not owner_writes:
            return FieldResolution(
                field,
                None,
                MergeRule.NO_OWNER_WRITE,
                tuple(writes),
                f"{entity}.{field}: no write from its owner {owner}; other systems' values never win",
            )
        winner = max(owner_writes, key=lambda write: (write.written_at, write.marker, repr(write.value)))
        overruled = tuple(write for write in writes if write is not winner)
        return FieldResolution(
            field,
            winner,
            MergeRule.OWNER_LATEST,
            overruled,
            f"{entity}.{field}: latest write of its owner {owner} at {winner.written_at.isoformat()} wins",
        )

    def resolve(self, entity: str, writes: Mapping[str, Sequence[FieldWrite]]) -> dict[str, FieldResolution]:
        """Resolve every field of one record."""
        return {
            field: self.resolve_field(entity, field, field_writes) for field, field_writes in writes.items()
        }


__all__ = [
    "ConflictPolicy",
    "FieldResolution",
    "FieldWrite",
    "MergeRule",
    "StaleVersionError",
    "VersionConflict",
    "check_version",
    "detect_version_conflict",
]
