"""Budget guard: the reserve is never touched, low priority slows and stops before high priority."""

from __future__ import annotations

import pytest

from syncline.connectors.salesforce.budget import (
    ApiUsage,
    BudgetGuard,
    FlowPriority,
    decide,
    parse_limit_info,
)
from syncline.connectors.salesforce.config import BudgetSettings
from syncline.errors import RateLimitedError

SETTINGS = BudgetSettings()  # reserve 20 %, low throttled from 60 %, paused from 70 %


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_info_header_is_parsed_with_or_without_per_app_part() -> None:
    assert parse_limit_info("api-usage=18/5000") == ApiUsage(18, 5000)
    assert parse_limit_info("api-usage=25/5000; per-app-api-usage=17/250(appName=x)") == ApiUsage(25, 5000)
    assert parse_limit_info(None) is None
    assert parse_limit_info("garbage") is None


@pytest.mark.parametrize(
    ("fraction", "low", "high"),
    [
        (None, "open", "open"),
        (0.10, "open", "open"),
        (0.65, "throttled", "open"),
        (0.72, "paused", "open"),
        (0.79, "paused", "open"),
        (0.80, "paused", "paused"),
        (0.99, "paused", "paused"),
    ],
)
def test_bands(fraction: float | None, low: str, high: str) -> None:
    assert decide(fraction, FlowPriority.LOW, SETTINGS).state == low
    assert decide(fraction, FlowPriority.HIGH, SETTINGS).state == high


def test_throttle_interval_grows_towards_the_pause_point() -> None:
    shallow = decide(0.61, FlowPriority.LOW, SETTINGS).min_interval_s
    deep = decide(0.69, FlowPriority.LOW, SETTINGS).min_interval_s
    assert 0 < shallow < deep <= SETTINGS.low_min_interval_s


def test_bands_out_of_order_are_refused_with_the_rule() -> None:
    with pytest.raises(ValueError, match="low_pause_at <= 1 - reserve_fraction"):
        BudgetSettings(reserve_fraction=0.5, low_throttle_at=0.6, low_pause_at=0.7)


def test_low_priority_pauses_first_and_high_priority_stops_at_the_reserve() -> None:
    guard = BudgetGuard(SETTINGS, clock=FakeClock())
    guard.observe("api-usage=75/100")
    with pytest.raises(RateLimitedError) as paused:
        guard.admit(FlowPriority.LOW)
    assert paused.value.code == "API_BUDGET_PAUSED"
    assert paused.value.retry_after == SETTINGS.pause_retry_after_s
    for _ in range(4):  # 75..78 admitted (estimated), reaching 79
        guard.admit(FlowPriority.HIGH)
    guard.admit(FlowPriority.HIGH)  # the 80th call: 79/100 < 80 %
    with pytest.raises(RateLimitedError):
        guard.admit(FlowPriority.HIGH)
    snapshot = guard.snapshot()
    assert snapshot.estimated_used == 80
    assert snapshot.reserve_calls == 20
    assert snapshot.states[FlowPriority.HIGH] == "paused"
    assert snapshot.refused == {FlowPriority.LOW: 1, FlowPriority.HIGH: 1}


def test_throttled_low_priority_calls_are_spaced_not_refused_forever() -> None:
    clock = FakeClock()
    guard = BudgetGuard(SETTINGS, clock=clock)
    guard.observe("api-usage=65/1000")
    guard.observe("api-usage=650/1000")
    guard.admit(FlowPriority.LOW)
    with pytest.raises(RateLimitedError) as throttled:
        guard.admit(FlowPriority.LOW)
    assert throttled.value.code == "API_BUDGET_THROTTLED"
    assert throttled.value.retry_after is not None
    guard.admit(FlowPriority.HIGH)  # high priority is not spaced
    clock.now += SETTINGS.low_min_interval_s  # the widest spacing of the band has passed
    guard.admit(FlowPriority.LOW)


def test_a_probe_is_let_through_after_the_pause_interval() -> None:
    clock = FakeClock()
    guard = BudgetGuard(SETTINGS, clock=clock)
    guard.observe("api-usage=90/100")
    with pytest.raises(RateLimitedError):
        guard.admit(FlowPriority.HIGH)
    clock.now += SETTINGS.pause_retry_after_s
    guard.admit(FlowPriority.HIGH)  # the probe
    with pytest.raises(RateLimitedError):
        guard.admit(FlowPriority.HIGH)  # only one probe per interval
    guard.observe("api-usage=10/100")  # the probe's answer: usage fell over the rolling day
    guard.admit(FlowPriority.LOW)


def test_a_new_reading_replaces_the_local_estimate() -> None:
    guard = BudgetGuard(SETTINGS, clock=FakeClock())
    guard.observe("api-usage=10/100")
    for _ in range(5):
        guard.admit(FlowPriority.HIGH)
    assert guard.snapshot().estimated_used == 15
    guard.observe("api-usage=12/100")
    assert guard.snapshot().estimated_used == 12


def test_engine_priorities_map_to_budget_priorities() -> None:
    from syncline.connectors.salesforce import flow_priority
    from syncline.engine.ratelimit import Priority

    assert [flow_priority(p) for p in Priority] == [
        FlowPriority.HIGH,  # payments
        FlowPriority.HIGH,  # order booking
        FlowPriority.HIGH,  # customer
        FlowPriority.LOW,  # catalog
        FlowPriority.LOW,  # enrichment
    ]
