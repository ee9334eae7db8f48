"""One I/O-bound worker process: the 6-step saga against 100 ms endpoints, until the queue is empty.

Prints how many calls it kept in flight (peak, and the mean of samples taken while busy). It
imports, opens the ledger and builds its worker first, prints `ready`, and starts draining only
when it reads `go` on stdin: the parent releases all workers of a run at once, so the measured
window is the workers working together, not one worker working while the others still start.
Usage: python -m bench.io_worker <ledger-url> <concurrency> <latency-s>
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys

from bench.measure import cpu_seconds
from bench.workload import SlowEndpoint, saga
from syncline.engine.eventloop import run_event_loop
from syncline.engine.registry import FlowRegistry
from syncline.engine.worker import Worker, WorkerConfig
from syncline.ledger import open_ledger


async def run(url: str, concurrency: int, latency_s: float) -> dict[str, float]:
    endpoint = SlowEndpoint(latency_s)
    ledger = open_ledger(url)
    worker = Worker(ledger, FlowRegistry([saga("io_q2c", endpoint)]), WorkerConfig(concurrency=concurrency))
    stop = asyncio.Event()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # the parent's "go"
    sampler = asyncio.create_task(endpoint.sample_every(0.05, stop))
    cpu_before = cpu_seconds()
    stats = await worker.drain()
    cpu_used = cpu_seconds() - cpu_before
    stop.set()
    await sampler
    ledger.close()
    busy = [sample for sample in endpoint.samples if sample > 0]
    return {
        "sagas": stats.completed,
        "peak_calls_in_flight": endpoint.peak,
        "mean_calls_in_flight": round(statistics.fmean(busy), 1) if busy else 0.0,
        # The median is the steady state: the mean also counts the drain at the end of the queue.
        "median_calls_in_flight": statistics.median(busy) if busy else 0,
        "cpu_ms_per_saga": round(cpu_used * 1000 / max(stats.completed, 1), 2),
        "commits": worker.committer.commits,
    }


def main() -> None:
    url, concurrency, latency_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    # The loop `syncline worker` runs on (uvloop where installed), so the figures are the command's.
    print(json.dumps(run_event_loop(run(url, concurrency, latency_s))))


if __name__ == "__main__":
    main()
