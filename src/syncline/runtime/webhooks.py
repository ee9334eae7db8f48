"""Billing webhooks into the runtime: verify the signature, translate, ingest — answer after commit.

Stripe retries anything but 2xx and may deliver an event twice or out of order. The signature is
checked first (400 otherwise, which Stripe shows on the endpoint); the canonical event id derives
from (system, object, Stripe event id), so a repeated delivery is a duplicate at intake and starts
nothing; the 200 is sent only once the events are committed (DESIGN.md invariant 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncline.connectors.stripe import WebhookSignatureInvalid, WebhookVerifier
from syncline.errors import ContractViolation
from syncline.runtime.runtime import Runtime


@dataclass
class WebhookStats:
    """Deliveries received, and how many carried nothing new."""

    received: int = 0
    duplicates: int = 0
    refused: int = 0


def stripe_webhook_app(
    runtime: Runtime, secrets: Sequence[SecretStr], *, path: str = "/webhooks/stripe"
) -> tuple[Starlette, WebhookStats]:
    """An ASGI receiver for Stripe webhooks feeding `runtime`, and its delivery counters."""
    verifier = WebhookVerifier(secrets)
    stats = WebhookStats()

    async def receive(request: Request) -> Response:
        raw = await request.body()
        try:
            event = verifier.verify(raw, request.headers.get("stripe-signature"))
        except (WebhookSignatureInvalid, ContractViolation) as error:
            stats.refused += 1
            return JSONResponse({"error": error.code or "invalid"}, status_code=400)
        stats.received += 1
        result = await runtime.ingest_stripe_events([event])
        if not result.accepted:
            stats.duplicates += 1
        return JSONResponse({"received": event["id"], "accepted": len(result.accepted)})

    return Starlette(routes=[Route(path, receive, methods=["POST"])]), stats


__all__ = ["WebhookStats", "stripe_webhook_app"]
