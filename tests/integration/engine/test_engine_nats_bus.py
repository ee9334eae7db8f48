"""JetStream adapter against the machine's NATS: one subject per type, `Nats-Msg-Id` de-duplication."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import nats
import pytest

from syncline.engine.bus import BusMessage, NatsJetStreamBus

pytestmark = pytest.mark.nats
NATS_URL = "nats://127.0.0.1:4222"


@pytest.fixture
async def bus() -> AsyncIterator[NatsJetStreamBus]:
    suffix = secrets.token_hex(4)
    adapter = NatsJetStreamBus(NATS_URL, f"SYNCLINE_T_{suffix}", f"synclinet{suffix}")
    await adapter.connect()
    try:
        yield adapter
    finally:
        await adapter.delete_stream()
        await adapter.close()


async def test_same_event_id_is_stored_once_by_the_broker(bus: NatsJetStreamBus) -> None:
    message = BusMessage("evt-1", "order.booked", b'{"id": "evt-1"}')
    first = await bus.publish(message)
    second = await bus.publish(message)
    third = await bus.publish(BusMessage("evt-2", "customer.created", b"{}"))
    assert not first.duplicate and second.duplicate and not third.duplicate
    nc = await nats.connect(NATS_URL)
    try:
        info = await nc.jetstream().stream_info(bus.stream)
        assert info.state.messages == 2
        sub = await nc.jetstream().pull_subscribe(f"{bus.subject_prefix}.order.booked", durable=None)
        (msg,) = await sub.fetch(1, timeout=5)
        assert msg.headers["Nats-Msg-Id"] == "evt-1"
        assert msg.data == b'{"id": "evt-1"}'
    finally:
        await nc.close()
