"""The review queue: ambiguous identity matches wait here for a data steward, never for a guess.

A review item *is* an exception task in the ledger (reason `ambiguous_identity`, or `duplicate_account`
when the ERP customer is already linked to another account; owner role `data_steward`), so it shows up
with every other exception in the console and its count. The candidates and evidence a steward needs
are kept in the append-only audit trail, attached to the task's id, in the same transaction.

Submitting is idempotent: the item id is derived from the record and its candidate set, so a
redelivered event finds the item already open. Deciding an item writes the xref links, resolves the
task and audits who decided what, all in one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncline.errors import ConflictError
from syncline.ledger import (
    ExceptionStatus,
    ExceptionTask,
    Ledger,
    LedgerSession,
    UnknownRecordError,
    XrefConflictError,
)
from syncline.mdm.identity import AmbiguityKind, Ambiguous, Candidate, canonical_id_for_record
from syncline.mdm.xref import upsert_link

REASON_AMBIGUOUS_IDENTITY = "ambiguous_identity"
REASON_DUPLICATE_ACCOUNT = "duplicate_account"
REVIEW_REASONS = (REASON_AMBIGUOUS_IDENTITY, REASON_DUPLICATE_ACCOUNT)
OWNER_ROLE = "data_steward"
AUDIT_OBJECT = "exception"
OPENED = "identity.review_opened"
RESOLVED = "identity.review_resolved"
SYSTEM_ACTOR = "syncline"


class ReviewDecisionError(ConflictError):
    """A decision cannot be applied as asked (unknown candidate, item not open, link owned elsewhere)."""


@dataclass(frozen=True)
class ReviewItem:
    """One ambiguous record and the candidates a steward chooses from."""

    id: str
    entity_type: str
    system: str
    record_id: str
    kind: AmbiguityKind
    reason_code: str
    message: str
    candidates: tuple[Candidate, ...]
    evidence: tuple[str, ...]
    status: ExceptionStatus
    created_at: datetime
    resolution: str | None
    assignee: str | None = None

    @property
    def is_open(self) -> bool:
        """True until a steward has decided."""
        return self.status is not ExceptionStatus.RESOLVED


def review_id(entity_type: str, system: str, record_id: str, ambiguous: Ambiguous) -> str:
    """Deterministic item id: the same record with the same candidates is the same question."""
    candidates = ",".join(sorted(f"{c.system}:{c.system_id}" for c in ambiguous.candidates))
    basis = f"{entity_type}|{system}|{record_id}|{ambiguous.kind.value}|{candidates}"
    return "review-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:40]


class ReviewQueue:
    """Review items on the ledger's exceptions and audit tables."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def submit(
        self,
        entity_type: str,
        system: str,
        record_id: str,
        ambiguous: Ambiguous,
        *,
        transaction_id: str | None = None,
        correlation_id: str | None = None,
    ) -> ReviewItem:
        """Open (or find, if already open) the review item for an ambiguous resolution."""
        item_id = review_id(entity_type, system, record_id, ambiguous)
        with self.ledger.transaction() as session:
            self._open(
                session, item_id, entity_type, system, record_id, ambiguous, transaction_id, correlation_id
            )
            return _require(session, item_id)

    def get(self, item_id: str) -> ReviewItem | None:
        """One review item, or None if there is no such item."""
        with self.ledger.read() as session:
            return _load(session, item_id)

    def open_items(self, *, limit: int = 100) -> list[ReviewItem]:
        """Undecided identity reviews, oldest first."""
        with self.ledger.read() as session:
            tasks = [
                task
                for status in (ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED)
                for task in session.list_exceptions(status=status, owner_role=OWNER_ROLE, limit=limit)
                if task.reason_code in REVIEW_REASONS
            ]
            tasks.sort(key=lambda task: (task.created_at, task.id))
            return [_from_task(session, task) for task in tasks[:limit]]

    def assign(self, item_id: str, assignee: str) -> ReviewItem:
        """Give an open item to one steward, so two people do not decide it twice."""
        with self.ledger.transaction() as session:
            _require_open(session, item_id)
            session.assign_exception(item_id, assignee)
            return _require(session, item_id)

    def accept_candidate(
        self, item_id: str, candidate_system_id: str, *, actor: str, replace_existing: bool = False
    ) -> str:
        """The steward says the record is this candidate: link both, resolve; returns the canonical id.

        If the candidate's identity is already linked to another record of the same system (a duplicate
        account), the link moves only with `replace_existing=True`.
        """
        with self.ledger.transaction() as session:
            item = _require_open(session, item_id)
            candidate = _pick(item, candidate_system_id)
            canonical = _identity_of(session, item, candidate, replace_existing=replace_existing)
            links = {candidate.system: candidate.system_id, item.system: item.record_id}
            self._link(session, item.entity_type, canonical, links)
            resolution = f"linked to {candidate.system} {candidate.system_id} as {canonical}"
            details = {"decision": "match", "canonical_id": canonical, "candidate": candidate.system_id}
            self._close(session, item, actor, resolution, details)
            return canonical

    def create_new(self, item_id: str, *, actor: str) -> str:
        """The steward says the record matches none of the candidates: it becomes a new identity."""
        with self.ledger.transaction() as session:
            item = _require_open(session, item_id)
            canonical = canonical_id_for_record(item.entity_type, item.system, item.record_id)
            self._link(session, item.entity_type, canonical, {item.system: item.record_id})
            resolution = f"new identity {canonical}; none of the candidates is this {item.entity_type}"
            self._close(session, item, actor, resolution, {"decision": "new", "canonical_id": canonical})
            return canonical

    @staticmethod
    def _open(
        session: LedgerSession,
        item_id: str,
        entity_type: str,
        system: str,
        record_id: str,
        ambiguous: Ambiguous,
        transaction_id: str | None,
        correlation_id: str | None,
    ) -> None:
        message = f"{system} {entity_type} {record_id}: {ambiguous.explanation}"
        session.open_exception(
            ambiguous.reason_code,
            message,
            owner_role=OWNER_ROLE,
            transaction_id=transaction_id,
            correlation_id=correlation_id,
            exception_id=item_id,
        )
        details = {
            "entity_type": entity_type,
            "system": system,
            "record_id": record_id,
            "kind": ambiguous.kind.value,
            "candidates": [_candidate_to_json(c) for c in ambiguous.candidates],
            "evidence": list(ambiguous.evidence),
        }
        # Opening is a no-op when the task exists; a concurrent submitter waits on the task's row and
        # then sees the first one's audit record, so the candidates are recorded exactly once.
        if not session.query_audit(object_type=AUDIT_OBJECT, object_id=item_id, action=OPENED, limit=1):
            session.append_audit(
                SYSTEM_ACTOR, OPENED, AUDIT_OBJECT, item_id, reason=ambiguous.explanation, details=details
            )

    @staticmethod
    def _link(
        session: LedgerSession, entity_type: str, canonical: str, system_ids: Mapping[str, str]
    ) -> None:
        for system, system_id in sorted(system_ids.items()):
            try:
                upsert_link(session, entity_type, canonical, system, system_id, None)
            except XrefConflictError as exc:
                raise ReviewDecisionError(str(exc.message), system=system) from exc

    @staticmethod
    def _close(
        session: LedgerSession, item: ReviewItem, actor: str, resolution: str, details: dict[str, Any]
    ) -> None:
        session.resolve_exception(item.id, f"{resolution} (by {actor})")
        session.append_audit(actor, RESOLVED, AUDIT_OBJECT, item.id, reason=resolution, details=details)


def _candidate_to_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "system": candidate.system,
        "system_id": candidate.system_id,
        "legal_name": candidate.legal_name,
        "name_score": candidate.name_score,
        "reasons": list(candidate.reasons),
    }


def _candidate_from_json(data: Mapping[str, Any]) -> Candidate:
    return Candidate(
        str(data["system"]),
        str(data["system_id"]),
        str(data["legal_name"]),
        float(data["name_score"]),
        tuple(str(reason) for reason in data["reasons"]),
    )


def _load(session: LedgerSession, item_id: str) -> ReviewItem | None:
    task = session.get_exception(item_id)
    if task is None or task.reason_code not in REVIEW_REASONS:
        return None
    return _from_task(session, task)


def _from_task(session: LedgerSession, task: ExceptionTask) -> ReviewItem:
    opened = session.query_audit(object_type=AUDIT_OBJECT, object_id=task.id, action=OPENED, limit=1)
    if not opened:
        raise UnknownRecordError(f"review item {task.id} has no audit record of its candidates")
    details = opened[0].details
    return ReviewItem(
        id=task.id,
        entity_type=str(details["entity_type"]),
        system=str(details["system"]),
        record_id=str(details["record_id"]),
        kind=AmbiguityKind(details["kind"]),
        reason_code=task.reason_code,
        message=task.message,
        candidates=tuple(_candidate_from_json(c) for c in details["candidates"]),
        evidence=tuple(str(e) for e in details["evidence"]),
        status=task.status,
        created_at=task.created_at,
        resolution=task.resolution,
        assignee=task.assignee,
    )


def _require(session: LedgerSession, item_id: str) -> ReviewItem:
    item = _load(session, item_id)
    if item is None:
        raise UnknownRecordError(f"no identity review item {item_id!r}")
    return item


def _require_open(session: LedgerSession, item_id: str) -> ReviewItem:
    item = _require(session, item_id)
    if not item.is_open:
        raise ReviewDecisionError(f"review item {item_id} is already resolved: {item.resolution}")
    return item


def _identity_of(
    session: LedgerSession, item: ReviewItem, candidate: Candidate, *, replace_existing: bool
) -> str:
    """The candidate's canonical id (existing or deterministic), refusing to steal another record's link."""
    entity = item.entity_type
    canonical = session.canonical_id_for(entity, candidate.system, candidate.system_id)
    canonical = canonical or canonical_id_for_record(entity, candidate.system, candidate.system_id)
    current = session.system_id_for(entity, canonical, item.system)
    if current is not None and current.system_id != item.record_id and not replace_existing:
        raise ReviewDecisionError(
            f"{candidate.system} {candidate.system_id} is linked to {item.system} {current.system_id}; "
            "pass replace_existing to move the link"
        )
    return canonical


def _pick(item: ReviewItem, candidate_system_id: str) -> Candidate:
    for candidate in item.candidates:
        if candidate.system_id == candidate_system_id:
            return candidate
    offered = ", ".join(c.system_id for c in item.candidates) or "none"
    raise ReviewDecisionError(f"{candidate_system_id} is not a candidate of {item.id}; candidates: {offered}")


__all__ = [
    "OWNER_ROLE",
    "REASON_AMBIGUOUS_IDENTITY",
    "REASON_DUPLICATE_ACCOUNT",
    "ReviewDecisionError",
    "ReviewItem",
    "ReviewQueue",
    "review_id",
]
