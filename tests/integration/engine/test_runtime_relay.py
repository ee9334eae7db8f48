"""The runtime's own outbox relay: in-process bus (SQLite), one elected relay (PostgreSQL), NATS.

Real ledgers, the machine's PostgreSQL and NATS; events enter through `Intake` as in production.
"""

from __future__ import annotations

import asyncio
import re
import secrets

import nats
import pytest
from engine_helpers import order_event

from syncline.engine.bus import BusMessage
from syncline.engine.intake import Intake
from syncline.engine.registry import FlowRegistry
from syncline.errors import TransientError
from syncline.ledger import SqlLedger, open_ledger
from syncline.runtime.relaying import BusConfig, RuntimeRelay
from syncline.runtime.runtime import libpq_conninfo

NATS_URL = "nats://127.0.0.1:4222"


class Received:
    def __init__(self) -> None:
        self.ids: list[str] = []

    async def __call__(self, message: BusMessage) -> None:
        self.ids.append(message.event_id)


async def _until(condition: object, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_in_process_subscribers_get_each_event_once_in_order_and_a_restart_resumes(
    sqlite_ledger: SqlLedger,
) -> None:
    intake = Intake(sqlite_ledger, FlowRegistry())
    first = [order_event(f"ord-{n}", 1) for n in range(4)]
    intake.accept(first)
    relay = RuntimeRelay(sqlite_ledger, BusConfig(idle_s=0.02), conninfo=None)
    received = Received()
    relay.bus.subscribe("syncline.order.", received)  # type: ignore[union-attr]
    await relay.start()
    await _until(lambda: len(received.ids) == 4)
    late = order_event("ord-late", 1)
    intake.accept([late])
    await relay.close()  # the final pass publishes what committed after the last idle look
    assert received.ids == [e.id for e in first] + [late.id]
    assert relay.status() == {"kind": "inprocess", "leading": True, "published": 5, "duplicates": 0}

    again = RuntimeRelay(sqlite_ledger, BusConfig(idle_s=0.02), conninfo=None)
    resumed = Received()
    again.bus.subscribe("", resumed)  # type: ignore[union-attr]
    await again.start()
    newest = order_event("ord-new", 1)
    intake.accept([newest])
    assert await again.caught_up(timeout_s=10)
    await again.close()
    assert resumed.ids == [newest.id]  # from the stored position: nothing re-published


@pytest.mark.postgres
async def test_processes_sharing_a_postgres_ledger_elect_one_relay_and_the_standby_takes_over(
    postgres_url: str,
) -> None:
    ledgers = [open_ledger(postgres_url, create_if_empty=True) for _ in range(2)]
    conninfo = libpq_conninfo(postgres_url)
    name = f"election{secrets.token_hex(3)}"
    relays = [RuntimeRelay(ledger, BusConfig(idle_s=0.02, name=name), conninfo) for ledger in ledgers]
    seen = [Received(), Received()]
    for relay, received in zip(relays, seen, strict=True):
        relay.bus.subscribe("", received)  # type: ignore[union-attr]
    try:
        await relays[0].start()
        await _until(lambda: relays[0].status()["leading"])
        await relays[1].start()
        intake = Intake(ledgers[0], FlowRegistry())
        batch = [order_event(f"pg-{secrets.token_hex(3)}", 1) for _ in range(3)]
        intake.accept(batch)
        await _until(lambda: set(e.id for e in batch) <= set(seen[0].ids))
        assert relays[1].status()["leading"] is False and seen[1].ids == []
        await relays[0].close()  # the leader stops; the standby acquires the lock and continues
        later = order_event(f"pg-{secrets.token_hex(3)}", 1)
        intake.accept([later])
        await _until(lambda: later.id in seen[1].ids)
        assert relays[1].status()["leading"] is True
        assert not set(e.id for e in batch) & set(seen[1].ids)  # nothing published twice
    finally:
        await relays[1].close()
        for ledger in ledgers:
            ledger.close()


@pytest.mark.nats
async def test_the_nats_kind_publishes_to_jetstream(sqlite_ledger: SqlLedger) -> None:
    suffix = secrets.token_hex(4)
    config = BusConfig(kind="nats", nats_url=NATS_URL, stream=f"RT_{suffix}", subject_prefix=f"rt{suffix}")
    events = [order_event(f"ord-{n}", 1) for n in range(3)]
    Intake(sqlite_ledger, FlowRegistry()).accept(events)
    relay = RuntimeRelay(sqlite_ledger, config, conninfo=None)
    await relay.start()
    assert await relay.caught_up(timeout_s=10)
    await relay.close()
    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        assert (await js.stream_info(config.stream)).state.messages == 3
        await js.delete_stream(config.stream)
    finally:
        await nc.close()
    assert relay.status()["published"] == 3


async def test_an_unreachable_nats_is_a_clear_error_naming_the_setting(sqlite_ledger: SqlLedger) -> None:
    relay = RuntimeRelay(sqlite_ledger, BusConfig(kind="nats", nats_url="nats://127.0.0.1:1"), None)
    with pytest.raises(TransientError, match=re.escape("bus.kind is nats but NATS at nats://127.0.0.1:1")):
        await relay.start()


@pytest.mark.postgres
async def test_an_election_that_cannot_reach_the_database_is_logged_and_retried(
    sqlite_ledger: SqlLedger,
) -> None:
    """The lock's database is gone: the relay says so, keeps trying, and still closes promptly."""
    import structlog.testing

    unreachable = "postgresql://postgres@127.0.0.1:5432/syncline_no_such_database"
    relay = RuntimeRelay(sqlite_ledger, BusConfig(idle_s=0.02, name="gone"), unreachable)
    with structlog.testing.capture_logs() as logs:
        await relay.start()
        await _until(lambda: sum(e["event"] == "relay.election_failed" for e in logs) >= 2, timeout_s=15)
        assert relay.status()["leading"] is False
        await asyncio.wait_for(relay.close(), timeout=5)
    failure = next(e for e in logs if e["event"] == "relay.election_failed")
    assert failure["relay"] == "gone" and "syncline_no_such_database" in failure["error"]
