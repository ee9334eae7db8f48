"""Contract: what one unit of work sees of another's uncommitted work, on each database."""

from __future__ import annotations

import threading
import time
from datetime import timedelta, timezone

from syncline.ledger import ClaimedDelivery, NewEvent, SqlLedger

from .conftest import at, event


def test_an_uncommitted_claim_is_never_claimed_again(ledger: SqlLedger) -> None:
    """PostgreSQL skips the locked head (SKIP LOCKED); SQLite makes the second claimer wait for the
    first to commit (BEGIN IMMEDIATE). Either way the second claimer gets only the other key."""
    ledger.append_events([event("a1", "A"), event("b1", "B")], ["booking"])
    second: list[ClaimedDelivery] = []

    with ledger.transaction() as first:
        [mine] = first.claim_next_per_key("booking", "w1", 1, 30, at(0))
        rival = threading.Thread(
            target=lambda: second.extend(ledger.claim_next_per_key("booking", "w2", 10, 30, at(0)))
        )
        rival.start()
        time.sleep(0.2)  # give the rival time to run into our lock (or skip it) before we commit
    rival.join(timeout=60)

    assert mine.event.event_id == "a1"
    assert [item.event.event_id for item in second] == ["b1"]


def test_reading_is_not_blocked_by_an_open_write_transaction(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A")], ["booking"])

    with ledger.transaction() as writer:
        writer.append_events([event("a2", "A")], ["booking"])
        assert ledger.count_events() == 1, "a reader sees only committed events, and does not wait"

    assert ledger.count_events() == 2


def test_timestamps_come_back_as_the_same_instant_in_utc(ledger: SqlLedger) -> None:
    paris = timezone(timedelta(hours=1))
    local = at(0).astimezone(paris)
    ledger.append_events([NewEvent("e1", "t", "s", "k", "k", {}, occurred_at=local)], ["booking"])

    stored = ledger.get_event("e1")

    assert stored is not None and stored.occurred_at == local
    assert stored.occurred_at.utcoffset() == timedelta(0)
