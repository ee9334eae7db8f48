"""The 6-step saga on DBOS (the comparison baseline), run in its own process.

Same shape as the Syncline run: six zero-latency in-process steps per saga, every step checkpointed
durably before the next. Durability is the same: SQLite in WAL mode with `synchronous=FULL`
(fsync on every commit), PostgreSQL with `synchronous_commit=on` and `fsync=on` (server defaults).

Usage: python -m bench.dbos_saga <sqlite-file-or-postgres-url> <sagas> <in-flight>
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig

from bench.measure import cpu_seconds, latency_summary_ms, peak_rss_mb


@DBOS.step()
async def validate(order: int) -> str:
    return f"valid-{order}"


@DBOS.step()
async def ensure_customer(order: int) -> str:
    return f"cust-{order}"


@DBOS.step()
async def create_sales_order(order: int) -> str:
    return f"so-{order}"


@DBOS.step()
async def create_subscription(order: int) -> str:
    return f"sub-{order}"


@DBOS.step()
async def acknowledge(order: int) -> str:
    return f"ack-{order}"


@DBOS.step()
async def write_back(order: int) -> str:
    return f"wb-{order}"


@DBOS.workflow()
async def quote_to_cash(order: int) -> str:
    await validate(order)
    await ensure_customer(order)
    await create_sales_order(order)
    await create_subscription(order)
    await acknowledge(order)
    return await write_back(order)


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False}, pool_size=20)

        @sa.event.listens_for(engine, "connect")
        def _durable(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=FULL")
            dbapi_conn.execute("PRAGMA busy_timeout=30000")
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

        return engine
    return sa.create_engine(url, pool_size=20, max_overflow=0)


async def _run(count: int, in_flight: int) -> list[float]:
    gate = asyncio.Semaphore(in_flight)
    latencies: list[float] = []

    async def one(order: int) -> None:
        async with gate:
            start = time.perf_counter()
            handle = await DBOS.start_workflow_async(quote_to_cash, order)
            await handle.get_result()
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(one(i) for i in range(count)))
    return latencies


def main() -> None:
    url, count, in_flight = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    config: DBOSConfig = {
        "name": "syncline_bench",
        "system_database_url": url,
        "system_database_engine": _engine(url),
        "log_level": "WARNING",
        "run_admin_server": False,
    }
    DBOS(config=config)
    DBOS.launch()
    asyncio.run(_run(20, in_flight))  # warm-up: engine, pools, migrations
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    latencies = asyncio.run(_run(count, in_flight))
    elapsed = time.perf_counter() - started
    DBOS.destroy()
    result = {"sagas": count, "seconds": round(elapsed, 3), "sagas_per_s": round(count / elapsed, 1)}
    result.update(latency_summary_ms(latencies))
    result["peak_rss_mb"] = peak_rss_mb()
    result["cpu_ms_per_saga"] = round((cpu_seconds() - cpu_before) * 1000 / count, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
