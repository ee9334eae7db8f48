"""Retry policy: full-jitter exponential schedule, cap, Retry-After floor, give-up rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncline.engine.retry import RetryPolicy
from syncline.errors import BusinessRejection, ConfigurationError, RateLimitedError, TransientError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_ceiling_doubles_from_base_until_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_s=1.0, cap_s=10.0)
    assert [policy.ceiling_s(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_full_jitter_spans_zero_to_the_ceiling() -> None:
    policy = RetryPolicy(max_attempts=10, base_s=2.0, cap_s=100.0)
    assert policy.delay_s(3, rand=lambda: 0.0) == 0.0
    assert policy.delay_s(3, rand=lambda: 0.5) == 4.0
    assert policy.delay_s(3, rand=lambda: 0.999) == pytest.approx(7.992)


def test_schedule_is_stored_as_next_attempt_at_from_the_injected_clock() -> None:
    policy = RetryPolicy(max_attempts=5, base_s=1.0, cap_s=60.0)
    decision = policy.decide(2, TransientError("503"), clock=lambda: NOW, rand=lambda: 0.25)
    assert decision.retry
    assert decision.next_attempt_at == NOW + timedelta(seconds=0.5)


def test_retry_after_is_a_floor_the_jitter_never_undercuts() -> None:
    policy = RetryPolicy(max_attempts=5, base_s=1.0, cap_s=4.0)
    slow_down = RateLimitedError("429", retry_after=30.0)
    decision = policy.decide(1, slow_down, clock=lambda: NOW, rand=lambda: 0.9)
    assert decision.next_attempt_at == NOW + timedelta(seconds=30)
    short = RateLimitedError("429", retry_after=0.1)
    assert policy.decide(3, short, clock=lambda: NOW, rand=lambda: 0.5).delay_s == 2.0


def test_last_attempt_gives_up_so_the_item_is_dead_lettered() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.decide(2, TransientError("x"), clock=lambda: NOW).retry
    final = policy.decide(3, TransientError("x"), clock=lambda: NOW)
    assert not final.retry and final.next_attempt_at is None


def test_non_retryable_errors_never_retry() -> None:
    policy = RetryPolicy(max_attempts=10)
    decision = policy.decide(
        1, BusinessRejection("credit hold", reason_code="credit_hold"), clock=lambda: NOW
    )
    assert not decision.retry


def test_bad_policy_values_are_refused_with_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigurationError, match="base_s"):
        RetryPolicy(base_s=10, cap_s=1)
