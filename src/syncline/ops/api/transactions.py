"""`/api/transactions`: search by any business key, and one transaction's cross-system timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query

from syncline.ops.api.deps import Context, Viewer
from syncline.ops.api.serialize import masked, to_json, transaction_summary
from syncline.ops.auth import Principal
from syncline.ops.context import OpsContext
from syncline.ops.readmodel import TransactionQuery, search_transactions, transaction_detail
from syncline.ops.readmodel.search import MAX_PAGE

router = APIRouter(prefix="/api/transactions", tags=["transactions"])


@router.get("")
def search(
    q: str | None = Query(None, description="any id: transaction, correlation, Salesforce, ERP or billing"),
    flow: str | None = None,
    state: str | None = None,
    since: datetime | None = Query(None, description="created at or after (ISO 8601 with timezone)"),
    until: datetime | None = Query(None, description="created at or before (ISO 8601 with timezone)"),
    system: str | None = Query(None, description="touched this system (salesforce, netsuite, stripe, ...)"),
    error_class: str | None = Query(
        None, description="had a step fail with this class (transient, business, ...)"
    ),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
    principal: Principal = Viewer,
    context: OpsContext = Context,
) -> dict[str, Any]:
    """Transactions matching every filter given, newest activity first, one page at a time."""
    query = TransactionQuery(q, flow, state, since, until, system, error_class, limit, offset)
    with context.ledger.read() as session:
        page = search_transactions(session, query)
    return {
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "items": [transaction_summary(record) for record in page.items],
    }


@router.get("/{transaction_id}")
def detail(
    transaction_id: str, principal: Principal = Viewer, context: OpsContext = Context
) -> dict[str, Any]:
    """One transaction: summary, timeline of steps across systems, events, tasks, deliveries, audit."""
    if context.ledger.get_transaction(transaction_id) is None:
        raise HTTPException(status_code=404, detail=f"no transaction {transaction_id!r}")
    found = transaction_detail(context.ledger, context.operations, transaction_id)
    amount = found.amount()
    body = {
        "transaction": transaction_summary(found.transaction),
        "amount": {"amount": amount[0], "currency": amount[1]} if amount else None,
        "timeline": to_json(found.timeline),
        "lanes": {lane: [entry.step_no for entry in entries] for lane, entries in found.lanes.items()},
        "events": [
            {
                "event_id": e.event_id,
                "type": e.type,
                "subject": e.subject,
                "source": e.source,
                "occurred_at": to_json(e.occurred_at),
                "traceparent": e.traceparent,
                "payload": to_json(e.payload),
            }
            for e in found.events
        ],
        "deliveries": to_json(found.deliveries),
        "exceptions": to_json(found.exceptions),
        "audit": to_json(found.audit),
    }
    result: dict[str, Any] = masked(body, principal.role)
    return result


__all__ = ["router"]
