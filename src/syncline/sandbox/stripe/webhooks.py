"""Webhook endpoints and signed delivery, with retries, duplicates and reordering on demand.

Signing is Stripe's scheme: `Stripe-Signature: t=<unix>,v1=<hex>` where the hex is
HMAC-SHA256(key=endpoint secret, message=f"{t}.{raw body}"). While a secret is being rolled, both
the new and the not-yet-expired old secret sign, so the header carries two `v1=` values and a
receiver holding either secret accepts the delivery. Stripe promises neither order nor
exactly-once delivery; the options make both failures happen on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from syncline.sandbox.stripe.errors import invalid
from syncline.sandbox.stripe.options import StripeSandboxOptions
from syncline.sandbox.stripe.params import as_list, check_known, merge_metadata, opt_bool, require
from syncline.sandbox.stripe.store import API_VERSION, Store

SECRETS = "_webhook_secret"
ENDPOINT_CREATE = {"url", "enabled_events", "description", "metadata", "api_version", "connect"}
ENDPOINT_UPDATE = {"url", "enabled_events", "description", "metadata", "disabled"}


def signature_header(payload: bytes, secrets: list[str], timestamp: int) -> str:
    """The `Stripe-Signature` value for a payload signed with each given secret."""
    signed = f"{timestamp}.".encode() + payload
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


def _new_secret(store: Store) -> str:
    return "whsec_" + "".join(store.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(32))


def add_endpoint(store: Store, url: str, events: list[str], secret: str, **extra: Any) -> dict[str, Any]:
    endpoint = {
        "id": store.new_id("we"),
        "object": "webhook_endpoint",
        "api_version": extra.get("api_version"),
        "application": None,
        "created": store.now(),
        "description": extra.get("description"),
        "enabled_events": events,
        "livemode": False,
        "metadata": extra.get("metadata") or {},
        "status": "enabled",
        "url": url,
    }
    store.put(endpoint)
    store.put({"id": endpoint["id"], "object": SECRETS, "secrets": [{"secret": secret, "expires_at": None}]})
    return endpoint


def _check_url(url: Any) -> str:
    text = str(url)
    if not text.startswith(("https://", "http://")):
        raise invalid(
            f"Invalid URL: {text}. URLs must begin with http:// or https://", param="url", code="url_invalid"
        )
    return text


def create_endpoint(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, ENDPOINT_CREATE)
    url = _check_url(require(params, "url"))
    events = [str(e) for e in as_list(require(params, "enabled_events"), "enabled_events")]
    secret = _new_secret(store)
    endpoint = add_endpoint(
        store,
        url,
        events,
        secret,
        description=params.get("description") or None,
        metadata=merge_metadata({}, params.get("metadata")),
        api_version=params.get("api_version") or None,
    )
    return {**endpoint, "secret": secret}


def update_endpoint(store: Store, endpoint_id: str, params: dict[str, Any]) -> dict[str, Any]:
    check_known(params, ENDPOINT_UPDATE)
    endpoint = store.require("webhook_endpoint", endpoint_id)
    if "url" in params:
        endpoint["url"] = _check_url(params["url"])
    if "enabled_events" in params:
        endpoint["enabled_events"] = [str(e) for e in as_list(params["enabled_events"], "enabled_events")]
    if "description" in params:
        endpoint["description"] = params["description"] or None
    if "disabled" in params:
        endpoint["status"] = "disabled" if opt_bool(params, "disabled") else "enabled"
    endpoint["metadata"] = merge_metadata(endpoint["metadata"], params.get("metadata"))
    return endpoint


def delete_endpoint(store: Store, endpoint_id: str) -> dict[str, Any]:
    store.require("webhook_endpoint", endpoint_id)
    store.remove("webhook_endpoint", endpoint_id)
    store.remove(SECRETS, endpoint_id)
    return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}


def roll_secret(store: Store, endpoint_id: str, expires_in_s: float, now: float) -> str:
    """Stripe's "roll secret": a new secret now; the old one keeps signing until it expires."""
    store.require("webhook_endpoint", endpoint_id)
    record = store.require(SECRETS, endpoint_id)
    for entry in record["secrets"]:
        if entry["expires_at"] is None or entry["expires_at"] > now + expires_in_s:
            entry["expires_at"] = now + expires_in_s
    secret = _new_secret(store)
    record["secrets"].insert(0, {"secret": secret, "expires_at": None})
    return secret


def active_secrets(store: Store, endpoint_id: str, now: float) -> list[str]:
    record = store.get(SECRETS, endpoint_id) or {"secrets": []}
    return [e["secret"] for e in record["secrets"] if e["expires_at"] is None or e["expires_at"] > now]


@dataclass
class Delivery:
    """One attempt to deliver one event to one endpoint."""

    event_id: str
    endpoint_id: str
    attempt: int
    due: float
    duplicate: bool = False


class WebhookDispatcher:
    """Queues an attempt per matching endpoint for each event and sends them from the server loop."""

    def __init__(self, store: Store, opts: StripeSandboxOptions, ca_file: Path, seed: int) -> None:
        self.store = store
        self.opts = opts
        self.ca_file = ca_file
        self.rng = random.Random(seed + 7919)
        self.pending: list[Delivery] = []
        self.in_flight = 0
        self.log: list[dict[str, Any]] = []
        self._idle = threading.Event()
        self._idle.set()
        self._wake: asyncio.Event | None = None

    def on_event(self, event: dict[str, Any]) -> None:
        """Store listener: called on the server thread whenever an event is recorded."""
        for endpoint in self.store.all("webhook_endpoint"):
            wanted = endpoint["enabled_events"]
            if endpoint["status"] == "enabled" and ("*" in wanted or event["type"] in wanted):
                event["pending_webhooks"] += 1
                due = time.monotonic() + self.opts.webhook_delay_s
                self._enqueue(Delivery(event["id"], endpoint["id"], 1, due))

    def _enqueue(self, delivery: Delivery) -> None:
        self.pending.append(delivery)
        self._idle.clear()
        if self._wake is not None:
            self._wake.set()

    def wait_idle(self, timeout: float) -> bool:
        """Block (another thread) until nothing is queued or in flight; False on timeout."""
        return self._idle.wait(timeout)

    async def run(self) -> None:
        """Deliver forever; cancelled by the app's lifespan at shutdown."""
        self._wake = asyncio.Event()
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=str(self.ca_file))
        limit = asyncio.Semaphore(self.opts.webhook_concurrency)
        async with httpx.AsyncClient(verify=context, timeout=self.opts.webhook_timeout_s) as client:
            while True:
                due = self._take_due()
                if due:
                    await asyncio.gather(*(self._deliver(client, limit, d) for d in due))
                    continue
                self._settle_idle()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._sleep_for())

    def _take_due(self) -> list[Delivery]:
        now = time.monotonic()
        due = [d for d in self.pending if d.due <= now]
        if not due:
            return []
        self.pending = [d for d in self.pending if d.due > now]
        if self.opts.webhook_reorder:
            self.rng.shuffle(due)
        self.in_flight += len(due)
        return due

    def _sleep_for(self) -> float:
        if not self.pending:
            return 3600.0
        return max(0.0, min(d.due for d in self.pending) - time.monotonic())

    def _settle_idle(self) -> None:
        if not self.pending and self.in_flight == 0:
            self._idle.set()

    async def _deliver(self, client: httpx.AsyncClient, limit: asyncio.Semaphore, delivery: Delivery) -> None:
        try:
            async with limit:
                ok, status = await self._post(client, delivery)
            self._after(delivery, ok, status)
        finally:
            self.in_flight -= 1

    async def _post(self, client: httpx.AsyncClient, delivery: Delivery) -> tuple[bool, int | None]:
        event = self.store.get("event", delivery.event_id)
        endpoint = self.store.get("webhook_endpoint", delivery.endpoint_id)
        if event is None or endpoint is None:
            return True, None
        payload = json.dumps(event, indent=2).encode()
        now = time.time()
        header = signature_header(payload, active_secrets(self.store, endpoint["id"], now), int(now))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": header,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            response = await client.post(endpoint["url"], content=payload, headers=headers)
        except httpx.HTTPError:
            return False, None
        return 200 <= response.status_code < 300, response.status_code

    def _after(self, delivery: Delivery, ok: bool, status: int | None) -> None:
        self.log.append(
            {
                "event": delivery.event_id,
                "endpoint": delivery.endpoint_id,
                "attempt": delivery.attempt,
                "status": status,
                "ok": ok,
            }
        )
        event = self.store.get("event", delivery.event_id)
        delays = self.opts.webhook_retry_delays_s
        if not ok and delivery.attempt <= len(delays):
            retry_at = time.monotonic() + delays[delivery.attempt - 1]
            retry = Delivery(
                delivery.event_id, delivery.endpoint_id, delivery.attempt + 1, retry_at, delivery.duplicate
            )
            self._enqueue(retry)
            return
        if delivery.duplicate:
            return
        if event is not None and event["pending_webhooks"] > 0:
            event["pending_webhooks"] -= 1
        if ok and self.rng.random() < self.opts.webhook_duplicate_rate:
            again = time.monotonic() + self.opts.webhook_delay_s
            self._enqueue(Delivery(delivery.event_id, delivery.endpoint_id, delivery.attempt, again, True))


__all__ = [
    "API_VERSION",
    "Delivery",
    "WebhookDispatcher",
    "active_secrets",
    "add_endpoint",
    "create_endpoint",
    "delete_endpoint",
    "roll_secret",
    "signature_header",
    "update_endpoint",
]
