"""Budget guard against a sandbox org with a small daily allocation (100 calls).

Bands with the defaults: low priority spaced from 60 %, paused from 70 %; high priority paused at
80 %, so 20 calls always remain for the org's other integrations.
"""

from __future__ import annotations

from typing import Any

import pytest

from syncline.connectors.salesforce import BudgetGuard, FlowPriority, SalesforceClient
from syncline.connectors.salesforce.config import BudgetSettings
from syncline.errors import RateLimitedError

from .conftest import SandboxAdmin, connector

DAILY = 100


@pytest.fixture(scope="module")
def sandbox_options() -> dict[str, Any]:
    return {"daily_api_requests": DAILY}


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _call(client: SalesforceClient, priority: FlowPriority) -> None:
    await client.get_json("sobjects/Account/describe/", priority=priority)


async def test_low_priority_slows_then_stops_first_and_the_reserve_is_never_touched(
    sf_info: dict[str, Any], admin: SandboxAdmin
) -> None:
    clock = ManualClock()
    guard = BudgetGuard(BudgetSettings(), clock=clock)
    admin.set_api_usage(0)
    async with connector(sf_info, budget_guard=guard) as client:
        await _call(client, FlowPriority.LOW)
        assert guard.snapshot().states[FlowPriority.LOW] == "open"

        admin.set_api_usage(63)  # other integrations spent calls meanwhile
        await _call(client, FlowPriority.LOW)  # its answer shows 64 %: low priority is now spaced out
        assert guard.snapshot().states[FlowPriority.LOW] == "throttled"
        with pytest.raises(RateLimitedError) as throttled:
            await _call(client, FlowPriority.LOW)
        assert throttled.value.code == "API_BUDGET_THROTTLED"
        await _call(client, FlowPriority.HIGH)  # high priority is not spaced
        clock.now += BudgetSettings().low_min_interval_s
        await _call(client, FlowPriority.LOW)  # spaced, not stopped

        admin.set_api_usage(71)
        await _call(client, FlowPriority.HIGH)  # answer: 72 %
        with pytest.raises(RateLimitedError) as paused_low:
            await _call(client, FlowPriority.LOW)
        assert paused_low.value.code == "API_BUDGET_PAUSED"

        high_calls = 0
        with pytest.raises(RateLimitedError) as paused_high:
            for _ in range(DAILY):
                await _call(client, FlowPriority.HIGH)
                high_calls += 1
        assert paused_high.value.code == "API_BUDGET_PAUSED"
        assert high_calls == 80 - 72  # order booking ran until the reserve line, not a call further

    used, limit = admin.usage()
    assert (used, limit) == (80, DAILY)  # 20 % left for the org's other integrations
    snapshot = guard.snapshot()
    assert snapshot.states == {FlowPriority.HIGH: "paused", FlowPriority.LOW: "paused"}
    assert snapshot.refused[FlowPriority.LOW] == 2 and snapshot.refused[FlowPriority.HIGH] == 1


async def test_a_paused_guard_probes_and_resumes_when_usage_falls(
    sf_info: dict[str, Any], admin: SandboxAdmin
) -> None:
    clock = ManualClock()
    settings = BudgetSettings()
    guard = BudgetGuard(settings, clock=clock)
    async with connector(sf_info, budget_guard=guard) as client:
        admin.set_api_usage(85)
        with pytest.raises(RateLimitedError):  # first call admitted (no reading), then refused
            for _ in range(2):
                await _call(client, FlowPriority.HIGH)
        admin.set_api_usage(10)  # the rolling 24 h window moved on
        with pytest.raises(RateLimitedError):
            await _call(client, FlowPriority.HIGH)  # still paused: nothing new was read
        clock.now += settings.pause_retry_after_s
        await _call(client, FlowPriority.HIGH)  # the probe, whose answer shows 11 %
        await _call(client, FlowPriority.LOW)
        assert guard.snapshot().states[FlowPriority.LOW] == "open"
    admin.set_api_usage(0)


async def test_usage_is_exposed_for_metrics(sf_info: dict[str, Any], admin: SandboxAdmin) -> None:
    admin.set_api_usage(5)
    async with connector(sf_info) as client:
        await _call(client, FlowPriority.HIGH)
        snapshot = client.budget.snapshot()
        assert (snapshot.used, snapshot.limit, snapshot.reserve_calls) == (6, DAILY, 20)
        limits = await client.limits()  # /limits does not count and bypasses the guard
        assert limits["DailyApiRequests"]["Remaining"] == DAILY - 6
    admin.set_api_usage(0)
