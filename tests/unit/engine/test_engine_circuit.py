"""Circuit breaker: trips open, fails fast with Retry-After, probes half-open, closes on success."""

from __future__ import annotations

import pytest

from syncline.engine.circuit import CircuitBreakers, CircuitOpenError, CircuitState


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_opens_after_threshold_and_fails_fast_with_time_left() -> None:
    clock = Clock()
    breaker = CircuitBreakers(failure_threshold=3, reset_timeout_s=10, clock=clock).for_endpoint("erp")
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.t += 4
    with pytest.raises(CircuitOpenError) as raised:
        breaker.before_call()
    assert raised.value.retry_after == pytest.approx(6.0)
    assert raised.value.retryable


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock()
    breaker = CircuitBreakers(failure_threshold=1, reset_timeout_s=5, clock=clock).for_endpoint("erp")
    breaker.record_failure()
    clock.t += 5
    breaker.before_call()
    assert breaker.state is CircuitState.HALF_OPEN
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    breaker.before_call()


def test_failed_probe_reopens() -> None:
    clock = Clock()
    breaker = CircuitBreakers(failure_threshold=2, reset_timeout_s=5, clock=clock).for_endpoint("erp")
    breaker.record_failure()
    breaker.record_failure()
    clock.t += 6
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN and breaker.opened_at == clock.t


def test_breakers_are_per_endpoint() -> None:
    breakers = CircuitBreakers(failure_threshold=1)
    breakers.for_endpoint("erp").record_failure()
    breakers.for_endpoint("stripe").before_call()
    assert breakers.for_endpoint("erp") is breakers.for_endpoint("erp")
    assert breakers.for_endpoint("erp").state is CircuitState.OPEN
