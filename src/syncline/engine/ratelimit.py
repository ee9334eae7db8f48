"""Outbound rate limits: a token bucket plus a concurrency cap per endpoint, shared by every flow.

Why one shared budget with priorities: Salesforce, NetSuite and Stripe meter the whole integration,
not one flow; when the budget is short, payments and order booking must go before catalog sync and
enrichment. So each endpoint has ONE `EndpointLimiter`; acquirers queue by (priority, arrival) and
the head is served first (strict priority, FIFO within a priority).

Adaptive: a 429 or a limit header saying the quota is nearly spent halves the current rate
(multiplicative decrease) and honours Retry-After by pausing the bucket; each success then adds a
small fraction of the configured rate back (additive, slow recovery). The rate never exceeds the
configured one, and the bucket never holds more than `burst` tokens, so the endpoint never sees
more than `burst + rate * t` calls in any window of t seconds, nor more than `concurrency` at once.

Only the endpoint is throttled, never the world (DESIGN.md invariant 5): intake keeps accepting,
and other endpoints keep their own budgets. Time comes from an injectable `LimiterClock` so tests
check adherence on recorded timestamps instead of wall-clock timing.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

from syncline.errors import ConfigurationError


class Priority(IntEnum):
    """Lower value is served first."""

    PAYMENTS = 0
    ORDER_BOOKING = 1
    CUSTOMER = 2
    CATALOG = 3
    ENRICHMENT = 4


class LimiterClock(Protocol):
    """Monotonic seconds and a way to wait; `RealClock` in production, a virtual one in tests."""

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...


class RealClock:
    """`time.monotonic` and `asyncio.sleep`."""

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Wait on the event loop."""
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class EndpointLimit:
    """Configured ceiling of one endpoint: calls per second, bucket size, calls in flight."""

    rate_per_s: float
    burst: int = 1
    concurrency: int = 10
    min_rate_per_s: float | None = None
    decrease_factor: float = 0.5
    recovery_fraction: float = 0.02
    headroom_fraction: float = 0.1

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.burst < 1 or self.concurrency < 1:
            raise ConfigurationError(
                f"EndpointLimit needs rate_per_s > 0, burst >= 1, concurrency >= 1; got {self!r}"
            )
        if not 0 < self.decrease_factor < 1 or not 0 < self.recovery_fraction <= 1:
            raise ConfigurationError(
                "EndpointLimit needs 0 < decrease_factor < 1 and 0 < recovery_fraction <= 1"
            )

    @property
    def floor_per_s(self) -> float:
        """The adaptive rate never drops below this (default: 1% of the configured rate)."""
        return self.min_rate_per_s if self.min_rate_per_s is not None else self.rate_per_s / 100


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    future: asyncio.Future[None] = field(compare=False)


class EndpointLimiter:
    """Token bucket + concurrency cap + priority queue for one endpoint."""

    def __init__(self, name: str, limit: EndpointLimit, clock: LimiterClock | None = None) -> None:
        self.name = name
        self.limit = limit
        self.clock: LimiterClock = clock or RealClock()
        self.current_rate = limit.rate_per_s
        self.in_flight = 0
        self._tokens = float(limit.burst)
        self._refilled_at = self.clock.now()
        self._paused_until = 0.0
        self._queue: list[_Waiter] = []
        self._seq = itertools.count()
        self._timer: asyncio.Task[None] | None = None
        self.grants: list[float] | None = None  # set to [] to record grant times (tests, metrics)

    @property
    def waiting(self) -> int:
        """Acquirers queued for a permit."""
        return len(self._queue)

    @asynccontextmanager
    async def permit(self, priority: int = Priority.CATALOG) -> AsyncIterator[None]:
        """Hold one call slot for the duration of the block."""
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, priority: int = Priority.CATALOG) -> None:
        """Wait for a token and a concurrency slot, behind every waiter of higher or equal priority."""
        waiter = _Waiter(int(priority), next(self._seq), asyncio.get_running_loop().create_future())
        heapq.heappush(self._queue, waiter)
        self._pump()
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter.future.done() and not waiter.future.cancelled():
                self.release()  # granted just as we were cancelled: give the slot back
            else:
                self._queue.remove(waiter)
                heapq.heapify(self._queue)
            raise

    def release(self) -> None:
        """Free the concurrency slot taken by `acquire`."""
        self.in_flight -= 1
        self._pump()

    def on_throttled(self, retry_after_s: float | None = None) -> None:
        """The endpoint said slow down: cut the rate, drain the bucket, pause for Retry-After."""
        self.current_rate = max(self.limit.floor_per_s, self.current_rate * self.limit.decrease_factor)
        self._refill(self.clock.now())
        self._tokens = min(self._tokens, 0.0)
        if retry_after_s:
            self._paused_until = max(self._paused_until, self.clock.now() + retry_after_s)

    def on_success(self) -> None:
        """A call went through: win back a small fraction of the configured rate."""
        if self.current_rate < self.limit.rate_per_s:
            self._refill(self.clock.now())
            step = self.limit.rate_per_s * self.limit.recovery_fraction
            self.current_rate = min(self.limit.rate_per_s, self.current_rate + step)

    def observe(self, status: int, headers: Mapping[str, str], retry_after_s: float | None = None) -> None:
        """Adapt from an HTTP answer: 429 or a nearly spent quota header throttles, else recover."""
        if status == 429 or _quota_nearly_spent(headers, self.limit.headroom_fraction):
            self.on_throttled(retry_after_s)
        elif status < 400:
            self.on_success()

    def _refill(self, now: float) -> None:
        start = max(self._refilled_at, self._paused_until)
        if now > start:
            self._tokens = min(float(self.limit.burst), self._tokens + (now - start) * self.current_rate)
        self._refilled_at = max(now, self._refilled_at)

    def _pump(self) -> None:
        """Grant permits to the head of the queue while tokens and slots last; else arm one timer."""
        now = self.clock.now()
        self._refill(now)
        while self._queue and self.in_flight < self.limit.concurrency and self._tokens >= 1.0:
            waiter = heapq.heappop(self._queue)
            if waiter.future.done():
                continue
            self._tokens -= 1.0
            self.in_flight += 1
            if self.grants is not None:
                self.grants.append(now)
            waiter.future.set_result(None)
        blocked_on_tokens = self._queue and self.in_flight < self.limit.concurrency
        if blocked_on_tokens and self._timer is None:
            wait = max(self._paused_until - now, 0.0) + (1.0 - self._tokens) / self.current_rate
            self._timer = asyncio.get_running_loop().create_task(self._wake_after(wait))

    async def _wake_after(self, seconds: float) -> None:
        await self.clock.sleep(max(seconds, 0.0))
        self._timer = None
        self._pump()


def _quota_nearly_spent(headers: Mapping[str, str], headroom: float) -> bool:
    """Read the limit headers our systems send: `Sforce-Limit-Info`, `X-RateLimit-*`, `RateLimit-*`."""
    lower = {k.lower(): v for k, v in headers.items()}
    info = lower.get("sforce-limit-info")  # "api-usage=14900/15000"
    if info and "=" in info and "/" in info:
        used, _, total = info.split("=", 1)[1].partition("/")
        if used.strip().isdigit() and total.strip().isdigit() and int(total) > 0:
            return int(used) >= int(total) * (1 - headroom)
    for prefix in ("x-ratelimit-", "ratelimit-"):
        remaining, limit = lower.get(prefix + "remaining"), lower.get(prefix + "limit")
        if remaining is not None and remaining.strip().isdigit():
            if limit is not None and limit.strip().isdigit() and int(limit) > 0:
                return int(remaining) <= int(limit) * headroom
            return int(remaining) == 0
    return False


class RateLimiter:
    """The limiters of every endpoint; unknown endpoints get the default limit."""

    def __init__(
        self,
        limits: Mapping[str, EndpointLimit] | None = None,
        *,
        default: EndpointLimit | None = None,
        clock: LimiterClock | None = None,
    ) -> None:
        self._limits = dict(limits or {})
        self._default = default or EndpointLimit(rate_per_s=50.0, burst=50, concurrency=200)
        self._clock = clock
        self._limiters: dict[str, EndpointLimiter] = {}

    def for_endpoint(self, endpoint: str) -> EndpointLimiter:
        """The one limiter shared by every flow calling `endpoint`."""
        limiter = self._limiters.get(endpoint)
        if limiter is None:
            limit = self._limits.get(endpoint, self._default)
            limiter = EndpointLimiter(endpoint, limit, self._clock)
            self._limiters[endpoint] = limiter
        return limiter

    def permit(self, endpoint: str, priority: int = Priority.CATALOG) -> AbstractAsyncContextManager[None]:
        """`async with limiter.permit("stripe", Priority.PAYMENTS): ...`"""
        return self.for_endpoint(endpoint).permit(priority)


__all__ = [
    "EndpointLimit",
    "EndpointLimiter",
    "LimiterClock",
    "Priority",
    "RateLimiter",
    "RealClock",
]
