"""One worker process for the multi-process tests: a Runtime (connectors, flows, worker) on a shared
PostgreSQL ledger, running until SIGTERM (which lets the sagas in flight finish).

    python flows_worker_proc.py INFO_JSON DATABASE_URL READY_FILE
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from syncline.flows import FlowSettings
from syncline.runtime import Runtime, RuntimeSettings

FAST_FLOWS = FlowSettings(
    approval_timeout=timedelta(seconds=30),
    approval_poll=timedelta(milliseconds=100),
    customer_wait_timeout=timedelta(seconds=30),
    customer_wait_poll=timedelta(milliseconds=100),
)


async def main(info: dict[str, Any], database_url: str, ready: Path) -> None:
    # One saga at a time per process: work spreads over both processes, so they race for real.
    settings = RuntimeSettings(database_url=database_url, flows=FAST_FLOWS, concurrency=1)
    runtime = await Runtime.start(settings, info)
    await asyncio.to_thread(ready.write_text, "ready")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        await runtime.close()


if __name__ == "__main__":
    info_path, url, ready_file = sys.argv[1:4]
    asyncio.run(main(json.loads(Path(info_path).read_text()), url, Path(ready_file)))
