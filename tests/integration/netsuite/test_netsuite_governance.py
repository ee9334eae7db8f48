"""Concurrency governance: the sandbox enforces the account limit; the connector never exceeds it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncline.connectors.netsuite import LocalGovernor, NetSuiteClient, NetSuiteConfig, governor_for
from syncline.engine.distributed_semaphore import PostgresSemaphore
from syncline.errors import RateLimitedError
from syncline.ledger.scratch import scratch_postgres
from syncline.sandbox.runner import SandboxCluster, sandboxes_in_thread

from .conftest import client_assertion, token_form

LIMIT = 5
WORKER = Path(__file__).with_name("governed_worker.py")


@pytest.fixture(scope="module")
def netsuite_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxCluster]:
    """Each governed request holds its slot for 50 ms, so concurrency is real, not incidental."""
    state = tmp_path_factory.mktemp("netsuite-governance")
    options = {"netsuite": {"concurrency_limit": LIMIT, "request_latency_s": 0.05}}
    with sandboxes_in_thread(["netsuite"], state_dir=state, seed=11, options=options) as cluster:
        yield cluster


@pytest.fixture
def governance(admin: httpx.Client) -> Iterator[httpx.Client]:
    admin.delete("/__admin/governance")
    yield admin


def stats(admin: httpx.Client) -> dict[str, int]:
    body: dict[str, int] = admin.get("/__admin/governance").json()
    return body


def test_sandbox_answers_429_to_the_call_over_the_account_limit(
    info: dict[str, Any], governance: httpx.Client
) -> None:
    ns = info["netsuite"]
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    with httpx.Client(base_url=ns["base_url"], verify=verify, timeout=10) as raw:
        token = raw.post(ns["token_url"], data=token_form(client_assertion(ns))).json()["access_token"]
        raw.headers["Authorization"] = f"Bearer {token}"
        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            answers = list(pool.map(lambda _: raw.get("/services/rest/record/v1/currency/1"), range(24)))
    throttled = [a for a in answers if a.status_code == 429]
    assert throttled, "an ungoverned burst of 12 concurrent calls must exceed a limit of 5"
    detail = throttled[0].json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert {a.status_code for a in answers} <= {200, 429}
    assert stats(governance)["max_in_flight"] == LIMIT


async def test_fifty_parallel_connector_calls_never_cause_a_429(
    info: dict[str, Any], governance: httpx.Client
) -> None:
    config = NetSuiteConfig.from_sandbox_info(info, concurrency_limit=LIMIT)
    async with NetSuiteClient(config) as first, NetSuiteClient(config) as second:
        assert first.governor is second.governor  # every flow in the process shares the account's slots
        calls = [c.get_record("customer", str(101 + i % 10)) for i in range(25) for c in (first, second)]
        results = await asyncio.gather(*calls)
    assert len(results) == 50
    seen = stats(governance)
    assert seen["rejected"] == 0
    assert seen["accepted"] == 50
    assert seen["max_in_flight"] == LIMIT  # saturated, never over


async def test_local_governor_queues_instead_of_failing() -> None:
    governor = LocalGovernor(2)
    order: list[int] = []

    async def work(n: int) -> None:
        async with governor.slot():
            order.append(n)
            await asyncio.sleep(0)

    await asyncio.gather(*(work(n) for n in range(10)))
    assert sorted(order) == list(range(10)) and governor.peak == 2


def test_governor_registry_shares_one_governor_per_account() -> None:
    assert governor_for("acct-x", 3) is governor_for("acct-x", 3)
    assert governor_for("acct-x", 3) is not governor_for("acct-y", 3)
    with pytest.raises(ValueError, match="at least 1"):
        LocalGovernor(0)


# -- across processes on PostgreSQL ----------------------------------------------------------------


@pytest.fixture
def pg_database() -> Iterator[str]:
    with scratch_postgres() as url:
        yield url.replace("postgresql+psycopg://", "postgresql://")  # a libpq URL for the semaphore


@pytest.mark.postgres
async def test_postgres_semaphore_bounds_holders_across_instances(pg_database: str) -> None:
    semaphores = [PostgresSemaphore(pg_database, "test:shared", 3) for _ in range(2)]
    holding = 0
    peak = 0

    async def hold(semaphore: PostgresSemaphore) -> None:
        nonlocal holding, peak
        async with semaphore.slot() as slot:
            assert 0 <= slot < 3
            holding += 1
            peak = max(peak, holding)
            await asyncio.sleep(0.01)
            holding -= 1

    await asyncio.gather(*(hold(semaphores[i % 2]) for i in range(16)))
    for semaphore in semaphores:
        await semaphore.close()
    assert peak == 3


@pytest.mark.postgres
async def test_crashed_holder_releases_its_slot(pg_database: str) -> None:
    crashed = PostgresSemaphore(pg_database, "test:crash", 1)
    held = await crashed.acquire()
    await held.connection.close()  # the process dies: its session ends
    survivor = PostgresSemaphore(pg_database, "test:crash", 1)
    async with asyncio.timeout(5), survivor.slot() as slot:
        assert slot == 0
    await survivor.close()


def run_two_workers(info: dict[str, Any], admin: httpx.Client, dsn: str, tmp_path: Path) -> list[Any]:
    """Start two worker processes, release them together, return their results."""
    info_path = tmp_path / "info.json"
    info_path.write_text(json.dumps(info))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, str(WORKER), str(info_path), dsn, "30", str(LIMIT)]
    workers = [
        subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read() if worker.stderr else ""
        admin.delete("/__admin/governance")
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [w.communicate(timeout=120) for w in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    return [json.loads(out.strip().splitlines()[-1]) for out, _err in outputs]


@pytest.mark.postgres
@pytest.mark.slow
def test_two_worker_processes_share_the_limit_without_429(
    info: dict[str, Any], governance: httpx.Client, pg_database: str, tmp_path: Path
) -> None:
    results = run_two_workers(info, governance, pg_database, tmp_path)
    assert [r["errors"] for r in results] == [[], []]
    seen = stats(governance)
    assert seen["rejected"] == 0 and seen["accepted"] == 60
    assert seen["max_in_flight"] == LIMIT


async def test_separate_governors_per_worker_do_exceed_the_limit(
    info: dict[str, Any], governance: httpx.Client
) -> None:
    """The control experiment: two workers that each keep 5 slots of their own overrun the account."""
    config = NetSuiteConfig.from_sandbox_info(info, concurrency_limit=LIMIT)
    async with (
        NetSuiteClient(config, governor=LocalGovernor(LIMIT)) as worker_a,
        NetSuiteClient(config, governor=LocalGovernor(LIMIT)) as worker_b,
    ):
        calls = [w.get_record("currency", "1") for _ in range(15) for w in (worker_a, worker_b)]
        results = await asyncio.gather(*calls, return_exceptions=True)
    throttled = [r for r in results if isinstance(r, RateLimitedError)]
    assert throttled and all(r.code == "CONCURRENCY_LIMIT_EXCEEDED" for r in throttled)
    assert len(throttled) + sum(isinstance(r, dict) for r in results) == len(results)
    assert stats(governance)["rejected"] == len(throttled)
