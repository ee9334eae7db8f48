"""Fixtures of the flows' end-to-end tests: one set of three HTTPS sandboxes per module, a fresh
SQLite ledger and runtime per test (the engine, the flows and the real connectors)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flows_kit import SANDBOX_OPTIONS, Hands

from syncline.flows import FlowSettings
from syncline.runtime import Runtime, RuntimeSettings
from syncline.sandbox.runner import SandboxCluster, sandboxes_in_thread

FAST_FLOWS = FlowSettings(
    approval_timeout=timedelta(seconds=30),
    approval_poll=timedelta(milliseconds=100),
    customer_wait_timeout=timedelta(seconds=30),
    customer_wait_poll=timedelta(milliseconds=100),
)


@pytest.fixture(scope="module")
def sandbox_overrides() -> dict[str, dict[str, Any]]:
    """Per-system sandbox options a test module adds (override the fixture in the module)."""
    return {}


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, sandbox_overrides: dict[str, dict[str, Any]]
) -> Iterator[SandboxCluster]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    state = tmp_path_factory.mktemp("flows-sandboxes")
    options = {name: {**base, **sandbox_overrides.get(name, {})} for name, base in SANDBOX_OPTIONS.items()}
    try:
        with sandboxes_in_thread(
            ["salesforce", "netsuite", "stripe"], state_dir=state, seed=7, options=options
        ) as running:
            yield running
    finally:
        sys.setswitchinterval(interval)


@pytest.fixture(scope="module")
def info(cluster: SandboxCluster) -> dict[str, Any]:
    return dict(cluster.info())


@pytest.fixture(scope="module")
def hands(info: dict[str, Any]) -> Iterator[Hands]:
    person = Hands(info)
    yield person
    person.close()


@pytest.fixture
async def runtime(info: dict[str, Any], tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = RuntimeSettings(database_url=f"sqlite:///{tmp_path}/ledger.db", flows=FAST_FLOWS)
    running = await Runtime.start(settings, info)
    try:
        yield running
    finally:
        await running.close()
