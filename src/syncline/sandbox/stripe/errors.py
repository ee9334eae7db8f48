"""Errors in Stripe's wire shape, and the fault renderer the shared fault middleware uses.

Every failure the sandbox answers is `{"error": {"type", "code", "message", "param", ...}}` with
the status code Stripe uses, so the SDK raises the same exception class it would against the real
API (`InvalidRequestError`, `CardError`, `IdempotencyError`, `RateLimitError`, `APIError`...).
"""

from __future__ import annotations

import json
from typing import Any

from syncline.sandbox.faults import FaultKind, RenderedFault

DOCS = "https://docs.stripe.com/error-codes"


class StripeApiError(Exception):
    """Raised inside a handler; the app turns it into the HTTP answer Stripe would give."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        store_for_idempotency: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.headers = headers or {}
        self.store_for_idempotency = store_for_idempotency

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON body; only the members Stripe sets for this kind of error are present."""
        err: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"{DOCS}/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        if self.decline_code:
            err["decline_code"] = self.decline_code
        err["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        err.update(self.extra)
        return {"error": err}


def resource_missing(kind: str, object_id: str, param: str | None = "id") -> StripeApiError:
    """404 for a path id, 400 for an id given as a parameter: Stripe's own split."""
    status = 404 if param == "id" else 400
    return StripeApiError(
        status,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeApiError:
    """A 400 invalid_request_error, Stripe's answer to a request it will not carry out."""
    return StripeApiError(400, message, param=param, code=code)


def missing_param(param: str) -> StripeApiError:
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def unknown_param(param: str) -> StripeApiError:
    return invalid(f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def rate_limited() -> StripeApiError:
    return StripeApiError(
        429,
        "Request rate limit exceeded. You can learn more about rate limits here "
        "https://docs.stripe.com/rate-limits.",
        code="rate_limit",
    )


def _fault_error(kind: FaultKind, name: str) -> StripeApiError:
    if kind == "throttle":
        return rate_limited()
    if kind == "custom" and name == "lock_timeout":
        return StripeApiError(
            429,
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it. If you see this error intermittently, retry the "
            "request. If you see this error frequently and are making multiple concurrent requests "
            "to a single object, make your requests serially or at a lower rate.",
            code="lock_timeout",
            headers={"Stripe-Should-Retry": "true"},
        )
    return StripeApiError(
        500,
        "Sorry, something went wrong. We've already been notified of the problem, but if you need "
        "any help, you can reach us at support.stripe.com/contact.",
        type_="api_error",
    )


class StripeFaultRenderer:
    """Renders injected faults as Stripe does: 429 `rate_limit`, 429 `lock_timeout`, 500 `api_error`."""

    def render(self, kind: FaultKind, name: str) -> RenderedFault:
        error = _fault_error(kind, name)
        request_id = "req_fault_injected"
        headers = [
            ("content-type", "application/json"),
            ("request-id", request_id),
            *error.headers.items(),
        ]
        return RenderedFault(error.status, json.dumps(error.body(request_id)).encode(), tuple(headers))


__all__ = [
    "StripeApiError",
    "StripeFaultRenderer",
    "invalid",
    "missing_param",
    "rate_limited",
    "resource_missing",
    "unknown_param",
]
