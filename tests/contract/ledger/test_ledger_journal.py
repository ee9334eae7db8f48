"""Contract: business transactions, search by business key, the step journal and its resume point."""

from __future__ import annotations

import pytest

from syncline.ledger import (
    BusinessKeys,
    ExternalKey,
    SqlLedger,
    StepOutcome,
    StepRecord,
    UnknownRecordError,
)

from .conftest import at


def step(no: int, outcome: StepOutcome, **extra: object) -> StepRecord:
    return StepRecord(
        transaction_id="tx-1",
        step_no=no,
        name=f"step-{no}",
        outcome=outcome,
        idempotency_key=f"tx-1:{no}",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def booking(ledger: SqlLedger) -> SqlLedger:
    ledger.start_transaction(
        "tx-1",
        "order_booking",
        2,
        correlation_id="cid-1",
        keys=BusinessKeys(sf_account_id="001A", sf_quote_id="0Q0B"),
        sla_deadline=at(3600),
        now=at(0),
    )
    return ledger


def test_starting_a_transaction_twice_returns_the_first(booking: SqlLedger) -> None:
    record, created = booking.start_transaction("tx-1", "order_booking", 3, correlation_id="other")

    assert not created
    assert (record.flow_version, record.correlation_id, record.state) == (2, "cid-1", "running")
    assert record.keys.sf_account_id == "001A"
    assert record.sla_deadline == at(3600)


def test_update_adds_keys_without_erasing_known_ones(booking: SqlLedger) -> None:
    record = booking.update_transaction(
        "tx-1",
        state="waiting",
        current_step=3,
        keys=BusinessKeys(order_number="SO-1001", subscription_id="sub_9"),
        now=at(10),
    )

    assert (record.state, record.current_step, record.updated_at) == ("waiting", 3, at(10))
    assert record.keys == BusinessKeys(
        sf_account_id="001A", sf_quote_id="0Q0B", order_number="SO-1001", subscription_id="sub_9"
    )
    done = booking.update_transaction("tx-1", state="completed", completed_at=at(20), now=at(20))
    assert done.completed_at == at(20)


def test_updating_an_unknown_transaction_says_so(ledger: SqlLedger) -> None:
    with pytest.raises(UnknownRecordError, match="no transaction 'nope'"):
        ledger.update_transaction("nope", state="completed")


@pytest.mark.parametrize(
    "value", ["tx-1", "cid-1", "001A", "0Q0B", "006OPP", "SO-1001", "sub_9", "in_77", "NS-CUST-5"]
)
def test_search_finds_a_transaction_by_any_business_key(booking: SqlLedger, value: str) -> None:
    booking.update_transaction(
        "tx-1",
        keys=BusinessKeys(
            sf_opportunity_id="006OPP", order_number="SO-1001", subscription_id="sub_9", invoice_id="in_77"
        ),
    )
    booking.add_external_keys("tx-1", [ExternalKey("netsuite", "customer", "NS-CUST-5")])
    booking.start_transaction("tx-2", "customer_sync", 1, keys=BusinessKeys(sf_account_id="001Z"))

    found = booking.search_transactions(value)

    assert [record.id for record in found] == ["tx-1"]


def test_external_keys_are_kept_per_system(booking: SqlLedger) -> None:
    booking.add_external_keys(
        "tx-1",
        [ExternalKey("stripe", "subscription", "sub_1"), ExternalKey("netsuite", "sales_order", "SO-7")],
    )
    booking.add_external_keys("tx-1", [ExternalKey("stripe", "subscription", "sub_1")])

    record = booking.get_transaction("tx-1")

    assert record is not None
    assert record.external_keys == (
        ExternalKey("netsuite", "sales_order", "SO-7"),
        ExternalKey("stripe", "subscription", "sub_1"),
    )


def test_list_transactions_filters_by_state_and_flow(booking: SqlLedger) -> None:
    booking.start_transaction("tx-2", "customer_sync", 1, state="failed")

    assert [t.id for t in booking.list_transactions(state="failed")] == ["tx-2"]
    assert [t.id for t in booking.list_transactions(flow="order_booking")] == ["tx-1"]


def test_resume_point_is_the_first_step_without_a_settled_outcome(booking: SqlLedger) -> None:
    assert booking.first_unrecorded_step("tx-1") == 1

    booking.record_step(step(1, StepOutcome.SUCCEEDED, external_id="cus_1", target_system="stripe"))
    booking.record_step(step(2, StepOutcome.FAILED, error_class="transient", error_message="timeout"))
    assert booking.first_unrecorded_step("tx-1") == 2

    booking.record_step(step(2, StepOutcome.SUCCEEDED, attempts=2, external_id="SO-1"))
    assert booking.first_unrecorded_step("tx-1") == 3


def test_a_later_attempt_overwrites_the_journal_line(booking: SqlLedger) -> None:
    booking.record_step(step(1, StepOutcome.FAILED, error_class="transient", error_message="503"))
    booking.record_step(
        step(1, StepOutcome.SUCCEEDED, attempts=2, duration_ms=41, started_at=at(1), finished_at=at(2))
    )

    [line] = booking.steps_of("tx-1")

    assert (line.outcome, line.attempts, line.duration_ms) == (StepOutcome.SUCCEEDED, 2, 41)
    assert (line.started_at, line.finished_at) == (at(1), at(2))
    assert line.idempotency_key == "tx-1:1"


def test_a_journal_line_needs_its_transaction(ledger: SqlLedger) -> None:
    with pytest.raises(UnknownRecordError, match="tx-1"):
        ledger.record_step(step(1, StepOutcome.SUCCEEDED))


def test_step_recorded_with_the_saga_state_in_one_commit(booking: SqlLedger) -> None:
    with pytest.raises(RuntimeError), booking.transaction() as session:
        session.record_step(step(1, StepOutcome.SUCCEEDED))
        session.update_transaction("tx-1", current_step=2)
        raise RuntimeError("crash")

    assert booking.steps_of("tx-1") == []
    assert booking.get_transaction("tx-1").current_step is None  # type: ignore[union-attr]


def test_a_page_of_search_results_costs_the_same_few_queries_however_long(ledger: SqlLedger) -> None:
    """The console's search page loads its rows together (it made three queries per row)."""
    from sqlalchemy import event

    from syncline.ops.readmodel.search import TransactionQuery, search_transactions

    with ledger.transaction() as session:
        for n in range(30):
            session.start_transaction(f"tx-page-{n:02d}", "order_booking", 1, correlation_id="corr-page")
            session.add_external_keys(f"tx-page-{n:02d}", [ExternalKey("netsuite", "sales_order", f"SO-{n}")])
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(ledger.engine, "before_cursor_execute", count)
    try:
        with ledger.read() as session:
            page = search_transactions(session, TransactionQuery(flow="order_booking", limit=25))
    finally:
        event.remove(ledger.engine, "before_cursor_execute", count)

    assert page.total == 30 and len(page.items) == 25
    newest_first = sorted(page.items, key=lambda t: (-t.updated_at.timestamp(), t.id))
    assert list(page.items) == newest_first
    assert all(
        t.external_keys == (ExternalKey("netsuite", "sales_order", f"SO-{int(t.id[-2:])}"),)
        for t in page.items
    )
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(queries) <= 5, queries
