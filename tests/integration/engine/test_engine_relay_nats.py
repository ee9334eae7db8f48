"""Outbox relay from a real SQLite ledger to the machine's NATS JetStream: at-least-once, deduped."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator

import nats
import pytest
from engine_helpers import order_event
from typer.testing import CliRunner

from syncline.cli import app
from syncline.engine.bus import InProcessBus, NatsJetStreamBus
from syncline.engine.intake import Intake
from syncline.engine.outbox import LedgerOutbox
from syncline.engine.registry import FlowRegistry
from syncline.engine.relay import OutboxRelay
from syncline.ledger import OutboxCursor, SqlLedger
from syncline.logs import configure_logging

NATS_URL = "nats://127.0.0.1:4222"
runner = CliRunner()


@pytest.fixture
async def jetstream() -> AsyncIterator[NatsJetStreamBus]:
    suffix = secrets.token_hex(4)
    bus = NatsJetStreamBus(NATS_URL, f"SYNCLINE_RELAY_{suffix}", f"synclinerelay{suffix}")
    await bus.connect()
    try:
        yield bus
    finally:
        await bus.delete_stream()
        await bus.close()


@pytest.mark.nats
async def test_relay_publishes_each_event_once_even_when_it_republishes(
    sqlite_ledger: SqlLedger, jetstream: NatsJetStreamBus
) -> None:
    events = [order_event(f"ord-{n}", 1) for n in range(5)]
    Intake(sqlite_ledger, FlowRegistry()).accept(events)
    outbox = LedgerOutbox(sqlite_ledger)
    relay = OutboxRelay(outbox, jetstream, name="nats-test", batch_size=3)
    first = await relay.run_once()
    assert (first.published, first.duplicates, first.position) == (3, 0, 3)
    # Simulate a crash after publishing but before the checkpoint moved: go back to 0.
    outbox.save_position("nats-test", OutboxCursor())
    again = await relay.run_once()
    assert (again.published, again.duplicates) == (0, 3)
    rest = await relay.run_once()
    assert (rest.published, rest.position) == (2, 5)
    assert (await relay.run_once()).published == 0

    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        assert (await js.stream_info(jetstream.stream)).state.messages == 5
        sub = await js.pull_subscribe(f"{jetstream.subject_prefix}.syncline.order.accepted.v1", durable=None)
        messages = await sub.fetch(5, timeout=5)
    finally:
        await nc.close()
    received = [json.loads(m.data) for m in messages]
    assert [doc["id"] for doc in received] == [e.id for e in events]
    assert received[0]["partitionkey"] == "ord-0" and received[0]["data"]["order_id"] == "ord-0"
    assert messages[0].headers["Nats-Msg-Id"] == events[0].id
    assert messages[0].headers["traceparent"] == received[0]["traceparent"]


async def test_relay_on_sqlite_passes_a_gap_at_once(sqlite_ledger: SqlLedger) -> None:
    # SQLite serialises commits, so a gap in positions is always permanent (a rolled-back insert).
    Intake(sqlite_ledger, FlowRegistry()).accept([order_event("ord-1", 1)])
    Intake(sqlite_ledger, FlowRegistry()).accept([order_event("ord-1", 1)])  # duplicate: no new position
    Intake(sqlite_ledger, FlowRegistry()).accept([order_event("ord-2", 1)])
    with sqlite_ledger.transaction() as session:  # make a hole at position 2, as a rolled-back insert would
        session.conn.exec_driver_sql("UPDATE events SET position = 3 WHERE position = 2")
    relay = OutboxRelay(LedgerOutbox(sqlite_ledger), InProcessBus(), name="r")
    done = await relay.run_once()
    assert (done.published, done.cursor) == (2, OutboxCursor(0, 3))
    assert sqlite_ledger.get_checkpoint("relay:r") == "0:3"


async def test_a_checkpoint_in_the_old_bare_position_format_is_still_read(sqlite_ledger: SqlLedger) -> None:
    Intake(sqlite_ledger, FlowRegistry()).accept([order_event(f"ord-{n}", 1) for n in range(3)])
    sqlite_ledger.set_checkpoint("relay:r", "2")  # written by a relay before checkpoints were pairs
    done = await OutboxRelay(LedgerOutbox(sqlite_ledger), InProcessBus(), name="r").run_once()
    assert (done.published, done.position) == (1, 3)


@pytest.mark.nats
async def test_relay_command_publishes_pending_events_once(sqlite_ledger: SqlLedger) -> None:
    suffix = secrets.token_hex(4)
    stream, prefix = f"SYNCLINE_CLI_{suffix}", f"synclinecli{suffix}"
    Intake(sqlite_ledger, FlowRegistry()).accept([order_event(f"ord-{n}", 1) for n in range(3)])
    args = ["relay", "--once", "--nats-url", NATS_URL, "--stream", stream, "--subject-prefix", prefix]
    args += ["--database-url", f"sqlite:///{sqlite_ledger.where}"]
    try:
        first = await asyncio.to_thread(runner.invoke, app, args)
        assert first.exit_code == 0, first.output
        assert json.loads(first.output) == {"published": 3}
        again = await asyncio.to_thread(runner.invoke, app, args)
        assert json.loads(again.output) == {"published": 0}  # the checkpoint moved
        nc = await nats.connect(NATS_URL)
        try:
            assert (await nc.jetstream().stream_info(stream)).state.messages == 3
        finally:
            await nc.close()
    finally:
        configure_logging()  # the command bound logging to the runner's (now closed) stderr
        cleanup = NatsJetStreamBus(NATS_URL, stream, prefix)
        await cleanup.connect()
        await cleanup.delete_stream()
        await cleanup.close()
