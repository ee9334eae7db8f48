"""Back-pressure: a burst of 100,000 events while the outbound endpoint is throttled.

One process: a worker runs the 6-step saga whose first step waits for a permit of a throttled
endpoint (200 calls/s), while a thread accepts 100,000 events in batches of 1,000. Intake must
keep its pace (it never waits for outbound calls) and memory must stay flat: the backlog lives in
the ledger, the worker holds only `concurrency` sagas. RSS is sampled from /proc while it runs.

Usage: python -m bench.burst <sqlite-url> <events>
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from bench.measure import peak_rss_mb
from bench.workload import orders, saga
from syncline.engine.intake import Intake
from syncline.engine.ratelimit import EndpointLimit, EndpointLimiter, Priority
from syncline.engine.registry import FlowRegistry
from syncline.engine.saga import StepContext
from syncline.engine.worker import Worker, WorkerConfig
from syncline.ledger import open_ledger

BATCH = 1000
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Current resident set size in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    ledger = open_ledger(url, create_if_empty=True)
    limiter = EndpointLimiter("erp", EndpointLimit(rate_per_s=200.0, burst=10, concurrency=50))

    async def throttled(ctx: StepContext) -> str:
        async with limiter.permit(Priority.ORDER_BOOKING):
            return ctx.idempotency_key

    registry = FlowRegistry([saga("burst_q2c", throttled)])
    intake = Intake(ledger, registry)
    samples: list[tuple[int, float]] = []
    accepted = [0]

    def feed() -> None:
        for start in range(0, count, BATCH):
            accepted[0] += len(intake.accept(orders(BATCH, prefix=f"b{start}-")).accepted)
            samples.append((accepted[0], rss_mb()))

    worker = Worker(ledger, registry, WorkerConfig(concurrency=256))

    async def run() -> float:
        stop = asyncio.Event()
        serving = asyncio.create_task(worker.run(stop))
        started = time.perf_counter()
        await asyncio.to_thread(feed)
        elapsed = time.perf_counter() - started
        stop.set()
        await serving
        return elapsed

    elapsed = asyncio.run(run())
    ledger.close()
    early = next(rss for done, rss in samples if done >= count // 10)
    print(
        json.dumps(
            {
                "events": accepted[0],
                "intake_events_per_s": round(accepted[0] / elapsed, 1),
                "sagas_completed_meanwhile": worker.stats.completed,
                "worker_peak_sagas_in_memory": worker.stats.peak_in_flight,
                "rss_mb_after_10_percent": round(early, 1),
                "rss_mb_at_end": round(samples[-1][1], 1),
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
