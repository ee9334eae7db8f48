"""Contract of `syncline.ledger.batch` on SQLite and PostgreSQL alike (added for the engine)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from syncline.ledger import DeliveryStatus, Lease, NewEvent, SqlLedger, StepOutcome, StepRecord
from syncline.ledger.batch import StateChange, TransactionStart

T0 = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)


def tx_ids(count: int) -> list[str]:
    return [f"tx-{uuid.uuid4().hex}" for _ in range(count)]


def line(tx: str, step_no: int, outcome: StepOutcome = StepOutcome.SUCCEEDED, **extra: object) -> StepRecord:
    return StepRecord(
        transaction_id=tx,
        step_no=step_no,
        name=f"s{step_no}",
        outcome=outcome,
        idempotency_key=f"key-{tx}-{step_no}",
        started_at=T0,
        finished_at=T0 + timedelta(milliseconds=5),
        **extra,  # type: ignore[arg-type]
    )


def test_transactions_and_steps_are_written_in_bulk_and_read_back_exactly(any_ledger: SqlLedger) -> None:
    first, second = tx_ids(2)
    with any_ledger.transaction() as session:
        session.start_transactions(
            [TransactionStart(first, "q2c", 2, "corr-1"), TransactionStart(second, "q2c", 2)]
        )
        session.start_transactions([TransactionStart(first, "other", 9)])  # idempotent: first row stays
        session.record_steps([line(first, 1), line(first, 2, StepOutcome.FAILED), line(second, 1)])
    with any_ledger.transaction() as session:
        session.record_steps([line(first, 2, StepOutcome.FAILED), line(first, 2, external_id="SO-7")])
    record = any_ledger.get_transaction(first)
    assert record is not None and (record.flow, record.flow_version, record.correlation_id) == (
        "q2c",
        2,
        "corr-1",
    )
    lines = any_ledger.steps_of(first)
    assert [(x.step_no, x.outcome, x.external_id) for x in lines] == [
        (1, StepOutcome.SUCCEEDED, None),
        (2, StepOutcome.SUCCEEDED, "SO-7"),  # last line given for a step wins
    ]
    assert lines[0].started_at == T0 and lines[0].finished_at == T0 + timedelta(milliseconds=5)
    assert lines[0].idempotency_key == f"key-{first}-1"
    with any_ledger.read() as session:
        journals = session.steps_of_many([first, second, "missing"])
    assert sorted(journals[first]) == [1, 2] and sorted(journals[second]) == [1] and journals["missing"] == {}


def test_state_changes_keep_the_current_step_when_none_is_given(any_ledger: SqlLedger) -> None:
    (tx,) = tx_ids(1)
    with any_ledger.transaction() as session:
        session.start_transactions([TransactionStart(tx, "q2c", 1)])
        session.set_transaction_states([StateChange(tx, "waiting", 3)])
    with any_ledger.transaction() as session:
        session.set_transaction_states([StateChange(tx, "completed", None, completed=True)])
    record = any_ledger.get_transaction(tx)
    assert record is not None and (record.state, record.current_step) == ("completed", 3)
    assert record.completed_at is not None and record.completed_at.tzinfo is not None


def _append(ledger: SqlLedger, event_id: str, key: str, subject: str = "ord-1") -> None:
    event = NewEvent(
        event_id=event_id,
        type="syncline.order.accepted.v1",
        source="urn:syncline:netsuite:default",
        subject=subject,
        ordering_key=key,
        payload={"n": 1},
        correlation_id=f"corr-{key}",
    )
    ledger.append_events([event], ["flow"])


def test_defer_returns_the_item_without_counting_the_attempt_and_respects_the_lease(
    any_ledger: SqlLedger,
) -> None:
    key = f"k-{uuid.uuid4().hex}"
    _append(any_ledger, f"e-{key}", key)
    (claimed,) = [
        c for c in any_ledger.claim_next_per_key("flow", "w1", 100, 30) if c.delivery.ordering_key == key
    ]
    until = datetime.now(UTC) + timedelta(minutes=5)
    with any_ledger.transaction() as session:
        assert session.defer(claimed.lease, until) is True
        assert session.defer(claimed.lease, until) is False  # lease already given back
    delivery = any_ledger.get_delivery(claimed.delivery.id)
    assert delivery is not None and delivery.status is DeliveryStatus.PENDING
    assert delivery.attempts == 0 and delivery.next_attempt_at == until
    assert delivery.last_error_class == "waiting" and delivery.lease_owner is None


def test_find_event_events_by_id_and_reset_steps(any_ledger: SqlLedger) -> None:
    key = f"k-{uuid.uuid4().hex}"
    subject = f"sub-{key}"
    _append(any_ledger, f"a-{key}", key, subject)
    _append(any_ledger, f"b-{key}", key, subject)
    with any_ledger.read() as session:
        found = session.find_event("syncline.order.accepted.v1", subject)
        assert found is not None and found.event_id == f"a-{key}"  # the earliest
        assert session.find_event("syncline.order.rejected.v1", subject) is None
        assert set(session.events_by_id([f"a-{key}", f"b-{key}", "nope"])) == {f"a-{key}", f"b-{key}"}
        assert [e.event_id for e in session.events_by_correlation(f"corr-{key}")] == [f"a-{key}", f"b-{key}"]
        assert session.events_by_correlation("nobody") == []
    (tx,) = tx_ids(1)
    with any_ledger.transaction() as session:
        session.start_transactions([TransactionStart(tx, "q2c", 1)])
        session.record_steps([line(tx, n) for n in (1, 2, 3)])
    with any_ledger.transaction() as session:
        assert session.reset_steps(tx, 2) == 2
    assert [x.step_no for x in any_ledger.steps_of(tx)] == [1]


def test_claim_heads_and_complete_leases_match_the_plain_operations(any_ledger: SqlLedger) -> None:
    key = f"k-{uuid.uuid4().hex}"
    for n in range(3):
        _append(any_ledger, f"{n}-{key}", key)
    other = f"o-{uuid.uuid4().hex}"
    _append(any_ledger, f"0-{other}", other)
    with any_ledger.transaction() as session:
        claimed = [
            c for c in session.claim_heads("flow", "w1", 100, 30) if c.delivery.ordering_key in (key, other)
        ]
    assert sorted(c.event.event_id for c in claimed) == sorted([f"0-{key}", f"0-{other}"])  # heads only
    head = next(c for c in claimed if c.delivery.ordering_key == key)
    assert (
        head.event.payload == {"n": 1}
        and head.lease.attempt == 1
        and head.delivery.status is DeliveryStatus.IN_FLIGHT
    )
    # The claim's own row decoding (driver-level on PostgreSQL) gives what the ledger's reads give.
    (listed,) = [d for d in any_ledger.list_deliveries() if d.id == head.delivery.id]
    (stored,) = [e for e in any_ledger.events_after(head.event.position - 1, 1)]
    assert head.delivery == listed and head.event == replace(stored, tx_id=None)  # only the relay reads tx_id
    stamps = [head.delivery.next_attempt_at, head.delivery.lease_expires_at, head.event.recorded_at]
    assert all(stamp is not None and stamp.tzinfo is UTC for stamp in stamps)
    stale = Lease(head.delivery.id, "someone-else", head.lease.attempt)
    with any_ledger.transaction() as session:
        assert session.complete_leases([stale]) == []
        assert session.complete_leases([c.lease for c in claimed]) == sorted(c.delivery.id for c in claimed)
    assert any_ledger.is_processed("flow", f"0-{key}")
    with any_ledger.transaction() as session:
        (nxt,) = [c for c in session.claim_heads("flow", "w1", 100, 30) if c.delivery.ordering_key == key]
    assert nxt.event.event_id == f"1-{key}"


def test_key_sequences_of_a_mixed_batch_continue_per_key_across_batches(any_ledger: SqlLedger) -> None:
    run = uuid.uuid4().hex
    keys = [f"b{run}", f"a{run}", f"b{run}", f"c{run}", f"a{run}"]

    def batch(tag: str) -> list[NewEvent]:
        return [
            NewEvent(
                f"{tag}{n}-{run}", "syncline.order.accepted.v1", "urn:syncline:netsuite:default", "s", key, {}
            )
            for n, key in enumerate(keys)
        ]

    first = any_ledger.append_events(batch("x"), [])
    second = any_ledger.append_events(batch("y"), [])
    sequences = [item.key_seq for item in first.appended + second.appended]
    assert sequences == [1, 1, 2, 1, 2, 3, 3, 4, 2, 4]


AWKWARD = 'quote " backslash \\ newline \n tab \t unicode ÄÖü 日本 emoji 🚀 percent %s %(x)s'


def test_awkward_text_and_microsecond_timestamps_survive_the_bulk_statements(any_ledger: SqlLedger) -> None:
    """PostgreSQL writes batches as one JSON parameter: escaping and timestamp precision must hold."""
    (tx,) = tx_ids(1)
    when = datetime(2026, 5, 4, 23, 59, 59, 999999, tzinfo=UTC)
    with any_ledger.transaction() as session:
        session.start_transactions([TransactionStart(tx, "q2c", 1, AWKWARD[:100])])
        session.record_steps(
            [
                StepRecord(
                    transaction_id=tx,
                    step_no=1,
                    name="create_sales_order",
                    target_system="netsuite",
                    outcome=StepOutcome.SUCCEEDED,
                    idempotency_key=f"key-{tx}",
                    external_id="SO-ü-🚀-1",
                    error_message=AWKWARD,
                    started_at=when,
                    finished_at=when,
                )
            ]
        )
    [line_back] = any_ledger.steps_of(tx)
    assert line_back.error_message == AWKWARD
    assert line_back.external_id == "SO-ü-🚀-1"
    assert line_back.started_at == when
    record = any_ledger.get_transaction(tx)
    assert record is not None and record.correlation_id == AWKWARD[:100]
    assert [found.id for found in any_ledger.search_transactions("SO-ü-🚀-1")] == [tx]


def test_wake_waiting_makes_only_pending_items_waiting_for_that_key_due_now(any_ledger: SqlLedger) -> None:
    events = [
        NewEvent(
            event_id=f"ev-{uuid.uuid4().hex}",
            type="t",
            source="urn:test",
            subject=f"k{n}",
            ordering_key=f"k{n}",
            payload={"n": n},
        )
        for n in range(3)
    ]
    flow = f"flow-{uuid.uuid4().hex}"  # the PostgreSQL database is shared by the session's tests
    any_ledger.append_events(events, [flow])
    start = datetime.now(UTC)
    claimed = any_ledger.claim_next_per_key(flow, "w1", 10, 60, start)
    later = start + timedelta(hours=1)
    with any_ledger.transaction() as session:
        for item, key in zip(claimed, ["approval a", "approval a", "approval b"], strict=True):
            assert session.defer(item.lease, later, start, waiting_for=key)
    assert sorted(d.waiting_for or "" for d in any_ledger.list_deliveries() if d.consumer == flow) == [
        "approval a",
        "approval a",
        "approval b",
    ]
    now = start + timedelta(seconds=3)
    woken = any_ledger.wake_waiting(["approval a", "nobody waits for this"], now)
    assert sorted(woken) == sorted(item.delivery.id for item in claimed[:2])
    by_id = {d.id: d for d in any_ledger.list_deliveries() if d.consumer == flow}
    assert [by_id[i].next_attempt_at for i in sorted(woken)] == [now, now]
    assert by_id[claimed[2].delivery.id].next_attempt_at == later  # another key: still waiting
    assert by_id[claimed[2].delivery.id].waiting_for == "approval b"
    assert any_ledger.wake_waiting(["approval a"], now) == []  # woken once; nothing waits any more
    assert any_ledger.wake_waiting([], now) == []


def test_a_claimed_event_keeps_its_payload_exactly_even_integers_wider_than_64_bits(
    any_ledger: SqlLedger,
) -> None:
    key = f"big-{uuid.uuid4().hex}"
    payload = {"amount": "1234.50", "huge": 2**70, "ratio": 0.125, "note": "Zoë"}
    any_ledger.append_events(
        [NewEvent(f"e-{key}", "t.v1", "urn:test", "s", key, payload, correlation_id=key)], ["flow"]
    )
    with any_ledger.transaction() as session:
        [claimed] = [c for c in session.claim_heads("flow", "w1", 100, 30) if c.delivery.ordering_key == key]

    assert claimed.event.payload == payload and isinstance(claimed.event.payload["huge"], int)
