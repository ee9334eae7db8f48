"""The benchmark's business: one 6-step quote-to-cash saga and the events that start it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from syncline.contracts.envelope import EventEnvelope, new_event
from syncline.contracts.order import OrderAccepted
from syncline.engine.saga import Flow, Step, StepContext

TRIGGER = "syncline.order.accepted.v1"
STEP_NAMES = (
    "validate",
    "ensure_customer",
    "create_sales_order",
    "create_subscription",
    "acknowledge",
    "write_back",
)


def saga(name: str, action: Callable[[StepContext], Awaitable[str | None]]) -> Flow:
    """The 6-step saga, every step the same `action` (an in-process endpoint)."""
    return Flow(
        name, 1, tuple(Step(step, action, target_system="bench") for step in STEP_NAMES), triggers=(TRIGGER,)
    )


async def zero_latency(ctx: StepContext) -> str:
    """An in-process endpoint that answers at once."""
    return ctx.idempotency_key


class SlowEndpoint:
    """An in-process endpoint with a fixed latency that counts calls in flight."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.in_flight = 0
        self.peak = 0
        self.samples: list[int] = []

    async def __call__(self, ctx: StepContext) -> str:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.latency_s)
        finally:
            self.in_flight -= 1
        return ctx.idempotency_key

    async def sample_every(self, seconds: float, stop: asyncio.Event) -> None:
        """Record the calls in flight periodically (for the steady-state mean)."""
        while not stop.is_set():
            self.samples.append(self.in_flight)
            await asyncio.sleep(seconds)


def orders(count: int, prefix: str = "o") -> list[EventEnvelope]:
    """`count` events of distinct orders (distinct keys, so they may all run in parallel)."""
    now = datetime.now(UTC)
    return [
        new_event(
            TRIGGER,
            subject=f"{prefix}{n}",
            data=OrderAccepted(
                order_id=f"{prefix}{n}", accepted_by_system="netsuite", external_id=f"SO-{n}", accepted_at=now
            ),
            source_system="netsuite",
            record_id=f"{prefix}{n}",
            change_marker="1",
        )
        for n in range(count)
    ]
