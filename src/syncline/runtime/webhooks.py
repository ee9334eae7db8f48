"""Billing webhooks into the runtime: verify the signature, translate, ingest — answer after commit.

Stripe retries anything but 2xx and may deliver an event twice or out of order. The signature is
checked first (400 otherwise, which Stripe shows on the endpoint); the canonical event id derives
from (system, object, Stripe event id), so a repeated delivery is a duplicate at intake and starts
nothing; the 200 is sent only once the events are committed (DESIGN.md invariant 1). A fault that
another attempt may fix (the ledger unreachable, a rate limit while translating) answers 503 with
`Retry-After`, so Stripe delivers the event again later; anything else is a 500 with the error
logged. Order does not matter to the flows (each invoice's state is read whole), but the receiver
counts deliveries older than the newest it has seen, so people can see how much reordering there is.

This one receiver serves `syncline run` and `make demo` alike.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncline.connectors.stripe import WebhookSignatureInvalid, WebhookVerifier
from syncline.connectors.stripe.source import retry_later
from syncline.engine import AcceptResult
from syncline.errors import ContractViolation, RetryableError
from syncline.runtime.runtime import Runtime

#: Hands verified Stripe events to the runtime (`Runtime.ingest_stripe_events`).
Deliver = Callable[[Sequence[dict[str, Any]]], Awaitable[AcceptResult]]


@dataclass
class WebhookStats:
    """What the receiver saw: verified deliveries, and of those how many were repeats (every
    canonical event they carry was already in the ledger), carried nothing the flows consume,
    arrived after a newer event, or were answered 503 for a retry; refused ones failed
    verification."""

    received: int = 0
    duplicates: int = 0
    ignored: int = 0
    out_of_order: int = 0
    retry_later: int = 0
    refused: int = 0
    newest_created: int = 0

    def note_order(self, event: dict[str, Any]) -> None:
        """Count a delivery created before the newest one seen (Stripe does not keep order)."""
        created = int(event.get("created") or 0)
        if created < self.newest_created:
            self.out_of_order += 1
        self.newest_created = max(self.newest_created, created)

    def count(self, result: AcceptResult) -> None:
        """A repeat brought only events the ledger has; an ignored delivery brought none at all."""
        if result.duplicates and not result.accepted:
            self.duplicates += 1
        elif not result.duplicates and not result.accepted:
            self.ignored += 1

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "duplicates": self.duplicates,
            "ignored": self.ignored,
            "out_of_order": self.out_of_order,
            "answered_503_for_a_retry": self.retry_later,
            "refused": self.refused,
        }


def stripe_webhook_app(
    target: Runtime | Deliver,
    secrets: Sequence[SecretStr],
    *,
    path: str = "/webhooks/stripe",
    on_stored: Callable[[str], None] | None = None,
) -> tuple[Starlette, WebhookStats]:
    """An ASGI receiver for Stripe webhooks feeding a runtime (or any `Deliver`), and its counters.

    `on_stored` is told the Stripe event id of each delivery once it is committed (the demo's
    gap-fill uses it to tell which events no webhook brought).
    """
    deliver = target.ingest_stripe_events if isinstance(target, Runtime) else target
    verifier = WebhookVerifier(secrets)
    stats = WebhookStats()

    async def receive(request: Request) -> Response:
        raw = await request.body()
        try:
            event = verifier.verify(raw, request.headers.get("stripe-signature"))
        except (WebhookSignatureInvalid, ContractViolation) as error:
            stats.refused += 1
            return JSONResponse({"error": error.code or error.message}, status_code=400)
        stats.received += 1
        stats.note_order(event)
        try:
            result = await deliver([event])
        except RetryableError as error:
            stats.retry_later += 1
            return retry_later(error)
        stats.count(result)
        if on_stored is not None:
            on_stored(str(event["id"]))
        return JSONResponse({"received": event["id"], "accepted": len(result.accepted)})

    return Starlette(routes=[Route(path, receive, methods=["POST"])]), stats


__all__ = ["Deliver", "WebhookStats", "stripe_webhook_app"]
