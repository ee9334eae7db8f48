"""Knobs tests and demos set through `options={"stripe": {...}}`; every key is documented here.

Defaults follow Stripe test mode (25 requests per second, 3 webhook retries spread over hours);
tests compress the webhook timings and may switch on duplicate and out-of-order delivery.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StripeSandboxOptions(BaseModel):
    """Options of the Stripe sandbox (`context.options`); an unknown key is an error naming it."""

    model_config = ConfigDict(extra="forbid")

    api_keys: list[str] = Field(
        default_factory=list,
        description="accepted secret/restricted keys; empty means the one derived from the seed",
    )
    restricted_keys: dict[str, dict[str, Literal["read", "write"]]] = Field(
        default_factory=dict,
        description="rk_test_... keys and their grants per resource, e.g. {'customers': 'write'}",
    )
    rate_limit_per_second: int = Field(default=25, ge=0, description="0 disables the limiter")
    webhook_url: str | None = Field(
        default=None, description="create a default endpoint (secret = info webhook_secret) for this URL"
    )
    webhook_retry_delays_s: list[float] = Field(
        default_factory=lambda: [3600.0, 10800.0, 21600.0],
        description="wait before each retry of a failed delivery; test mode retries 3 times over hours",
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_duplicate_rate: float = Field(default=0.0, ge=0, le=1, description="share delivered twice")
    webhook_delay_s: float = Field(
        default=0.0, ge=0, description="hold each delivery this long; with reorder, batches grow"
    )
    webhook_reorder: bool = Field(default=False, description="shuffle each batch of due deliveries")
    webhook_concurrency: int = Field(default=8, ge=1, description="deliveries in flight at once")
    auto_payment_method: bool = Field(
        default=True,
        description="customers without a payment method pay with pm_card_visa (sandbox convenience)",
    )
    dunning_retry_days: list[int] = Field(
        default_factory=lambda: [3, 5, 7], description="days between failed renewal payment retries"
    )
    dunning_final_status: Literal["canceled", "unpaid"] = Field(
        default="canceled", description="subscription status after the last retry fails"
    )
    seed_catalog: bool = Field(default=True, description="load the SKU catalog at start")


__all__ = ["StripeSandboxOptions"]
