"""Turn Salesforce's answers into Syncline's error classes, right where they arise (DESIGN.md invariant 5).

Salesforce reports errors in three shapes: REST errors are a JSON array of
`{message, errorCode, fields}`; sObject Collections and composite-graph items use `statusCode`
instead of `errorCode`; Bulk 2.0 failed rows carry `sf__Error` as `CODE:message:fields`. All three
are reduced to one `SalesforceFault` and classified by one table, so a code means the same thing
whichever API produced it.

| errorCode / status                                   | class              | engine does              |
|------------------------------------------------------|--------------------|--------------------------|
| UNABLE_TO_LOCK_ROW, SERVER_UNAVAILABLE, 5xx          | TransientError     | retry with jitter        |
| REQUEST_LIMIT_EXCEEDED, 429                          | RateLimitedError   | throttle the endpoint    |
| INVALID_SESSION_ID, 401 (after one refresh)          | AuthError          | refresh once, escalate   |
| validation and data codes (REQUIRED_FIELD_MISSING…)  | BusinessRejection  | exception task           |
| MALFORMED_QUERY, INVALID_TYPE, JSON_PARSER_ERROR…    | ContractViolation  | dead letter (our bug)    |
| 412 precondition failed                              | ConflictError      | exception, no overwrite  |
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncline.errors import (
    AuthError,
    BusinessRejection,
    ConflictError,
    ContractViolation,
    RateLimitedError,
    SynclineError,
    TransientError,
)

SYSTEM = "salesforce"

TRANSIENT_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "QUERY_TIMEOUT"})
RATE_LIMIT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "TXN_SECURITY_METERING_ERROR"})
AUTH_CODES = frozenset({"INVALID_SESSION_ID", "INVALID_AUTH_HEADER"})
CONTRACT_CODES = frozenset(
    {
        "MALFORMED_QUERY",
        "INVALID_TYPE",
        "INVALID_QUERY_FILTER_OPERATOR",
        "INVALID_QUERY_LOCATOR",
        "JSON_PARSER_ERROR",
        "MALFORMED_ID",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "METHOD_NOT_ALLOWED",
        "APEX_ERROR",
    }
)
"""Codes that mean *we* sent something malformed; retrying or asking a person cannot fix it."""

ADMIN_CODES = frozenset(
    {
        "INVALID_FIELD",
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        "API_DISABLED_FOR_ORG",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    }
)
"""Business rejections a Salesforce admin fixes (missing field, permission), not the record owner."""

RETRY_AFTER_DEFAULT_S = 60.0
"""REQUEST_LIMIT_EXCEEDED carries no Retry-After; the daily window is rolling, so back off a while."""


@dataclass(frozen=True)
class SalesforceFault:
    """One error as Salesforce reported it, whatever the API that reported it."""

    code: str
    message: str
    fields: tuple[str, ...] = ()
    status: int | None = None
    retry_after: float | None = field(default=None, compare=False)


def faults_from_body(body: Any) -> list[SalesforceFault]:
    """Read the error array (`errorCode` or `statusCode`) or an OAuth error object from a parsed body."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):  # event-bus shape: {"error": {"errorCode", "message"}}
            body = [error]
        elif error is not None:  # OAuth shape: {"error", "error_description"}
            return [SalesforceFault(code=str(error), message=str(body.get("error_description", "")))]
        else:
            body = body.get("errors", [body])
    if not isinstance(body, Sequence) or isinstance(body, str | bytes):
        return []
    faults = []
    for item in body:
        if not isinstance(item, Mapping):
            continue
        code = item.get("errorCode") or item.get("statusCode") or "UNKNOWN_ERROR"
        raw_fields = item.get("fields") or ()
        faults.append(
            SalesforceFault(
                code=str(code),
                message=str(item.get("message", "")),
                fields=tuple(str(f) for f in raw_fields),
            )
        )
    return faults


def parse_bulk_error(value: str) -> SalesforceFault:
    """Parse a Bulk 2.0 `sf__Error` cell.

    Example: `REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --`.
    """
    code, _, rest = value.partition(":")
    code = code.strip() or "UNKNOWN_ERROR"
    message, sep, fields_part = rest.rpartition(":")
    if not sep:
        message, fields_part = rest, ""
    fields = tuple(f for f in fields_part.replace("--", "").strip().split(",") if f.strip())
    return SalesforceFault(code=code, message=message.strip() or rest.strip(), fields=fields)


def classify_fault(fault: SalesforceFault) -> SynclineError:
    """The one classification table: a fault becomes the error class the engine acts on."""
    where = f" ({', '.join(fault.fields)})" if fault.fields else ""
    message = f"{fault.message}{where}" if fault.message else fault.code
    code = fault.code
    if code in TRANSIENT_CODES:
        return TransientError(message, system=SYSTEM, code=code, retry_after=fault.retry_after)
    if code in RATE_LIMIT_CODES or fault.status == 429:
        return RateLimitedError(
            message, system=SYSTEM, code=code, retry_after=fault.retry_after or RETRY_AFTER_DEFAULT_S
        )
    if code in AUTH_CODES or fault.status == 401:
        return AuthError(message, system=SYSTEM, code=code)
    if fault.status is not None and fault.status >= 500:
        return TransientError(message, system=SYSTEM, code=code, retry_after=fault.retry_after)
    if code in CONTRACT_CODES:
        return ContractViolation(message, system=SYSTEM, code=code)
    if fault.status == 412:
        return ConflictError(message, system=SYSTEM, code=code)
    owner = "salesforce_admin" if code in ADMIN_CODES else "record_owner"
    return BusinessRejection(message, reason_code=code, system=SYSTEM, owner_role=owner)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def classify_response(status: int, content: bytes, headers: Mapping[str, str]) -> SynclineError:
    """Classify a failed HTTP answer by its first error; the status decides when the body says nothing."""
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = None
    faults = faults_from_body(body)
    retry_after = _retry_after(headers)
    if faults:
        first = faults[0]
        fault = SalesforceFault(first.code, first.message, first.fields, status, retry_after)
    else:
        text = content[:200].decode("utf-8", "replace").strip() or f"HTTP {status}"
        fault = SalesforceFault(_code_for_status(status), text, (), status, retry_after)
    return classify_fault(fault)


def _code_for_status(status: int) -> str:
    return {
        300: "MULTIPLE_MATCHES",
        401: "INVALID_SESSION_ID",
        404: "NOT_FOUND",
        412: "PRECONDITION_FAILED",
        429: "REQUEST_LIMIT_EXCEEDED",
        503: "SERVER_UNAVAILABLE",
    }.get(status, f"HTTP_{status}")


def classify_item_errors(errors: Sequence[Mapping[str, Any]]) -> SynclineError:
    """Classify a per-record failure from a Collections or composite result."""
    faults = faults_from_body(list(errors))
    if not faults:
        return BusinessRejection("record failed without an error", reason_code="UNKNOWN_ERROR", system=SYSTEM)
    return classify_fault(faults[0])


def is_certificate_failure(exc: BaseException) -> bool:
    """True when a connection failed because the peer's certificate did not verify (not transient)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


__all__ = [
    "ADMIN_CODES",
    "AUTH_CODES",
    "CONTRACT_CODES",
    "RATE_LIMIT_CODES",
    "TRANSIENT_CODES",
    "SalesforceFault",
    "classify_fault",
    "classify_item_errors",
    "classify_response",
    "faults_from_body",
    "is_certificate_failure",
    "parse_bulk_error",
]
