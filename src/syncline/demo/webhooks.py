"""The demo's Stripe webhook endpoint: the runtime's own receiver (`stripe_webhook_app`), served.

Stripe (the sandbox) posts signed events to it; the receiver verifies each signature, translates
the event and ingests it, exactly as under `syncline run`. Duplicate deliveries (the sandbox's
`webhook_duplicate_rate`) and reordered batches (`webhook_reorder`) arrive here as they would in
production: a duplicate is acknowledged and is a no-op in the ledger (the canonical event id is
deterministic), and order does not matter because each invoice's state is read whole. Until the
runtime has started, deliveries are answered 503 and Stripe delivers them again.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from pydantic import SecretStr

from syncline.engine import AcceptResult
from syncline.errors import TransientError
from syncline.runtime.webhooks import Deliver, WebhookStats, stripe_webhook_app

PATH = "/webhooks/stripe"


class LateDelivery:
    """A `Deliver` whose target is set once the runtime has started (503 until then)."""

    def __init__(self) -> None:
        self.target: Deliver | None = None

    async def __call__(self, events: Sequence[dict[str, Any]]) -> AcceptResult:
        if self.target is None:
            raise TransientError("the runtime is not ready for webhooks yet", system="syncline")
        return await self.target(events)


def reserve_port() -> socket.socket:
    """A bound loopback socket on a free port, so its URL is known before Stripe starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}{PATH}"


class WebhookServer:
    """uvicorn serving the runtime's receiver on the reserved socket, in the runtime's event loop."""

    def __init__(
        self, sock: socket.socket, secret: str, deliver: Deliver, on_stored: Callable[[str], None]
    ) -> None:
        app, self.stats = stripe_webhook_app(deliver, [SecretStr(secret)], path=PATH, on_stored=on_stored)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
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


__all__ = ["PATH", "LateDelivery", "WebhookServer", "WebhookStats", "reserve_port", "url_of"]
