"""Rate limiter adherence, priorities and adaptation, on a virtual clock (no wall-clock timing).

The virtual clock only moves forward: `sleep(d)` advances it to at least `now + d`. Grant times are
recorded from the limiter's own clock, so the checks below are exact statements about what the
endpoint would have seen: never more than `burst + rate * w` calls in any window `w`, never more
than `concurrency` at once.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from syncline.engine.ratelimit import EndpointLimit, EndpointLimiter, Priority, RateLimiter
from syncline.errors import ConfigurationError


class VirtualClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t = max(self.t, self.t + seconds)
        await asyncio.sleep(0)


def max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_many_concurrent_acquirers_never_exceed_rate_or_concurrency() -> None:
    clock = VirtualClock()
    limit = EndpointLimit(rate_per_s=50.0, burst=5, concurrency=4)
    limiter = EndpointLimiter("erp", limit, clock)
    limiter.grants = []
    in_flight = peak = 0
    rng = random.Random(7)

    async def call(priority: int) -> None:
        nonlocal in_flight, peak
        async with limiter.permit(priority):
            in_flight += 1
            peak = max(peak, in_flight)
            await clock.sleep(rng.uniform(0.0, 0.2))
            in_flight -= 1

    await asyncio.gather(*(call(rng.choice(list(Priority))) for _ in range(400)))
    assert len(limiter.grants) == 400
    assert peak <= 4
    for window in (0.0, 0.1, 0.5, 1.0, 3.0):
        assert max_in_any_window(limiter.grants, window) <= 5 + 50.0 * window + 1e-9
    assert limiter.in_flight == 0 and limiter.waiting == 0


async def test_higher_priority_is_served_first_when_the_budget_is_short() -> None:
    clock = VirtualClock()
    limiter = EndpointLimiter("stripe", EndpointLimit(rate_per_s=1000.0, burst=100, concurrency=1), clock)
    order: list[str] = []
    await limiter.acquire(Priority.CATALOG)  # holds the only slot

    async def call(name: str, priority: int) -> None:
        async with limiter.permit(priority):
            order.append(name)

    tasks = [asyncio.create_task(call("catalog", Priority.CATALOG))]
    tasks.append(asyncio.create_task(call("enrichment", Priority.ENRICHMENT)))
    tasks.append(asyncio.create_task(call("payment", Priority.PAYMENTS)))
    tasks.append(asyncio.create_task(call("order", Priority.ORDER_BOOKING)))
    await asyncio.sleep(0)
    assert order == []
    limiter.release()
    await asyncio.gather(*tasks)
    assert order == ["payment", "order", "catalog", "enrichment"]


async def test_429_halves_the_rate_and_pauses_for_retry_after_then_recovers_slowly() -> None:
    clock = VirtualClock()
    limiter = EndpointLimiter("sf", EndpointLimit(rate_per_s=10.0, burst=1, concurrency=10), clock)
    limiter.grants = []
    await limiter.acquire()
    limiter.release()
    limiter.observe(429, {"Retry-After": "2"}, retry_after_s=2.0)
    assert limiter.current_rate == 5.0
    throttled_at = clock.now()
    await limiter.acquire()
    limiter.release()
    assert limiter.grants[-1] >= throttled_at + 2.0
    for _ in range(10):
        limiter.on_success()
    assert 5.0 < limiter.current_rate < 10.0
    for _ in range(1000):
        limiter.on_success()
    assert limiter.current_rate == 10.0


@pytest.mark.parametrize(
    ("headers", "throttled"),
    [
        ({"Sforce-Limit-Info": "api-usage=14950/15000"}, True),
        ({"Sforce-Limit-Info": "api-usage=100/15000"}, False),
        ({"X-RateLimit-Remaining": "0"}, True),
        ({"X-RateLimit-Remaining": "5", "X-RateLimit-Limit": "100"}, True),
        ({"RateLimit-Remaining": "80", "RateLimit-Limit": "100"}, False),
    ],
)
def test_limit_headers_trigger_the_adaptive_decrease(headers: dict[str, str], throttled: bool) -> None:
    limiter = EndpointLimiter("sf", EndpointLimit(rate_per_s=10.0), VirtualClock())
    limiter.observe(200, headers)
    assert (limiter.current_rate < 10.0) is throttled


async def test_cancelled_waiter_does_not_leak_a_slot() -> None:
    clock = VirtualClock()
    limiter = EndpointLimiter("erp", EndpointLimit(rate_per_s=100.0, burst=10, concurrency=1), clock)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limiter.release()
    await asyncio.wait_for(limiter.acquire(), timeout=5)
    assert limiter.in_flight == 1


def test_one_shared_limiter_per_endpoint_and_defaults_for_unknown_ones() -> None:
    limits = RateLimiter({"stripe": EndpointLimit(rate_per_s=25, burst=25, concurrency=5)})
    assert limits.for_endpoint("stripe") is limits.for_endpoint("stripe")
    assert limits.for_endpoint("stripe").limit.concurrency == 5
    assert limits.for_endpoint("netsuite").limit.rate_per_s == 50.0


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="rate_per_s"):
        EndpointLimit(rate_per_s=0)
