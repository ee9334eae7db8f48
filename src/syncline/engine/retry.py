"""Retry policy as a value: how many attempts, and when the next one may run.

Workers never sleep on a failed item (DESIGN.md invariant 5): they ask the policy for the instant
of the next attempt and store it as `next_attempt_at`, then move on to other keys. Back-off is
exponential with FULL jitter (a uniformly random delay in [0, min(cap, base * 2**n)]), which
spreads a thundering herd of retries better than equal or decorrelated jitter; a server's
`Retry-After` is a floor the jitter may never undercut. Clock and randomness are injected so tests
pin the schedule exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from syncline.errors import ConfigurationError, RetryableError, SynclineError

Clock = Callable[[], datetime]
Random = Callable[[], float]


def utc_now() -> datetime:
    """The default clock: timezone-aware UTC, as every timestamp in the ledger."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryDecision:
    """What to do after a failed attempt: retry at `next_attempt_at`, or give up (dead-letter)."""

    retry: bool
    next_attempt_at: datetime | None
    delay_s: float


@dataclass(frozen=True)
class RetryPolicy:
    """Max attempts, exponential base and cap (seconds); immutable so it can be stored and shared."""

    max_attempts: int = 8
    base_s: float = 1.0
    cap_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ConfigurationError(
                f"RetryPolicy needs 0 < base_s <= cap_s, got base_s={self.base_s} cap_s={self.cap_s}"
            )

    def ceiling_s(self, attempt: int) -> float:
        """Upper bound of the jittered delay after the `attempt`-th failed attempt (1-based)."""
        exponent = max(0, attempt - 1)
        # 2**exponent overflows floats for absurd attempt counts; the cap is reached long before.
        return self.cap_s if exponent >= 64 else min(self.cap_s, self.base_s * (2.0**exponent))

    def delay_s(
        self, attempt: int, *, retry_after_s: float | None = None, rand: Random = random.random
    ) -> float:
        """Full-jitter delay after the `attempt`-th failure, never shorter than the server's Retry-After."""
        delay = rand() * self.ceiling_s(attempt)
        if retry_after_s is not None and retry_after_s > delay:
            return float(retry_after_s)
        return delay

    def decide(
        self,
        attempt: int,
        error: BaseException | None = None,
        *,
        clock: Clock = utc_now,
        rand: Random = random.random,
    ) -> RetryDecision:
        """Retry or give up after the `attempt`-th failed attempt; non-retryable errors give up at once."""
        retryable = error is None or (isinstance(error, SynclineError) and error.retryable)
        if not retryable or attempt >= self.max_attempts:
            return RetryDecision(retry=False, next_attempt_at=None, delay_s=0.0)
        retry_after = error.retry_after if isinstance(error, RetryableError) else None
        delay = self.delay_s(attempt, retry_after_s=retry_after, rand=rand)
        return RetryDecision(retry=True, next_attempt_at=clock() + timedelta(seconds=delay), delay_s=delay)


DEFAULT_RETRY_POLICY = RetryPolicy()

__all__ = ["DEFAULT_RETRY_POLICY", "Clock", "Random", "RetryDecision", "RetryPolicy", "utc_now"]
