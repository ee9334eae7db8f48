"""Contract: appending events, de-duplication by the unique index, deliveries, inbox, checkpoints."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from syncline.ledger import DeliveryStatus, NewEvent, SqlLedger

from .conftest import at, event


def test_append_reports_new_and_duplicate_events(ledger: SqlLedger) -> None:
    first = ledger.append_events([event("e1", "acct-1"), event("e2", "acct-2")], ["booking"])
    again = ledger.append_events([event("e2", "acct-2"), event("e3", "acct-1")], ["booking"])

    assert first.appended_ids == ("e1", "e2")
    assert first.duplicates == ()
    assert again.appended_ids == ("e3",)
    assert again.duplicates == ("e2",)
    assert ledger.count_events() == 3
    assert len(ledger.list_deliveries()) == 3


def test_a_redelivered_event_changes_nothing(ledger: SqlLedger) -> None:
    ledger.append_events([event("e1", "acct-1", name="first")], ["booking"])
    redelivery = ledger.append_events([event("e1", "acct-1", name="changed")], ["booking"])

    assert redelivery.appended == ()
    stored = ledger.get_event("e1")
    assert stored is not None and stored.payload == {"name": "first"}
    assert len(ledger.list_deliveries(event_id="e1")) == 1


def test_a_repeat_inside_one_batch_is_a_duplicate(ledger: SqlLedger) -> None:
    result = ledger.append_events([event("e1", "k"), event("e1", "k")], ["booking"])

    assert result.appended_ids == ("e1",)
    assert result.duplicates == ("e1",)


def test_duplicates_are_refused_by_the_schema_itself(ledger: SqlLedger) -> None:
    ledger.append_events([event("e1", "k")], ["booking"])
    row = (
        "INSERT INTO events (event_id, type, source, subject, ordering_key, key_seq, payload, priority,"
        " attributes, recorded_at) VALUES ('e1', 't', 's', 'k', 'k', 99, '{}', 0, '{}', '2026-01-01')"
    )
    with pytest.raises(IntegrityError), ledger.transaction() as session:
        session.conn.execute(text(row))


def test_key_sequence_follows_append_order_per_key(ledger: SqlLedger) -> None:
    ledger.append_events([event("a1", "A"), event("b1", "B"), event("a2", "A")], ["booking"])
    ledger.append_events([event("a3", "A")], ["booking"])

    seqs = {e: ledger.get_event(e).key_seq for e in ("a1", "a2", "a3", "b1")}  # type: ignore[union-attr]
    assert seqs["a1"] < seqs["a2"] < seqs["a3"]
    assert seqs["b1"] == 1


def test_each_consumer_gets_its_own_delivery(ledger: SqlLedger) -> None:
    ledger.append_events([event("e1", "k")], ["booking", "relay"])

    consumers = sorted(d.consumer for d in ledger.list_deliveries(event_id="e1"))
    assert consumers == ["booking", "relay"]
    assert all(d.status is DeliveryStatus.PENDING for d in ledger.list_deliveries())


def test_consumers_can_be_routed_per_event(ledger: SqlLedger) -> None:
    def route(new: NewEvent) -> list[str]:
        return ["payments"] if new.payload.get("kind") == "payment" else ["catalog"]

    ledger.append_events([event("p1", "k1", kind="payment"), event("c1", "k2", kind="product")], route)

    assert [d.consumer for d in ledger.list_deliveries(event_id="p1")] == ["payments"]
    assert [d.consumer for d in ledger.list_deliveries(event_id="c1")] == ["catalog"]


def test_stored_event_keeps_every_envelope_field(ledger: SqlLedger) -> None:
    new = NewEvent(
        event_id="e1",
        type="syncline.order.booked.v1",
        source="urn:syncline:salesforce:prod",
        subject="ord-1",
        ordering_key="acct-9",
        payload={"amount": "12.50", "currency": "EUR", "lines": [{"sku": "X"}]},
        correlation_id="cid-1",
        causation_id="e0",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        occurred_at=at(-60),
        priority=5,
        attributes={"dataschema": "urn:schema:order.booked:1"},
    )
    ledger.append_events([new], ["booking"])

    stored = ledger.get_event("e1")
    assert stored is not None
    assert stored.payload == new.payload
    assert (stored.correlation_id, stored.causation_id, stored.traceparent) == (
        "cid-1",
        "e0",
        new.traceparent,
    )
    assert stored.occurred_at == at(-60)
    assert stored.priority == 5 and stored.attributes == {"dataschema": "urn:schema:order.booked:1"}
    assert stored.recorded_at.tzinfo is not None


def test_invalid_events_are_refused_with_the_field_named(ledger: SqlLedger) -> None:
    keyless = NewEvent("e1", "t", "s", "subject", "", {})
    with pytest.raises(ValueError, match="ordering_key must not be empty"):
        ledger.append_events([keyless], ["booking"])
    naive = NewEvent("e2", "t", "s", "k", "k", {}, occurred_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="occurred_at must be timezone-aware"):
        ledger.append_events([naive], ["booking"])
    money = NewEvent("e3", "t", "s", "k", "k", {"amount": Decimal("10.00")})
    with pytest.raises(ValueError, match=r"'e3': payload must be plain JSON .*Decimal"):
        ledger.append_events([money], ["booking"])
    assert ledger.count_events() == 0


def test_events_after_reads_in_position_order(ledger: SqlLedger) -> None:
    ledger.append_events([event(f"e{i}", f"k{i % 3}") for i in range(5)], [])

    first = ledger.events_after(0, limit=2)
    rest = ledger.events_after(first[-1].position)
    assert [e.event_id for e in first + rest] == ["e0", "e1", "e2", "e3", "e4"]


def test_inbox_marks_each_event_once_per_consumer(ledger: SqlLedger) -> None:
    assert ledger.mark_processed("relay", ["e1", "e2"]) == ("e1", "e2")
    assert ledger.mark_processed("relay", ["e2", "e3"]) == ("e3",)
    assert ledger.mark_processed("audit-sink", ["e1"]) == ("e1",)
    assert ledger.is_processed("relay", "e3")
    assert not ledger.is_processed("audit-sink", "e3")


def test_checkpoint_moves_in_the_same_transaction_as_events(ledger: SqlLedger) -> None:
    with ledger.transaction() as session:
        session.append_events([event("e1", "k")], ["booking"])
        session.set_checkpoint("salesforce-cdc", "replay-100")

    assert ledger.get_checkpoint("salesforce-cdc") == "replay-100"
    assert ledger.count_events() == 1


def test_a_failed_transaction_leaves_neither_events_nor_checkpoint(ledger: SqlLedger) -> None:
    ledger.set_checkpoint("salesforce-cdc", "replay-100")

    with pytest.raises(RuntimeError, match="crash"), ledger.transaction() as session:
        session.append_events([event("e1", "k")], ["booking"])
        session.set_checkpoint("salesforce-cdc", "replay-200")
        raise RuntimeError("crash before commit")

    assert ledger.get_checkpoint("salesforce-cdc") == "replay-100"
    assert ledger.count_events() == 0
    assert ledger.list_deliveries() == []
