"""Operations (Python API and CLI) on a real SQLite ledger: tx show, dlq list/replay/skip, resolve."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import engine_ops_flows
import pytest
from engine_helpers import order_event
from typer.testing import CliRunner

from syncline.cli import app
from syncline.engine.intake import Intake
from syncline.engine.operations import DeadLetterFilter, Operations
from syncline.engine.registry import FlowRegistry
from syncline.engine.saga import idempotency_key, transaction_id
from syncline.engine.worker import Worker, WorkerConfig
from syncline.errors import ConfigurationError
from syncline.ledger import (
    DeliveryStatus,
    ExceptionStatus,
    SqlLedger,
    StepOutcome,
    UnknownRecordError,
    open_ledger,
)

REGISTRY = FlowRegistry(engine_ops_flows.FLOWS)
runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/ops.db"


@pytest.fixture
def ledger(url: str) -> Iterator[SqlLedger]:
    opened = open_ledger(url, create_if_empty=True)
    engine_ops_flows.BROKEN.clear()
    engine_ops_flows.REJECTED.clear()
    try:
        yield opened
    finally:
        opened.close()


async def run_worker(ledger: SqlLedger) -> None:
    await Worker(ledger, REGISTRY, WorkerConfig(concurrency=8)).drain()


def cli(*args: str) -> object:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def test_dlq_list_dry_run_replay_and_audit(ledger: SqlLedger, url: str) -> None:
    engine_ops_flows.BROKEN.add("ord-1")
    first, second = order_event("ord-1", 1), order_event("ord-1", 2)
    Intake(ledger, REGISTRY).accept([first, second, order_event("ord-2", 1)])
    await run_worker(ledger)
    tx = transaction_id("ops_flow", first.id)

    listed = cli("dlq", "list", "--database-url", url)
    assert isinstance(listed, list) and [(d["ordering_key"], d["error_class"]) for d in listed] == [
        ("ord-1", "contract")
    ]
    assert listed[0]["transaction_id"] == tx and "no lines" in listed[0]["error"]

    plan = cli(
        "dlq", "replay", "--tx", tx, "--dry-run", "--reason", "data fixed", "--actor", "ana",
        "--flows", "engine_ops_flows", "--database-url", url,
    )  # fmt: skip
    assert isinstance(plan, dict) and plan["dry_run"] is True and plan["changed"] == []
    would_run = plan["items"][0]["would_run"]
    assert [s["name"] for s in would_run] == ["book", "write_back"]  # validate is already journaled
    assert would_run[0]["idempotency_key"] == idempotency_key(tx, 2, "book")
    assert ledger.list_deliveries(status=DeliveryStatus.PARKED)[0].event_id == first.id
    assert ledger.query_audit() == []

    engine_ops_flows.BROKEN.clear()
    done = cli("dlq", "replay", "--tx", tx, "--reason", "data fixed", "--actor", "ana", "--database-url", url)
    assert isinstance(done, dict) and len(done["changed"]) == 1
    await run_worker(ledger)
    assert {d.status for d in ledger.list_deliveries()} == {DeliveryStatus.DONE}
    (audit,) = ledger.query_audit()
    assert (audit.actor, audit.action, audit.reason) == ("ana", "dlq.replay", "data fixed")
    assert audit.details["transaction_id"] == tx

    shown = cli("tx", "show", tx, "--database-url", url)
    assert isinstance(shown, dict) and shown["transaction"]["state"] == "completed"
    assert [s["outcome"] for s in shown["steps"]] == ["succeeded"] * 3
    assert [d["event_id"] for d in shown["deliveries"]] == [first.id]  # its own delivery, not the key's next


async def test_replay_a_key_from_a_given_step_reruns_from_there(ledger: SqlLedger) -> None:
    engine_ops_flows.BROKEN.add("ord-1")
    event = order_event("ord-1", 1)
    Intake(ledger, REGISTRY).accept([event])
    await run_worker(ledger)
    engine_ops_flows.BROKEN.clear()
    tx = transaction_id("ops_flow", event.id)
    ops = Operations(ledger, REGISTRY)
    result = ops.replay(DeadLetterFilter(ordering_key="ord-1"), actor="bo", reason="rerun all", from_step=1)
    assert [s.name for s in result.items[0].steps] == ["validate", "book", "write_back"]
    assert ledger.steps_of(tx) == []  # journal from step 1 forgotten
    await run_worker(ledger)
    assert [line.outcome for line in ledger.steps_of(tx)] == [StepOutcome.SUCCEEDED] * 3


async def test_skip_releases_the_key_and_is_audited(ledger: SqlLedger, url: str) -> None:
    engine_ops_flows.BROKEN.add("ord-1")
    Intake(ledger, REGISTRY).accept([order_event("ord-1", 1)])
    await run_worker(ledger)
    engine_ops_flows.BROKEN.clear()
    Intake(ledger, REGISTRY).accept([order_event("ord-1", 2)])
    await run_worker(ledger)
    assert ledger.count_deliveries()[DeliveryStatus.PENDING] == 1  # waits behind the dead letter
    result = cli("dlq", "skip", "--key", "ord-1", "--reason", "duplicate order", "--database-url", url)
    assert isinstance(result, dict) and len(result["changed"]) == 1
    await run_worker(ledger)
    counts = ledger.count_deliveries()
    assert (counts[DeliveryStatus.SKIPPED], counts[DeliveryStatus.DONE]) == (1, 1)
    (audit,) = ledger.query_audit(action="dlq.skip")
    assert audit.reason == "duplicate order" and audit.actor


async def test_resolving_an_exception_retries_the_held_transaction(ledger: SqlLedger, url: str) -> None:
    engine_ops_flows.REJECTED.add("ord-9")
    Intake(ledger, REGISTRY).accept([order_event("ord-9", 1)])
    await run_worker(ledger)
    (task,) = ledger.list_exceptions()
    engine_ops_flows.REJECTED.clear()
    out = cli(
        "exceptions",
        "resolve",
        task.id,
        "--reason",
        "credit released",
        "--actor",
        "fin",
        "--database-url",
        url,
    )
    assert isinstance(out, dict) and out["exception"]["status"] == "resolved"
    await run_worker(ledger)
    assert ledger.get_exception(task.id).status is ExceptionStatus.RESOLVED  # type: ignore[union-attr]
    assert {d.status for d in ledger.list_deliveries(consumer="ops_flow")} == {DeliveryStatus.DONE}
    actions = sorted(entry.action for entry in ledger.query_audit())
    assert actions == ["dlq.replay", "exception.resolve"]


def test_operations_refuse_without_reason_or_selection(ledger: SqlLedger) -> None:
    ops = Operations(ledger)
    with pytest.raises(ConfigurationError, match="reason"):
        ops.skip(DeadLetterFilter(ordering_key="k"), actor="a", reason=" ")
    with pytest.raises(ConfigurationError, match="which dead letters"):
        ops.replay(DeadLetterFilter(), actor="a", reason="r")
    with pytest.raises(ConfigurationError, match="unknown action 'purge': replay or skip"):
        ops.act("purge", DeadLetterFilter(ordering_key="k"), actor="a", reason="r")
    with pytest.raises(ConfigurationError, match="from_step only goes with a replay"):
        ops.act("skip", DeadLetterFilter(ordering_key="k"), actor="a", reason="r", from_step=2)
    with pytest.raises(UnknownRecordError, match="no transaction"):  # a missing record, not a bad setting
        ops.show_transaction("nope")


def test_assigning_a_task_is_audited_and_an_unknown_task_is_named(ledger: SqlLedger) -> None:
    with ledger.transaction() as session:
        task = session.open_exception(
            exception_id="exc-assign-1", transaction_id=None, reason_code="credit_hold", message="on hold"
        )
    ops = Operations(ledger)

    assigned = ops.assign_exception(task.id, "ar-team", actor="maria", reason="AR owns credit holds")

    assert assigned.assignee == "ar-team"
    with ledger.read() as session:
        [audit] = session.query_audit(action="exception.assign", limit=10)
    assert (audit.actor, audit.object_id, audit.reason) == ("maria", task.id, "AR owns credit holds")
    assert audit.details["assignee"] == "ar-team"
    with pytest.raises(UnknownRecordError, match="no exception task 'nope'"):
        ops.assign_exception("nope", "ar-team", actor="maria", reason="why")
