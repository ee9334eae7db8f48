"""Flows for the crash-safety test: six steps, each a real HTTP call to a counting endpoint.

Loaded by a real `syncline worker --flows crash_flows` subprocess. Each call carries the step's
idempotency key and the trace headers, as a connector would.
"""

from __future__ import annotations

import os

import httpx

from syncline.engine.classify import classify_response
from syncline.engine.saga import Flow, Step, StepContext
from syncline.engine.tracing import inject_trace_headers

_client: httpx.AsyncClient | None = None


def client() -> httpx.AsyncClient:
    global _client
    if _client is None:
        _client = httpx.AsyncClient(
            base_url=os.environ["CRASH_ENDPOINT"], timeout=60, event_hooks={"request": [inject_trace_headers]}
        )
    return _client


async def call_endpoint(ctx: StepContext) -> str:
    response = await client().post(
        "/effects",
        json={"transaction": ctx.transaction_id, "step": ctx.step_name, "order": ctx.event.subject},
        headers={"Idempotency-Key": ctx.idempotency_key},
    )
    error = classify_response(response, system="counting")
    if error is not None:
        raise error
    return str(response.json()["id"])


FLOWS = [
    Flow(
        "crash_q2c",
        1,
        tuple(Step(f"s{n}", call_endpoint, target_system="counting") for n in range(1, 7)),
        triggers=("syncline.order.accepted.v1",),
    )
]
