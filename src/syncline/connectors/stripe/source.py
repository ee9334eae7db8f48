"""Reads from Stripe: signed webhooks in, gap-fill from `/v1/events`, translation to canonical events.

Order of work for a delivery (DESIGN.md invariants 1 and 2): verify the signature on the RAW body,
record the Stripe event durably under its id in the inbox (a unique index makes a redelivery a
no-op), answer 2xx; translation to canonical `invoice.posted` / `payment.applied` happens after,
from the stored event. Stripe neither orders nor de-duplicates deliveries, so nothing here assumes
either; the event id is the only identity, `created` the only clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import stripe
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from syncline.connectors.stripe.client import StripeSettings
from syncline.connectors.stripe.errors import SYSTEM, WebhookSignatureInvalid, classify_stripe_error
from syncline.connectors.stripe.mapping import (
    canonical_id_from,
    invoice_from_stripe,
    payment_from_stripe,
    subscription_from_stripe,
)
from syncline.contracts import EventEnvelope, new_event
from syncline.errors import ContractViolation, RetryableError

EVENTS_RETENTION_S = 30 * 86400
"""`/v1/events` lists the last 30 days; a longer outage needs a full reconciliation instead."""


# signatures -------------------------------------------------------------------------------------


def _parse_signature_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise WebhookSignatureInvalid(
                    "Stripe-Signature has a malformed timestamp", system=SYSTEM
                ) from None
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookSignatureInvalid("Stripe-Signature lacks t= or v1=", system=SYSTEM, code="no_signature")
    return timestamp, signatures


class WebhookVerifier:
    """Checks `Stripe-Signature` against every configured secret (two during a rotation overlap).

    HMAC-SHA256 over `"{t}.{raw body}"` keyed by the whole `whsec_...` string, compared in constant
    time with each `v1=` value; deliveries older than the tolerance are refused (replay protection).
    """

    def __init__(
        self,
        secrets: Sequence[SecretStr],
        *,
        tolerance_s: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secrets:
            raise ValueError("WebhookVerifier needs at least one webhook secret")
        self._secrets = tuple(secrets)
        self.tolerance_s = tolerance_s
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: StripeSettings) -> WebhookVerifier:
        """The verifier for the configured secrets (both, during a rotation) and tolerance."""
        return cls(settings.webhook_secrets, tolerance_s=settings.webhook_tolerance_s)

    def verify(self, raw_body: bytes, signature_header: str | None) -> dict[str, Any]:
        """The parsed event when a secret signed exactly these bytes recently; else raise."""
        if not signature_header:
            raise WebhookSignatureInvalid("no Stripe-Signature header", system=SYSTEM, code="no_signature")
        timestamp, signatures = _parse_signature_header(signature_header)
        if abs(self.clock() - timestamp) > self.tolerance_s:
            raise WebhookSignatureInvalid(
                f"signature timestamp {timestamp} is outside the {self.tolerance_s}s tolerance",
                system=SYSTEM,
                code="timestamp_outside_tolerance",
            )
        signed = f"{timestamp}.".encode() + raw_body
        for secret in self._secrets:
            expected = hmac.new(secret.get_secret_value().encode(), signed, hashlib.sha256).hexdigest()
            if any(hmac.compare_digest(expected, given) for given in signatures):
                return _parse_event(raw_body)
        raise WebhookSignatureInvalid(
            "no signature matches a configured secret", system=SYSTEM, code="no_match"
        )


def _parse_event(raw_body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ContractViolation(f"webhook body is not JSON: {error}", system=SYSTEM) from None
    if not isinstance(event, dict) or event.get("object") != "event" or not event.get("id"):
        raise ContractViolation("webhook body is not a Stripe event object", system=SYSTEM)
    return cast(dict[str, Any], event)


# ingest -----------------------------------------------------------------------------------------


class WebhookInbox(Protocol):
    """Durable "seen before?" store; the engine's inbox implements it over the ledger.

    `record_once` must commit before returning and rely on a unique index on (source, message id),
    so two racing deliveries of one event cannot both return True.
    """

    async def record_once(self, source: str, message_id: str, payload: bytes) -> bool:
        """Store the message unless already stored; True when this call stored it."""
        ...


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one delivery: the Stripe event, and whether it was a repeat."""

    event_id: str
    event_type: str
    duplicate: bool


class StripeWebhookIngest:
    """Verify, then record once. Duplicates are acknowledged too (so Stripe stops retrying)."""

    def __init__(self, verifier: WebhookVerifier, inbox: WebhookInbox, source: str = SYSTEM) -> None:
        self.verifier = verifier
        self.inbox = inbox
        self.source = source

    async def receive(self, raw_body: bytes, signature_header: str | None) -> IngestOutcome:
        event = self.verifier.verify(raw_body, signature_header)
        stored = await self.inbox.record_once(self.source, str(event["id"]), raw_body)
        return IngestOutcome(str(event["id"]), str(event["type"]), duplicate=not stored)


#: Seconds Stripe is asked to wait after a 503 when the fault did not say (Stripe's own schedule
#: backs off further on repeated failures).
RETRY_AFTER_S = 30


def retry_later(error: RetryableError) -> JSONResponse:
    """A 503 with `Retry-After` (the fault's own, rounded up, else RETRY_AFTER_S): Stripe retries
    any non-2xx, and this tells it (and whoever reads the endpoint's log) the fault is passing."""
    wait = math.ceil(error.retry_after) if error.retry_after else RETRY_AFTER_S
    return JSONResponse({"error": str(error)}, status_code=503, headers={"Retry-After": str(wait)})


def webhook_app(ingest: StripeWebhookIngest, path: str = "/webhooks/stripe") -> Starlette:
    """A minimal ASGI receiver: 400 for a bad signature (Stripe shows it), 503 when recording met a
    fault another attempt may fix, 200 once recorded."""

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            outcome = await ingest.receive(raw, request.headers.get("stripe-signature"))
        except WebhookSignatureInvalid as error:
            return JSONResponse({"error": error.code or "invalid_signature"}, status_code=400)
        except ContractViolation as error:
            return JSONResponse({"error": error.message}, status_code=400)
        except RetryableError as error:
            return retry_later(error)
        return JSONResponse({"received": outcome.event_id, "duplicate": outcome.duplicate})

    return Starlette(routes=[Route(path, endpoint, methods=["POST"])])


# gap-fill ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventCheckpoint:
    """How far `/v1/events` has been read: the newest `created` second seen and the ids at that second.

    Stripe timestamps are whole seconds and ids are not ordered, so the ids already taken at the
    boundary second are kept to avoid both gaps and repeats when the next read starts at that second.
    """

    created: int
    ids_at_created: frozenset[str] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        return {"created": self.created, "ids_at_created": sorted(self.ids_at_created)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EventCheckpoint:
        return cls(int(data["created"]), frozenset(str(i) for i in data.get("ids_at_created", ())))


@dataclass(frozen=True)
class GapFill:
    """Events missed since the checkpoint, oldest first, and the checkpoint after them."""

    events: tuple[dict[str, Any], ...]
    checkpoint: EventCheckpoint
    window_exceeded: bool = False


def select_new_events(
    listed_newest_first: Sequence[Mapping[str, Any]], checkpoint: EventCheckpoint, *, now: float
) -> GapFill:
    """Pure: from a `/v1/events` listing (newest first, `created >= checkpoint.created`), the new events."""
    fresh = [
        dict(e)
        for e in reversed(listed_newest_first)
        if e["created"] > checkpoint.created
        or (e["created"] == checkpoint.created and e["id"] not in checkpoint.ids_at_created)
    ]
    newest = max([checkpoint.created, *(int(e["created"]) for e in fresh)])
    at_newest = {str(e["id"]) for e in fresh if e["created"] == newest}
    if newest == checkpoint.created:
        at_newest |= checkpoint.ids_at_created
    exceeded = checkpoint.created < now - EVENTS_RETENTION_S
    return GapFill(tuple(fresh), EventCheckpoint(newest, frozenset(at_newest)), exceeded)


async def gap_fill(
    client: stripe.StripeClient,
    checkpoint: EventCheckpoint,
    *,
    types: Sequence[str] = (),
    now: float | None = None,
) -> GapFill:
    """Read every event since the checkpoint from `/v1/events`; nothing is stored here.

    The caller pushes the events through the same inbox as webhooks (so overlap with deliveries is
    harmless) and saves the returned checkpoint only after they are durable.
    """
    params: dict[str, Any] = {"created": {"gte": checkpoint.created}, "limit": 100}
    if types:
        params["types"] = list(types)
    listed: list[dict[str, Any]] = []
    while True:
        try:
            page = await client.v1.events.list_async(cast(Any, params))
        except stripe.StripeError as error:
            raise classify_stripe_error(error) from error
        listed += [event.to_dict() for event in page.data]
        if not page.has_more or not page.data:
            break
        params["starting_after"] = page.data[-1].id
    return select_new_events(listed, checkpoint, now=time.time() if now is None else now)


# translation to canonical events -----------------------------------------------------------------

INVOICE_POSTED = "syncline.invoice.posted.v1"
SUBSCRIPTION_ACTIVATED = "syncline.subscription.activated.v1"
PAYMENT_APPLIED = "syncline.payment.applied.v1"
INVOICE_POSTING_EVENTS = frozenset(
    {
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.voided",
        "invoice.marked_uncollectible",
    }
)
PAYMENT_EVENTS = frozenset({"invoice_payment.paid"})


class StripeLookups:
    """Cached reads the translation needs: canonical customer ids and SKUs of prices."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self.client = client
        self._customers: dict[str, str] = {}
        self._skus: dict[str, str] = {}

    async def _retrieve(
        self, kind: str, object_id: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        service = getattr(self.client.v1, kind)
        try:
            obj = await service.retrieve_async(object_id, cast(Any, dict(params or {})))
        except stripe.StripeError as error:
            raise classify_stripe_error(error) from error
        return cast(dict[str, Any], obj.to_dict())

    async def customer_id(self, stripe_customer_id: str) -> str:
        if stripe_customer_id not in self._customers:
            customer = await self._retrieve("customers", stripe_customer_id)
            self._customers[stripe_customer_id] = canonical_id_from(customer)
        return self._customers[stripe_customer_id]

    async def skus(self, price_ids: Sequence[str]) -> dict[str, str]:
        for price_id in price_ids:
            if price_id not in self._skus:
                price = await self._retrieve("prices", price_id, {"expand": ["product"]})
                self._skus[price_id] = _sku_of_price(price)
        return {p: self._skus[p] for p in price_ids if self._skus.get(p)}

    async def invoice(self, invoice_id: str) -> dict[str, Any]:
        return await self._retrieve("invoices", invoice_id)

    async def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        """Every line of an invoice (an invoice object embeds only the first ten)."""
        lines: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            try:
                page = await self.client.v1.invoices.line_items.list_async(invoice_id, cast(Any, params))
            except stripe.StripeError as error:
                raise classify_stripe_error(error) from error
            lines += [line.to_dict() for line in page.data]
            if not page.has_more or not page.data:
                return lines
            params["starting_after"] = page.data[-1].id


def _sku_of_price(price: Mapping[str, Any]) -> str:
    """Price metadata, else the lookup key's SKU part, else the product's metadata (our conventions)."""
    key = price.get("lookup_key")
    product = price.get("product")
    product_meta = (product.get("metadata") or {}) if isinstance(product, Mapping) else {}
    sku = (
        (price.get("metadata") or {}).get("sku")
        or (str(key).split(":", 1)[0] if key else None)
        or product_meta.get("sku")
    )
    return str(sku or "")


LIVE = frozenset({"active", "trialing"})


def _activates(event: Mapping[str, Any]) -> bool:
    """A subscription created live, or leaving `incomplete` for live: billing activated it."""
    kind = str(event["type"])
    status = event["data"]["object"].get("status")
    if kind == "customer.subscription.created":
        return status in LIVE
    previous = (event["data"].get("previous_attributes") or {}).get("status")
    return kind == "customer.subscription.updated" and previous == "incomplete" and status in LIVE


class StripeEventTranslator:
    """Stripe events -> canonical envelopes, with deterministic ids (source, object id, event id)."""

    def __init__(self, lookups: StripeLookups, instance: str = "default") -> None:
        self.lookups = lookups
        self.instance = instance

    async def translate(self, event: Mapping[str, Any]) -> list[EventEnvelope]:
        kind = str(event["type"])
        obj = event["data"]["object"]
        if kind in INVOICE_POSTING_EVENTS and obj.get("number"):
            return [await self._invoice_posted(event, obj)]
        if kind in PAYMENT_EVENTS and obj.get("status") == "paid":
            return [await self._payment_applied(event, obj)]
        if _activates(event):
            return [await self._subscription_activated(event, obj)]
        return []

    async def _subscription_activated(
        self, event: Mapping[str, Any], sub: Mapping[str, Any]
    ) -> EventEnvelope:
        customer_id = await self.lookups.customer_id(str(sub["customer"]))
        as_of = datetime.fromtimestamp(int(event["created"]), UTC)
        data = subscription_from_stripe(sub, customer_id=customer_id, as_of=as_of)
        return self._envelope(SUBSCRIPTION_ACTIVATED, data.id, data, str(sub["id"]), event, customer_id)

    async def _invoice_posted(self, event: Mapping[str, Any], invoice: Mapping[str, Any]) -> EventEnvelope:
        if invoice["lines"].get("has_more"):
            every_line = await self.lookups.invoice_lines(str(invoice["id"]))
            invoice = {**invoice, "lines": {**invoice["lines"], "data": every_line, "has_more": False}}
        price_ids = [
            str(line["pricing"]["price_details"]["price"])
            for line in invoice["lines"]["data"]
            if (line.get("pricing") or {}).get("price_details")
        ]
        data = invoice_from_stripe(
            invoice,
            customer_id=await self.lookups.customer_id(str(invoice["customer"])),
            sku_by_price=await self.lookups.skus(price_ids),
        )
        return self._envelope(INVOICE_POSTED, data.id, data, str(invoice["id"]), event, data.customer_id)

    async def _payment_applied(
        self, event: Mapping[str, Any], invoice_payment: Mapping[str, Any]
    ) -> EventEnvelope:
        invoice = await self.lookups.invoice(str(invoice_payment["invoice"]))
        data = payment_from_stripe(
            invoice_payment, invoice, customer_id=await self.lookups.customer_id(str(invoice["customer"]))
        )
        return self._envelope(
            PAYMENT_APPLIED, data.id, data, str(invoice_payment["id"]), event, data.customer_id
        )

    def _envelope(
        self,
        event_type: str,
        subject: str,
        data: Any,
        record_id: str,
        event: Mapping[str, Any],
        customer_id: str,
    ) -> EventEnvelope:
        """Ordered per customer (the canonical entity billing events hang from), like the examples."""
        return new_event(
            event_type,
            subject=subject,
            data=data,
            source_system=SYSTEM,
            record_id=record_id,
            change_marker=str(event["id"]),
            partition_key=customer_id,
            instance=self.instance,
            time=datetime.fromtimestamp(int(event["created"]), UTC),
        )


__all__ = [
    "EVENTS_RETENTION_S",
    "INVOICE_POSTED",
    "INVOICE_POSTING_EVENTS",
    "PAYMENT_APPLIED",
    "PAYMENT_EVENTS",
    "RETRY_AFTER_S",
    "SUBSCRIPTION_ACTIVATED",
    "EventCheckpoint",
    "GapFill",
    "IngestOutcome",
    "StripeEventTranslator",
    "StripeLookups",
    "StripeWebhookIngest",
    "WebhookInbox",
    "WebhookVerifier",
    "gap_fill",
    "retry_later",
    "select_new_events",
    "webhook_app",
]
