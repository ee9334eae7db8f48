"""The demo's weather: steady 5xx everywhere, throttle bursts that come and go, calm at the end."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from syncline.demo.faults import API_PATHS, FaultWeather, Weather
from syncline.sandbox.faults import FaultPlan


async def test_bursts_rotate_over_the_systems_and_calm_restores_every_plan() -> None:
    plans: list[tuple[str, dict[str, Any]]] = []

    async def put(system: str, plan: Mapping[str, Any]) -> None:
        plans.append((system, dict(plan)))

    weather = Weather(burst_every_seconds=0.01, burst_seconds=0.01)
    faults = FaultWeather(put, weather, seed=7)
    await faults.start()
    await asyncio.sleep(0.2)
    await faults.stop()
    steady = [FaultPlan.model_validate(p) for s, p in plans[:3]]
    assert [s for s, _ in plans[:3]] == ["salesforce", "netsuite", "stripe"]
    assert all(p.server_error_rate == 0.05 and p.throttle_rate == 0 for p in steady)
    assert [p.path_prefixes for p in steady] == [API_PATHS[s] for s in ("salesforce", "netsuite", "stripe")]
    bursts = [s for s, p in plans if p["throttle_rate"] == weather.burst_throttle_rate]
    assert bursts[:3] == ["salesforce", "netsuite", "stripe"]
    assert sum(faults.bursts.values()) == len(bursts)
    assert [FaultPlan.model_validate(p).is_quiet() for _, p in plans[-3:]] == [True, True, True]


def test_seeds_differ_per_system_and_repeat_per_run() -> None:
    weather = Weather()
    seeds = {weather.plan(system, 7).seed for system in API_PATHS}
    assert len(seeds) == 3
    assert weather.plan("stripe", 7) == weather.plan("stripe", 7)
    assert Weather.calm().plan("stripe", 7).is_quiet()
