"""The 6-step saga on Syncline, in its own process: intake and one worker running together.

Events are accepted in batches by a thread (each batch one durable commit, as a webhook burst
would arrive) while the worker claims and runs sagas with group commit. Latency is from the
moment an event's batch was committed to the moment its delivery's completion was committed.

With a `backlog` argument the feeder is closed-loop instead: it keeps at most `backlog` events
accepted but not finished (like a client that waits for its results), which is the fair setting for
latency: DBOS is driven the same way with the same number in flight.

Usage: python -m bench.syncline_saga <ledger-url> <sagas> <concurrency> [backlog]
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time

from bench.measure import cpu_seconds, latency_summary_ms, peak_rss_mb
from bench.workload import orders, saga, zero_latency
from syncline.engine.intake import Intake
from syncline.engine.registry import FlowRegistry
from syncline.engine.worker import Worker, WorkerConfig
from syncline.ledger import ClaimedDelivery, open_ledger

BATCH = 250


class TimedWorker(Worker):
    """Notes when each delivery's completion is committed; sets `all_done` after `expected` of them."""

    finished: dict[str, float]
    expected: int
    all_done: asyncio.Event

    async def _process(self, claimed: ClaimedDelivery) -> None:
        await super()._process(claimed)
        self.finished[claimed.event.event_id] = time.perf_counter()
        if len(self.finished) >= self.expected:
            self.all_done.set()


def main() -> None:
    url, count, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    backlog = int(sys.argv[4]) if len(sys.argv) > 4 else None
    ledger = open_ledger(url, create_if_empty=True)
    registry = FlowRegistry([saga("q2c", zero_latency)])
    intake = Intake(ledger, registry)
    intake.accept(orders(50, prefix="warm"))
    asyncio.run(Worker(ledger, registry, WorkerConfig(concurrency=concurrency)).drain())
    events = orders(count)
    accepted: dict[str, float] = {}

    def feed() -> None:
        start = 0
        while start < count:
            room = BATCH if backlog is None else backlog - (len(accepted) - len(worker.finished))
            if room <= 0:
                time.sleep(0.0005)
                continue
            chunk = events[start : start + min(room, BATCH)]
            intake.accept(chunk)
            now = time.perf_counter()
            accepted.update((event.id, now) for event in chunk)
            start += len(chunk)

    worker = TimedWorker(ledger, registry, WorkerConfig(concurrency=concurrency, idle_poll_s=0.005))
    worker.finished = {}
    worker.expected = count

    async def run() -> None:
        worker.all_done = asyncio.Event()
        await worker.run(worker.all_done)

    cpu_before = cpu_seconds()
    started = time.perf_counter()
    feeder = threading.Thread(target=feed)
    feeder.start()
    asyncio.run(run())
    feeder.join()
    elapsed = max(worker.finished.values()) - started
    latencies = [worker.finished[event_id] - accepted[event_id] for event_id in accepted]
    result = {"sagas": count, "seconds": round(elapsed, 3), "sagas_per_s": round(count / elapsed, 1)}
    result.update(latency_summary_ms(latencies))
    result["peak_rss_mb"] = peak_rss_mb()
    result["cpu_ms_per_saga"] = round((cpu_seconds() - cpu_before) * 1000 / count, 2)
    result["commits"] = worker.committer.commits
    ledger.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
