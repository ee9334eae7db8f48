"""PinnedWriter: the group commit's kept connection, on a real PostgreSQL (and SQLite for parity).

What matters to a user: commits reuse one connection (no pre-ping round trip each), a broken
connection fails exactly one transaction as TransientError with nothing half-written, and the
next transaction works again on a fresh connection.
"""

from __future__ import annotations

import uuid

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


@pytest.mark.postgres
def test_commits_reuse_one_connection(batch_pg_url: str) -> None:
    ledger = open_ledger(batch_pg_url, create_if_empty=True)
    writer = PinnedWriter(ledger)
    try:
        first = _backend_pid(writer)
        _start_with_line(writer, f"tx-{uuid.uuid4().hex}")
        assert _backend_pid(writer) == first
    finally:
        writer.close()
        ledger.close()


@pytest.mark.postgres
def test_a_killed_connection_fails_one_transaction_whole_and_the_next_reconnects(batch_pg_url: str) -> None:
    ledger = open_ledger(batch_pg_url, create_if_empty=True)
    writer = PinnedWriter(ledger)
    lost, kept = f"tx-{uuid.uuid4().hex}", f"tx-{uuid.uuid4().hex}"
    try:
        victim = _backend_pid(writer)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (victim,))
        with pytest.raises(TransientError, match="ledger"):
            _start_with_line(writer, lost)
        _start_with_line(writer, kept)
        assert _backend_pid(writer) != victim
        assert ledger.get_transaction(lost) is None and ledger.steps_of(lost) == []
        assert ledger.get_transaction(kept) is not None and len(ledger.steps_of(kept)) == 1
    finally:
        writer.close()
        ledger.close()


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
