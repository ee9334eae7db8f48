"""Restricted keys (`rk_test_...`): each grants `read` or `write` per resource, nothing else.

Stripe refuses a request its restricted key is not entitled to with a 403 naming the permission
that would allow it; the sandbox does the same, so a least-privilege key can be tested before it
is created in a real account. Resource names here are the sandbox's simplification of Stripe's
permission list (one name per API resource).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from syncline.sandbox.stripe.errors import StripeApiError

Access = Literal["read", "write"]
RESOURCES = {
    "customers": "customers",
    "products": "products",
    "prices": "prices",
    "subscriptions": "subscriptions",
    "subscription_items": "subscriptions",
    "invoices": "invoices",
    "invoiceitems": "invoices",
    "payment_intents": "payment_intents",
    "events": "events",
    "webhook_endpoints": "webhook_endpoints",
    "test_helpers": "test_clocks",
}


def resource_of(path: str) -> str:
    """`/v1/customers/cus_1` -> `customers`; unknown paths fall under their first segment."""
    parts = [p for p in path.split("/") if p]
    segment = parts[1] if len(parts) > 1 else ""
    return RESOURCES.get(segment, segment)


def check_permission(key: str, grants: Mapping[str, Access], method: str, path: str, masked_key: str) -> None:
    """Raise Stripe's 403 when the restricted key lacks the permission the request needs."""
    resource = resource_of(path)
    needed: Access = "read" if method == "GET" else "write"
    granted = grants.get(resource)
    if granted == "write" or granted == needed:
        return
    raise StripeApiError(
        403,
        f"The provided key '{masked_key}' does not have the required permissions for this endpoint on "
        f"account 'acct_sandbox'. Having the 'rak_{resource}_{needed}' permission would allow this "
        "request to continue.",
    )


__all__ = ["RESOURCES", "Access", "check_permission", "resource_of"]
