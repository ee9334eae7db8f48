"""Outbox relay on a real PostgreSQL ledger: an insert that commits late is published, never skipped."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import text

from syncline.engine.bus import BusMessage, InProcessBus
from syncline.engine.outbox import LedgerOutbox
from syncline.engine.relay import OutboxRelay
from syncline.ledger import NewEvent, SqlLedger, open_ledger

pytestmark = pytest.mark.postgres

#: The relay used to jump a gap in positions once the event after it was this old; a transaction
#: that held its position longer than that was never published.
OLD_GAP_GRACE_S = 5.0


@pytest.fixture
def pg_ledger(postgres_url: str) -> Iterator[SqlLedger]:
    ledger = open_ledger(postgres_url, create_if_empty=True)
    try:
        yield ledger
    finally:
        ledger.close()


def _event(event_id: str) -> NewEvent:
    return NewEvent(event_id, "syncline.order.accepted.v1", "urn:test", event_id, event_id, {"id": event_id})


class Recorder:
    """Collects the event ids the bus delivers, in order."""

    def __init__(self, bus: InProcessBus) -> None:
        self.ids: list[str] = []
        bus.subscribe("", self.receive)

    async def receive(self, message: BusMessage) -> None:
        self.ids.append(message.event_id)


async def _relay_until(relay: OutboxRelay, recorder: Recorder, wanted: set[str]) -> None:
    """Run relay passes until every wanted id was published (or a generous limit passes).

    The horizon is the server-wide oldest running transaction, and other test sessions share the
    server, so one of theirs may hold it back for a while; waiting is correct, giving up is not.
    """
    deadline = time.monotonic() + 60
    while not wanted <= set(recorder.ids) and time.monotonic() < deadline:
        await relay.run_once()
        await asyncio.sleep(0.05)


async def test_a_transaction_holding_its_position_past_the_old_grace_is_relayed_after_it_commits(
    pg_ledger: SqlLedger,
) -> None:
    suffix = secrets.token_hex(4)
    held_id, later_ids = f"held-{suffix}", [f"later-{suffix}-{n}" for n in range(2)]
    bus = InProcessBus()
    recorder = Recorder(bus)
    relay = OutboxRelay(LedgerOutbox(pg_ledger), bus, name=f"late-{suffix}")
    with ExitStack() as later_tx:
        later = later_tx.enter_context(pg_ledger.transaction())
        later.conn.execute(text("SELECT pg_current_xact_id()"))  # takes its transaction id first
        slow_tx = pg_ledger.transaction()
        slow = slow_tx.__enter__()
        slow.append_events([_event(held_id)], [])  # position N, uncommitted
        later.append_events([_event(event_id) for event_id in later_ids], [])  # N+1, N+2
    try:
        await _relay_until(relay, recorder, set(later_ids))
        assert set(later_ids) <= set(recorder.ids) and held_id not in recorder.ids
        await asyncio.sleep(OLD_GAP_GRACE_S + 1)  # hold position N open past the old relay's grace
        await relay.run_once()
        assert held_id not in recorder.ids
    finally:
        slow_tx.__exit__(None, None, None)  # commit, long after N+1 and N+2 did
    await _relay_until(relay, recorder, {held_id})

    assert recorder.ids.count(held_id) == 1
    held, first_later = pg_ledger.get_event(held_id), pg_ledger.get_event(later_ids[0])
    assert held is not None and first_later is not None and held.position < first_later.position


async def test_later_commits_wait_behind_a_running_transaction_and_keep_commit_order(
    pg_ledger: SqlLedger,
) -> None:
    suffix = secrets.token_hex(4)
    held_id, later_id = f"held-{suffix}", f"later-{suffix}"
    bus = InProcessBus()
    recorder = Recorder(bus)
    relay = OutboxRelay(LedgerOutbox(pg_ledger), bus, name=f"order-{suffix}")
    with pg_ledger.transaction() as slow:
        slow.append_events([_event(held_id)], [])
        pg_ledger.append_events([_event(later_id)], [])  # commits while `slow` is still open
        await relay.run_once()
        assert later_id not in recorder.ids  # its transaction id is above the horizon
    await _relay_until(relay, recorder, {held_id, later_id})

    mine = [event_id for event_id in recorder.ids if event_id in {held_id, later_id}]
    assert mine == [held_id, later_id]
