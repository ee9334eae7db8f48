"""Turns NetSuite answers into Syncline's error classes (DESIGN.md invariant 5).

NetSuite reports business refusals as HTTP 400 with `o:errorCode` USER_ERROR and a person-readable
`detail`; the code alone does not say *which* rule failed. `BUSINESS_RULES` maps detail patterns to
stable reason codes so flows and the console can act on them. The patterns match the messages of the
account's validations (native credit hold, period close, and the approval/VAT user-event scripts
described in docs/connectors/netsuite.md); an unrecognised USER_ERROR is still a business rejection,
with reason `netsuite_user_error` and NetSuite's own message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from syncline.errors import (
    AuthError,
    BusinessRejection,
    ConfigurationError,
    ConflictError,
    ContractViolation,
    RateLimitedError,
    SynclineError,
    TransientError,
)

SYSTEM = "netsuite"


@dataclass(frozen=True)
class BusinessRule:
    reason_code: str
    pattern: re.Pattern[str]
    owner_role: str


BUSINESS_RULES: tuple[BusinessRule, ...] = (
    BusinessRule("credit_hold", re.compile(r"\bon credit hold\b", re.I), "credit_control"),
    BusinessRule(
        "invalid_tax_registration", re.compile(r"invalid (tax|vat) registration", re.I), "account_owner"
    ),
    BusinessRule("inactive_item", re.compile(r"\bis inactive and cannot be sold\b", re.I), "product_owner"),
    BusinessRule(
        "subsidiary_currency_mismatch", re.compile(r"not available for subsidiary", re.I), "finance"
    ),
    BusinessRule("subsidiary_mismatch", re.compile(r"belongs to subsidiary", re.I), "finance"),
    BusinessRule("closed_period", re.compile(r"accounting period .* is closed", re.I), "finance"),
    BusinessRule("customer_rejected", re.compile(r"rejected in credit approval", re.I), "account_owner"),
)
PENDING_APPROVAL = re.compile(r"pending credit approval", re.I)
PENDING_APPROVAL_RETRY_S = 60.0


@dataclass(frozen=True)
class ErrorDetail:
    """The first entry of `o:errorDetails`, which is what NetSuite puts the cause in."""

    status: int
    code: str
    detail: str
    path: str | None


def parse_error(response: httpx.Response) -> ErrorDetail:
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    details = body.get("o:errorDetails") if isinstance(body, dict) else None
    first = details[0] if isinstance(details, list) and details else {}
    return ErrorDetail(
        status=response.status_code,
        code=str(first.get("o:errorCode") or ""),
        detail=str(first.get("detail") or body.get("title", "") if isinstance(body, dict) else ""),
        path=first.get("o:errorPath"),
    )


def classify(response: httpx.Response) -> SynclineError:
    """The error a failed response stands for; never called for 2xx."""
    error = parse_error(response)
    status, text = error.status, f"{error.detail} (HTTP {error.status})"
    if status == 429:
        return RateLimitedError(
            text, system=SYSTEM, code=error.code or "429", retry_after=retry_after(response)
        )
    if status >= 500 or status == 408:
        return TransientError(
            text, system=SYSTEM, code=error.code or str(status), retry_after=retry_after(response)
        )
    if status == 401:
        return AuthError(text, system=SYSTEM, code=error.code or "INVALID_LOGIN")
    if status == 403:
        return ConfigurationError(
            f"the integration role lacks a permission: {text}", system=SYSTEM, code=error.code
        )
    if status == 400 and error.code == "USER_ERROR":
        return business_error(error)
    if status == 400 and error.code == "IDEMPOTENCY_ERROR":
        return ConflictError(text, system=SYSTEM, code=error.code)
    return ContractViolation(
        f"{text} at {error.path or 'request'}", system=SYSTEM, code=error.code or str(status)
    )


def business_error(error: ErrorDetail) -> SynclineError:
    if PENDING_APPROVAL.search(error.detail):
        return TransientError(
            error.detail,
            system=SYSTEM,
            code="customer_pending_approval",
            retry_after=PENDING_APPROVAL_RETRY_S,
        )
    for rule in BUSINESS_RULES:
        if rule.pattern.search(error.detail):
            return BusinessRejection(
                error.detail,
                reason_code=rule.reason_code,
                system=SYSTEM,
                code=rule.reason_code,
                owner_role=rule.owner_role,
            )
    return BusinessRejection(error.detail, reason_code="netsuite_user_error", system=SYSTEM)


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


__all__ = ["BUSINESS_RULES", "BusinessRule", "ErrorDetail", "classify", "parse_error", "retry_after"]
