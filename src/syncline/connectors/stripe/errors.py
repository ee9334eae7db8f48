"""Stripe failures, classified where they arise (DESIGN.md invariant 5).

- 429 `rate_limit` -> RateLimitedError (throttle this endpoint; honour Retry-After when sent).
- 429 `lock_timeout`, 409 (key in flight), 5xx, network errors -> TransientError: retry with the
  SAME idempotency key.
- 5xx with `Stripe-Should-Retry: false` -> BusinessRejection STRIPE_REQUEST_FAILED: Stripe stored
  that failure under the key, so a retry with it would only replay the failure; a person decides.
- 401 -> AuthError (refresh once, then escalate); 403 (a restricted key lacks a permission) ->
  AuthError `insufficient_permissions`: fix the key's permissions.
- `idempotency_error` (same key, other parameters) -> ContractViolation `idempotency_conflict`: it
  is our bug (keys or payloads not deterministic), so it is dead-lettered, never retried.
- unknown, missing or malformed parameter -> ContractViolation: our mapping sent what Stripe rejects.
- 402 `card_error` -> BusinessRejection PAYMENT_DECLINED (owner: collections).
- price or product missing or archived, other 400/404 -> BusinessRejection with a reason code below.

Reason codes are UPPER_SNAKE like the contracts' `ReasonCode`, so a flow can put them straight
into `order.rejected`: MISSING_PRICE, MISSING_PRODUCT, MISSING_CUSTOMER, INACTIVE_PRICE,
INACTIVE_PRODUCT, PRICE_NOT_RECURRING, CADENCE_MISMATCH, SUBSCRIPTION_CANCELED,
INVOICE_NOT_EDITABLE, LOOKUP_KEY_IN_USE, FRACTIONAL_QUANTITY, PAYMENT_DECLINED,
STRIPE_REQUEST_FAILED, STRIPE_INVALID_REQUEST.
"""

from __future__ import annotations

from collections.abc import Mapping

import stripe

from syncline.errors import (
    AuthError,
    BusinessRejection,
    ContractViolation,
    RateLimitedError,
    SynclineError,
    TransientError,
)

SYSTEM = "stripe"
CONTRACT_CODES = frozenset(
    {
        "parameter_unknown",
        "parameter_missing",
        "parameter_invalid_empty",
        "parameter_invalid_integer",
        "parameter_invalid_boolean",
        "parameter_invalid_array",
        "parameter_invalid_hash",
        "url_invalid",
    }
)
_MESSAGE_REASONS = (
    ("price specified is inactive", "INACTIVE_PRICE"),
    ("is marked as inactive", "INACTIVE_PRODUCT"),
    ("type=one_time", "PRICE_NOT_RECURRING"),
    ("interval fields must match", "CADENCE_MISMATCH"),
    ("already been canceled", "SUBSCRIPTION_CANCELED"),
    ("canceled subscription can only", "SUBSCRIPTION_CANCELED"),
    ("already uses that lookup key", "LOOKUP_KEY_IN_USE"),
)


class WebhookSignatureInvalid(AuthError):
    """A delivery whose `Stripe-Signature` matches none of our secrets (or is too old): refuse it."""


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (Stripe sends delta-seconds when it sends one)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _resource_missing_reason(param: str | None) -> str:
    text = param or ""
    if "product" in text:
        return "MISSING_PRODUCT"
    if "price" in text or "plan" in text:
        return "MISSING_PRICE"
    if "customer" in text:
        return "MISSING_CUSTOMER"
    return "MISSING_RESOURCE"


def _invalid_request(error: stripe.StripeError, code: str | None, param: str | None) -> SynclineError:
    message = error.user_message or str(error)
    if code in CONTRACT_CODES:
        return ContractViolation(f"Stripe refused our request ({param}): {message}", system=SYSTEM, code=code)
    if code == "resource_missing":
        reason = _resource_missing_reason(param)
        return BusinessRejection(message, reason_code=reason, system=SYSTEM, code=code)
    if code == "invoice_not_editable":
        return BusinessRejection(message, reason_code="INVOICE_NOT_EDITABLE", system=SYSTEM, code=code)
    lowered = message.lower()
    for fragment, reason in _MESSAGE_REASONS:
        if fragment.lower() in lowered:
            return BusinessRejection(message, reason_code=reason, system=SYSTEM, code=code)
    return BusinessRejection(message, reason_code="STRIPE_INVALID_REQUEST", system=SYSTEM, code=code)


def classify_stripe_error(error: stripe.StripeError) -> SynclineError:
    """The Syncline error for an exception raised by the `stripe` SDK."""
    status = error.http_status
    headers = error.headers
    code = error.code or (error.error.code if error.error is not None else None)
    message = error.user_message or str(error)
    should_retry = _header(headers, "Stripe-Should-Retry")
    retry_after = parse_retry_after(_header(headers, "Retry-After"))
    if isinstance(error, stripe.IdempotencyError):
        return ContractViolation(
            f"idempotency key reused with different parameters: {message}",
            system=SYSTEM,
            code="idempotency_conflict",
        )
    if isinstance(error, stripe.APIConnectionError):
        return TransientError(f"cannot reach Stripe: {message}", system=SYSTEM, code="connection")
    if status == 429 or isinstance(error, stripe.RateLimitError):
        if code == "lock_timeout":
            return TransientError(message, system=SYSTEM, code=code, retry_after=retry_after)
        return RateLimitedError(message, system=SYSTEM, code=code or "rate_limit", retry_after=retry_after)
    if status is not None and status >= 500:
        if should_retry == "false":
            return BusinessRejection(
                message, reason_code="STRIPE_REQUEST_FAILED", system=SYSTEM, code=str(status)
            )
        return TransientError(message, system=SYSTEM, code=code or str(status), retry_after=retry_after)
    if status == 409 or should_retry == "true":
        return TransientError(message, system=SYSTEM, code=code or str(status), retry_after=retry_after)
    if isinstance(error, stripe.AuthenticationError):
        return AuthError(message, system=SYSTEM, code="authentication_failed")
    if isinstance(error, stripe.PermissionError) or "required permissions" in message:
        return AuthError(message, system=SYSTEM, code="insufficient_permissions")
    if isinstance(error, stripe.CardError):
        decline = getattr(error.error, "decline_code", None) if error.error else None
        return BusinessRejection(
            message,
            reason_code="PAYMENT_DECLINED",
            system=SYSTEM,
            code=decline or code,
            owner_role="collections",
        )
    if isinstance(error, stripe.InvalidRequestError):
        return _invalid_request(error, code, error.param)
    return TransientError(message, system=SYSTEM, code=code or "unknown")


__all__ = [
    "CONTRACT_CODES",
    "SYSTEM",
    "WebhookSignatureInvalid",
    "classify_stripe_error",
    "parse_retry_after",
]
