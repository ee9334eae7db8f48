"""How Syncline reaches Stripe: the official SDK's `StripeClient` over HTTPX, async, with our CA.

Three choices here matter:
- `max_network_retries=0`: the engine owns retries (DESIGN.md invariant 5: workers reschedule,
  they never sleep), so the SDK must not retry behind its back. The same idempotency key is reused
  by the engine's retry because it is derived from (transaction id, step), never random.
- TLS is always verified. For a real account the SDK's bundled CA file applies; for the sandbox we
  pass the sandbox CA. stripe-python's `HTTPXClient` reads the global `stripe.ca_bundle_path` when
  it is built; rather than mutate that global, `CATrustingHTTPXClient` swaps in HTTPX clients whose
  SSL context trusts exactly the given bundle.
- The base URL is configurable (`base_addresses={"api": ...}`) so the same code talks to the
  sandbox and to api.stripe.com.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import stripe
from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEFAULT_API_BASE = "https://api.stripe.com"


class StripeSettings(BaseModel):
    """Connection facts for one Stripe account (or the sandbox); secrets stay `SecretStr`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_base: str = Field(default=DEFAULT_API_BASE, description="https://api.stripe.com or the sandbox URL")
    api_key: SecretStr = Field(description="restricted key rk_... (preferred) or secret key sk_...")
    webhook_secrets: tuple[SecretStr, ...] = Field(
        default=(), description="whsec_... secrets accepted for signatures; two during a rotation overlap"
    )
    ca_bundle: Path | None = Field(default=None, description="CA file to trust instead of the SDK's bundle")
    timeout_s: float = Field(default=30.0, gt=0)
    stripe_version: str | None = Field(default=None, description="pin an API version; None = the SDK's")
    webhook_tolerance_s: int = Field(default=300, gt=0, description="max age of a signed delivery")

    @classmethod
    def from_sandbox_info(cls, info: dict[str, Any]) -> StripeSettings:
        """Settings from the sandbox info document (`{"ca_cert":..., "stripe": {...}}`)."""
        entry = info["stripe"]
        return cls(
            api_base=entry["api_base"],
            api_key=SecretStr(entry["api_key"]),
            webhook_secrets=(SecretStr(entry["webhook_secret"]),),
            ca_bundle=Path(info["ca_cert"]),
        )


class CATrustingHTTPXClient(stripe.HTTPXClient):
    """stripe-python's HTTPX transport, verifying TLS against a given CA file.

    Without a CA file it trusts the SDK's bundled CAs (`stripe.ca_bundle_path`), as the SDK does. It
    also hands the form body to HTTPX as `content=` (the SDK passes a string as `data=`, which HTTPX
    deprecates); the bytes on the wire are the same.
    """

    def __init__(
        self, ca_bundle: Path | None = None, *, timeout: float = 30.0, allow_sync_methods: bool = False
    ) -> None:
        super().__init__(timeout=timeout, allow_sync_methods=allow_sync_methods)
        context = ssl.create_default_context(cafile=str(ca_bundle or stripe.ca_bundle_path))
        if self._client is not None:
            self._client.close()
            self._client = httpx.Client(verify=context)
        self._client_async = httpx.AsyncClient(verify=context)

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return [args, kwargs]


def build_http_client(
    ca_bundle: Path | None, *, timeout: float = 30.0, allow_sync_methods: bool = False
) -> stripe.HTTPXClient:
    """The HTTPX transport: trusting `ca_bundle` when given, else the SDK's bundled CAs."""
    return CATrustingHTTPXClient(ca_bundle, timeout=timeout, allow_sync_methods=allow_sync_methods)


def build_stripe_client(settings: StripeSettings, *, allow_sync_methods: bool = False) -> stripe.StripeClient:
    """A `StripeClient` for these settings; the engine, not the SDK, retries."""
    return stripe.StripeClient(
        settings.api_key.get_secret_value(),
        base_addresses={"api": settings.api_base},
        stripe_version=settings.stripe_version,
        max_network_retries=0,
        http_client=build_http_client(
            settings.ca_bundle, timeout=settings.timeout_s, allow_sync_methods=allow_sync_methods
        ),
    )


__all__ = [
    "DEFAULT_API_BASE",
    "CATrustingHTTPXClient",
    "StripeSettings",
    "build_http_client",
    "build_stripe_client",
]
