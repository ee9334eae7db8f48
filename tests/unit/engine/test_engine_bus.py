"""In-process bus: subject filtering by type prefix and de-duplication by event id."""

from __future__ import annotations

import pytest

from syncline.engine.bus import BusMessage, InProcessBus, subject_for
from syncline.errors import ConfigurationError


async def test_in_process_bus_delivers_by_type_prefix_and_drops_duplicates() -> None:
    bus = InProcessBus()
    got: list[str] = []

    async def on_order(message: BusMessage) -> None:
        got.append(message.event_id)

    bus.subscribe("order.", on_order)
    first = await bus.publish(BusMessage("e1", "order.booked", b"{}"))
    again = await bus.publish(BusMessage("e1", "order.booked", b"{}"))
    other = await bus.publish(BusMessage("e2", "customer.created", b"{}"))
    assert got == ["e1"]
    assert not first.duplicate and again.duplicate and not other.duplicate


async def test_duplicate_window_is_bounded() -> None:
    bus = InProcessBus(duplicate_window=2)
    for event_id in ("a", "b", "c"):
        await bus.publish(BusMessage(event_id, "t", b""))
    assert (await bus.publish(BusMessage("c", "t", b""))).duplicate
    assert not (await bus.publish(BusMessage("a", "t", b""))).duplicate


def test_subjects_are_one_per_event_type_and_validated() -> None:
    assert subject_for("syncline", "order.booked") == "syncline.order.booked"
    with pytest.raises(ConfigurationError, match="subject"):
        subject_for("syncline", "order booked")
