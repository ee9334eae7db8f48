"""Two worker processes on one PostgreSQL ledger: two accounts of one new company, taken at once by
whichever process claims them, still make exactly one ERP customer (the identity lock is an advisory
lock in the database, not a per-process lock)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from flows_kit import Hands, customer_event, records, unique

from syncline.ledger.scratch import scratch_postgres
from syncline.runtime import Runtime, RuntimeSettings

WORKER = Path(__file__).with_name("flows_worker_proc.py")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with scratch_postgres() as url:
        yield url


@pytest.fixture
async def feeder(info: dict[str, Any], postgres_url: str) -> AsyncIterator[Runtime]:
    """A runtime that only feeds and observes the ledger (it creates the schema first)."""
    runtime = await Runtime.start(RuntimeSettings(database_url=postgres_url), info, run_worker=False)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
def two_workers(info: dict[str, Any], postgres_url: str, feeder: Runtime, tmp_path: Path) -> Iterator[None]:
    info_file = tmp_path / "info.json"
    info_file.write_text(json.dumps(info, default=str))
    readies = [tmp_path / f"ready-{n}" for n in range(2)]
    command = [sys.executable, str(WORKER), str(info_file), postgres_url]
    children = [subprocess.Popen([*command, str(ready)]) for ready in readies]
    try:
        deadline = time.monotonic() + 60
        while not all(ready.exists() for ready in readies):
            assert all(child.poll() is None for child in children), "a worker process died while starting"
            assert time.monotonic() < deadline, "worker processes did not start"
            time.sleep(0.05)
        yield
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    assert [child.returncode for child in children] == [0, 0]


async def test_two_accounts_of_one_new_company_on_two_processes_create_one_erp_customer(
    feeder: Runtime, two_workers: None, hands: Hands
) -> None:
    keys = [unique("pgtwin") for _ in range(4)]
    domain = f"{keys[0]}.example"
    name = f"Twin Processes {keys[0][-8:]} Inc."
    ids = [hands.create_account(k, name, website=f"https://{domain}") for k in keys]
    await feeder.ingest(
        [
            customer_event(k, name, website=domain, salesforce_id=sf_id)
            for k, sf_id in zip(keys, ids, strict=True)
        ]
    )
    assert await feeder.run_until_idle(timeout_s=90)

    created = [c for c in records(hands.snapshot("netsuite"), "customer") if c.get("companyName") == name]
    assert len(created) == 1  # never two ERP customers for one company, whichever process ran which
    counters = feeder.counters().flows["customer"]
    assert counters.completed == 1 and counters.exceptions == {"DUPLICATE_ACCOUNT": 3}
    with feeder.ledger.read() as session:
        transactions = session.list_transactions(flow="customer", limit=100)
    assert len(transactions) == 4  # every account was taken through flow 1, none lost
