"""Contract: exception tasks and the append-only audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from syncline.ledger import ExceptionStatus, InvalidTransitionError, SqlLedger, UnknownRecordError

from .conftest import at


def test_an_exception_task_is_opened_assigned_and_resolved(ledger: SqlLedger) -> None:
    task = ledger.open_exception(
        "credit_hold",
        "ERP refused the order: customer on credit hold",
        owner_role="finance",
        transaction_id="tx-1",
        correlation_id="cid-1",
        now=at(0),
    )
    assert (task.status, task.owner_role, task.created_at) == (ExceptionStatus.OPEN, "finance", at(0))

    assigned = ledger.assign_exception(task.id, "maria@example.com")
    assert (assigned.status, assigned.assignee) == (ExceptionStatus.ASSIGNED, "maria@example.com")

    resolved = ledger.resolve_exception(task.id, "credit limit raised; order replayed", now=at(90))
    assert (resolved.status, resolved.resolved_at) == (ExceptionStatus.RESOLVED, at(90))
    assert resolved.resolution == "credit limit raised; order replayed"


def test_a_resolved_task_cannot_be_resolved_or_assigned_again(ledger: SqlLedger) -> None:
    task = ledger.open_exception("invalid_vat", "VAT id rejected")
    ledger.resolve_exception(task.id, "fixed the VAT id in Salesforce")

    with pytest.raises(InvalidTransitionError, match="is resolved"):
        ledger.resolve_exception(task.id, "again")
    with pytest.raises(InvalidTransitionError):
        ledger.assign_exception(task.id, "bob")


def test_unknown_task_and_empty_resolution_are_refused(ledger: SqlLedger) -> None:
    with pytest.raises(UnknownRecordError, match="no exception task 'nope'"):
        ledger.assign_exception("nope", "bob")
    task = ledger.open_exception("x", "y")
    with pytest.raises(ValueError, match="resolution"):
        ledger.resolve_exception(task.id, "  ")


def test_opening_with_the_same_id_twice_returns_the_first(ledger: SqlLedger) -> None:
    first = ledger.open_exception("credit_hold", "first", exception_id="tx-1:3")
    second = ledger.open_exception("credit_hold", "second", exception_id="tx-1:3")

    assert second == first
    assert len(ledger.list_exceptions()) == 1


def test_tasks_are_listed_by_filter_and_counted(ledger: SqlLedger) -> None:
    ledger.open_exception("a", "m", owner_role="finance", transaction_id="tx-1", now=at(0))
    second = ledger.open_exception("b", "m", owner_role="sales", transaction_id="tx-2", now=at(1))
    ledger.open_exception("c", "m", owner_role="finance", transaction_id="tx-2", now=at(2))
    ledger.resolve_exception(second.id, "done")

    assert [t.reason_code for t in ledger.list_exceptions(status=ExceptionStatus.OPEN)] == ["a", "c"]
    assert [t.reason_code for t in ledger.list_exceptions(transaction_id="tx-2")] == ["b", "c"]
    assert [t.reason_code for t in ledger.list_exceptions(owner_role="finance")] == ["a", "c"]
    assert ledger.count_exceptions() == {
        ExceptionStatus.OPEN: 2,
        ExceptionStatus.ASSIGNED: 0,
        ExceptionStatus.RESOLVED: 1,
    }


def test_audit_records_are_appended_and_queried_newest_first(ledger: SqlLedger) -> None:
    ledger.append_audit(
        "maria", "dlq.replay", "delivery", "17", reason="ERP fixed", details={"dry_run": False}
    )
    ledger.append_audit("system", "exception.open", "exception", "x1")
    ledger.append_audit("maria", "dlq.skip", "delivery", "18", reason="duplicate order")

    maria = ledger.query_audit(actor="maria")
    assert [entry.action for entry in maria] == ["dlq.skip", "dlq.replay"]
    assert maria[1].details == {"dry_run": False} and maria[1].reason == "ERP fixed"
    assert [e.object_id for e in ledger.query_audit(object_type="delivery", object_id="17")] == ["17"]
    assert [e.actor for e in ledger.query_audit(action="exception.open")] == ["system"]


@pytest.mark.parametrize(
    "statement", ["UPDATE audit SET reason = 'rewritten'", "DELETE FROM audit"], ids=["update", "delete"]
)
def test_the_database_rejects_changes_to_audit_records(ledger: SqlLedger, statement: str) -> None:
    ledger.append_audit("maria", "dlq.skip", "delivery", "18", reason="duplicate order")

    with pytest.raises(DatabaseError, match="append-only"), ledger.transaction() as session:
        session.conn.execute(text(statement))

    [entry] = ledger.query_audit()
    assert entry.reason == "duplicate order"


def test_an_audit_record_needs_an_actor_and_an_action(ledger: SqlLedger) -> None:
    with pytest.raises(ValueError, match="actor"):
        ledger.append_audit("", "dlq.skip", "delivery", "1")
