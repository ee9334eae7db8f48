"""Circuit breaker per endpoint: stop calling a system that keeps failing, probe it now and then.

While open, calls fail fast with a retryable `CircuitOpenError` whose `retry_after` is the time
left, so the worker reschedules the item instead of hammering a dead endpoint (and instead of
sleeping). After `reset_timeout_s` one probe is let through (half-open); its success closes the
circuit, its failure re-opens it. Only transient failures count: a business rejection says the
endpoint is healthy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from syncline.errors import ConfigurationError, TransientError

MonotonicClock = Callable[[], float]


class CircuitState(StrEnum):
    """Closed: calls flow. Open: calls fail fast. Half-open: one probe decides."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(TransientError):
    """The endpoint's circuit is open; retry after `retry_after` seconds."""


@dataclass
class CircuitBreaker:
    """State machine for one endpoint; `clock` is monotonic seconds (injectable for tests)."""

    endpoint: str
    failure_threshold: int = 5
    reset_timeout_s: float = 30.0
    clock: MonotonicClock = time.monotonic
    state: CircuitState = CircuitState.CLOSED
    consecutive_failures: int = 0
    opened_at: float = 0.0
    _probe_in_flight: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.reset_timeout_s <= 0:
            raise ConfigurationError(
                f"circuit {self.endpoint!r}: failure_threshold must be >= 1 and reset_timeout_s > 0"
            )

    def before_call(self) -> None:
        """Raise `CircuitOpenError` unless a call may go out now."""
        if self.state is CircuitState.CLOSED:
            return
        remaining = self.opened_at + self.reset_timeout_s - self.clock()
        if self.state is CircuitState.OPEN and remaining <= 0:
            self.state = CircuitState.HALF_OPEN
            self._probe_in_flight = False
        if self.state is CircuitState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return
        raise CircuitOpenError(
            f"circuit open for {self.endpoint}",
            system=self.endpoint,
            code="circuit_open",
            retry_after=max(remaining, 0.0) if self.state is CircuitState.OPEN else self.reset_timeout_s,
        )

    def record_success(self) -> None:
        """A call succeeded (or failed for a business reason): the endpoint is healthy."""
        self.state = CircuitState.CLOSED
        self.consecutive_failures = 0
        self._probe_in_flight = False

    def record_failure(self) -> None:
        """A transient failure: count it; trip open at the threshold or when the probe fails."""
        self.consecutive_failures += 1
        if self.state is CircuitState.HALF_OPEN or self.consecutive_failures >= self.failure_threshold:
            self.state = CircuitState.OPEN
            self.opened_at = self.clock()
            self._probe_in_flight = False


@dataclass
class CircuitBreakers:
    """One breaker per endpoint name, created on first use with shared settings."""

    failure_threshold: int = 5
    reset_timeout_s: float = 30.0
    clock: MonotonicClock = time.monotonic
    _breakers: dict[str, CircuitBreaker] = field(default_factory=dict)

    def for_endpoint(self, endpoint: str) -> CircuitBreaker:
        """The breaker of `endpoint`."""
        breaker = self._breakers.get(endpoint)
        if breaker is None:
            breaker = CircuitBreaker(endpoint, self.failure_threshold, self.reset_timeout_s, self.clock)
            self._breakers[endpoint] = breaker
        return breaker


__all__ = ["CircuitBreaker", "CircuitBreakers", "CircuitOpenError", "CircuitState", "MonotonicClock"]
