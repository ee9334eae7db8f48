"""`write_journal`: a group commit's writes in one call (ONE statement on PostgreSQL).

What matters to a user: whatever a batch holds — a saga's first line with its new transaction
row, a saga finishing in the same commit it started in, another saga's completion and inbox row —
lands exactly as the separate operations would write it, or not at all.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import IntegrityError

from syncline.ledger import ExternalKey, Lease, NewEvent, PinnedWriter, SqlLedger, StepOutcome, StepRecord
from syncline.ledger.batch import StateChange, TransactionStart


def _line(tx: str, step_no: int, external_id: str | None = None) -> StepRecord:
    return StepRecord(
        tx,
        step_no,
        f"s{step_no}",
        outcome=StepOutcome.SUCCEEDED,
        idempotency_key=f"k-{tx}-{step_no}",
        external_id=external_id,
    )


def _claimed_lease(ledger: SqlLedger, key: str) -> Lease:
    event = NewEvent(
        event_id=f"e-{key}",
        type="syncline.order.accepted.v1",
        source="urn:syncline:netsuite:default",
        subject=key,
        ordering_key=key,
        payload={"n": 1},
    )
    ledger.append_events([event], [f"flow-{key}"])
    (claimed,) = ledger.claim_next_per_key(f"flow-{key}", "w1", 1, 30)
    return claimed.lease


def test_a_new_transaction_finishing_in_its_first_commit_keeps_its_final_state(any_ledger: SqlLedger) -> None:
    """The new row and its terminal state travel together: the state must not be lost to the
    insert (on PostgreSQL an UPDATE beside the INSERT in one statement would not see the row)."""
    fresh, existing = (f"tx-{uuid.uuid4().hex}" for _ in range(2))
    key = uuid.uuid4().hex
    lease = _claimed_lease(any_ledger, key)
    with any_ledger.transaction() as session:
        session.write_journal(starts=[TransactionStart(existing, "q2c", 1)], records=[_line(existing, 1)])
    with any_ledger.transaction() as session:
        done = session.write_journal(
            starts=[
                TransactionStart(
                    fresh, "q2c", 1, "corr-9", external=(ExternalKey("netsuite", "so", "SO-9"),)
                ),
                TransactionStart(existing, "other", 7),  # already there: left as it is
            ],
            records=[_line(fresh, 1, "SO-9"), _line(existing, 2)],
            changes=[
                StateChange(fresh, "completed", 1, completed=True),
                StateChange(existing, "waiting", 2),
            ],
            leases=[lease, Lease(lease.delivery_id, "a-stale-worker", lease.attempt)],
        )
    assert done == [lease.delivery_id]  # the stale lease completed nothing
    new = any_ledger.get_transaction(fresh)
    assert new is not None and (new.state, new.current_step, new.correlation_id) == ("completed", 1, "corr-9")
    assert new.completed_at is not None
    old = any_ledger.get_transaction(existing)
    assert old is not None and (old.flow, old.state, old.current_step, old.completed_at) == (
        "q2c",
        "waiting",
        2,
        None,
    )
    assert [(x.step_no, x.external_id) for x in any_ledger.steps_of(fresh)] == [(1, "SO-9")]
    assert [x.step_no for x in any_ledger.steps_of(existing)] == [1, 2]
    assert any_ledger.is_processed(f"flow-{key}", f"e-{key}")
    assert [t.id for t in any_ledger.search_transactions("SO-9")] == [fresh]


def test_a_batch_with_one_bad_row_writes_nothing(any_ledger: SqlLedger) -> None:
    """A journal line for a transaction that does not exist breaks the foreign key: the whole
    write fails, and the new transaction and the completion beside it are not written either."""
    fresh, unknown = (f"tx-{uuid.uuid4().hex}" for _ in range(2))
    key = uuid.uuid4().hex
    lease = _claimed_lease(any_ledger, key)
    writer = PinnedWriter(any_ledger)
    try:
        with pytest.raises(IntegrityError), writer.transaction() as session:
            session.write_journal(
                starts=[TransactionStart(fresh, "q2c", 1)],
                records=[_line(fresh, 1), _line(unknown, 1)],
                leases=[lease],
            )
        assert any_ledger.get_transaction(fresh) is None and any_ledger.steps_of(fresh) == []
        assert not any_ledger.is_processed(f"flow-{key}", f"e-{key}")
        # The writer works again after the failure.
        with writer.transaction() as session:
            assert session.write_journal(starts=[TransactionStart(fresh, "q2c", 1)], leases=[lease]) == [
                lease.delivery_id
            ]
        with pytest.raises(ValueError, match="step numbers"), writer.transaction() as session:
            session.write_journal(records=[_line(fresh, 1)])
            session.write_journal(records=[_line(fresh, 0)])
        assert any_ledger.steps_of(fresh) == []  # the transaction rolled back its first line too
    finally:
        writer.close()
