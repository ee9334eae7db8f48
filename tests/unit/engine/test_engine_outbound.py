"""OutboundGuard over a real httpx client and transport: classification, breaker, limiter feedback."""

from __future__ import annotations

import httpx
import pytest

from syncline.engine.circuit import CircuitBreakers, CircuitOpenError, CircuitState
from syncline.engine.outbound import OutboundGuard
from syncline.engine.ratelimit import EndpointLimit, Priority, RateLimiter
from syncline.errors import BusinessRejection, RateLimitedError, TransientError


def client_answering(*responses: httpx.Response) -> httpx.AsyncClient:
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        return queue.pop(0)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="https://erp.example")


async def test_success_passes_through_and_keeps_the_circuit_closed() -> None:
    guard = OutboundGuard()
    async with client_answering(httpx.Response(201, json={"id": "SO-1"})) as client:
        response = await guard.send("erp", lambda: client.post("/orders"), priority=Priority.ORDER_BOOKING)
    assert response.json() == {"id": "SO-1"}
    assert guard.breakers.for_endpoint("erp").state is CircuitState.CLOSED


async def test_server_errors_trip_the_breaker_and_then_fail_fast() -> None:
    guard = OutboundGuard(breakers=CircuitBreakers(failure_threshold=2, reset_timeout_s=60))
    async with client_answering(httpx.Response(503), httpx.Response(502)) as client:
        for _ in range(2):
            with pytest.raises(TransientError):
                await guard.send("erp", lambda: client.get("/x"))
        with pytest.raises(CircuitOpenError) as raised:
            await guard.send("erp", lambda: client.get("/x"))
    assert raised.value.retry_after is not None and raised.value.retry_after > 0


async def test_429_slows_the_endpoint_down_without_tripping_the_breaker() -> None:
    limiter = RateLimiter({"stripe": EndpointLimit(rate_per_s=10, burst=10, concurrency=5)})
    guard = OutboundGuard(limiter=limiter, breakers=CircuitBreakers(failure_threshold=1))
    async with client_answering(httpx.Response(429, headers={"Retry-After": "7"})) as client:
        with pytest.raises(RateLimitedError) as raised:
            await guard.send("stripe", lambda: client.post("/v1/invoices"), priority=Priority.PAYMENTS)
    assert raised.value.retry_after == 7.0
    assert limiter.for_endpoint("stripe").current_rate == 5.0
    assert guard.breakers.for_endpoint("stripe").state is CircuitState.CLOSED


async def test_business_rejection_is_raised_and_counts_as_a_healthy_endpoint() -> None:
    guard = OutboundGuard(breakers=CircuitBreakers(failure_threshold=1))
    body = {"error": {"code": "customer_tax_location_invalid", "message": "bad address"}}
    async with client_answering(httpx.Response(400, json=body)) as client:
        with pytest.raises(BusinessRejection) as raised:
            await guard.send("stripe", lambda: client.post("/v1/customers"))
    assert raised.value.reason_code == "customer_tax_location_invalid"
    assert guard.breakers.for_endpoint("stripe").state is CircuitState.CLOSED


async def test_transport_errors_are_classified_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    guard = OutboundGuard()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(refuse), base_url="https://erp.example"
    ) as client:
        with pytest.raises(TransientError, match="refused"):
            await guard.send("erp", lambda: client.get("/x"))
    assert guard.limiter.for_endpoint("erp").in_flight == 0
