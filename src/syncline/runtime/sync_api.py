"""Synchronous validation mode: create a customer and answer with the ERP's verdict within a timeout.

`customer_sync_router(runtime)` is a small FastAPI router the ops app (or any ASGI app) can mount.
It does not bypass the engine: it ingests the same `customer.created` event the CRM would send and
waits for that transaction, so a synchronous request and an event-driven one leave the same ledger
trail and can never create the customer twice.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from syncline.contracts import Customer, new_event
from syncline.engine import transaction_id
from syncline.runtime.runtime import Runtime

DONE = {"completed", "exception", "dead_lettered", "aborted"}


class SyncVerdict(BaseModel):
    """What the caller learns: the transaction's state and, when known, the ERP's answer."""

    transaction_id: str
    state: str
    erp_customer_id: str | None = None
    reason_code: str | None = None
    message: str | None = None


async def validate_customer(runtime: Runtime, customer: Customer, *, timeout_s: float) -> SyncVerdict:
    """Ingest the customer, wait for its transaction to settle (or the timeout), report."""
    event = new_event(
        "syncline.customer.created.v1",
        subject=customer.id,
        data=customer,
        source_system="salesforce",
        record_id=customer.external_ids.get("salesforce") or customer.id,
        change_marker=f"sync:{customer.updated_at.isoformat()}",
    )
    await runtime.ingest([event])
    tx = transaction_id("customer", event.id)
    deadline = time.monotonic() + timeout_s
    state = "pending"
    while time.monotonic() < deadline:
        record = await asyncio.to_thread(_transaction, runtime, tx)
        state = record.state if record is not None else "pending"
        if state in DONE:
            break
        await asyncio.sleep(0.05)
    return await asyncio.to_thread(_verdict, runtime, tx, state)


def _transaction(runtime: Runtime, tx: str) -> Any:
    with runtime.ledger.read() as session:
        return session.get_transaction(tx)


def _verdict(runtime: Runtime, tx: str, state: str) -> SyncVerdict:
    with runtime.ledger.read() as session:
        steps = {line.name: line for line in session.steps_of(tx)}
        tasks = session.list_exceptions(transaction_id=tx)
    decision = steps.get("erp_decision")
    task = tasks[-1] if tasks else None
    return SyncVerdict(
        transaction_id=tx,
        state=state,
        erp_customer_id=decision.external_id if decision is not None else None,
        reason_code=task.reason_code if task is not None else None,
        message=task.message if task is not None else None,
    )


def customer_sync_router(runtime: Runtime, *, timeout_s: float = 10.0) -> APIRouter:
    """`POST /sync/customers` with a canonical Customer: 200 with the verdict (202 when still pending)."""
    router = APIRouter()

    @router.post("/sync/customers", response_model=SyncVerdict)
    async def create_customer(customer: dict[str, Any]) -> Any:
        try:
            model = Customer.model_validate({"updated_at": datetime.now(UTC), **customer})
        except ValueError as error:
            raise HTTPException(status_code=422, detail=str(error)) from error
        verdict = await validate_customer(runtime, model, timeout_s=timeout_s)
        if verdict.state not in DONE:
            from fastapi.responses import JSONResponse

            return JSONResponse(verdict.model_dump(), status_code=202)
        return verdict

    return router


__all__ = ["SyncVerdict", "customer_sync_router", "validate_customer"]
