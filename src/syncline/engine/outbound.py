"""One guarded door for outbound calls: circuit breaker, shared rate budget, classification.

Connectors send every request through `OutboundGuard.send`, so per endpoint there is one place
that fails fast while the circuit is open, waits its turn in the shared token bucket (payments and
order booking first), adapts the budget to 429s and limit headers, and turns the answer into a
classified `syncline.errors` exception. The worker then reschedules on the error's class; nothing
here sleeps on a failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from syncline.engine.circuit import CircuitBreakers
from syncline.engine.classify import classify, classify_response, parse_retry_after
from syncline.engine.ratelimit import Priority, RateLimiter
from syncline.errors import RateLimitedError, RetryableError


class OutboundGuard:
    """Breakers and limiters shared by every flow of this process."""

    def __init__(self, limiter: RateLimiter | None = None, breakers: CircuitBreakers | None = None) -> None:
        self.limiter = limiter or RateLimiter()
        self.breakers = breakers or CircuitBreakers()

    async def send(
        self,
        endpoint: str,
        request: Callable[[], Awaitable[httpx.Response]],
        *,
        priority: int = Priority.CATALOG,
    ) -> httpx.Response:
        """Make one call to `endpoint`; return a 2xx/3xx response or raise a classified error."""
        breaker = self.breakers.for_endpoint(endpoint)
        breaker.before_call()
        limiter = self.limiter.for_endpoint(endpoint)
        async with limiter.permit(priority):
            try:
                response = await request()
            except Exception as exc:
                error = classify(exc, system=endpoint)
                if error.retryable:
                    breaker.record_failure()
                raise error from exc
        limiter.observe(
            response.status_code, response.headers, parse_retry_after(response.headers.get("retry-after"))
        )
        failure = classify_response(response, system=endpoint)
        if failure is None:
            breaker.record_success()
            return response
        if isinstance(failure, RetryableError) and not isinstance(failure, RateLimitedError):
            breaker.record_failure()  # a 429 is the limiter's business, not a sign the endpoint is down
        elif not failure.retryable:
            breaker.record_success()  # a business answer means the endpoint is healthy
        raise failure


__all__ = ["OutboundGuard"]
