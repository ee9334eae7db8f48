"""Contract: concurrent claimers never double-claim and never break per-key order.

Real threads against the real database: on PostgreSQL they race through FOR UPDATE SKIP LOCKED; on
SQLite they queue on the writer lock. Each thread checks, at the moment it holds an item, that no
other thread holds an item of the same key; the per-key logs at the end must be in key order with
every event applied exactly once.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncline.ledger import DeliveryStatus, Lease, SqlLedger, open_ledger

from .conftest import event

KEYS = 12
EVENTS_PER_KEY = 8
WORKERS = 4


class Referee:
    """Shared, lock-protected view of who holds which key, and the per-key application log."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.busy_keys: set[str] = set()
        self.claims: set[tuple[int, int]] = set()
        self.applied: dict[str, list[int]] = defaultdict(list)
        self.errors: list[str] = []

    def take(self, key: str, lease: Lease) -> None:
        with self.lock:
            if key in self.busy_keys:
                self.errors.append(f"key {key} claimed while another item of it was held")
            if (lease.delivery_id, lease.attempt) in self.claims:
                self.errors.append(f"delivery {lease.delivery_id} attempt {lease.attempt} claimed twice")
            self.busy_keys.add(key)
            self.claims.add((lease.delivery_id, lease.attempt))

    def release(self, key: str, applied_seq: int | None) -> None:
        """Called BEFORE the database commit, so the next claim of the key always comes after it."""
        with self.lock:
            self.busy_keys.discard(key)
            if applied_seq is not None:
                self.applied[key].append(applied_seq)


def _work(ledger: SqlLedger, name: str, referee: Referee, total: int) -> None:
    rng = random.Random(name)
    try:
        while True:
            now = datetime.now(UTC)
            claimed = ledger.claim_next_per_key("booking", name, 3, 60, now)
            if not claimed:
                if ledger.count_deliveries("booking")[DeliveryStatus.DONE] == total:
                    return
                time.sleep(0.002)
                continue
            for item in claimed:
                referee.take(item.delivery.ordering_key, item.lease)
            with ledger.transaction() as session:
                done: list[Lease] = []
                for item in claimed:
                    if rng.random() < 0.25:
                        referee.release(item.delivery.ordering_key, None)
                        session.fail(item.lease, "transient", "injected", now - timedelta(seconds=1), now)
                    else:
                        referee.release(item.delivery.ordering_key, item.delivery.key_seq)
                        done.append(item.lease)
                session.complete_many(done, now)
    except Exception as error:  # reported by the test, not lost in the thread
        referee.errors.append(f"{name}: {error!r}")


def test_concurrent_claimers_keep_per_key_order_and_never_double_claim(ledger: SqlLedger) -> None:
    batch = [event(f"k{k}-{n}", f"key-{k}") for n in range(EVENTS_PER_KEY) for k in range(KEYS)]
    for start in range(0, len(batch), 24):
        ledger.append_events(batch[start : start + 24], ["booking"])
    expected = {
        f"key-{k}": [ledger.get_event(f"k{k}-{n}").key_seq for n in range(EVENTS_PER_KEY)]  # type: ignore[union-attr]
        for k in range(KEYS)
    }
    referee = Referee()

    threads = [
        threading.Thread(target=_work, args=(ledger, f"worker-{i}", referee, len(batch)))
        for i in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert referee.errors == []
    assert not any(thread.is_alive() for thread in threads)
    assert dict(referee.applied) == expected
    assert ledger.count_deliveries("booking")[DeliveryStatus.DONE] == len(batch)


def test_concurrent_intakes_store_each_event_once_with_one_sequence_per_key(ledger: SqlLedger) -> None:
    events = [event(f"e{i}", f"key-{i % 7}") for i in range(140)]
    results: list[tuple[set[str], set[str]]] = []
    errors: list[str] = []

    def intake(seed: int) -> None:
        rng = random.Random(seed)
        mine = events[:]
        rng.shuffle(mine)
        appended: set[str] = set()
        duplicates: set[str] = set()
        try:
            for start in range(0, len(mine), 20):
                result = ledger.append_events(mine[start : start + 20], ["booking"])
                appended.update(result.appended_ids)
                duplicates.update(result.duplicates)
        except Exception as error:
            errors.append(repr(error))
        results.append((appended, duplicates))

    threads = [threading.Thread(target=intake, args=(seed,)) for seed in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    winners = [event_id for appended, _ in results for event_id in appended]
    assert sorted(winners) == sorted(e.event_id for e in events), "each event appended exactly once"
    assert ledger.count_events() == len(events)
    assert len(ledger.list_deliveries(limit=1000)) == len(events)
    stored = [ledger.get_event(e.event_id) for e in events]
    by_key: dict[str, list[int]] = defaultdict(list)
    for item in stored:
        assert item is not None
        by_key[item.ordering_key].append(item.key_seq)
    assert all(len(seqs) == len(set(seqs)) for seqs in by_key.values())


@pytest.mark.postgres
def test_worker_processes_apply_each_item_once_in_key_order(postgres_url: str) -> None:
    """Scale-out: separate `syncline worker`-like OS processes, each with its own connections, on
    PostgreSQL (SQLite's embedded mode has one process; its threads are covered above)."""
    batch = [event(f"p{k}-{n}", f"key-{k}") for n in range(5) for k in range(6)]
    ledger = open_ledger(postgres_url)
    ledger.append_events(batch, ["booking"])
    script = Path(__file__).with_name("claim_worker.py")

    workers = [
        subprocess.Popen([sys.executable, str(script), postgres_url, f"proc-{i}", str(len(batch))])
        for i in range(3)
    ]
    codes = [worker.wait(timeout=180) for worker in workers]

    assert codes == [0, 0, 0]
    applied = list(reversed(ledger.query_audit(action="applied", limit=1000)))
    ledger.close()
    assert len(applied) == len(batch), "each item applied exactly once"
    per_key: dict[str, list[int]] = defaultdict(list)
    for entry in applied:
        key, seq = entry.object_id.rsplit(":", 1)
        per_key[key].append(int(seq))
    assert all(seqs == sorted(seqs) for seqs in per_key.values()), per_key
