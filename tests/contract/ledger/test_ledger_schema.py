"""Contract: migrations build exactly the schema the code expects, and old schemas are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from syncline.cli import app
from syncline.commands.db import open_ledger_or_exit
from syncline.errors import ConfigurationError, SchemaOutdatedError
from syncline.ledger import SqlLedger, connect_ledger, head_revision, open_ledger
from syncline.ledger.migrate import stamp, upgrade
from syncline.ledger.records import BUSINESS_KEY_COLUMNS
from syncline.ledger.schema import metadata
from syncline.settings import DatabaseSettings, Settings

OLDER = "0004"


def test_migrations_build_the_schema_the_code_describes(ledger: SqlLedger) -> None:
    with ledger.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)

    assert differences == []
    tables = set(inspect(ledger.engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_an_empty_database_is_refused_with_the_upgrade_hint(empty_database_url: str) -> None:
    with pytest.raises(SchemaOutdatedError, match="has no schema yet; run `syncline db upgrade`"):
        open_ledger(empty_database_url)


def test_embedded_mode_may_create_the_schema_of_an_empty_database(empty_database_url: str) -> None:
    ledger = open_ledger(empty_database_url, create_if_empty=True)
    try:
        assert ledger.schema_status().current == head_revision()
    finally:
        ledger.close()


def test_an_older_schema_is_refused_even_when_creating_is_allowed(empty_database_url: str) -> None:
    old = connect_ledger(empty_database_url)
    old.upgrade()
    stamp(old.engine, OLDER)
    old.close()

    with pytest.raises(
        SchemaOutdatedError, match=f"revision {OLDER}, older than .*run `syncline db upgrade`"
    ):
        open_ledger(empty_database_url, create_if_empty=True)


def test_db_upgrade_brings_an_older_schema_to_head(empty_database_url: str) -> None:
    runner = CliRunner()
    old = connect_ledger(empty_database_url)
    upgrade(old.engine, OLDER)
    old.close()

    status = runner.invoke(app, ["db", "status", "--url", empty_database_url])
    assert status.exit_code == 1 and "run `syncline db upgrade`" in status.output

    upgraded = runner.invoke(app, ["db", "upgrade", "--url", empty_database_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"{OLDER} -> {head_revision()}" in upgraded.output

    ledger = open_ledger(empty_database_url)
    try:
        ledger.append_audit("test", "schema.upgraded", "ledger", "1")
        assert ledger.schema_status().up_to_date
    finally:
        ledger.close()
    assert runner.invoke(app, ["db", "status", "--url", empty_database_url]).exit_code == 0


def test_db_upgrade_is_idempotent(empty_database_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade", "--url", empty_database_url]).exit_code == 0

    again = runner.invoke(app, ["db", "upgrade", "--url", empty_database_url])

    assert again.exit_code == 0 and "nothing to do" in again.output


def test_a_schema_from_a_newer_syncline_is_refused(empty_database_url: str) -> None:
    newer = connect_ledger(empty_database_url)
    newer.upgrade()
    with newer.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    newer.close()

    with pytest.raises(ConfigurationError, match="revision '9999', which this Syncline does not know"):
        open_ledger(empty_database_url)


def test_commands_stop_with_the_upgrade_hint_on_an_older_schema(
    empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old = connect_ledger(empty_database_url)
    upgrade(old.engine, OLDER)
    old.close()

    with pytest.raises(typer.Exit) as stopped:
        open_ledger_or_exit(Settings(database=DatabaseSettings(url=empty_database_url)))

    assert stopped.value.exit_code == 1
    assert "run `syncline db upgrade`" in capsys.readouterr().err


def test_db_status_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "ledger.db"

    status = CliRunner().invoke(app, ["db", "status", "--url", f"sqlite:///{path}"])

    assert status.exit_code == 1 and "does not exist yet; run `syncline db upgrade`" in status.output
    assert not path.exists() and not path.parent.exists()


def test_upgrading_to_0006_keeps_queued_work_and_lets_it_wait_for_an_event(empty_database_url: str) -> None:
    """Revision 0006 adds `deliveries.waiting_for` under work already queued on a 0005 ledger."""
    from syncline.ledger import NewEvent

    old = connect_ledger(empty_database_url)
    upgrade(old.engine, "0005")
    event = NewEvent(
        event_id="ev-before-0006", type="t", source="urn:test", subject="s", ordering_key="k", payload={}
    )
    old.append_events([event], ["flow"])
    old.upgrade()
    old.close()

    ledger = open_ledger(empty_database_url)
    try:
        (queued,) = ledger.list_deliveries()
        assert queued.event_id == "ev-before-0006" and queued.waiting_for is None
        (claimed,) = ledger.claim_next_per_key("flow", "w1", 1, 60)
        with ledger.transaction() as session:
            session.defer(claimed.lease, claimed.delivery.next_attempt_at, waiting_for="t.approved s")
        assert ledger.wake_waiting(["t.approved s"]) == [queued.id]
    finally:
        ledger.close()


def _index_definitions(ledger: SqlLedger) -> dict[str, str]:
    """Each transactions index's SQL as the database itself stores it."""
    if ledger.flavor.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transactions'"
    else:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'transactions'"
    with ledger.engine.connect() as conn:
        return {str(name): str(sql or "") for name, sql in conn.execute(text(query))}


def test_upgrading_to_0007_indexes_business_keys_only_where_present(empty_database_url: str) -> None:
    """Revision 0007 makes the six business-key indexes partial under existing transactions, and
    a search by a key still finds its transaction through the index; a step id that an older
    ledger copied into `transaction_keys` is shown once, beside those read from the journal."""
    from syncline.ledger import BusinessKeys, ExternalKey, StepOutcome, StepRecord

    old = connect_ledger(empty_database_url)
    upgrade(old.engine, "0006")
    with old.transaction() as session:
        session.start_transaction("tx-before-0007", "q2c", 1, keys=BusinessKeys(order_number="SO-7"))
        session.start_transaction("tx-without-keys", "q2c", 1)
        for step_no, name, external_id in ((1, "erp.customer", "C-1"), (2, "erp.order", "ERP-SO-7")):
            line = StepRecord(
                "tx-before-0007", step_no, name, StepOutcome.SUCCEEDED, "netsuite", external_id=external_id
            )
            session.record_steps([line])
        session.add_external_keys("tx-before-0007", [ExternalKey("netsuite", "erp.customer", "C-1")])
    assert "IS NOT NULL" not in _index_definitions(old)["ix_transactions_order_number"]
    old.upgrade()
    old.close()

    ledger = open_ledger(empty_database_url)
    try:
        definitions = {
            name: sql.replace("(", "").replace(")", "") for name, sql in _index_definitions(ledger).items()
        }
        for column in BUSINESS_KEY_COLUMNS:
            assert f"{column} IS NOT NULL" in definitions[f"ix_transactions_{column}"]
        assert [t.id for t in ledger.search_transactions("SO-7")] == ["tx-before-0007"]
        assert "ix_transactions_order_number" in _plan_of_search_by_order_number(ledger)
        (found,) = ledger.search_transactions("ERP-SO-7")
        assert found.external_keys == (
            ExternalKey("netsuite", "erp.customer", "C-1"),
            ExternalKey("netsuite", "erp.order", "ERP-SO-7"),
        )
    finally:
        ledger.close()


def _plan_of_search_by_order_number(ledger: SqlLedger) -> str:
    """The query plan of a lookup by order number (PostgreSQL told to prefer any index)."""
    query = "SELECT id FROM transactions WHERE order_number = :v"
    with ledger.engine.connect() as conn:
        if ledger.flavor.name == "sqlite":
            rows = conn.execute(text(f"EXPLAIN QUERY PLAN {query}"), {"v": "SO-7"})
            return " ".join(str(row[-1]) for row in rows)
        conn.execute(text("SET enable_seqscan = off"))
        return " ".join(str(row[0]) for row in conn.execute(text(f"EXPLAIN {query}"), {"v": "SO-7"}))
