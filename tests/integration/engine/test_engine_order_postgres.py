"""Per-key order with 4 real worker processes on one PostgreSQL ledger (hypothesis interleavings).

Events of a few keys are accepted in a random interleaving, in random batch sizes, some failing
their first attempt. Four `syncline worker` processes claim concurrently (FOR UPDATE SKIP LOCKED
on head rows). For every key, the recording endpoint must see the events applied exactly once
each and in acceptance order, whatever the interleaving and whichever worker ran them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import order_flows
import pytest
from engine_helpers import order_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncline.engine.intake import Intake
from syncline.engine.registry import FlowRegistry
from syncline.ledger import DeliveryStatus, SqlLedger, open_ledger

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
HERE = Path(__file__).resolve().parent
REGISTRY = FlowRegistry(order_flows.FLOWS)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.applied: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with recorder.lock:
                    recorder.applied.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def for_keys(self, keys: set[str]) -> list[dict[str, Any]]:
        with self.lock:
            return [entry for entry in self.applied if entry["key"] in keys]


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    made = Recorder()
    yield made
    made.server.shutdown()


@pytest.fixture(scope="module")
def pg_ledger(postgres_url: str) -> Iterator[SqlLedger]:
    ledger = open_ledger(postgres_url, create_if_empty=True)
    yield ledger
    ledger.close()


@pytest.fixture(scope="module")
def workers(
    pg_ledger: SqlLedger, postgres_url: str, recorder: Recorder, tmp_path_factory: Any
) -> Iterator[None]:
    log = tmp_path_factory.mktemp("workers") / "workers.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "ORDER_ENDPOINT": recorder.url,
        "SYNCLINE_LOG__LEVEL": "ERROR",
        "SYNCLINE_DATABASE__POOL_SIZE": "2",
    }
    command = [
        sys.executable,
        "-c",
        "from syncline.cli import main; main()",
        "worker",
        "--flows",
        "order_flows",
    ]
    command += ["--database-url", postgres_url, "--concurrency", "32", "--lease-seconds", "10"]
    processes = [
        subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT) for _ in range(4)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_done(ledger: SqlLedger, event_ids: set[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = {d.event_id for d in ledger.list_deliveries(status=DeliveryStatus.DONE, limit=100_000)}
        if event_ids <= done:
            return
        time.sleep(0.2)
    raise AssertionError("the workers did not finish the example's events in time")


interleavings = st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=4, max_size=24)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=interleavings, batch=st.integers(1, 8))
def test_each_key_is_applied_once_in_order_by_four_workers(
    plan: list[tuple[int, bool]], batch: int, pg_ledger: SqlLedger, recorder: Recorder, workers: None
) -> None:
    run = uuid.uuid4().hex[:8]
    keys = [f"k{run}-{n}" for n in range(4)]
    sequence_of: dict[str, int] = {}
    events = []
    for position, (key_index, fails) in enumerate(plan):
        key = keys[key_index]
        marker = f"{position}{'f' if fails else ''}"
        event = order_event(f"ord-{run}-{position}", marker, key=key)
        events.append(event)
        sequence_of[event.id] = position
    intake = Intake(pg_ledger, REGISTRY)
    for start in range(0, len(events), batch):
        intake.accept(events[start : start + batch])
    wait_for_done(pg_ledger, {event.id for event in events})
    applied = recorder.for_keys(set(keys))
    assert sorted(entry["event"] for entry in applied) == sorted(event.id for event in events)  # once each
    for key in keys:
        seen = [sequence_of[entry["event"]] for entry in applied if entry["key"] == key]
        assert seen == sorted(seen), f"key {key} applied out of order: {seen}"
