"""Crash safety with real processes: SIGKILL a worker mid-saga, restart, every effect exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from counting_endpoint import CountingEndpoint
from engine_helpers import order_event

from syncline.engine.intake import Intake
from syncline.engine.registry import FlowRegistry
from syncline.engine.saga import idempotency_key, transaction_id
from syncline.ledger import DeliveryStatus, SqlLedger, StepOutcome, open_ledger

HERE = Path(__file__).resolve().parent
STEPS = [f"s{n}" for n in range(1, 7)]


def start_worker(url: str, endpoint: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "CRASH_ENDPOINT": endpoint,
        "SYNCLINE_LOG__LEVEL": "WARNING",
        "SYNCLINE_DATABASE__POOL_SIZE": "4",
    }
    command = [sys.executable, "-c", "from syncline.cli import main; main()", "worker"]
    command += [
        "--flows",
        "crash_flows",
        "--database-url",
        url,
        "--lease-seconds",
        "2",
        "--concurrency",
        "16",
    ]
    return subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def all_done(ledger: SqlLedger, count: int) -> bool:
    return ledger.count_deliveries(consumer="crash_q2c")[DeliveryStatus.DONE] == count


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def crash_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/crash.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.mark.slow
def test_sigkill_mid_saga_then_restart_completes_with_each_effect_once(
    tmp_path: Path, crash_url: str
) -> None:
    url = crash_url
    ledger = open_ledger(url, create_if_empty=True)
    from crash_flows import FLOWS

    run = uuid.uuid4().hex[:8]
    events = [order_event(f"ord-{run}-{n}", 1) for n in range(3)]
    Intake(ledger, FlowRegistry(FLOWS)).accept(events)
    log = tmp_path / "worker.log"
    with CountingEndpoint(hold_step="s3") as endpoint:
        first = start_worker(url, endpoint.url, log)
        try:
            assert endpoint.held.wait(timeout=60), log.read_text()
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
        endpoint.release.set()
        assert first.returncode == -signal.SIGKILL
        held = next(r for r in endpoint.requests if r["step"] == "s3")
        crashed_tx = held["transaction"]
        assert not all_done(ledger, 3)

        second = start_worker(url, endpoint.url, log)
        try:
            wait_until(lambda: all_done(ledger, 3), 90, "the restarted worker to finish every saga")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)

    keys = {
        idempotency_key(transaction_id("crash_q2c", e.id), n, s)
        for e in events
        for n, s in enumerate(STEPS, 1)
    }
    assert set(endpoint.effects) == keys
    assert all(count == 1 for count in endpoint.effects.values()), endpoint.effects
    # The crashed saga resumed where it was: steps 1-2 were journaled and not sent again; step 3 was
    # re-sent with the same idempotency key, and the endpoint collapsed it into the first effect.
    assert (endpoint.sent(crashed_tx, "s1"), endpoint.sent(crashed_tx, "s2")) == (1, 1)
    assert endpoint.sent(crashed_tx, "s3") == 2
    assert (
        len({r["key"] for r in endpoint.requests if r["transaction"] == crashed_tx and r["step"] == "s3"})
        == 1
    )
    assert [line.outcome for line in ledger.steps_of(crashed_tx)] == [StepOutcome.SUCCEEDED] * 6
    # One trace from the event through every outbound call of its saga.
    stored = ledger.get_event(next(e.id for e in events if transaction_id("crash_q2c", e.id) == crashed_tx))
    assert stored is not None and stored.traceparent is not None
    trace_ids = {r["traceparent"].split("-")[1] for r in endpoint.requests if r["transaction"] == crashed_tx}
    assert trace_ids == {stored.traceparent.split("-")[1]}
    ledger.close()
