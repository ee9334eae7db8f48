"""A worker process for the cross-process governance tests: N parallel connector calls.

Usage: python governed_worker.py <info.json> <conninfo> <calls> <limit>
Warms up (token, connections), prints "ready", waits for a line on stdin so both workers fire
together, then prints one JSON line: {"ok": <count>, "errors": [...]}.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from syncline.connectors.netsuite import NetSuiteClient, NetSuiteConfig, PostgresGovernor
from syncline.errors import SynclineError


async def main(config: NetSuiteConfig, conninfo: str, calls: int, limit: int) -> dict[str, object]:
    governor = PostgresGovernor(conninfo, config.account_id, limit)
    errors: list[str] = []
    async with NetSuiteClient(config, governor=governor) as client:
        await client.get_record("currency", "1")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

        async def one(index: int) -> None:
            try:
                await client.get_record("customer", str(101 + index % 10), fields=["companyName"])
            except SynclineError as exc:
                errors.append(f"{type(exc).__name__}: {exc.code}")

        await asyncio.gather(*(one(i) for i in range(calls)))
    await governor.close()
    return {"ok": calls - len(errors), "errors": errors}


if __name__ == "__main__":
    info_file, dsn, count, share = sys.argv[1:5]
    info = json.loads(Path(info_file).read_text())
    settings = NetSuiteConfig.from_sandbox_info(info, concurrency_limit=int(share))
    result = asyncio.run(main(settings, dsn, int(count), int(share)))
    print(json.dumps(result), flush=True)
