"""Ledger throughput: append, then claim + complete with group commit, on SQLite and PostgreSQL.

Run with `python -m bench.ledger`; writes bench/results/ledger.json. Durability as in production:
SQLite synchronous=FULL, PostgreSQL with its default fsync on commit. Figures are for this machine
only; they are for comparing changes, not for assertions in tests.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from syncline.ledger import Lease, NewEvent, SqlLedger, open_ledger

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
RESULTS = Path(__file__).resolve().parent / "results" / "ledger.json"
EVENTS = 20_000
KEYS = 2_000
APPEND_BATCH = 500
CLAIM_BATCH = 200
SINGLE_ITEMS = 500


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="syncline-bench-") as folder:
        yield f"sqlite:///{folder}/ledger.db"


@contextmanager
def postgres_url() -> Iterator[str]:
    name = f"syncline_bench_{secrets.token_hex(6)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _events(prefix: str, count: int) -> list[NewEvent]:
    return [
        NewEvent(
            event_id=f"{prefix}-{i}",
            type="syncline.order.booked.v1",
            source="urn:syncline:bench",
            subject=f"key-{i % KEYS}",
            ordering_key=f"key-{i % KEYS}",
            payload={"n": i, "amount": "10.00", "currency": "EUR"},
        )
        for i in range(count)
    ]


def _timed(action: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = action()
    return count, time.perf_counter() - started


def _append_all(ledger: SqlLedger, batch: list[NewEvent]) -> int:
    for start in range(0, len(batch), APPEND_BATCH):
        ledger.append_events(batch[start : start + APPEND_BATCH], ["bench"])
    return len(batch)


def _drain_group_commit(ledger: SqlLedger) -> int:
    """One transaction per round: complete what the last round claimed, claim the next heads."""
    done = 0
    held: list[Lease] = []
    while True:
        with ledger.transaction() as session:
            done += len(session.complete_many(held, datetime.now(UTC)))
            claimed = session.claim_next_per_key("bench", "w1", CLAIM_BATCH, 60, datetime.now(UTC))
        held = [item.lease for item in claimed]
        if not held:
            return done


def _single_items(ledger: SqlLedger) -> int:
    """The slow path for comparison: one claim and one complete transaction per item."""
    ledger.append_events(_events("single", SINGLE_ITEMS), ["single"])
    for _ in range(SINGLE_ITEMS):
        [item] = ledger.claim_next_per_key("single", "w1", 1, 60)
        ledger.complete(item.lease)
    return SINGLE_ITEMS


def measure(url: str) -> dict[str, Any]:
    """Figures for one database."""
    ledger = open_ledger(url, create_if_empty=True)
    try:
        appended, append_s = _timed(lambda: _append_all(ledger, _events("bench", EVENTS)))
        drained, drain_s = _timed(lambda: _drain_group_commit(ledger))
        singles, single_s = _timed(lambda: _single_items(ledger))
    finally:
        ledger.close()
    return {
        "events": appended,
        "keys": KEYS,
        "append_events_per_s": round(appended / append_s),
        "group_commit_claim_complete_per_s": round(drained / drain_s),
        "group_commit_batch": CLAIM_BATCH,
        "single_claim_complete_per_s": round(singles / single_s),
    }


def main() -> dict[str, Any]:
    """Run on both databases and write the results file."""
    results: dict[str, Any] = {}
    with sqlite_url() as url:
        results["sqlite"] = measure(url)
    with postgres_url() as url:
        results["postgresql"] = measure(url)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
