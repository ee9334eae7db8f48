"""Turn whatever an outbound call raised into one of the `syncline.errors` classes.

Errors are classified where they arise (DESIGN.md invariant 5): connectors call `classify` at the
edge, and the worker decides from the class alone what happens next (retry later, throttle the
endpoint, open an exception task, dead-letter). HTTP status codes map as the fact sheets in
`/reference` describe the systems: 408/425/5xx transient, 429 rate-limited, 401/403 auth, 409/412
conflict, other 4xx a business rejection carrying a stable reason code taken from the body when
the system gives one.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx
import jsonschema
import pydantic

from syncline.contracts.errors import ContractError
from syncline.errors import (
    AuthError,
    BusinessRejection,
    ConflictError,
    ContractViolation,
    RateLimitedError,
    SynclineError,
    TransientError,
)

_TRANSIENT_STATUSES = frozenset({408, 425, 500, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP-date; None if absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def _reason_code(status: int, body: str) -> tuple[str, str]:
    """A stable reason code and a human message from an error body (Stripe, Salesforce, generic)."""
    fallback = (f"http_{status}", body[:500] or f"HTTP {status}")
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return fallback
    if isinstance(data, list) and data and isinstance(data[0], dict):  # Salesforce: [{errorCode, message}]
        first = data[0]
        return str(first.get("errorCode") or fallback[0]), str(first.get("message") or fallback[1])
    if isinstance(data, dict):
        inner = data.get("error")
        if isinstance(inner, dict):  # Stripe: {"error": {"code", "message", "type"}}
            code = inner.get("code") or inner.get("type") or fallback[0]
            return str(code), str(inner.get("message") or fallback[1])
        code = data.get("code") or data.get("errorCode") or data.get("reason_code")
        message = data.get("message") or data.get("detail") or data.get("title")
        if code or message:
            return str(code or fallback[0]), str(message or fallback[1])
    return fallback


def classify_status(
    status: int,
    headers: Mapping[str, str] | None = None,
    body: str = "",
    *,
    system: str | None = None,
) -> SynclineError | None:
    """The error an HTTP answer means, or None for a success (2xx/3xx)."""
    if status < 400:
        return None
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    retry_after = parse_retry_after(hdrs.get("retry-after"))
    code, message = _reason_code(status, body)
    if status == 429:
        return RateLimitedError(message, system=system, code=code, retry_after=retry_after)
    if status in _TRANSIENT_STATUSES:
        return TransientError(message, system=system, code=code, retry_after=retry_after)
    if status in (401, 403):
        return AuthError(message, system=system, code=code)
    if status in (409, 412):
        return ConflictError(message, system=system, code=code)
    if status >= 500:
        return TransientError(message, system=system, code=code, retry_after=retry_after)
    return BusinessRejection(message, reason_code=code, system=system, code=code)


def classify_response(response: httpx.Response, *, system: str | None = None) -> SynclineError | None:
    """`classify_status` for an httpx response (reads its body)."""
    return classify_status(response.status_code, response.headers, response.text, system=system)


def _is_contract_error(exc: BaseException) -> bool:
    """Contract failures from our contracts room and the validators it builds on."""
    return isinstance(exc, ContractError | pydantic.ValidationError | jsonschema.ValidationError)


def classify(exc: BaseException, *, system: str | None = None) -> SynclineError:
    """Map any exception to its Syncline class; unknown failures count as transient (bounded by retries)."""
    if isinstance(exc, SynclineError):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        return classify_response(exc.response, system=system) or TransientError(str(exc), system=system)
    if isinstance(exc, httpx.TimeoutException):
        return TransientError(f"timeout: {exc}", system=system, code="timeout")
    if isinstance(exc, httpx.TransportError):
        return TransientError(f"transport error: {exc}", system=system, code=type(exc).__name__)
    if _is_contract_error(exc):
        return ContractViolation(str(exc), system=system, code="contract")
    if isinstance(exc, TimeoutError | ConnectionError):
        return TransientError(str(exc) or type(exc).__name__, system=system, code=type(exc).__name__)
    return TransientError(f"{type(exc).__name__}: {exc}", system=system, code="unexpected")


__all__ = ["classify", "classify_response", "classify_status", "parse_retry_after"]
