"""The demo's Stripe webhook endpoint: the connector's receiver, fed into the runtime.

Stripe (the sandbox) posts signed events to it; the connector's `webhook_app` verifies each
signature and calls `record_once`, which translates the event and ingests it. Duplicate deliveries
(the sandbox's `webhook_duplicate_rate`) and reordered batches (`webhook_reorder`) arrive here as
they would in production: a duplicate is acknowledged and is a no-op in the ledger (the canonical
event id is deterministic), and order does not matter because each invoice's state is read whole.
The counts are kept only to tell the user what happened.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncline.connectors.stripe import WebhookSignatureInvalid
from syncline.connectors.stripe.source import StripeWebhookIngest, WebhookVerifier
from syncline.errors import ContractViolation, SynclineError

PATH = "/webhooks/stripe"
Deliver = Callable[[Sequence[dict[str, Any]]], Awaitable[object]]


@dataclass
class WebhookInbox:
    """`WebhookInbox` for the connector: hands each first delivery to the runtime."""

    deliver: Deliver | None = None
    seen: set[str] = field(default_factory=set)
    received: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    retry_later: int = 0
    _newest: int = 0

    async def record_once(self, source: str, message_id: str, payload: bytes) -> bool:
        self.received += 1
        if message_id in self.seen:
            self.duplicates += 1
            return False
        event = json.loads(payload)
        created = int(event.get("created") or 0)
        if created < self._newest:
            self.out_of_order += 1
        self._newest = max(self._newest, created)
        if self.deliver is None:
            raise RuntimeError("the runtime is not ready for webhooks yet")  # 500: Stripe retries later
        await self.deliver([event])
        self.seen.add(message_id)
        return True

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "answered_503_for_a_retry": self.retry_later,
        }


def receiver_app(ingest: StripeWebhookIngest, inbox: WebhookInbox) -> Starlette:
    """400 for a bad signature or body; 503 when ingesting hit a transient fault (Stripe retries the
    delivery later, as it does for any non-2xx); 200 once the event is committed."""

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            outcome = await ingest.receive(raw, request.headers.get("stripe-signature"))
        except (WebhookSignatureInvalid, ContractViolation) as error:
            return JSONResponse({"error": error.code or error.message}, status_code=400)
        except SynclineError as error:
            inbox.retry_later += 1
            return JSONResponse({"error": error.message}, status_code=503)
        return JSONResponse({"received": outcome.event_id, "duplicate": outcome.duplicate})

    return Starlette(routes=[Route(PATH, endpoint, methods=["POST"])])


def reserve_port() -> socket.socket:
    """A bound loopback socket on a free port, so its URL is known before Stripe starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}"


class WebhookServer:
    """uvicorn on the reserved socket, in the runtime's event loop."""

    def __init__(self, sock: socket.socket, secret: str, inbox: WebhookInbox) -> None:
        ingest = StripeWebhookIngest(WebhookVerifier([SecretStr(secret)]), inbox)
        config = uvicorn.Config(receiver_app(ingest, inbox), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.sock = sock
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        for _ in range(500):
            if self.server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError("the webhook endpoint did not start")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


__all__ = ["PATH", "WebhookInbox", "WebhookServer", "reserve_port", "url_of"]
