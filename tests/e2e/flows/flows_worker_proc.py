"""One worker process for the multi-process tests: a Runtime (connectors, flows, worker) on a shared
PostgreSQL ledger, running until its stop file appears.

    python flows_worker_proc.py INFO_JSON DATABASE_URL READY_FILE STOP_FILE
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

from syncline.flows import FlowSettings
from syncline.runtime import Runtime, RuntimeSettings

FAST_FLOWS = FlowSettings(
    approval_timeout=timedelta(seconds=30),
    approval_poll=timedelta(milliseconds=100),
    customer_wait_timeout=timedelta(seconds=30),
    customer_wait_poll=timedelta(milliseconds=100),
)


async def main(info_path: str, database_url: str, ready: str, stop: str) -> None:
    info = json.loads(Path(info_path).read_text())
    # One saga at a time per process: work spreads over both processes, so they race for real.
    settings = RuntimeSettings(database_url=database_url, flows=FAST_FLOWS, concurrency=1)
    runtime = await Runtime.start(settings, info)
    Path(ready).write_text("ready")
    try:
        while not Path(stop).exists():
            await asyncio.sleep(0.05)
    finally:
        await runtime.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
