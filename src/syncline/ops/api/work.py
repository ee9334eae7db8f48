"""`/api/exceptions` and `/api/dead-letters`: the work queue of people.

Every change needs a `reason` and writes an audit record with the caller as actor, in the same
commit as the change (the engine's `Operations` does that for replay, skip and resolve). Replay and
skip are dry runs unless `dry_run` is false: the dry run answers what would be re-run (steps and
idempotency keys) and a `confirm` code; sending that code back with `dry_run=false` makes the call
refuse (409) if the selection changed since the dry run.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field, field_validator

from syncline.engine.operations import ActionResult, DeadLetterFilter
from syncline.engine.saga import transaction_id as transaction_of
from syncline.ledger import ExceptionStatus
from syncline.ops.api.deps import Context, Operator, Viewer
from syncline.ops.api.serialize import masked
from syncline.ops.auth import Principal
from syncline.ops.context import OpsContext

router = APIRouter(prefix="/api", tags=["work"])


class Reasoned(BaseModel):
    """Every mutating call says why."""

    reason: str = Field(min_length=1, max_length=2000, description="why; recorded in the audit trail")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason must say why (it is recorded in the audit trail)")
        return value.strip()


class AssignBody(Reasoned):
    """Give a task to a person."""

    assignee: str = Field(min_length=1, max_length=200)


class ResolveBody(Reasoned):
    """Close a task: `retry` replays its held delivery, otherwise the delivery is skipped."""

    retry: bool = True


class DeadLetterBody(Reasoned):
    """Which dead letters: one delivery, or a filter (at least one field)."""

    delivery_id: int | None = None
    flow: str | None = None
    ordering_key: str | None = None
    error_class: str | None = None
    event_type: str | None = None
    transaction_id: str | None = None
    dry_run: bool = True
    confirm: str | None = Field(None, description="the dry run's confirm code")


class ReplayBody(DeadLetterBody):
    """Replay, optionally re-running from a step number."""

    from_step: int | None = Field(None, ge=1)


@router.get("/exceptions")
def list_exceptions(
    status: ExceptionStatus | None = None,
    owner_role: str | None = None,
    transaction_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Viewer,
    context: OpsContext = Context,
) -> list[dict[str, Any]]:
    """Exception tasks, oldest first."""
    tasks = context.ledger.list_exceptions(
        status=status, owner_role=owner_role, transaction_id=transaction_id, limit=limit
    )
    result: list[dict[str, Any]] = masked(tasks, principal.role)
    return result


@router.post("/exceptions/{exception_id}/assign")
def assign(
    exception_id: str, body: AssignBody, principal: Principal = Operator, context: OpsContext = Context
) -> dict[str, Any]:
    """Give a task to a person (operator)."""
    task = context.operations.assign_exception(
        exception_id, body.assignee, actor=principal.name, reason=body.reason
    )
    result: dict[str, Any] = masked(task, principal.role)
    return result


@router.post("/exceptions/{exception_id}/resolve")
def resolve(
    exception_id: str, body: ResolveBody, principal: Principal = Operator, context: OpsContext = Context
) -> dict[str, Any]:
    """Close a task and replay (retry) or skip its held delivery (operator)."""
    if context.ledger.get_exception(exception_id) is None:
        raise HTTPException(status_code=404, detail=f"no exception task {exception_id!r}")
    task, action = context.operations.resolve_exception(
        exception_id, actor=principal.name, reason=body.reason, retry=body.retry
    )
    result: dict[str, Any] = masked(
        {"task": task, "action": action.as_dict() if action else None}, principal.role
    )
    return result


@router.get("/dead-letters")
def list_dead_letters(
    flow: str | None = None,
    error_class: str | None = None,
    event_type: str | None = None,
    transaction_id: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Viewer,
    context: OpsContext = Context,
) -> list[dict[str, Any]]:
    """Parked deliveries with their event type and transaction, oldest first."""
    selection = DeadLetterFilter(
        flow=flow, error_class=error_class, event_type=event_type, transaction_id=transaction_id
    )
    letters = context.operations.list_dead_letters(selection, limit=limit)
    rows = [
        {
            "delivery_id": letter.delivery.id,
            "flow": letter.delivery.consumer,
            "event_id": letter.delivery.event_id,
            "event_type": letter.event_type,
            "subject": letter.subject,
            "ordering_key": letter.delivery.ordering_key,
            "transaction_id": letter.transaction_id,
            "attempts": letter.delivery.attempts,
            "error_class": letter.delivery.last_error_class,
            "error": letter.delivery.last_error_message,
            "parked_at": letter.delivery.updated_at,
        }
        for letter in letters
    ]
    result: list[dict[str, Any]] = masked(rows, principal.role)
    return result


def _selection(context: OpsContext, body: DeadLetterBody) -> DeadLetterFilter:
    flow, tx = body.flow, body.transaction_id
    if body.delivery_id is not None:
        delivery = context.ledger.get_delivery(body.delivery_id)
        if delivery is None:
            raise HTTPException(status_code=404, detail=f"no delivery {body.delivery_id}")
        flow, tx = delivery.consumer, transaction_of(delivery.consumer, delivery.event_id)
    selection = DeadLetterFilter(
        flow=flow,
        ordering_key=body.ordering_key,
        error_class=body.error_class,
        event_type=body.event_type,
        transaction_id=tx,
    )
    if selection.is_empty():
        raise HTTPException(
            status_code=422, detail="say which dead letters: delivery_id or at least one filter"
        )
    return selection


def with_event_data(context: OpsContext, plan: ActionResult) -> dict[str, Any]:
    """The plan with each item's event data: what the re-run steps would work from and send."""
    document = plan.as_dict()
    with context.ledger.read() as session:
        found = session.events_by_id([item["event_id"] for item in document["items"]])
    for item in document["items"]:
        event = found.get(item["event_id"])
        item["event_data"] = dict(event.payload) if event is not None else None
    return document


def confirm_code(plan: ActionResult, from_step: int | None = None) -> str:
    """A short digest of what a dry run selected; changes when the selection changes."""
    ids = ",".join(str(item.dead_letter.delivery.id) for item in plan.items)
    return hashlib.sha256(f"{plan.action}|{ids}|{from_step}".encode()).hexdigest()[:16]


def _act(
    context: OpsContext, principal: Principal, body: DeadLetterBody, action: str, from_step: int | None
) -> dict[str, Any]:
    selection = _selection(context, body)
    ops = context.operations
    plan = ops.act(
        action, selection, actor=principal.name, reason=body.reason, from_step=from_step, dry_run=True
    )
    code = confirm_code(plan, from_step)
    if not plan.items:
        raise HTTPException(status_code=404, detail="no dead letters match this selection")
    if body.dry_run:
        result = {**with_event_data(context, plan), "confirm": code}
    else:
        if body.confirm is not None and body.confirm != code:
            raise HTTPException(
                status_code=409, detail="the matching dead letters changed since the dry run; run it again"
            )
        done = ops.act(action, selection, actor=principal.name, reason=body.reason, from_step=from_step)
        result = done.as_dict()
    masked_result: dict[str, Any] = masked(result, principal.role)
    return masked_result


@router.post("/dead-letters/replay")
def replay(
    body: ReplayBody, principal: Principal = Operator, context: OpsContext = Context
) -> dict[str, Any]:
    """Dry run by default: what would be re-run; with `dry_run=false`, re-open them (operator)."""
    return _act(context, principal, body, "replay", body.from_step)


@router.post("/dead-letters/skip")
def skip(
    body: DeadLetterBody, principal: Principal = Operator, context: OpsContext = Context
) -> dict[str, Any]:
    """Dry run by default; with `dry_run=false`, give up on them so their keys move on (operator)."""
    return _act(context, principal, body, "skip", None)


__all__ = [
    "AssignBody",
    "DeadLetterBody",
    "Reasoned",
    "ReplayBody",
    "ResolveBody",
    "confirm_code",
    "router",
    "with_event_data",
]
