"""Flow for the per-key order test: one step that reports (key, sequence) to a recording endpoint.

Events whose marker ends in "f" fail their first attempt with a transient error, so retries (and
the key's head waiting for them) are part of every interleaving.
"""

from __future__ import annotations

import asyncio
import os
import random

import httpx

from syncline.engine.saga import Flow, Step, StepContext
from syncline.errors import TransientError

_client: httpx.AsyncClient | None = None


async def apply(ctx: StepContext) -> str:
    global _client
    if _client is None:
        _client = httpx.AsyncClient(base_url=os.environ["ORDER_ENDPOINT"], timeout=30)
    marker = str(ctx.event.payload["external_id"])
    if marker.endswith("f") and ctx.attempt == 1:
        raise TransientError("first attempt fails on purpose", retry_after=0.0)
    await asyncio.sleep(random.uniform(0, 0.01))
    body = {"key": ctx.event.ordering_key, "marker": marker, "event": ctx.event.event_id, "pid": os.getpid()}
    response = await _client.post("/applied", json=body)
    response.raise_for_status()
    return marker


FLOWS = [Flow("ordered", 1, (Step("apply", apply),), triggers=("syncline.order.accepted.v1",))]
