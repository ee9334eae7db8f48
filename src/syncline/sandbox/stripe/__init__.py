"""A faithful Stripe (Billing) sandbox: the official `stripe` SDK talks to it unchanged over HTTPS.

Customers, products, prices, subscriptions with items, invoices, payment intents, test clocks,
events and signed webhooks, with Stripe's idempotency, error shapes, rate limit, pagination and
expansion. `docs/sandboxes/stripe.md` describes behaviour, options and the seeded SKU catalog.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from syncline.sandbox.base import SandboxApp, SandboxContext
from syncline.sandbox.faults import ASGIApp, FaultRenderer
from syncline.sandbox.stripe.app import StripeApi
from syncline.sandbox.stripe.errors import StripeFaultRenderer
from syncline.sandbox.stripe.options import StripeSandboxOptions
from syncline.sandbox.stripe.seed import CATALOG, MISSING_SKUS, lookup_key, seed_catalog
from syncline.sandbox.stripe.store import API_VERSION, Store
from syncline.sandbox.stripe.webhooks import WebhookDispatcher, add_endpoint, roll_secret


def _derived(seed: int, what: str, length: int) -> str:
    return hashlib.sha256(f"syncline-stripe-sandbox:{seed}:{what}".encode()).hexdigest()[:length]


class StripeSandbox:
    """The Stripe sandbox the shared runner serves; tests also reach in through the helpers below."""

    def __init__(self, context: SandboxContext) -> None:
        self.context = context
        self.options = StripeSandboxOptions.model_validate(context.options)
        self.api_key = (
            self.options.api_keys[0]
            if self.options.api_keys
            else f"sk_test_51{_derived(context.seed, 'key', 30)}"
        )
        self.webhook_secret = f"whsec_{_derived(context.seed, 'whsec', 32)}"
        self.store = Store(context.seed)
        self.dispatcher = WebhookDispatcher(self.store, self.options, context.tls.ca_cert, context.seed)
        self.store.listeners.append(self.dispatcher.on_event)
        self.api = StripeApi(
            self.store, self.options, self.options.api_keys or [self.api_key], self.dispatcher
        )
        if self.options.seed_catalog:
            seed_catalog(self.store)
        if self.options.webhook_url:
            self.default_endpoint_id: str | None = add_endpoint(
                self.store,
                self.options.webhook_url,
                ["*"],
                self.webhook_secret,
                description="syncline default",
            )["id"]
        else:
            self.default_endpoint_id = None

    @property
    def asgi(self) -> ASGIApp:
        return self.api.app

    @property
    def fault_renderer(self) -> FaultRenderer:
        return StripeFaultRenderer()

    def info(self, base_url: str) -> dict[str, Any]:
        return {"api_base": base_url, "api_key": self.api_key, "webhook_secret": self.webhook_secret}

    def snapshot(self) -> dict[str, Any]:
        return self.store.snapshot()

    def restore(self, state: dict[str, Any]) -> None:
        self.store.restore(state)

    # test helpers (same process) ------------------------------------------------------------------

    def wait_webhooks_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued webhook delivery (including scheduled retries) has been made."""
        return self.dispatcher.wait_idle(timeout)

    def roll_webhook_secret(self, endpoint_id: str, expires_in_s: float = 86400.0) -> str:
        """Roll an endpoint's secret; the old one keeps signing for `expires_in_s` seconds."""
        with self.store.lock:
            return roll_secret(self.store, endpoint_id, expires_in_s, time.time())

    def set_rate_limit(self, per_second: int) -> None:
        self.api.limiter.per_second = per_second

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        return list(self.dispatcher.log)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The API request log (method, path, status, Idempotency-Key, replayed, traceparent)."""
        return list(self.api.request_log)


def build_sandbox(context: SandboxContext) -> StripeSandbox:
    """Entry point the runner imports (`syncline.sandbox.runner.SANDBOX_KINDS["stripe"]`)."""
    return StripeSandbox(context)


_satisfies_protocol: Callable[[SandboxContext], SandboxApp] = build_sandbox
"""mypy proves here that StripeSandbox is a SandboxApp (the runner loads it dynamically)."""


__all__ = [
    "API_VERSION",
    "CATALOG",
    "MISSING_SKUS",
    "StripeSandbox",
    "StripeSandboxOptions",
    "build_sandbox",
    "lookup_key",
]
