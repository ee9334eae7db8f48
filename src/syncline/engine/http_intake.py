"""`POST /ingest/{source}`: the HTTP door for webhooks and pushes, in front of `Intake.accept`.

Answers 202 only after the events are committed (invariant 1). A redelivered event answers 200
and changes nothing (invariant 2): senders such as Stripe retry on anything but 2xx, so a
duplicate must look like success. Invalid events get 422 with one entry per event naming the
broken fields; the valid events of the same batch are still accepted (and say so), and since their
ids are deterministic a sender that retries the whole batch creates no duplicates.

Body: one CloudEvents JSON document, or a JSON array of them (`application/cloudevents-batch+json`).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from syncline.engine.intake import Intake


def intake_router(intake: Intake) -> APIRouter:
    """A router with the ingest endpoint bound to `intake`."""
    router = APIRouter()

    @router.post("/ingest/{source}")
    async def ingest(source: str, request: Request) -> JSONResponse:
        """Accept one CloudEvent or a batch from `source` (the system name in the event's source URN)."""
        raw = await request.body()
        try:
            document: Any = json.loads(raw)
        except ValueError as error:
            raise HTTPException(status_code=400, detail=f"body is not JSON: {error}") from error
        events = document if isinstance(document, list) else [document]
        if not all(isinstance(item, dict) for item in events):
            raise HTTPException(
                status_code=400, detail="body must be a CloudEvent object or an array of them"
            )
        result = await run_in_threadpool(intake.accept, events, source_system=source)
        body = {
            "accepted": list(result.accepted),
            "duplicates": list(result.duplicates),
            "rejected": [item.as_dict() for item in result.rejected],
        }
        if result.rejected:
            status = 422
        elif result.accepted:
            status = 202
        else:
            status = 200
        return JSONResponse(body, status_code=status)

    return router


__all__ = ["intake_router"]
