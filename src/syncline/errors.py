"""The one exception tree of Syncline.

Every error is classified where it arises, so the engine decides what to do from the class alone
(DESIGN.md invariant 5). The class carries the retry decision; handlers never parse messages.

    SynclineError
    ├── ConfigurationError            bad settings or files; fix and restart
    ├── SchemaOutdatedError           ledger older than the code; run `syncline db upgrade`
    ├── ContractViolation             payload breaks its contract; dead letter at once
    ├── RetryableError                worth another attempt later
    │   ├── TransientError            5xx, timeouts, resets, lock contention: back off with jitter
    │   └── RateLimitedError          429 / limit headers: throttle that endpoint, honour Retry-After
    ├── AuthError                     401 / bad token: refresh once, then escalate
    ├── BusinessRejection             the other system said no for a business reason: exception task
    └── ConflictError                 the target changed since our last sync: exception, never overwrite
"""

from __future__ import annotations

from enum import StrEnum


class ErrorClass(StrEnum):
    """What the engine does with a failure; stored in the ledger with each failed attempt."""

    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    BUSINESS = "business"
    CONTRACT = "contract"
    CONFLICT = "conflict"
    CONFIGURATION = "configuration"


class SynclineError(Exception):
    """Root of every error Syncline raises on purpose."""

    error_class: ErrorClass = ErrorClass.CONFIGURATION
    retryable: bool = False

    def __init__(self, message: str, *, system: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.code = code

    def __str__(self) -> str:
        where = f"[{self.system}] " if self.system else ""
        code = f"{self.code}: " if self.code else ""
        return f"{where}{code}{self.message}"


class ConfigurationError(SynclineError):
    """Settings or input files are wrong; nothing was started or written."""


class SchemaOutdatedError(ConfigurationError):
    """The ledger's schema is older than this code; commands refuse to run until it is upgraded."""


class ContractViolation(SynclineError):
    """A payload does not satisfy its contract; retrying cannot help, so it is dead-lettered."""

    error_class = ErrorClass.CONTRACT


class RetryableError(SynclineError):
    """A failure that another attempt may fix; `retry_after` (seconds) is honoured when given."""

    error_class = ErrorClass.TRANSIENT
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        system: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, system=system, code=code)
        self.retry_after = retry_after


class TransientError(RetryableError):
    """Server errors, timeouts, connection resets, row locks."""


class RateLimitedError(RetryableError):
    """The endpoint asked us to slow down; only that endpoint is throttled."""

    error_class = ErrorClass.RATE_LIMITED


class AuthError(SynclineError):
    """Credentials were refused; callers refresh once before letting this escalate."""

    error_class = ErrorClass.AUTH


class BusinessRejection(SynclineError):
    """The target refused for a business reason a person must fix (credit hold, invalid VAT...).

    `reason_code` is stable and machine-readable; the message is for a person.
    """

    error_class = ErrorClass.BUSINESS

    def __init__(
        self,
        message: str,
        *,
        reason_code: str,
        system: str | None = None,
        code: str | None = None,
        owner_role: str = "operator",
    ) -> None:
        super().__init__(message, system=system, code=code or reason_code)
        self.reason_code = reason_code
        self.owner_role = owner_role


class ConflictError(SynclineError):
    """The record changed in the target since we last synced it; overwriting would lose data."""

    error_class = ErrorClass.CONFLICT


__all__ = [
    "AuthError",
    "BusinessRejection",
    "ConfigurationError",
    "ConflictError",
    "ContractViolation",
    "ErrorClass",
    "RateLimitedError",
    "RetryableError",
    "SchemaOutdatedError",
    "SynclineError",
    "TransientError",
]
