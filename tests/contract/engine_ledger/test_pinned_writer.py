"""PinnedWriter: the group commit's kept connection, on a real PostgreSQL (and SQLite for parity).

What matters to a user: commits reuse one connection (no pre-ping round trip each), a broken
connection fails exactly one transaction as TransientError with nothing half-written, and the
next transaction works again on a fresh connection.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

from syncline.errors import TransientError
from syncline.ledger import PinnedWriter, SqlLedger, StepOutcome, StepRecord, open_ledger
from syncline.ledger.batch import TransactionStart

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def _backend_pid(writer: PinnedWriter) -> int:
    with writer.transaction() as session:
        return int(session.conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _start_with_line(writer: PinnedWriter, tx: str) -> None:
    with writer.transaction() as session:
        session.start_transactions([TransactionStart(tx, "q2c", 1)])
        session.record_steps(
            [StepRecord(tx, 1, "validate", outcome=StepOutcome.SUCCEEDED, idempotency_key=f"k-{tx}")]
        )


@pytest.fixture
def pg_writer(batch_pg_url: str) -> Iterator[tuple[SqlLedger, PinnedWriter]]:
    """A PostgreSQL ledger and a writer on it, both closed afterwards."""
    ledger = open_ledger(batch_pg_url, create_if_empty=True)
    writer = PinnedWriter(ledger)
    try:
        yield ledger, writer
    finally:
        writer.close()
        ledger.close()


@pytest.mark.postgres
def test_commits_reuse_one_connection(pg_writer: tuple[SqlLedger, PinnedWriter]) -> None:
    _, writer = pg_writer
    first = _backend_pid(writer)
    _start_with_line(writer, f"tx-{uuid.uuid4().hex}")
    assert _backend_pid(writer) == first


@pytest.mark.postgres
def test_a_killed_connection_fails_one_transaction_whole_and_the_next_reconnects(
    pg_writer: tuple[SqlLedger, PinnedWriter],
) -> None:
    ledger, writer = pg_writer
    lost, kept = f"tx-{uuid.uuid4().hex}", f"tx-{uuid.uuid4().hex}"
    victim = _backend_pid(writer)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (victim,))
    with pytest.raises(TransientError, match="ledger"):
        _start_with_line(writer, lost)
    _start_with_line(writer, kept)
    assert _backend_pid(writer) != victim
    assert ledger.get_transaction(lost) is None and ledger.steps_of(lost) == []
    assert ledger.get_transaction(kept) is not None and len(ledger.steps_of(kept)) == 1


def test_an_error_in_the_unit_of_work_rolls_back_and_keeps_the_writer_usable(any_ledger: SqlLedger) -> None:
    writer = PinnedWriter(any_ledger)
    tx = f"tx-{uuid.uuid4().hex}"
    try:
        with pytest.raises(ValueError, match="step numbers start at 1"), writer.transaction() as session:
            session.start_transactions([TransactionStart(tx, "q2c", 1)])
            session.record_steps([StepRecord(tx, 0, "bad", outcome=StepOutcome.SUCCEEDED)])
        assert any_ledger.get_transaction(tx) is None  # the transaction row was rolled back with it
        _start_with_line(writer, tx)
        assert any_ledger.get_transaction(tx) is not None
    finally:
        writer.close()


def _seq_scans_of_steps(writer: PinnedWriter, transaction: str) -> tuple[int, int]:
    """(journal lines found, sequential scans of `steps`) for one journal read.

    The backend's own counters (`pg_stat_xact_user_tables`, which may still hold counts of
    earlier transactions not yet reported), read just before and just after the read."""
    count = text("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'steps'")
    with writer.transaction() as session:
        before = int(session.conn.execute(count).scalar_one())
        lines = session.steps_of_many([transaction])[transaction]
        return len(lines), int(session.conn.execute(count).scalar_one()) - before


@pytest.mark.postgres
def test_a_plan_cached_while_the_journal_was_empty_does_not_scan_it_once_it_has_grown() -> None:
    """The claim reads journals by transaction id. psycopg prepares that statement after a few
    runs and PostgreSQL then keeps a generic plan, made here while `steps` is empty (where a
    sequential scan is cheapest); once thousands of lines are in, that plan would read them all
    on every claim. The writer's connection must still go through the index."""
    from syncline.ledger.scratch import scratch_postgres

    with scratch_postgres() as url:
        ledger = open_ledger(url, create_if_empty=True)
        writer, filler = PinnedWriter(ledger), PinnedWriter(ledger)
        try:
            for _ in range(12):  # prepared after 5 runs, generic plan after 5 more
                _seq_scans_of_steps(writer, "tx-none")
            tx_ids = [f"tx-{n}" for n in range(3000)]
            with filler.transaction() as session:
                session.start_transactions([TransactionStart(tx, "q2c", 1) for tx in tx_ids])
                session.record_steps(
                    [StepRecord(tx, 1, "validate", outcome=StepOutcome.SUCCEEDED) for tx in tx_ids]
                )
            assert _seq_scans_of_steps(writer, "tx-1234") == (1, 0)
        finally:
            writer.close()
            filler.close()
            ledger.close()


@pytest.mark.postgres
def test_the_writer_gives_its_connection_back_with_the_pools_planner_settings(
    pg_writer: tuple[SqlLedger, PinnedWriter],
) -> None:
    ledger, writer = pg_writer
    _start_with_line(writer, f"tx-{uuid.uuid4().hex}")
    writer.close()
    pooled = [ledger.engine.connect() for _ in range(ledger.engine.pool.checkedin())]  # type: ignore[attr-defined]
    try:
        assert pooled, "the writer's connection went back to the pool"
        assert {conn.exec_driver_sql("SHOW enable_seqscan").scalar_one() for conn in pooled} == {"on"}
    finally:
        for conn in pooled:
            conn.close()
