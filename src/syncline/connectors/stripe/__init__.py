"""Stripe connector: the official SDK (async, HTTPX) behind Syncline's billing port.

`client` builds the SDK client (base URL, CA, no SDK retries); `sink` writes customers, catalog and
subscriptions with deterministic idempotency keys; `source` verifies and records webhooks, gap-fills
from `/v1/events` and translates to canonical events; `mapping` holds the pure conversions;
`errors` classifies every Stripe failure. Setup: docs/connectors/stripe.md.
"""

from syncline.connectors.stripe.client import (
    DEFAULT_API_BASE,
    CATrustingHTTPXClient,
    StripeSettings,
    build_http_client,
    build_stripe_client,
)
from syncline.connectors.stripe.errors import WebhookSignatureInvalid, classify_stripe_error
from syncline.connectors.stripe.mapping import (
    AmendmentDirection,
    CatalogPrice,
    ProrationPolicy,
    amendment_params,
    customer_params,
    invoice_from_stripe,
    lookup_key,
    payment_from_stripe,
    price_params,
    product_params,
    subscription_from_stripe,
    subscription_params,
)
from syncline.connectors.stripe.sink import StripeBillingSink, SubscriptionWrite, idempotency_key
from syncline.connectors.stripe.source import (
    EventCheckpoint,
    GapFill,
    IngestOutcome,
    StripeEventTranslator,
    StripeLookups,
    StripeWebhookIngest,
    WebhookInbox,
    WebhookVerifier,
    gap_fill,
    select_new_events,
    webhook_app,
)

__all__ = [
    "DEFAULT_API_BASE",
    "AmendmentDirection",
    "CATrustingHTTPXClient",
    "CatalogPrice",
    "EventCheckpoint",
    "GapFill",
    "IngestOutcome",
    "ProrationPolicy",
    "StripeBillingSink",
    "StripeEventTranslator",
    "StripeLookups",
    "StripeSettings",
    "StripeWebhookIngest",
    "SubscriptionWrite",
    "WebhookInbox",
    "WebhookSignatureInvalid",
    "WebhookVerifier",
    "amendment_params",
    "build_http_client",
    "build_stripe_client",
    "classify_stripe_error",
    "customer_params",
    "gap_fill",
    "idempotency_key",
    "invoice_from_stripe",
    "lookup_key",
    "payment_from_stripe",
    "price_params",
    "product_params",
    "select_new_events",
    "subscription_from_stripe",
    "subscription_params",
    "webhook_app",
]
