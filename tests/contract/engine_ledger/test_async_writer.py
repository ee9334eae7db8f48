"""AsyncWriter: the group commit's journal statement and the claim, sent from the event loop, on a
real PostgreSQL.

What matters to a user: what the loop writes is exactly what a session writes (the same
statement), all of it or nothing; a broken connection fails one write as TransientError and
the next one works on a fresh connection; a claim hands out each head once, with its event.
"""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest

from syncline.errors import TransientError
from syncline.ledger import NewEvent, SqlLedger, StepOutcome, StepRecord, open_ledger
from syncline.ledger.async_writer import AsyncWriter
from syncline.ledger.batch import StateChange, TransactionStart

pytestmark = pytest.mark.postgres

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def _line(tx: str, step_no: int) -> StepRecord:
    return StepRecord(
        tx, step_no, f"s{step_no}", outcome=StepOutcome.SUCCEEDED, external_id=f"X-{tx}-{step_no}"
    )


def _append(ledger: SqlLedger, consumer: str, keys: list[str]) -> None:
    events = [
        NewEvent(
            event_id=f"e-{key}",
            type="syncline.order.accepted.v1",
            source="urn:syncline:netsuite:default",
            subject=key,
            ordering_key=key,
            payload={"order": key, "amount": 12345678901234567890},
        )
        for key in keys
    ]
    ledger.append_events(events, [consumer])


@pytest.fixture
def ledger(batch_pg_url: str):  # type: ignore[no-untyped-def]
    opened = open_ledger(batch_pg_url, create_if_empty=True)
    yield opened
    opened.close()


def test_a_journal_batch_lands_whole_with_the_completion_and_its_inbox_row(ledger: SqlLedger) -> None:
    consumer, key, tx = f"flow-{uuid.uuid4().hex}", uuid.uuid4().hex, f"tx-{uuid.uuid4().hex}"
    _append(ledger, consumer, [key])

    async def run() -> list[int]:
        writer = AsyncWriter(ledger)
        try:
            (claimed,) = await writer.claim(consumer, "w1", 5, 30)
            return await writer.write_journal(
                starts=[TransactionStart(tx, "q2c", 1)],
                records=[_line(tx, 1), _line(tx, 2)],
                changes=[StateChange(tx, "completed", 2, completed=True)],
                leases=[claimed.lease],
            )
        finally:
            await writer.close()

    done = asyncio.run(run())

    assert len(done) == 1
    record = ledger.get_transaction(tx)
    assert record is not None and (record.state, record.current_step) == ("completed", 2)
    assert record.completed_at is not None
    assert [line.step_no for line in ledger.steps_of(tx)] == [1, 2]
    assert ledger.is_processed(consumer, f"e-{key}")


def test_a_bad_line_fails_the_whole_batch_and_the_writer_goes_on(ledger: SqlLedger) -> None:
    consumer, key = f"flow-{uuid.uuid4().hex}", uuid.uuid4().hex
    fresh, unknown = f"tx-{uuid.uuid4().hex}", f"tx-{uuid.uuid4().hex}"
    _append(ledger, consumer, [key])

    async def run() -> list[int]:
        writer = AsyncWriter(ledger)
        try:
            (claimed,) = await writer.claim(consumer, "w1", 5, 30)
            with pytest.raises(psycopg.IntegrityError):
                await writer.write_journal(
                    starts=[TransactionStart(fresh, "q2c", 1)],
                    records=[_line(fresh, 1), _line(unknown, 1)],
                    leases=[claimed.lease],
                )
            assert ledger.get_transaction(fresh) is None and not ledger.is_processed(consumer, f"e-{key}")
            return await writer.write_journal(
                starts=[TransactionStart(fresh, "q2c", 1)], leases=[claimed.lease]
            )
        finally:
            await writer.close()

    assert len(asyncio.run(run())) == 1
    assert ledger.get_transaction(fresh) is not None and ledger.is_processed(consumer, f"e-{key}")


def test_a_killed_connection_fails_one_write_as_transient_and_the_next_reconnects(ledger: SqlLedger) -> None:
    lost, kept = f"tx-{uuid.uuid4().hex}", f"tx-{uuid.uuid4().hex}"

    async def backend_of(writer: AsyncWriter) -> int:
        async with writer._connection() as conn:  # the connection the next write will use
            row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
            assert row is not None
            return int(row[0])

    async def run() -> tuple[int, int]:
        writer = AsyncWriter(ledger)
        try:
            victim = await backend_of(writer)
            with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (victim,))
            with pytest.raises(TransientError, match="ledger"):
                await writer.write_journal(
                    starts=[TransactionStart(lost, "q2c", 1)], records=[_line(lost, 1)]
                )
            await writer.write_journal(starts=[TransactionStart(kept, "q2c", 1)], records=[_line(kept, 1)])
            return victim, await backend_of(writer)
        finally:
            await writer.close()

    victim, after = asyncio.run(run())

    assert after != victim
    assert ledger.get_transaction(lost) is None and ledger.steps_of(lost) == []
    assert [line.step_no for line in ledger.steps_of(kept)] == [1]


def test_concurrent_claims_hand_out_every_head_once_with_its_event(ledger: SqlLedger) -> None:
    consumer = f"flow-{uuid.uuid4().hex}"
    keys = [uuid.uuid4().hex for _ in range(40)]
    _append(ledger, consumer, keys)

    async def run() -> list[str]:
        writers = [AsyncWriter(ledger) for _ in range(4)]
        try:
            batches = await asyncio.gather(
                *(w.claim(consumer, f"w{n}", 15, 30) for n, w in enumerate(writers))
            )
            journals = await writers[0].journals(["tx-none", "tx-none"])
            assert journals == {"tx-none": {}}
            return [item.event.subject for batch in batches for item in batch]
        finally:
            for writer in writers:
                await writer.close()

    subjects = asyncio.run(run())

    assert sorted(subjects) == sorted(keys)


def test_claimed_events_keep_integers_wider_than_64_bits(ledger: SqlLedger) -> None:
    consumer, key = f"flow-{uuid.uuid4().hex}", uuid.uuid4().hex
    _append(ledger, consumer, [key])

    async def run() -> object:
        writer = AsyncWriter(ledger)
        try:
            (claimed,) = await writer.claim(consumer, "w1", 1, 30)
            return claimed.event.payload["amount"]
        finally:
            await writer.close()

    assert asyncio.run(run()) == 12345678901234567890


def test_the_writer_needs_postgresql(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sqlite = open_ledger(f"sqlite:///{tmp_path}/l.db", create_if_empty=True)
    try:
        with pytest.raises(ValueError, match="PostgreSQL"):
            AsyncWriter(sqlite)
    finally:
        sqlite.close()
