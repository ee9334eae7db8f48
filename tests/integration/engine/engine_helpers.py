"""Helpers shared by the engine's integration tests (events, fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncline.contracts.envelope import EventEnvelope, new_event
from syncline.contracts.order import OrderAccepted


def order_event(
    order_id: str, marker: int | str, *, key: str | None = None, system: str = "netsuite"
) -> EventEnvelope:
    """A valid `order.accepted` event; `marker` makes a distinct change of the same order."""
    data = OrderAccepted(
        order_id=order_id,
        accepted_by_system=system,
        external_id=f"SO-{marker}",
        accepted_at=datetime.now(UTC),
    )
    return new_event(
        "syncline.order.accepted.v1",
        subject=order_id,
        data=data,
        source_system=system,
        record_id=order_id,
        change_marker=str(marker),
        partition_key=key or order_id,
    )
