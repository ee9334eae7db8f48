"""Client behaviour on the wire, with httpx's MockTransport standing in for Salesforce.

The live suite (tests/integration/salesforce_connector) covers the same paths against the sandbox;
here we look at what the sandbox does not show: exact outbound headers and concurrent refreshes.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from syncline.connectors.salesforce import FlowPriority, SalesforceClient, SalesforceConfig
from syncline.errors import AuthError

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class FakeOrg:
    """Issues tokens t1, t2, ... and accepts only the newest one."""

    def __init__(self, *, accept_any: bool = False) -> None:
        self.issued = 0
        self.accept_any = accept_any
        self.api_requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/services/oauth2/token":
            self.issued += 1
            body = {"access_token": f"t{self.issued}", "instance_url": "https://org.example"}
            return httpx.Response(200, json=body)
        self.api_requests.append(request)
        if not self.accept_any and request.headers["Authorization"] != f"Bearer t{self.issued}":
            return httpx.Response(
                401, json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        return httpx.Response(
            200,
            json={"totalSize": 0, "done": True, "records": []},
            headers={"Sforce-Limit-Info": "api-usage=42/1000"},
        )


def _client(org: FakeOrg) -> SalesforceClient:
    config = SalesforceConfig(
        token_url="https://login.example/services/oauth2/token",
        client_id="cid",
        auth_method="client_credentials",
        client_secret="s3cret",
    )
    return SalesforceClient(
        config,
        header_provider=lambda: {"traceparent": TRACEPARENT},
        transport=httpx.MockTransport(org.handle),
    )


async def test_every_call_carries_token_call_options_and_traceparent() -> None:
    org = FakeOrg()
    async with _client(org) as client:
        await client.get_json("query/", params={"q": "SELECT Id FROM Account"})
    [request] = org.api_requests
    assert request.url.path == "/services/data/v62.0/query/"
    assert request.headers["Authorization"] == "Bearer t1"
    assert request.headers["Sforce-Call-Options"] == "client=syncline"
    assert request.headers["traceparent"] == TRACEPARENT


async def test_the_usage_header_feeds_the_budget() -> None:
    org = FakeOrg()
    async with _client(org) as client:
        await client.get_json("limits", priority=FlowPriority.LOW)
        snapshot = client.budget.snapshot()
    assert (snapshot.used, snapshot.limit) == (42, 1000)


async def test_concurrent_calls_on_an_expired_token_cause_one_login() -> None:
    org = FakeOrg()
    async with _client(org) as client:
        await client.get_json("query/", params={"q": "x"})
        org.issued += 1  # the org expires t1 (the next login will get t3)
        await asyncio.gather(*(client.get_json("query/", params={"q": "x"}) for _ in range(5)))
        assert client.tokens.logins == 2


async def test_a_second_401_after_the_refresh_escalates() -> None:
    org = FakeOrg()

    def always_refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/services/oauth2/token":
            return org.handle(request)
        return httpx.Response(401, content=json.dumps([{"errorCode": "INVALID_SESSION_ID", "message": "no"}]))

    config = SalesforceConfig(
        token_url="https://login.example/services/oauth2/token",
        client_id="cid",
        auth_method="client_credentials",
        client_secret="s3cret",
    )
    async with SalesforceClient(config, transport=httpx.MockTransport(always_refuse)) as client:
        with pytest.raises(AuthError):
            await client.get_json("limits")
        assert (client.refreshes, client.tokens.logins) == (1, 2)


def test_tokens_never_show_in_reprs() -> None:
    from pydantic import SecretStr

    from syncline.connectors.salesforce import AccessToken

    token = AccessToken(SecretStr("00Dxx!secret-session"), "https://org.example", 0.0)
    assert "secret-session" not in repr(token) and "secret-session" not in str(token)


async def test_by_default_calls_carry_the_trace_of_the_work_in_progress() -> None:
    from syncline.engine.tracing import bind_trace, new_trace

    org = FakeOrg()
    config = SalesforceConfig(
        token_url="https://login.example/services/oauth2/token",
        client_id="cid",
        auth_method="client_credentials",
        client_secret="s3cret",
    )
    trace = new_trace()
    async with SalesforceClient(config, transport=httpx.MockTransport(org.handle)) as client:
        with bind_trace(trace):
            await client.get_json("limits")
        await client.get_json("limits")
    traced, untraced = org.api_requests
    assert traced.headers["traceparent"].split("-")[1] == trace.trace_id
    assert "traceparent" not in untraced.headers
