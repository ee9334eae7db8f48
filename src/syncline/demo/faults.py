"""The technical weather of the demo month: 5% transient 5xx everywhere, and bursts of throttling.

Plans go to each sandbox through the shared admin endpoint (`PUT /__sandbox/faults`), the same way
a person would turn them on against `syncline sandbox up`. Steady faults are one plan per system;
a burst is the same plan with a high throttle rate for a couple of seconds, rotating over the
systems, so every connector meets a wall of 429s (Salesforce answers 503 `SERVER_UNAVAILABLE`, its
own throttle shape) and must back off without losing anything. Token endpoints stay healthy: auth
failures are a different story than weather. Duplicate and reordered webhooks are Stripe sandbox
options (`webhook_duplicate_rate`, `webhook_reorder`) set when it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from syncline.sandbox.faults import FaultPlan

API_PATHS: dict[str, list[str]] = {
    "salesforce": ["/services/data/"],
    "netsuite": ["/services/rest/record/", "/services/rest/query/"],
    "stripe": ["/v1/"],
}
SYSTEM_SEEDS = {"salesforce": 101, "netsuite": 202, "stripe": 303}


@dataclass(frozen=True)
class Weather:
    """How rough the month is; `calm()` is the setup's (no faults)."""

    server_error_rate: float = 0.05
    burst_throttle_rate: float = 0.5
    burst_seconds: float = 1.0
    burst_every_seconds: float = 10.0
    webhook_duplicate_rate: float = 0.15
    webhook_reorder: bool = True

    @classmethod
    def calm(cls) -> Weather:
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, False)

    def plan(self, system: str, seed: int, *, burst: bool = False) -> FaultPlan:
        return FaultPlan(
            seed=seed * 1000 + SYSTEM_SEEDS[system],
            server_error_rate=self.server_error_rate,
            throttle_rate=self.burst_throttle_rate if burst else 0.0,
            path_prefixes=API_PATHS[system],
        )


PutPlan = Callable[[str, Mapping[str, Any]], Awaitable[None]]


@dataclass
class FaultWeather:
    """Turns the weather on and off, runs the bursts, and remembers what was planned."""

    put: PutPlan
    weather: Weather
    seed: int
    systems: tuple[str, ...] = ("salesforce", "netsuite", "stripe")
    bursts: dict[str, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for system in self.systems:
            await self.put(system, self.weather.plan(system, self.seed).model_dump())
        if self.weather.burst_throttle_rate > 0 and self.weather.burst_every_seconds > 0:
            self._task = asyncio.create_task(self._bursts())

    async def _bursts(self) -> None:
        turn = 0
        while True:
            await asyncio.sleep(self.weather.burst_every_seconds)
            system = self.systems[turn % len(self.systems)]
            turn += 1
            await self.put(system, self.weather.plan(system, self.seed + turn, burst=True).model_dump())
            self.bursts[system] = self.bursts.get(system, 0) + 1
            await asyncio.sleep(self.weather.burst_seconds)
            await self.put(system, self.weather.plan(system, self.seed + turn).model_dump())

    async def stop(self) -> None:
        """Calm everywhere (the closing check reads the systems without weather)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for system in self.systems:
            await self.put(system, FaultPlan().model_dump())


__all__ = ["API_PATHS", "FaultWeather", "Weather"]
