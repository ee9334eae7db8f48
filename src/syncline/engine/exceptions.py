"""Holding a transaction for a person: the exception task and its `sync.exception.raised` event.

A business rejection or conflict is never retried on its own (DESIGN.md invariant 5). The worker
opens an exception task (reason code, message, owner role), emits `syncline.sync.exception.raised.v1`
to the outbox for the write-back to Salesforce and the console, marks the transaction `exception`,
and parks the delivery so the entity's later events wait in order. All of it is one commit.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from syncline.contracts.common import EntityRef, EntityType
from syncline.contracts.envelope import new_event
from syncline.contracts.exceptions import SyncExceptionRaised
from syncline.engine.intake import to_new_event
from syncline.engine.saga import SagaState
from syncline.errors import BusinessRejection, SynclineError
from syncline.ledger import ClaimedDelivery, ExceptionStatus, SqlSession
from syncline.ledger.batch import StateChange

EXCEPTION_RAISED = "syncline.sync.exception.raised.v1"
_EXCEPTION_NAMESPACE = uuid.UUID("0d7c1a8e-6c55-5f4e-8f0b-7f1f3e2b9a44")


class LeaseLostError(SynclineError):
    """The delivery was reclaimed by another worker meanwhile; this worker's outcome is void."""


def reason_code_of(error: SynclineError) -> str:
    """UPPER_SNAKE reason code as the contract wants it (`card_declined` -> `CARD_DECLINED`)."""
    raw = (
        error.reason_code if isinstance(error, BusinessRejection) else (error.code or str(error.error_class))
    )
    return _normalised(raw)


def _normalised(raw: str) -> str:
    """`duplicate_account` and `DUPLICATE_ACCOUNT` name the same reason; codes start with a letter."""
    code = re.sub(r"[^A-Z0-9_]+", "_", raw.upper()).strip("_")
    if not code or not code[0].isalpha():
        code = f"E_{code}" if code else "UNSPECIFIED"
    return code[:64]


def _entity_ref(claimed: ClaimedDelivery) -> EntityRef:
    domain = claimed.event.type.split(".")[1] if claimed.event.type.count(".") >= 2 else ""
    entity = EntityType(domain) if domain in EntityType.__members__.values() else EntityType.ORDER
    return EntityRef(entity_type=entity, id=claimed.event.subject)


def hold_for_person(
    session: SqlSession,
    claimed: ClaimedDelivery,
    transaction: str,
    error: SynclineError,
    *,
    consumers: list[str],
    traceparent: str | None,
) -> str:
    """Open the task, emit the event, mark the transaction, park the delivery; returns the task id."""
    marker = f"{claimed.delivery.id}:{claimed.delivery.updated_at.isoformat()}"
    exception_id = str(uuid.uuid5(_EXCEPTION_NAMESPACE, f"{transaction}\x1f{marker}"))
    owner = error.owner_role if isinstance(error, BusinessRejection) else "operator"
    correlation = claimed.event.correlation_id or claimed.event.event_id
    reason = reason_code_of(error)
    existing = _open_task_for(session, transaction, reason)
    if existing is not None:
        # The step opened the task for this very problem (an identity review item): the hold IS
        # that task, so one problem is one task to work, count and resolve.
        exception_id = existing
    else:
        session.open_exception(
            reason,
            error.message,
            owner_role=owner,
            transaction_id=transaction,
            correlation_id=correlation,
            exception_id=exception_id,
        )
    data = SyncExceptionRaised(
        exception_id=exception_id,
        transaction_id=transaction,
        reason_code=reason,
        message=error.message[:4000],
        owner_role=owner,
        correlation_id=correlation,
        system=error.system
        if error.system and re.fullmatch(r"[a-z][a-z0-9_\-]{1,31}", error.system)
        else None,
        error_class=str(error.error_class),
        record_refs=(_entity_ref(claimed),),
        raised_at=datetime.now(UTC),
        flow=claimed.delivery.consumer,
    )
    envelope = new_event(
        EXCEPTION_RAISED,
        subject=exception_id,
        data=data,
        source_system="syncline",
        record_id=exception_id,
        change_marker="raised",
        correlation_id=correlation,
        causation_id=claimed.event.event_id,
        traceparent=traceparent,
    )
    session.append_events([to_new_event(envelope)], consumers)
    session.set_transaction_states([StateChange(transaction, SagaState.EXCEPTION.value)])
    if not session.park(claimed.lease, str(error.error_class), f"{reason}: {error.message}"):
        raise LeaseLostError(f"delivery {claimed.delivery.id} was reclaimed; exception not opened")
    return exception_id


def _open_task_for(session: SqlSession, transaction: str, reason: str) -> str | None:
    """An open task of this transaction with the same reason, opened by a step before it raised."""
    for task in session.list_exceptions(transaction_id=transaction, limit=50):
        if task.status is not ExceptionStatus.RESOLVED and _normalised(task.reason_code) == reason:
            return task.id
    return None


__all__ = ["EXCEPTION_RAISED", "LeaseLostError", "hold_for_person", "reason_code_of"]
