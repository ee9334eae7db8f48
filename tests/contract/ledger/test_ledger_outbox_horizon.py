"""Contract: `committed_events_after` never returns an event that a still-running transaction precedes."""

from __future__ import annotations

import time
from contextlib import ExitStack

import pytest
from sqlalchemy import text

from syncline.ledger import OutboxCursor, SqlLedger, StoredEvent, connect_ledger, open_ledger
from syncline.ledger.migrate import upgrade

from .conftest import event


def _ids(events: list[StoredEvent]) -> list[str]:
    return [e.event_id for e in events]


def _read_until(ledger: SqlLedger, cursor: OutboxCursor, count: int) -> list[StoredEvent]:
    """Read until `count` events are below the horizon.

    The horizon is the server-wide oldest running transaction, and other test sessions share the
    server, so one of theirs may hold it back for a moment; waiting is correct, giving up is not.
    """
    deadline = time.monotonic() + 60
    while len(found := ledger.committed_events_after(cursor)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_committed_events_after_reads_everything_committed_and_resumes_from_a_cursor(
    ledger: SqlLedger,
) -> None:
    ledger.append_events([event(f"e{i}", f"k{i % 3}") for i in range(3)], [])
    ledger.append_events([event("e3", "k0"), event("e4", "k1")], [])
    assert len(_read_until(ledger, OutboxCursor(), 5)) == 5  # the horizon has passed all five

    first = ledger.committed_events_after(OutboxCursor(), limit=2)
    rest = ledger.committed_events_after(OutboxCursor.of(first[-1]))
    assert _ids(first + rest) == ["e0", "e1", "e2", "e3", "e4"]
    assert ledger.committed_events_after(OutboxCursor.of(rest[-1])) == []
    cursors = [OutboxCursor.of(e) for e in first + rest]
    assert cursors == sorted(cursors)


def test_a_bare_position_cursor_reads_like_the_old_checkpoint(ledger: SqlLedger) -> None:
    ledger.append_events([event(f"e{i}", "k") for i in range(3)], [])
    second = ledger.events_after(0)[1]
    legacy = OutboxCursor.parse(str(second.position))

    assert legacy == OutboxCursor(0, second.position)
    # On PostgreSQL events newer than migration 0005 carry real transaction ids (> 0), so an old
    # checkpoint re-reads them: at-least-once, the bus drops the repeats by event id.
    expected = ["e2"] if ledger.flavor.name == "sqlite" else ["e0", "e1", "e2"]
    after_legacy = _ids(_read_until(ledger, legacy, len(expected)))
    assert after_legacy == expected


def test_after_upgrading_to_0005_an_old_checkpoint_resumes_exactly_where_it_stopped(
    empty_database_url: str,
) -> None:
    ledger = connect_ledger(empty_database_url)
    try:
        upgrade(ledger.engine, "0004")  # the schema before events recorded transaction ids
        old = ledger.append_events([event(f"e{i}", "k") for i in range(3)], [])
        ledger.set_checkpoint("relay:r", str(old.appended[1].position))  # the old relay's format
        upgrade(ledger.engine)
        ledger.append_events([event("e3", "k")], [])

        resumed = OutboxCursor.parse(ledger.get_checkpoint("relay:r") or "")
        read = _read_until(ledger, resumed, 2)
        assert _ids(read) == ["e2", "e3"]  # nothing skipped, nothing read twice
        old_tx, new_tx = read[0].tx_id, read[1].tx_id
        if ledger.flavor.name == "postgresql":
            assert old_tx == 0 and new_tx is not None and new_tx > 0
        else:
            assert old_tx is None and new_tx is None
    finally:
        ledger.close()


def test_a_malformed_checkpoint_is_refused_with_its_text() -> None:
    with pytest.raises(ValueError, match=r"checkpoint 'x:1' is neither"):
        OutboxCursor.parse("x:1")


@pytest.mark.postgres
def test_an_event_of_a_running_transaction_is_held_back_then_read_after_later_commits(
    postgres_url: str,
) -> None:
    ledger = open_ledger(postgres_url)
    try:
        with ExitStack() as stack:
            early = stack.enter_context(ledger.transaction())  # takes its transaction id first
            early.conn.execute(text("SELECT pg_current_xact_id()"))
            slow = ledger.transaction()
            held = slow.__enter__()
            held.append_events([event("held", "k-slow")], [])  # position N, still uncommitted
            early.append_events([event("after-1", "k-a"), event("after-2", "k-b")], [])  # N+1, N+2
        try:
            visible = _read_until(ledger, OutboxCursor(), 2)
            # The early transaction finished and is below the horizon; the held one is not.
            assert _ids(visible) == ["after-1", "after-2"]
            cursor = OutboxCursor.of(visible[-1])
        finally:
            slow.__exit__(None, None, None)  # commit
        late = _read_until(ledger, cursor, 1)
        assert _ids(late) == ["held"]
        assert late[0].position < visible[0].position  # a lower position, read after the higher ones
    finally:
        ledger.close()
